/* libtepae internals: the device side of GBA (3GPP TS 33.220 4.5.2) without I/O: the
 * software USIM (Milenage, the SQN freshness check of TS 33.102 6.3.3 / C.2.2, AUTS)
 * and the HTTP Digest AKA texts of the Ub interface (RFC 3310, TS 24.109 4.4).
 * tep_gba.c does the HTTP (libcurl), the files and the MEF handshake. */
#ifndef TAE_GBA_H
#define TAE_GBA_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_digest.h"
#include "cmn_gba.h"
#include "cmn_milenage.h"

#define TAE_GBA_SQN_DELTA (1ULL << 28) /* TS 33.102 C.2.2; tep-bsf's sqn_delta default */
#define TAE_GBA_AUTH_MAX 1024          /* an Authorization header value */

typedef enum { TAE_USIM_OK = 0, TAE_USIM_SYNC = 1 } tae_usim_outcome;

typedef struct {
    tae_usim_outcome outcome;
    uint64_t sqn;                                   /* OK: the challenge's SQN, the new SQN_MS */
    uint8_t res[CMN_MIL_RES_LEN];                   /* OK */
    uint8_t ck[CMN_MIL_CK_LEN], ik[CMN_MIL_CK_LEN]; /* OK */
    uint8_t auts[CMN_MIL_AUTS_LEN];                 /* SYNC */
} tae_usim_result;

/* The USIM's answer to (RAND, AUTN): CMN_EDENIED when MAC-A is wrong (not our network);
 * TAE_USIM_SYNC with AUTS when SQN is not in (SQN_MS, SQN_MS + delta]; else OK. */
int tae_gba_usim(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn_ms,
                 const uint8_t rand[CMN_MIL_RAND_LEN], const uint8_t autn[CMN_MIL_AUTN_LEN],
                 tae_usim_result *ret);

/* From a WWW-Authenticate value: nonce (as sent), realm, RAND, AUTN. CMN_EPROTO when it
 * is not an AKAv1-MD5 challenge with a 32-byte nonce. */
int tae_gba_challenge(const char *www_authenticate, cmn_digest_auth *ret_params,
                      uint8_t ret_rand[CMN_MIL_RAND_LEN], uint8_t ret_autn[CMN_MIL_AUTN_LEN]);

/* The Authorization value: the first request (nonce NULL), or the answer to the
 * challenge with RES as password (auts NULL) or with AUTS and an empty password. */
int tae_gba_authorization(const char *impi, const char *realm, const char *uri,
                          const cmn_digest_auth *challenge, const uint8_t res[CMN_MIL_RES_LEN],
                          const uint8_t *auts, const char *cnonce, char *ret, size_t retlen);

/* <btid> and <lifetime> (xsd:dateTime, UTC "Z") of a BootstrappingInfo body. */
int tae_gba_parse_info(const char *body, char *ret_btid, size_t btid_len, int64_t *ret_lifetime);

#endif
