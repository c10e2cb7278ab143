/* Unit tests of accessControlContexts (TS-0003 7.1.3/7.1.5): the 7-field scheduleEntry,
 * CIDR against the peer address, location regions, and how they combine in a decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_acp.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "tst.h"

static int setup(void **state)
{
    tst_json_leak_check(); /* jansson through CMocka's leak-checking allocator */
    return 0;
}

/* 2025-03-14 09:26:53 UTC, a Friday (dow 5). */
#define T_FRI 1741944413

/* ---- actw ------------------------------------------------------------------------ */

static const struct {
    const char *entry;
    int64_t now;
    int want; /* 1, 0, or CMN_EINVAL */
} sched_cases[] = {
    {"* * * * * * *", T_FRI, 1},
    {"53 26 9 14 3 5 2025", T_FRI, 1},
    {"52 26 9 14 3 5 2025", T_FRI, 0},
    {"* * 8-20 * * 1-5 *", T_FRI, 1},             /* office hours, Monday to Friday */
    {"* * 8-20 * * 1-5 *", T_FRI + 86400, 0},     /* Saturday */
    {"* * 8-20 * * 1-5 *", T_FRI + 12 * 3600, 0}, /* 21:26 */
    {"* 0-5 2,6,10 * * * *", T_FRI, 0},
    {"* 20-30 2,6,9 * * * *", T_FRI, 1},
    {"* * */2 * * * *", T_FRI, 0},    /* even hours; 9 is odd */
    {"* * 1-23/2 * * * *", T_FRI, 1}, /* odd hours */
    {"* * 0-23/4 * * * *", T_FRI, 0},
    {"*/53 * * * * * *", T_FRI, 1},          /* 0 and 53 */
    {"* * * * * 0 *", T_FRI - 5 * 86400, 1}, /* Sunday is 0 */
    {"* * * 31 * * *", T_FRI, 0},
    {"* * * * 1-2,4 * *", T_FRI, 0},
    {"  *\t* * * * * 2025  ", T_FRI, 1}, /* blanks around fields */
    {"* * * * * * 2026", T_FRI, 0},
    /* malformed */
    {"* * * * * *", T_FRI, CMN_EINVAL}, /* 6 fields (a crontab) */
    {"* * * * * * * *", T_FRI, CMN_EINVAL},
    {"60 * * * * * *", T_FRI, CMN_EINVAL},
    {"* * 24 * * * *", T_FRI, CMN_EINVAL},
    {"* * * 0 * * *", T_FRI, CMN_EINVAL},
    {"* * * * 13 * *", T_FRI, CMN_EINVAL},
    {"* * * * * 7 *", T_FRI, CMN_EINVAL},
    {"* * * * * * 1999", T_FRI, CMN_EINVAL},
    {"* * 9-8 * * * *", T_FRI, CMN_EINVAL}, /* reversed range */
    {"* * */0 * * * *", T_FRI, CMN_EINVAL},
    {"* * 9/2 * * * *", T_FRI, CMN_EINVAL}, /* a step needs a range */
    {"* * 1,,9 * * * *", T_FRI, CMN_EINVAL},
    {"* * 9, * * * *", T_FRI, CMN_EINVAL},
    {"* * -9 * * * *", T_FRI, CMN_EINVAL},
    {"* * 9,x * * * *", T_FRI, CMN_EINVAL}, /* malformed even after a match */
    {"* * 00009 * * * *", T_FRI, CMN_EINVAL},
    {"", T_FRI, CMN_EINVAL},
};

static void test_schedule(void **state)
{
    for (size_t i = 0; i < sizeof(sched_cases) / sizeof(sched_cases[0]); i++) {
        int got = cmn_acp_schedule_match(sched_cases[i].entry, sched_cases[i].now);

        if (got != sched_cases[i].want)
            fail_msg("actw \"%s\" at %lld: got %d want %d", sched_cases[i].entry,
                     (long long)sched_cases[i].now, got, sched_cases[i].want);
    }
    assert_int_equal(cmn_acp_schedule_match(NULL, T_FRI), CMN_EINVAL);
}

/* ---- acip ----------------------------------------------------------------------- */

static const struct {
    const char *entry;
    int family;
    const char *peer;
    int want;
} cidr_cases[] = {
    {"10.0.0.0/8", 4, "10.200.3.4", 1},
    {"10.0.0.0/8", 4, "11.0.0.1", 0},
    {"10.0.0.0/8", 4, "100.0.0.1", 0}, /* not a string prefix */
    {"192.168.1.0/25", 4, "192.168.1.127", 1},
    {"192.168.1.0/25", 4, "192.168.1.128", 0},
    {"192.168.1.7", 4, "192.168.1.7", 1}, /* no suffix: one address */
    {"192.168.1.7/32", 4, "192.168.1.8", 0},
    {"0.0.0.0/0", 4, "203.0.113.9", 1},
    {"10.1.2.3/8", 4, "10.9.9.9", 1},        /* host bits ignored */
    {"10.0.0.0/8", 4, "::ffff:10.1.1.1", 1}, /* IPv4-mapped peer */
    {"10.0.0.0/8", 4, "fd00::1", 0},
    {"fd00::/8", 6, "fd12:3456::1", 1},
    {"fd00::/8", 6, "fe80::1", 0},
    {"2001:db8::/33", 6, "2001:db8:7fff::1", 1},
    {"2001:db8::/33", 6, "2001:db8:8000::1", 0},
    {"::1", 6, "::1", 1},
    {"::/0", 6, "10.0.0.1", 0}, /* an IPv6 rule never covers an IPv4 peer */
    /* malformed */
    {"10.0.0.0/33", 4, "10.0.0.1", CMN_EINVAL},
    {"10.0.0/8", 4, "10.0.0.1", CMN_EINVAL},
    {"10.0.0.0/", 4, "10.0.0.1", CMN_EINVAL},
    {"10.0.0.0/8x", 4, "10.0.0.1", CMN_EINVAL},
    {"fd00::/129", 6, "fd00::1", CMN_EINVAL},
    {"fd00::/8", 4, "fd00::1", CMN_EINVAL}, /* IPv6 in the ipv4 list */
    {"10.0.0.0/8", 4, "not-an-ip", CMN_EINVAL},
    {"010.0.0.0/8", 4, "10.0.0.1", CMN_EINVAL},
};

static void test_cidr(void **state)
{
    for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
        int got = cmn_acp_cidr_match(cidr_cases[i].entry, cidr_cases[i].family, cidr_cases[i].peer);

        if (got != cidr_cases[i].want)
            fail_msg("acip \"%s\" (v%d) vs %s: got %d want %d", cidr_cases[i].entry,
                     cidr_cases[i].family, cidr_cases[i].peer, got, cidr_cases[i].want);
    }
}

/* ---- aclr ----------------------------------------------------------------------- */

static void test_distance(void **state)
{
    /* Paris to London, about 343.5 km. */
    double d = cmn_acp_distance_m(48.8566, 2.3522, 51.5074, -0.1278);

    assert_true(d > 343000.0 && d < 344000.0);
    assert_true(cmn_acp_distance_m(10, 20, 10, 20) == 0.0);
}

/* ---- decisions with contexts ------------------------------------------------------- */

static bool decide(const cmn_acp_request *rq, const char *acco)
{
    char buf[1024];
    json_t *pv;
    cmn_acp_result res;

    snprintf(buf, sizeof(buf), "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63, \"acco\": %s}]}",
             acco);
    pv = json_loads(buf, 0, NULL);
    if (pv == NULL)
        fail_msg("test policy is not JSON: %s", buf);
    assert_int_equal(cmn_acp_evaluate(rq, &pv, 1, &res), 0);
    json_decref(pv);
    return res.permit;
}

static void test_context_time(void **state)
{
    cmn_acp_request rq = {.originator = "C1", .op = CMN_ACOP_RETRIEVE, .now = T_FRI};

    assert_true(decide(&rq, "[{\"actw\": [\"* * 8-20 * * 1-5 *\"]}]"));
    assert_false(decide(&rq, "[{\"actw\": [\"* * 0-5 * * * *\"]}]"));
    assert_true(decide(&rq, "[{\"actw\": [\"* * 0-5 * * * *\", \"* * 9 * * * *\"]}]"));
    assert_false(decide(&rq, "[{\"actw\": [\"* * 9 * * *\"]}]")); /* malformed: FALSE */
    assert_true(decide(&rq, "[{\"actw\": []}]"));
    assert_true(decide(&rq, "[]"));
    assert_true(decide(&rq, "[{}]"));
}

static void test_context_ip(void **state)
{
    cmn_acp_request rq = {.originator = "C1", .op = CMN_ACOP_RETRIEVE, .now = T_FRI};
    const char *acco = "[{\"acip\": {\"ipv4\": [\"127.0.0.0/8\"], \"ipv6\": [\"::1/128\"]}}]";

    assert_false(decide(&rq, acco)); /* no peer address: cannot be checked */
    rq.peer_ip = "127.0.0.1";
    assert_true(decide(&rq, acco));
    rq.peer_ip = "::1";
    assert_true(decide(&rq, acco));
    rq.peer_ip = "192.0.2.1";
    assert_false(decide(&rq, acco));
    assert_false(decide(&rq, "[{\"acip\": {}}]"));
    assert_false(decide(&rq, "[{\"acip\": {\"ipv4\": \"192.0.2.0/24\"}}]"));
}

static void test_context_location(void **state)
{
    cmn_acp_request rq = {.originator = "C1", .op = CMN_ACOP_RETRIEVE, .now = T_FRI};
    const char *kr = "[{\"aclr\": {\"accc\": [\"KR\", \"JP\"]}}]";
    const char *paris = "[{\"aclr\": {\"accr\": [48.8566, 2.3522, 10000]}}]";

    assert_false(decide(&rq, kr)); /* no location: cannot be checked */
    assert_false(decide(&rq, paris));
    rq.loc_country = "kr";
    assert_true(decide(&rq, kr));
    rq.loc_country = "FR";
    assert_false(decide(&rq, kr));
    rq.has_loc_point = true;
    rq.loc_lat = 48.8606; /* the Louvre, about 1 km away */
    rq.loc_lon = 2.3376;
    assert_true(decide(&rq, paris));
    rq.loc_lat = 51.5074;
    rq.loc_lon = -0.1278;
    assert_false(decide(&rq, paris));
    /* a region is a choice: both, or neither, is malformed */
    assert_false(decide(&rq, "[{\"aclr\": {\"accc\": [\"FR\"], \"accr\": [51.5, -0.13, 1e6]}}]"));
    assert_false(decide(&rq, "[{\"aclr\": {}}]"));
    assert_false(decide(&rq, "[{\"aclr\": {\"accr\": [91, 0, 1e9]}}]"));
}

/* res_context = time AND ip AND loc; res_ctxts = OR over the acco elements. */
static void test_context_combination(void **state)
{
    cmn_acp_request rq = {.originator = "C1",
                          .op = CMN_ACOP_RETRIEVE,
                          .now = T_FRI,
                          .peer_ip = "10.1.2.3",
                          .loc_country = "KR"};
    const char *both = "[{\"actw\": [\"* * 8-20 * * 1-5 *\"], \"acip\": {\"ipv4\": "
                       "[\"10.0.0.0/8\"]}, \"aclr\": {\"accc\": [\"KR\"]}}]";
    const char *either = "[{\"actw\": [\"* * 0-5 * * * *\"]}, {\"acip\": {\"ipv4\": "
                         "[\"10.0.0.0/8\"]}}]";

    assert_true(decide(&rq, both));
    rq.peer_ip = "192.0.2.1";
    assert_false(decide(&rq, both));
    assert_false(decide(&rq, either));
    rq.peer_ip = "10.1.2.3";
    assert_true(decide(&rq, either));
    assert_true(decide(&rq, "[{\"actw\": [\"bad\"]}, {\"aclr\": {\"accc\": [\"KR\"]}}]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_context_time),
        cmocka_unit_test(test_context_ip),
        cmocka_unit_test(test_context_location),
        cmocka_unit_test(test_context_combination),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
