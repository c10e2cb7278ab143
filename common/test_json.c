/* cmn_json: resource wrappers by type (TS-0004 short names) and oneM2M timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_onem2m.h"

static void test_ty_keys(void **state)
{
    (void)state;
    assert_string_equal(cmn_json_ty_key(CMN_TY_ACP), "m2m:acp");
    assert_string_equal(cmn_json_ty_key(CMN_TY_AE), "m2m:ae");
    assert_string_equal(cmn_json_ty_key(CMN_TY_CNT), "m2m:cnt");
    assert_string_equal(cmn_json_ty_key(CMN_TY_CIN), "m2m:cin");
    assert_string_equal(cmn_json_ty_key(CMN_TY_CSEBASE), "m2m:cb");
    assert_string_equal(cmn_json_ty_key(CMN_TY_GRP), "m2m:grp");
    assert_string_equal(cmn_json_ty_key(CMN_TY_CSR), "m2m:csr");
    assert_string_equal(cmn_json_ty_key(CMN_TY_SASR), "m2m:asar");
    assert_string_equal(cmn_json_ty_key(CMN_TY_SUB), "m2m:sub");
    assert_string_equal(cmn_json_ty_key(CMN_TY_DAC), "m2m:dac");
    assert_null(cmn_json_ty_key(0));
    assert_null(cmn_json_ty_key(6));
    assert_null(cmn_json_ty_key(9999));
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    assert_non_null(j);
    return j;
}

static void test_unwrap(void **state)
{
    json_t *root = parse("{\"m2m:ae\": {\"rn\": \"s1\", \"api\": \"Ntepdemo\"}}");
    json_t *obj = NULL;
    (void)state;

    assert_int_equal(cmn_json_unwrap(root, CMN_TY_AE, &obj), 0);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "api")), "Ntepdemo");
    assert_int_equal(cmn_json_unwrap(root, CMN_TY_CNT, &obj), CMN_EINVAL); /* wrong type */
    assert_null(obj);
    json_decref(root);
}

static void test_unwrap_rejects(void **state)
{
    const char *bad[] = {
        "{}",
        "[]",
        "{\"m2m:cnt\": {}, \"m2m:ae\": {}}", /* two keys */
        "{\"m2m:cnt\": [1]}",                /* not an object */
        "{\"cnt\": {}}",                     /* no prefix */
        "{\"m2m:cnt\": {}, \"extra\": 1}",
    };
    json_t *obj = (json_t *)1;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *root = parse(bad[i]);
        assert_int_equal(cmn_json_unwrap(root, CMN_TY_CNT, &obj), CMN_EINVAL);
        assert_null(obj);
        json_decref(root);
    }
    assert_int_equal(cmn_json_unwrap(NULL, CMN_TY_CNT, &obj), CMN_EINVAL);
    {
        json_t *root = parse("{\"m2m:cnt\": {}}");
        assert_int_equal(cmn_json_unwrap(root, 77, &obj), CMN_EINVAL); /* unknown type */
        assert_int_equal(cmn_json_unwrap(root, CMN_TY_CNT, &obj), 0);
        json_decref(root);
    }
}

static void test_timestamp_format(void **state)
{
    char ts[16];
    (void)state;

    cmn_json_timestamp(0, ts);
    assert_string_equal(ts, "19700101T000000");
    cmn_json_timestamp(1795000000, ts); /* python3: utcfromtimestamp(1795000000) */
    assert_string_equal(ts, "20261118T110640");
    cmn_json_timestamp(951782400, ts); /* leap day 2000 */
    assert_string_equal(ts, "20000229T000000");
    cmn_json_timestamp(INT64_MAX, ts);
    assert_string_equal(ts, "99991231T235959");
}

static void test_timestamp_parse(void **state)
{
    int64_t t = -1;
    (void)state;

    assert_int_equal(cmn_json_parse_timestamp("20261118T110640", &t), 0);
    assert_true(t == 1795000000);
    assert_int_equal(cmn_json_parse_timestamp("19700101T000000", &t), 0);
    assert_true(t == 0);
    assert_int_equal(cmn_json_parse_timestamp("20000229T000000", &t), 0);
    assert_true(t == 951782400);
    assert_int_equal(cmn_json_parse_timestamp("20261118T110640,123456", &t), 0);
    assert_true(t == 1795000000);
    assert_int_equal(cmn_json_parse_timestamp("20261118T110640Z", &t), 0);
    assert_true(t == 1795000000);

    t = 42;
    assert_int_equal(cmn_json_parse_timestamp("20250230T000000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20251301T000000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20250101T240000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20250101 000000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("2025010T1000000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20250101T00000", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20250101T000000+01", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("20250101T000000,", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp("", &t), CMN_EINVAL);
    assert_int_equal(cmn_json_parse_timestamp(NULL, &t), CMN_EINVAL);
    assert_true(t == 42);
}

static void test_timestamp_round_trip(void **state)
{
    const int64_t samples[] = {1, 86399, 86400, 1700000000, 4102444800LL, 253402300799LL};
    char ts[16];
    int64_t back;
    (void)state;

    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        cmn_json_timestamp(samples[i], ts);
        assert_int_equal(cmn_json_parse_timestamp(ts, &back), 0);
        assert_true(back == samples[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ty_keys),         cmocka_unit_test(test_unwrap),
        cmocka_unit_test(test_unwrap_rejects),  cmocka_unit_test(test_timestamp_format),
        cmocka_unit_test(test_timestamp_parse), cmocka_unit_test(test_timestamp_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
