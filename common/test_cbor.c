/* cmn_cbor: oneM2M CBOR (TS-0004 8.5) <-> JSON, known answers both ways, the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_cbor.h"
#include "cmn_err.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;

        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

    assert_non_null(j);
    return j;
}

/* decodes hex and checks the result equals the JSON text */
static void assert_decodes_to(const char *hex, const char *json_text)
{
    uint8_t buf[512];
    size_t n = unhex(hex, buf, sizeof(buf));
    json_t *got = NULL, *want = parse(json_text);

    assert_int_equal(cmn_cbor_decode(buf, n, &got), 0);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static int decode_hex(const char *hex)
{
    uint8_t buf[512];
    size_t n = unhex(hex, buf, sizeof(buf));
    json_t *got = (json_t *)1;
    int rc = cmn_cbor_decode(buf, n, &got);

    if (rc != 0)
        assert_null(got);
    json_decref(got);
    return rc;
}

static void assert_encodes_to(const char *json_text, const char *hex)
{
    uint8_t want[512], *got = NULL;
    size_t n = unhex(hex, want, sizeof(want)), len = 0;
    json_t *v = parse(json_text);

    assert_int_equal(cmn_cbor_encode(v, &got, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
    json_decref(v);
}

/* TS-0004 V3.32 8.5.2 examples 1, 3 and 4 (their names are byte strings, major 2).
 * Example 2 of the spec text is corrupt (a nibble is missing in "ri"). */
static void test_spec_examples_decode(void **state)
{
    (void)state;
    assert_decodes_to(
        "a6427063a1466d326d3a6165a342726e54536d617274486f6d654170706c69636174696f6e436170"
        "69444e6135364361706e47617070313233344274790242746f572f2f6578616d706c652e6e65742f"
        "6d6e637365313233344372636e07426f700143727169454131303030",
        "{\"op\":1,\"to\":\"//example.net/mncse1234\",\"rqi\":\"A1000\",\"rcn\":7,\"pc\":"
        "{\"m2m:ae\":{\"rn\":\"SmartHomeApplication\",\"api\":\"Na56\",\"apn\":\"app1234\"}},"
        "\"ty\":2}");
    assert_decodes_to(
        "a6427063a1476d326d3a636e74a3436d6e691901f442726e52536d617274486f6d65436f6e746169"
        "6e6572436d62731a000186a04274790342746f582c2f2f6578616d706c652e6e65742f6d6e637365"
        "313233342f536d617274486f6d654170706c69636174696f6e4372636e07426f7001437271694541"
        "31303031",
        "{\"op\":1,\"to\":\"//example.net/mncse1234/SmartHomeApplication\",\"rqi\":\"A1001\","
        "\"rcn\":7,\"pc\":{\"m2m:cnt\":{\"rn\":\"SmartHomeContainer\",\"mbs\":100000,"
        "\"mni\":500}},\"ty\":3}");
    assert_decodes_to(
        "a3427063a1476d326d3a636e74af436362730042726944636e7431436d6e691901f442637247535f"
        "53414832354265744f3230313830353036543135343034384263744f323031363035303654313534"
        "303438436d62731a000186a042747903436d6961190e1042737400426c744f323031363035303654"
        "31353430343842726e52536d617274486f6d65436f6e7461696e6572427069436165314461637069"
        "81446163703143636e690043727169454131303031437273631907d1",
        "{\"rsc\":2001,\"rqi\":\"A1001\",\"pc\":{\"m2m:cnt\":{\"rn\":\"SmartHomeContainer\","
        "\"ty\":3,\"ri\":\"cnt1\",\"pi\":\"ae1\",\"ct\":\"20160506T154048\",\"lt\":"
        "\"20160506T154048\",\"acpi\":[\"acp1\"],\"et\":\"20180506T154048\",\"cr\":"
        "\"S_SAH25\",\"st\":0,\"mni\":500,\"mbs\":100000,\"cni\":0,\"cbs\":0,\"mia\":3600}}}");
}

/* What tep-cse sends: text strings, shortest heads, float32 when exact, else float64. */
static void test_encode_known_answer(void **state)
{
    (void)state;
    assert_encodes_to(
        "{\"m2m:cin\":{\"con\":\"21.5\",\"st\":0,\"lbl\":[\"a\"],\"rr\":true,\"x\":null,"
        "\"neg\":-500,\"big\":100000,\"f\":1.5,\"d\":0.1}}",
        "a1676d326d3a63696ea963636f6e6432312e3562737400636c626c816161627272f56178f6636e65"
        "673901f3636269671a000186a06166fa3fc000006164fb3fb999999999999a");
    assert_encodes_to("false", "f4");
    assert_encodes_to("[]", "80");
    assert_encodes_to("{}", "a0");
    assert_encodes_to("\"\"", "60");
}

static void test_integer_heads(void **state)
{
    (void)state;
    assert_encodes_to("23", "17");
    assert_encodes_to("24", "1818");
    assert_encodes_to("255", "18ff");
    assert_encodes_to("256", "190100");
    assert_encodes_to("65536", "1a00010000");
    assert_encodes_to("4294967296", "1b0000000100000000");
    assert_encodes_to("9223372036854775807", "1b7fffffffffffffff");
    assert_encodes_to("-1", "20");
    assert_encodes_to("-24", "37");
    assert_encodes_to("-25", "3818");
    assert_encodes_to("-9223372036854775808", "3b7fffffffffffffff");
    assert_decodes_to("1b7fffffffffffffff", "9223372036854775807");
    assert_decodes_to("3b7fffffffffffffff", "-9223372036854775808");
    /* non-shortest heads are well-formed: accepted */
    assert_decodes_to("1900ff", "255");
}

static void test_round_trip(void **state)
{
    const char *samples[] = {
        "{\"m2m:ae\":{\"rn\":\"x\",\"api\":\"Ntep\",\"rr\":false,\"srv\":[\"3\"],\"poa\":[]}}",
        "[1,-1,0.5,-2.75,1e300,\"\\u00e9\\u4e2d\\ud83d\\ude00\",null,true,{\"a\":{\"b\":[]}}]",
        "\"a\\u0000b\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        json_t *v = json_loads(samples[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL), *back;
        uint8_t *b;
        size_t n;

        assert_non_null(v);
        assert_int_equal(cmn_cbor_encode(v, &b, &n), 0);
        assert_int_equal(cmn_cbor_decode(b, n, &back), 0);
        assert_true(json_equal(v, back));
        free(b);
        json_decref(v);
        json_decref(back);
    }
}

/* RFC 8949 3.2: indefinite-length strings, arrays and maps. */
static void test_indefinite_lengths(void **state)
{
    (void)state;
    assert_decodes_to("9f0102ff", "[1,2]");
    assert_decodes_to("9fff", "[]");
    assert_decodes_to("bf616101ff", "{\"a\":1}");
    assert_decodes_to("7f626865616cff", "\"hel\"");
    assert_decodes_to("5f4161ff", "\"a\""); /* byte-string chunks holding text */
    assert_decodes_to("bf7f6161ff9f01ffff", "{\"a\":[1]}");
    assert_int_equal(decode_hex("7f4161ff"), CMN_EINVAL);     /* chunk of another type */
    assert_int_equal(decode_hex("7f7f6161ffff"), CMN_EINVAL); /* nested indefinite chunk */
    assert_int_equal(decode_hex("9f0102"), CMN_EINVAL);       /* no break */
    assert_int_equal(decode_hex("bf6161ff"), CMN_EINVAL);     /* key without value */
    assert_int_equal(decode_hex("1f"), CMN_EINVAL);           /* no indefinite integer */
}

static void test_floats_and_simple_values(void **state)
{
    (void)state;
    assert_decodes_to("f93c00", "1.0");
    assert_decodes_to("f9c400", "-4.0");
    assert_decodes_to("f90001", "5.9604644775390625e-8");
    assert_decodes_to("fa47c35000", "100000.0");
    assert_decodes_to("fb3ff199999999999a", "1.1");
    assert_decodes_to("f4", "false");
    assert_decodes_to("f5", "true");
    assert_decodes_to("f6", "null");
    assert_int_equal(decode_hex("f97c00"), CMN_EPROTO);             /* infinity */
    assert_int_equal(decode_hex("fb7ff8000000000000"), CMN_EPROTO); /* NaN */
    assert_int_equal(decode_hex("f7"), CMN_EPROTO);                 /* undefined */
    assert_int_equal(decode_hex("f0"), CMN_EPROTO);                 /* simple(16) */
    assert_int_equal(decode_hex("f8ff"), CMN_EPROTO);               /* simple(255) */
    assert_int_equal(decode_hex("f810"), CMN_EINVAL);               /* simple < 32 in two bytes */
}

static void test_tags(void **state)
{
    (void)state;
    assert_decodes_to("c11a514b67b0", "1363896240");                    /* epoch time: the number */
    assert_decodes_to("d9d9f7a0", "{}");                                /* self-described CBOR */
    assert_int_equal(decode_hex("c249010000000000000000"), CMN_EPROTO); /* bignum */
    assert_int_equal(decode_hex("c4820102"), CMN_EPROTO);               /* decimal fraction */
    assert_int_equal(decode_hex("c1"), CMN_EINVAL);                     /* tag of nothing */
}

/* Values with no JSON form, or not oneM2M's (TS-0004 8.5.1). */
static void test_rejects_non_json(void **state)
{
    (void)state;
    assert_int_equal(decode_hex("a10102"), CMN_EPROTO);             /* integer key */
    assert_int_equal(decode_hex("a1800102"), CMN_EPROTO);           /* array key */
    assert_int_equal(decode_hex("a2616101616102"), CMN_EPROTO);     /* duplicate key */
    assert_int_equal(decode_hex("a1436100620102"), CMN_EPROTO);     /* NUL in a key */
    assert_int_equal(decode_hex("62c328"), CMN_EPROTO);             /* not UTF-8 */
    assert_int_equal(decode_hex("41ff"), CMN_EPROTO);               /* binary bytes */
    assert_int_equal(decode_hex("63eda080"), CMN_EPROTO);           /* a surrogate */
    assert_int_equal(decode_hex("62c0af"), CMN_EPROTO);             /* overlong '/' */
    assert_int_equal(decode_hex("1bffffffffffffffff"), CMN_EPROTO); /* > INT64_MAX */
    assert_int_equal(decode_hex("3b8000000000000000"), CMN_EPROTO); /* < INT64_MIN */
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    assert_int_equal(cmn_cbor_decode(NULL, 0, &(json_t *){NULL}), CMN_EINVAL);
    assert_int_equal(decode_hex("0101"), CMN_EINVAL); /* trailing item */
    assert_int_equal(decode_hex("6261"), CMN_EINVAL); /* truncated text */
    assert_int_equal(decode_hex("19ff"), CMN_EINVAL); /* truncated head */
    assert_int_equal(decode_hex("1c"), CMN_EINVAL);   /* reserved AI 28 */
    assert_int_equal(decode_hex("ff"), CMN_EINVAL);   /* lone break */
    assert_int_equal(decode_hex("8201"), CMN_EINVAL); /* short array */
    /* counts far beyond the input fail at once, without allocating for them */
    assert_int_equal(decode_hex("9b7fffffffffffffff00"), CMN_EINVAL);
    assert_int_equal(decode_hex("bb7fffffffffffffff0000"), CMN_EINVAL);
    assert_int_equal(decode_hex("5b7fffffffffffffff00"), CMN_EINVAL);
}

/* levels copies of the head byte open, then an empty array (or a break) */
static int decode_nested(uint8_t open, size_t levels)
{
    uint8_t *b = malloc(levels + 1);
    json_t *v = NULL;
    int rc;

    assert_non_null(b);
    memset(b, open, levels);
    b[levels] = open == 0x9f ? 0xff : 0x80;
    rc = cmn_cbor_decode(b, levels + 1, &v);
    json_decref(v);
    free(b);
    return rc;
}

static void test_depth_limit_decode(void **state)
{
    (void)state;
    /* 31 one-element arrays around an empty one: 32 levels */
    assert_int_equal(decode_nested(0x81, CMN_CBOR_MAX_DEPTH - 1), 0);
    assert_int_equal(decode_nested(0x81, CMN_CBOR_MAX_DEPTH), CMN_ERANGE);
    assert_int_equal(decode_nested(0x81, 1000000), CMN_ERANGE); /* no stack to blow */
    assert_int_equal(decode_nested(0x9f, 1000000), CMN_ERANGE);
    assert_int_equal(decode_nested(0xc1, 1000000), CMN_ERANGE); /* tags count too */
    assert_int_equal(decode_nested(0xa1, 1000000), CMN_EPROTO); /* map keys must be text */
}

static json_t *nested_arrays(size_t levels)
{
    json_t *v = json_array();

    for (size_t i = 1; i < levels; i++) {
        json_t *outer = json_array();

        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

static void test_depth_limit_encode(void **state)
{
    json_t *ok = nested_arrays(CMN_CBOR_MAX_DEPTH), *deep = nested_arrays(CMN_CBOR_MAX_DEPTH + 1);
    uint8_t *b = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(cmn_cbor_encode(ok, &b, &n), 0);
    assert_int_equal(n, CMN_CBOR_MAX_DEPTH);
    free(b);
    assert_int_equal(cmn_cbor_encode(deep, &b, &n), CMN_ERANGE);
    assert_null(b);
    assert_int_equal(n, 0);
    json_decref(ok);
    json_decref(deep);
}

static void test_text_conveniences(void **state)
{
    uint8_t op1[16], *b = NULL;
    size_t n = unhex("a1626f7001", op1, sizeof(op1)), len = 0;
    char *text = NULL;

    (void)state;
    assert_int_equal(cmn_cbor_to_json_text(op1, n, &text), 0);
    assert_string_equal(text, "{\"op\":1}");
    free(text);
    assert_int_equal(cmn_cbor_to_json_text(op1, n - 1, &text), CMN_EINVAL);
    assert_null(text);
    assert_int_equal(cmn_cbor_from_json_text("{\"op\":1}", 8, &b, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(b, op1, len);
    free(b);
    assert_int_equal(cmn_cbor_from_json_text("{\"op\":", 6, &b, &len), CMN_EINVAL);
    assert_null(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples_decode),
        cmocka_unit_test(test_encode_known_answer),
        cmocka_unit_test(test_integer_heads),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_indefinite_lengths),
        cmocka_unit_test(test_floats_and_simple_values),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_rejects_non_json),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_depth_limit_decode),
        cmocka_unit_test(test_depth_limit_encode),
        cmocka_unit_test(test_text_conveniences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
