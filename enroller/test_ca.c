/* enr_ca: the CA survives a restart, a certificate is issued only for the session's own
 * enrolment identity, never outlives the enrolment, and is recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "enr_ca.h"
#include "enr_db.h"
#include "tst.h"

#define KE_ID "00112233445566778899aabbccddeeff@mef.tep.local"

static char dir[64];
static const uint8_t ke[CMN_KEY_LEN] = {1, 2, 3};

typedef struct {
    cmn_store *s;
    enr_ca *ca;
    int64_t now, expires;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof(*f));
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x42};
    enr_enrol_result r;

    f->now = time(NULL);
    f->expires = f->now + 3 * 86400;
    snprintf(dir, sizeof(dir), "/tmp/tep-test-ca-XXXXXX");
    if (mkdtemp(dir) == NULL || enr_db_open(dir, &f->s) != 0)
        return -1;
    e.kpm_id = "device01";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "Cdevice01";
    e.expires = f->expires;
    if (enr_db_enrolee_add(f->s, &e) != 0 ||
        enr_db_enrol(f->s, &(enr_enrol_input){"device01", KE_ID, ke, "/tep-cse", "maf", f->now},
                     &r) != 0 ||
        enr_ca_open(f->s, dir, "mef.tep.local", f->now, &f->ca) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    enr_ca_free(f->ca);
    cmn_store_close(f->s);
    test_free(f);
    return tst_rmtree(dir);
}

static size_t make_csr(const char *id, uint8_t *csr)
{
    uint8_t key[CMN_CA_KEY_DER_MAX];
    size_t klen = sizeof(key), clen = CMN_CA_CERT_DER_MAX;

    assert_int_equal(cmn_ca_key_new(key, &klen), 0);
    assert_int_equal(cmn_ca_make_csr(key, klen, id, csr, &clen), 0);
    return clen;
}

static int issue(fixture *f, const char *id, int64_t now, Tep__IssuedCert **ret, const char **why)
{
    uint8_t csr[CMN_CA_CERT_DER_MAX];
    size_t len = make_csr(id, csr);

    return enr_ca_issue(f->ca, f->s, &(enr_cert_input){"device01", KE_ID, csr, len, now, 0}, ret,
                        why);
}

static int count_one(const Tep__IssuedCert *c, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_issue_own_identity(void **state)
{
    fixture *f = *state;
    Tep__IssuedCert *c = NULL;
    const char *why = NULL;
    uint8_t root[CMN_CA_CERT_DER_MAX];
    size_t rlen = sizeof(root);
    int n = 0;

    assert_int_equal(issue(f, "Cdevice01", f->now, &c, &why), 0);
    assert_null(why);
    assert_string_equal(c->enrolee_id, "Cdevice01");
    assert_string_equal(c->ke_id, KE_ID);
    assert_int_equal(c->not_after, f->expires); /* bounded by the enrolment expiry */
    assert_int_equal(
        cmn_ca_from_pem(enr_ca_pem(f->ca), strlen(enr_ca_pem(f->ca)), "CERTIFICATE", root, &rlen),
        0);
    assert_int_equal(cmn_ca_verify(root, rlen, c->der.data, c->der.len), 0);
    tep__issued_cert__free_unpacked(c, NULL);
    assert_int_equal(enr_ca_foreach(f->s, count_one, &n), 0);
    assert_int_equal(n, 1);
}

/* [enroller] cert_lifetime_s: now + lifetime when the enrolment lasts longer, the
 * enrolment's end otherwise; 0 or beyond a year: the year */
static void test_cert_lifetime(void **state)
{
    fixture *f = *state;
    Tep__IssuedCert *c = NULL;
    const char *why = NULL;
    uint8_t csr[CMN_CA_CERT_DER_MAX];
    size_t len = make_csr("Cdevice01", csr);

    assert_true(f->expires - f->now > 120);
    assert_int_equal(enr_ca_issue(f->ca, f->s,
                                  &(enr_cert_input){"device01", KE_ID, csr, len, f->now, 120}, &c,
                                  &why),
                     0);
    assert_int_equal(c->not_after, f->now + 120);
    tep__issued_cert__free_unpacked(c, NULL);
    c = NULL;
    assert_int_equal(enr_ca_issue(f->ca, f->s,
                                  &(enr_cert_input){"device01", KE_ID, csr, len, f->now,
                                                    f->expires - f->now + 1000},
                                  &c, &why),
                     0);
    assert_int_equal(c->not_after, f->expires);
    tep__issued_cert__free_unpacked(c, NULL);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    Tep__IssuedCert *c = NULL;
    const char *why = NULL;
    enr_events ev;
    int n = 0;

    assert_int_equal(issue(f, "Cdevice02", f->now, &c, &why), CMN_EDENIED);
    assert_string_equal(why, "wrong_identity");
    assert_int_equal(issue(f, "Cdevice01", f->expires, &c, &why), CMN_EEXPIRED);
    assert_int_equal(enr_ca_issue(f->ca, f->s,
                                  &(enr_cert_input){"device01", "ff@mef.tep.local",
                                                    (const uint8_t *)"x", 1, f->now, 0},
                                  &c, &why),
                     CMN_EINVAL);
    assert_int_equal(enr_db_enrolee_revoke(f->s, "device01", &ev), 0);
    assert_int_equal(issue(f, "Cdevice01", f->now, &c, &why), CMN_EDENIED);
    assert_string_equal(why, "revoked");
    assert_null(c);
    assert_int_equal(enr_ca_foreach(f->s, count_one, &n), 0);
    assert_int_equal(n, 0); /* nothing recorded for a refusal */
}

static void test_ca_survives_restart(void **state)
{
    fixture *f = *state;
    enr_ca *again = NULL;
    char path[128];

    assert_int_equal(enr_ca_open(f->s, dir, "mef.tep.local", f->now + 100, &again), 0);
    assert_string_equal(enr_ca_pem(again), enr_ca_pem(f->ca));
    enr_ca_free(again);
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    assert_int_equal(access(path, R_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_own_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_survives_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
