/* The containers' age index and the child index (cse_container.h, cse_resource.h): la/ol
 * order, eviction by mni/mbs/mia in the CREATE's transaction, cni/cbs across a restart,
 * a subtree delete leaving no index entry, and the migration of a schema-1 store. Real
 * LMDB store in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_container.h"
#include "cse_resource.h"
#include "tst.h"

#define T0 1700000000

typedef struct {
    char dir[64];
    cmn_store *st;
} fixture;

static const char *const dbs[] = {CSE_RES_DBS};

static void open_store(fixture *f, uint32_t schema)
{
    assert_int_equal(cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), schema, 0, &f->st),
                     0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    cmn_log_init("test", CMN_LOG_ERR, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cnt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    open_store(f, CSE_SCHEMA);
    assert_int_equal(cse_res_ensure_csebase(f->st, "/tep-cse", "tep-cse", T0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cmn_store_close(f->st);
    assert_int_equal(tst_rmtree(f->dir), 0);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    cmn_store_close(f->st);
    open_store(f, CSE_SCHEMA);
}

static Tep__Resource *get(fixture *f, const char *path)
{
    Tep__Resource *r = NULL;

    assert_int_equal(cse_res_get(f->st, path, &r), 0);
    return r;
}

static void make(fixture *f, const char *parent_path, unsigned ty, const char *attrs_json,
                 int64_t now)
{
    Tep__Resource *parent = get(f, parent_path), *made = NULL;
    json_t *attrs = json_loads(attrs_json, 0, NULL);
    cse_res_create_in in = {.ty = ty, .attrs = attrs, .originator = "CAdmin", .now = now};

    assert_non_null(attrs);
    assert_int_equal(cse_res_create(f->st, parent, &in, &made), CMN_RSC_CREATED);
    cse_res_free(made);
    cse_res_free(parent);
    json_decref(attrs);
}

static void add_cin(fixture *f, const char *cnt, int i, int64_t now)
{
    char a[64];

    snprintf(a, sizeof(a), "{\"con\":\"v%03d\"}", i);
    make(f, cnt, CMN_TY_CIN, a, now);
}

static long cnt_attr(fixture *f, const char *path, const char *name)
{
    Tep__Resource *r = get(f, path);
    json_t *a = json_loads(r->json, 0, NULL);
    long v = (long)json_integer_value(json_object_get(a, name));

    json_decref(a);
    cse_res_free(r);
    return v;
}

/* The con of la (oldest false) or ol; "" when the container holds none. */
static void edge_con(fixture *f, const char *cnt, bool oldest, char *ret)
{
    Tep__Resource *r = NULL;
    json_t *a;
    int rc = cse_cnt_edge(f->st, cnt, oldest, &r);

    ret[0] = '\0';
    if (rc == CMN_ENOTFOUND)
        return;
    assert_int_equal(rc, 0);
    a = json_loads(r->json, 0, NULL);
    strcpy(ret, json_string_value(json_object_get(a, "con")));
    json_decref(a);
    cse_res_free(r);
}

static void assert_edges(fixture *f, const char *cnt, const char *ol, const char *la)
{
    char got[64];

    edge_con(f, cnt, true, got);
    assert_string_equal(got, ol);
    edge_con(f, cnt, false, got);
    assert_string_equal(got, la);
}

static int count_fn(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return 0;
}

static size_t index_entries(fixture *f, const char *cnt)
{
    size_t n = 0;

    assert_int_equal(cmn_store_foreach(f->st, CSE_DB_CIN_AGE, cnt, strlen(cnt) + 1, count_fn, &n),
                     0);
    return n;
}

static int visit_count(const Tep__Resource *r, void *arg)
{
    (void)r;
    (*(size_t *)arg)++;
    return 0;
}

static size_t children(fixture *f, const char *path)
{
    size_t n = 0;

    assert_int_equal(cse_res_walk(f->st, path, true, visit_count, &n), 0);
    return n;
}

static void test_order(void **state)
{
    fixture *f = *state;
    Tep__Resource *r = NULL;

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c\"}", T0);
    assert_edges(f, "tep-cse/c", "", "");
    /* several per second, and ct going backwards (a clock step) keeps creation order */
    for (int i = 0; i < 40; i++)
        add_cin(f, "tep-cse/c", i, T0 + (i < 30 ? i / 4 : 2));
    assert_edges(f, "tep-cse/c", "v000", "v039");
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cni"), 40);
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cbs"), 160);
    assert_int_equal(index_entries(f, "tep-cse/c"), 40);
    assert_int_equal(children(f, "tep-cse/c"), 40);
    /* deleting the latest and the oldest moves la/ol and the counts */
    assert_int_equal(cse_cnt_edge(f->st, "tep-cse/c", false, &r), 0);
    assert_int_equal(cse_res_delete(f->st, r, T0 + 50), CMN_RSC_DELETED);
    cse_res_free(r);
    assert_int_equal(cse_cnt_edge(f->st, "tep-cse/c", true, &r), 0);
    assert_int_equal(cse_res_delete(f->st, r, T0 + 50), CMN_RSC_DELETED);
    cse_res_free(r);
    assert_edges(f, "tep-cse/c", "v001", "v038");
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cni"), 38);
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cbs"), 152);
    assert_int_equal(index_entries(f, "tep-cse/c"), 38);
}

static void test_evict_mni(void **state)
{
    fixture *f = *state;

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c\",\"mni\":5}", T0);
    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c2\",\"mni\":5}", T0); /* "c" prefixes "c2" */
    for (int i = 0; i < 20; i++) {
        add_cin(f, "tep-cse/c", i, T0 + i);
        add_cin(f, "tep-cse/c2", 100 + i, T0 + i);
    }
    assert_edges(f, "tep-cse/c", "v015", "v019");
    assert_edges(f, "tep-cse/c2", "v115", "v119");
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cni"), 5);
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cbs"), 20);
    assert_int_equal(index_entries(f, "tep-cse/c"), 5);
    assert_int_equal(children(f, "tep-cse/c"), 5);
    /* st counts every change: 20 creates and 15 evictions */
    assert_int_equal(cnt_attr(f, "tep-cse/c", "st"), 35);
}

static void test_evict_mbs_mia(void **state)
{
    fixture *f = *state;
    Tep__Resource *cnt = NULL;

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"b\",\"mbs\":10}", T0);
    for (int i = 0; i < 6; i++)
        add_cin(f, "tep-cse/b", i, T0); /* 4 bytes each: 2 fit */
    assert_edges(f, "tep-cse/b", "v004", "v005");
    assert_int_equal(cnt_attr(f, "tep-cse/b", "cbs"), 8);
    assert_int_equal(cnt_attr(f, "tep-cse/b", "cni"), 2);

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"a\",\"mia\":100}", T0);
    for (int i = 0; i < 5; i++)
        add_cin(f, "tep-cse/a", i, T0 + i * 10);
    assert_edges(f, "tep-cse/a", "v000", "v004");
    cnt = get(f, "tep-cse/a");
    assert_int_equal(cse_cnt_enforce(f->st, cnt, T0 + 125), 0); /* v000..v002 too old */
    cse_res_free(cnt);
    assert_edges(f, "tep-cse/a", "v003", "v004");
    assert_int_equal(cnt_attr(f, "tep-cse/a", "cni"), 2);
    assert_int_equal(index_entries(f, "tep-cse/a"), 2);
}

static void test_restart(void **state)
{
    fixture *f = *state;

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c\",\"mni\":10}", T0);
    for (int i = 0; i < 30; i++)
        add_cin(f, "tep-cse/c", i, T0 + i);
    reopen(f);
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cni"), 10);
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cbs"), 40);
    assert_edges(f, "tep-cse/c", "v020", "v029");
    /* after the restart, in the same second: still after the older ones */
    add_cin(f, "tep-cse/c", 30, T0 + 29);
    assert_edges(f, "tep-cse/c", "v021", "v030");
    assert_int_equal(cnt_attr(f, "tep-cse/c", "cni"), 10);
    assert_int_equal(index_entries(f, "tep-cse/c"), 10);
}

static void test_delete_subtree(void **state)
{
    fixture *f = *state;
    Tep__Resource *r = NULL;

    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c\"}", T0);
    make(f, "tep-cse/c", CMN_TY_CNT, "{\"rn\":\"in\"}", T0);
    for (int i = 0; i < 5; i++) {
        add_cin(f, "tep-cse/c", i, T0);
        add_cin(f, "tep-cse/c/in", i, T0);
    }
    /* the direct children only: the CSEBase has one, whatever lies below */
    assert_int_equal(children(f, "tep-cse"), 1);
    assert_int_equal(children(f, "tep-cse/c"), 6);
    r = get(f, "tep-cse/c");
    assert_int_equal(cse_res_delete(f->st, r, T0 + 1), CMN_RSC_DELETED);
    cse_res_free(r);
    assert_int_equal(index_entries(f, "tep-cse/c"), 0);
    assert_int_equal(index_entries(f, "tep-cse/c/in"), 0);
    assert_int_equal(children(f, "tep-cse"), 0);
    assert_int_equal(children(f, "tep-cse/c"), 0);
    /* the same name again starts empty */
    make(f, "tep-cse", CMN_TY_CNT, "{\"rn\":\"c\"}", T0 + 2);
    assert_edges(f, "tep-cse/c", "", "");
}

/* Turns the store into what schema 1 wrote: no child or age index, no Resource.age. */
static int strip_age(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
    Tep__Resource *r = tep__resource__unpack(NULL, vl, v);
    int rc;

    assert_non_null(r);
    r->age = 0;
    rc = cmn_txn_put_msg(arg, CSE_DB_RESOURCES, k, kl, &r->base);
    tep__resource__free_unpacked(r, NULL);
    return rc;
}

static void make_schema1(fixture *f)
{
    cmn_txn *t = NULL;

    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    /* read from a snapshot while writing: LMDB readers do not see the writer's puts */
    assert_int_equal(cmn_store_foreach(f->st, CSE_DB_RESOURCES, "tep-cse/", 8, strip_age, t), 0);
    assert_int_equal(cmn_txn_del_prefix(t, CSE_DB_CHILDREN, "tep-cse", 7, NULL), 0);
    assert_int_equal(cmn_txn_del_prefix(t, CSE_DB_CIN_AGE, "tep-cse", 7, NULL), 0);
    assert_int_equal(cmn_txn_set_schema(t, 1), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    cmn_store_close(f->st);
}

static void test_migration(void **state)
{
    fixture *f = *state;
    size_t n = 0;

    make(f, "tep-cse", CMN_TY_AE, "{\"rn\":\"ae\",\"api\":\"Nx\"}", T0);
    make(f, "tep-cse/ae", CMN_TY_CNT, "{\"rn\":\"c\",\"mni\":8}", T0);
    make(f, "tep-cse/ae", CMN_TY_CNT, "{\"rn\":\"d\"}", T0);
    for (int i = 0; i < 12; i++)
        add_cin(f, "tep-cse/ae/c", i, T0 + i / 3);
    for (int i = 0; i < 3; i++)
        add_cin(f, "tep-cse/ae/d", 50 + i, T0);
    make_schema1(f);

    open_store(f, CSE_SCHEMA);
    assert_int_equal(cmn_store_schema(f->st), 1);
    assert_int_equal(children(f, "tep-cse/ae"), 0); /* nothing indexed yet */
    assert_int_equal(cse_res_migrate(f->st, &n), 0);
    assert_int_equal(n, 11);
    reopen(f);
    assert_int_equal(cmn_store_schema(f->st), CSE_SCHEMA);
    assert_int_equal(cse_res_migrate(f->st, &n), 0); /* current: nothing to do */
    assert_int_equal(n, 0);
    assert_edges(f, "tep-cse/ae/c", "v004", "v011");
    assert_edges(f, "tep-cse/ae/d", "v050", "v052");
    assert_int_equal(children(f, "tep-cse"), 1);
    assert_int_equal(children(f, "tep-cse/ae"), 2);
    assert_int_equal(children(f, "tep-cse/ae/c"), 8);
    assert_int_equal(index_entries(f, "tep-cse/ae/c"), 8);
    /* the migrated index goes on: order and eviction */
    add_cin(f, "tep-cse/ae/c", 12, T0 + 3);
    assert_edges(f, "tep-cse/ae/c", "v005", "v012");
    assert_int_equal(cnt_attr(f, "tep-cse/ae/c", "cni"), 8);
}

/* Schema 2 -> 3: the resources with an et get their expiry index entries, and the
 * sweep, which reads only that index, finds them. T0 is 20231114T221320. */
static void test_migration_expiry(void **state)
{
    fixture *f = *state;
    cmn_txn *t = NULL;
    size_t n = 0;
    Tep__Resource *r = NULL;

    make(f, "tep-cse", CMN_TY_AE, "{\"rn\":\"ae\",\"api\":\"Nx\"}", T0);
    make(f, "tep-cse/ae", CMN_TY_CNT, "{\"rn\":\"soon\",\"et\":\"20231114T221420\"}", T0);
    make(f, "tep-cse/ae", CMN_TY_CNT, "{\"rn\":\"late\",\"et\":\"20231114T231320\"}", T0);
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0); /* as schema 2 wrote it */
    /* every key: an et before 2106 starts with four zero bytes */
    assert_int_equal(cmn_txn_del_prefix(t, CSE_DB_EXPIRY, "\0\0\0\0", 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cmn_txn_set_schema(t, 2), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    reopen(f);
    assert_int_equal(cmn_store_schema(f->st), 2);
    assert_int_equal(cse_res_expire(f->st, T0 + 120, &n), 0);
    assert_int_equal(n, 0); /* no index yet: the sweep sees nothing */

    assert_int_equal(cse_res_migrate(f->st, &n), 0);
    assert_int_equal(n, 0); /* no contentInstance re-indexed from schema 2 */
    reopen(f);
    assert_int_equal(cmn_store_schema(f->st), CSE_SCHEMA);
    assert_int_equal(children(f, "tep-cse/ae"), 2);
    assert_int_equal(cse_res_expire(f->st, T0 + 120, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cse_res_get(f->st, "tep-cse/ae/soon", &r), CMN_ENOTFOUND);
    assert_int_equal(cse_res_get(f->st, "tep-cse/ae/late", &r), 0);
    cse_res_free(r);
}

/* A store newer than this tep-cse is refused and left as it is. */
static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    cmn_store *s = NULL;

    cmn_store_close(f->st);
    assert_int_equal(cmn_store_open(f->dir, dbs, sizeof(dbs) / sizeof(dbs[0]), 1, 0, &s),
                     CMN_ESCHEMA);
    open_store(f, CSE_SCHEMA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_mni, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_mbs_mia, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_subtree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
