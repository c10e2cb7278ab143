/* ESPrim at tep-cse without a network (cse_esprim.c): the CSEBase's e2eSecInfo, the
 * receiver rand objects given out on request (sit 3, nothing kept per request), the
 * shared one renewed near its end and kept across a restart, what is claimed. The protected exchange itself runs across the
 * daemons in integration 203-205. TS-0003 8.4.2 B, 8.4.3.1.3; TS-0004 7.5.1.2.11. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_sync.h"
#include "cse_esprim.h"
#include "cse_resource.h"
#include "cse_sync.h"
#include "tst.h"

#define T0 1800000000
#define RAND_RQ "{\"m2m:seci\":{\"sit\":3}}"

typedef struct {
    char dir[64];
    cmn_store *st;
    cse_node node;
} fixture;

static int setup(void **state)
{
    static const char *const dbs[] = {CSE_RES_DBS,      CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS,     CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,
                                      CSE_DB_KEY_KEIDS, CMN_SYNC_DB,        CSE_ESPRIM_DB};
    fixture *f = calloc(1, sizeof(*f));

    cmn_log_init("test", CMN_LOG_ERR, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cse-esprim-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(
        cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0, &f->st), 0);
    assert_int_equal(cse_res_ensure_csebase(f->st, "/tep-cse", "tep-cse", T0 - 100), 0);
    f->node = (cse_node){
        .store = f->st, .cse_id = "/tep-cse", .cse_name = "tep-cse", .admin_originator = "CAdmin"};
    assert_int_equal(cse_esprim_new(f->st, T0, &f->node.esprim), 0);
    assert_int_equal(cse_esprim_publish(f->node.esprim, f->st, "tep-cse", T0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    cse_esprim_free(f->node.esprim);
    cmn_store_close(f->st);
    assert_int_equal(tst_rmtree(f->dir), 0);
    free(f);
    return 0;
}

static cse_req notify(const char *path, const char *body, int64_t now)
{
    return (cse_req){.op = CMN_OP_NOTIFY,
                     .path = path,
                     .from = "Cx",
                     .body = body,
                     .body_len = body != NULL ? strlen(body) : 0,
                     .now = now};
}

/* The CSEBase's esi as stored: esro's esri. */
static const char *shared_esri(fixture *f, char *buf, size_t len)
{
    Tep__Resource *r = NULL;
    json_t *a;

    assert_int_equal(cse_res_get(f->st, "tep-cse", &r), 0);
    a = json_loads(r->json, 0, NULL);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(json_object_get(a, "esi"), "esf"), 0)),
        23);
    snprintf(buf, len, "%s",
             json_string_value(
                 json_object_get(json_object_get(json_object_get(a, "esi"), "esro"), "esri")));
    json_decref(a);
    cse_res_free(r);
    return buf;
}

static void test_claims(void **state)
{
    fixture *f = *state;
    cse_req r = notify("tep-cse", RAND_RQ, T0);

    assert_true(cse_esprim_claims(&f->node, &r));
    r.path = "~/tep-cse/tep-cse";
    assert_true(cse_esprim_claims(&f->node, &r));
    r.path = "~/tep-cse";
    assert_true(cse_esprim_claims(&f->node, &r));
    r.path = "tep-cse/Cx"; /* an AE: not tep-cse's to answer */
    assert_false(cse_esprim_claims(&f->node, &r));
    r = notify("tep-cse", "{\"m2m:sgn\":{\"vrq\":true}}", T0);
    assert_false(cse_esprim_claims(&f->node, &r));
    r = notify("tep-cse", "{\"m2m:seci\":{\"sit\":1}}", T0); /* a DAS request */
    assert_false(cse_esprim_claims(&f->node, &r));
    r = notify("tep-cse", RAND_RQ, T0);
    r.op = CMN_OP_CREATE;
    assert_false(cse_esprim_claims(&f->node, &r));
}

/* sit 3 answers sit 4 with a fresh "u..." object (10 min) whose expiry is in its ID and
 * whose value is derived from it: nothing is kept per request, so no number of requests
 * (unauthenticated) fills anything or is refused; the IDs differ. */
static void test_rand_requests_keep_nothing(void **state)
{
    fixture *f = *state;
    cse_req r = notify("tep-cse", RAND_RQ, T0);
    char first[64] = "", hex[9];
    cse_rsp rsp;

    snprintf(hex, sizeof(hex), "%08x", (unsigned)(T0 + CSE_ESPRIM_UNIQUE_LT));
    for (int i = 0; i < 3000; i++) {
        json_t *b, *ero;
        const char *id;

        cse_esprim_handle(&f->node, &r, &rsp, NULL);
        assert_int_equal(rsp.rsc, CMN_RSC_OK);
        b = json_loads(rsp.body, 0, NULL);
        ero = json_object_get(json_object_get(b, "m2m:seci"), "ero");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "m2m:seci"), "sit")),
                         4);
        id = json_string_value(json_object_get(ero, "esri"));
        assert_int_equal(strlen(id), 27);
        assert_int_equal(id[0], 'u');
        assert_memory_equal(id + 3, hex, 8);
        assert_int_equal(strlen(json_string_value(json_object_get(ero, "esrv"))), 33);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", id);
        else
            assert_string_not_equal(id, first);
        json_decref(b);
        cse_rsp_clear(&rsp);
    }
}

/* The state survives a clean restart (cse_esprim_save, then a new cse_esprim on the same
 * store): the same secret, so the same shared object (and the values of those given out)
 * as before. A crash (no save) gives a new secret and epoch: a new shared object, whose
 * ID names the new epoch. Long after a clean stop the stored shared object is over. */
static void test_state_survives_a_restart(void **state)
{
    fixture *f = *state;
    char before[64], after[64];
    json_t *esi1, *esi2;
    const char *id1, *id2;

    shared_esri(f, before, sizeof(before));
    esi1 = cse_esprim_esi(f->node.esprim, T0 + 5);
    assert_int_equal(cse_esprim_save(f->node.esprim, T0 + 5), 0);
    cse_esprim_free(f->node.esprim);
    assert_int_equal(cse_esprim_new(f->st, T0 + 10, &f->node.esprim), 0);
    esi2 = cse_esprim_esi(f->node.esprim, T0 + 10);
    assert_true(json_equal(json_object_get(esi1, "esro"), json_object_get(esi2, "esro")));
    assert_int_equal(cse_esprim_publish(f->node.esprim, f->st, "tep-cse", T0 + 10), 0);
    assert_string_equal(shared_esri(f, after, sizeof(after)), before);
    json_decref(esi2);

    cse_esprim_free(f->node.esprim); /* a crash: no save */
    assert_int_equal(cse_esprim_new(f->st, T0 + 20, &f->node.esprim), 0);
    esi2 = cse_esprim_esi(f->node.esprim, T0 + 20);
    id1 = json_string_value(json_object_get(json_object_get(esi1, "esro"), "esri"));
    id2 = json_string_value(json_object_get(json_object_get(esi2, "esro"), "esri"));
    assert_string_not_equal(id1, id2);
    assert_memory_not_equal(id1 + 1, id2 + 1, 2); /* another epoch */
    json_decref(esi2);
    json_decref(esi1);

    assert_int_equal(cse_esprim_save(f->node.esprim, T0 + 20), 0);
    cse_esprim_free(f->node.esprim);
    assert_int_equal(cse_esprim_new(f->st, T0 + 2 * CSE_ESPRIM_SHARED_LT, &f->node.esprim), 0);
    assert_int_equal(
        cse_esprim_publish(f->node.esprim, f->st, "tep-cse", T0 + 2 * CSE_ESPRIM_SHARED_LT), 0);
    assert_string_not_equal(shared_esri(f, after, sizeof(after)), before);
}

/* The shared object is renewed within a minute of its end and the CSEBase shows it. */
static void test_shared_renewed(void **state)
{
    fixture *f = *state;
    char before[64], after[64];
    cse_req r = notify("tep-cse", RAND_RQ, T0 + 10);
    cse_rsp rsp;

    shared_esri(f, before, sizeof(before));
    assert_int_equal(before[0], 's');
    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    cse_rsp_clear(&rsp);
    assert_string_equal(shared_esri(f, after, sizeof(after)), before);
    r.now = T0 + CSE_ESPRIM_SHARED_LT - 30;
    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    cse_rsp_clear(&rsp);
    assert_string_not_equal(shared_esri(f, after, sizeof(after)), before);
}

static void test_object_errors(void **state)
{
    fixture *f = *state;
    cse_req r = notify("tep-cse", "{\"m2m:seci\":{\"sit\":5}}", T0);
    cse_rsp rsp;

    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    assert_int_equal(rsp.rsc, CMN_RSC_BAD_REQUEST); /* no esprimObject */
    cse_rsp_clear(&rsp);
    r = notify("tep-cse", "{\"m2m:seci\":{\"sit\":5,\"epo\":\"x.y\"}}", T0);
    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    assert_int_equal(rsp.rsc, CMN_RSC_BAD_REQUEST); /* not a JWE */
    cse_rsp_clear(&rsp);
    /* {"alg":"dir","enc":"A256GCM","kid":"00000000000000000000000000000000@maf"} */
    r = notify("tep-cse",
               "{\"m2m:seci\":{\"sit\":5,\"epo\":\"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0"
               "NNIiwia2lkIjoiMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBAbWFmIn0..AAAAAAAAAAAA"
               "AAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA\"}}",
               T0);
    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    assert_int_equal(rsp.rsc, 4112); /* unknown kid (a MAF one: asked for) */
    cse_rsp_clear(&rsp);
}

/* docs/internals.md "ESPrim" (State): esrv = HMAC-SHA-256(secret, "tep ESPrim receiver
 * rand" || esri)[0..15], the epoch and expiry in the ID. KAT with the secret 00 01 .. 1f,
 * epoch 0 and the shared ID s006b49d2000011223344556677 (expiry 0x6b49d200 = T0), as a
 * clean stop leaves them, from Python: hmac.new(bytes(range(32)), b"tep ESPrim receiver
 * rand" + b"s006b49d2000011223344556677", hashlib.sha256).digest()[:16].hex() */
static void test_receiver_rand_kat(void **state)
{
    fixture *f = *state;
    uint8_t secret[32];
    const char *id = "s006b49d2000011223344556677";
    uint8_t epoch = 0;
    json_t *esi;

    for (int i = 0; i < 32; i++)
        secret[i] = (uint8_t)i;
    cse_esprim_free(f->node.esprim);
    assert_int_equal(cmn_store_put(f->st, CSE_ESPRIM_DB, "K", 1, secret, sizeof(secret)), 0);
    assert_int_equal(cmn_store_put(f->st, CSE_ESPRIM_DB, "S", 1, id, strlen(id)), 0);
    assert_int_equal(cmn_store_put(f->st, CSE_ESPRIM_DB, "E", 1, &epoch, 1), 0);
    assert_int_equal(cmn_store_put(f->st, CSE_ESPRIM_DB, "C", 1, "1", 1), 0);
    assert_int_equal(cse_esprim_new(f->st, T0 - 600, &f->node.esprim), 0);
    esi = cse_esprim_esi(f->node.esprim, T0 - 600);
    assert_string_equal(json_string_value(json_object_get(json_object_get(esi, "esro"), "esri")),
                        id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(esi, "esro"), "esrv")),
                        "r697e8082cb5ce05aa9674e2a709dc9be");
    assert_string_equal(json_string_value(json_object_get(json_object_get(esi, "esro"), "esrx")),
                        "20270115T080000");
    json_decref(esi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rand_requests_keep_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_rand_kat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_renewed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
