/* tep-enroller as a NAF of GBA (TS-0003 8.3.2.3 with 3GPP TS 33.220 4.5.3; docs/keys.md
 * "GBA"): a device's MEF Handshake uses psk_identity = B-TID and psk = Ks_NAF (NAF =
 * the MEF's FQDN). The key comes from tep-bsf over Zn, never inside a handshake: an
 * unknown B-TID is refused at once while a ZnRequest goes out; the answer is kept in
 * memory until the B-TID's expiry, and the device's next handshake finds it. */
#ifndef TEP_ENR_GBA_H
#define TEP_ENR_GBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_kdf.h"
#include "cmn_store.h"

typedef struct enr_gba enr_gba;

/* zn_ep: tep-bsf's zn ROUTER (DEALER connected here); naf_fqdn: the MEF's FQDN. */
int enr_gba_new(cmn_bus *bus, const char *zn_ep, const char *naf_fqdn, cmn_store *store,
                enr_gba **ret);
void enr_gba_free(enr_gba *g); /* NULL is fine; wipes the cached keys */
int enr_gba_fd(const enr_gba *g);
/* Drains Zn answers into the cache. */
void enr_gba_process(enr_gba *g, int64_t now);

/* True when identity has the shape of a B-TID (base64 "@" domain), not of a KpmID. */
bool enr_gba_is_btid(const char *identity, size_t len);
/* The handshake's key for B-TID btid: 0 with Ks_NAF, the KpmID of the enrolee whose
 * gba_impi is the B-TID's IMPI, and the key's expiry; CMN_EAGAIN when a Zn request is
 * now on its way (refuse this handshake, the device tries again); CMN_EDENIED when the
 * BSF refused or no enrolee holds the IMPI; CMN_EEXPIRED past the B-TID's lifetime. */
int enr_gba_lookup(enr_gba *g, const char *btid, int64_t now, uint8_t ret_key[CMN_KEY_LEN],
                   char *ret_kpm_id, size_t kpm_len, int64_t *ret_expires);

#endif
