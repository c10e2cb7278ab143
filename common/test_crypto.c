/* cmn_crypto: RFC 4231 / FIPS 180-2 vectors, multi-part HMAC, random, wipe, hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

static void assert_hex(const uint8_t *buf, size_t len, const char *expect)
{
    char hex[2 * 64 + 1];

    assert_true(len <= 64);
    cmn_hex_encode(buf, len, hex);
    assert_string_equal(hex, expect);
}

/* RFC 4231 test cases 1, 2 and 6 (HMAC-SHA-256). */
static void test_hmac_rfc4231(void **state)
{
    uint8_t key[131], mac[CMN_SHA256_LEN];
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    (void)state;

    memset(key, 0x0b, 20);
    assert_int_equal(cmn_hmac_sha256(key, 20, (const uint8_t *)"Hi There", 8, mac), 0);
    assert_hex(mac, sizeof(mac),
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    assert_int_equal(cmn_hmac_sha256((const uint8_t *)"Jefe", 4,
                                     (const uint8_t *)"what do ya want for nothing?", 28, mac),
                     0);
    assert_hex(mac, sizeof(mac),
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key, 0xaa, sizeof(key));
    assert_int_equal(cmn_hmac_sha256(key, sizeof(key), (const uint8_t *)m6, strlen(m6), mac), 0);
    assert_hex(mac, sizeof(mac),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_parts_equal_concatenation(void **state)
{
    const uint8_t *parts[3] = {(const uint8_t *)"what do ya ", (const uint8_t *)"",
                               (const uint8_t *)"want for nothing?"};
    const size_t lens[3] = {11, 0, 17};
    uint8_t mac[CMN_SHA256_LEN];
    (void)state;

    assert_int_equal(cmn_hmac_sha256_v((const uint8_t *)"Jefe", 4, parts, lens, 3, mac), 0);
    assert_hex(mac, sizeof(mac),
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hmac_bad_arguments(void **state)
{
    uint8_t mac[CMN_SHA256_LEN];
    const uint8_t *parts[1] = {NULL};
    const size_t lens[1] = {3};
    (void)state;

    assert_int_equal(cmn_hmac_sha256(NULL, 4, (const uint8_t *)"x", 1, mac), CMN_EINVAL);
    assert_int_equal(cmn_hmac_sha256_v((const uint8_t *)"k", 1, parts, lens, 1, mac), CMN_EINVAL);
}

static void test_sha256(void **state)
{
    uint8_t d[CMN_SHA256_LEN];
    (void)state;

    assert_int_equal(cmn_sha256((const uint8_t *)"abc", 3, d), 0);
    assert_hex(d, sizeof(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(cmn_sha256(NULL, 0, d), 0);
    assert_hex(d, sizeof(d), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_random_differs(void **state)
{
    uint8_t a[32], b[32], zero[32] = {0};
    (void)state;

    assert_int_equal(cmn_random(a, sizeof(a)), 0);
    assert_int_equal(cmn_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_int_equal(cmn_random(NULL, 0), 0);
}

static void test_random_large_buffer(void **state)
{
    size_t len = 200000; /* more than one wolfCrypt block request */
    uint8_t *buf = calloc(1, len);
    size_t zeros;
    (void)state;

    assert_non_null(buf);
    assert_int_equal(cmn_random(buf, len), 0);
    /* the tail was filled too: 4096 zero bytes in a row would be a miss */
    zeros = 0;
    for (size_t i = len - 4096; i < len; i++)
        zeros += buf[i] == 0;
    assert_true(zeros < 4096);
    free(buf);
}

static void test_wipe_and_free_secret(void **state)
{
    uint8_t key[16], zero[16] = {0};
    uint8_t *heap = malloc(32);
    (void)state;

    memset(key, 0x5a, sizeof(key));
    cmn_wipe(key, sizeof(key));
    assert_memory_equal(key, zero, sizeof(key));
    cmn_wipe(NULL, 10);
    assert_non_null(heap);
    memset(heap, 0x5a, 32);
    cmn_free_secret(heap, 32);
    cmn_free_secret(NULL, 32);
}

static void test_memcmp_ct(void **state)
{
    (void)state;
    assert_int_equal(cmn_memcmp_ct("abcd", "abcd", 4), 0);
    assert_int_not_equal(cmn_memcmp_ct("abcd", "abce", 4), 0);
    assert_int_not_equal(cmn_memcmp_ct("\x80", "\x00", 1), 0);
    assert_int_equal(cmn_memcmp_ct("x", "y", 0), 0);
}

static void test_hex(void **state)
{
    uint8_t bin[4] = {0x00, 0x9f, 0xA0, 0xff}, back[4];
    char hex[9];
    (void)state;

    cmn_hex_encode(bin, sizeof(bin), hex);
    assert_string_equal(hex, "009fa0ff");
    assert_int_equal(cmn_hex_decode("009FA0fF", back, sizeof(back)), 0);
    assert_memory_equal(bin, back, sizeof(bin));
    cmn_hex_encode(bin, 0, hex);
    assert_string_equal(hex, "");

    assert_int_equal(cmn_hex_decode("009fa0f", back, 4), CMN_EINVAL);    /* short */
    assert_int_equal(cmn_hex_decode("009fa0ff00", back, 4), CMN_EINVAL); /* long */
    assert_int_equal(cmn_hex_decode("009fa0fg", back, 4), CMN_EINVAL);   /* not hex */
    assert_int_equal(cmn_hex_decode(" 09fa0ff", back, 4), CMN_EINVAL);
    assert_int_equal(cmn_hex_decode(NULL, back, 4), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_hmac_parts_equal_concatenation),
        cmocka_unit_test(test_hmac_bad_arguments),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_random_differs),
        cmocka_unit_test(test_random_large_buffer),
        cmocka_unit_test(test_wipe_and_free_secret),
        cmocka_unit_test(test_memcmp_ct),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
