/* Admission at the PEP (cse_admit.h): per originator, in total, and on a slow PDP; what
 * is released is admitted again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cse_admit.h"

static void test_per_originator(void **state)
{
    cse_admit_limits lim = {.per_originator = 2, .max_outstanding = 100, .slow_pct = 0};
    cse_admit *a = NULL;
    cse_admit_stats st;

    assert_int_equal(cse_admit_new(&lim, 500, &a), 0);
    for (int i = 0; i < 2; i++) {
        assert_null(cse_admit_check(a, "Cflood", 0));
        assert_int_equal(cse_admit_take(a, "Cflood"), 0);
    }
    assert_string_equal(cse_admit_check(a, "Cflood", 0), "originator_limit");
    /* another originator is not affected */
    assert_null(cse_admit_check(a, "Cgood", 0));
    cse_admit_release(a, "Cflood", 10, 0);
    assert_null(cse_admit_check(a, "Cflood", 0));
    cse_admit_get_stats(a, &st);
    assert_int_equal(st.shed_originator, 1);
    assert_int_equal(st.waiting, 1);
    cse_admit_release(a, "Cflood", 10, 0);
    cse_admit_release(a, "Cflood", 10, 0); /* one too many: ignored */
    cse_admit_get_stats(a, &st);
    assert_int_equal(st.waiting, 0);
    cse_admit_free(a);
}

static void test_total(void **state)
{
    cse_admit_limits lim = {.per_originator = 0, .max_outstanding = 3, .slow_pct = 0};
    cse_admit *a = NULL;
    char id[16];

    assert_int_equal(cse_admit_new(&lim, 500, &a), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "C%d", i);
        assert_null(cse_admit_check(a, id, 0));
        assert_int_equal(cse_admit_take(a, id), 0);
    }
    assert_string_equal(cse_admit_check(a, "Cnew", 0), "total_limit");
    cse_admit_release(a, "C1", -1, 0);
    assert_null(cse_admit_check(a, "Cnew", 0));
    cse_admit_free(a);
}

/* A PDP answering in 400 ms of a 500 ms deadline is busy for an originator that already
 * waits; one with nothing waiting still gets its question asked; after two deadlines
 * without a sample the estimate is forgotten. */
static void test_slow_pdp(void **state)
{
    cse_admit_limits lim = {.per_originator = 8, .max_outstanding = 100, .slow_pct = 50};
    cse_admit *a = NULL;
    cse_admit_stats st;

    assert_int_equal(cse_admit_new(&lim, 500, &a), 0);
    assert_int_equal(cse_admit_take(a, "Cflood"), 0);
    assert_int_equal(cse_admit_take(a, "Cflood"), 0);
    cse_admit_release(a, "Cflood", 400, 1000);
    assert_string_equal(cse_admit_check(a, "Cflood", 1100), "pdp_slow");
    assert_null(cse_admit_check(a, "Cgood", 1100));
    assert_null(cse_admit_check(a, "Cflood", 2001));
    cse_admit_get_stats(a, &st);
    assert_int_equal(st.shed_slow, 1);
    assert_int_equal(st.latency_ms, 400);
    cse_admit_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_originator),
        cmocka_unit_test(test_total),
        cmocka_unit_test(test_slow_pdp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
