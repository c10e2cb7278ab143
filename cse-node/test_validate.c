/* CREATE attribute validation: what a client gets for each kind of bad body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmn_onem2m.h"
#include "cse_validate.h"

static unsigned check(unsigned ty, const char *json, char *reason)
{
    json_t *o = json_loads(json, 0, NULL);
    unsigned rsc;

    assert_non_null(o);
    rsc = cse_validate_create(ty, o, reason, 96);
    json_decref(o);
    return rsc;
}

static void test_ae(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_AE, "{\"api\":\"Ntepdemo\",\"rr\":true,\"rn\":\"app\"}", r), 0);
    assert_int_equal(check(CMN_TY_AE, "{\"rr\":true}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:api");
    assert_int_equal(check(CMN_TY_AE, "{\"api\":7}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:api");
}

static void test_readonly_and_unknown(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_CNT, "{\"ri\":\"x\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"cni\":3}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"foo\":1}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "unknown_or_readonly_attribute:foo");
    assert_int_equal(check(CMN_TY_CNT, "{\"mni\":-1}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"mni\":10,\"lbl\":[\"a\"]}", r), 0);
    assert_int_equal(check(CMN_TY_CNT, "{\"cr\":null}", r), 0);
    assert_int_equal(check(CMN_TY_CNT, "{\"cr\":\"Cother\"}", r), CMN_RSC_BAD_REQUEST);
}

static void test_rn(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"a/b\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"..\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"data\"}", r), 0);
}

static void test_cin(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"21.5\",\"cnf\":\"text/plain:0\"}", r), 0);
    assert_int_equal(check(CMN_TY_CIN, "{\"cnf\":\"text/plain:0\"}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:con");
}

static void test_acp(void **state)
{
    char r[96];
    const char *ok = "{\"pv\":{\"acr\":[]},\"pvs\":{\"acr\":[{\"acor\":[\"Cae1\"],\"acop\":63}]}}";

    assert_int_equal(check(CMN_TY_ACP, ok, r), 0);
    /* pvs must hold at least one rule (TS-0004) */
    assert_int_equal(check(CMN_TY_ACP, "{\"pv\":{\"acr\":[]},\"pvs\":{\"acr\":[]}}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_ACP, "{\"pvs\":{\"acr\":[{\"acor\":[\"all\"],\"acop\":2}]}}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:pv");
    assert_int_equal(check(CMN_TY_ACP,
                           "{\"pv\":{\"acr\":[{\"acor\":[\"all\"],\"acop\":64}]},"
                           "\"pvs\":{\"acr\":[{\"acor\":[\"all\"],\"acop\":2}]}}", r),
                     CMN_RSC_BAD_REQUEST);
}

/* acco: each context part well-formed, else 4000 (docs/access-control.md: a context that
 * could never be met is refused when written); acpi is no attribute of an ACP or a cin. */
static void test_acp_contexts(void **state)
{
    static const char *const good[] = {
        "[{\"actw\":[\"* * 6-18 * * 1-5 *\"],\"acip\":{\"ipv4\":[\"10.0.0.0/8\",\"192.0.2.1\"],"
        "\"ipv6\":[\"fd00::/8\"]}}]",
        "[{\"aclr\":{\"accc\":[\"DE\"]}},{\"aclr\":{\"accr\":[48.8,2.3,10]}},{\"actw\":[]}]",
        "[]",
    };
    static const char *const bad[] = {
        "[{\"acip\":{\"ipv4\":[\"10.0.0.0/33\"]}}]", "[{\"acip\":{\"ipv4\":[\"fd00::/8\"]}}]",
        "[{\"acip\":{\"ipv6\":[\"10.0.0.1\"]}}]", "[{\"acip\":{\"ip\":[]}}]",
        "[{\"acip\":[\"10.0.0.0/8\"]}]", "[{\"actw\":[\"* * * * * *\"]}]",
        "[{\"actw\":[\"* * 24 * * * *\"]}]", "[{\"actw\":\"* * * * * * *\"}]",
        "[{\"aclr\":{}}]", "[{\"aclr\":{\"accc\":[\"DE\"],\"accr\":[0,0,1]}}]",
        "[{\"aclr\":{\"accr\":[0,181,1]}}]", "[{\"aclr\":{\"accr\":[0,0,-1]}}]",
        "[{\"x\":1}]", "[7]", "{}",
    };
    char body[512], r[96];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]) + sizeof(bad) / sizeof(bad[0]); i++) {
        bool ok = i < sizeof(good) / sizeof(good[0]);
        snprintf(body, sizeof(body),
                 "{\"pv\":{\"acr\":[{\"acor\":[\"all\"],\"acop\":2,\"acco\":%s}]},"
                 "\"pvs\":{\"acr\":[{\"acor\":[\"Cae1\"],\"acop\":63}]}}",
                 ok ? good[i] : bad[i - sizeof(good) / sizeof(good[0])]);
        if (check(CMN_TY_ACP, body, r) != (ok ? 0u : CMN_RSC_BAD_REQUEST))
            fail_msg("acco %s: want %s", body, ok ? "accepted" : "4000");
    }
    assert_int_equal(check(CMN_TY_ACP, "{\"acpi\":[\"a\"],\"pv\":{\"acr\":[]},"
                                       "\"pvs\":{\"acr\":[{\"acor\":[\"C\"],\"acop\":1}]}}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "acpi_not_an_attribute_of:acp");
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"acpi\":[\"a\"]}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_GRP, "{\"mid\":[],\"mnm\":1,\"macp\":[\"a\"]}", r), 0);
    assert_int_equal(check(CMN_TY_GRP, "{\"mid\":[],\"mnm\":1,\"macp\":\"a\"}", r),
                     CMN_RSC_BAD_REQUEST);
}

/* serviceSubscribedAppRule (TS-0004 7.4.29): lists of patterns, aai entries start with
 * '*', 'R' or 'N' (else 4000), no acpi (tep keeps app rules to the admin). */
static void test_asar(void **state)
{
    char r[96];
    json_t *o;

    assert_int_equal(check(CMN_TY_SASR, "{\"apci\":[\"12-*\"],\"aai\":[\"Ntep*\",\"R1\",\"*\"],"
                                        "\"aae\":[\"C*\"],\"ari\":[\"r1\"],\"rn\":\"rule1\"}", r), 0);
    assert_int_equal(check(CMN_TY_SASR, "{}", r), 0);
    assert_int_equal(check(CMN_TY_SASR, "{\"aai\":[\"Xapp\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:aai");
    assert_int_equal(check(CMN_TY_SASR, "{\"aae\":\"C*\"}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:aae");
    assert_int_equal(check(CMN_TY_SASR, "{\"apci\":[\"\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_SASR, "{\"acpi\":[\"acp1\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "acpi_not_allowed:asar");
    o = json_loads("{\"aai\":[\"Sbad\"]}", 0, NULL);
    assert_int_equal(cse_validate_update(CMN_TY_SASR, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    json_decref(o);
    o = json_loads("{\"aai\":[\"Rgood\"],\"apci\":null}", 0, NULL);
    assert_int_equal(cse_validate_update(CMN_TY_SASR, o, r, sizeof(r)), 0);
    json_decref(o);
}

static void test_unsupported_type(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_DAC, "{}", r), CMN_RSC_INVALID_CHILD_RESOURCE_TYPE);
    assert_int_equal(check(CMN_TY_CSEBASE, "{}", r), CMN_RSC_INVALID_CHILD_RESOURCE_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ae), cmocka_unit_test(test_readonly_and_unknown),
        cmocka_unit_test(test_rn), cmocka_unit_test(test_cin),
        cmocka_unit_test(test_acp), cmocka_unit_test(test_unsupported_type),
        cmocka_unit_test(test_asar), cmocka_unit_test(test_acp_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
