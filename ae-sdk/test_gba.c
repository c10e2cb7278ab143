/* libtepae's GBA core without I/O (tae_gba.c, tae_core.c's [gba] provisioning): the
 * software USIM's SQN window (TS 33.102 6.3.3, C.2.2), AUTS when the challenge is stale,
 * refusal of a foreign network's AUTN, the Ub texts (RFC 3310) and the BootstrappingInfo
 * body (TS 24.109). Keys of the 3GPP test set 1 (TS 35.207); the values on the network
 * side come from cmn_milenage, itself pinned to the test sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "tae_core.h"
#include "tae_gba.h"

static uint8_t k[16], opc[16], rand_[16];
static const uint8_t amf[2] = {0x80, 0x00};

static int setup(void **state)
{
    (void)state;
    cmn_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
    cmn_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", opc, 16);
    cmn_hex_decode("23553cbe9637a89d218ae64dae47bf35", rand_, 16);
    return 0;
}

static void usim_window(void **state)
{
    uint8_t autn[16], xres[8];
    tae_usim_result u;
    uint64_t sqn_ms = 0;

    (void)state;
    /* fresh: SQN_MS < SQN <= SQN_MS + delta */
    assert_int_equal(cmn_milenage_autn(k, opc, rand_, 5, amf, autn, xres, NULL, NULL), 0);
    assert_int_equal(tae_gba_usim(k, opc, 4, rand_, autn, &u), 0);
    assert_int_equal(u.outcome, TAE_USIM_OK);
    assert_true(u.sqn == 5);
    assert_memory_equal(u.res, xres, 8);
    /* replayed (SQN <= SQN_MS): AUTS carrying SQN_MS, checkable by the network */
    assert_int_equal(tae_gba_usim(k, opc, 5, rand_, autn, &u), 0);
    assert_int_equal(u.outcome, TAE_USIM_SYNC);
    assert_int_equal(cmn_milenage_auts_check(k, opc, rand_, u.auts, &sqn_ms), 0);
    assert_true(sqn_ms == 5);
    /* too far ahead (more than delta) */
    assert_int_equal(
        cmn_milenage_autn(k, opc, rand_, TAE_GBA_SQN_DELTA + 10, amf, autn, NULL, NULL, NULL), 0);
    assert_int_equal(tae_gba_usim(k, opc, 9, rand_, autn, &u), 0);
    assert_int_equal(u.outcome, TAE_USIM_SYNC);
    /* a network without K */
    autn[10] ^= 1;
    assert_int_equal(tae_gba_usim(k, opc, 0, rand_, autn, &u), CMN_EDENIED);
}

static void ub_texts(void **state)
{
    static const uint8_t res[8] = {0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf};
    cmn_digest_auth ch, back;
    uint8_t r[16], a[16];
    char auth[TAE_GBA_AUTH_MAX];
    int64_t life = 0;
    char btid[64];

    (void)state;
    assert_int_equal(tae_gba_challenge("Digest realm=\"bsf.tep.local\", "
                                       "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", "
                                       "algorithm=AKAv1-MD5, qop=\"auth-int\"",
                                       &ch, r, a),
                     0);
    assert_memory_equal(r, rand_, 16);
    assert_int_equal(
        tae_gba_challenge("Digest realm=\"x\", nonce=\"abcd\", algorithm=MD5", &ch, r, a),
        CMN_EPROTO);
    assert_int_equal(tae_gba_challenge("Digest realm=\"bsf.tep.local\", "
                                       "nonce=\"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=\", "
                                       "algorithm=AKAv1-MD5, qop=\"auth-int\"",
                                       &ch, r, a),
                     0);
    /* the answer carries the digest of test_digest.c's independent KAT */
    assert_int_equal(tae_gba_authorization("001010000000001@ims.mnc001.mcc001.3gppnetwork.org", "",
                                           "/", &ch, res, NULL, "0a4f113b", auth, sizeof(auth)),
                     0);
    assert_int_equal(cmn_digest_parse(auth, &back), 0);
    assert_string_equal(back.response, "642bf1edb11665810df4d76a61df5ffb");
    assert_string_equal(back.auts, "");
    assert_int_equal(tae_gba_parse_info("<BootstrappingInfo><btid>AB==@bsf</btid>"
                                        "<lifetime>2026-12-06T05:00:00Z</lifetime>"
                                        "</BootstrappingInfo>",
                                        btid, sizeof(btid), &life),
                     0);
    assert_string_equal(btid, "AB==@bsf");
    assert_true(life == 1796533200);
    assert_int_equal(
        tae_gba_parse_info("<btid>x</btid><lifetime>soon</lifetime>", btid, sizeof(btid), &life),
        CMN_EPROTO);
}

static void provisioning_gba(void **state)
{
    tae_prov p;

    (void)state;
    assert_int_equal(tae_core_parse_provisioning(
                         "[device]\nmef_uri = coaps://127.0.0.1:5784\nmef_fqdn = mef.tep.local\n"
                         "[gba]\nimpi = 1@ims\nk = 465b5ce8b199b49faa5f0a2ee238a6bc\n"
                         "opc = cd63cb71954a9f4e48a5994e37a02baf\n"
                         "bsf_uri = http://127.0.0.1:8480/\n",
                         &p),
                     0);
    assert_true(p.gba);
    assert_string_equal(p.gba_impi, "1@ims");
    assert_memory_equal(p.gba_k, k, 16);
    /* no OPc, or a Ub that is not HTTP: refused */
    assert_int_equal(tae_core_parse_provisioning(
                         "[device]\nmef_uri = coaps://127.0.0.1:5784\nmef_fqdn = mef.tep.local\n"
                         "[gba]\nimpi = 1@ims\nk = 465b5ce8b199b49faa5f0a2ee238a6bc\n"
                         "bsf_uri = http://127.0.0.1:8480/\n",
                         &p),
                     CMN_ECONFIG);
    assert_int_equal(tae_core_parse_provisioning(
                         "[device]\nmef_uri = coaps://127.0.0.1:5784\nmef_fqdn = mef.tep.local\n"
                         "[gba]\nimpi = 1@ims\nk = 465b5ce8b199b49faa5f0a2ee238a6bc\n"
                         "opc = cd63cb71954a9f4e48a5994e37a02baf\nbsf_uri = ftp://x/\n",
                         &p),
                     CMN_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usim_window),
        cmocka_unit_test(ub_texts),
        cmocka_unit_test(provisioning_gba),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
