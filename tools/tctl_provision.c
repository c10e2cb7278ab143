/* Writing the device provisioning file. */
#include "tctl_provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"

int tctl_provision_format(const tctl_provision *p, char **ret, size_t *ret_len)
{
    size_t hexlen = 2 * p->kpm_len + 1;
    char *hex = malloc(hexlen);
    size_t cap;
    char *buf = NULL;
    int n, rc = CMN_ENOMEM;

    *ret = NULL;
    *ret_len = 0;
    if (hex == NULL)
        return CMN_ENOMEM;
    cmn_hex_encode(p->kpm, p->kpm_len, hex);
    cap = hexlen + strlen(p->kpm_id) + strlen(p->mef_uri) + strlen(p->mef_fqdn) + 128;
    buf = malloc(cap);
    if (buf == NULL)
        goto out;
    if (p->kpm_len == 0) /* a certificate enrolee (TS-0003 8.3.2.2): no Kpm */
        n = snprintf(buf, cap,
                     "[device]\nkpm_id = %s\ncredential = certificate\n"
                     "mef_uri = %s\nmef_fqdn = %s\n",
                     p->kpm_id, p->mef_uri, p->mef_fqdn);
    else
        n = snprintf(buf, cap, "[device]\nkpm_id = %s\nkpm = %s\nmef_uri = %s\nmef_fqdn = %s\n",
                     p->kpm_id, hex, p->mef_uri, p->mef_fqdn);
    if (n < 0 || (size_t)n >= cap) {
        cmn_free_secret(buf, cap);
        rc = CMN_ERANGE;
        goto out;
    }
    *ret = buf;
    *ret_len = (size_t)n;
    rc = 0;
out:
    cmn_free_secret(hex, hexlen);
    return rc;
}

int tctl_provision_save(const char *path, const tctl_provision *p, bool force)
{
    char *text = NULL;
    size_t len = 0;
    int rc = tctl_provision_format(p, &text, &len);

    if (rc == 0)
        rc = cmn_file_write_atomic(path, text, len, 0600, force ? 0 : CMN_FILE_NO_REPLACE);
    cmn_free_secret(text, len);
    return rc;
}
