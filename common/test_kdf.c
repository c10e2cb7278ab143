/* Known-answer tests for the TS-0003 key hierarchy as tep implements it.
 * Every expected value below was computed independently with Python's hmac/hashlib
 * (not with wolfCrypt), by this script:
 *
 *   import hmac, hashlib
 *   H = lambda k, m: hmac.new(k, m, hashlib.sha256).digest()
 *   exp = bytes(range(48)); print(exp[:16].hex(), exp[16:].hex())       # split
 *   ke = bytes(range(32))
 *   kpsa = H(ke, b"oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
 *               + b"/tep-cse")
 *   km = H(ke, b"oneM2M Enrolment Key to Master Credential derivation" + b"maf.tep.local")
 *   kuc = H(ke, b"oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"
 *              + b"22" + b"/tep-cse")
 *   kpsaid = H(kpsa, b"tep KpsaID")[:16].hex() + "@mef.tep.local"
 *   kmid = H(km, b"tep KmID")[:16].hex() + "@maf.tep.local"
 *   kucid = H(kuc, b"tep KucID")[:16].hex() + "@mef.tep.local"
 *   kuc_mn1 = H(ke, <Kuc label> + b"22" + b"/mn1"); H(kuc_mn1, b"tep KucID")[:16].hex()
 *   # whole chain from the exporter: Ke = exp[16:]
 *   kpsa2 = H(exp[16:], <Kpsa label> + b"/tep-cse"); H(kpsa2, b"tep KpsaID")[:16].hex()
 *
 * The same values are the worked example of docs/keys.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"

#define KAT_REL_ID "000102030405060708090a0b0c0d0e0f"
#define KAT_KE_SPLIT "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define KAT_KEID "000102030405060708090a0b0c0d0e0f@mef.tep.local"
#define KAT_KPSA "43385c78eb238860e59a16382e1e011a3bc9937113969f01a2325255d26a817c"
#define KAT_KM "75da875b90ca316aa52329d7e51ecd37d3ea933c6bd825b2b7cca2cb164238e6"
#define KAT_KUC22 "5c56fc023d0ba21b86ea9c4b73d80ebab65ed0a7c82a53e24002a64fb37f4b53"
#define KAT_KPSAID "a3c17bd1c9c8dabf840873d1ffe1f1b9@mef.tep.local"
#define KAT_KMID "ab0627e2b159b194f290447a0cce2d4e@maf.tep.local"
#define KAT_KUCID22 "cc16e30d63c989e7f7d44fa81606ef18@mef.tep.local"
#define KAT_KUC22_MN1 "6e012ba7ba9fa1da1fd49826dc5555b8433438fa040d6a817aa9722bb853923a"
#define KAT_KUCID22_MN1 "36c9b6c54491c4e53322bd49ba91573a@mef.tep.local"
#define KAT_CHAIN_KPSA "e3a6bec8c33a5d3ff88835c3199a089685b49da05d17bd7a3a182de549ae8266"
#define KAT_CHAIN_KPSAID "181a4dc98eb5bf7b3e212074462657e8@mef.tep.local"

static void fixed_ke(uint8_t ke[CMN_KEY_LEN])
{
    for (int i = 0; i < CMN_KEY_LEN; i++)
        ke[i] = (uint8_t)i;
}

static void assert_key_hex(const uint8_t key[CMN_KEY_LEN], const char *expect)
{
    char hex[2 * CMN_KEY_LEN + 1];

    cmn_hex_encode(key, CMN_KEY_LEN, hex);
    assert_string_equal(hex, expect);
}

/* TS-0003 10.3.1: RelativeKeID = 16 most significant bytes = exporter[0..15],
 * Ke = 32 least significant bytes = exporter[16..47]. */
static void test_exporter_split(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN], rel[CMN_REL_ID_LEN], ke[CMN_KEY_LEN];
    char hex[2 * CMN_KEY_LEN + 1];
    (void)state;

    for (int i = 0; i < CMN_EXPORTER_LEN; i++)
        exp[i] = (uint8_t)i;
    cmn_kdf_split_exporter(exp, rel, ke);
    cmn_hex_encode(rel, sizeof(rel), hex);
    assert_string_equal(hex, KAT_REL_ID);
    assert_key_hex(ke, KAT_KE_SPLIT);
}

/* TS-0003 10.3.4: KeID = hexBinary(RelativeKeID) "@" MEF-FQDN. */
static void test_key_id(void **state)
{
    uint8_t rel[CMN_REL_ID_LEN];
    char id[CMN_KEY_ID_MAX];
    char small[sizeof(KAT_KEID) - 1]; /* one byte short for the NUL */
    (void)state;

    for (int i = 0; i < CMN_REL_ID_LEN; i++)
        rel[i] = (uint8_t)i;
    assert_int_equal(cmn_kdf_key_id(rel, "mef.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_KEID);
    assert_int_equal(cmn_kdf_key_id(rel, "mef.tep.local", small, sizeof(small)), CMN_ERANGE);
    assert_int_equal(cmn_kdf_key_id(rel, "", id, sizeof(id)), CMN_EINVAL);
}

/* The shape cmn_kdf_key_id makes, recognised (tep-cse asks the MAF only for such ids). */
static void test_is_key_id(void **state)
{
    char long_id[CMN_KEY_ID_MAX + 1];
    (void)state;

    assert_true(cmn_kdf_is_key_id(KAT_KEID));
    assert_true(cmn_kdf_is_key_id("000102030405060708090A0B0C0D0E0F@maf"));
    assert_false(cmn_kdf_is_key_id("0001@maf.tep.local"));                   /* short */
    assert_false(cmn_kdf_is_key_id("000102030405060708090a0b0c0d0e0g@maf")); /* not hex */
    assert_false(cmn_kdf_is_key_id("000102030405060708090a0b0c0d0e0f@"));    /* no FQDN */
    assert_false(cmn_kdf_is_key_id("000102030405060708090a0b0c0d0e0f"));     /* no '@' */
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    long_id[2 * CMN_REL_ID_LEN] = '@';
    assert_false(cmn_kdf_is_key_id(long_id)); /* too long */
}

/* TS-0003 10.3.1 (2nd paragraph), 10.3.5, 8.8.2.7: the MAF session key. The exporter
 * with label EXPORTER-oneM2M-Connection (48 bytes) splits like the bootstrap one:
 * KcID = exporter[0..15], Kc = exporter[16..47]; Key Identifier = hex(KcID) "@"
 * MAF-FQDN, lower-case hex (the psk_identity entity A sends to entity B, 8.2.2.3).
 * python3: e = bytes(range(0xa0, 0xd0)); e[:16].hex(), e[16:].hex() */
static void test_kc_split_and_key_identifier(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN], kc_id[CMN_REL_ID_LEN], kc[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    (void)state;

    assert_string_equal(CMN_LABEL_CONNECTION, "EXPORTER-oneM2M-Connection");
    for (int i = 0; i < CMN_EXPORTER_LEN; i++)
        exp[i] = (uint8_t)(0xa0 + i);
    cmn_kdf_split_exporter(exp, kc_id, kc);
    assert_key_hex(kc, "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf");
    assert_int_equal(cmn_kdf_key_id(kc_id, "maf.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf@maf.tep.local");
}

/* TS-0003 10.3.3: Kpsa = HMAC-SHA-256(Ke, label || registrar CSE-ID). */
static void test_kpsa(void **state)
{
    uint8_t ke[CMN_KEY_LEN], kpsa[CMN_KEY_LEN];
    (void)state;

    fixed_ke(ke);
    assert_int_equal(cmn_kdf_kpsa(ke, "/tep-cse", kpsa), 0);
    assert_key_hex(kpsa, KAT_KPSA);
}

/* TS-0003 10.3.2: Km = HMAC-SHA-256(Ke, label || MAF-ID). */
static void test_km(void **state)
{
    uint8_t ke[CMN_KEY_LEN], km[CMN_KEY_LEN];
    (void)state;

    fixed_ke(ke);
    assert_int_equal(cmn_kdf_km(ke, "maf.tep.local", km), 0);
    assert_key_hex(km, KAT_KM);
}

/* TS-0003 10.3.7: Kuc = HMAC-SHA-256(Ke, label || SUID || target); SUID as decimal ASCII. */
static void test_kuc(void **state)
{
    uint8_t ke[CMN_KEY_LEN], kuc[CMN_KEY_LEN], kuc_other[CMN_KEY_LEN];
    (void)state;

    fixed_ke(ke);
    assert_int_equal(cmn_kdf_kuc(ke, 22, "/tep-cse", kuc), 0);
    assert_key_hex(kuc, KAT_KUC22);
    assert_int_equal(cmn_kdf_kuc(ke, 23, "/tep-cse", kuc_other), 0);
    assert_memory_not_equal(kuc, kuc_other, CMN_KEY_LEN);
}

/* TS-0003 10.5/10.6 leave the relative part open: tep derives it from the key. */
static void test_kpsa_id_and_km_id(void **state)
{
    uint8_t kpsa[CMN_KEY_LEN], km[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    (void)state;

    assert_int_equal(cmn_hex_decode(KAT_KPSA, kpsa, sizeof(kpsa)), 0);
    assert_int_equal(cmn_kdf_kpsa_id(kpsa, "mef.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_KPSAID);
    assert_int_equal(cmn_hex_decode(KAT_KM, km, sizeof(km)), 0);
    assert_int_equal(cmn_kdf_km_id(km, "maf.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_KMID);
    assert_int_equal(cmn_kdf_kpsa_id(kpsa, "mef.tep.local", id, 10), CMN_ERANGE);
}

/* MEF Key Registration of a usage-constrained key (8.3.5.2.7): Kuc for a second target
 * and its Key Identifier, as the device, the MEF and the target compute them. */
static void test_kuc_id(void **state)
{
    uint8_t ke[CMN_KEY_LEN], kuc[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    (void)state;

    for (int i = 0; i < CMN_KEY_LEN; i++)
        ke[i] = (uint8_t)i;
    assert_int_equal(cmn_kdf_kuc(ke, 22, "/tep-cse", kuc), 0);
    assert_int_equal(cmn_kdf_kuc_id(kuc, "mef.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_KUCID22);
    assert_int_equal(cmn_kdf_kuc(ke, 22, "/mn1", kuc), 0);
    assert_key_hex(kuc, KAT_KUC22_MN1);
    assert_int_equal(cmn_kdf_kuc_id(kuc, "mef.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_KUCID22_MN1);
}

/* Exporter output -> Ke -> Kpsa -> KpsaID, as the MEF and the device both run it. */
static void test_whole_chain(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN], rel[CMN_REL_ID_LEN], ke[CMN_KEY_LEN], kpsa[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    (void)state;

    for (int i = 0; i < CMN_EXPORTER_LEN; i++)
        exp[i] = (uint8_t)i;
    cmn_kdf_split_exporter(exp, rel, ke);
    assert_int_equal(cmn_kdf_kpsa(ke, "/tep-cse", kpsa), 0);
    assert_key_hex(kpsa, KAT_CHAIN_KPSA);
    assert_int_equal(cmn_kdf_kpsa_id(kpsa, "mef.tep.local", id, sizeof(id)), 0);
    assert_string_equal(id, KAT_CHAIN_KPSAID);
}

/* Identifiers must be printable ASCII (NFKC is then the identity): others are refused
 * and the output is left untouched. */
static void test_non_ascii_ids_refused(void **state)
{
    uint8_t ke[CMN_KEY_LEN], out[CMN_KEY_LEN], untouched[CMN_KEY_LEN];
    uint8_t rel[CMN_REL_ID_LEN] = {0};
    char id[CMN_KEY_ID_MAX];
    (void)state;

    fixed_ke(ke);
    memset(out, 0xee, sizeof(out));
    memcpy(untouched, out, sizeof(out));
    /* "/tep-cs\u00e9" (UTF-8), and a fullwidth "/" (U+FF0F), which NFKC maps to "/" */
    assert_int_equal(cmn_kdf_kpsa(ke, "/tep-cs\xc3\xa9", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_kpsa(ke, "\xef\xbc\x8ftep-cse", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_km(ke, "maf.t\xc3\xa9p.local", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_kuc(ke, 22, "/tep\x7f", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_kpsa(ke, "/tep cse", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_kpsa(ke, "", out), CMN_EINVAL);
    assert_int_equal(cmn_kdf_kpsa(ke, NULL, out), CMN_EINVAL);
    assert_memory_equal(out, untouched, sizeof(out));
    assert_int_equal(cmn_kdf_key_id(rel,
                                    "m\xc3\xa9"
                                    "f.local",
                                    id, sizeof(id)),
                     CMN_EINVAL);
    assert_int_equal(cmn_kdf_kpsa_id(ke, "mef\n.local", id, sizeof(id)), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exporter_split),
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_is_key_id),
        cmocka_unit_test(test_kc_split_and_key_identifier),
        cmocka_unit_test(test_kpsa),
        cmocka_unit_test(test_km),
        cmocka_unit_test(test_kuc),
        cmocka_unit_test(test_kpsa_id_and_km_id),
        cmocka_unit_test(test_whole_chain),
        cmocka_unit_test(test_kuc_id),
        cmocka_unit_test(test_non_ascii_ids_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
