/* tep-authz's STATUS answer, as tepctl shows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "authz_admin.h"
#include "cmn_err.h"

static const char *value_of(const Tep__AdminResponse *r, const char *key)
{
    for (size_t i = 0; i < r->n_status; i++) {
        if (strcmp(r->status[i]->key, key) == 0)
            return r->status[i]->value;
    }
    return NULL;
}

static void test_status(void **state)
{
    Tep__AdminRequest rq = TEP__ADMIN_REQUEST__INIT;
    authz_stats st = {.decisions = 12,
                      .denials = 5,
                      .audit_seq = 40,
                      .last_seq = 7,
                      .credentials = 3,
                      .maf_keys = 2};
    authz_admin_reply r;

    rq.op = TEP__ADMIN_REQUEST__OP__STATUS;
    authz_admin_answer(&rq, &st, &r);
    assert_int_equal(r.resp.err, 0);
    assert_string_equal(value_of(&r.resp, "role"), "authz");
    assert_non_null(value_of(&r.resp, "version"));
    assert_string_equal(value_of(&r.resp, "ready"), "true");
    assert_string_equal(value_of(&r.resp, "decisions"), "12");
    assert_string_equal(value_of(&r.resp, "denials"), "5");
    assert_string_equal(value_of(&r.resp, "audit_seq"), "40");
    assert_string_equal(value_of(&r.resp, "last_seq"), "7");
    assert_string_equal(value_of(&r.resp, "credentials"), "3");
    assert_string_equal(value_of(&r.resp, "maf_keys"), "2");
    /* packs: every pointer is valid */
    assert_true(tep__admin_response__get_packed_size(&r.resp) > 0);
}

static void test_other_ops_refused(void **state)
{
    Tep__AdminRequest rq = TEP__ADMIN_REQUEST__INIT;
    authz_stats st = {0};
    authz_admin_reply r;

    rq.op = TEP__ADMIN_REQUEST__OP__ENROLEE_ADD;
    authz_admin_answer(&rq, &st, &r);
    assert_int_equal(r.resp.err, CMN_EINVAL);
    assert_int_equal(r.resp.n_status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_other_ops_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
