/* Uri-Query parameters (TS-0008 6.2.2.3, TS-0004 8.2.2 short names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cmn_err.h"
#include "cse_query.h"

static void test_defaults(void **state)
{
    cse_query q;
    char r[64];

    assert_int_equal(cse_query_parse(NULL, &q, r, sizeof(r)), 0);
    assert_int_equal(q.rcn, -1);
    assert_int_equal(q.fu, 2);
    assert_int_equal(q.drt, 1);
    assert_int_equal(q.lim, -1);
    assert_false(q.has_fc);
    assert_int_equal(cse_query_parse("", &q, r, sizeof(r)), 0);
    assert_int_equal(cse_query_parse("&&", &q, r, sizeof(r)), 0);
    assert_int_equal(cse_query_parse("novalue&rt=3&tkns=abc", &q, r, sizeof(r)), 0);
}

static void test_filter_criteria(void **state)
{
    cse_query q;
    char r[64];

    assert_int_equal(cse_query_parse("fu=1&ty=3+4&ty=23&lbl=a&lbl=b+c&lim=10&lvl=2&ofst=1"
                                     "&cra=20240101T000000&sts=5&rcn=4&drt=2",
                                     &q, r, sizeof(r)),
                     0);
    assert_int_equal(q.fu, 1);
    assert_int_equal(q.n_ty, 3);
    assert_int_equal(q.ty[2], 23);
    assert_int_equal(q.n_lbl, 3);
    assert_string_equal(q.lbl[2], "c");
    assert_int_equal(q.lim, 10);
    assert_int_equal(q.lvl, 2);
    assert_int_equal(q.ofst, 1);
    assert_int_equal(q.cra, 1704067200);
    assert_int_equal(q.sts, 5);
    assert_int_equal(q.rcn, 4);
    assert_int_equal(q.drt, 2);
    assert_true(q.has_fc);
}

static void test_bad_values(void **state)
{
    static const char *const bad[] = {"ty=abc",
                                      "ty=",
                                      "lim=-1",
                                      "lvl=0",
                                      "rcn=12",
                                      "fu=9",
                                      "drt=3",
                                      "cra=2024",
                                      "ofst=0",
                                      "sts=x",
                                      "ty=1+2+3+4+5+6+7+8+9"};
    cse_query q;
    char r[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cse_query_parse(bad[i], &q, r, sizeof(r)), CMN_EINVAL);
        assert_non_null(strstr(r, "bad_query_parameter"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_filter_criteria),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
