/* enr_trust: manufacturer trust anchors of the certificate-based RSPF (TS-0003 8.3.2.2):
 * what a list may hold, the errors that name the file, and which certificates pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "enr_trust.h"
#include "tst.h"

static char dir[64];

typedef struct {
    uint8_t key[CMN_CA_KEY_DER_MAX], cert[CMN_CA_CERT_DER_MAX];
    size_t key_len, cert_len;
} ca_pair;

static void make_ca(ca_pair *ca, const char *name, int64_t now, int64_t not_after)
{
    ca->key_len = sizeof(ca->key);
    ca->cert_len = sizeof(ca->cert);
    assert_int_equal(cmn_ca_key_new(ca->key, &ca->key_len), 0);
    assert_int_equal(
        cmn_ca_make_root(ca->key, ca->key_len, name, now, not_after, ca->cert, &ca->cert_len), 0);
}

/* A device certificate issued by ca (DER into der, *len). */
static void make_leaf(const ca_pair *ca, const char *id, uint8_t *der, size_t *len)
{
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX];
    size_t klen = sizeof(key), clen = sizeof(csr);
    int64_t now = time(NULL);

    assert_int_equal(cmn_ca_key_new(key, &klen), 0);
    assert_int_equal(cmn_ca_make_csr(key, klen, id, csr, &clen), 0);
    *len = CMN_CA_CERT_DER_MAX;
    assert_int_equal(cmn_ca_issue(&(cmn_ca){ca->key, ca->key_len, ca->cert, ca->cert_len}, csr,
                                  clen, id, now, now + 3600, der, len),
                     0);
}

/* Writes the PEM of each DER certificate into dir/name; returns the path (static). */
static const char *write_pems(const char *name, const uint8_t *const *der, const size_t *len,
                              size_t n)
{
    static char path[128];
    char pem[CMN_CA_PEM_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cmn_ca_to_pem(der[i], len[i], "CERTIFICATE", pem, sizeof(pem)), 0);
        fputs(pem, f);
    }
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    return tst_tmpdir("trust", dir, sizeof(dir));
}

static int teardown(void **state)
{
    (void)state;
    return tst_rmtree(dir);
}

static void test_anchors_and_check(void **state)
{
    ca_pair acme, globex, rogue;
    uint8_t leaf[CMN_CA_CERT_DER_MAX];
    size_t leaf_len;
    int64_t now = time(NULL);
    char list[300], err[512];
    enr_trust *t = NULL;
    const uint8_t *two[2];
    size_t two_len[2];

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&globex, "globex", now, now + 86400);
    make_ca(&rogue, "rogue", now, now + 86400);
    /* two CAs in one file, a third file with one */
    two[0] = acme.cert;
    two[1] = globex.cert;
    two_len[0] = acme.cert_len;
    two_len[1] = globex.cert_len;
    snprintf(list, sizeof(list), "%s", write_pems("two.pem", two, two_len, 2));
    assert_int_equal(enr_trust_load(list, now, &t, err, sizeof(err)), 0);
    assert_int_equal(enr_trust_count(t), 2);
    make_leaf(&globex, "urn:dev:globex:valve3", leaf, &leaf_len);
    assert_int_equal(enr_trust_check(t, leaf, leaf_len), 0); /* the second of the file */
    make_leaf(&rogue, "urn:dev:acme:meter7", leaf, &leaf_len);
    assert_int_equal(enr_trust_check(t, leaf, leaf_len), CMN_EDENIED);
    enr_trust_free(t);

    /* an empty list: no manufacturer anchor, nothing passes */
    assert_int_equal(enr_trust_load("", now, &t, err, sizeof(err)), 0);
    assert_int_equal(enr_trust_count(t), 0);
    assert_int_equal(enr_trust_check(t, leaf, leaf_len), CMN_EDENIED);
    enr_trust_free(t);
}

static void test_bad_lists_name_the_file(void **state)
{
    ca_pair acme, old;
    uint8_t leaf[CMN_CA_CERT_DER_MAX];
    size_t leaf_len;
    int64_t now = time(NULL);
    char err[512];
    enr_trust *t = NULL;
    const char *p;
    const uint8_t *mixed[2], *expired[1];
    size_t mixed_len[2], expired_len[1];

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&old, "old", now - 7200, now - 10);
    make_leaf(&acme, "meter7", leaf, &leaf_len);
    mixed[0] = acme.cert;
    mixed[1] = leaf;
    mixed_len[0] = acme.cert_len;
    mixed_len[1] = leaf_len;
    p = write_pems("mixed.pem", mixed, mixed_len, 2);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_null(t);
    assert_non_null(strstr(err, "mixed.pem: certificate 2 is not a CA certificate"));

    expired[0] = old.cert;
    expired_len[0] = old.cert_len;
    p = write_pems("old.pem", expired, expired_len, 1);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "old.pem: certificate 1 is not valid now"));

    p = write_pems("empty.pem", NULL, NULL, 0);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "empty.pem: holds no PEM certificate"));

    assert_int_equal(enr_trust_load("/nonexistent/x.pem", now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_string_equal(err, "/nonexistent/x.pem: not readable");
    /* the configuration validator says the same */
    assert_int_equal(enr_trust_valid_list("/nonexistent/x.pem", err, sizeof(err)), CMN_EINVAL);
}

/* Writes dir/name: a CRL signed by signer's key, issuer the subject of issuer's
 * certificate, lastUpdate now - 60, nextUpdate next, revoking each certificate of
 * revoked (DER). Returns the path (static). */
static const char *write_crl(const char *name, const ca_pair *signer, const ca_pair *issuer,
                             int64_t now, int64_t next, const uint8_t *const *revoked,
                             const size_t *revoked_len, size_t n)
{
    static char path[128];
    const unsigned char *p = issuer->cert;
    X509 *ca = d2i_X509(NULL, &p, (long)issuer->cert_len);
    EVP_PKEY *key;
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = ASN1_TIME_set(NULL, (time_t)(now - 60));
    ASN1_TIME *nu = ASN1_TIME_set(NULL, (time_t)next);
    FILE *f;

    p = signer->key;
    key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)signer->key_len);
    assert_non_null(ca);
    assert_non_null(key);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, last), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, nu), 1);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *q = revoked[i];
        X509 *x = d2i_X509(NULL, &q, (long)revoked_len[i]);
        X509_REVOKED *r = X509_REVOKED_new();

        assert_non_null(x);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(x)), 1);
        assert_int_equal(X509_REVOKED_set_revocationDate(r, last), 1);
        assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
        X509_free(x);
    }
    assert_int_equal(X509_CRL_sort(crl), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
    fclose(f);
    ASN1_TIME_free(last);
    ASN1_TIME_free(nu);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
    X509_free(ca);
    return path;
}

/* mfr_crls: a listed serial is refused, another serial of the same CA and a device of
 * another CA pass; a CRL past nextUpdate at a handshake fails closed. */
static void test_crl_revokes_listed_serial(void **state)
{
    ca_pair acme, globex;
    uint8_t bad[CMN_CA_CERT_DER_MAX], good[CMN_CA_CERT_DER_MAX], other[CMN_CA_CERT_DER_MAX];
    size_t bad_len, good_len, other_len;
    int64_t now = time(NULL);
    char anchors[300], err[512];
    enr_trust *t = NULL;
    const uint8_t *two[2], *rev[1];
    size_t two_len[2], rev_len[1];
    const char *crl;

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&globex, "globex", now, now + 86400);
    two[0] = acme.cert;
    two[1] = globex.cert;
    two_len[0] = acme.cert_len;
    two_len[1] = globex.cert_len;
    snprintf(anchors, sizeof(anchors), "%s", write_pems("two.pem", two, two_len, 2));
    make_leaf(&acme, "urn:dev:acme:meter7", bad, &bad_len);
    make_leaf(&acme, "urn:dev:acme:meter8", good, &good_len);
    make_leaf(&globex, "urn:dev:globex:valve3", other, &other_len);
    rev[0] = bad;
    rev_len[0] = bad_len;
    crl = write_crl("acme.crl", &acme, &acme, now, now + 3600, rev, rev_len, 1);

    assert_int_equal(enr_trust_load(anchors, now, &t, err, sizeof(err)), 0);
    assert_int_equal(enr_trust_revoked(t, bad, bad_len, now), 0); /* no CRL yet */
    assert_int_equal(enr_trust_load_crls(t, crl, now, err, sizeof(err)), 0);
    assert_int_equal(enr_trust_crl_count(t), 1);
    assert_int_equal(enr_trust_check(t, bad, bad_len), 0); /* still a chain to an anchor */
    assert_int_equal(enr_trust_revoked(t, bad, bad_len, now), CMN_EDENIED);
    assert_int_equal(enr_trust_revoked(t, good, good_len, now), 0);
    assert_int_equal(enr_trust_revoked(t, other, other_len, now), 0);
    /* the CRL outlived: acme's devices fail closed, globex's are not concerned */
    assert_int_equal(enr_trust_revoked(t, good, good_len, now + 7200), CMN_EEXPIRED);
    assert_int_equal(enr_trust_revoked(t, other, other_len, now + 7200), 0);
    assert_int_equal(enr_trust_revoked(t, (const uint8_t *)"junk", 4, now), CMN_EINVAL);
    enr_trust_free(t);
}

static void test_bad_crls_name_the_file(void **state)
{
    ca_pair acme, rogue;
    uint8_t leaf[CMN_CA_CERT_DER_MAX];
    size_t leaf_len;
    int64_t now = time(NULL);
    char anchors[300], err[512];
    enr_trust *t = NULL;
    const char *p;
    const uint8_t *one[1], *rev[1];
    size_t one_len[1], rev_len[1];

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&rogue, "rogue", now, now + 86400);
    one[0] = acme.cert;
    one_len[0] = acme.cert_len;
    snprintf(anchors, sizeof(anchors), "%s", write_pems("acme.pem", one, one_len, 1));
    make_leaf(&acme, "meter7", leaf, &leaf_len);
    rev[0] = leaf;
    rev_len[0] = leaf_len;
    assert_int_equal(enr_trust_load(anchors, now, &t, err, sizeof(err)), 0);

    /* another CA's CRL (not an anchor) */
    p = write_crl("rogue.crl", &rogue, &rogue, now, now + 3600, rev, rev_len, 1);
    assert_int_equal(enr_trust_load_crls(t, p, now, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "rogue.crl: CRL 1 is not signed by a manufacturer trust anchor"));
    /* acme's name, rogue's signature */
    p = write_crl("forged.crl", &rogue, &acme, now, now + 3600, rev, rev_len, 1);
    assert_int_equal(enr_trust_load_crls(t, p, now, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "forged.crl: CRL 1 is not signed by a manufacturer trust anchor"));
    /* expired */
    p = write_crl("old.crl", &acme, &acme, now - 7200, now - 10, rev, rev_len, 1);
    assert_int_equal(enr_trust_load_crls(t, p, now, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "old.crl: CRL 1 has expired"));
    /* a good CRL, then a block whose base64 is broken: the file is refused */
    p = write_crl("garbled.crl", &acme, &acme, now, now + 3600, rev, rev_len, 1);
    {
        FILE *f = fopen(p, "a");

        assert_non_null(f);
        fputs("-----BEGIN X509 CRL-----\nMIIB!!!not*base64\n-----END X509 CRL-----\n", f);
        fclose(f);
    }
    assert_int_equal(enr_trust_load_crls(t, p, now, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "garbled.crl: CRL 2 does not decode"));
    enr_trust_free(t);
    assert_int_equal(enr_trust_load(anchors, now, &t, err, sizeof(err)), 0);
    /* a certificate file is no CRL; a missing file */
    assert_int_equal(enr_trust_load_crls(t, anchors, now, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "acme.pem: holds no PEM CRL"));
    assert_int_equal(enr_trust_load_crls(t, "/nonexistent/x.crl", now, err, sizeof(err)),
                     CMN_ECONFIG);
    assert_string_equal(err, "/nonexistent/x.crl: not readable");
    assert_int_equal(enr_trust_crl_count(t), 0);
    assert_int_equal(enr_trust_revoked(t, leaf, leaf_len, now), 0);
    enr_trust_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_anchors_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lists_name_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_revokes_listed_serial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_crls_name_the_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
