/* Known-answer tests for the end-to-end derivations (TS-0003 10.3.6, 10.3.8) as tep
 * implements them (docs/keys.md items 13-19). Every expected value was computed with
 * Python's hmac/hashlib, not with wolfCrypt, by integration/tepkeys.py:
 *
 *   import tepkeys as t
 *   pk = bytes(range(32))                       # the pair key (Kpsa or Kc)
 *   t.e2e_master(pk, "/tep-cse").hex()
 *   k = t.e2e_keys(pk, "/tep-cse")              # msg_auth, msg_conf, att_auth, att_conf
 *   rr, ro = bytes(range(0x10, 0x20)), bytes(range(0x20, 0x30))
 *   t.session_esprim_key(k["msg_conf"], rr, ro).hex()
 *   t.rand_text(rr)
 *   ke = bytes(range(32))                       # a Kuc from MEF Key Registration
 *   kuc = t.kuc(ke, 24, "Capp01"); kuc.hex(); t.kuc_id(kuc, "mef.tep.local")
 *   t.e2e_keys(kuc, "Capp01")                   # B = the key's one target
 *   t.e2e_keys(t.kuc(ke, 23, "/tep-cse"), "/tep-cse")["msg_conf"].hex()
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_kdf.h"

#define KAT_MASTER "fae5e9ce5aac19d0446223ad6008d66d9be2d8304d1be03005246c9d3b89de73"
#define KAT_MSG_AUTH "8ae6946ba035ccfe792c1105474a63f86e9b9ffaa83bfd39993af51d511fe64b"
#define KAT_MSG_CONF "0607e87c9a20a627810d15591b190743c7fc6695e8a1f212288ab35d463f5788"
#define KAT_ATT_AUTH "7aba0e375be4a16f217b491d8221103b210fc3eb2efc70b3c5c2274621789187"
#define KAT_ATT_CONF "c02e12d270c3a020290a7b7c2c0642c29753ee59278b1dafb585aa0b2209e3a9"
#define KAT_SESSION "6bee92066c373823c3baa40a023cf31e66ebd5b5926623126890c948d28b59d1"
#define KAT_SESSION_SWAPPED "ae3ee5b36c1aec43ba2bd88da4af3b8d90aab6f4c64d6739bab4439b9e09eb97"
#define KAT_RAND_TEXT "r101112131415161718191a1b1c1d1e1f"
/* docs/keys.md item 22: Kuc (MEF Key Registration) as the pair key, Ke = 00 01 .. 1f */
#define KAT_KUC24 "f21371ae1865b8ae5dabfb6a22eb5864964c78dacf050c0457416727ccb45319"
#define KAT_KUC24_ID "453d569ba3f26b3473d06b3e0390eb71@mef.tep.local"
#define KAT_KUC24_MASTER "c6b6d4bc8090280a4647cf0624984693221f92122ad565562804adb587d8fb3f"
#define KAT_KUC24_ATT_CONF "6f9f6749c3c60dab50db4faebecfa49998c5f74f0ff96bdfc63f6a078887203b"
#define KAT_KUC25_ATT_AUTH "58403deac56f37f5a591ce19b38c152231267881a81d421da089c3b97e8f0a2c"
#define KAT_KUC23_MSG_CONF "0333455639b117fff883040c2f62da8591a9822029f0764c98516c8dc790c2ca"

static void fill(uint8_t *b, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(first + i);
}

static void assert_key_hex(const uint8_t key[CMN_KEY_LEN], const char *expect)
{
    char hex[2 * CMN_KEY_LEN + 1];

    cmn_hex_encode(key, CMN_KEY_LEN, hex);
    assert_string_equal(hex, expect);
}

/* 10.3.6.1: Ke2e_master = HMAC-Hash(Salt, Kpsa); tep: SHA-256, Salt = End-Point-B-ID. */
static void test_master(void **state)
{
    uint8_t pk[CMN_KEY_LEN], master[CMN_KEY_LEN], other[CMN_KEY_LEN];
    (void)state;

    fill(pk, sizeof(pk), 0);
    assert_int_equal(cmn_e2e_master(pk, "/tep-cse", master), 0);
    assert_key_hex(master, KAT_MASTER);
    assert_int_equal(cmn_e2e_master(pk, "/tep-cse2", other), 0);
    assert_memory_not_equal(master, other, CMN_KEY_LEN);
}

/* 10.3.6.2: T(1)..T(4) with the four labels and counters 0x01..0x04, T(0) empty. */
static void test_expansions(void **state)
{
    uint8_t pk[CMN_KEY_LEN];
    cmn_e2e_keys k;
    (void)state;

    fill(pk, sizeof(pk), 0);
    assert_int_equal(cmn_e2e_keys_from_pair(pk, "/tep-cse", &k), 0);
    assert_key_hex(k.msg_auth, KAT_MSG_AUTH);
    assert_key_hex(k.msg_conf, KAT_MSG_CONF);
    assert_key_hex(k.att_auth, KAT_ATT_AUTH);
    assert_key_hex(k.att_conf, KAT_ATT_CONF);
    cmn_wipe(&k, sizeof(k));
}

/* T(1) is HKDF-Expand(master, label_1, 32) of RFC 5869: one block, info = the label. */
static void test_first_block_is_rfc5869(void **state)
{
    uint8_t master[CMN_KEY_LEN], t1[CMN_SHA256_LEN];
    uint8_t info[sizeof(CMN_LABEL_E2E_MSG_AUTH)];
    size_t n = strlen(CMN_LABEL_E2E_MSG_AUTH);
    cmn_e2e_keys k;
    (void)state;

    assert_int_equal(cmn_hex_decode(KAT_MASTER, master, sizeof(master)), 0);
    memcpy(info, CMN_LABEL_E2E_MSG_AUTH, n);
    info[n] = 0x01;
    assert_int_equal(cmn_hmac_sha256(master, sizeof(master), info, n + 1, t1), 0);
    assert_int_equal(cmn_e2e_expand(master, &k), 0);
    assert_memory_equal(k.msg_auth, t1, CMN_KEY_LEN);
}

/* 10.3.8.2: receiver's rand value first, then the originator's, then the label. */
static void test_session_esprim_key(void **state)
{
    uint8_t pairwise[CMN_KEY_LEN], rr[CMN_E2E_RAND_LEN], ro[CMN_E2E_RAND_LEN];
    uint8_t key[CMN_KEY_LEN];
    (void)state;

    assert_int_equal(cmn_hex_decode(KAT_MSG_CONF, pairwise, sizeof(pairwise)), 0);
    fill(rr, sizeof(rr), 0x10);
    fill(ro, sizeof(ro), 0x20);
    assert_int_equal(cmn_e2e_session_esprim_key(pairwise, rr, ro, key), 0);
    assert_key_hex(key, KAT_SESSION);
    assert_int_equal(cmn_e2e_session_esprim_key(pairwise, ro, rr, key), 0);
    assert_key_hex(key, KAT_SESSION_SWAPPED);
}

static void test_rand_text(void **state)
{
    uint8_t rr[CMN_E2E_RAND_LEN], back[CMN_E2E_RAND_LEN];
    char text[CMN_E2E_RAND_TEXT];
    (void)state;

    fill(rr, sizeof(rr), 0x10);
    cmn_e2e_rand_format(rr, text);
    assert_string_equal(text, KAT_RAND_TEXT);
    assert_int_equal(cmn_e2e_rand_parse(text, back), 0);
    assert_memory_equal(rr, back, sizeof(rr));
    assert_int_equal(cmn_e2e_rand_parse("101112131415161718191a1b1c1d1e1f", back), CMN_EINVAL);
    assert_int_equal(cmn_e2e_rand_parse("r101112131415161718191A1B1C1D1E1F", back), CMN_EINVAL);
    assert_int_equal(cmn_e2e_rand_parse("r1011", back), CMN_EINVAL);
    assert_int_equal(cmn_e2e_rand_parse(NULL, back), CMN_EINVAL);
}

/* docs/keys.md item 22: a usage-constrained key Kuc = HMAC(Ke, L_KUC || SUID || target)
 * registered at the MEF with an end-to-end SUID is the pair key of 10.3.6.1, B = the
 * key's one target exactly as registered; kid = its Key Identifier. */
static void test_kuc_pair_chain(void **state)
{
    uint8_t ke[CMN_KEY_LEN], kuc[CMN_KEY_LEN], master[CMN_KEY_LEN];
    char kid[CMN_KEY_ID_MAX];
    cmn_e2e_keys k;
    (void)state;

    fill(ke, sizeof(ke), 0);
    assert_int_equal(cmn_kdf_kuc(ke, 24, "Capp01", kuc), 0);
    assert_key_hex(kuc, KAT_KUC24);
    assert_int_equal(cmn_kdf_kuc_id(kuc, "mef.tep.local", kid, sizeof(kid)), 0);
    assert_string_equal(kid, KAT_KUC24_ID);
    assert_int_equal(cmn_e2e_master(kuc, "Capp01", master), 0);
    assert_key_hex(master, KAT_KUC24_MASTER);
    assert_int_equal(cmn_e2e_keys_from_pair(kuc, "Capp01", &k), 0);
    assert_key_hex(k.att_conf, KAT_KUC24_ATT_CONF);
    /* the signature key comes from the SUID 25 Kuc: another pair key */
    assert_int_equal(cmn_kdf_kuc(ke, 25, "Capp01", kuc), 0);
    assert_int_equal(cmn_e2e_keys_from_pair(kuc, "Capp01", &k), 0);
    assert_key_hex(k.att_auth, KAT_KUC25_ATT_AUTH);
    /* ESPrim (SUID 23) with the CSE /tep-cse: pairwiseESPrimKey = Ke2e_msg_conf */
    assert_int_equal(cmn_kdf_kuc(ke, 23, "/tep-cse", kuc), 0);
    assert_int_equal(cmn_e2e_keys_from_pair(kuc, "/tep-cse", &k), 0);
    assert_key_hex(k.msg_conf, KAT_KUC23_MSG_CONF);
    cmn_wipe(&k, sizeof(k));
}

/* B's ID follows the rule of every derivation input: printable ASCII, not empty. */
static void test_bad_ids_refused(void **state)
{
    uint8_t pk[CMN_KEY_LEN] = {0}, out[CMN_KEY_LEN];
    (void)state;

    assert_int_equal(cmn_e2e_master(pk, "", out), CMN_EINVAL);
    assert_int_equal(cmn_e2e_master(pk, "/tep cse", out), CMN_EINVAL);
    assert_int_equal(cmn_e2e_master(pk, "/tep-cs\xc3\xa9", out), CMN_EINVAL);
    assert_int_equal(cmn_e2e_master(pk, NULL, out), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master),
        cmocka_unit_test(test_expansions),
        cmocka_unit_test(test_first_block_is_rfc5869),
        cmocka_unit_test(test_session_esprim_key),
        cmocka_unit_test(test_rand_text),
        cmocka_unit_test(test_bad_ids_refused),
        cmocka_unit_test(test_kuc_pair_chain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
