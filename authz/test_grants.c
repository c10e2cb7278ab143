/* The grants file: parsing, refusal of bad entries with the entry named, and matching
 * (originator and target wildcards within one path segment, every op bit granted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authz_grants.h"
#include "cmn_err.h"

static char path[64];

static const char *write_file(const char *text)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/tep-grants-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_no_file_no_grant(void **state)
{
    authz_grants *g;
    int64_t lt;
    char err[256];
    (void)state;

    assert_int_equal(authz_grants_load("", &g, err, sizeof(err)), 0);
    assert_int_equal(authz_grants_count(g), 0);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/x", 2, &lt), -1);
    authz_grants_free(g);
}

static void test_find_matches_originator_target_and_ops(void **state)
{
    authz_grants *g;
    int64_t lt = 0;
    char err[256];
    (void)state;

    write_file("{\"grants\": ["
               "{\"or\":\"Cdevice01\",\"ris\":[\"/tep-cse/Cdevice02/*\"],\"acop\":2,\"lt\":600},"
               "{\"or\":\"Capp*\",\"ris\":[\"/tep-cse/shared\"],\"acop\":3,\"lt\":60}]}");
    assert_int_equal(authz_grants_load(path, &g, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(authz_grants_count(g), 2);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/data", 2, &lt), 0);
    assert_int_equal(lt, 600);
    /* '*' stays within one segment; ops must all be granted; others get nothing. */
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/data/x", 2, &lt), -1);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/data", 3, &lt), -1);
    assert_int_equal(authz_grants_find(g, "Cdevice03", "/tep-cse/Cdevice02/data", 2, &lt), -1);
    assert_int_equal(authz_grants_find(g, "Capp17", "/tep-cse/shared", 1, &lt), 1);
    assert_int_equal(lt, 60);
    /* A requested pattern: a star only where the grant has a lone star (cmn_glob_covers). */
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/*", 2, &lt), 0);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/d*a", 2, &lt), 0);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/Cdevice02/**", 2, &lt), -1);
    assert_int_equal(authz_grants_find(g, "Cdevice01", "/tep-cse/*/data", 2, &lt), -1);
    assert_int_equal(authz_grants_find(g, "Capp17", "/tep-cse/shar*", 1, &lt), -1);
    authz_grants_free(g);
}

static void test_bad_entries_refused_with_index(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"grants\": {}}",
        "{\"grants\": [{\"ris\":[\"/a\"],\"acop\":2,\"lt\":1}]}",
        "{\"grants\": [{\"or\":\"C1\",\"ris\":[],\"acop\":2,\"lt\":1}]}",
        "{\"grants\": [{\"or\":\"C1\",\"ris\":[\"/a\"],\"acop\":64,\"lt\":1}]}",
        "{\"grants\": [{\"or\":\"C1\",\"ris\":[\"/a\"],\"acop\":2,\"lt\":0}]}",
        "{\"grants\": [{\"or\":\"C1\",\"ris\":[\"/a\"],\"acop\":2,\"lt\":99999999}]}",
        "not json",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        authz_grants *g = NULL;
        char err[256] = "";
        write_file(bad[i]);
        assert_int_equal(authz_grants_load(path, &g, err, sizeof(err)), CMN_EINVAL);
        assert_null(g);
        assert_non_null(strstr(err, path));
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_file_no_grant),
        cmocka_unit_test(test_find_matches_originator_target_and_ops),
        cmocka_unit_test(test_bad_entries_refused_with_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
