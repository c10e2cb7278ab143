/* The tep CA and certificate requests with wolfCrypt (see cmn_ca.h). */
#include "cmn_ca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define CA_ORG "tep"
#define CA_SERIAL_LEN 16
#define CA_BACKDATE 3600 /* clock skew allowance for notBefore */

/* ---- identifiers ------------------------------------------------------------------ */

int cmn_ca_san_uri(const char *id, char *ret, size_t retlen)
{
    size_t n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n >= CMN_CA_ID_MAX)
        return CMN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= 0x20 || id[i] >= 0x7f)
            return CMN_EINVAL;
    if ((size_t)snprintf(ret, retlen, "%s%s", CMN_CA_SAN_PREFIX, id) >= retlen)
        return CMN_ERANGE;
    return 0;
}

/* ---- keys ------------------------------------------------------------------------- */

static int load_key(const uint8_t *der, size_t len, ecc_key *k)
{
    word32 idx = 0;

    if (wc_ecc_init(k) != 0)
        return CMN_ECRYPTO;
    if (len > UINT32_MAX || wc_EccPrivateKeyDecode(der, &idx, k, (word32)len) != 0) {
        wc_ecc_free(k);
        return CMN_EINVAL;
    }
    return 0;
}

int cmn_ca_key_new(uint8_t *ret_der, size_t *inout_len)
{
    WC_RNG rng;
    ecc_key k;
    int n, rc = CMN_ECRYPTO;

    if (wc_InitRng(&rng) != 0)
        return CMN_ECRYPTO;
    if (wc_ecc_init(&k) != 0)
        goto out_rng;
    if (wc_ecc_make_key_ex(&rng, 32, &k, ECC_SECP256R1) != 0)
        goto out;
    n = wc_EccKeyToDer(&k, ret_der, (word32)*inout_len);
    if (n > 0) {
        *inout_len = (size_t)n;
        rc = 0;
    } else {
        rc = n == BUFFER_E ? CMN_ERANGE : CMN_ECRYPTO;
    }
out:
    wc_ecc_free(&k);
out_rng:
    wc_FreeRng(&rng);
    return rc;
}

/* ---- certificate templates -------------------------------------------------------- */

/* DER time (UTCTime before 2050, GeneralizedTime after: RFC 5280 4.1.2.5). */
static int encode_time(int64_t t, uint8_t *ret, int *ret_len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char s[20];
    int n;

    if (t < 0 || gmtime_r(&tt, &tm) == NULL)
        return CMN_EINVAL;
    n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != 15)
        return CMN_EINVAL;
    if (tm.tm_year + 1900 < 2050) { /* UTCTime: two-digit year */
        memmove(s, s + 2, 14);
        n = 13;
    }
    ret[0] = n == 13 ? ASN_UTC_TIME : ASN_GENERALIZED_TIME;
    ret[1] = (uint8_t)n;
    memcpy(ret + 2, s, (size_t)n);
    *ret_len = n + 2;
    return 0;
}

static int set_validity(Cert *c, int64_t now, int64_t not_after)
{
    int rc;

    if (not_after <= now)
        return CMN_EEXPIRED;
    rc = encode_time(now - CA_BACKDATE, c->beforeDate, &c->beforeDateSz);
    if (rc == 0)
        rc = encode_time(not_after, c->afterDate, &c->afterDateSz);
    return rc;
}

/* GeneralNames with one uniformResourceIdentifier [6] (lengths below 128 each). */
static int set_san(Cert *c, const char *id)
{
    char uri[CMN_CA_ID_MAX + 8];
    size_t n;
    int rc = cmn_ca_san_uri(id, uri, sizeof(uri));

    if (rc != 0)
        return rc;
    n = strlen(uri);
    if (n > 125)
        return CMN_ERANGE;
    c->altNames[0] = ASN_SEQUENCE | ASN_CONSTRUCTED;
    c->altNames[1] = (byte)(n + 2);
    c->altNames[2] = ASN_CONTEXT_SPECIFIC | ASN_URI_TYPE;
    c->altNames[3] = (byte)n;
    memcpy(c->altNames + 4, uri, n);
    c->altNamesSz = (int)n + 4;
    return 0;
}

static void set_name(CertName *name, const char *cn)
{
    snprintf(name->commonName, sizeof(name->commonName), "%s", cn);
    name->commonNameEnc = CTC_UTF8;
    snprintf(name->org, sizeof(name->org), "%s", CA_ORG);
    name->orgEnc = CTC_UTF8;
}

static int set_serial(Cert *c)
{
    int rc = cmn_random(c->serial, CA_SERIAL_LEN);

    c->serial[0] &= 0x7f; /* positive INTEGER */
    c->serial[0] |= 0x40; /* no leading zero byte: exactly 16 bytes */
    c->serialSz = CA_SERIAL_LEN;
    return rc;
}

static Cert *cert_new(void)
{
    Cert *c = calloc(1, sizeof(*c));

    if (c != NULL && wc_InitCert(c) != 0) {
        free(c);
        return NULL;
    }
    if (c != NULL)
        c->sigType = CTC_SHA256wECDSA;
    return c;
}

/* Makes the body for subject key sub (NULL: CSR) and signs it with signer. */
static int make_signed(Cert *c, bool csr, ecc_key *sub, ecc_key *signer, uint8_t *ret_der,
                       size_t *inout_len)
{
    WC_RNG rng;
    word32 cap = *inout_len > UINT32_MAX ? UINT32_MAX : (word32)*inout_len;
    int n;

    if (wc_InitRng(&rng) != 0)
        return CMN_ECRYPTO;
    n = csr ? wc_MakeCertReq(c, ret_der, cap, NULL, signer)
            : wc_MakeCert(c, ret_der, cap, NULL, sub, &rng);
    if (n > 0)
        n = wc_SignCert(c->bodySz, c->sigType, ret_der, cap, NULL, signer, &rng);
    wc_FreeRng(&rng);
    if (n <= 0)
        return n == BUFFER_E ? CMN_ERANGE : CMN_ECRYPTO;
    *inout_len = (size_t)n;
    return 0;
}

/* ---- CA certificate --------------------------------------------------------------- */

int cmn_ca_make_root(const uint8_t *key, size_t key_len, const char *name, int64_t now,
                     int64_t not_after, uint8_t *ret_der, size_t *inout_len)
{
    Cert *c = cert_new();
    ecc_key k;
    int rc;

    if (c == NULL)
        return CMN_ENOMEM;
    rc = load_key(key, key_len, &k);
    if (rc != 0)
        goto out_cert;
    set_name(&c->subject, name);
    c->isCA = 1;
    c->selfSigned = 1;
    rc = set_validity(c, now, not_after);
    if (rc == 0)
        rc = set_serial(c);
    if (rc == 0 && (wc_SetKeyUsage(c, "keyCertSign,cRLSign") != 0 ||
                    wc_SetSubjectKeyIdFromPublicKey(c, NULL, &k) != 0))
        rc = CMN_ECRYPTO;
    if (rc == 0)
        rc = make_signed(c, false, &k, &k, ret_der, inout_len);
    wc_ecc_free(&k);
out_cert:
    free(c);
    return rc;
}

/* ---- certificate requests --------------------------------------------------------- */

int cmn_ca_make_csr(const uint8_t *key, size_t key_len, const char *id, uint8_t *ret_der,
                    size_t *inout_len)
{
    Cert *c = cert_new();
    ecc_key k;
    int rc;

    if (c == NULL)
        return CMN_ENOMEM;
    rc = load_key(key, key_len, &k);
    if (rc != 0)
        goto out_cert;
    c->version = 0; /* PKCS#10 v1 */
    set_name(&c->subject, id);
    rc = set_san(c, id);
    if (rc == 0)
        rc = make_signed(c, true, NULL, &k, ret_der, inout_len);
    wc_ecc_free(&k);
out_cert:
    free(c);
    return rc;
}

/* The P-256 public key of a parsed request or certificate. */
static int decoded_pubkey(DecodedCert *dc, ecc_key *ret)
{
    uint8_t spki[256];
    word32 n = sizeof(spki), idx = 0;
    int rc = CMN_EDENIED;

    if (dc->keyOID != ECDSAk || wc_GetPubKeyDerFromCert(dc, spki, &n) != 0)
        return CMN_EDENIED;
    if (wc_ecc_init(ret) != 0)
        return CMN_ECRYPTO;
    if (wc_EccPublicKeyDecode(spki, &idx, ret, n) == 0 &&
        wc_ecc_get_curve_id(ret->idx) == ECC_SECP256R1)
        return 0;
    wc_ecc_free(ret);
    return rc;
}

/* The identifier of the only URI in the subjectAltName, with the tep prefix. */
static int decoded_san_id(const DecodedCert *dc, char *ret_id, size_t idlen)
{
    const DNS_entry *uri = NULL;
    size_t plen = strlen(CMN_CA_SAN_PREFIX);

    for (const DNS_entry *e = dc->altNames; e != NULL; e = e->next) {
        if (e->type != ASN_URI_TYPE)
            continue;
        if (uri != NULL)
            return CMN_EDENIED; /* several identities: refuse rather than choose */
        uri = e;
    }
    if (uri == NULL || uri->len <= (int)plen || strncmp(uri->name, CMN_CA_SAN_PREFIX, plen) != 0)
        return CMN_EDENIED;
    if ((size_t)uri->len - plen >= idlen || memchr(uri->name, '\0', (size_t)uri->len) != NULL)
        return CMN_EDENIED;
    memcpy(ret_id, uri->name + plen, (size_t)uri->len - plen);
    ret_id[(size_t)uri->len - plen] = '\0';
    return 0;
}

int cmn_ca_csr_id(const uint8_t *csr, size_t csr_len, char *ret_id, size_t idlen)
{
    DecodedCert dc;
    ecc_key k;
    int rc;

    if (csr == NULL || csr_len == 0 || csr_len > CMN_CA_CERT_DER_MAX)
        return CMN_EINVAL;
    wc_InitDecodedCert(&dc, csr, (word32)csr_len, NULL);
    rc = wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL);
    if (rc == ASN_SIG_CONFIRM_E || rc == ASN_SIG_KEY_E)
        rc = CMN_EDENIED;
    else if (rc != 0 || !dc.isCSR)
        rc = CMN_EINVAL;
    if (rc == 0)
        rc = decoded_pubkey(&dc, &k);
    if (rc == 0) {
        wc_ecc_free(&k);
        rc = decoded_san_id(&dc, ret_id, idlen);
    }
    wc_FreeDecodedCert(&dc);
    return rc;
}

/* ---- issuing ---------------------------------------------------------------------- */

static int csr_pubkey(const uint8_t *csr, size_t csr_len, ecc_key *ret)
{
    DecodedCert dc;
    int rc;

    if (csr == NULL || csr_len == 0 || csr_len > CMN_CA_CERT_DER_MAX)
        return CMN_EINVAL;
    wc_InitDecodedCert(&dc, csr, (word32)csr_len, NULL);
    rc = wc_ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL) == 0 ? 0 : CMN_EDENIED;
    if (rc == 0)
        rc = decoded_pubkey(&dc, ret);
    wc_FreeDecodedCert(&dc);
    return rc;
}

/* A bound serial (cmn_ca.h): 0x5e, the KeID's first 8 bytes, 7 random bytes. */
static int bind_serial(Cert *c, const char *ke_id)
{
    char head[2 * CMN_CA_BIND_LEN + 1];

    if (ke_id == NULL)
        return 0;
    if (strspn(ke_id, "0123456789abcdef") < 2 * CMN_CA_BIND_LEN)
        return CMN_EINVAL;
    memcpy(head, ke_id, 2 * CMN_CA_BIND_LEN);
    head[2 * CMN_CA_BIND_LEN] = '\0';
    if (cmn_hex_decode(head, c->serial + 1, CMN_CA_BIND_LEN) != 0)
        return CMN_EINVAL;
    c->serial[0] = CMN_CA_BOUND_TAG;
    return 0;
}

static int issue_template(Cert *c, const cmn_ca *ca, const char *id, const char *ke_id,
                          ecc_key *sub, int64_t now, int64_t not_after)
{
    int rc = set_validity(c, now, not_after);

    if (rc == 0)
        rc = set_san(c, id);
    if (rc == 0)
        rc = set_serial(c);
    if (rc == 0)
        rc = bind_serial(c, ke_id);
    if (rc != 0)
        return rc;
    set_name(&c->subject, id);
    if (ca->cert_len > INT32_MAX || wc_SetIssuerBuffer(c, ca->cert, (int)ca->cert_len) != 0 ||
        wc_SetAuthKeyIdFromCert(c, ca->cert, (int)ca->cert_len) != 0)
        return CMN_EINVAL;
    if (wc_SetSubjectKeyIdFromPublicKey(c, NULL, sub) != 0 ||
        wc_SetKeyUsage(c, "digitalSignature") != 0 ||
        wc_SetExtKeyUsage(c, "serverAuth,clientAuth") != 0)
        return CMN_ECRYPTO;
    return 0;
}

int cmn_ca_issue(const cmn_ca *ca, const uint8_t *csr, size_t csr_len, const char *id, int64_t now,
                 int64_t not_after, uint8_t *ret_der, size_t *inout_len)
{
    return cmn_ca_issue_bound(ca, csr, csr_len, id, NULL, now, not_after, ret_der, inout_len);
}

bool cmn_ca_serial_bound_to(const char *serial, const char *ke_id)
{
    char tag[3];

    snprintf(tag, sizeof(tag), "%02x", CMN_CA_BOUND_TAG);
    return serial != NULL && ke_id != NULL && strlen(serial) == 2 * CA_SERIAL_LEN &&
           strncmp(serial, tag, 2) == 0 &&
           strspn(ke_id, "0123456789abcdef") >= 2 * CMN_CA_BIND_LEN &&
           strncmp(serial + 2, ke_id, 2 * CMN_CA_BIND_LEN) == 0;
}

int cmn_ca_issue_bound(const cmn_ca *ca, const uint8_t *csr, size_t csr_len, const char *id,
                       const char *ke_id, int64_t now, int64_t not_after, uint8_t *ret_der,
                       size_t *inout_len)
{
    Cert *c = cert_new();
    ecc_key sub, signer;
    int rc;

    if (c == NULL)
        return CMN_ENOMEM;
    rc = csr_pubkey(csr, csr_len, &sub);
    if (rc != 0)
        goto out_cert;
    rc = load_key(ca->key, ca->key_len, &signer);
    if (rc != 0)
        goto out_sub;
    rc = issue_template(c, ca, id, ke_id, &sub, now, not_after);
    if (rc == 0)
        rc = make_signed(c, false, &sub, &signer, ret_der, inout_len);
    wc_ecc_free(&signer);
out_sub:
    wc_ecc_free(&sub);
out_cert:
    free(c);
    return rc;
}

/* ---- reading certificates --------------------------------------------------------- */

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* A DER UTCTime/GeneralizedTime TLV ("...Z") to Unix seconds. */
static int decode_time(const uint8_t *tlv, int len, int64_t *ret)
{
    char s[16];
    struct tm tm = {0};
    int n = len - 2, off;

    if (tlv == NULL || len < 2 || tlv[1] != n || (n != 13 && n != 15) || tlv[2 + n - 1] != 'Z')
        return CMN_EINVAL;
    memcpy(s, tlv + 2, (size_t)n);
    for (int i = 0; i < n - 1; i++)
        if (s[i] < '0' || s[i] > '9')
            return CMN_EINVAL;
    if (tlv[0] == ASN_UTC_TIME && n == 13) {
        tm.tm_year = two(s) < 50 ? two(s) + 100 : two(s);
        off = 2;
    } else if (tlv[0] == ASN_GENERALIZED_TIME && n == 15) {
        tm.tm_year = two(s) * 100 + two(s + 2) - 1900;
        off = 4;
    } else {
        return CMN_EINVAL;
    }
    tm.tm_mon = two(s + off) - 1;
    tm.tm_mday = two(s + off + 2);
    tm.tm_hour = two(s + off + 4);
    tm.tm_min = two(s + off + 6);
    tm.tm_sec = two(s + off + 8);
    *ret = (int64_t)timegm(&tm);
    return 0;
}

static void first_uri(const DecodedCert *dc, char *ret, size_t retlen)
{
    ret[0] = '\0';
    for (const DNS_entry *e = dc->altNames; e != NULL; e = e->next) {
        if (e->type == ASN_URI_TYPE && (size_t)e->len < retlen) {
            memcpy(ret, e->name, (size_t)e->len);
            ret[e->len] = '\0';
            return;
        }
    }
}

static int fill_info(const DecodedCert *dc, cmn_cert_info *ret)
{
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (dc->serialSz <= 0 || dc->serialSz > (CMN_CA_SERIAL_MAX - 1) / 2 || dc->subjectCN == NULL ||
        dc->subjectCNLen < 0 || dc->subjectCNLen >= CMN_CA_ID_MAX)
        return CMN_EINVAL;
    cmn_hex_encode(dc->serial, (size_t)dc->serialSz, ret->serial);
    memcpy(ret->subject_cn, dc->subjectCN, (size_t)dc->subjectCNLen);
    first_uri(dc, ret->san_uri, sizeof(ret->san_uri));
    ret->is_ca = dc->isCA;
    rc = decode_time(dc->beforeDate, dc->beforeDateLen, &ret->not_before);
    if (rc == 0)
        rc = decode_time(dc->afterDate, dc->afterDateLen, &ret->not_after);
    return rc;
}

int cmn_ca_cert_info(const uint8_t *der, size_t len, cmn_cert_info *ret)
{
    DecodedCert dc;
    int rc;

    if (der == NULL || len == 0 || len > CMN_CA_CERT_DER_MAX)
        return CMN_EINVAL;
    wc_InitDecodedCert(&dc, der, (word32)len, NULL);
    rc = wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 ? 0 : CMN_EINVAL;
    if (rc == 0)
        rc = fill_info(&dc, ret);
    wc_FreeDecodedCert(&dc);
    return rc;
}

int cmn_ca_verify(const uint8_t *ca_cert, size_t ca_len, const uint8_t *cert, size_t len)
{
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
    int rc = CMN_EDENIED;

    if (cm == NULL)
        return CMN_ENOMEM;
    if (ca_len > INT32_MAX || len > INT32_MAX ||
        wolfSSL_CertManagerLoadCABuffer(cm, ca_cert, (long)ca_len, WOLFSSL_FILETYPE_ASN1) !=
            WOLFSSL_SUCCESS)
        rc = CMN_EINVAL;
    else if (wolfSSL_CertManagerVerifyBuffer(cm, cert, (long)len, WOLFSSL_FILETYPE_ASN1) ==
             WOLFSSL_SUCCESS)
        rc = 0;
    wolfSSL_CertManagerFree(cm);
    return rc;
}

/* ---- PEM -------------------------------------------------------------------------- */

static int pem_type(const char *kind)
{
    if (strcmp(kind, "CERTIFICATE") == 0)
        return CERT_TYPE;
    if (strcmp(kind, "CERTIFICATE REQUEST") == 0)
        return CERTREQ_TYPE;
    if (strcmp(kind, "EC PRIVATE KEY") == 0)
        return ECC_PRIVATEKEY_TYPE;
    return -1;
}

int cmn_ca_to_pem(const uint8_t *der, size_t len, const char *kind, char *ret, size_t retlen)
{
    int type = pem_type(kind), n;

    if (type < 0 || len > UINT32_MAX || retlen < 2 || retlen > UINT32_MAX)
        return CMN_EINVAL;
    n = wc_DerToPem(der, (word32)len, (byte *)ret, (word32)(retlen - 1), type);
    if (n <= 0)
        return n == BUFFER_E ? CMN_ERANGE : CMN_EINVAL;
    ret[n] = '\0';
    return 0;
}

int cmn_ca_from_pem(const char *pem, size_t pem_len, const char *kind, uint8_t *ret_der,
                    size_t *inout_len)
{
    DerBuffer *der = NULL;
    int type = pem_type(kind), rc = CMN_EINVAL;

    if (type < 0 || pem_len > INT32_MAX)
        return CMN_EINVAL;
    if (wc_PemToDer((const unsigned char *)pem, (long)pem_len, type, &der, NULL, NULL, NULL) == 0 &&
        der != NULL) {
        rc = der->length <= *inout_len ? 0 : CMN_ERANGE;
        if (rc == 0) {
            memcpy(ret_der, der->buffer, der->length);
            *inout_len = der->length;
        }
        cmn_wipe(der->buffer, der->length);
    }
    wc_FreeDer(&der);
    return rc;
}

/* ---- raw keys for JOSE (ES256 in cmn_jws.h's forms) ---------------------------------- */

int cmn_ca_key_raw(const uint8_t *der, size_t len, uint8_t ret_priv[32], uint8_t ret_pub[65])
{
    word32 plen = 65, klen = 32;
    ecc_key k;
    int rc = load_key(der, len, &k);

    if (rc != 0)
        return rc;
    rc = wc_ecc_export_private_only(&k, ret_priv, &klen) == 0 && klen == 32 &&
                 wc_ecc_export_x963(&k, ret_pub, &plen) == 0 && plen == 65
             ? 0
             : CMN_ECRYPTO;
    wc_ecc_free(&k);
    cmn_wipe(&k, sizeof(k));
    if (rc != 0)
        cmn_wipe(ret_priv, 32);
    return rc;
}

int cmn_ca_cert_pub(const uint8_t *der, size_t len, uint8_t ret_pub[65])
{
    DecodedCert dc;
    word32 plen = 65;
    ecc_key k;
    int rc;

    if (der == NULL || len == 0 || len > UINT32_MAX)
        return CMN_EINVAL;
    wc_InitDecodedCert(&dc, der, (word32)len, NULL);
    rc = wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0 ? 0 : CMN_EINVAL;
    if (rc == 0 && (rc = decoded_pubkey(&dc, &k)) == 0) {
        rc = wc_ecc_export_x963(&k, ret_pub, &plen) == 0 && plen == 65 ? 0 : CMN_ECRYPTO;
        wc_ecc_free(&k);
    }
    wc_FreeDecodedCert(&dc);
    return rc;
}
