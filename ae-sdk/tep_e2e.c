/* libtepae: end-to-end security of data (ESData, TS-0003 8.5) with the keys of 10.3.6.
 * I/O: only the reading of the device's certificate files (tep_enrol_cert()) and of a
 * trust anchor; no network. Formats: docs/internals.md "End-to-end security". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_jose.h"
#include "tae_device.h"
#include "tae_e2e.h"

#define PATH_MAX_E2E 4096
#define PEM_MAX 8192
#define KID_MAX CMN_KEY_ID_MAX
/* The outer JWE of a nested object says its plaintext is a compact JOSE object
 * (RFC 7515 4.1.10 / RFC 7516 4.1.12 "cty"). */
#define CTY_NESTED "JOSE"

struct tep_e2e_key {
    cmn_e2e_keys keys;
    char kid[KID_MAX];
};

int tep_esprim_new_e2e(const tep_e2e_key *key, const char *receiver_rand_json, int64_t lifetime,
                       tep_esprim **ret)
{
    if (ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (key == NULL)
        return CMN_EINVAL;
    return tae_esprim_new(key->keys.msg_conf, key->kid, receiver_rand_json, lifetime, ret);
}

int tae_e2e_key_new(const uint8_t pair_key[CMN_KEY_LEN], const char *kid, const char *b_id,
                    tep_e2e_key **ret_key)
{
    tep_e2e_key *k;
    int rc;

    *ret_key = NULL;
    if (kid == NULL || !cmn_kdf_id_valid(kid) || strlen(kid) >= KID_MAX)
        return CMN_EINVAL;
    if ((k = calloc(1, sizeof(*k))) == NULL)
        return CMN_ENOMEM;
    if ((rc = cmn_e2e_keys_from_pair(pair_key, b_id, &k->keys)) != 0) {
        free(k);
        return rc;
    }
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    *ret_key = k;
    return 0;
}

int tep_e2e_key_from_hex(const char *pair_key_hex, const char *kid, const char *b_id,
                         tep_e2e_key **ret_key)
{
    uint8_t pk[CMN_KEY_LEN];
    int rc;

    if (ret_key == NULL)
        return CMN_EINVAL;
    *ret_key = NULL;
    if (pair_key_hex == NULL || strlen(pair_key_hex) != 2 * CMN_KEY_LEN ||
        cmn_hex_decode(pair_key_hex, pk, sizeof(pk)) != 0)
        return CMN_EINVAL;
    rc = tae_e2e_key_new(pk, kid, b_id, ret_key);
    cmn_wipe(pk, sizeof(pk));
    return rc;
}

int tae_e2e_key_msg_conf(const tep_e2e_key *key, uint8_t ret[CMN_KEY_LEN])
{
    if (key == NULL)
        return CMN_EINVAL;
    memcpy(ret, key->keys.msg_conf, CMN_KEY_LEN);
    return 0;
}

int tep_e2e_key_from_kpsa(const tep_device *dev, tep_e2e_key **ret_key)
{
    if (ret_key == NULL)
        return CMN_EINVAL;
    *ret_key = NULL;
    if (dev == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    /* 8.6.2, 10.3.6.1: the pair (this enrolee, its registrar CSE), B = that CSE-ID */
    return tae_e2e_key_new(dev->enr.kpsa, dev->enr.kpsa_id, dev->enr.registrar_cse_id, ret_key);
}

const char *tep_e2e_key_id(const tep_e2e_key *key)
{
    return key != NULL ? key->kid : NULL;
}

void tep_e2e_key_free(tep_e2e_key *key)
{
    cmn_free_secret(key, sizeof(*key));
}

/* ---- the device's certificate key ------------------------------------------------------ */

/* Reads at most PEM_MAX - 1 bytes of a small text file into buf (NUL-terminated). */
static int read_small(const char *path, char buf[PEM_MAX])
{
    FILE *f = fopen(path, "re");
    size_t n;

    if (f == NULL)
        return CMN_ENOTFOUND;
    n = fread(buf, 1, PEM_MAX - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n > 0 ? 0 : CMN_EIO;
}

static int read_der(const char *path, const char *kind, uint8_t *der, size_t *inout_len)
{
    char pem[PEM_MAX];
    int rc = read_small(path, pem);

    if (rc == 0)
        rc = cmn_ca_from_pem(pem, strlen(pem), kind, der, inout_len) == 0 ? 0 : CMN_ECORRUPT;
    cmn_wipe(pem, sizeof(pem));
    return rc;
}

typedef struct {
    uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN];
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t cert_len;
} signer_keys;

/* The key and certificate tep_enrol_cert() stored for dev. TEP_ESTATE: none yet. */
static int load_signer(const tep_device *dev, signer_keys *s)
{
    char kp[PATH_MAX_E2E], cp[PATH_MAX_E2E];
    uint8_t der[CMN_CA_KEY_DER_MAX];
    size_t dlen = sizeof(der);
    int rc;

    s->cert_len = sizeof(s->cert);
    if ((rc = tep_device_cert_path(dev, "key", kp, sizeof(kp))) != 0 ||
        (rc = tep_device_cert_path(dev, "crt", cp, sizeof(cp))) != 0)
        return rc;
    rc = read_der(kp, "EC PRIVATE KEY", der, &dlen);
    if (rc == 0)
        rc = cmn_ca_key_raw(der, dlen, s->priv, s->pub);
    if (rc == 0)
        rc = read_der(cp, "CERTIFICATE", s->cert, &s->cert_len);
    cmn_wipe(der, sizeof(der));
    return rc == CMN_ENOTFOUND ? CMN_ESTATE : rc;
}

/* ---- protect --------------------------------------------------------------------------- */

static int encrypt(const tep_e2e_key *key, const char *cty, const uint8_t *pt, size_t len,
                   char **ret)
{
    json_t *h = json_pack("{s:s}", "kid", key->kid);
    int rc;

    if (h == NULL)
        return CMN_ENOMEM;
    if (cty != NULL && json_object_set_new(h, "cty", json_string(cty)) != 0)
        rc = CMN_ENOMEM;
    else
        rc = cmn_jwe_dir_encrypt(h, key->keys.att_conf, "A256GCM", pt, len, ret);
    json_decref(h);
    return rc;
}

static int sign_es256(const tep_device *dev, const uint8_t *data, size_t len, char **ret)
{
    signer_keys s;
    json_t *h = json_pack("{s:s}", "alg", "ES256");
    int rc = h != NULL ? load_signer(dev, &s) : CMN_ENOMEM;

    if (rc == 0 && (rc = cmn_jose_x5c_set(h, s.cert, s.cert_len)) == 0)
        rc = cmn_jose_sign(h, data, len, NULL, s.priv, s.pub, ret);
    cmn_wipe(&s, sizeof(s));
    json_decref(h);
    return rc;
}

static int sign_hs256(const tep_e2e_key *key, const uint8_t *data, size_t len, char **ret)
{
    json_t *h = json_pack("{s:s,s:s}", "alg", "HS256", "kid", key->kid);
    int rc =
        h != NULL ? cmn_jose_sign(h, data, len, key->keys.att_auth, NULL, NULL, ret) : CMN_ENOMEM;

    json_decref(h);
    return rc;
}

int tep_esdata_protect(int cls, const tep_e2e_key *key, const tep_device *signer,
                       const uint8_t *data, size_t len, char **ret_object)
{
    char *inner = NULL;
    int rc;

    if (ret_object == NULL)
        return CMN_EINVAL;
    *ret_object = NULL;
    if (data == NULL && len > 0)
        return CMN_EINVAL;
    switch (cls) {
    case TEP_ESDATA_ENCRYPT:
        return key != NULL ? encrypt(key, NULL, data, len, ret_object) : CMN_EINVAL;
    case TEP_ESDATA_SIGN:
        if (signer != NULL)
            return sign_es256(signer, data, len, ret_object);
        return key != NULL ? sign_hs256(key, data, len, ret_object) : CMN_EINVAL;
    case TEP_ESDATA_SIGN_ENCRYPT: /* 8.5.3.4: the inner envelope is an ECDSA signature */
        if (key == NULL || signer == NULL)
            return CMN_EINVAL;
        rc = sign_es256(signer, data, len, &inner);
        if (rc == 0)
            rc = encrypt(key, CTY_NESTED, (const uint8_t *)inner, strlen(inner), ret_object);
        free(inner);
        return rc;
    default:
        return CMN_EINVAL;
    }
}

/* ---- open ------------------------------------------------------------------------------ */

void tep_esdata_free(tep_esdata *d)
{
    if (d == NULL)
        return;
    cmn_free_secret(d->data, d->len + 1);
    free(d->signer);
    free(d);
}

/* An ES256 JWS whose x5c certificate chains to the trust anchor at ca_path: 0 with the
 * identifier its subjectAltName names in *ret_signer (malloc'd). */
static int verify_x5c(const cmn_jose_jws *j, const char *ca_path, char **ret_signer)
{
    uint8_t cert[CMN_CA_CERT_DER_MAX], ca[CMN_CA_CERT_DER_MAX], pub[CMN_ES256_PUB_LEN];
    size_t clen = sizeof(cert), alen = sizeof(ca);
    size_t plen = strlen(CMN_CA_SAN_PREFIX);
    cmn_cert_info info;
    int rc;

    if (ca_path == NULL)
        return CMN_EDENIED; /* nothing to check the signer's certificate with */
    if ((rc = read_der(ca_path, "CERTIFICATE", ca, &alen)) != 0)
        return rc;
    if (cmn_jose_x5c_first(j->header, cert, &clen) != 0 ||
        cmn_ca_verify(ca, alen, cert, clen) != 0 || cmn_ca_cert_info(cert, clen, &info) != 0 ||
        strncmp(info.san_uri, CMN_CA_SAN_PREFIX, plen) != 0 ||
        cmn_ca_cert_pub(cert, clen, pub) != 0 || cmn_jose_verify_es256(j, pub) != 0)
        return CMN_EDENIED;
    *ret_signer = strdup(info.san_uri + plen);
    return *ret_signer != NULL ? 0 : CMN_ENOMEM;
}

/* Verifies a compact JWS: HS256 with key (kid must be key's), ES256 with x5c. */
static int open_jws(const char *compact, const tep_e2e_key *key, const char *ca_path, tep_esdata *d)
{
    cmn_jose_jws *j = NULL;
    const char *alg, *kid;
    int rc = cmn_jose_jws_decode(compact, &j);

    if (rc != 0)
        return rc;
    alg = cmn_jose_jws_alg(j);
    kid = json_string_value(json_object_get(j->header, "kid"));
    if (alg != NULL && strcmp(alg, "HS256") == 0) {
        rc = key != NULL && kid != NULL && strcmp(kid, key->kid) == 0 &&
                     cmn_jose_verify_hs256(j, key->keys.att_auth) == 0
                 ? 0
                 : CMN_EDENIED;
        if (rc == 0 && (d->signer = strdup(kid)) == NULL)
            rc = CMN_ENOMEM;
    } else if (alg != NULL && strcmp(alg, "ES256") == 0) {
        rc = verify_x5c(j, ca_path, &d->signer);
    } else {
        rc = CMN_EDENIED; /* "none" and every other alg */
    }
    if (rc == 0) {
        d->data = j->payload;
        d->len = j->payload_len;
        j->payload = NULL;
    }
    cmn_jose_jws_free(j);
    return rc;
}

static int open_jwe(const char *compact, const tep_e2e_key *key, const char *ca_path, tep_esdata *d)
{
    cmn_jwe *j = NULL;
    const char *kid, *cty;
    uint8_t *pt = NULL;
    size_t len = 0;
    int rc = cmn_jwe_decode(compact, &j);

    if (rc != 0)
        return rc;
    kid = cmn_jwe_header_str(j, "kid");
    cty = cmn_jwe_header_str(j, "cty");
    if (key == NULL || kid == NULL || strcmp(kid, key->kid) != 0)
        rc = CMN_EDENIED; /* not for this key */
    else
        rc = cmn_jwe_decrypt(j, key->keys.att_conf, &pt, &len);
    if (rc == 0 && cty != NULL && strcmp(cty, CTY_NESTED) == 0) {
        d->cls = TEP_ESDATA_SIGN_ENCRYPT;
        rc = open_jws((const char *)pt, NULL, ca_path, d); /* inner: ECDSA only (8.5.3.4) */
        cmn_free_secret(pt, len + 1);
    } else if (rc == 0) {
        d->cls = TEP_ESDATA_ENCRYPT;
        d->data = pt;
        d->len = len;
    }
    cmn_jwe_free(j);
    return rc;
}

int tep_esdata_open(const char *object, const tep_e2e_key *key, const char *ca_pem_path,
                    tep_esdata **ret)
{
    size_t dots = 0;
    tep_esdata *d;
    int rc;

    if (ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (object == NULL)
        return CMN_EINVAL;
    for (const char *p = object; *p; p++)
        dots += *p == '.';
    if (dots != 2 && dots != 4)
        return CMN_EINVAL;
    if ((d = calloc(1, sizeof(*d))) == NULL)
        return CMN_ENOMEM;
    if (dots == 2) {
        d->cls = TEP_ESDATA_SIGN;
        rc = open_jws(object, key, ca_pem_path, d);
    } else {
        rc = open_jwe(object, key, ca_pem_path, d);
    }
    if (rc != 0) {
        tep_esdata_free(d);
        return rc;
    }
    *ret = d;
    return 0;
}

int tep_esdata_kid(const char *object, char *buf, size_t len)
{
    const char *dot = object != NULL ? strchr(object, '.') : NULL;
    json_t *h = NULL;
    const char *kid;
    int rc;

    if (dot == NULL || buf == NULL || len == 0)
        return CMN_EINVAL;
    if ((rc = cmn_b64url_json_object(object, (size_t)(dot - object), &h)) != 0)
        return rc;
    kid = json_string_value(json_object_get(h, "kid"));
    rc = kid == NULL                                    ? CMN_ENOTFOUND
         : (size_t)snprintf(buf, len, "%s", kid) >= len ? CMN_ERANGE
                                                        : 0;
    json_decref(h);
    return rc;
}
