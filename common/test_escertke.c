/* ESCertKE (TS-0003 8.7, 10.3.1): both end points in memory, the four messages passed by
 * hand. The known-answer values were computed with Python's hmac by
 * integration/tepkeys.py, not with wolfSSL:
 *
 *   import tepkeys as t
 *   t.tls12_prf_sha256(bytes.fromhex("9bbe436ba940f017b17652849a71db35"), b"test label",
 *                      bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"), 100).hex()
 *   ms, cr, sr = bytes(range(48)), bytes(range(0x40, 0x60)), bytes(range(0x60, 0x80))
 *   kid, k = t.escertke_exporter(ms, cr, sr)       # (bytes 0..15, bytes 16..47)
 *   t.e2e_master(k, "/tep-cse").hex(); t.e2e_keys(k, "/tep-cse")["msg_conf"].hex()
 *
 * (the first is the published TLS 1.2 SHA-256 PRF test vector). The live handshake's
 * exporter is checked against the same PRF over the master secret and randoms wolfSSL
 * reports, so label, absence of context, length and split are all pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_escertke.h"

#define PRF_VECTOR                                                                                 \
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9"           \
    "a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa480"           \
    "82d122ee42c5a72e5a5110fff70187347b66"
#define KAT_KEY_ID "9c1759ccef46f334a01dc9ffc106be51"
#define KAT_KEY "28dbcb28e58c820aa3f40c0ebb42ae7ca9a7b0eb8e781a74566ed0a3b8e5bf69"
#define KAT_MASTER "fd772a6d23882fb1fc6688a2d1cd044c7f88dc28b6ee70f825948d56f69f6f3c"
#define KAT_MSG_CONF "ad76156778b918cb02ba40e24789b3144e450ab1ce959e41008ecc7f76d9df16"

/* P_SHA256 (RFC 5246 5), written here from the RFC on cmn_hmac_sha256. */
static void prf(const uint8_t *secret, size_t slen, const char *label, const uint8_t *seed,
                size_t seedlen, uint8_t *out, size_t len)
{
    uint8_t ls[256], a[32], blk[32 + 256];
    size_t lslen = strlen(label) + seedlen;
    assert_true(lslen <= sizeof ls);
    memcpy(ls, label, strlen(label));
    memcpy(ls + strlen(label), seed, seedlen);
    assert_int_equal(cmn_hmac_sha256(secret, slen, ls, lslen, a), 0);
    for (size_t done = 0; done < len;) {
        uint8_t t[32];
        size_t n;
        memcpy(blk, a, 32);
        memcpy(blk + 32, ls, lslen);
        assert_int_equal(cmn_hmac_sha256(secret, slen, blk, 32 + lslen, t), 0);
        n = len - done < 32 ? len - done : 32;
        memcpy(out + done, t, n);
        done += n;
        assert_int_equal(cmn_hmac_sha256(secret, slen, a, 32, a), 0);
    }
}

static void assert_hex(const uint8_t *b, size_t n, const char *expect)
{
    char hex[2 * 128 + 1];
    assert_true(n <= 128);
    cmn_hex_encode(b, n, hex);
    assert_string_equal(hex, expect);
}

static void test_prf_vector(void **state)
{
    uint8_t secret[16], seed[16], out[100];

    (void)state;
    assert_int_equal(cmn_hex_decode("9bbe436ba940f017b17652849a71db35", secret, 16), 0);
    assert_int_equal(cmn_hex_decode("a0ba9f936cda311827a6f796ffd5198c", seed, 16), 0);
    prf(secret, 16, "test label", seed, 16, out, sizeof out);
    assert_hex(out, sizeof out, PRF_VECTOR);
}

/* Fixed master secret and randoms -> exporter -> split -> Ke2e_master (B = /tep-cse). */
static void test_kat_chain(void **state)
{
    uint8_t master[CMN_KEY_LEN];
    cmn_e2e_keys keys;

    uint8_t ms[48], rnd[64], ex[CMN_EXPORTER_LEN], kid[CMN_REL_ID_LEN], key[CMN_KEY_LEN];

    (void)state;
    for (int i = 0; i < 48; i++)
        ms[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        rnd[i] = (uint8_t)(0x40 + i);
    prf(ms, 48, CMN_LABEL_ESCERTKE, rnd, 64, ex, sizeof ex);
    cmn_kdf_split_exporter(ex, kid, key);
    assert_hex(kid, sizeof kid, KAT_KEY_ID);
    assert_hex(key, sizeof key, KAT_KEY);
    assert_int_equal(cmn_e2e_master(key, "/tep-cse", master), 0);
    assert_hex(master, sizeof master, KAT_MASTER);
    assert_int_equal(cmn_e2e_keys_from_pair(key, "/tep-cse", &keys), 0);
    assert_hex(keys.msg_conf, sizeof keys.msg_conf, KAT_MSG_CONF);
}

/* A CA and certificates for two identifiers under it. */
typedef struct {
    uint8_t key[CMN_CA_KEY_DER_MAX];
    size_t key_len;
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t cert_len;
} cred;

static void make_ca(cred *ca, const char *name)
{
    int64_t now = (int64_t)time(NULL);
    ca->key_len = sizeof ca->key;
    ca->cert_len = sizeof ca->cert;
    assert_int_equal(cmn_ca_key_new(ca->key, &ca->key_len), 0);
    assert_int_equal(
        cmn_ca_make_root(ca->key, ca->key_len, name, now, now + 86400, ca->cert, &ca->cert_len), 0);
}

static void issue(const cred *ca, const char *id, cred *ret)
{
    int64_t now = (int64_t)time(NULL);
    uint8_t csr[1024];
    size_t csr_len = sizeof csr;
    cmn_ca c = {ca->key, ca->key_len, ca->cert, ca->cert_len};
    ret->key_len = sizeof ret->key;
    ret->cert_len = sizeof ret->cert;
    assert_int_equal(cmn_ca_key_new(ret->key, &ret->key_len), 0);
    assert_int_equal(cmn_ca_make_csr(ret->key, ret->key_len, id, csr, &csr_len), 0);
    assert_int_equal(
        cmn_ca_issue(&c, csr, csr_len, id, now, now + 86400, ret->cert, &ret->cert_len), 0);
}

/* The tep CA, a device Cdevice01 and tep-cse /tep-cse under it. */
static void make_pair(cred *ca, cred *dev, cred *cse)
{
    make_ca(ca, "tep CA");
    issue(ca, "Cdevice01", dev);
    issue(ca, "/tep-cse", cse);
}

static cmn_escertke *end_point(bool initiator, const cred *ca, const cred *me)
{
    cmn_escertke *k = NULL;
    assert_int_equal(cmn_escertke_new(initiator, ca->cert, ca->cert_len, me->cert, me->cert_len,
                                      me->key, me->key_len, &k),
                     0);
    return k;
}

/* Runs the four messages; tamper (1..4) flips a byte in the middle of that message.
 * Returns the first error (0 when both ends are done). */
static int run(cmn_escertke *i, cmn_escertke *t, int tamper)
{
    uint8_t *m = NULL;
    size_t len = 0;
    bool done = false;
    int rc = 0;
    uint8_t *last;
    for (int n = 1; n <= 4; n++) {
        uint8_t *next = NULL;
        size_t nlen = 0;
        cmn_escertke *who = n % 2 == 1 ? i : t; /* the end that makes message n */
        rc = cmn_escertke_step(who, m, len, &next, &nlen, &done);
        free(m);
        m = NULL;
        if (rc != 0)
            return rc;
        assert_non_null(next);
        assert_false(done != (n == 4));
        if (tamper == n)
            next[nlen / 2] ^= 0x01;
        m = next;
        len = nlen;
    }
    last = NULL;
    rc = cmn_escertke_step(i, m, len, &last, &len, &done);
    free(m);
    m = last;
    if (rc == 0) {
        assert_null(m);
        assert_true(done);
    }
    free(m);
    return rc;
}

static void test_handshake(void **state)
{
    char id[CMN_CA_ID_MAX];
    cred ca, dev, cse;
    cmn_escertke *i, *t, *i2, *t2;
    uint8_t ki[CMN_REL_ID_LEN], kt[CMN_REL_ID_LEN], a[CMN_KEY_LEN], b[CMN_KEY_LEN];
    uint8_t ms[48], rnd[64], ex[CMN_EXPORTER_LEN], want[CMN_EXPORTER_LEN];
    uint8_t k2[CMN_REL_ID_LEN], b2[CMN_KEY_LEN];

    (void)state;
    make_pair(&ca, &dev, &cse);
    i = end_point(true, &ca, &dev);
    t = end_point(false, &ca, &cse);
    assert_int_equal(run(i, t, 0), 0);

    assert_int_equal(cmn_escertke_peer_id(i, id, sizeof id), 0);
    assert_string_equal(id, "/tep-cse");
    assert_int_equal(cmn_escertke_peer_id(t, id, sizeof id), 0);
    assert_string_equal(id, "Cdevice01");

    assert_int_equal(cmn_escertke_key(i, ki, a), 0);
    assert_int_equal(cmn_escertke_key(t, kt, b), 0);
    assert_memory_equal(ki, kt, sizeof ki);
    assert_memory_equal(a, b, sizeof a);

    /* The exporter is RFC 5705's over this session: PRF(master, label, cr || sr). */
    assert_int_equal(cmn_escertke_secrets(t, ms, rnd, rnd + 32), 0);
    prf(ms, 48, CMN_LABEL_ESCERTKE, rnd, 64, want, sizeof want);
    assert_int_equal(cmn_escertke_export(i, ex), 0);
    assert_memory_equal(ex, want, sizeof ex);
    assert_memory_equal(ex, ki, CMN_REL_ID_LEN);
    assert_memory_equal(ex + CMN_REL_ID_LEN, a, CMN_KEY_LEN);

    /* A second run gives another key. */
    i2 = end_point(true, &ca, &dev);
    t2 = end_point(false, &ca, &cse);
    assert_int_equal(run(i2, t2, 0), 0);
    assert_int_equal(cmn_escertke_key(i2, k2, b2), 0);
    assert_memory_not_equal(b2, a, sizeof a);
    cmn_escertke_free(i2);
    cmn_escertke_free(t2);
    cmn_escertke_free(i);
    cmn_escertke_free(t);
}

/* A certificate from another CA is refused by either end. */
static void test_other_ca(void **state)
{
    cred evil_cse;
    cred ca, other, dev, cse, evil;
    cmn_escertke *i, *t;
    uint8_t kid[CMN_REL_ID_LEN], key[CMN_KEY_LEN];

    (void)state;
    make_ca(&ca, "tep CA");
    make_ca(&other, "tep CA"); /* same name, other key */
    issue(&ca, "Cdevice01", &dev);
    issue(&ca, "/tep-cse", &cse);
    issue(&other, "Cdevice01", &evil);

    i = end_point(true, &other, &evil);
    t = end_point(false, &ca, &cse);
    assert_int_equal(run(i, t, 0), CMN_EDENIED);
    assert_int_equal(cmn_escertke_key(t, kid, key), CMN_ESTATE);
    cmn_escertke_free(i);
    cmn_escertke_free(t);

    /* and the initiator refuses a terminator from the other CA */
    issue(&other, "/tep-cse", &evil_cse);
    i = end_point(true, &ca, &dev);
    t = end_point(false, &other, &evil_cse);
    assert_int_equal(run(i, t, 0), CMN_EDENIED);
    cmn_escertke_free(i);
    cmn_escertke_free(t);
}

/* A flipped bit in any message ends the handshake, never with a key. */
static void test_tampered(void **state)
{
    cred ca, dev, cse;

    (void)state;
    make_pair(&ca, &dev, &cse);
    for (int n = 1; n <= 4; n++) {
        cmn_escertke *i = end_point(true, &ca, &dev), *t = end_point(false, &ca, &cse);
        int rc = run(i, t, n);
        uint8_t kid[CMN_REL_ID_LEN], key[CMN_KEY_LEN];

        assert_true(rc == CMN_EDENIED || rc == CMN_EPROTO);
        assert_int_not_equal(cmn_escertke_key(i, kid, key), 0);
        cmn_escertke_free(i);
        cmn_escertke_free(t);
    }
}

/* Out of order, truncated or empty messages are protocol errors. */
static void test_bad_sequence(void **state)
{
    bool done;
    cred ca, dev, cse;
    cmn_escertke *i, *t;
    uint8_t *m = NULL, *m2 = NULL;
    size_t len = 0, len2 = 0;

    (void)state;
    make_pair(&ca, &dev, &cse);
    i = end_point(true, &ca, &dev);
    t = end_point(false, &ca, &cse);
    done = false;
    /* the terminator needs message 1 */
    assert_int_equal(cmn_escertke_step(t, NULL, 0, &m2, &len2, &done), CMN_EPROTO);
    cmn_escertke_free(t);
    t = end_point(false, &ca, &cse);
    assert_int_equal(cmn_escertke_step(i, NULL, 0, &m, &len, &done), 0);
    /* half a ClientHello is not a message */
    assert_int_equal(cmn_escertke_step(t, m, len / 2, &m2, &len2, &done), CMN_EPROTO);
    assert_null(m2);
    /* and the object is dead after it */
    assert_int_equal(cmn_escertke_step(t, m, len, &m2, &len2, &done), CMN_ESTATE);
    free(m);
    cmn_escertke_free(i);
    cmn_escertke_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prf_vector), cmocka_unit_test(test_kat_chain),
        cmocka_unit_test(test_handshake),  cmocka_unit_test(test_other_ca),
        cmocka_unit_test(test_tampered),   cmocka_unit_test(test_bad_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
