/* The oneM2M operations as a client sees them (TS-0004 7.3/7.4, TS-0008 6.2): addressing
 * forms, UPDATE and read-only attributes, container limits and la/ol, expiry, discovery
 * and filter criteria, result content, group fan-out, subscriptions and notifications,
 * content formats. Real LMDB store in a temp dir, local decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_sync.h"
#include "cse_client.h"
#include "cse_request.h"
#include "cse_sync.h"
#include "tst.h"

#define T0 1700000100

typedef struct {
    char dir[64];
    cmn_store *st;
    cse_pep *pep;
    cse_node node;
    int sent; /* notifications sent */
    char last_nu[128];
    char last_body[2048];
} fixture;

static void record_notify(void *arg, const char *nu, const char *owner, const char *body)
{
    fixture *f = arg;

    f->sent++;
    snprintf(f->last_nu, sizeof(f->last_nu), "%s", nu);
    snprintf(f->last_body, sizeof(f->last_body), "%s", body);
}

static int setup(void **state)
{
    static const char *const dbs[] = {CSE_RES_DBS,      CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS,     CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,
                                      CSE_DB_KEY_KEIDS, CMN_SYNC_DB};
    fixture *f = calloc(1, sizeof(*f));

    cmn_log_init("test", CMN_LOG_ERR, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cse-ops-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(
        cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0, &f->st), 0);
    assert_int_equal(cse_res_ensure_csebase(f->st, "/tep-cse", "tep-cse", T0 - 100), 0);
    assert_int_equal(cse_pep_new_local(&f->pep), 0);
    f->node = (cse_node){.store = f->st,
                         .pep = f->pep,
                         .cse_id = "/tep-cse",
                         .cse_name = "tep-cse",
                         .admin_originator = "CAdmin",
                         .notify = record_notify,
                         .notify_arg = f,
                         .target_allowed = cse_client_target_allowed};
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

/* A request from the admin over plain CoAP unless r says otherwise. */
static unsigned do_rq(fixture *f, cse_req r, cse_rsp *rsp)
{
    if (r.from == NULL)
        r.from = "CAdmin";
    if (r.now == 0)
        r.now = T0;
    if (r.body != NULL) {
        r.body_len = strlen(r.body);
        if (r.cf == 0)
            r.cf = 50;
    }
    r.peer_ip = "127.0.0.1";
    cse_request_handle(&f->node, &r, rsp);
    return rsp->rsc;
}

static unsigned send1(fixture *f, cse_req r)
{
    cse_rsp rsp;
    unsigned rsc = do_rq(f, r, &rsp);

    cse_rsp_clear(&rsp);
    return rsc;
}

#define CREATE(p, t, b) ((cse_req){.op = CMN_OP_CREATE, .path = (p), .ty = (t), .body = (b)})
#define GET(p, q) ((cse_req){.op = CMN_OP_RETRIEVE, .path = (p), .query = (q)})
#define PUT(p, b) ((cse_req){.op = CMN_OP_UPDATE, .path = (p), .body = (b)})
#define DEL(p) ((cse_req){.op = CMN_OP_DELETE, .path = (p)})

/* The value at wrapper.name of the response body (new reference). */
static json_t *field(const cse_rsp *rsp, const char *wrapper, const char *name)
{
    json_t *root = json_loads(rsp->body, 0, NULL);
    json_t *v;

    assert_non_null(root);
    v = json_object_get(json_object_get(root, wrapper), name);
    json_incref(v);
    json_decref(root);
    return v;
}

static long int_field(fixture *f, const char *path, const char *wrapper, const char *name)
{
    cse_rsp rsp;
    json_t *v;
    long n;

    assert_int_equal(do_rq(f, GET(path, NULL), &rsp), 2000);
    v = field(&rsp, wrapper, name);
    assert_true(json_is_integer(v));
    n = (long)json_integer_value(v);
    json_decref(v);
    cse_rsp_clear(&rsp);
    return n;
}

static void make_cnt(fixture *f, const char *parent, const char *body)
{
    assert_int_equal(send1(f, CREATE(parent, CMN_TY_CNT, body)), 2001);
}

static void make_cin(fixture *f, const char *cnt, const char *con)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"m2m:cin\":{\"con\":\"%s\"}}", con);
    assert_int_equal(send1(f, CREATE(cnt, CMN_TY_CIN, body)), 2001);
}

/* ---- addressing -------------------------------------------------------------------- */

static void test_addressing_forms(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *ri;
    char ri_path[160];

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\"}}");
    assert_int_equal(send1(f, GET("tep-cse/box", NULL)), 2000);
    assert_int_equal(send1(f, GET("-/box", NULL)), 2000);
    assert_int_equal(send1(f, GET("~/tep-cse/tep-cse/box", NULL)), 2000);
    assert_int_equal(send1(f, GET("~/tep-cse/-/box", NULL)), 2000);
    assert_int_equal(send1(f, GET("_/tep.example/tep-cse/tep-cse/box", NULL)), 2000);
    assert_int_equal(send1(f, GET("_/tep.example/tep-cse", NULL)), 2000);
    assert_int_equal(send1(f, GET("~/other-cse/tep-cse/box", NULL)), 4004);
    assert_int_equal(send1(f, GET("_/tep.example", NULL)), 4004);
    /* unstructured: the ri, CSE-relative and SP-relative */
    assert_int_equal(do_rq(f, GET("tep-cse/box", NULL), &rsp), 2000);
    ri = field(&rsp, "m2m:cnt", "ri");
    assert_int_equal(send1(f, GET(json_string_value(ri), NULL)), 2000);
    snprintf(ri_path, sizeof(ri_path), "~/tep-cse/%s", json_string_value(ri));
    assert_int_equal(send1(f, GET(ri_path, NULL)), 2000);
    json_decref(ri);
    cse_rsp_clear(&rsp);
}

static void test_ae_originators(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *aei;

    /* "S": a CSE-assigned S-prefixed AE-ID */
    assert_int_equal(
        do_rq(f,
              (cse_req){.op = CMN_OP_CREATE,
                        .path = "tep-cse",
                        .from = "S",
                        .ty = CMN_TY_AE,
                        .body = "{\"m2m:ae\":{\"srv\":[\"3\"],\"api\":\"Nx\",\"rr\":false}}"},
              &rsp),
        2001);
    aei = field(&rsp, "m2m:ae", "aei");
    assert_int_equal(json_string_value(aei)[0], 'S');
    json_decref(aei);
    cse_rsp_clear(&rsp);
    /* an explicit originator is kept; a second registration is refused */
    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_CREATE,
                           .path = "tep-cse",
                           .from = "Cmine",
                           .ty = CMN_TY_AE,
                           .body = "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nx\"}}"}),
        2001);
    assert_int_equal(
        send1(
            f,
            (cse_req){
                .op = CMN_OP_CREATE,
                .path = "tep-cse",
                .from = "Cmine",
                .ty = CMN_TY_AE,
                .body = "{\"m2m:ae\":{\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nx\",\"rn\":\"b\"}}"}),
        4117);
}

/* ---- update ------------------------------------------------------------------------ */

static void test_update(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *v;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\",\"lbl\":[\"a\"]}}");
    assert_int_equal(do_rq(f,
                           (cse_req){.op = CMN_OP_UPDATE,
                                     .path = "tep-cse/box",
                                     .body = "{\"m2m:cnt\":{\"mni\":5,\"lbl\":null}}",
                                     .now = T0 + 60},
                           &rsp),
                     2004);
    v = field(&rsp, "m2m:cnt", "mni");
    assert_int_equal(json_integer_value(v), 5);
    json_decref(v);
    v = field(&rsp, "m2m:cnt", "lt");
    assert_string_not_equal(json_string_value(v), "20231114T221500");
    json_decref(v);
    assert_null(field(&rsp, "m2m:cnt", "lbl"));
    cse_rsp_clear(&rsp);
    assert_int_equal(int_field(f, "tep-cse/box", "m2m:cnt", "st"), 1);
    /* read-only and create-only attributes are refused with a reason */
    assert_int_equal(do_rq(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"ri\":\"x\"}}"), &rsp), 4000);
    assert_non_null(strstr(rsp.body, "ri"));
    cse_rsp_clear(&rsp);
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"cni\":3}}")), 4000);
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"rn\":\"x\"}}")), 4000);
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"mni\":-1}}")), 4000);
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:ae\":{\"apn\":\"x\"}}")), 4000);
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"et\":\"20000101T000000\"}}")),
                     4000);
    /* a contentInstance cannot be updated */
    make_cin(f, "tep-cse/box", "v");
    assert_int_equal(send1(f, PUT("tep-cse/box/la", "{\"m2m:cin\":{\"con\":\"w\"}}")), 4005);
    /* only the creator (or a policy) may update */
    assert_int_equal(send1(f, (cse_req){.op = CMN_OP_UPDATE,
                                        .path = "tep-cse/box",
                                        .from = "Cguest",
                                        .body = "{\"m2m:cnt\":{\"mni\":1}}"}),
                     4103);
}

/* ---- container --------------------------------------------------------------------- */

static void test_container_limits(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *con;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\",\"mni\":2,\"mbs\":10}}");
    make_cin(f, "tep-cse/box", "one");
    make_cin(f, "tep-cse/box", "two");
    make_cin(f, "tep-cse/box", "three");
    assert_int_equal(int_field(f, "tep-cse/box", "m2m:cnt", "cni"), 2);
    assert_int_equal(int_field(f, "tep-cse/box", "m2m:cnt", "cbs"), 8);
    assert_int_equal(do_rq(f, GET("tep-cse/box/ol", NULL), &rsp), 2000);
    con = field(&rsp, "m2m:cin", "con");
    assert_string_equal(json_string_value(con), "two");
    json_decref(con);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse/box/la", NULL), &rsp), 2000);
    con = field(&rsp, "m2m:cin", "con");
    assert_string_equal(json_string_value(con), "three");
    json_decref(con);
    cse_rsp_clear(&rsp);
    /* mbs: the oldest go first; one bigger than mbs is refused */
    make_cin(f, "tep-cse/box", "fourfour");
    assert_int_equal(int_field(f, "tep-cse/box", "m2m:cnt", "cni"), 1);
    assert_int_equal(
        send1(f, CREATE("tep-cse/box", CMN_TY_CIN, "{\"m2m:cin\":{\"con\":\"0123456789ab\"}}")),
        5207);
    /* deleting la removes the latest */
    assert_int_equal(send1(f, DEL("tep-cse/box/la")), 2002);
    assert_int_equal(send1(f, GET("tep-cse/box/la", NULL)), 4004);
    assert_int_equal(int_field(f, "tep-cse/box", "m2m:cnt", "cni"), 0);
}

static void test_container_mia(void **state)
{
    fixture *f = *state;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\",\"mia\":30}}");
    make_cin(f, "tep-cse/box", "old");
    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_RETRIEVE, .path = "tep-cse/box/la", .now = T0 + 29}), 2000);
    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_RETRIEVE, .path = "tep-cse/box/la", .now = T0 + 31}), 4004);
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *et;
    size_t n = 0;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"short\",\"et\":\"20231114T222000\"}}");
    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"sweep\",\"et\":\"20231114T222000\"}}");
    make_cnt(f, "tep-cse/short", "{\"m2m:cnt\":{\"rn\":\"inner\"}}");
    assert_int_equal(do_rq(f, GET("tep-cse/short", NULL), &rsp), 2000);
    et = field(&rsp, "m2m:cnt", "et");
    assert_string_equal(json_string_value(et), "20231114T222000");
    json_decref(et);
    cse_rsp_clear(&rsp);
    /* 1700000400 = 20231114T222000: from then on it is gone, with its children */
    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_RETRIEVE, .path = "tep-cse/short", .now = 1700000400}),
        4004);
    assert_int_equal(send1(f, GET("tep-cse/short/inner", NULL)), 4004);
    assert_int_equal(cse_res_expire(f->st, 1700000400, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(send1(f, GET("tep-cse/sweep", NULL)), 4004);
}

/* ---- discovery and result content --------------------------------------------------- */

static size_t list_size(const cse_rsp *rsp, const char *wrapper)
{
    json_t *root = json_loads(rsp->body, 0, NULL);
    size_t n = json_array_size(json_object_get(root, wrapper));

    json_decref(root);
    return n;
}

static void make_tree(fixture *f)
{
    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"a\",\"lbl\":[\"room/1\",\"hot\"]}}");
    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"b\",\"lbl\":[\"room/2\"]}}");
    make_cnt(f, "tep-cse/a", "{\"m2m:cnt\":{\"rn\":\"a1\"}}");
    make_cin(f, "tep-cse/a", "x");
    make_cin(f, "tep-cse/a", "y");
    make_cin(f, "tep-cse/a/a1", "z");
}

static size_t discover(fixture *f, const char *path, const char *q)
{
    cse_rsp rsp;
    size_t n;

    assert_int_equal(do_rq(f, GET(path, q), &rsp), 2000);
    n = list_size(&rsp, "m2m:uril");
    cse_rsp_clear(&rsp);
    return n;
}

static void test_discovery(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;

    make_tree(f);
    assert_int_equal(discover(f, "tep-cse", "fu=1"), 6);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ty=4"), 3);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ty=3+4"), 6);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ty=3&ty=4"), 6);
    assert_int_equal(discover(f, "tep-cse", "fu=1&lbl=hot"), 1);
    assert_int_equal(discover(f, "tep-cse", "fu=1&lbl=room/1&lbl=room/2"), 2);
    assert_int_equal(discover(f, "tep-cse", "fu=1&lvl=1"), 2);
    assert_int_equal(discover(f, "tep-cse", "fu=1&lim=4"), 4);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ofst=6"), 1); /* 1 = from the first */
    assert_int_equal(discover(f, "tep-cse", "fu=1&ofst=1"), 6);
    assert_int_equal(discover(f, "tep-cse", "fu=1&crb=19700101T000000"), 0);
    assert_int_equal(discover(f, "tep-cse/a", "fu=1&ty=4"), 3);
    assert_int_equal(discover(f, "tep-cse", "fu=1&cra=20231114T221400"), 6);
    assert_int_equal(discover(f, "tep-cse", "fu=1&crb=20231114T221400"), 0);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ty=3&stb=0"), 2);
    assert_int_equal(discover(f, "tep-cse", "fu=1&ty=3&sts=1"), 1);
    assert_int_equal(discover(f, "tep-cse", "fu=1&"), 6); /* empty parameter tolerated */
    /* structured by default, ri with drt=2 */
    assert_int_equal(do_rq(f, GET("tep-cse", "fu=1&lbl=hot"), &rsp), 2000);
    assert_non_null(strstr(rsp.body, "\"tep-cse/a\""));
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse", "fu=1&lbl=hot&drt=2"), &rsp), 2000);
    assert_null(strstr(rsp.body, "\"tep-cse/a\""));
    cse_rsp_clear(&rsp);
    /* bad values are 4000; someone without DISCOVERY privilege gets 4103 */
    assert_int_equal(send1(f, GET("tep-cse", "fu=1&ty=x")), 4000);
    assert_int_equal(send1(f, GET("tep-cse", "fu=1&lim=-1")), 4000);
    assert_int_equal(send1(f, GET("tep-cse", "fu=1&cra=yesterday")), 4000);
    assert_int_equal(
        send1(
            f,
            (cse_req){.op = CMN_OP_RETRIEVE, .path = "tep-cse", .from = "Cguest", .query = "fu=1"}),
        4103);
}

static void test_result_content(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *v;

    make_tree(f);
    assert_int_equal(do_rq(f, GET("tep-cse/a", "rcn=6"), &rsp), 2000);
    v = field(&rsp, "m2m:rrl", "rrf");
    assert_int_equal(json_array_size(v), 3);
    assert_non_null(json_object_get(json_array_get(v, 0), "val"));
    json_decref(v);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse/a", "rcn=5"), &rsp), 2000);
    v = field(&rsp, "m2m:cnt", "ch");
    assert_int_equal(json_array_size(v), 3);
    json_decref(v);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse/a", "rcn=4"), &rsp), 2000);
    v = field(&rsp, "m2m:cnt", "m2m:cin");
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    v = field(&rsp, "m2m:cnt", "rn");
    assert_string_equal(json_string_value(v), "a");
    json_decref(v);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse/a", "rcn=8&ty=4"), &rsp), 2000);
    v = field(&rsp, "m2m:cnt", "m2m:cin");
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
    assert_null(field(&rsp, "m2m:cnt", "rn"));
    cse_rsp_clear(&rsp);
    /* CREATE: rcn 0 nothing, 2 the address; rcn 4 is not valid there */
    assert_int_equal(do_rq(f,
                           (cse_req){.op = CMN_OP_CREATE,
                                     .path = "tep-cse/b",
                                     .ty = CMN_TY_CIN,
                                     .query = "rcn=0",
                                     .body = "{\"m2m:cin\":{\"con\":\"q\"}}"},
                           &rsp),
                     2001);
    assert_null(rsp.body);
    assert_string_not_equal(rsp.location, "");
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f,
                           (cse_req){.op = CMN_OP_CREATE,
                                     .path = "tep-cse/b",
                                     .ty = CMN_TY_CIN,
                                     .query = "rcn=2",
                                     .body = "{\"m2m:cin\":{\"con\":\"q\"}}"},
                           &rsp),
                     2001);
    assert_non_null(strstr(rsp.body, "\"m2m:uri\":\"tep-cse/b/"));
    cse_rsp_clear(&rsp);
    assert_int_equal(send1(f, (cse_req){.op = CMN_OP_CREATE,
                                        .path = "tep-cse/b",
                                        .ty = CMN_TY_CIN,
                                        .query = "rcn=4",
                                        .body = "{\"m2m:cin\":{\"con\":\"q\"}}"}),
                     4000);
    assert_int_equal(send1(f, GET("tep-cse/a", "rcn=0")), 4000);
    /* DELETE: rcn 1 answers the deleted resource */
    assert_int_equal(
        do_rq(f, (cse_req){.op = CMN_OP_DELETE, .path = "tep-cse/b", .query = "rcn=1"}, &rsp),
        2002);
    assert_non_null(strstr(rsp.body, "m2m:cnt"));
    cse_rsp_clear(&rsp);
}

/* ---- group ------------------------------------------------------------------------- */

static void test_group(void **state)
{
    fixture *f = *state;
    cse_rsp rsp;
    json_t *list;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"c1\"}}");
    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"c2\"}}");
    make_cin(f, "tep-cse/c1", "one");
    assert_int_equal(do_rq(f,
                           CREATE("tep-cse", CMN_TY_GRP,
                                  "{\"m2m:grp\":{\"rn\":\"g\",\"mt\":3,\"mnm\":3,"
                                  "\"mid\":[\"tep-cse/c1\",\"tep-cse/c2\",\"tep-cse/c1\"]}}"),
                           &rsp),
                     2001);
    list = field(&rsp, "m2m:grp", "mid");
    assert_int_equal(json_array_size(list), 2); /* duplicates removed */
    json_decref(list);
    cse_rsp_clear(&rsp);
    assert_int_equal(int_field(f, "tep-cse/g", "m2m:grp", "cnm"), 2);
    /* fan-out: every member answers, aggregated */
    assert_int_equal(do_rq(f, GET("tep-cse/g/fopt", NULL), &rsp), 2000);
    list = field(&rsp, "m2m:agr", "m2m:rsp");
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "rsc")), 2000);
    json_decref(list);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, GET("tep-cse/g/fopt/la", NULL), &rsp), 2000);
    list = field(&rsp, "m2m:agr", "m2m:rsp");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "rsc")), 2000);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "rsc")), 4004);
    json_decref(list);
    cse_rsp_clear(&rsp);
    /* create through the fan-out point */
    assert_int_equal(
        send1(f, CREATE("tep-cse/g/fopt", CMN_TY_CIN, "{\"m2m:cin\":{\"con\":\"all\"}}")), 2000);
    assert_int_equal(int_field(f, "tep-cse/c2", "m2m:cnt", "cni"), 1);
    /* member type, member count, unknown member */
    assert_int_equal(
        send1(f, CREATE("tep-cse", CMN_TY_GRP,
                        "{\"m2m:grp\":{\"mt\":2,\"mnm\":3,\"mid\":[\"tep-cse/c1\"]}}")),
        4110);
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP,
                                     "{\"m2m:grp\":{\"mnm\":1,\"mid\":[\"tep-cse/c1\","
                                     "\"tep-cse/c2\"]}}")),
                     6010);
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP,
                                     "{\"m2m:grp\":{\"mnm\":1,\"mid\":[\"tep-cse/nope\"]}}")),
                     4000);
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP, "{\"m2m:grp\":{\"mnm\":1}}")), 4000);
    assert_int_equal(send1(f, PUT("tep-cse/g", "{\"m2m:grp\":{\"mid\":[\"tep-cse/c1\"]}}")), 2004);
    assert_int_equal(int_field(f, "tep-cse/g", "m2m:grp", "cnm"), 1);
    /* a group holding itself: fan-out nests two levels, then each member answers 4000 */
    assert_int_equal(send1(f, PUT("tep-cse/g", "{\"m2m:grp\":{\"mt\":0}}")), 4000); /* mt: C */
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP,
                                     "{\"m2m:grp\":{\"rn\":\"loop\",\"mnm\":9,"
                                     "\"mid\":[\"tep-cse/c1\"]}}")),
                     2001);
    assert_int_equal(
        send1(f, PUT("tep-cse/loop", "{\"m2m:grp\":{\"mid\":[\"tep-cse/c1\",\"tep-cse/loop\"]}}")),
        2004);
    assert_int_equal(do_rq(f, GET("tep-cse/loop/fopt/fopt/fopt/fopt", NULL), &rsp), 2000);
    assert_non_null(strstr(rsp.body, "\"rsc\":4000"));
    cse_rsp_clear(&rsp);
}

/* One resource under four spellings is one member; all the sub-requests of a request,
 * nested included, are counted before any is sent (issue 10: amplification). */
static void test_group_fanout_bounded(void **state)
{
    fixture *f = *state;
    char body[1024], ri[64];
    cse_rsp rsp;
    json_t *v;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"c1\"}}");
    assert_int_equal(do_rq(f, GET("tep-cse/c1", NULL), &rsp), 2000);
    v = field(&rsp, "m2m:cnt", "ri");
    snprintf(ri, sizeof(ri), "%s", json_string_value(v));
    json_decref(v);
    cse_rsp_clear(&rsp);
    snprintf(body, sizeof(body),
             "{\"m2m:grp\":{\"rn\":\"in\",\"mnm\":9,\"mid\":[\"tep-cse/c1\",\"-/c1\","
             "\"/tep-cse/tep-cse/c1\",\"%s\"]}}",
             ri);
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP, body)), 2001);
    assert_int_equal(int_field(f, "tep-cse/in", "m2m:grp", "cnm"), 1);
    assert_int_equal(send1(f, CREATE("tep-cse", CMN_TY_GRP,
                                     "{\"m2m:grp\":{\"rn\":\"out\",\"mnm\":9,"
                                     "\"mid\":[\"tep-cse/in\",\"-/in\"]}}")),
                     2001);
    assert_int_equal(int_field(f, "tep-cse/out", "m2m:grp", "cnm"), 1);
    /* out/fopt/fopt: in, then c1: 2 sub-requests */
    f->node.fanout_max = 2;
    assert_int_equal(
        send1(f, CREATE("tep-cse/out/fopt/fopt", CMN_TY_CIN, "{\"m2m:cin\":{\"con\":\"x\"}}")),
        2000);
    assert_int_equal(int_field(f, "tep-cse/c1", "m2m:cnt", "cni"), 1);
    /* one more: refused before any member is reached */
    f->node.fanout_max = 1;
    assert_int_equal(
        do_rq(f, CREATE("tep-cse/out/fopt/fopt", CMN_TY_CIN, "{\"m2m:cin\":{\"con\":\"y\"}}"),
              &rsp),
        6010);
    assert_non_null(strstr(rsp.body, "fanout_limit_1_exceeded"));
    cse_rsp_clear(&rsp);
    assert_int_equal(int_field(f, "tep-cse/c1", "m2m:cnt", "cni"), 1);
    assert_int_equal(send1(f, GET("tep-cse/out/fopt", NULL)), 2000); /* 1 is fine */
    f->node.fanout_max = 0;                                          /* the default */
    assert_int_equal(send1(f, GET("tep-cse/out/fopt/fopt", NULL)), 2000);
}

/* ---- subscription ------------------------------------------------------------------ */

static void test_subscription_verification(void **state)
{
    fixture *f = *state;
    const char *body = "{\"m2m:sub\":{\"nu\":[\"coap://127.0.0.1:9/n\"],\"enc\":{\"net\":[3]}}}";
    cse_req r = CREATE("tep-cse/box", CMN_TY_SUB, body);
    cse_rsp rsp;
    char rn[64];

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\"}}");
    /* the first pass asks for a verification request to the notification target */
    assert_int_equal(do_rq(f, r, &rsp), 0);
    assert_int_equal(rsp.n_verify, 1);
    assert_string_equal(rsp.verify_nu[0], "coap://127.0.0.1:9/n");
    assert_non_null(strstr(rsp.verify_body, "\"vrq\":true"));
    snprintf(rn, sizeof(rn), "%s", rsp.verify_rn);
    cse_rsp_clear(&rsp);
    /* it failed: 5204; it passed: created under the announced name */
    r.verified = -1;
    assert_int_equal(send1(f, r), 5204);
    r.verified = 1;
    r.sub_rn = rn;
    assert_int_equal(do_rq(f, r, &rsp), 2001);
    assert_non_null(strstr(rsp.location, rn));
    cse_rsp_clear(&rsp);
    /* nu = the originator itself needs no verification */
    assert_int_equal(
        send1(f, CREATE("tep-cse/box", CMN_TY_SUB, "{\"m2m:sub\":{\"nu\":[\"CAdmin\"]}}")), 2001);
    /* bad shapes */
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB, "{\"m2m:sub\":{\"nu\":[]}}")),
                     4000);
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB,
                                     "{\"m2m:sub\":{\"nu\":[\"CAdmin\"],\"enc\":{\"net\":[9]}}}")),
                     4000);
}

static void test_notifications(void **state)
{
    fixture *f = *state;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\"}}");
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB,
                                     "{\"m2m:sub\":{\"rn\":\"s\",\"nu\":[\"CAdmin\"],"
                                     "\"enc\":{\"net\":[1,3]}}}")),
                     2001);
    assert_int_equal(f->sent, 0);
    make_cin(f, "tep-cse/box", "hello");
    assert_int_equal(f->sent, 1);
    assert_string_equal(f->last_nu, "CAdmin");
    assert_non_null(strstr(f->last_body, "\"net\":3"));
    assert_non_null(strstr(f->last_body, "hello"));
    assert_non_null(strstr(f->last_body, "\"sur\":\"tep-cse/box/s\""));
    assert_int_equal(send1(f, PUT("tep-cse/box", "{\"m2m:cnt\":{\"mni\":9}}")), 2004);
    assert_int_equal(f->sent, 2);
    assert_non_null(strstr(f->last_body, "\"net\":1"));
    /* net 4 was not asked for */
    assert_int_equal(send1(f, DEL("tep-cse/box/la")), 2002);
    assert_int_equal(f->sent, 2);
}

static void test_expiration_counter_and_deletion_notice(void **state)
{
    fixture *f = *state;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\"}}");
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB,
                                     "{\"m2m:sub\":{\"rn\":\"s\",\"nu\":[\"CAdmin\"],"
                                     "\"su\":\"CAdmin\",\"exc\":2,\"enc\":{\"net\":[3]}}}")),
                     2001);
    make_cin(f, "tep-cse/box", "one");
    assert_int_equal(f->sent, 1);
    assert_int_equal(int_field(f, "tep-cse/box/s", "m2m:sub", "exc"), 1);
    make_cin(f, "tep-cse/box", "two");
    /* the second notification, then the deletion notice to su; the subscription is gone */
    assert_int_equal(f->sent, 3);
    assert_non_null(strstr(f->last_body, "\"sud\":true"));
    assert_int_equal(send1(f, GET("tep-cse/box/s", NULL)), 4004);
    make_cin(f, "tep-cse/box", "three");
    assert_int_equal(f->sent, 3);
    /* DELETE of a subscription with su sends the notice too */
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB,
                                     "{\"m2m:sub\":{\"rn\":\"t\",\"nu\":[\"CAdmin\"],"
                                     "\"su\":\"CAdmin\"}}")),
                     2001);
    assert_int_equal(send1(f, DEL("tep-cse/box/t")), 2002);
    assert_int_equal(f->sent, 4);
    assert_non_null(strstr(f->last_body, "\"sur\":\"tep-cse/box/t\""));
}

/* Where a notification goes: a coap:// or coaps:// URI as is (a coaps:// one over the
 * SA2 of whoever gave it), an AE (by AE-ID or path) at its first coaps:// pointOfAccess
 * over its own SA2, else its first coap:// one; anything else nowhere. */
static void test_notification_targets(void **state)
{
    fixture *f = *state;
    cse_client_dest d;

    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_CREATE,
                           .path = "tep-cse",
                           .from = "Cpoa",
                           .ty = CMN_TY_AE,
                           .body = "{\"m2m:ae\":{\"srv\":[\"3\"],\"api\":\"Nx\",\"rr\":true,"
                                   "\"poa\":[\"http://h/x\",\"coap://127.0.0.1:5690/n\"]}}"}),
        2001);
    assert_int_equal(
        send1(f, (cse_req){.op = CMN_OP_CREATE,
                           .path = "tep-cse",
                           .from = "Csec",
                           .ty = CMN_TY_AE,
                           .body = "{\"m2m:ae\":{\"srv\":[\"3\"],\"api\":\"Nx\",\"rr\":true,"
                                   "\"poa\":[\"coap://127.0.0.1:5690/n\","
                                   "\"coaps://192.0.2.7:5684/n\"]}}"}),
        2001);
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "Cpoa", "Cother", &d), 0);
    assert_string_equal(d.uri, "coap://127.0.0.1:5690/n");
    assert_string_equal(d.ae_id, "");
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "tep-cse/Cpoa", NULL, &d), 0);
    assert_string_equal(d.uri, "coap://127.0.0.1:5690/n");
    /* the coaps:// poa first, over that AE's own association, whoever subscribed */
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "Csec", "Cother", &d), 0);
    assert_string_equal(d.uri, "coaps://192.0.2.7:5684/n");
    assert_string_equal(d.ae_id, "Csec");
    /* a coaps:// URI given as is: the association of its owner, in its local form */
    assert_int_equal(
        cse_client_target(f->st, "/tep-cse", "coaps://192.0.2.9:5684/x", "/tep-cse/Cowner", &d), 0);
    assert_string_equal(d.uri, "coaps://192.0.2.9:5684/x");
    assert_string_equal(d.ae_id, "Cowner");
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "coaps://192.0.2.9:5684/x", NULL, &d), 0);
    assert_string_equal(d.ae_id, "");
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "coap://[::1]:1/a", "Cowner", &d), 0);
    assert_string_equal(d.uri, "coap://[::1]:1/a");
    assert_string_equal(d.ae_id, "");
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "Cnobody", NULL, &d), CMN_ENOTFOUND);
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "tep-cse", NULL, &d), CMN_ENOTFOUND);
    assert_int_equal(cse_client_target(f->st, "/tep-cse", "https://x/y", NULL, &d), CMN_ENOTFOUND);
}

/* [cse] notify_plain and SA2: a target tep-cse may not send to fails the subscription at
 * once with 5204 and the reason, before any verification request (TS-0004 7.4.8.2.1
 * Recv-6.4 a). */
static void test_subscription_target_policy(void **state)
{
    fixture *f = *state;
    const char *wide = "{\"m2m:sub\":{\"nu\":[\"coap://192.0.2.1:5683/n\"]}}";
    const char *lo = "{\"m2m:sub\":{\"nu\":[\"coap://127.0.0.1:9/n\"]}}";
    const char *sec = "{\"m2m:sub\":{\"nu\":[\"coaps://127.0.0.1:9/n\"]}}";
    cse_rsp rsp;

    make_cnt(f, "tep-cse", "{\"m2m:cnt\":{\"rn\":\"box\"}}");
    /* the default: loopback only */
    assert_int_equal(do_rq(f, CREATE("tep-cse/box", CMN_TY_SUB, wide), &rsp), 5204);
    assert_non_null(strstr(rsp.body, "plain_coap_target_not_allowed"));
    assert_int_equal(rsp.n_verify, 0);
    cse_rsp_clear(&rsp);
    assert_int_equal(do_rq(f, CREATE("tep-cse/box", CMN_TY_SUB, lo), &rsp), 0);
    assert_int_equal(rsp.n_verify, 1);
    cse_rsp_clear(&rsp);
    /* off: not even loopback; any: every address */
    f->node.notify_plain = CSE_NOTIFY_PLAIN_OFF;
    assert_int_equal(send1(f, CREATE("tep-cse/box", CMN_TY_SUB, lo)), 5204);
    f->node.notify_plain = CSE_NOTIFY_PLAIN_ANY;
    assert_int_equal(do_rq(f, CREATE("tep-cse/box", CMN_TY_SUB, wide), &rsp), 0);
    assert_int_equal(rsp.n_verify, 1);
    cse_rsp_clear(&rsp);
    f->node.notify_plain = CSE_NOTIFY_PLAIN_LOOPBACK;
    /* coaps:// given by an originator without a security association (the admin here,
     * over plain CoAP): nothing to establish SA2 with */
    assert_int_equal(do_rq(f, CREATE("tep-cse/box", CMN_TY_SUB, sec), &rsp), 5204);
    assert_non_null(strstr(rsp.body, "no_usable_security_association"));
    cse_rsp_clear(&rsp);
}

/* ---- binding-level checks ----------------------------------------------------------- */

static void test_formats(void **state)
{
    fixture *f = *state;
    cse_req r = CREATE("tep-cse", CMN_TY_CNT, "{\"m2m:cnt\":{}}");
    cse_rsp rsp;

    r.cf = 60; /* CBOR is not parsed */
    assert_int_equal(send1(f, r), 4015);
    r.cf = 10001;
    assert_int_equal(send1(f, r), 2001);
    r = GET("tep-cse", NULL);
    r.has_accept = true;
    r.accept = 60;
    assert_int_equal(send1(f, r), 5207);
    r.accept = 10001;
    assert_int_equal(do_rq(f, r, &rsp), 2000);
    assert_int_equal(rsp.cf, 10001);
    cse_rsp_clear(&rsp);
    /* releases tep does not know are 4001 */
    r = GET("tep-cse", NULL);
    r.rvi = "3";
    assert_int_equal(send1(f, r), 2000);
    r.rvi = "2a";
    assert_int_equal(send1(f, r), 2000);
    r.rvi = "9";
    assert_int_equal(send1(f, r), 4001);
    /* request/result expiration passed: 4008; a future execution time: 5001 */
    r = GET("tep-cse", NULL);
    r.rqet = "20231114T221600"; /* T0 + 60 */
    assert_int_equal(send1(f, r), 2000);
    r.rqet = "20231114T221400,5";
    assert_int_equal(send1(f, r), 4008);
    r.rqet = "5000"; /* relative, ms */
    assert_int_equal(send1(f, r), 2000);
    r.rqet = "-5000";
    assert_int_equal(send1(f, r), 4008);
    r.rqet = "soon";
    assert_int_equal(send1(f, r), 4000);
    r.rqet = NULL;
    r.rset = "20231114T221400";
    assert_int_equal(send1(f, r), 4008);
    r.rset = NULL;
    r.oet = "20231114T221400";
    assert_int_equal(send1(f, r), 2000);
    r.oet = "60000";
    assert_int_equal(send1(f, r), 5001);
    /* NOTIFY to the CSE is accepted (2000) */
    assert_int_equal(send1(f, (cse_req){.op = CMN_OP_NOTIFY,
                                        .path = "tep-cse",
                                        .body = "{\"m2m:sgn\":{\"vrq\":true}}"}),
                     2000);
}

/* The policy table of docs/access-control.md ("Who decides what"), local decisions: an
 * ACP by its own pvs, acpi changed only with pvs and alone, a contentInstance by its
 * container's policy, a subscription needs Retrieve, <group>/fopt checked first. */
static unsigned as(fixture *f, const char *from, cse_req r)
{
    r.from = from;
    return send1(f, r);
}

static void test_policy_table(void **state)
{
    fixture *f = *state;
    const char *acp_body = "{\"m2m:acp\":{\"rn\":\"acp1\",\"pv\":{\"acr\":["
                           "{\"acor\":[\"Cown\"],\"acop\":63},{\"acor\":[\"Cwrite\"],\"acop\":1},"
                           "{\"acor\":[\"Cread\"],\"acop\":3}]},"
                           "\"pvs\":{\"acr\":[{\"acor\":[\"Ckeep\"],\"acop\":6}]}}}";
    char body[256], ri[64];
    cse_rsp rsp;
    json_t *v;

    assert_int_equal(
        as(f, "Cown",
           CREATE("tep-cse", CMN_TY_AE,
                  "{\"m2m:ae\":{\"rn\":\"own\",\"rr\":false,\"srv\":[\"3\"],\"api\":\"Nx\"}}")),
        2001);
    assert_int_equal(do_rq(f,
                           (cse_req){.op = CMN_OP_CREATE,
                                     .path = "tep-cse/own",
                                     .ty = CMN_TY_ACP,
                                     .body = acp_body,
                                     .from = "Cown"},
                           &rsp),
                     2001);
    v = field(&rsp, "m2m:acp", "ri");
    snprintf(ri, sizeof(ri), "%s", json_string_value(v));
    json_decref(v);
    cse_rsp_clear(&rsp);
    snprintf(body, sizeof(body), "{\"m2m:cnt\":{\"rn\":\"c\",\"acpi\":[\"%s\"]}}", ri);
    assert_int_equal(as(f, "Cown", CREATE("tep-cse/own", CMN_TY_CNT, body)), 2001);

    /* the ACP: its pvs (Ckeep: Retrieve, Update), not its creator, not pv */
    assert_int_equal(as(f, "Ckeep", GET("tep-cse/own/acp1", NULL)), 2000);
    assert_int_equal(as(f, "Cown", GET("tep-cse/own/acp1", NULL)), 4103);
    assert_int_equal(as(f, "Cread", GET("tep-cse/own/acp1", NULL)), 4103);
    assert_int_equal(as(f, "Ckeep", DEL("tep-cse/own/acp1")), 4103);
    /* contentInstances: the container's policy, not the instance's creator */
    assert_int_equal(
        as(f, "Cwrite", CREATE("tep-cse/own/c", CMN_TY_CIN, "{\"m2m:cin\":{\"con\":\"v\"}}")),
        2001);
    assert_int_equal(as(f, "Cread", GET("tep-cse/own/c/la", NULL)), 2000);
    assert_int_equal(as(f, "Cwrite", GET("tep-cse/own/c/la", NULL)), 4103);
    assert_int_equal(as(f, "Cother", GET("tep-cse/own/c/ol", NULL)), 4103);
    /* subscribing: Create and Retrieve */
    assert_int_equal(
        as(f, "Cwrite",
           CREATE("tep-cse/own/c", CMN_TY_SUB, "{\"m2m:sub\":{\"rn\":\"s\",\"nu\":[\"Cwrite\"]}}")),
        4103);
    assert_int_equal(
        as(f, "Cread",
           CREATE("tep-cse/own/c", CMN_TY_SUB, "{\"m2m:sub\":{\"rn\":\"s\",\"nu\":[\"Cread\"]}}")),
        2001);
    /* acpi: pvs, alone */
    snprintf(body, sizeof(body), "{\"m2m:cnt\":{\"acpi\":[\"%s\"]}}", ri);
    assert_int_equal(as(f, "Cread", PUT("tep-cse/own/c", body)), 4103);
    assert_int_equal(as(f, "Cown", PUT("tep-cse/own/c", body)), 4103);
    assert_int_equal(as(f, "Ckeep", PUT("tep-cse/own/c", body)), 2004);
    snprintf(body, sizeof(body), "{\"m2m:cnt\":{\"acpi\":[\"%s\"],\"lbl\":[\"x\"]}}", ri);
    assert_int_equal(as(f, "Ckeep", PUT("tep-cse/own/c", body)), 4000);
    /* other attributes: Update in pv (Cown), not pvs (Ckeep) */
    assert_int_equal(as(f, "Cown", PUT("tep-cse/own/c", "{\"m2m:cnt\":{\"lbl\":[\"x\"]}}")), 2004);
    assert_int_equal(as(f, "Ckeep", PUT("tep-cse/own/c", "{\"m2m:cnt\":{\"lbl\":[\"y\"]}}")), 4103);
    /* <group>/fopt: the group's policy before any member (Cread: none on the group) */
    assert_int_equal(as(f, "Cown",
                        CREATE("tep-cse/own", CMN_TY_GRP,
                               "{\"m2m:grp\":{\"rn\":\"g\",\"mid\":[\"tep-cse/own/c\"],"
                               "\"mnm\":4}}")),
                     2001);
    assert_int_equal(
        do_rq(f, (cse_req){.op = CMN_OP_RETRIEVE, .path = "tep-cse/own/g/fopt", .from = "Cread"},
              &rsp),
        4103);
    assert_null(strstr(rsp.body, "own/c"));
    cse_rsp_clear(&rsp);
    assert_int_equal(as(f, "Cown", GET("tep-cse/own/g/fopt", NULL)), 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_addressing_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ae_originators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_mia, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_fanout_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiration_counter_and_deletion_notice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notification_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_target_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
