/* JWS Compact Serialization (RFC 7515) with ES256 only (RFC 7518 3.4): ECDSA P-256 over
 * SHA-256, the signature as raw r||s (64 bytes, each big-endian, left-padded), NOT DER.
 * Keys travel as bytes: a private key is the 32-byte scalar, a public key the 65-byte
 * X9.63 uncompressed point (0x04 || x || y). Signing and verification use wolfCrypt.
 * The token rules (which alg, which claims) are cmn_token's: this file only encodes,
 * decodes, signs and checks a signature. */
#ifndef TEP_CMN_JWS_H
#define TEP_CMN_JWS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CMN_ES256_PRIV_LEN 32
#define CMN_ES256_PUB_LEN 65
#define CMN_ES256_SIG_LEN 64
#define CMN_JWS_MAX 16384 /* longest compact JWS we accept or make */

/* base64url without padding. Encode: *ret is malloc'd (caller frees). Decode refuses
 * padding, whitespace and any character outside the URL-safe alphabet (CMN_EINVAL);
 * *ret is malloc'd (at least one byte), *ret_len its length. */
int cmn_b64url_encode(const uint8_t *in, size_t len, char **ret);
int cmn_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);
/* BASE64URL of obj serialised compactly in insertion order; *ret malloc'd. */
int cmn_b64url_json(json_t *obj, char **ret);
/* Decodes len base64url characters into a JSON object (duplicate keys refused): 0 with
 * *ret owned by the caller, CMN_EINVAL when it is not one. */
int cmn_b64url_json_object(const char *b64, size_t len, json_t **ret);

/* A fresh P-256 key pair. ret_priv is secret: wipe it (cmn_wipe) when done. */
int cmn_es256_keygen(uint8_t ret_priv[CMN_ES256_PRIV_LEN], uint8_t ret_pub[CMN_ES256_PUB_LEN]);
/* Checks that pub is a point on P-256: 0 or CMN_EINVAL. */
int cmn_es256_check_pub(const uint8_t pub[CMN_ES256_PUB_LEN]);
int cmn_es256_sign(const uint8_t priv[CMN_ES256_PRIV_LEN], const uint8_t pub[CMN_ES256_PUB_LEN],
                   const uint8_t *msg, size_t len, uint8_t ret_sig[CMN_ES256_SIG_LEN]);
/* 0 when sig is a valid signature of msg under pub, CMN_EDENIED when it is not,
 * CMN_EINVAL when pub is not a P-256 point. */
int cmn_es256_verify(const uint8_t pub[CMN_ES256_PUB_LEN], const uint8_t *msg, size_t len,
                     const uint8_t sig[CMN_ES256_SIG_LEN]);

/* header and payload are serialised compactly (keys in insertion order) and signed
 * with ES256; *ret (malloc'd, caller frees) is "b64(header).b64(payload).b64(sig)".
 * The caller puts "alg":"ES256" in header; CMN_EINVAL if it did not. */
int cmn_jws_sign_es256(json_t *header, json_t *payload, const uint8_t priv[CMN_ES256_PRIV_LEN],
                       const uint8_t pub[CMN_ES256_PUB_LEN], char **ret);

/* A decoded, NOT yet verified, compact JWS. */
typedef struct {
    json_t *header;  /* owned: a JSON object */
    json_t *payload; /* owned: a JSON object */
    uint8_t *sig;    /* owned; may be empty (alg "none") */
    size_t sig_len;
    size_t signed_len; /* bytes of the input that are signed: "b64(header).b64(payload)" */
    char *input;       /* owned copy of the compact text */
} cmn_jws;

/* Splits and decodes compact (three parts, base64url, header and payload JSON objects,
 * duplicate keys refused). CMN_EINVAL on anything malformed, CMN_ERANGE when longer than
 * CMN_JWS_MAX. *ret is owned by the caller: cmn_jws_free(). */
int cmn_jws_decode(const char *compact, cmn_jws **ret);
void cmn_jws_free(cmn_jws *j); /* NULL is fine */
/* The "alg" header value, or NULL when absent or not a string (borrowed). */
const char *cmn_jws_alg(const cmn_jws *j);
/* ES256 check of a decoded JWS (whatever its header says): as cmn_es256_verify. */
int cmn_jws_verify_es256(const cmn_jws *j, const uint8_t pub[CMN_ES256_PUB_LEN]);

#endif
