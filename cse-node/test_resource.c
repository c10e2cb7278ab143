/* Resource create/retrieve/delete through the socket-free request logic, as a client
 * sees it: RSC, body, Location. Real LMDB store in a temp dir, local decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_sync.h"
#include "cse_request.h"
#include "cse_sync.h"
#include "tst.h"

typedef struct {
    char dir[64];
    cmn_store *st;
    cse_pep *pep;
    cse_node node;
} fixture;

static int setup(void **state)
{
    static const char *const dbs[] = {CSE_RES_DBS,      CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS,     CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,
                                      CSE_DB_KEY_KEIDS, CMN_SYNC_DB};
    fixture *f = calloc(1, sizeof(*f));

    cmn_log_init("test", CMN_LOG_ERR, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cse-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(
        cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0, &f->st), 0);
    assert_int_equal(cse_res_ensure_csebase(f->st, "/tep-cse", "tep-cse", 1700000000), 0);
    assert_int_equal(cse_pep_new_local(&f->pep), 0);
    f->node = (cse_node){.store = f->st,
                         .pep = f->pep,
                         .cse_id = "/tep-cse",
                         .cse_name = "tep-cse",
                         .admin_originator = "CAdmin"};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cse_pep_free(f->pep);
    cmn_store_close(f->st);
    assert_int_equal(tst_rmtree(f->dir), 0);
    free(f);
    return 0;
}

/* One request; secure when bound != NULL. Returns the RSC, rsp kept in *rsp. */
static unsigned rq(fixture *f, int op, const char *path, const char *from, const char *bound,
                   unsigned ty, const char *body, cse_rsp *rsp)
{
    cse_req r = {.op = op,
                 .path = path,
                 .from = from,
                 .ty = ty,
                 .cf = body != NULL ? 50 : 0,
                 .body = body,
                 .body_len = body != NULL ? strlen(body) : 0,
                 .secure = bound != NULL,
                 .bound_id = bound,
                 .peer_ip = "127.0.0.1",
                 .now = 1700000100};

    cse_request_handle(&f->node, &r, rsp);
    return rsp->rsc;
}

static unsigned rq1(fixture *f, int op, const char *path, const char *from, const char *bound,
                    unsigned ty, const char *body)
{
    cse_rsp rsp;
    unsigned rsc = rq(f, op, path, from, bound, ty, body, &rsp);

    cse_rsp_clear(&rsp);
    return rsc;
}

static json_t *attr(const cse_rsp *rsp, const char *wrapper, const char *name)
{
    json_t *root = json_loads(rsp->body, 0, NULL);
    json_t *v;

    assert_non_null(root);
    v = json_object_get(json_object_get(root, wrapper), name);
    assert_non_null(v);
    json_incref(v);
    json_decref(root);
    return v;
}

static void register_ae(fixture *f)
{
    assert_int_equal(
        rq1(f, CMN_OP_CREATE, "tep-cse", NULL, "Cdev1", CMN_TY_AE,
            "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Ntepdemo\",\"rn\":\"dev1\"}}"),
        CMN_RSC_CREATED);
}

static void test_csebase(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *v;

    assert_int_equal(rq(f, CMN_OP_RETRIEVE, "tep-cse", "CAdmin", NULL, 0, NULL, &rsp), 2000);
    v = attr(&rsp, "m2m:cb", "csi");
    assert_string_equal(json_string_value(v), "/tep-cse");
    json_decref(v);
    cse_rsp_clear(&rsp);
    /* SP-relative form reaches the same resource */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "~/tep-cse", "CAdmin", NULL, 0, NULL), 2000);
    /* nobody else may read it without a policy */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse", "Cguest", NULL, 0, NULL), 4103);
    assert_int_equal(rq1(f, CMN_OP_DELETE, "tep-cse", "CAdmin", NULL, 0, NULL), 4005);
}

static void test_ae_register(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *v;

    assert_int_equal(rq(f, CMN_OP_CREATE, "tep-cse", "C", "Cdev1", CMN_TY_AE,
                        "{\"m2m:ae\":{\"srv\":[\"3\"],\"api\":\"Ntepdemo\",\"rr\":true}}", &rsp),
                     CMN_RSC_CREATED);
    assert_string_equal(rsp.location, "tep-cse/Cdev1");
    v = attr(&rsp, "m2m:ae", "aei");
    assert_string_equal(json_string_value(v), "Cdev1");
    json_decref(v);
    v = attr(&rsp, "m2m:ae", "pi");
    assert_string_equal(json_string_value(v), "tep-cse");
    json_decref(v);
    cse_rsp_clear(&rsp);
    /* the same AE-ID again, even under another name */
    assert_int_equal(
        rq1(f, CMN_OP_CREATE, "tep-cse", NULL, "Cdev1", CMN_TY_AE,
            "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Ntepdemo\",\"rn\":\"other\"}}"),
        CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED);
    /* the AE reads itself, by structured path and by ri */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/Cdev1", "Cdev1", "Cdev1", 0, NULL), 2000);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "Cdev1", "Cdev1", "Cdev1", 0, NULL), 2000);
}

static void test_container_and_instances(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *v;

    register_ae(f);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"data\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/data", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"con\":\"21.5\",\"cnf\":\"text/plain:0\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/data", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"con\":\"22\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(rq(f, CMN_OP_RETRIEVE, "tep-cse/dev1/data", "Cdev1", "Cdev1", 0, NULL, &rsp),
                     2000);
    v = attr(&rsp, "m2m:cnt", "cni");
    assert_int_equal(json_integer_value(v), 2);
    json_decref(v);
    v = attr(&rsp, "m2m:cnt", "cbs");
    assert_int_equal(json_integer_value(v), 6);
    json_decref(v);
    cse_rsp_clear(&rsp);
    /* same name twice */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"data\"}}"),
                     CMN_RSC_CONFLICT);
    /* an AE cannot live under a container */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/data", "Cdev1", "Cdev1", CMN_TY_AE,
                         "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nn\"}}"),
                     CMN_RSC_INVALID_CHILD_RESOURCE_TYPE);
    /* another enrolled AE has no right on it (no acpi: creator only) */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/data", "Cdev2", "Cdev2", 0, NULL), 4103);
    /* update: the creator may, the other AE may not */
    assert_int_equal(rq1(f, CMN_OP_UPDATE, "tep-cse/dev1/data", "Cdev1", "Cdev1", 0,
                         "{\"m2m:cnt\":{\"mni\":4}}"),
                     2004);
    assert_int_equal(rq1(f, CMN_OP_UPDATE, "tep-cse/dev1/data", "Cdev2", "Cdev2", 0,
                         "{\"m2m:cnt\":{\"mni\":4}}"),
                     4103);
}

static void test_delete_subtree(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    char ri[64];
    json_t *v;

    register_ae(f);
    assert_int_equal(rq(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                        "{\"m2m:cnt\":{\"rn\":\"data\"}}", &rsp),
                     CMN_RSC_CREATED);
    v = attr(&rsp, "m2m:cnt", "ri");
    snprintf(ri, sizeof(ri), "%s", json_string_value(v));
    json_decref(v);
    cse_rsp_clear(&rsp);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/data", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"con\":\"1\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, ri, "Cdev1", "Cdev1", 0, NULL), 2000);
    assert_int_equal(rq1(f, CMN_OP_DELETE, "tep-cse/dev1", "Cdev2", "Cdev2", 0, NULL), 4103);
    assert_int_equal(rq1(f, CMN_OP_DELETE, "tep-cse/dev1", "Cdev1", "Cdev1", 0, NULL), 2002);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/data", "CAdmin", NULL, 0, NULL), 4004);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, ri, "CAdmin", NULL, 0, NULL), 4004);
    /* the AE-ID is free again */
    register_ae(f);
}

static void test_acp_grants(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    char body[256];
    json_t *v;

    register_ae(f);
    assert_int_equal(
        rq(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_ACP,
           "{\"m2m:acp\":{\"rn\":\"share\",\"pv\":{\"acr\":[{\"acor\":[\"Cdev2\"],\"acop\":2}]},"
           "\"pvs\":{\"acr\":[{\"acor\":[\"Cdev1\"],\"acop\":63}]}}}",
           &rsp),
        CMN_RSC_CREATED);
    v = attr(&rsp, "m2m:acp", "ri");
    snprintf(body, sizeof(body), "{\"m2m:cnt\":{\"rn\":\"pub\",\"acpi\":[\"%s\"]}}",
             json_string_value(v));
    json_decref(v);
    cse_rsp_clear(&rsp);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT, body),
                     CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/pub", "Cdev2", "Cdev2", 0, NULL), 2000);
    assert_int_equal(rq1(f, CMN_OP_DELETE, "tep-cse/dev1/pub", "Cdev2", "Cdev2", 0, NULL), 4103);
    /* the ACP itself is governed by its pvs */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/share", "Cdev2", "Cdev2", 0, NULL),
                     4103);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/share", "Cdev1", "Cdev1", 0, NULL),
                     2000);
    /* acpi naming no policy */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"acpi\":[\"nope\"]}}"),
                     CMN_RSC_BAD_REQUEST);
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    cse_req r = {.op = CMN_OP_CREATE,
                 .path = "tep-cse",
                 .from = "CAdmin",
                 .ty = CMN_TY_CNT,
                 .cf = 41,
                 .body = "<cnt/>",
                 .body_len = 6,
                 .now = 1700000100};
    cse_rsp rsp;

    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "CAdmin", NULL, CMN_TY_CNT, "{\"m2m:cnt\":"),
                     4000);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "CAdmin", NULL, CMN_TY_CNT,
                         "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nx\"}}"),
                     4000);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "CAdmin", NULL, CMN_TY_CNT, NULL), 4000);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/nothing", "CAdmin", NULL, 0, NULL), 4004);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "elsewhere", "CAdmin", NULL, 0, NULL), 4004);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse", NULL, NULL, 0, NULL), 4000);
    cse_request_handle(&f->node, &r, &rsp);
    assert_int_equal(rsp.rsc, 4015);
    assert_non_null(strstr(rsp.body, "m2m:dbg"));
    cse_rsp_clear(&rsp);
    /* admin creates over plain CoAP, and the container is the admin's */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "CAdmin", NULL, CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"shared\"}}"),
                     2001);
}

static void test_enrolled_needs_sa(void **state)
{
    fixture *f = *state;
    Tep__Event ev = TEP__EVENT__INIT;
    Tep__Credential c = TEP__CREDENTIAL__INIT;
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    uint8_t key[32] = {1};
    cmn_txn *t;

    ev.seq = 1;
    ev.ke_id = "aa@mef";
    ev.enrolee_id = "Cdev1";
    c.key_id = "kid@mef";
    c.key = (ProtobufCBinaryData){sizeof(key), key};
    c.suid = 22;
    c.ke_id = "aa@mef";
    c.enrolee_id = "Cdev1";
    item.event = &ev;
    item.credential = &c;
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    assert_int_equal(cse_sync_apply(t, &item, NULL), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "Cdev1", NULL, CMN_TY_AE,
                         "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nn\"}}"),
                     4107);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse", "Cdev1", NULL, 0, NULL), 4107);
    /* a plain-CoAP AE that is not enrolled registers under a CSE-assigned AE-ID */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", NULL, NULL, CMN_TY_AE,
                         "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nn\"}}"),
                     2001);
}

/* [cse] csebase_pv: the ACP acp-csebase becomes the CSEBase's acpi and decides what an
 * AE may create under it; "" removes both; a name taken by an AE is refused. */
static void test_csebase_policy(void **state)
{
    fixture *f = *state;
    const char *pv = "{\"acr\":[{\"acor\":[\"all\"],\"acop\":1}]}";
    Tep__Resource *base = NULL;

    register_ae(f);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"c1\"}}"),
                     CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    assert_int_equal(cse_res_csebase_policy(f->st, "tep-cse", "CAdmin", pv, 1700000100), 0);
    assert_int_equal(cse_res_get(f->st, "tep-cse", &base), 0);
    assert_int_equal(base->n_acpi, 1);
    cse_res_free(base);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"c1\"}}"),
                     CMN_RSC_CREATED);
    /* applied again: the same ACP, updated */
    assert_int_equal(cse_res_csebase_policy(f->st, "tep-cse", "CAdmin", pv, 1700000200), 0);
    assert_int_equal(cse_res_csebase_policy(f->st, "tep-cse", "CAdmin", "", 1700000300), 0);
    assert_int_equal(cse_res_get(f->st, "tep-cse", &base), 0);
    assert_int_equal(base->n_acpi, 0);
    cse_res_free(base);
    assert_int_not_equal(cse_res_get(f->st, "tep-cse/acp-csebase", &base), 0);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"c2\"}}"),
                     CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
}

/* The expiry index (schema 3): each resource with an et has one entry, moved when its et
 * is updated, gone when it is deleted or evicted; a sweep deletes what is due and only
 * that. */
static int count_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(size_t *)arg)++;
    return 0;
}

static size_t expiry_entries(fixture *f)
{
    size_t n = 0;

    assert_int_equal(cmn_store_foreach(f->st, CSE_DB_EXPIRY, NULL, 0, count_fn, &n), 0);
    return n;
}

#define CNT_ET(rn, et) "{\"m2m:cnt\":{\"rn\":\"" rn "\",\"et\":\"" et "\"}}"

static void test_expiry_index(void **state)
{
    fixture *f = *state;
    const int64_t now = 1700000100;
    size_t n = 0;

    register_ae(f);
    assert_int_equal(expiry_entries(f), 0);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         CNT_ET("a", "20231114T221600")),
                     CMN_RSC_CREATED); /* now + 60 */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         CNT_ET("b", "20231114T221700")),
                     CMN_RSC_CREATED); /* now + 120 */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"rn\":\"c\",\"mni\":1}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/c", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"con\":\"1\",\"et\":\"20231114T221600\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(expiry_entries(f), 3);
    /* b's et moves to now + 30: its entry moves with it */
    assert_int_equal(rq1(f, CMN_OP_UPDATE, "tep-cse/dev1/b", "Cdev1", "Cdev1", CMN_TY_CNT,
                         "{\"m2m:cnt\":{\"et\":\"20231114T221530\"}}"),
                     CMN_RSC_UPDATED);
    assert_int_equal(expiry_entries(f), 3);
    /* an evicted instance (mni 1) takes its entry along */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/c", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"con\":\"2\",\"et\":\"20231114T221600\"}}"),
                     CMN_RSC_CREATED);
    assert_int_equal(expiry_entries(f), 3);

    assert_int_equal(cse_res_expire(f->st, now + 10, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cse_res_expire(f->st, now + 40, &n), 0);
    assert_int_equal(n, 1); /* b, at its new et */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/b", "Cdev1", "Cdev1", 0, NULL), 4004);
    assert_int_equal(expiry_entries(f), 2);
    assert_int_equal(cse_res_expire(f->st, now + 60, &n), 0);
    assert_int_equal(n, 2); /* a and the instance */
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/a", "Cdev1", "Cdev1", 0, NULL), 4004);
    assert_int_equal(rq1(f, CMN_OP_RETRIEVE, "tep-cse/dev1/c", "Cdev1", "Cdev1", 0, NULL), 2000);
    assert_int_equal(expiry_entries(f), 0);

    /* deleted before its time: the entry goes with it */
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
                         CNT_ET("d", "20231114T221820")),
                     CMN_RSC_CREATED);
    assert_int_equal(expiry_entries(f), 1);
    assert_int_equal(rq1(f, CMN_OP_DELETE, "tep-cse/dev1/d", "Cdev1", "Cdev1", 0, NULL),
                     CMN_RSC_DELETED);
    assert_int_equal(expiry_entries(f), 0);
}

/* A representation is the stored attributes wrapped as they are (cse_res_render does not
 * parse and print them again): the same text json_dumps gives for them, whatever they
 * hold (escapes, non-ASCII, reals, nested objects); the CSEBase still gets ctm. */
static void test_render_is_stored_json(void **state)
{
    fixture *f = *state;
    Tep__Resource *r = NULL;
    json_t *a, *w;
    char *want, *got;

    register_ae(f);
    assert_int_equal(
        rq1(f, CMN_OP_CREATE, "tep-cse/dev1", "Cdev1", "Cdev1", CMN_TY_CNT,
            "{\"m2m:cnt\":{\"rn\":\"c\",\"lbl\":[\"k:\\\"q\\\"\",\"\u00e9t\u00e9\"]}}"),
        CMN_RSC_CREATED);
    assert_int_equal(rq1(f, CMN_OP_CREATE, "tep-cse/dev1/c", "Cdev1", "Cdev1", CMN_TY_CIN,
                         "{\"m2m:cin\":{\"rn\":\"i\",\"con\":\"21.5\",\"cnf\":\"text/plain:0\"}}"),
                     CMN_RSC_CREATED);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cse_res_get(f->st, i == 0 ? "tep-cse/dev1/c" : "tep-cse/dev1/c/i", &r), 0);
        a = json_loads(r->json, 0, NULL);
        assert_non_null(a);
        w = json_pack("{s:o}", cmn_json_ty_key(r->ty), a);
        want = json_dumps(w, JSON_COMPACT);
        json_decref(w);
        got = cse_res_render(r);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
        free(want);
        cse_res_free(r);
    }
    assert_int_equal(cse_res_get(f->st, "tep-cse", &r), 0);
    got = cse_res_render(r);
    assert_non_null(strstr(got, "\"ctm\":\""));
    free(got);
    cse_res_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csebase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ae_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_and_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_subtree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acp_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrolled_needs_sa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csebase_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_is_stored_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
