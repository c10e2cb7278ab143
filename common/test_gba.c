/* Known-answer tests for tep's GBA derivations (TS 33.220 Annex B, docs/keys.md "GBA").
 * TS 33.220 prints no test vector for Ks_NAF; the expected values were computed by the
 * independent Python implementation integration/tepgba.py (hmac/hashlib and the
 * `cryptography` AES), which the self-check pins with the same constants:
 *
 *   import tepgba; H = bytes.fromhex
 *   k, rand, opc = H("465b5ce8..."), H("23553cbe..."), H("cd63cb71...")  # TS 35.207 set 1
 *   _, ck, ik, _, _ = tepgba.f2345(k, opc, rand)
 *   tepgba.ks_naf(ck, ik, rand, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
 *                 "mef.tep.local").hex()
 *   tepgba.btid(rand, "bsf.tep.local")
 *
 * and the KDF's S string is checked byte by byte against its definition below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_gba.h"

#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define KAT_KS_NAF "52b5131f0c57c0ff9dac7ba20419b55f9ab542b3eb43ea7798fb8c8e17814234"
#define KAT_BTID "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.tep.local"

static void set1_ks(uint8_t rand[16], uint8_t ks[32])
{
    uint8_t k[16], opc[16], ck[16], ik[16];

    assert_int_equal(cmn_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16), 0);
    assert_int_equal(cmn_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", opc, 16), 0);
    assert_int_equal(cmn_hex_decode("23553cbe9637a89d218ae64dae47bf35", rand, 16), 0);
    assert_int_equal(cmn_milenage_f2345(k, opc, rand, NULL, ck, ik, NULL, NULL), 0);
    cmn_gba_ks(ck, ik, ks);
}

static void test_ks_naf(void **state)
{
    uint8_t rand[16], ks[32], ks_naf[32];
    char h[65];

    (void)state;
    set1_ks(rand, ks);
    /* Ks = CK || IK of test set 1 */
    cmn_hex_encode(ks, 32, h);
    assert_string_equal(h, "b40ba9a3c58b2a05bbf0d987b21bf8cbf769bcd751044604127672711c6d3441");
    assert_int_equal(cmn_gba_ks_naf(ks, rand, IMPI, "mef.tep.local", cmn_gba_ua_dtls_psk, ks_naf),
                     0);
    cmn_hex_encode(ks_naf, 32, h);
    assert_string_equal(h, KAT_KS_NAF);
}

/* The KDF is HMAC-SHA-256 over FC || P0 || L0 || P1 || L1 with two-byte lengths. */
static void test_kdf_layout(void **state)
{
    static const uint8_t key[4] = {1, 2, 3, 4};
    static const uint8_t s[] = {0x01, 'a', 'b', 'c', 0x00, 0x03, 0xff, 0x00, 0x01};
    const uint8_t p1[] = {0xff};
    const uint8_t *params[] = {(const uint8_t *)"abc", p1};
    const size_t lens[] = {3, 1};
    uint8_t a[32], b[32];

    (void)state;
    assert_int_equal(cmn_gba_kdf(key, sizeof(key), 0x01, params, lens, 2, a), 0);
    assert_int_equal(cmn_hmac_sha256(key, sizeof(key), s, sizeof(s), b), 0);
    assert_memory_equal(a, b, 32);
}

static void test_btid_and_b64(void **state)
{
    uint8_t rand[16], ks[32], back[16];
    char btid[CMN_GBA_BTID_MAX], small[30];

    (void)state;
    set1_ks(rand, ks);
    assert_int_equal(cmn_gba_btid(rand, "bsf.tep.local", btid, sizeof(btid)), 0);
    assert_string_equal(btid, KAT_BTID);
    assert_int_equal(cmn_gba_btid(rand, "bsf.tep.local", small, sizeof(small)), CMN_ERANGE);
    assert_int_equal(cmn_gba_b64_decode("I1U8vpY3qJ0hiuZNrke/NQ==", back, 16), 0);
    assert_memory_equal(back, rand, 16);
    assert_int_equal(cmn_gba_b64_decode("I1U8vpY3qJ0hiuZNrke/NQ==", back, 15), CMN_EINVAL);
    assert_int_equal(cmn_gba_b64_decode("I1U8vpY3 qJ0hiuZNrke/NQ=", back, 16), CMN_EINVAL);
    assert_int_equal(cmn_gba_b64_decode("", back, 16), CMN_EINVAL);
}

static void test_bad_input(void **state)
{
    uint8_t rand[16] = {0}, ks[32] = {0}, out[32];

    (void)state;
    assert_int_equal(cmn_gba_ks_naf(ks, rand, "", "mef", cmn_gba_ua_dtls_psk, out), CMN_EINVAL);
    assert_int_equal(cmn_gba_ks_naf(ks, rand, IMPI, "", cmn_gba_ua_dtls_psk, out), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ks_naf),
        cmocka_unit_test(test_kdf_layout),
        cmocka_unit_test(test_btid_and_b64),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
