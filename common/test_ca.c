/* The tep CA: identifier format (KAT), CSR proof of possession and identity, issuing,
 * and a cross-check of what wolfCrypt issued with OpenSSL (a library nobody here wrote). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cmn_ca.h"
#include "cmn_err.h"

#define NOW 1795000000 /* 2026-11-18 */
#define YEAR (365 * 86400)

typedef struct {
    uint8_t ca_key[CMN_CA_KEY_DER_MAX], ca_cert[CMN_CA_CERT_DER_MAX];
    size_t ca_key_len, ca_cert_len;
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX];
    size_t key_len, csr_len;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof(*f));

    f->ca_key_len = f->key_len = CMN_CA_KEY_DER_MAX;
    f->ca_cert_len = f->csr_len = CMN_CA_CERT_DER_MAX;
    assert_int_equal(cmn_ca_key_new(f->ca_key, &f->ca_key_len), 0);
    assert_int_equal(cmn_ca_make_root(f->ca_key, f->ca_key_len, "tep CA", NOW, NOW + 10 * YEAR,
                                      f->ca_cert, &f->ca_cert_len),
                     0);
    assert_int_equal(cmn_ca_key_new(f->key, &f->key_len), 0);
    assert_int_equal(cmn_ca_make_csr(f->key, f->key_len, "Cdevice01", f->csr, &f->csr_len), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void test_san_uri_format(void **state)
{
    char uri[300];

    (void)state;
    assert_int_equal(cmn_ca_san_uri("Cdevice01", uri, sizeof(uri)), 0);
    assert_string_equal(uri, "onem2m:Cdevice01");
    assert_int_equal(cmn_ca_san_uri("/tep-cse", uri, sizeof(uri)), 0);
    assert_string_equal(uri, "onem2m:/tep-cse");
    assert_int_equal(cmn_ca_san_uri("a b", uri, sizeof(uri)), CMN_EINVAL);
    assert_int_equal(cmn_ca_san_uri("", uri, sizeof(uri)), CMN_EINVAL);
    assert_int_equal(cmn_ca_san_uri("Cdevice01", uri, 8), CMN_ERANGE);
}

static void test_root_is_ca(void **state)
{
    fixture *f = *state;
    cmn_cert_info info;

    assert_int_equal(cmn_ca_cert_info(f->ca_cert, f->ca_cert_len, &info), 0);
    assert_true(info.is_ca);
    assert_string_equal(info.subject_cn, "tep CA");
    assert_int_equal(info.not_before, NOW - 3600);
    assert_int_equal(info.not_after, NOW + 10 * YEAR);
    assert_int_equal(strlen(info.serial), 32);
}

static void test_csr_names_its_identity(void **state)
{
    fixture *f = *state;
    char id[CMN_CA_ID_MAX];

    assert_int_equal(cmn_ca_csr_id(f->csr, f->csr_len, id, sizeof(id)), 0);
    assert_string_equal(id, "Cdevice01");
}

static void test_tampered_csr_refused(void **state)
{
    fixture *f = *state;
    char id[CMN_CA_ID_MAX];
    uint8_t bad[CMN_CA_CERT_DER_MAX];
    char *at;

    memcpy(bad, f->csr, f->csr_len);
    /* Change the identity in the signed part: the signature no longer holds. */
    at = memmem(bad, f->csr_len, "Cdevice01", 9);
    assert_non_null(at);
    at[8] = '2';
    assert_int_not_equal(cmn_ca_csr_id(bad, f->csr_len, id, sizeof(id)), 0);
    assert_int_equal(cmn_ca_csr_id((const uint8_t *)"junk", 4, id, sizeof(id)), CMN_EINVAL);
}

static void test_issue_and_read_back(void **state)
{
    fixture *f = *state;
    cmn_ca ca = {f->ca_key, f->ca_key_len, f->ca_cert, f->ca_cert_len};
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(cert);
    cmn_cert_info info;

    int64_t now = (int64_t)time(NULL); /* verification uses the real clock */

    assert_int_equal(
        cmn_ca_issue(&ca, f->csr, f->csr_len, "Cdevice01", now, now + 86400, cert, &len), 0);
    assert_int_equal(cmn_ca_cert_info(cert, len, &info), 0);
    assert_false(info.is_ca);
    assert_string_equal(info.subject_cn, "Cdevice01");
    assert_string_equal(info.san_uri, "onem2m:Cdevice01");
    assert_int_equal(info.not_after, now + 86400); /* bounded by the enrolment expiry */
    assert_int_equal(cmn_ca_verify(f->ca_cert, f->ca_cert_len, cert, len), 0);
    /* a leaf is no trust anchor for the CA certificate */
    assert_int_equal(cmn_ca_verify(cert, len, f->ca_cert, f->ca_cert_len) == 0, 0);
}

static void test_expired_bound_refused(void **state)
{
    fixture *f = *state;
    cmn_ca ca = {f->ca_key, f->ca_key_len, f->ca_cert, f->ca_cert_len};
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(cert);

    assert_int_equal(cmn_ca_issue(&ca, f->csr, f->csr_len, "Cdevice01", NOW, NOW, cert, &len),
                     CMN_EEXPIRED);
}

/* A certificate bound to its enrolment: the serial carries the KeID's first 64 bits
 * under the CA's signature; another KeID, an unbound serial and a bad KeID do not bind. */
static void test_issue_bound_to_enrolment(void **state)
{
    fixture *f = *state;
    cmn_ca ca = {f->ca_key, f->ca_key_len, f->ca_cert, f->ca_cert_len};
    const char *ke_id = "0011223344556677f8f9fafbfcfdfeff@mef.tep.local";
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(cert);
    cmn_cert_info info;

    assert_int_equal(cmn_ca_issue_bound(&ca, f->csr, f->csr_len, "Cdevice01", ke_id, NOW,
                                        NOW + 86400, cert, &len),
                     0);
    assert_int_equal(cmn_ca_cert_info(cert, len, &info), 0);
    assert_int_equal(strlen(info.serial), 32);
    assert_memory_equal(info.serial, "5e0011223344556677", 18);
    assert_true(cmn_ca_serial_bound_to(info.serial, ke_id));
    assert_false(cmn_ca_serial_bound_to(info.serial, "0011223344556678f8f9@mef.tep.local"));
    assert_false(cmn_ca_serial_bound_to(info.serial, "aa@mef.tep.local"));
    assert_false(cmn_ca_serial_bound_to(info.serial, NULL));
    len = sizeof(cert);
    assert_int_equal(
        cmn_ca_issue(&ca, f->csr, f->csr_len, "Cdevice01", NOW, NOW + 86400, cert, &len), 0);
    assert_int_equal(cmn_ca_cert_info(cert, len, &info), 0);
    assert_false(cmn_ca_serial_bound_to(info.serial, ke_id));
    len = sizeof(cert);
    assert_int_equal(cmn_ca_issue_bound(&ca, f->csr, f->csr_len, "Cdevice01", "aa@mef", NOW,
                                        NOW + 86400, cert, &len),
                     CMN_EINVAL);
}

/* OpenSSL parses what wolfCrypt issued, checks the CA's signature and finds the SAN. */
static void test_openssl_accepts_issued(void **state)
{
    fixture *f = *state;
    cmn_ca ca = {f->ca_key, f->ca_key_len, f->ca_cert, f->ca_cert_len};
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(cert);
    const unsigned char *p = cert, *q = f->ca_cert;
    X509 *x, *cax;
    GENERAL_NAMES *names;
    const GENERAL_NAME *gn;

    assert_int_equal(
        cmn_ca_issue(&ca, f->csr, f->csr_len, "Cdevice01", NOW, NOW + 86400, cert, &len), 0);
    x = d2i_X509(NULL, &p, (long)len);
    cax = d2i_X509(NULL, &q, (long)f->ca_cert_len);
    assert_non_null(x);
    assert_non_null(cax);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);
    assert_int_equal(X509_verify(cax, X509_get0_pubkey(cax)), 1);
    assert_int_equal(X509_check_ca(cax) > 0, 1);
    names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(names);
    assert_int_equal(sk_GENERAL_NAME_num(names), 1);
    gn = sk_GENERAL_NAME_value(names, 0);
    assert_int_equal(gn->type, GEN_URI);
    assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                        "onem2m:Cdevice01");
    GENERAL_NAMES_free(names);
    X509_free(x);
    X509_free(cax);
}

static void test_pem_round_trip(void **state)
{
    fixture *f = *state;
    char pem[CMN_CA_PEM_MAX];
    uint8_t der[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(der);

    assert_int_equal(cmn_ca_to_pem(f->csr, f->csr_len, "CERTIFICATE REQUEST", pem, sizeof(pem)), 0);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----"));
    assert_int_equal(cmn_ca_from_pem(pem, strlen(pem), "CERTIFICATE REQUEST", der, &len), 0);
    assert_int_equal(len, f->csr_len);
    assert_memory_equal(der, f->csr, len);
    len = sizeof(der);
    assert_int_equal(cmn_ca_to_pem(f->key, f->key_len, "EC PRIVATE KEY", pem, sizeof(pem)), 0);
    assert_int_equal(cmn_ca_from_pem(pem, strlen(pem), "EC PRIVATE KEY", der, &len), 0);
    assert_memory_equal(der, f->key, f->key_len);
    assert_int_equal(cmn_ca_from_pem(pem, strlen(pem), "CERTIFICATE", der, &len) == 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_san_uri_format),
        cmocka_unit_test_setup_teardown(test_root_is_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csr_names_its_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_csr_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_bound_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_bound_to_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openssl_accepts_issued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pem_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
