/* cmn_glob: the wildcard matcher's table of cases (plain and per-segment), the covering
 * rule for issued patterns, and the pathological patterns bounded by the number of steps
 * the matcher reports (no clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_glob.h"

typedef struct {
    const char *pattern, *text;
    bool plain, segment;
} glob_case;

static const glob_case cases[] = {
    {"", "", true, true},
    {"", "a", false, false},
    {"*", "", true, true},
    {"*", "abc", true, true},
    {"*", "a/b", true, false},
    {"abc", "abc", true, true},
    {"abc", "abd", false, false},
    {"abc", "ab", false, false},
    {"a*", "a", true, true},
    {"a*", "ba", false, false},
    {"*a", "ba", true, true},
    {"*a", "ab", false, false},
    {"a*c", "abbbc", true, true},
    {"a*c", "ac", true, true},
    {"a*c", "acb", false, false},
    {"a*b*c", "axbyc", true, true},
    {"a*b*c", "acbc", true, true},
    {"a*b*c", "acb", false, false},
    {"*ab*ab*", "abab", true, true},
    {"*ab*ab*", "aba", false, false},
    {"*aab*", "aaab", true, true},         /* needs the KMP fallback */
    {"*abcabd*", "abcabcabd", true, true}, /* border of length 3 */
    {"a**b", "ab", true, true},
    {"/tep-cse/C*/data", "/tep-cse/Cdev/data", true, true},
    {"/tep-cse/C*/data", "/tep-cse/Cdev/x/data", true, false},
    {"/tep-cse/*", "/tep-cse/Cdevice02/data", true, false},
    {"/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/data", true, true},
    {"/tep-cse/Cdevice02", "/tep-cse/Cdevice02/data", false, false},
    {"/*/*", "/a/", true, true},
    {"/*/*", "/a", false, false},
    {"C*", "Cabc/x", true, false},
    {"*ab", "aab/ab", true, false},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const glob_case *c = &cases[i];

        if (cmn_glob_match(c->pattern, c->text, 0) != c->plain)
            fail_msg("plain: '%s' vs '%s': expected %d", c->pattern, c->text, c->plain);
        if (cmn_glob_match(c->pattern, c->text, CMN_GLOB_SEGMENT) != c->segment)
            fail_msg("segment: '%s' vs '%s': expected %d", c->pattern, c->text, c->segment);
    }
    assert_false(cmn_glob_match(NULL, "a", 0));
    assert_false(cmn_glob_match("a", NULL, 0));
}

/* A long piece (its KMP table on the heap) found in a longer text. */
static void test_long_piece(void **state)
{
    char pat[1024], text[4096];

    (void)state;
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    pat[0] = '*';
    memset(pat + 1, 'a', 500);
    pat[501] = 'b';
    pat[502] = '*';
    pat[503] = '\0';
    assert_false(cmn_glob_match(pat, text, 0));
    text[2000] = 'b';
    assert_true(cmn_glob_match(pat, text, 0));
}

static void build(char *buf, size_t n, const char *unit)
{
    size_t u = strlen(unit);

    for (size_t i = 0; i < n; i++)
        buf[i] = unit[i % u];
    buf[n] = '\0';
}

/* The patterns that make a backtracking matcher exponential or quadratic: the work
 * stays within 8 steps per byte of pattern plus text. */
static void test_pathological_bounded(void **state)
{
    static const struct {
        const char *pat_unit, *text_unit;
        unsigned flags;
    } shapes[] = {
        {"*", "a", 0},  {"*", "a", CMN_GLOB_SEGMENT}, {"*a", "a", 0},
        {"a*", "a", 0}, {"*aaaaaaab", "a", 0},        {"*ab", "a", CMN_GLOB_SEGMENT},
    };
    enum { N = 20000 };
    char *pat = malloc(N + 2), *text = malloc(N + 2);

    (void)state;
    assert_non_null(pat);
    assert_non_null(text);
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        size_t steps = 0, plen, tlen;

        build(pat, N, shapes[k].pat_unit);
        build(text, N, shapes[k].text_unit);
        pat[N] = 'x'; /* the last byte never matches: the worst case runs to the end */
        pat[N + 1] = '\0';
        plen = N + 1;
        tlen = N;
        assert_false(cmn_glob_matchn(pat, plen, text, tlen, shapes[k].flags, &steps));
        if (steps > 8 * (plen + tlen))
            fail_msg("shape %zu: %zu steps for %zu bytes", k, steps, plen + tlen);
    }
    /* The token of the attack: a segment of stars against a real path. */
    {
        size_t steps = 0;

        memcpy(pat, "/tep-cse/", 9);
        memset(pat + 9, '*', N - 9);
        pat[N] = '\0';
        build(text, N, "/tep-cse/Cdevice02/data");
        (void)cmn_glob_matchn(pat, N, text, N, CMN_GLOB_SEGMENT, &steps);
        assert_true(steps <= 8 * 2 * N);
    }
    free(pat);
    free(text);
}

static void test_covers(void **state)
{
    (void)state;
    assert_true(cmn_glob_covers("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/data"));
    assert_true(cmn_glob_covers("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/*"));
    assert_true(cmn_glob_covers("/tep-cse/*/*", "/tep-cse/Cdevice02/d*"));
    assert_true(cmn_glob_covers("/tep-cse/C*/data", "/tep-cse/C*/data"));
    /* "**" means no more than "*": only an attack spells it so */
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/**"));
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/**", "/tep-cse/Cdevice02/**"));
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/d*", "/tep-cse/Cdevice02/*"));
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/data", "/tep-cse/Cdevice02/*"));
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02"));
    assert_false(cmn_glob_covers("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/a/b"));
    assert_false(cmn_glob_covers(NULL, "/a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_long_piece),
        cmocka_unit_test(test_pathological_bounded),
        cmocka_unit_test(test_covers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
