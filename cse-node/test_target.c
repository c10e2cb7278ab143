/* cse_target: which plain-CoAP targets tep-cse may send to (docs/cse.md "Outgoing
 * requests"). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cse_target.h"

static bool allowed(const cse_targets *t, const char *addr, int port, const char **why)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

    if (inet_pton(AF_INET, addr, &in.sin_addr) == 1)
        return cse_targets_allowed(t, (struct sockaddr *)&in, why);
    assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
    return cse_targets_allowed(t, (struct sockaddr *)&in6, why);
}

static void test_local_refused_by_default(void **state)
{
    static const char *const local[] = {
        "127.0.0.1",       "127.9.9.9", "0.0.0.0", "169.254.169.254", "224.0.0.1",
        "255.255.255.255", "::1",       "::",      "fe80::1",         "ff02::1",
        "::ffff:127.0.0.1"};
    static const char *const remote[] = {"10.0.0.5", "192.168.1.9", "8.8.8.8", "2001:db8::1"};
    cse_targets t;
    const char *why = NULL;
    char err[128];

    (void)state;
    assert_int_equal(cse_targets_parse("", &t, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        why = NULL;
        assert_false(allowed(&t, local[i], 5683, &why));
        assert_string_equal(why, "local_address");
    }
    for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
        assert_true(allowed(&t, remote[i], 5683, NULL));
    assert_true(cse_targets_allowed(NULL, NULL, NULL)); /* no checks (unit tests) */
}

static void test_allow_list_and_own_ports(void **state)
{
    cse_targets t;
    const char *why = NULL;
    char err[128];

    (void)state;
    assert_int_equal(cse_targets_parse("127.0.0.0/8, ::1 169.254.1.0/24", &t, err, sizeof(err)), 0);
    assert_int_equal(t.n_allow, 3);
    assert_true(allowed(&t, "127.0.0.1", 40000, NULL));
    assert_true(allowed(&t, "::ffff:127.1.2.3", 40000, NULL));
    assert_true(allowed(&t, "::1", 40000, NULL));
    assert_true(allowed(&t, "169.254.1.7", 40000, NULL));
    assert_false(allowed(&t, "169.254.2.7", 40000, NULL));
    assert_false(allowed(&t, "fe80::1", 40000, NULL));
    cse_targets_set_own(&t, "127.0.0.1:5683", "0.0.0.0:5684");
    assert_false(allowed(&t, "127.0.0.1", 5683, &why));
    assert_string_equal(why, "own_port");
    assert_false(allowed(&t, "127.0.0.2", 5684, NULL));
    assert_false(allowed(&t, "::1", 5684, NULL));
    assert_true(allowed(&t, "127.0.0.1", 5685, NULL));
    assert_true(allowed(&t, "192.0.2.1", 5684, NULL)); /* not an address of this host */
}

static void test_parse_refusals(void **state)
{
    static const char *const bad[] = {"localhost",  "127.0.0.1/33", "::1/129",  "10.0.0.0/",
                                      "10.0.0.0/x", "/8",           "1.2.3.4.5"};
    cse_targets t;
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(cse_targets_parse(bad[i], &t, err, sizeof(err)), CMN_ECONFIG);
        assert_non_null(strstr(err, "not an address"));
    }
    assert_int_equal(cse_targets_valid("127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,"
                                       "127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,"
                                       "127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1,"
                                       "127.0.0.1,127.0.0.1",
                                       err, sizeof(err)),
                     CMN_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_refused_by_default),
        cmocka_unit_test(test_allow_list_and_own_ports),
        cmocka_unit_test(test_parse_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
