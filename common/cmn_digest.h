/* HTTP Digest AKA (RFC 3310 on RFC 2617) as the Ub interface uses it (3GPP TS 24.109
 * 4.4, TS 33.220 4.5.2): parsing the client's Authorization header and computing the
 * request-digest with RES as the password (qop auth-int, algorithm AKAv1-MD5). No I/O:
 * tep-bsf (bsf_ub.c) checks with it, libtepae's Ub client answers with it. */
#ifndef TEP_CMN_DIGEST_H
#define TEP_CMN_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CMN_DIGEST_HEX_LEN 32 /* MD5 in lower-case hex */
#define CMN_DIGEST_VALUE_MAX 512

/* The parameters of "Authorization: Digest ..." tep reads (RFC 2617 3.2.2, RFC 3310
 * 3.4 auts). Absent ones are "" (has_* tells nonce and response apart from empty). */
typedef struct {
    char username[CMN_DIGEST_VALUE_MAX];
    char realm[CMN_DIGEST_VALUE_MAX];
    char nonce[CMN_DIGEST_VALUE_MAX];
    char uri[CMN_DIGEST_VALUE_MAX];
    char response[CMN_DIGEST_VALUE_MAX];
    char qop[64];
    char nc[64];
    char cnonce[CMN_DIGEST_VALUE_MAX];
    char algorithm[64];
    char auts[CMN_DIGEST_VALUE_MAX];
} cmn_digest_auth;

/* Parses the value of an Authorization header ("Digest k=v, k="v", ..."). Unknown
 * parameters are skipped; a repeated known one, a value too long, an unterminated
 * quote or another scheme is CMN_EINVAL. */
int cmn_digest_parse(const char *header, cmn_digest_auth *ret);

/* request-digest of RFC 2617 3.2.2.1 with qop "auth-int" (or "auth": HA2 without the
 * body hash, for RFC 2617's own example) and password = the raw bytes
 * pw (RES, or empty with AUTS, RFC 3310 3.4): MD5(HA1:nonce:nc:cnonce:qop:HA2), HA1 =
 * MD5(username:realm:pw), HA2 = MD5(method:uri:MD5(body)). ret: 32 hex + NUL. */
int cmn_digest_response(const char *username, const char *realm, const uint8_t *pw, size_t pwlen,
                        const char *method, const char *uri, const char *nonce, const char *nc,
                        const char *cnonce, const char *qop, const uint8_t *body, size_t blen,
                        char ret[CMN_DIGEST_HEX_LEN + 1]);

#endif
