/* The device provisioning file written by `tepctl enrolee add --out FILE`
 * (docs/internals.md "The device side"): [device] kpm_id, kpm (hex), mef_uri, mef_fqdn;
 * for a certificate enrolee (kpm_len 0) `credential = certificate` instead of kpm.
 * It holds the Kpm: created 0600, never overwritten unless forced. */
#ifndef TEP_TCTL_PROVISION_H
#define TEP_TCTL_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *kpm_id;
    const uint8_t *kpm;
    size_t kpm_len;
    const char *mef_uri;
    const char *mef_fqdn;
} tctl_provision;

/* The file's text. *ret is malloc'd and owned by the caller: release with
 * cmn_free_secret(*ret, *ret_len) (it holds the Kpm). */
int tctl_provision_format(const tctl_provision *p, char **ret, size_t *ret_len);

/* Writes p to path, mode 0600, atomically: a temporary file in the same directory,
 * fsync'ed, then renamed over path when force, else linked to path (CMN_EEXIST if it
 * exists; nothing is overwritten). CMN_EIO on other failures. */
int tctl_provision_save(const char *path, const tctl_provision *p, bool force);

#endif
