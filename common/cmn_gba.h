/* 3GPP GBA (TS 33.220) values shared by tep-bsf, tep-enroller (the NAF) and libtepae:
 * Ks, the Annex B key derivation of Ks_NAF, NAF_Id, B-TID, and the RFC 3310 nonce.
 * Byte-level choices are in docs/keys.md ("GBA") and pinned by common/test_gba.c:
 *  - Ks = CK || IK (32 bytes, TS 33.220 4.5.2);
 *  - KDF (TS 33.220 B.2): HMAC-SHA-256(Key, FC || P0 || L0 || ... || Pn || Ln), FC = 0x01,
 *    Li two bytes big-endian; Ks_NAF = KDF(Ks, "gba-me", RAND, IMPI, NAF_Id) (B.3);
 *  - NAF_Id = NAF FQDN || Ua security protocol identifier (Annex H, 5 bytes); tep's Ua
 *    is DTLS with TLS_PSK_WITH_AES_128_CCM_8, so (0x01,0x00,0x01,0xC0,0xA8) = "shared
 *    key-based mutual authentication" of TS 33.222 with that cipher suite;
 *  - B-TID = base64(RAND) "@" BSF server name (TS 33.220 4.5.2 NOTE / TS 24.109);
 *  - RFC 3310 nonce = base64(RAND || AUTN) (no server data). */
#ifndef TEP_CMN_GBA_H
#define TEP_CMN_GBA_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_milenage.h"

#define CMN_GBA_KS_LEN 32
#define CMN_GBA_KS_NAF_LEN 32
#define CMN_GBA_UA_ID_LEN 5
#define CMN_GBA_FC_KS_NAF 0x01
#define CMN_GBA_BTID_MAX 300     /* base64(16) = 24 + '@' + FQDN(255) + NUL, rounded up */
#define CMN_GBA_NONCE_B64_LEN 44 /* base64 of RAND || AUTN (32 bytes) */
#define CMN_GBA_IMPI_MAX 255

/* TLS_PSK_WITH_AES_128_CCM_8 (0xC0A8) under TS 33.222's PSK TLS identifier */
extern const uint8_t cmn_gba_ua_dtls_psk[CMN_GBA_UA_ID_LEN];

/* Ks = CK || IK */
void cmn_gba_ks(const uint8_t ck[CMN_MIL_CK_LEN], const uint8_t ik[CMN_MIL_CK_LEN],
                uint8_t ret_ks[CMN_GBA_KS_LEN]);
/* The TS 33.220 Annex B KDF over n parameters (each at most 65535 bytes). */
int cmn_gba_kdf(const uint8_t *key, size_t klen, uint8_t fc, const uint8_t *const *params,
                const size_t *lens, size_t n, uint8_t ret[CMN_GBA_KS_NAF_LEN]);
/* Ks_NAF = KDF(Ks, "gba-me", RAND, IMPI, NAF_Id), NAF_Id = naf_fqdn || ua. */
int cmn_gba_ks_naf(const uint8_t ks[CMN_GBA_KS_LEN], const uint8_t rand[CMN_MIL_RAND_LEN],
                   const char *impi, const char *naf_fqdn, const uint8_t ua[CMN_GBA_UA_ID_LEN],
                   uint8_t ret_ks_naf[CMN_GBA_KS_NAF_LEN]);
/* "base64(RAND)@bsf_name"; CMN_ERANGE if it does not fit retlen. */
int cmn_gba_btid(const uint8_t rand[CMN_MIL_RAND_LEN], const char *bsf_name, char *ret,
                 size_t retlen);
/* Standard base64 (with padding, no line breaks). Decode: exactly len bytes or
 * CMN_EINVAL. */
int cmn_gba_b64_encode(const uint8_t *in, size_t len, char *ret, size_t retlen);
int cmn_gba_b64_decode(const char *in, uint8_t *ret, size_t len);

#endif
