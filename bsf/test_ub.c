/* tep-bsf's Ub logic without HTTP (bsf_ub_handle): the whole HTTP Digest AKA exchange of
 * TS 33.220 4.5.2 against a store in a temporary directory, with cmn_milenage as the
 * USIM; then the refusals: unknown IMPI, wrong RES, a nonce used twice, AUTS with a bad
 * MAC-S, and re-synchronisation moving SQN_HE to the USIM's SQN_MS. Integration 190-194
 * run the same against the real daemon with an independent Python USIM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bsf_config.h"
#include "bsf_db.h"
#include "bsf_ub.h"
#include "cmn_crypto.h"
#include "cmn_digest.h"
#include "cmn_err.h"
#include "cmn_gba.h"
#include "cmn_milenage.h"
#include "tst.h"

#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define NOW 1800000000

typedef struct {
    char dir[64];
    bsf_config cfg;
    cmn_store *store;
    bsf_ub *ub;
    uint8_t k[16], opc[16];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    Tep__GbaSubscriber sub = TEP__GBA_SUBSCRIBER__INIT;
    char err[256];

    if (tst_tmpdir("bsf", f->dir, sizeof(f->dir)) != 0)
        return -1;
    setenv("TEP_BSF_DATA_DIR", f->dir, 1);
    if (bsf_config_load(NULL, &f->cfg, err, sizeof(err)) != 0 ||
        bsf_db_open(f->dir, &f->store) != 0 || bsf_ub_new(&f->cfg, f->store, false, &f->ub))
        return -1;
    cmn_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", f->k, 16);
    cmn_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", f->opc, 16);
    sub.impi = IMPI;
    sub.k = (ProtobufCBinaryData){16, f->k};
    sub.opc = (ProtobufCBinaryData){16, f->opc};
    sub.sqn = 0;
    if (bsf_db_subscriber_add(f->store, &sub, NOW) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    bsf_ub_free(f->ub);
    cmn_store_close(f->store);
    bsf_config_free(&f->cfg);
    rc = tst_rmtree(f->dir);
    free(f);
    return rc;
}

static void first(fixture *f, const char *impi, bsf_ub_answer *a)
{
    char h[400];

    snprintf(h, sizeof(h),
             "Digest username=\"%s\", realm=\"bsf.tep.local\", nonce=\"\", "
             "uri=\"/\", response=\"\"",
             impi);
    bsf_ub_handle(f->ub, "GET", "/", h, NOW, a);
}

/* The nonce of a 401's WWW-Authenticate, decoded into RAND and AUTN. */
static void nonce_of(const bsf_ub_answer *a, char nonce[64], uint8_t rand[16], uint8_t autn[16])
{
    const char *p = strstr(a->www_authenticate, "nonce=\"");
    uint8_t raw[32];
    size_t n;

    assert_non_null(p);
    p += 7;
    n = strcspn(p, "\"");
    assert_true(n < 64);
    memcpy(nonce, p, n);
    nonce[n] = '\0';
    assert_int_equal(cmn_gba_b64_decode(nonce, raw, 32), 0);
    memcpy(rand, raw, 16), memcpy(autn, raw + 16, 16);
}

static void second(fixture *f, const char *nonce, const uint8_t *pw, size_t pwlen, const char *auts,
                   bsf_ub_answer *a)
{
    char resp[CMN_DIGEST_HEX_LEN + 1], h[700];

    assert_int_equal(cmn_digest_response(IMPI, "bsf.tep.local", pw, pwlen, "GET", "/", nonce,
                                         "00000001", "c0ffee", "auth-int", NULL, 0, resp),
                     0);
    snprintf(h, sizeof(h),
             "Digest username=\"" IMPI "\", realm=\"bsf.tep.local\", "
             "nonce=\"%s\", uri=\"/\", qop=auth-int, nc=00000001, cnonce=\"c0ffee\", "
             "response=\"%s\", algorithm=AKAv1-MD5%s%s%s",
             nonce, resp, auts != NULL ? ", auts=\"" : "", auts != NULL ? auts : "",
             auts != NULL ? "\"" : "");
    bsf_ub_handle(f->ub, "GET", "/", h, NOW, a);
}

static void test_bootstrap(void **state)
{
    fixture *f = *state;
    bsf_ub_answer a;
    char nonce[64];
    uint8_t rand[16], autn[16], res[8];
    uint64_t sqn = 0;
    Tep__GbaBootstrap *b = NULL;
    char btid[CMN_GBA_BTID_MAX];

    first(f, IMPI, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.www_authenticate, "algorithm=AKAv1-MD5"));
    nonce_of(&a, nonce, rand, autn);
    assert_int_equal(cmn_milenage_autn_open(f->k, f->opc, rand, autn, &sqn, res, NULL, NULL), 0);
    assert_true(sqn == 1);
    second(f, nonce, res, 8, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(cmn_gba_btid(rand, "bsf.tep.local", btid, sizeof(btid)), 0);
    assert_non_null(strstr(a.body, btid));
    assert_int_equal(bsf_db_btid_get(f->store, btid, &b), 0);
    assert_true(b->expires == NOW + 3600);
    bsf_db_btid_free(b);
    /* the nonce was single use */
    second(f, nonce, res, 8, NULL, &a);
    assert_int_equal(a.status, 401);
    assert_non_null(strstr(a.www_authenticate, "stale=TRUE"));
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    bsf_ub_answer a;
    char nonce[64];
    uint8_t rand[16], autn[16], res[8];

    char known[sizeof(a.www_authenticate)];

    /* an unknown IMPI gets a challenge of the same shape as a subscriber's (no
     * enumeration: integration 239 answers it) */
    first(f, IMPI, &a);
    assert_int_equal(a.status, 401);
    snprintf(known, sizeof(known), "%s", a.www_authenticate);
    first(f, "nobody@ims.example", &a);
    assert_int_equal(a.status, 401);
    assert_int_equal(strlen(a.www_authenticate), strlen(known));
    assert_memory_equal(a.www_authenticate, known, strstr(known, "nonce=") - known);
    first(f, IMPI, &a);
    nonce_of(&a, nonce, rand, autn);
    assert_int_equal(cmn_milenage_autn_open(f->k, f->opc, rand, autn, NULL, res, NULL, NULL), 0);
    res[0] ^= 1;
    second(f, nonce, res, 8, NULL, &a);
    assert_int_equal(a.status, 403);
    bsf_ub_handle(f->ub, "POST", "/", NULL, NOW, &a);
    assert_int_equal(a.status, 405);
    bsf_ub_handle(f->ub, "GET", "/", NULL, NOW, &a);
    assert_int_equal(a.status, 400);
}

/* The USIM is ahead (SQN_MS = 1000): AUTS moves SQN_HE there, the next challenge is 1001. */
static void test_resync(void **state)
{
    fixture *f = *state;
    bsf_ub_answer a;
    char nonce[64], auts_b64[32];
    uint8_t rand[16], autn[16], auts[14];
    uint64_t sqn = 0;

    first(f, IMPI, &a);
    nonce_of(&a, nonce, rand, autn);
    assert_int_equal(cmn_milenage_auts(f->k, f->opc, rand, 1000, auts), 0);
    assert_int_equal(cmn_gba_b64_encode(auts, 14, auts_b64, sizeof(auts_b64)), 0);
    second(f, nonce, NULL, 0, auts_b64, &a);
    assert_int_equal(a.status, 401);
    nonce_of(&a, nonce, rand, autn);
    assert_int_equal(cmn_milenage_autn_open(f->k, f->opc, rand, autn, &sqn, NULL, NULL, NULL), 0);
    assert_true(sqn == 1001);
    /* a forged AUTS is refused */
    auts[13] ^= 1;
    assert_int_equal(cmn_gba_b64_encode(auts, 14, auts_b64, sizeof(auts_b64)), 0);
    second(f, nonce, NULL, 0, auts_b64, &a);
    assert_int_equal(a.status, 403);
}

static uint64_t sqn_of(fixture *f, const bsf_ub_answer *a, char nonce[64], uint8_t res[8])
{
    uint8_t rand[16], autn[16];
    uint64_t sqn = 0;

    assert_int_equal(a->status, 401);
    nonce_of(a, nonce, rand, autn);
    assert_int_equal(cmn_milenage_autn_open(f->k, f->opc, rand, autn, &sqn, res, NULL, NULL), 0);
    return sqn;
}

static uint64_t stored_sqn(fixture *f)
{
    Tep__GbaSubscriber *sub = NULL;
    uint64_t sqn;

    assert_int_equal(bsf_db_subscriber_get(f->store, IMPI, &sub), 0);
    sqn = sub->sqn;
    bsf_db_subscriber_free(sub);
    return sqn;
}

/* A challenge writes nothing: SQN_HE moves only when a RES is verified (to that
 * challenge's SQN); the challenges pending for one IMPI carry SQN_HE + 1 .. + 4. */
static void test_sqn_moves_only_after_res(void **state)
{
    fixture *f = *state;
    bsf_ub_answer a;
    char nonce[4][64];
    uint8_t res[4][8];
    uint64_t sqn[4];

    for (int i = 0; i < 4; i++) {
        first(f, IMPI, &a);
        sqn[i] = sqn_of(f, &a, nonce[i], res[i]);
    }
    assert_true(sqn[0] == 1 && sqn[1] == 2 && sqn[2] == 3 && sqn[3] == 4);
    assert_true(stored_sqn(f) == 0);
    for (int i = 0; i < 20; i++) { /* the oldest replaced, the SQN reused: never past 4 */
        first(f, IMPI, &a);
        sqn[0] = sqn_of(f, &a, nonce[0], res[0]);
        assert_true(sqn[0] >= 1 && sqn[0] <= 4);
    }
    assert_true(stored_sqn(f) == 0);
    second(f, nonce[0], res[0], 8, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_true(stored_sqn(f) == sqn[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqn_moves_only_after_res, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
