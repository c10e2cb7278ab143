/* From binding (TS-0003 7.2.1), one row per rule of docs/internals.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmn_onem2m.h"
#include "cse_binding.h"

typedef struct {
    const char *name;
    bool secure;
    const char *bound, *from;
    bool ae_create, enrolled;
    bool bound_admin;       /* the session used the admin credential */
    unsigned rsc;           /* expected */
    const char *originator; /* expected when rsc == 0 */
    bool authn, admin;
} row;

static const row rows[] = {
    {"coaps from equals bound", true, "Cdev1", "Cdev1", false, false, false, 0, "Cdev1", true,
     false},
    {"coaps from differs", true, "Cdev1", "Cdev2", false, false, false, 4106, NULL, true, false},
    {"coaps ae create, no from", true, "Cdev1", NULL, true, false, false, 0, "Cdev1", true, false},
    {"coaps ae create, from C", true, "Cdev1", "C", true, false, false, 0, "Cdev1", true, false},
    {"coaps ae create, other AE-ID", true, "Cdev1", "Cdev2", true, false, false, 4106, NULL, true,
     false},
    {"coaps no from, not ae create", true, "Cdev1", NULL, false, false, false, 4000, NULL, true,
     false},
    {"coaps C, not ae create", true, "Cdev1", "C", false, false, false, 4106, NULL, true, false},
    {"coaps admin is not honoured", true, "Cdev1", "CAdmin", false, false, false, 4106, NULL, true,
     false},
    {"coaps unbound session", true, NULL, "Cdev1", false, false, false, 4106, NULL, true, false},
    {"coap admin", false, NULL, "CAdmin", false, false, false, 0, "CAdmin", false, true},
    {"coap enrolled AE-ID", false, NULL, "Cdev1", false, true, false, 4107, NULL, false, false},
    {"coap enrolled AE-ID, ae create", false, NULL, "Cdev1", true, true, false, 4107, NULL, false,
     false},
    {"coap unenrolled", false, NULL, "Cguest", false, false, false, 0, "Cguest", false, false},
    {"coap no from", false, NULL, NULL, false, false, false, 4000, NULL, false, false},
    {"coap ae create, no from", false, NULL, NULL, true, false, false, 0, "", false, false},
    {"coap ae create, from C", false, NULL, "C", true, false, false, 0, "", false, false},
    {"coap ae create, from S", false, NULL, "S", true, false, false, 0, "", false, false},
    {"coaps admin credential", true, "CAdmin", "CAdmin", false, false, true, 0, "CAdmin", true,
     true},
    {"coaps admin name, not the admin credential", true, "CAdmin", "CAdmin", false, false, false, 0,
     "CAdmin", true, false},
    {"coaps admin credential, other From", true, "CAdmin", "Cdev1", false, false, true, 4106, NULL,
     true, false},
};

static void test_table(void **state)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        cse_binding_in in = {r->secure, r->bound,    r->from,        r->ae_create,
                             "CAdmin",  r->enrolled, r->bound_admin, false};
        cse_binding_out out;
        unsigned rsc = cse_binding_check(&in, &out);

        print_message("%s\n", r->name);
        assert_int_equal(rsc, r->rsc);
        assert_int_equal(out.rq_authn, r->authn);
        if (rsc == 0) {
            assert_string_equal(out.originator, r->originator);
            assert_int_equal(out.is_admin, r->admin);
            if (r->from != NULL && !r->secure && r->ae_create && strlen(r->from) == 1)
                assert_int_equal(out.assign_prefix, r->from[0]);
        } else {
            assert_true(out.reason[0] != '\0');
        }
    }
}

/* Every spelling of an AE-ID on this CSE names the same AE (issue 10: a plain-CoAP From
 * "/tep-cse/Cdev1" must not pass the enrolled AE-ID check of "Cdev1"). */
/* A session bound to a registered CSE (/mn-cse) carries the requests it forwards: From
 * is the originator behind it, not authenticated here (TS-0003 7.1.2); without transit
 * the same From is 4106. */
static void test_transit(void **state)
{
    cse_binding_in in = {true, "/mn-cse", "/mn-cse/Cdev", false, "CAdmin", false, false, true};
    cse_binding_out out;

    assert_int_equal(cse_binding_check(&in, &out), 0);
    assert_string_equal(out.originator, "/mn-cse/Cdev");
    assert_false(out.rq_authn);
    assert_false(out.is_admin);
    in.transit = false;
    assert_int_equal(cse_binding_check(&in, &out), 4106);
    in.transit = true; /* the CSE itself still speaks for itself, authenticated */
    in.from = "/mn-cse";
    assert_int_equal(cse_binding_check(&in, &out), 0);
    assert_true(out.rq_authn);
}

static void test_local_id(void **state)
{
    (void)state;
    assert_string_equal(cse_binding_local_id("/tep-cse", "Cdev1"), "Cdev1");
    assert_string_equal(cse_binding_local_id("/tep-cse", "/tep-cse/Cdev1"), "Cdev1");
    assert_string_equal(cse_binding_local_id("/tep-cse", "//tep.local/tep-cse/Cdev1"), "Cdev1");
    assert_string_equal(cse_binding_local_id("/tep-cse", "//other.sp/tep-cse/Cdev1"), "Cdev1");
    /* another CSE's AE, or no AE part: left alone */
    assert_string_equal(cse_binding_local_id("/tep-cse", "/tep-cse2/Cdev1"), "/tep-cse2/Cdev1");
    assert_string_equal(cse_binding_local_id("/tep-cse", "/tep-cse"), "/tep-cse");
    assert_string_equal(cse_binding_local_id("/tep-cse", "/tep-cse/"), "/tep-cse/");
    assert_string_equal(cse_binding_local_id("/tep-cse", "///tep-cse/Cdev1"), "///tep-cse/Cdev1");
    assert_string_equal(cse_binding_local_id("/tep-cse", "//sp"), "//sp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table), cmocka_unit_test(test_transit),
                                       cmocka_unit_test(test_local_id)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
