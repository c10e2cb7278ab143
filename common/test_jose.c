/* JOSE for end-to-end security (cmn_jose): objects made by an independent library open
 * here, objects made here round-trip, and altered or wrongly keyed ones are refused.
 * The three fixed objects were made with PyPI joserfc 1.6.5, key = bytes(range(32))
 * (A128GCM: its first 16 bytes, docs/keys.md item 19):
 *   jwe.encrypt_compact({"alg":"dir","enc":E,"kid":"kat@maf.tep.local",
 *                        "cty":"application/json"}, b'{"temp":21.5}', OctKey(key))
 *   jws.serialize_compact({"alg":"HS256","kid":"kat"}, b"hello oneM2M", OctKey(key)) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_jose.h"

#define KAT_HDR                                                                                    \
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoia2F0QG1hZi50ZXAubG9jYWwiLCJjdHkiOiJhcHBsaWNh" \
    "dGlvbi9qc29uIn0"
#define KAT_A256 KAT_HDR "..AiGObI7KytakiGrY.Pn1t_odEJqFG-Z7rKQ.OaXywZdqXNmCydKYRK2vdw"
#define KAT_A128                                                                                   \
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIiwia2lkIjoia2F0QG1hZi50ZXAubG9jYWwiLCJjdHkiOiJhcHBs"     \
    "aWNhdGlvbi9qc29uIn0..1ZYfBH1xbnMJyBAw.wuHLquN56CR3Svl47w.bJWXcB5iyMfKRMpRqdIopA"
#define KAT_HS256                                                                                  \
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImthdCJ9.aGVsbG8gb25lTTJN."                                       \
    "3ZRfB3aS5CcOg9Nt7f9FlwbwhfLD5uHWI9EeG5_JX5Q"
#define KAT_PT "{\"temp\":21.5}"

static void fixed_key(uint8_t key[CMN_KEY_LEN])
{
    for (int i = 0; i < CMN_KEY_LEN; i++)
        key[i] = (uint8_t)i;
}

static int open_jwe(const char *compact, const uint8_t *key, char **ret)
{
    cmn_jwe *j = NULL;
    uint8_t *pt = NULL;
    size_t len = 0;
    int rc = cmn_jwe_decode(compact, &j);

    if (rc == 0)
        rc = cmn_jwe_decrypt(j, key, &pt, &len);
    cmn_jwe_free(j);
    *ret = (char *)pt;
    return rc;
}

static void test_jwe_from_joserfc(void **state)
{
    uint8_t key[CMN_KEY_LEN];
    cmn_jwe *j = NULL;
    char *pt = NULL;
    (void)state;

    fixed_key(key);
    assert_int_equal(cmn_jwe_decode(KAT_A256, &j), 0);
    assert_string_equal(cmn_jwe_header_str(j, "kid"), "kat@maf.tep.local");
    assert_string_equal(cmn_jwe_header_str(j, "cty"), "application/json");
    cmn_jwe_free(j);
    assert_int_equal(open_jwe(KAT_A256, key, &pt), 0);
    assert_string_equal(pt, KAT_PT);
    free(pt);
    assert_int_equal(open_jwe(KAT_A128, key, &pt), 0);
    assert_string_equal(pt, KAT_PT);
    free(pt);
}

static void test_jwe_round_trip_and_tamper(void **state)
{
    uint8_t key[CMN_KEY_LEN], other[CMN_KEY_LEN];
    json_t *h = json_pack("{s:s}", "kid", "k1");
    char *c = NULL, *pt = NULL;
    size_t n;
    (void)state;

    fixed_key(key);
    memcpy(other, key, sizeof(other));
    other[31] ^= 1;
    assert_int_equal(cmn_jwe_dir_encrypt(h, key, "A256GCM", (const uint8_t *)"abc", 3, &c), 0);
    assert_int_equal(open_jwe(c, key, &pt), 0);
    assert_string_equal(pt, "abc");
    free(pt);
    assert_int_equal(open_jwe(c, other, &pt), CMN_EDENIED); /* wrong key */
    n = strlen(c);
    c[n - 3] = c[n - 3] == 'A' ? 'B' : 'A'; /* altered tag */
    assert_int_equal(open_jwe(c, key, &pt), CMN_EDENIED);
    free(c);
    /* an altered header (it is the AAD) */
    assert_int_equal(cmn_jwe_dir_encrypt(h, key, "A128GCM", (const uint8_t *)"abc", 3, &c), 0);
    c[5] = c[5] == 'A' ? 'Q' : 'A';
    assert_int_not_equal(open_jwe(c, key, &pt), 0);
    free(c);
    assert_int_equal(cmn_jwe_dir_encrypt(h, key, "A512GCM", (const uint8_t *)"x", 1, &c),
                     CMN_EINVAL);
    json_decref(h);
}

static void test_jwe_malformed(void **state)
{
    cmn_jwe *j = NULL;
    (void)state;

    assert_int_equal(cmn_jwe_decode("a.b.c", &j), CMN_EINVAL);
    assert_int_equal(
        cmn_jwe_decode(KAT_HDR ".AAAA.AiGObI7KytakiGrY.Pn1t.OaXywZdqXNmCydKYRK2vdw", &j),
        CMN_EINVAL); /* an Encrypted Key with "dir" */
    assert_int_equal(cmn_jwe_decode(KAT_HDR "..AiGO.Pn1t.OaXywZdqXNmCydKYRK2vdw", &j),
                     CMN_EINVAL); /* short IV */
    /* {"alg":"A128KW","enc":"A128GCM"} */
    assert_int_equal(cmn_jwe_decode("eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4R0NNIn0..AiGObI7KytakiGrY"
                                    ".Pn1t.OaXywZdqXNmCydKYRK2vdw",
                                    &j),
                     CMN_EINVAL);
    assert_null(j);
}

static void test_jws_hs256(void **state)
{
    uint8_t key[CMN_KEY_LEN];
    cmn_jose_jws *j = NULL;
    json_t *h = json_pack("{s:s,s:s}", "alg", "HS256", "kid", "kat");
    char *c = NULL;
    (void)state;

    fixed_key(key);
    assert_int_equal(cmn_jose_sign(h, (const uint8_t *)"hello oneM2M", 12, key, NULL, NULL, &c), 0);
    assert_string_equal(c, KAT_HS256); /* HMAC is deterministic: the very same bytes */
    assert_int_equal(cmn_jose_jws_decode(c, &j), 0);
    assert_int_equal(cmn_jose_verify_hs256(j, key), 0);
    assert_string_equal((char *)j->payload, "hello oneM2M");
    assert_int_equal(cmn_jose_verify_es256(j, (const uint8_t[CMN_ES256_PUB_LEN]){4}),
                     CMN_EDENIED); /* alg mismatch */
    cmn_jose_jws_free(j);
    c[40] = c[40] == 'a' ? 'b' : 'a'; /* altered payload */
    assert_int_equal(cmn_jose_jws_decode(c, &j), 0);
    assert_int_equal(cmn_jose_verify_hs256(j, key), CMN_EDENIED);
    cmn_jose_jws_free(j);
    free(c);
    json_decref(h);
}

static void test_jws_es256(void **state)
{
    uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN];
    uint8_t priv2[CMN_ES256_PRIV_LEN], pub2[CMN_ES256_PUB_LEN];
    uint8_t key[CMN_KEY_LEN];
    json_t *h = json_pack("{s:s}", "alg", "ES256");
    cmn_jose_jws *j = NULL;
    char *c = NULL;
    (void)state;

    fixed_key(key);
    assert_int_equal(cmn_es256_keygen(priv, pub), 0);
    assert_int_equal(cmn_es256_keygen(priv2, pub2), 0);
    assert_int_equal(cmn_jose_sign(h, (const uint8_t *)"\x00\x01", 2, NULL, priv, pub, &c), 0);
    assert_int_equal(cmn_jose_jws_decode(c, &j), 0);
    assert_int_equal(j->payload_len, 2);
    assert_int_equal(cmn_jose_verify_es256(j, pub), 0);
    assert_int_equal(cmn_jose_verify_es256(j, pub2), CMN_EDENIED);
    assert_int_equal(cmn_jose_verify_hs256(j, key), CMN_EDENIED); /* alg mismatch */
    cmn_jose_jws_free(j);
    free(c);
    assert_int_equal(cmn_jose_sign(h, (const uint8_t *)"x", 1, key, NULL, NULL, &c), CMN_EINVAL);
    cmn_wipe(priv, sizeof(priv));
    cmn_wipe(priv2, sizeof(priv2));
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwe_from_joserfc), cmocka_unit_test(test_jwe_round_trip_and_tamper),
        cmocka_unit_test(test_jwe_malformed),    cmocka_unit_test(test_jws_hs256),
        cmocka_unit_test(test_jws_es256),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
