/* JWE "dir" + AES-GCM and JWS HS256/ES256 over any payload, on wolfCrypt (see cmn_jose.h). */
#include "cmn_jose.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

size_t cmn_jwe_enc_key_len(const char *enc)
{
    if (enc == NULL)
        return 0;
    if (strcmp(enc, "A128GCM") == 0)
        return 16;
    if (strcmp(enc, "A192GCM") == 0)
        return 24;
    if (strcmp(enc, "A256GCM") == 0)
        return 32;
    return 0;
}

/* parts joined with '.', each NULL part empty; *ret malloc'd. */
static int join(const char *const *parts, size_t n, char **ret)
{
    size_t len = 0, o = 0;
    char *out;

    for (size_t i = 0; i < n; i++)
        len += (parts[i] != NULL ? strlen(parts[i]) : 0) + 1;
    if (len > CMN_JOSE_MAX)
        return CMN_ERANGE;
    if ((out = malloc(len)) == NULL)
        return CMN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t l = parts[i] != NULL ? strlen(parts[i]) : 0;

        memcpy(out + o, parts[i] != NULL ? parts[i] : "", l);
        o += l;
        out[o++] = i + 1 < n ? '.' : '\0';
    }
    *ret = out;
    return 0;
}

static int gcm(bool enc, const uint8_t *key, size_t klen, const uint8_t *iv, const char *aad,
               const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
    Aes aes;
    int rc;

    if (len > UINT32_MAX || wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
        return CMN_ECRYPTO;
    rc = wc_AesGcmSetKey(&aes, key, (word32)klen);
    if (rc == 0 && enc)
        rc = wc_AesGcmEncrypt(&aes, out, in, (word32)len, iv, CMN_JWE_IV_LEN, tag, CMN_JWE_TAG_LEN,
                              (const byte *)aad, (word32)strlen(aad));
    else if (rc == 0)
        rc = wc_AesGcmDecrypt(&aes, out, in, (word32)len, iv, CMN_JWE_IV_LEN, tag, CMN_JWE_TAG_LEN,
                              (const byte *)aad, (word32)strlen(aad));
    wc_AesFree(&aes);
    cmn_wipe(&aes, sizeof(aes));
    if (rc == AES_GCM_AUTH_E)
        return CMN_EDENIED;
    return rc == 0 ? 0 : CMN_ECRYPTO;
}

int cmn_jwe_dir_encrypt(json_t *header, const uint8_t key[CMN_KEY_LEN], const char *enc,
                        const uint8_t *pt, size_t len, char **ret)
{
    size_t klen = cmn_jwe_enc_key_len(enc);
    uint8_t iv[CMN_JWE_IV_LEN], tag[CMN_JWE_TAG_LEN], *ct = NULL;
    char *p[5] = {NULL};
    int rc;

    *ret = NULL;
    if (klen == 0 || !json_is_object(header) || key == NULL || (pt == NULL && len > 0))
        return CMN_EINVAL;
    if (len > CMN_JOSE_MAX)
        return CMN_ERANGE;
    if (json_object_set_new(header, "alg", json_string("dir")) != 0 ||
        json_object_set_new(header, "enc", json_string(enc)) != 0)
        return CMN_ENOMEM;
    if ((ct = malloc(len + 1)) == NULL)
        return CMN_ENOMEM;
    if ((rc = cmn_random(iv, sizeof(iv))) != 0 || (rc = cmn_b64url_json(header, &p[0])) != 0 ||
        (rc = gcm(true, key, klen, iv, p[0], pt, len, ct, tag)) != 0)
        goto out;
    if ((rc = cmn_b64url_encode(iv, sizeof(iv), &p[2])) != 0 ||
        (rc = cmn_b64url_encode(ct, len, &p[3])) != 0 ||
        (rc = cmn_b64url_encode(tag, sizeof(tag), &p[4])) != 0)
        goto out;
    rc = join((const char *const *)p, 5, ret);
out:
    for (int i = 0; i < 5; i++)
        free(p[i]);
    free(ct);
    return rc;
}

void cmn_jwe_free(cmn_jwe *j)
{
    if (j == NULL)
        return;
    json_decref(j->header);
    free(j->aad);
    free(j->iv);
    free(j->ct);
    free(j->tag);
    free(j);
}

/* The n '.'-separated parts of s: starts and lengths. CMN_EINVAL when not exactly n. */
static int split(const char *s, size_t n, const char **start, size_t *len)
{
    const char *p = s;

    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(p, '.');

        start[i] = p;
        if (i + 1 < n && dot == NULL)
            return CMN_EINVAL;
        len[i] = i + 1 < n ? (size_t)(dot - p) : strlen(p);
        if (i + 1 == n && dot != NULL)
            return CMN_EINVAL;
        p = dot != NULL ? dot + 1 : p;
    }
    return 0;
}

static int jwe_fill(cmn_jwe *j, const char *const *s, const size_t *l)
{
    uint8_t *ek = NULL;
    size_t ek_len = 0;
    const char *alg, *enc;
    int rc;

    if ((rc = cmn_b64url_json_object(s[0], l[0], &j->header)) != 0)
        return rc;
    alg = json_string_value(json_object_get(j->header, "alg"));
    enc = json_string_value(json_object_get(j->header, "enc"));
    if (alg == NULL || strcmp(alg, "dir") != 0 || cmn_jwe_enc_key_len(enc) == 0 ||
        json_object_get(j->header, "zip") != NULL || json_object_get(j->header, "crit") != NULL)
        return CMN_EINVAL;
    if ((j->aad = strndup(s[0], l[0])) == NULL)
        return CMN_ENOMEM;
    if ((rc = cmn_b64url_decode(s[1], l[1], &ek, &ek_len)) != 0)
        return rc;
    free(ek);
    if (ek_len != 0)
        return CMN_EINVAL; /* "dir": the Encrypted Key is empty (8.4.3.2 Table 8.4.3.2-1) */
    if ((rc = cmn_b64url_decode(s[2], l[2], &j->iv, &j->iv_len)) != 0 ||
        (rc = cmn_b64url_decode(s[3], l[3], &j->ct, &j->ct_len)) != 0 ||
        (rc = cmn_b64url_decode(s[4], l[4], &j->tag, &j->tag_len)) != 0)
        return rc;
    return j->iv_len == CMN_JWE_IV_LEN && j->tag_len == CMN_JWE_TAG_LEN ? 0 : CMN_EINVAL;
}

int cmn_jwe_decode(const char *compact, cmn_jwe **ret)
{
    const char *s[5];
    size_t l[5];
    cmn_jwe *j;
    int rc;

    *ret = NULL;
    if (compact == NULL)
        return CMN_EINVAL;
    if (strnlen(compact, CMN_JOSE_MAX + 1) > CMN_JOSE_MAX)
        return CMN_ERANGE;
    if ((rc = split(compact, 5, s, l)) != 0)
        return rc;
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return CMN_ENOMEM;
    if ((rc = jwe_fill(j, s, l)) != 0) {
        cmn_jwe_free(j);
        return rc;
    }
    *ret = j;
    return 0;
}

const char *cmn_jwe_header_str(const cmn_jwe *j, const char *name)
{
    return j != NULL ? json_string_value(json_object_get(j->header, name)) : NULL;
}

int cmn_jwe_decrypt(const cmn_jwe *j, const uint8_t key[CMN_KEY_LEN], uint8_t **ret_pt,
                    size_t *ret_len)
{
    size_t klen = cmn_jwe_enc_key_len(cmn_jwe_header_str(j, "enc"));
    uint8_t *pt;
    int rc;

    *ret_pt = NULL;
    *ret_len = 0;
    if (klen == 0 || key == NULL)
        return CMN_EINVAL;
    if ((pt = malloc(j->ct_len + 1)) == NULL)
        return CMN_ENOMEM;
    rc = gcm(false, key, klen, j->iv, j->aad, j->ct, j->ct_len, pt, j->tag);
    if (rc != 0) {
        cmn_free_secret(pt, j->ct_len + 1);
        return rc;
    }
    pt[j->ct_len] = '\0';
    *ret_pt = pt;
    *ret_len = j->ct_len;
    return 0;
}

/* ---- JWS over any payload ----------------------------------------------------------- */

static int hs256(const uint8_t key[CMN_KEY_LEN], const char *msg, size_t len,
                 uint8_t ret[CMN_SHA256_LEN])
{
    return cmn_hmac_sha256(key, CMN_KEY_LEN, (const uint8_t *)msg, len, ret);
}

int cmn_jose_sign(json_t *header, const uint8_t *payload, size_t len, const uint8_t *hs_key,
                  const uint8_t *priv, const uint8_t *pub, char **ret)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    bool hs = alg != NULL && strcmp(alg, "HS256") == 0;
    bool es = alg != NULL && strcmp(alg, "ES256") == 0;
    uint8_t sig[CMN_ES256_SIG_LEN];
    char *p[3] = {NULL}, *signing = NULL;
    int rc;

    *ret = NULL;
    if ((!hs && !es) || (hs && hs_key == NULL) || (es && (priv == NULL || pub == NULL)) ||
        (payload == NULL && len > 0))
        return CMN_EINVAL;
    if (len > CMN_JOSE_MAX)
        return CMN_ERANGE;
    if ((rc = cmn_b64url_json(header, &p[0])) != 0 ||
        (rc = cmn_b64url_encode(payload, len, &p[1])) != 0 ||
        (rc = join((const char *const *)p, 2, &signing)) != 0)
        goto out;
    rc = hs ? hs256(hs_key, signing, strlen(signing), sig)
            : cmn_es256_sign(priv, pub, (const uint8_t *)signing, strlen(signing), sig);
    if (rc == 0 &&
        (rc = cmn_b64url_encode(sig, hs ? CMN_SHA256_LEN : CMN_ES256_SIG_LEN, &p[2])) == 0)
        rc = join((const char *const *)p, 3, ret);
out:
    cmn_wipe(sig, sizeof(sig));
    for (int i = 0; i < 3; i++)
        free(p[i]);
    free(signing);
    return rc;
}

void cmn_jose_jws_free(cmn_jose_jws *j)
{
    if (j == NULL)
        return;
    json_decref(j->header);
    free(j->payload);
    free(j->sig);
    free(j->input);
    free(j);
}

static int jws_fill(cmn_jose_jws *j, const char *const *s, const size_t *l)
{
    uint8_t *p = NULL;
    int rc;

    if ((rc = cmn_b64url_json_object(s[0], l[0], &j->header)) != 0 ||
        json_object_get(j->header, "crit") != NULL)
        return rc ? rc : CMN_EINVAL;
    if ((rc = cmn_b64url_decode(s[1], l[1], &p, &j->payload_len)) != 0)
        return rc;
    j->payload = realloc(p, j->payload_len + 1);
    if (j->payload == NULL) {
        free(p);
        return CMN_ENOMEM;
    }
    j->payload[j->payload_len] = '\0';
    j->signed_len = l[0] + 1 + l[1];
    return cmn_b64url_decode(s[2], l[2], &j->sig, &j->sig_len);
}

int cmn_jose_jws_decode(const char *compact, cmn_jose_jws **ret)
{
    const char *s[3];
    size_t l[3];
    cmn_jose_jws *j;
    int rc;

    *ret = NULL;
    if (compact == NULL)
        return CMN_EINVAL;
    if (strnlen(compact, CMN_JOSE_MAX + 1) > CMN_JOSE_MAX)
        return CMN_ERANGE;
    if ((j = calloc(1, sizeof(*j))) == NULL || (j->input = strdup(compact)) == NULL) {
        free(j);
        return CMN_ENOMEM;
    }
    if ((rc = split(j->input, 3, s, l)) != 0 || (rc = jws_fill(j, s, l)) != 0) {
        cmn_jose_jws_free(j);
        return rc;
    }
    *ret = j;
    return 0;
}

const char *cmn_jose_jws_alg(const cmn_jose_jws *j)
{
    return j != NULL ? json_string_value(json_object_get(j->header, "alg")) : NULL;
}

int cmn_jose_verify_hs256(const cmn_jose_jws *j, const uint8_t key[CMN_KEY_LEN])
{
    const char *alg = cmn_jose_jws_alg(j);
    uint8_t mac[CMN_SHA256_LEN];
    int rc = CMN_EDENIED;

    if (alg == NULL || strcmp(alg, "HS256") != 0 || j->sig_len != CMN_SHA256_LEN || key == NULL)
        return CMN_EDENIED;
    if (hs256(key, j->input, j->signed_len, mac) == 0 &&
        cmn_memcmp_ct(mac, j->sig, CMN_SHA256_LEN) == 0)
        rc = 0;
    cmn_wipe(mac, sizeof(mac));
    return rc;
}

int cmn_jose_verify_es256(const cmn_jose_jws *j, const uint8_t pub[CMN_ES256_PUB_LEN])
{
    const char *alg = cmn_jose_jws_alg(j);

    if (alg == NULL || strcmp(alg, "ES256") != 0 || j->sig_len != CMN_ES256_SIG_LEN)
        return CMN_EDENIED;
    return cmn_es256_verify(pub, (const uint8_t *)j->input, j->signed_len, j->sig) == 0
               ? 0
               : CMN_EDENIED;
}

/* ---- x5c (RFC 7515 4.1.6): standard base64 of DER, not base64url ------------------------ */

int cmn_jose_x5c_set(json_t *header, const uint8_t *der, size_t len)
{
    word32 outlen = (word32)(len / 3 * 4 + 8);
    char *b64;
    int rc;

    if (!json_is_object(header) || der == NULL || len == 0 || len > CMN_JOSE_MAX)
        return CMN_EINVAL;
    if ((b64 = malloc(outlen + 1)) == NULL)
        return CMN_ENOMEM;
    rc = Base64_Encode_NoNl(der, (word32)len, (byte *)b64, &outlen) == 0 ? 0 : CMN_ECRYPTO;
    if (rc == 0) {
        b64[outlen] = '\0';
        rc = json_object_set_new(header, "x5c", json_pack("[s]", b64)) == 0 ? 0 : CMN_ENOMEM;
    }
    free(b64);
    return rc;
}

int cmn_jose_x5c_first(json_t *header, uint8_t *ret_der, size_t *inout_len)
{
    const char *b64 = json_string_value(json_array_get(json_object_get(header, "x5c"), 0));
    word32 outlen = (word32)*inout_len;

    if (b64 == NULL || strlen(b64) > CMN_JOSE_MAX ||
        Base64_Decode((const byte *)b64, (word32)strlen(b64), ret_der, &outlen) != 0)
        return CMN_EINVAL;
    *inout_len = outlen;
    return 0;
}
