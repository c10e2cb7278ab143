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
    rsc = cse_validate_create(ty, 3, o, reason, 96);
    json_decref(o);
    return rsc;
}

static void test_ae(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_AE,
                           "{\"api\":\"Ntepdemo\",\"rr\":true,\"rn\":\"app\","
                           "\"srv\":[\"3\"]}",
                           r),
                     0);
    assert_int_equal(check(CMN_TY_AE, "{\"rr\":true,\"srv\":[\"3\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:api");
    assert_int_equal(check(CMN_TY_AE, "{\"api\":7}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:api");
}

/* TS-0004 Table 7.4.5.1-3: rr and srv mandatory; value formats of api, poa, csz, srv;
 * creator is NP for an AE. */
static void test_ae_formats(void **state)
{
    static const char *const bad[][2] = {
        {"\"api\":\"Xapp\"", "bad_value:api"},
        {"\"api\":\"N\"", "bad_value:api"},
        {"\"poa\":[\"127.0.0.1:5683\"]", "bad_value:poa"},
        {"\"poa\":[]", "bad_value:poa"},
        {"\"poa\":[\"coap://\"]", "bad_value:poa"},
        {"\"poa\":[\"1coap://h\"]", "bad_value:poa"},
        {"\"poa\":[\"coap://h x\"]", "bad_value:poa"},
        {"\"csz\":[\"text/plain\"]", "bad_value:csz"},
        {"\"csz\":[]", "bad_value:csz"},
        {"\"srv\":[\"6\"]", "bad_value:srv"},
        {"\"srv\":[]", "bad_value:srv"},
        {"\"rr\":\"false\"", "bad_value:rr"},
        {"\"cr\":null", "unknown_or_readonly_attribute:cr"},
        {"\"cstn\":\"Cx\"", "unknown_or_readonly_attribute:cstn"},
    };
    char body[256], r[96];

    assert_int_equal(check(CMN_TY_AE,
                           "{\"api\":\"Rorg.app\",\"rr\":false,\"srv\":[\"2a\",\"3\"],"
                           "\"poa\":[\"coap://127.0.0.1:5683/x\",\"http://h:8080\"],"
                           "\"csz\":[\"json\",\"application/cbor\"]}",
                           r),
                     0);
    assert_int_equal(check(CMN_TY_AE, "{\"api\":\"Napp\",\"srv\":[\"3\"]}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:rr");
    assert_int_equal(check(CMN_TY_AE, "{\"api\":\"Napp\",\"rr\":true}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:srv");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"api\":\"Napp\",\"rr\":true,\"srv\":[\"3\"],%s}",
                 bad[i][0]);
        if (strstr(bad[i][0], "\"api\"") != NULL || strstr(bad[i][0], "\"srv\"") != NULL ||
            strstr(bad[i][0], "\"rr\"") != NULL)
            snprintf(body, sizeof(body), "{\"api\":\"Napp\",\"rr\":true,\"srv\":[\"3\"]}");
        if (strstr(bad[i][0], "\"api\"") != NULL)
            snprintf(body, sizeof(body), "{%s,\"rr\":true,\"srv\":[\"3\"]}", bad[i][0]);
        else if (strstr(bad[i][0], "\"srv\"") != NULL)
            snprintf(body, sizeof(body), "{\"api\":\"Napp\",\"rr\":true,%s}", bad[i][0]);
        else if (strstr(bad[i][0], "\"rr\"") != NULL)
            snprintf(body, sizeof(body), "{\"api\":\"Napp\",\"srv\":[\"3\"],%s}", bad[i][0]);
        if (check(CMN_TY_AE, body, r) != CMN_RSC_BAD_REQUEST || strcmp(r, bad[i][1]) != 0)
            fail_msg("%s: want 4000 %s, got %s", body, bad[i][1], r);
    }
}

/* Release 4 attributes: refused when the request's RVI is older, accepted from 4. */
static void test_release(void **state)
{
    json_t *o = json_loads("{\"con\":\"x\",\"dgt\":\"20260101T000000\",\"dcnt\":2}", 0, NULL);
    json_t *c = json_loads("{\"cstn\":\"Cboss\"}", 0, NULL);
    char r[96];

    assert_int_equal(cse_validate_release(NULL), 1);
    assert_int_equal(cse_validate_release("2a"), 2);
    assert_int_equal(cse_validate_release("4"), 4);
    assert_int_equal(cse_validate_create(CMN_TY_CIN, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "attribute_needs_release_4:dgt");
    assert_int_equal(cse_validate_create(CMN_TY_CIN, 4, o, r, sizeof(r)), 0);
    assert_int_equal(cse_validate_create(CMN_TY_CNT, 5, c, r, sizeof(r)), 0);
    assert_int_equal(cse_validate_update(CMN_TY_CNT, 4, c, r, sizeof(r)), 0);
    assert_int_equal(cse_validate_update(CMN_TY_CNT, 3, c, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "attribute_needs_release_4:cstn");
    json_decref(o);
    o = json_loads("{\"con\":\"x\",\"dgt\":\"2026-01-01\"}", 0, NULL);
    assert_int_equal(cse_validate_create(CMN_TY_CIN, 4, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:dgt");
    json_decref(o);
    json_decref(c);
}

/* An empty UPDATE is valid (lt refresh); the CSEBase and a contentInstance are 4005. */
static void test_update(void **state)
{
    json_t *o = json_object();
    char r[96];

    assert_int_equal(cse_validate_update(CMN_TY_CNT, 3, o, r, sizeof(r)), 0);
    assert_int_equal(cse_validate_update(CMN_TY_AE, 3, o, r, sizeof(r)), 0);
    assert_int_equal(cse_validate_update(CMN_TY_CSEBASE, 3, o, r, sizeof(r)),
                     CMN_RSC_OPERATION_NOT_ALLOWED);
    assert_int_equal(cse_validate_update(CMN_TY_CIN, 3, o, r, sizeof(r)),
                     CMN_RSC_OPERATION_NOT_ALLOWED);
    json_object_set_new(o, "api", json_string("Nother"));
    assert_int_equal(cse_validate_update(CMN_TY_AE, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "unknown_or_readonly_attribute:api");
    json_object_clear(o);
    json_object_set_new(o, "rr", json_null());
    assert_int_equal(cse_validate_update(CMN_TY_AE, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    json_decref(o);
}

/* tep's bounds: strings of at most 2048 bytes, lists of at most 1024 entries. */
static void test_bounds(void **state)
{
    json_t *o = json_pack("{s:s, s:b, s:[s]}", "api", "Napp", "rr", 0, "srv", "3");
    json_t *lbl = json_array();
    char big[CSE_VALIDATE_STR_MAX + 2], r[96];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(o, "apn", json_string(big));
    assert_int_equal(cse_validate_create(CMN_TY_AE, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:apn");
    big[CSE_VALIDATE_STR_MAX] = '\0';
    json_object_set_new(o, "apn", json_string(big));
    assert_int_equal(cse_validate_create(CMN_TY_AE, 3, o, r, sizeof(r)), 0);
    for (int i = 0; i < CSE_VALIDATE_LIST_MAX; i++)
        json_array_append_new(lbl, json_string("k"));
    json_object_set(o, "lbl", lbl);
    assert_int_equal(cse_validate_create(CMN_TY_AE, 3, o, r, sizeof(r)), 0);
    json_array_append_new(lbl, json_string("k"));
    assert_int_equal(cse_validate_create(CMN_TY_AE, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:lbl");
    json_decref(lbl);
    json_decref(o);
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
    /* TS-0004 6.2.4: unreserved characters only, the first a letter or digit */
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"Data-1.v_2\"}", r), 0);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"a b\"}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:rn");
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"a~b\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"_a\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"-a\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"caf\u00e9\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":\"a?b\"}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CNT, "{\"rn\":7}", r), CMN_RSC_BAD_REQUEST);
    assert_true(cse_validate_rn("x"));
    {
        char big[CSE_VALIDATE_RN_MAX + 2];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_false(cse_validate_rn(big));
        big[CSE_VALIDATE_RN_MAX] = '\0';
        assert_true(cse_validate_rn(big));
    }
}

static void test_cin(void **state)
{
    char r[96];

    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"21.5\",\"cnf\":\"text/plain:0\"}", r), 0);
    assert_int_equal(check(CMN_TY_CIN, "{\"cnf\":\"text/plain:0\"}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "missing:con");
    /* contentInfo: type/subtype:encoding[:security] */
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"application/json:0:1\"}", r), 0);
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"text/plain\"}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:cnf");
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"text:0\"}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"text/plain:a\"}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"text/plain:0:\"}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cnf\":\"text/pl ain:0\"}", r),
                     CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"cr\":null}", r), 0);
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
                           "\"pvs\":{\"acr\":[{\"acor\":[\"all\"],\"acop\":2}]}}",
                           r),
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
        "[{\"acip\":{\"ipv4\":[\"10.0.0.0/33\"]}}]",
        "[{\"acip\":{\"ipv4\":[\"fd00::/8\"]}}]",
        "[{\"acip\":{\"ipv6\":[\"10.0.0.1\"]}}]",
        "[{\"acip\":{\"ip\":[]}}]",
        "[{\"acip\":[\"10.0.0.0/8\"]}]",
        "[{\"actw\":[\"* * * * * *\"]}]",
        "[{\"actw\":[\"* * 24 * * * *\"]}]",
        "[{\"actw\":\"* * * * * * *\"}]",
        "[{\"aclr\":{}}]",
        "[{\"aclr\":{\"accc\":[\"DE\"],\"accr\":[0,0,1]}}]",
        "[{\"aclr\":{\"accr\":[0,181,1]}}]",
        "[{\"aclr\":{\"accr\":[0,0,-1]}}]",
        "[{\"x\":1}]",
        "[7]",
        "{}",
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
    assert_int_equal(check(CMN_TY_ACP,
                           "{\"acpi\":[\"a\"],\"pv\":{\"acr\":[]},"
                           "\"pvs\":{\"acr\":[{\"acor\":[\"C\"],\"acop\":1}]}}",
                           r),
                     CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "acpi_not_an_attribute_of:acp");
    assert_int_equal(check(CMN_TY_CIN, "{\"con\":\"x\",\"acpi\":[\"a\"]}", r), CMN_RSC_BAD_REQUEST);
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

    assert_int_equal(check(CMN_TY_SASR,
                           "{\"apci\":[\"12-*\"],\"aai\":[\"Ntep*\",\"R1\",\"*\"],"
                           "\"aae\":[\"C*\"],\"ari\":[\"r1\"],\"rn\":\"rule1\"}",
                           r),
                     0);
    assert_int_equal(check(CMN_TY_SASR, "{}", r), 0);
    assert_int_equal(check(CMN_TY_SASR, "{\"aai\":[\"Xapp\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:aai");
    assert_int_equal(check(CMN_TY_SASR, "{\"aae\":\"C*\"}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "bad_value:aae");
    assert_int_equal(check(CMN_TY_SASR, "{\"apci\":[\"\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_int_equal(check(CMN_TY_SASR, "{\"acpi\":[\"acp1\"]}", r), CMN_RSC_BAD_REQUEST);
    assert_string_equal(r, "acpi_not_allowed:asar");
    o = json_loads("{\"aai\":[\"Sbad\"]}", 0, NULL);
    assert_int_equal(cse_validate_update(CMN_TY_SASR, 3, o, r, sizeof(r)), CMN_RSC_BAD_REQUEST);
    json_decref(o);
    o = json_loads("{\"aai\":[\"Rgood\"],\"apci\":null}", 0, NULL);
    assert_int_equal(cse_validate_update(CMN_TY_SASR, 3, o, r, sizeof(r)), 0);
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
        cmocka_unit_test(test_ae),         cmocka_unit_test(test_readonly_and_unknown),
        cmocka_unit_test(test_ae_formats), cmocka_unit_test(test_release),
        cmocka_unit_test(test_update),     cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_rn),         cmocka_unit_test(test_cin),
        cmocka_unit_test(test_acp),        cmocka_unit_test(test_unsupported_type),
        cmocka_unit_test(test_asar),       cmocka_unit_test(test_acp_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
