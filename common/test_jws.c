/* cmn_jws: base64url (RFC 4648 vectors), the RFC 7515 A.3 ES256 example verified with
 * wolfCrypt, and sign/verify round trips with raw r||s signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_jws.h"

/* RFC 7515 Appendix A.3: the ES256 key (JWK x, y) and the compact JWS. */
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_JWS                                                                                     \
    "eyJhbGciOiJFUzI1NiJ9."                                                                        \
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"     \
    "cnVlfQ."                                                                                      \
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

static void a3_pub(uint8_t pub[CMN_ES256_PUB_LEN])
{
    uint8_t *x, *y;
    size_t xl, yl;

    assert_int_equal(cmn_b64url_decode(A3_X, strlen(A3_X), &x, &xl), 0);
    assert_int_equal(cmn_b64url_decode(A3_Y, strlen(A3_Y), &y, &yl), 0);
    assert_int_equal(xl, 32);
    assert_int_equal(yl, 32);
    pub[0] = 0x04;
    memcpy(pub + 1, x, 32);
    memcpy(pub + 33, y, 32);
    free(x);
    free(y);
}

static void test_b64url_rfc4648_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    (void)state;

    for (size_t i = 0; i < 7; i++) {
        char *e;
        uint8_t *d;
        size_t dl;
        assert_int_equal(cmn_b64url_encode((const uint8_t *)plain[i], strlen(plain[i]), &e), 0);
        assert_string_equal(e, enc[i]);
        assert_int_equal(cmn_b64url_decode(e, strlen(e), &d, &dl), 0);
        assert_int_equal(dl, strlen(plain[i]));
        assert_memory_equal(d, plain[i], dl);
        free(e);
        free(d);
    }
}

static void test_b64url_refuses_non_url_alphabet(void **state)
{
    static const char *const bad[] = {"Zg==", "Z+8", "Z/8", "Zm 9v", "Z", "Zh"};
    (void)state;

    for (size_t i = 0; i < 6; i++) {
        uint8_t *d = NULL;
        size_t dl;
        assert_int_equal(cmn_b64url_decode(bad[i], strlen(bad[i]), &d, &dl), CMN_EINVAL);
        assert_null(d);
    }
}

static void test_rfc7515_a3_verifies(void **state)
{
    uint8_t pub[CMN_ES256_PUB_LEN];
    cmn_jws *j;
    (void)state;

    a3_pub(pub);
    assert_int_equal(cmn_jws_decode(A3_JWS, &j), 0);
    assert_string_equal(cmn_jws_alg(j), "ES256");
    assert_int_equal(j->sig_len, 64);
    assert_string_equal(json_string_value(json_object_get(j->payload, "iss")), "joe");
    assert_int_equal(cmn_jws_verify_es256(j, pub), 0);
    /* One bit of the signature flipped. */
    j->sig[10] ^= 1;
    assert_int_equal(cmn_jws_verify_es256(j, pub), CMN_EDENIED);
    cmn_jws_free(j);
}

static void test_rfc7515_a3_tampered_payload_fails(void **state)
{
    uint8_t pub[CMN_ES256_PUB_LEN];
    char *s = strdup(A3_JWS);
    cmn_jws *j;
    (void)state;

    a3_pub(pub);
    s[25] = s[25] == 'A' ? 'B' : 'A'; /* inside the payload part */
    if (cmn_jws_decode(s, &j) == 0) {
        assert_int_equal(cmn_jws_verify_es256(j, pub), CMN_EDENIED);
        cmn_jws_free(j);
    }
    free(s);
}

static void test_sign_verify_round_trip_raw_signature(void **state)
{
    uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN], other[CMN_ES256_PUB_LEN],
        opriv[CMN_ES256_PRIV_LEN];
    json_t *h = json_pack("{s:s,s:s}", "alg", "ES256", "typ", "JWT");
    json_t *p = json_pack("{s:s,s:i}", "jti", "t1@maf.tep.local", "exp", 1800000000);
    char *out;
    cmn_jws *j;
    (void)state;

    assert_int_equal(cmn_es256_keygen(priv, pub), 0);
    assert_int_equal(cmn_es256_keygen(opriv, other), 0);
    assert_int_equal(pub[0], 0x04);
    assert_int_equal(cmn_es256_check_pub(pub), 0);
    assert_int_equal(cmn_jws_sign_es256(h, p, priv, pub, &out), 0);
    assert_int_equal(cmn_jws_decode(out, &j), 0);
    assert_int_equal(j->sig_len, CMN_ES256_SIG_LEN); /* raw r||s, not DER */
    assert_int_equal(cmn_jws_verify_es256(j, pub), 0);
    assert_int_equal(cmn_jws_verify_es256(j, other), CMN_EDENIED);
    assert_string_equal(json_string_value(json_object_get(j->payload, "jti")), "t1@maf.tep.local");
    cmn_jws_free(j);
    free(out);
    cmn_wipe(priv, sizeof(priv));
    cmn_wipe(opriv, sizeof(opriv));
    json_decref(h);
    json_decref(p);
}

static void test_sign_refuses_other_alg(void **state)
{
    uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN];
    json_t *h = json_pack("{s:s}", "alg", "none");
    json_t *p = json_object();
    char *out = NULL;
    (void)state;

    assert_int_equal(cmn_es256_keygen(priv, pub), 0);
    assert_int_equal(cmn_jws_sign_es256(h, p, priv, pub, &out), CMN_EINVAL);
    assert_null(out);
    json_decref(h);
    json_decref(p);
}

static void test_decode_refuses_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "e30.e30.e30.e30.e30", /* parts */
        "W10.e30.",
        "e30.W10.",                /* header/payload not objects */
        "eyJhIjoxLCJhIjoyfQ.e30.", /* duplicate key */
        "e30.e30.%%%",             /* signature alphabet */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_jws *j = NULL;
        assert_int_equal(cmn_jws_decode(bad[i], &j), CMN_EINVAL);
        assert_null(j);
    }
}

static void test_check_pub_refuses_off_curve(void **state)
{
    uint8_t pub[CMN_ES256_PUB_LEN];
    (void)state;

    a3_pub(pub);
    assert_int_equal(cmn_es256_check_pub(pub), 0);
    pub[64] ^= 1;
    assert_int_equal(cmn_es256_check_pub(pub), CMN_EINVAL);
    pub[64] ^= 1;
    pub[0] = 0x02;
    assert_int_equal(cmn_es256_check_pub(pub), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_rfc4648_vectors),
        cmocka_unit_test(test_b64url_refuses_non_url_alphabet),
        cmocka_unit_test(test_rfc7515_a3_verifies),
        cmocka_unit_test(test_rfc7515_a3_tampered_payload_fails),
        cmocka_unit_test(test_sign_verify_round_trip_raw_signature),
        cmocka_unit_test(test_sign_refuses_other_alg),
        cmocka_unit_test(test_decode_refuses_malformed),
        cmocka_unit_test(test_check_pub_refuses_off_curve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
