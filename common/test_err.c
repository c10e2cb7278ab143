/* cmn_strerror: every code has its own text; unknown codes are never NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"

static void test_every_code_has_distinct_text(void **state)
{
    (void)state;
    for (int a = CMN_OK; a >= CMN_ESTATE; a--) {
        const char *ta = cmn_strerror(a);
        assert_non_null(ta);
        assert_string_not_equal(ta, "unknown error");
        for (int b = a - 1; b >= CMN_ESTATE; b--)
            assert_string_not_equal(ta, cmn_strerror(b));
    }
}

static void test_known_texts(void **state)
{
    (void)state;
    assert_string_equal(cmn_strerror(CMN_OK), "success");
    assert_string_equal(cmn_strerror(CMN_ESCHEMA), "store is from a newer schema");
    assert_string_equal(cmn_strerror(CMN_ECORRUPT), "corrupt record or message");
    assert_string_equal(cmn_strerror(CMN_ECONFIG), "invalid configuration");
}

static void test_unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(cmn_strerror(CMN_ESTATE - 1), "unknown error");
    assert_string_equal(cmn_strerror(-1000), "unknown error");
    assert_string_equal(cmn_strerror(7), "unknown error");
    assert_string_equal(cmn_strerror(INT32_MIN), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_distinct_text),
        cmocka_unit_test(test_known_texts),
        cmocka_unit_test(test_unknown_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
