/* ESPrim at tep-cse without a network (cse_esprim.c): the CSEBase's e2eSecInfo, the
 * receiver rand objects given out on request (sit 3) and their bound, the shared one
 * renewed near its end, what is claimed. The protected exchange itself runs across the
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
    static const char *const dbs[] = {CSE_RES_DBS,  CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS, CSE_DB_CSE_TARGETS, CMN_SYNC_DB};
    fixture *f = calloc(1, sizeof(*f));

    cmn_log_init("test", CMN_LOG_ERR, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cse-esprim-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(
        cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0, &f->st), 0);
    assert_int_equal(cse_res_ensure_csebase(f->st, "/tep-cse", "tep-cse", T0 - 100), 0);
    f->node = (cse_node){
        .store = f->st, .cse_id = "/tep-cse", .cse_name = "tep-cse", .admin_originator = "CAdmin"};
    assert_int_equal(cse_esprim_new(&f->node.esprim), 0);
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

/* sit 3 answers sit 4 with a fresh "u..." object (10 min); when every slot holds a live
 * one, 5103 (the live ones are not evicted), until they expire. */
static void test_rand_objects_bounded(void **state)
{
    fixture *f = *state;
    cse_req r = notify("tep-cse", RAND_RQ, T0);
    unsigned given = 0;
    cse_rsp rsp;

    for (;;) {
        json_t *b, *ero;

        cse_esprim_handle(&f->node, &r, &rsp, NULL);
        if (rsp.rsc != CMN_RSC_OK)
            break;
        b = json_loads(rsp.body, 0, NULL);
        ero = json_object_get(json_object_get(b, "m2m:seci"), "ero");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "m2m:seci"), "sit")),
                         4);
        assert_int_equal(json_string_value(json_object_get(ero, "esri"))[0], 'u');
        json_decref(b);
        cse_rsp_clear(&rsp);
        assert_true(++given < 1000);
    }
    assert_int_equal(rsp.rsc, CMN_RSC_TARGET_NOT_REACHABLE);
    assert_int_equal(given, 255); /* 256 slots, one the shared object's */
    cse_rsp_clear(&rsp);
    r.now = T0 + CSE_ESPRIM_UNIQUE_LT; /* all expired */
    cse_esprim_handle(&f->node, &r, &rsp, NULL);
    assert_int_equal(rsp.rsc, CMN_RSC_OK);
    cse_rsp_clear(&rsp);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rand_objects_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_renewed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
