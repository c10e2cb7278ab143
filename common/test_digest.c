/* HTTP Digest (RFC 2617) and Digest AKA (RFC 3310) as the Ub interface uses them: RFC
 * 2617's own worked example (3.5, qop "auth"), and an AKAv1-MD5 auth-int digest with the
 * RES of TS 35.207 test set 1 as the password, computed independently with Python's
 * hashlib:
 *
 *   m = lambda b: hashlib.md5(b).hexdigest()
 *   ha1 = m(b"001010000000001@ims.mnc001.mcc001.3gppnetwork.org:bsf.tep.local:"
 *           + bytes.fromhex("a54211d5e3ba50bf"))
 *   ha2 = m(b"GET:/:" + m(b"").encode())
 *   m((ha1 + ":" + NONCE + ":00000001:0a4f113b:auth-int:" + ha2).encode())
 *
 * NONCE = base64(RAND || AUTN) of test set 1 (docs/keys.md "GBA"). Then the header
 * parser on what clients send and on what it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_digest.h"
#include "cmn_err.h"

#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define NONCE "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M="

static void test_rfc2617_example(void **state)
{
    char r[CMN_DIGEST_HEX_LEN + 1];

    (void)state;
    assert_int_equal(cmn_digest_response("Mufasa", "testrealm@host.com",
                                         (const uint8_t *)"Circle Of Life", 14, "GET",
                                         "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                         "00000001", "0a4f113b", "auth", NULL, 0, r),
                     0);
    assert_string_equal(r, "6629fae49393a05397450978507c4ef1");
}

static void test_aka_auth_int(void **state)
{
    static const uint8_t res[8] = {0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf};
    char r[CMN_DIGEST_HEX_LEN + 1];

    (void)state;
    assert_int_equal(cmn_digest_response(IMPI, "bsf.tep.local", res, sizeof(res), "GET", "/", NONCE,
                                         "00000001", "0a4f113b", "auth-int", NULL, 0, r),
                     0);
    assert_string_equal(r, "642bf1edb11665810df4d76a61df5ffb");
}

static void test_parse(void **state)
{
    cmn_digest_auth a;

    (void)state;
    assert_int_equal(cmn_digest_parse("Digest username=\"" IMPI "\", realm=\"bsf.tep.local\", "
                                      "nonce=\"" NONCE "\", uri=\"/\", qop=auth-int, "
                                      "nc=00000001, cnonce=\"0a4f113b\", "
                                      "response=\"642bf1edb11665810df4d76a61df5ffb\", "
                                      "algorithm=AKAv1-MD5, opaque=\"x\"",
                                      &a),
                     0);
    assert_string_equal(a.username, IMPI);
    assert_string_equal(a.nonce, NONCE);
    assert_string_equal(a.qop, "auth-int");
    assert_string_equal(a.nc, "00000001");
    assert_string_equal(a.algorithm, "AKAv1-MD5");
    assert_string_equal(a.auts, "");
    /* the first request of Ub: empty nonce and response */
    assert_int_equal(cmn_digest_parse("digest username=\"a\\\"b\",nonce=\"\",response=\"\"", &a),
                     0);
    assert_string_equal(a.username, "a\"b");
    assert_string_equal(a.nonce, "");
}

static void test_parse_refuses(void **state)
{
    static const char *bad[] = {
        "Basic dXNlcjpwYXNz",
        "Digest",
        "Digest username=\"a",
        "Digest username=a username=b",
        "Digest username=\"a\", username=\"b\"",
        "Digest =x",
        "Digest username",
        "Digest username=\"a\" realm=\"b\"",
    };
    cmn_digest_auth a;
    char big[CMN_DIGEST_VALUE_MAX + 32];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cmn_digest_parse(bad[i], &a), CMN_EINVAL);
    memcpy(big, "Digest nonce=", 13);
    memset(big + 13, 'A', sizeof(big) - 14);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(cmn_digest_parse(big, &a), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2617_example),
        cmocka_unit_test(test_aka_auth_int),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
