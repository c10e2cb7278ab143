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
    assert_int_equal(cmn_ca_make_root(ca->key, ca->key_len, name, now, not_after, ca->cert,
                                      &ca->cert_len), 0);
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
                                  clen, id, now, now + 3600, der, len), 0);
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

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&globex, "globex", now, now + 86400);
    make_ca(&rogue, "rogue", now, now + 86400);
    /* two CAs in one file, a third file with one */
    const uint8_t *two[] = {acme.cert, globex.cert};
    const size_t two_len[] = {acme.cert_len, globex.cert_len};
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

    (void)state;
    make_ca(&acme, "acme", now, now + 86400);
    make_ca(&old, "old", now - 7200, now - 10);
    make_leaf(&acme, "meter7", leaf, &leaf_len);
    const uint8_t *mixed[] = {acme.cert, leaf};
    const size_t mixed_len[] = {acme.cert_len, leaf_len};
    p = write_pems("mixed.pem", mixed, mixed_len, 2);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_null(t);
    assert_non_null(strstr(err, "mixed.pem: certificate 2 is not a CA certificate"));

    const uint8_t *expired[] = {old.cert};
    const size_t expired_len[] = {old.cert_len};
    p = write_pems("old.pem", expired, expired_len, 1);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "old.pem: certificate 1 is not valid now"));

    p = write_pems("empty.pem", NULL, NULL, 0);
    assert_int_equal(enr_trust_load(p, now, &t, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "empty.pem: holds no PEM certificate"));

    assert_int_equal(enr_trust_load("/nonexistent/x.pem", now, &t, err, sizeof(err)),
                     CMN_ECONFIG);
    assert_string_equal(err, "/nonexistent/x.pem: not readable");
    /* the configuration validator says the same */
    assert_int_equal(enr_trust_valid_list("/nonexistent/x.pem", err, sizeof(err)), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_anchors_and_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lists_name_the_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
