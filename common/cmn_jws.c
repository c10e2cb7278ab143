/* JWS Compact with ES256 on wolfCrypt (see cmn_jws.h). */
#include "cmn_jws.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define COORD 32       /* P-256 coordinate and scalar size */
#define DER_SIG_MAX 80 /* ECDSA P-256 DER signature: at most 72 bytes */

/* ---- base64url ------------------------------------------------------------------- */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int cmn_b64url_encode(const uint8_t *in, size_t len, char **ret)
{
    char *out = malloc(len / 3 * 4 + 5);
    size_t o = 0, i = 0;

    *ret = NULL;
    if (out == NULL)
        return CMN_ENOMEM;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64u[v >> 18];
        out[o++] = b64u[(v >> 12) & 63];
        out[o++] = b64u[(v >> 6) & 63];
        out[o++] = b64u[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64u[v >> 18];
        out[o++] = b64u[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64u[(v >> 6) & 63];
    }
    out[o] = '\0';
    *ret = out;
    return 0;
}

static int b64u_value(char c)
{
    const char *p = c != '\0' ? strchr(b64u, c) : NULL;

    return p != NULL ? (int)(p - b64u) : -1;
}

int cmn_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
    uint8_t *out;
    uint32_t acc = 0;
    size_t o = 0;
    int bits = 0;

    *ret = NULL;
    *ret_len = 0;
    if (len % 4 == 1) /* no whole byte in a lone trailing character */
        return CMN_EINVAL;
    out = malloc(len / 4 * 3 + 3);
    if (out == NULL)
        return CMN_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int v = b64u_value(in[i]);
        if (v < 0) {
            free(out);
            return CMN_EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) { /* non-canonical trailing bits */
        free(out);
        return CMN_EINVAL;
    }
    *ret = out;
    *ret_len = o;
    return 0;
}

/* ---- ES256 ------------------------------------------------------------------------ */

int cmn_es256_keygen(uint8_t ret_priv[CMN_ES256_PRIV_LEN], uint8_t ret_pub[CMN_ES256_PUB_LEN])
{
    ecc_key key;
    WC_RNG rng;
    word32 plen = CMN_ES256_PUB_LEN, klen = CMN_ES256_PRIV_LEN;
    int rc = CMN_ECRYPTO;

    if (wc_InitRng(&rng) != 0)
        return CMN_ECRYPTO;
    if (wc_ecc_init(&key) != 0)
        goto out_rng;
    if (wc_ecc_make_key_ex(&rng, COORD, &key, ECC_SECP256R1) == 0 &&
        wc_ecc_export_x963(&key, ret_pub, &plen) == 0 && plen == CMN_ES256_PUB_LEN &&
        wc_ecc_export_private_only(&key, ret_priv, &klen) == 0 && klen == CMN_ES256_PRIV_LEN)
        rc = 0;
    wc_ecc_free(&key);
    cmn_wipe(&key, sizeof(key));
out_rng:
    wc_FreeRng(&rng);
    if (rc != 0)
        cmn_wipe(ret_priv, CMN_ES256_PRIV_LEN);
    return rc;
}

static int import_pub(ecc_key *key, const uint8_t pub[CMN_ES256_PUB_LEN])
{
    if (pub[0] != 0x04 || wc_ecc_init(key) != 0)
        return CMN_EINVAL;
    if (wc_ecc_import_x963_ex(pub, CMN_ES256_PUB_LEN, key, ECC_SECP256R1) != 0 ||
        wc_ecc_check_key(key) != 0) {
        wc_ecc_free(key);
        return CMN_EINVAL;
    }
    return 0;
}

int cmn_es256_check_pub(const uint8_t pub[CMN_ES256_PUB_LEN])
{
    ecc_key key;
    int rc = import_pub(&key, pub);

    if (rc == 0)
        wc_ecc_free(&key);
    return rc;
}

/* DER (wolfCrypt's output) -> r||s, each left-padded to 32 bytes. */
static int der_to_raw(const uint8_t *der, word32 dlen, uint8_t ret_sig[CMN_ES256_SIG_LEN])
{
    uint8_t r[COORD], s[COORD];
    word32 rlen = COORD, slen = COORD;

    if (wc_ecc_sig_to_rs(der, dlen, r, &rlen, s, &slen) != 0 || rlen > COORD || slen > COORD)
        return CMN_ECRYPTO;
    memset(ret_sig, 0, CMN_ES256_SIG_LEN);
    memcpy(ret_sig + COORD - rlen, r, rlen);
    memcpy(ret_sig + 2 * COORD - slen, s, slen);
    return 0;
}

int cmn_es256_sign(const uint8_t priv[CMN_ES256_PRIV_LEN], const uint8_t pub[CMN_ES256_PUB_LEN],
                   const uint8_t *msg, size_t len, uint8_t ret_sig[CMN_ES256_SIG_LEN])
{
    uint8_t hash[CMN_SHA256_LEN], der[DER_SIG_MAX];
    word32 dlen = sizeof(der);
    ecc_key key;
    WC_RNG rng;
    int rc = CMN_ECRYPTO;

    if (cmn_sha256(msg, len, hash) != 0 || wc_InitRng(&rng) != 0)
        return CMN_ECRYPTO;
    if (wc_ecc_init(&key) != 0)
        goto out_rng;
    if (wc_ecc_import_private_key_ex(priv, CMN_ES256_PRIV_LEN, pub, CMN_ES256_PUB_LEN, &key,
                                     ECC_SECP256R1) != 0)
        goto out;
    if (wc_ecc_sign_hash(hash, sizeof(hash), der, &dlen, &rng, &key) != 0)
        goto out;
    rc = der_to_raw(der, dlen, ret_sig);
out:
    wc_ecc_free(&key);
    cmn_wipe(&key, sizeof(key));
out_rng:
    wc_FreeRng(&rng);
    return rc;
}

int cmn_es256_verify(const uint8_t pub[CMN_ES256_PUB_LEN], const uint8_t *msg, size_t len,
                     const uint8_t sig[CMN_ES256_SIG_LEN])
{
    uint8_t hash[CMN_SHA256_LEN], der[DER_SIG_MAX];
    word32 dlen = sizeof(der);
    ecc_key key;
    int stat = 0, rc;

    if ((rc = import_pub(&key, pub)) != 0)
        return rc;
    rc = CMN_EDENIED;
    if (cmn_sha256(msg, len, hash) != 0) {
        rc = CMN_ECRYPTO;
        goto out;
    }
    if (wc_ecc_rs_raw_to_sig(sig, COORD, sig + COORD, COORD, der, &dlen) != 0)
        goto out; /* r or s out of range: not a signature */
    if (wc_ecc_verify_hash(der, dlen, hash, sizeof(hash), &stat, &key) == 0 && stat == 1)
        rc = 0;
out:
    wc_ecc_free(&key);
    return rc;
}

/* ---- JWS compact ------------------------------------------------------------------- */

int cmn_b64url_json(json_t *obj, char **ret)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc;

    *ret = NULL;
    if (s == NULL)
        return CMN_ENOMEM;
    rc = cmn_b64url_encode((const uint8_t *)s, strlen(s), ret);
    free(s);
    return rc;
}

int cmn_jws_sign_es256(json_t *header, json_t *payload, const uint8_t priv[CMN_ES256_PRIV_LEN],
                       const uint8_t pub[CMN_ES256_PUB_LEN], char **ret)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    char *h = NULL, *p = NULL, *s = NULL, *out = NULL;
    uint8_t sig[CMN_ES256_SIG_LEN];
    size_t n;
    int rc;

    *ret = NULL;
    if (alg == NULL || strcmp(alg, "ES256") != 0 || !json_is_object(payload))
        return CMN_EINVAL;
    if ((rc = cmn_b64url_json(header, &h)) != 0 || (rc = cmn_b64url_json(payload, &p)) != 0)
        goto out;
    n = strlen(h) + 1 + strlen(p);
    rc = CMN_ENOMEM;
    if ((out = malloc(n + 1 + (CMN_ES256_SIG_LEN * 4 + 2) / 3 + 2)) == NULL)
        goto out;
    snprintf(out, n + 1, "%s.%s", h, p);
    if ((rc = cmn_es256_sign(priv, pub, (const uint8_t *)out, n, sig)) != 0 ||
        (rc = cmn_b64url_encode(sig, sizeof(sig), &s)) != 0)
        goto out;
    rc = n + 1 + strlen(s) < CMN_JWS_MAX ? 0 : CMN_ERANGE;
    if (rc == 0) {
        sprintf(out + n, ".%s", s);
        *ret = out;
        out = NULL;
    }
out:
    free(h);
    free(p);
    free(s);
    free(out);
    return rc;
}

int cmn_b64url_json_object(const char *b64, size_t len, json_t **ret)
{
    uint8_t *raw = NULL;
    size_t rlen = 0;
    int rc = cmn_b64url_decode(b64, len, &raw, &rlen);

    *ret = NULL;
    if (rc != 0)
        return rc;
    *ret = json_loadb((const char *)raw, rlen, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (*ret != NULL && json_is_object(*ret))
        return 0;
    json_decref(*ret);
    *ret = NULL;
    return CMN_EINVAL;
}

static int split_and_decode(cmn_jws *j)
{
    char *dot1 = strchr(j->input, '.');
    char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    int rc;

    if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        return CMN_EINVAL; /* not three parts (a JWE has five) */
    if ((rc = cmn_b64url_json_object(j->input, (size_t)(dot1 - j->input), &j->header)) != 0 ||
        (rc = cmn_b64url_json_object(dot1 + 1, (size_t)(dot2 - dot1 - 1), &j->payload)) != 0)
        return rc;
    j->signed_len = (size_t)(dot2 - j->input);
    return cmn_b64url_decode(dot2 + 1, strlen(dot2 + 1), &j->sig, &j->sig_len);
}

int cmn_jws_decode(const char *compact, cmn_jws **ret)
{
    cmn_jws *j;
    int rc;

    *ret = NULL;
    if (compact == NULL)
        return CMN_EINVAL;
    if (strnlen(compact, CMN_JWS_MAX + 1) > CMN_JWS_MAX)
        return CMN_ERANGE;
    if ((j = calloc(1, sizeof(*j))) == NULL || (j->input = strdup(compact)) == NULL) {
        free(j);
        return CMN_ENOMEM;
    }
    rc = split_and_decode(j);
    if (rc != 0) {
        cmn_jws_free(j);
        return rc;
    }
    *ret = j;
    return 0;
}

void cmn_jws_free(cmn_jws *j)
{
    if (j == NULL)
        return;
    json_decref(j->header);
    json_decref(j->payload);
    free(j->sig);
    free(j->input);
    free(j);
}

const char *cmn_jws_alg(const cmn_jws *j)
{
    return json_string_value(json_object_get(j->header, "alg"));
}

int cmn_jws_verify_es256(const cmn_jws *j, const uint8_t pub[CMN_ES256_PUB_LEN])
{
    if (j->sig_len != CMN_ES256_SIG_LEN)
        return CMN_EDENIED;
    return cmn_es256_verify(pub, (const uint8_t *)j->input, j->signed_len, j->sig);
}
