/* Manufacturer trust anchors and the MEF's certificate files (see enr_trust.h). */
#include "enr_trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define FILE_MAX (64 * 1024) /* an anchor file: a few certificates */

typedef struct {
    uint8_t der[CMN_CA_CERT_DER_MAX];
    size_t len;
    char pem[CMN_CA_PEM_MAX];
} anchor;

/* A manufacturer CRL (OpenSSL: see enr_trust.h) and the anchor that signed it. */
typedef struct {
    X509_CRL *crl;
    size_t anchor;
    int64_t next_update;
} mfr_crl;

struct enr_trust {
    size_t n;
    anchor a[ENR_TRUST_MAX];
    size_t n_crl;
    mfr_crl c[ENR_TRUST_MAX];
};

static int read_file(const char *path, char *buf, size_t cap, size_t *ret_len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return CMN_ENOTFOUND;
    n = fread(buf, 1, cap - 1, f);
    if (!feof(f) && n == cap - 1)
        n = cap; /* too large */
    fclose(f);
    if (n >= cap)
        return CMN_ERANGE;
    buf[n] = '\0';
    *ret_len = n;
    return 0;
}

/* One CA certificate from the PEM block at pem: decoded, a CA, valid at now. */
static int add_anchor(enr_trust *t, const char *pem, size_t len, int64_t now, const char **why)
{
    anchor *a = &t->a[t->n];
    cmn_cert_info info;

    *why = "too many anchors (at most 32)";
    if (t->n == ENR_TRUST_MAX)
        return CMN_ERANGE;
    a->len = sizeof(a->der);
    *why = "not a PEM certificate";
    if (cmn_ca_from_pem(pem, len, "CERTIFICATE", a->der, &a->len) != 0 ||
        cmn_ca_cert_info(a->der, a->len, &info) != 0)
        return CMN_EINVAL;
    *why = "is not a CA certificate";
    if (!info.is_ca)
        return CMN_EINVAL;
    *why = "is not valid now (expired or not yet valid)";
    if (info.not_after <= now || info.not_before > now)
        return CMN_EINVAL;
    *why = "does not re-encode";
    if (cmn_ca_to_pem(a->der, a->len, "CERTIFICATE", a->pem, sizeof(a->pem)) != 0)
        return CMN_EINVAL;
    t->n++;
    return 0;
}

/* Every CERTIFICATE block of the file at path. */
static int load_file(enr_trust *t, const char *path, int64_t now, char *err, size_t errlen)
{
    char *buf = malloc(FILE_MAX);
    const char *p, *why = "not readable";
    size_t len = 0, k = 0;
    int rc = buf != NULL ? read_file(path, buf, FILE_MAX, &len) : CMN_ENOMEM;

    if (rc == CMN_ERANGE)
        why = "larger than 64 KiB";
    for (p = rc == 0 ? strstr(buf, PEM_BEGIN) : NULL; p != NULL && rc == 0;
         p = strstr(p + 1, PEM_BEGIN)) {
        k++;
        rc = add_anchor(t, p, len - (size_t)(p - buf), now, &why);
    }
    if (rc == 0 && k == 0) {
        why = "holds no PEM certificate";
        rc = CMN_EINVAL;
    }
    if (rc != 0 && k > 0)
        snprintf(err, errlen, "%s: certificate %zu %s", path, k, why);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return rc;
}

typedef int (*load_fn)(enr_trust *t, const char *path, int64_t now, char *err, size_t errlen);

/* load on each file of list (separated by spaces, tabs or commas) until one fails:
 * 0, CMN_ENOMEM or CMN_ECONFIG (err says why). */
static int each_file(enr_trust *t, const char *list, load_fn load, int64_t now, char *err,
                     size_t errlen)
{
    char *copy = strdup(list != NULL ? list : ""), *save = NULL;
    int rc = copy != NULL ? 0 : CMN_ENOMEM;

    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    for (char *f = rc == 0 ? strtok_r(copy, " \t,", &save) : NULL; f != NULL && rc == 0;
         f = strtok_r(NULL, " \t,", &save))
        rc = load(t, f, now, err, errlen) != 0 ? CMN_ECONFIG : 0;
    free(copy);
    return rc;
}

int enr_trust_load(const char *list, int64_t now, enr_trust **ret, char *err, size_t errlen)
{
    enr_trust *t = calloc(1, sizeof(*t));
    int rc = t != NULL ? each_file(t, list, load_file, now, err, errlen) : CMN_ENOMEM;

    *ret = NULL;
    if (t == NULL)
        snprintf(err, errlen, "out of memory");
    if (rc != 0) {
        free(t);
        return rc == CMN_ENOMEM ? rc : CMN_ECONFIG;
    }
    *ret = t;
    return 0;
}

void enr_trust_free(enr_trust *t)
{
    for (size_t i = 0; t != NULL && i < t->n_crl; i++)
        X509_CRL_free(t->c[i].crl);
    free(t);
}

size_t enr_trust_count(const enr_trust *t)
{
    return t != NULL ? t->n : 0;
}

int enr_trust_valid_list(const char *v, char *err, size_t errlen)
{
    enr_trust *t = NULL;
    int rc = enr_trust_load(v, (int64_t)time(NULL), &t, err, errlen);

    enr_trust_free(t);
    return rc == 0 ? 0 : CMN_EINVAL;
}

int enr_trust_check(const enr_trust *t, const uint8_t *der, size_t len)
{
    for (size_t i = 0; t != NULL && i < t->n; i++)
        if (cmn_ca_verify(t->a[i].der, t->a[i].len, der, len) == 0)
            return 0;
    return CMN_EDENIED;
}

/* ---- manufacturer CRLs (OpenSSL) ---------------------------------------------------- */

static int64_t asn1_time_unix(const ASN1_TIME *tm)
{
    struct tm t;

    if (tm == NULL || ASN1_TIME_to_tm(tm, &t) != 1)
        return -1;
    return (int64_t)timegm(&t);
}

/* The anchor whose subject is the CRL's issuer and whose key verifies its signature:
 * its index, or t->n when none. */
static size_t crl_anchor(const enr_trust *t, X509_CRL *crl)
{
    for (size_t i = 0; i < t->n; i++) {
        const unsigned char *p = t->a[i].der;
        X509 *ca = d2i_X509(NULL, &p, (long)t->a[i].len);
        int ok = ca != NULL &&
                 X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
                 X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;

        X509_free(ca);
        if (ok)
            return i;
    }
    return t->n;
}

/* One CRL: signed by an anchor of t, current at now (lastUpdate <= now < nextUpdate). */
static int add_crl(enr_trust *t, X509_CRL *crl, int64_t now, const char **why)
{
    mfr_crl *m = &t->c[t->n_crl];
    int64_t last = asn1_time_unix(X509_CRL_get0_lastUpdate(crl));

    *why = "too many CRLs (at most 32)";
    if (t->n_crl == ENR_TRUST_MAX)
        return CMN_ERANGE;
    *why = "is not signed by a manufacturer trust anchor (mfr_trust_anchors)";
    if ((m->anchor = crl_anchor(t, crl)) == t->n)
        return CMN_EDENIED;
    *why = "has no nextUpdate";
    if ((m->next_update = asn1_time_unix(X509_CRL_get0_nextUpdate(crl))) < 0)
        return CMN_EINVAL;
    *why = "has expired (nextUpdate passed)";
    if (m->next_update <= now)
        return CMN_EEXPIRED;
    *why = "is not valid yet (lastUpdate in the future)";
    if (last < 0 || last > now)
        return CMN_EINVAL;
    m->crl = crl;
    t->n_crl++;
    return 0;
}

/* Every X509 CRL block of the file at path. */
static int load_crl_file(enr_trust *t, const char *path, int64_t now, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(path, "r");
    const char *why = "not readable";
    X509_CRL *crl;
    size_t k = 0;
    int rc = b != NULL ? 0 : CMN_ENOTFOUND;

    ERR_clear_error();
    while (rc == 0 && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
        k++;
        if ((rc = add_crl(t, crl, now, &why)) != 0)
            X509_CRL_free(crl);
    }
    if (rc == 0 && k == 0) {
        why = "holds no PEM CRL (-----BEGIN X509 CRL-----)";
        rc = CMN_EINVAL;
    }
    /* a block that does not decode ends the loop with an error queued: refuse the file */
    if (rc == 0 && ERR_peek_last_error() != 0 &&
        ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
        why = "does not decode";
        rc = CMN_EINVAL;
        k++;
    }
    ERR_clear_error();
    BIO_free(b);
    if (rc != 0 && k > 0)
        snprintf(err, errlen, "%s: CRL %zu %s", path, k, why);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

int enr_trust_load_crls(enr_trust *t, const char *list, int64_t now, char *err, size_t errlen)
{
    return each_file(t, list, load_crl_file, now, err, errlen);
}

size_t enr_trust_crl_count(const enr_trust *t)
{
    return t != NULL ? t->n_crl : 0;
}

int enr_trust_revoked(const enr_trust *t, const uint8_t *der, size_t len, int64_t now)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int rc = x != NULL ? 0 : CMN_EINVAL;

    for (size_t i = 0; rc == 0 && t != NULL && i < t->n_crl; i++) {
        const anchor *a = &t->a[t->c[i].anchor];
        X509_REVOKED *rev = NULL;

        if (cmn_ca_verify(a->der, a->len, der, len) != 0)
            continue; /* another issuer's CRL */
        if (t->c[i].next_update <= now)
            rc = CMN_EEXPIRED; /* stale: the status is unknown, fail closed */
        else if (X509_CRL_get0_by_serial(t->c[i].crl, &rev,
                                         (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1)
            rc = CMN_EDENIED;
    }
    X509_free(x);
    return rc;
}

/* The tep CA's PEM, then each anchor's. Owned by the caller (free()). */
static char *bundle(const enr_trust *t, const enr_ca *ca)
{
    size_t cap = strlen(enr_ca_pem(ca)) + 1;
    char *b;

    for (size_t i = 0; i < enr_trust_count(t); i++)
        cap += strlen(t->a[i].pem);
    if ((b = malloc(cap)) == NULL)
        return NULL;
    strcpy(b, enr_ca_pem(ca));
    for (size_t i = 0; i < enr_trust_count(t); i++)
        strcat(b, t->a[i].pem);
    return b;
}

static int set_path(char *buf, const char *dir, const char *name)
{
    return (size_t)snprintf(buf, ENR_TRUST_PATH_MAX, "%s/%s", dir, name) >= ENR_TRUST_PATH_MAX
               ? CMN_ERANGE
               : 0;
}

int enr_trust_write(const enr_trust *t, enr_ca *ca, const char *data_dir, const char *mef_fqdn,
                    int64_t now, enr_trust_files *ret)
{
    char crt[CMN_CA_PEM_MAX], key[CMN_CA_PEM_MAX], *anchors = NULL;
    int rc = set_path(ret->cert_file, data_dir, "mef.crt.pem");

    if (rc == 0)
        rc = set_path(ret->key_file, data_dir, "mef.key.pem");
    if (rc == 0)
        rc = set_path(ret->ca_file, data_dir, "mef-trust.pem");
    if (rc == 0)
        rc = enr_ca_issue_server(ca, mef_fqdn, now, crt, key);
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->key_file, key, strlen(key), 0600, 0);
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->cert_file, crt, strlen(crt), 0644, 0);
    if (rc == 0 && (anchors = bundle(t, ca)) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->ca_file, anchors, strlen(anchors), 0644, 0);
    free(anchors);
    cmn_wipe(key, sizeof(key));
    return rc;
}
