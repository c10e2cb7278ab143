/* JOSE for end-to-end security (TS-0003 8.4.3.2 ESPrim, 8.5.3 ESData), on wolfCrypt:
 *  - JWE Compact (RFC 7516) with "alg":"dir" and "enc" A128GCM / A192GCM / A256GCM
 *    (RFC 7518 5.3): empty Encrypted Key, 96-bit random IV, 128-bit tag, AAD = the ASCII
 *    of BASE64URL(protected header). The 32-byte key is used whole by A256GCM, its first
 *    24 / 16 bytes by A192GCM / A128GCM (docs/keys.md item 19);
 *  - JWS Compact (RFC 7515) over any payload bytes with HS256 (RFC 7518 3.2, 32-byte
 *    key) or ES256 (cmn_jws.h's key and signature forms).
 * Headers are serialised compactly in insertion order. Nothing here decides which key a
 * kid names or whether an alg is acceptable for a use: the callers (cmn_e2e users, the
 * SDK, tep-cse's ESPrim) do. */
#ifndef TEP_CMN_JOSE_H
#define TEP_CMN_JOSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_jws.h"
#include "cmn_kdf.h"

#define CMN_JOSE_MAX (256 * 1024) /* longest compact JWE/JWS accepted or made */
#define CMN_JWE_IV_LEN 12
#define CMN_JWE_TAG_LEN 16

/* Key bytes an "enc" value needs (16, 24, 32), or 0 when tep does not support it. */
size_t cmn_jwe_enc_key_len(const char *enc);

/* Encrypts pt (len bytes, may be 0) under key with enc. header: the protected header
 * (borrowed; "alg":"dir" and "enc" are set in it here, other members such as kid, cty,
 * ori are the caller's). *ret (malloc'd, caller frees) is the compact JWE.
 * CMN_EINVAL: unknown enc, header not an object; CMN_ERANGE: over CMN_JOSE_MAX. */
int cmn_jwe_dir_encrypt(json_t *header, const uint8_t key[CMN_KEY_LEN], const char *enc,
                        const uint8_t *pt, size_t len, char **ret);

/* A decoded, NOT yet decrypted, compact JWE. */
typedef struct {
    json_t *header;         /* owned: the protected header, a JSON object */
    char *aad;              /* owned: BASE64URL(protected header) as received */
    uint8_t *iv, *ct, *tag; /* owned */
    size_t iv_len, ct_len, tag_len;
} cmn_jwe;

/* Splits and decodes compact: five parts, header a JSON object without duplicate keys,
 * "alg":"dir" (so the Encrypted Key must be empty), a supported "enc", a 12-byte IV and
 * a 16-byte tag. CMN_EINVAL when malformed or another alg/enc, CMN_ERANGE when too long.
 * *ret is owned by the caller: cmn_jwe_free(). */
int cmn_jwe_decode(const char *compact, cmn_jwe **ret);
void cmn_jwe_free(cmn_jwe *j); /* NULL is fine */
/* A string member of the protected header (borrowed), NULL when absent or not a string. */
const char *cmn_jwe_header_str(const cmn_jwe *j, const char *name);
/* Authenticated decryption with key: 0 with *ret_pt (malloc'd, len+1 bytes with a NUL
 * after the plaintext; the caller frees it, wiping it when secret), CMN_EDENIED when
 * the tag does not verify (wrong key or altered object). */
int cmn_jwe_decrypt(const cmn_jwe *j, const uint8_t key[CMN_KEY_LEN], uint8_t **ret_pt,
                    size_t *ret_len);

/* Signs payload (any bytes) with the header's "alg": "HS256" with hs_key (32 bytes), or
 * "ES256" with priv/pub. The key for the other alg is NULL. *ret (malloc'd) is the
 * compact JWS. CMN_EINVAL: no or another alg, or its key missing. */
int cmn_jose_sign(json_t *header, const uint8_t *payload, size_t len, const uint8_t *hs_key,
                  const uint8_t *priv, const uint8_t *pub, char **ret);

/* A decoded, NOT yet verified, compact JWS with any payload. */
typedef struct {
    json_t *header;   /* owned: a JSON object */
    uint8_t *payload; /* owned, NUL after payload_len bytes */
    size_t payload_len;
    uint8_t *sig; /* owned */
    size_t sig_len;
    size_t signed_len; /* "b64(header).b64(payload)" bytes of input */
    char *input;       /* owned copy */
} cmn_jose_jws;

int cmn_jose_jws_decode(const char *compact, cmn_jose_jws **ret);
void cmn_jose_jws_free(cmn_jose_jws *j);             /* NULL is fine */
const char *cmn_jose_jws_alg(const cmn_jose_jws *j); /* borrowed, NULL when absent */
/* 0 when the JWS's alg is HS256 and its MAC is right under key, CMN_EDENIED otherwise. */
int cmn_jose_verify_hs256(const cmn_jose_jws *j, const uint8_t key[CMN_KEY_LEN]);
/* 0 when alg is ES256 and the signature verifies under pub, CMN_EDENIED otherwise. */
int cmn_jose_verify_es256(const cmn_jose_jws *j, const uint8_t pub[CMN_ES256_PUB_LEN]);

/* The header's "x5c" as the one certificate der (standard base64, RFC 7515 4.1.6). */
int cmn_jose_x5c_set(json_t *header, const uint8_t *der, size_t len);
/* The first certificate of the header's "x5c" into ret_der (capacity *inout_len on
 * entry, length on return). CMN_EINVAL when absent or not base64. */
int cmn_jose_x5c_first(json_t *header, uint8_t *ret_der, size_t *inout_len);

#endif
