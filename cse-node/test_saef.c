/* The certificate SAEF's set-up (TS-0003 8.2.2.2, cse_saef_setup_pki()): what an
 * operator's [cse] cert_file / key_file / ca_file turn into at start-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cse_saef.h"
#include "tst.h"

static char dir[64], crt[96], key[96], ca[96];
static coap_context_t *ctx;

static void write_pem(const char *path, const uint8_t *der, size_t len, const char *kind)
{
    char pem[CMN_CA_PEM_MAX];
    FILE *f;

    assert_int_equal(cmn_ca_to_pem(der, len, kind, pem, sizeof(pem)), 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
}

/* A tep CA and a certificate for /tep-cse from it, as PEM files in dir. */
static void make_files(void)
{
    uint8_t ca_key[CMN_CA_KEY_DER_MAX], cse_key[CMN_CA_KEY_DER_MAX];
    uint8_t ca_der[CMN_CA_CERT_DER_MAX], csr[CMN_CA_CERT_DER_MAX], der[CMN_CA_CERT_DER_MAX];
    size_t ca_klen = sizeof(ca_key), klen = sizeof(cse_key), ca_len = sizeof(ca_der);
    size_t csr_len = sizeof(csr), len = sizeof(der);
    cmn_ca auth;

    assert_int_equal(cmn_ca_key_new(ca_key, &ca_klen), 0);
    assert_int_equal(
        cmn_ca_make_root(ca_key, ca_klen, "tep CA test", 1700000000, 4000000000, ca_der, &ca_len),
        0);
    assert_int_equal(cmn_ca_key_new(cse_key, &klen), 0);
    assert_int_equal(cmn_ca_make_csr(cse_key, klen, "/tep-cse", csr, &csr_len), 0);
    auth = (cmn_ca){ca_key, ca_klen, ca_der, ca_len};
    assert_int_equal(
        cmn_ca_issue(&auth, csr, csr_len, "/tep-cse", 1700000000, 4000000000, der, &len), 0);
    write_pem(crt, der, len, "CERTIFICATE");
    write_pem(key, cse_key, klen, "EC PRIVATE KEY");
    write_pem(ca, ca_der, ca_len, "CERTIFICATE");
    cmn_wipe(ca_key, sizeof(ca_key));
    cmn_wipe(cse_key, sizeof(cse_key));
}

static int setup(void **state)
{
    (void)state;
    if (tst_tmpdir("cse-saef", dir, sizeof(dir)) != 0)
        return -1;
    snprintf(crt, sizeof(crt), "%s/cse.crt.pem", dir);
    snprintf(key, sizeof(key), "%s/cse.key.pem", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    coap_startup();
    ctx = coap_new_context(NULL);
    return ctx != NULL && cse_saef_setup(ctx, NULL, "tep-cse") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    coap_free_context(ctx);
    return tst_rmtree(dir);
}

static void test_pki_off_when_all_empty(void **state)
{
    (void)state;
    assert_int_equal(cse_saef_setup_pki(ctx, "", "", ""), 0);
}

static void test_incomplete_pki_is_a_config_error(void **state)
{
    (void)state;
    assert_int_equal(cse_saef_setup_pki(ctx, crt, key, ""), CMN_EINVAL);
    assert_int_equal(cse_saef_setup_pki(ctx, "", key, ca), CMN_EINVAL);
}

static void test_missing_files_are_refused(void **state)
{
    (void)state;
    assert_int_equal(
        cse_saef_setup_pki(ctx, "/nonexistent/c.pem", "/nonexistent/k.pem", "/nonexistent/ca.pem"),
        CMN_ECONFIG);
}

static void test_tep_ca_issued_files_are_accepted(void **state)
{
    (void)state;
    make_files();
    assert_int_equal(cse_saef_setup_pki(ctx, crt, key, ca), 0);
}

/* The CSE's certificate must come from the CA it trusts for clients. */
static void test_certificate_from_another_ca_is_refused(void **state)
{
    (void)state;
    assert_int_equal(cse_saef_setup_pki(ctx, crt, key, crt), CMN_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pki_off_when_all_empty),
        cmocka_unit_test(test_incomplete_pki_is_a_config_error),
        cmocka_unit_test(test_missing_files_are_refused),
        cmocka_unit_test(test_tep_ca_issued_files_are_accepted),
        cmocka_unit_test(test_certificate_from_another_ca_is_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
