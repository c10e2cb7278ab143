/* Known-answer tests for Milenage: the 3GPP test sets 1 to 5 of TS 35.207 clause 4 (the
 * same values as TS 35.208 clause 4). The same table is checked against an independent
 * Python Milenage on another AES (integration/tepgba.py, by
 * integration/selfcheck/test_tepgba_known_answer.py), so a value copied wrong here
 * would fail there too. Then the AKA values built on it (TS 33.102 6.3): AUTN, its check
 * on the USIM side, AUTS and its check on the network side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_milenage.h"

struct test_set {
    const char *k, *rand, *sqn, *amf, *op, *opc, *f1, *f1s, *f2, *f5, *f3, *f4, *f5s;
};

static const struct test_set sets[] = {
    {"465b5ce8b199b49faa5f0a2ee238a6bc", "23553cbe9637a89d218ae64dae47bf35", "ff9bb4d0b607", "b9b9",
     "cdc202d5123e20f62b6d676ac72cb318", "cd63cb71954a9f4e48a5994e37a02baf", "4a9ffac354dfafb3",
     "01cfaf9ec4e871e9", "a54211d5e3ba50bf", "aa689c648370", "b40ba9a3c58b2a05bbf0d987b21bf8cb",
     "f769bcd751044604127672711c6d3441", "451e8beca43b"},
    {"0396eb317b6d1c36f19c1c84cd6ffd16", "c00d603103dcee52c4478119494202e8", "fd8eef40df7d", "af17",
     "ff53bade17df5d4e793073ce9d7579fa", "53c15671c60a4b731c55b4a441c0bde2", "5df5b31807e258b0",
     "a8c016e51ef4a343", "d3a628ed988620f0", "c47783995f72", "58c433ff7a7082acd424220f2b67c556",
     "21a8c1f929702adb3e738488b9f5c5da", "30f1197061c1"},
    {"fec86ba6eb707ed08905757b1bb44b8f", "9f7c8d021accf4db213ccff0c7f71a6a", "9d0277595ffc", "725c",
     "dbc59adcb6f9a0ef735477b7fadf8374", "1006020f0a478bf6b699f15c062e42b3", "9cabc3e99baf7281",
     "95814ba2b3044324", "8011c48c0c214ed2", "33484dc2136b", "5dbdbb2954e8f3cde665b046179a5098",
     "59a92d3b476a0443487055cf88b2307b", "deacdd848cc6"},
    {"9e5944aea94b81165c82fbf9f32db751", "ce83dbc54ac0274a157c17f80d017bd6", "0b604a81eca8", "9e09",
     "223014c5806694c007ca1eeef57f004f", "a64a507ae1a2a98bb88eb4210135dc87", "74a58220cba84c49",
     "ac2cc74a96871837", "f365cd683cd92e96", "f0b9c08ad02e", "e203edb3971574f5a94b0d61b816345d",
     "0c4524adeac041c4dd830d20854fc46b", "6085a86c6f63"},
    {"4ab1deb05ca6ceb051fc98e77d026a84", "74b0cd6031a1c8339b2b6ce2b8c4a186", "e880a1b580b6", "9f07",
     "2d16c5cd1fdf6b22383584e3bef2a8d8", "dcf07cbd51855290b92a07a9891e523e", "49e785dd12626ef2",
     "9e85790336bb3fa2", "5860fc1bce351e7e", "31e11a609118", "7657766b373d1c2138f307e3de9242f9",
     "1c42e960d89b8fa99f2744e0708ccb53", "fe2555e54aa9"},
};

static void hex(const char *s, uint8_t *out, size_t len)
{
    assert_int_equal(strlen(s), 2 * len);
    assert_int_equal(cmn_hex_decode(s, out, len), 0);
}

static void assert_hex(const uint8_t *buf, size_t len, const char *expect)
{
    char h[2 * 16 + 1];

    assert_true(len <= 16);
    cmn_hex_encode(buf, len, h);
    assert_string_equal(h, expect);
}

/* TS 35.207 4.3 (test sets 1-5): OPc, f1, f1*, f2, f3, f4, f5, f5*. */
static void test_3gpp_test_sets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        const struct test_set *t = &sets[i];
        uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
        uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_s[6];

        hex(t->k, k, 16), hex(t->rand, rand, 16), hex(t->sqn, sqn, 6), hex(t->amf, amf, 2);
        hex(t->op, op, 16);
        assert_int_equal(cmn_milenage_opc(k, op, opc), 0);
        assert_hex(opc, 16, t->opc);
        assert_int_equal(cmn_milenage_f1(k, opc, rand, sqn, amf, mac_a, mac_s), 0);
        assert_hex(mac_a, 8, t->f1);
        assert_hex(mac_s, 8, t->f1s);
        assert_int_equal(cmn_milenage_f2345(k, opc, rand, res, ck, ik, ak, ak_s), 0);
        assert_hex(res, 8, t->f2);
        assert_hex(ck, 16, t->f3);
        assert_hex(ik, 16, t->f4);
        assert_hex(ak, 6, t->f5);
        assert_hex(ak_s, 6, t->f5s);
    }
}

static void set1(uint8_t k[16], uint8_t opc[16], uint8_t rand[16], uint8_t amf[2])
{
    hex(sets[0].k, k, 16), hex(sets[0].opc, opc, 16), hex(sets[0].rand, rand, 16);
    hex(sets[0].amf, amf, 2);
}

/* AUTN = (SQN xor AK) || AMF || MAC-A; the USIM recovers SQN and RES from it, and a
 * single flipped bit of MAC-A or of the concealed SQN is refused. */
static void test_autn(void **state)
{
    uint8_t k[16], opc[16], rand[16], amf[2], autn[16], xres[8], res[8], ck[16], ik[16];
    uint64_t sqn = 0;

    (void)state;
    set1(k, opc, rand, amf);
    assert_int_equal(
        cmn_milenage_autn(k, opc, rand, 0xff9bb4d0b607ULL, amf, autn, xres, NULL, NULL), 0);
    assert_hex(autn, 16, "55f328b43577b9b94a9ffac354dfafb3");
    assert_hex(xres, 8, sets[0].f2);
    assert_int_equal(cmn_milenage_autn_open(k, opc, rand, autn, &sqn, res, ck, ik), 0);
    assert_true(sqn == 0xff9bb4d0b607ULL);
    assert_memory_equal(res, xres, 8);
    assert_hex(ck, 16, sets[0].f3);
    autn[15] ^= 1;
    assert_int_equal(cmn_milenage_autn_open(k, opc, rand, autn, &sqn, res, NULL, NULL),
                     CMN_EDENIED);
    autn[15] ^= 1;
    autn[0] ^= 0x80;
    assert_int_equal(cmn_milenage_autn_open(k, opc, rand, autn, NULL, NULL, NULL, NULL),
                     CMN_EDENIED);
    assert_int_equal(
        cmn_milenage_autn(k, opc, rand, CMN_MIL_SQN_MAX + 1, amf, autn, NULL, NULL, NULL),
        CMN_EINVAL);
}

/* AUTS = (SQN_MS xor AK*) || f1*(SQN_MS, RAND, AMF = 0000); value computed by
 * integration/tepgba.py (selfcheck KAT_AUTS). */
static void test_auts(void **state)
{
    uint8_t k[16], opc[16], rand[16], amf[2], auts[14];
    uint64_t sqn_ms = 0;

    (void)state;
    set1(k, opc, rand, amf);
    assert_int_equal(cmn_milenage_auts(k, opc, rand, 0x20, auts), 0);
    assert_hex(auts, 14, "451e8beca41bf8ee589d46d835c9");
    assert_int_equal(cmn_milenage_auts_check(k, opc, rand, auts, &sqn_ms), 0);
    assert_true(sqn_ms == 0x20);
    auts[13] ^= 1;
    assert_int_equal(cmn_milenage_auts_check(k, opc, rand, auts, &sqn_ms), CMN_EDENIED);
}

static void test_sqn_bytes(void **state)
{
    uint8_t b[6];

    (void)state;
    cmn_milenage_sqn_put(0x0102030405ffULL, b);
    assert_hex(b, 6, "0102030405ff");
    assert_true(cmn_milenage_sqn_get(b) == 0x0102030405ffULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3gpp_test_sets),
        cmocka_unit_test(test_autn),
        cmocka_unit_test(test_auts),
        cmocka_unit_test(test_sqn_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
