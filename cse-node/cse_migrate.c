/* Schema 1 -> 2 of tep-cse's store: the child index and the containers' age indexes;
 * 2 -> 3: the expiry index (see cse_resource.h cse_res_migrate). One write transaction:
 * a migration that fails leaves the store as it was, at its old schema. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_container.h"
#include "cse_resource.h"

typedef struct {
    char *parent;
    char *path;
    char *ri;
    int64_t ct;
    long cs;
} cin_row;

typedef struct {
    cmn_txn *t;
    uint32_t from; /* the schema migrated from */
    cin_row *rows;
    size_t n, cap;
} scan_ctx;

static int add_row(scan_ctx *s, const Tep__Resource *r)
{
    json_t *a = json_loads(r->json, 0, NULL);
    cin_row *nr;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        nr = realloc(s->rows, s->cap * sizeof(*nr));
        if (nr == NULL) {
            json_decref(a);
            return CMN_ENOMEM;
        }
        s->rows = nr;
    }
    s->rows[s->n] = (cin_row){strdup(r->parent_path), strdup(r->path), strdup(r->ri), r->ct,
                              (long)json_integer_value(json_object_get(a, "cs"))};
    json_decref(a);
    if (s->rows[s->n].parent == NULL || s->rows[s->n].path == NULL || s->rows[s->n].ri == NULL) {
        free(s->rows[s->n].parent);
        free(s->rows[s->n].path);
        free(s->rows[s->n].ri);
        return CMN_ENOMEM;
    }
    s->n++;
    return 0;
}

/* Every record: its expiry index entry; from schema 1 its child index entry too
 * (re-putting the record leaves it as it is), and a contentInstance is kept for its age
 * index. */
static int scan_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    scan_ctx *s = arg;
    Tep__Resource *r = tep__resource__unpack(NULL, vlen, val);
    char ck[CSE_PATH_MAX];
    const char *slash;
    uint8_t ty[4];
    int rc = 0;

    (void)key;
    if (r == NULL)
        return CMN_ECORRUPT;
    rc = cse_res_txn_index_expiry(s->t, r);
    slash = strrchr(r->path, '/');
    if (rc == 0 && s->from < 2 && slash != NULL && strlen(r->path) < sizeof(ck)) {
        memcpy(ck, r->path, strlen(r->path));
        ck[slash - r->path] = '\0';
        ty[0] = ty[1] = 0;
        ty[2] = (uint8_t)(r->ty >> 8);
        ty[3] = (uint8_t)r->ty;
        rc = cmn_txn_put(s->t, CSE_DB_CHILDREN, ck, strlen(r->path), ty, sizeof(ty));
    }
    if (rc == 0 && s->from < 2 && r->ty == CMN_TY_CIN)
        rc = add_row(s, r);
    tep__resource__free_unpacked(r, NULL);
    (void)klen;
    return rc;
}

static int by_age(const void *a, const void *b)
{
    const cin_row *x = a, *y = b;
    int c = strcmp(x->parent, y->parent);

    if (c != 0)
        return c;
    if (x->ct != y->ct)
        return x->ct < y->ct ? -1 : 1;
    return strcmp(x->ri, y->ri);
}

/* One contentInstance into its container's age index (cse_cnt_txn_index gives it the
 * next age: the rows come in age order). */
static int index_row(cmn_txn *t, const cin_row *row)
{
    Tep__Resource *r = NULL;
    int rc = cse_res_txn_get(t, row->path, &r);

    if (rc == 0)
        rc = cse_cnt_txn_index(t, r, row->cs);
    if (rc == 0)
        rc = cse_res_txn_put(t, r);
    cse_res_free(r);
    return rc;
}

/* A container's cni/cbs as its instances say (a schema-1 store kept them too: this
 * only repairs a drift). */
static int recount(cmn_txn *t, const char *cnt_path, long cni, long cbs)
{
    Tep__Resource *p = NULL;
    json_t *a = NULL;
    char *old;
    int rc = cse_res_txn_get(t, cnt_path, &p);

    if (rc == CMN_ENOTFOUND)
        return 0; /* an orphan instance: indexed, deleted with nothing */
    if (rc != 0)
        return rc;
    a = json_loads(p->json, 0, NULL);
    rc = a != NULL ? 0 : CMN_ECORRUPT;
    if (rc == 0 && p->ty == CMN_TY_CNT) {
        json_object_set_new(a, "cni", json_integer(cni));
        json_object_set_new(a, "cbs", json_integer(cbs));
        old = p->json;
        p->json = json_dumps(a, JSON_COMPACT);
        rc = p->json != NULL ? cse_res_txn_put(t, p) : CMN_ENOMEM;
        free(p->json);
        p->json = old;
    }
    json_decref(a);
    cse_res_free(p);
    return rc;
}

static int index_all(cmn_txn *t, cin_row *rows, size_t n)
{
    long cni = 0, cbs = 0;
    int rc = 0;

    if (n > 1) /* qsort may not be handed a null array, even of 0 rows */
        qsort(rows, n, sizeof(*rows), by_age);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = index_row(t, &rows[i]);
        cni++;
        cbs += rows[i].cs;
        if (rc == 0 && (i + 1 == n || strcmp(rows[i].parent, rows[i + 1].parent) != 0)) {
            rc = recount(t, rows[i].parent, cni, cbs);
            cni = cbs = 0;
        }
    }
    return rc;
}

int cse_res_migrate(cmn_store *st, size_t *ret_n)
{
    scan_ctx s = {0};
    int rc;

    if (ret_n != NULL)
        *ret_n = 0;
    s.from = cmn_store_schema(st);
    if (s.from >= CSE_SCHEMA)
        return 0;
    rc = cmn_store_txn_begin(st, &s.t);
    if (rc != 0)
        return rc;
    rc = cmn_txn_foreach(s.t, CSE_DB_RESOURCES, NULL, 0, scan_fn, &s);
    if (rc == 0)
        rc = index_all(s.t, s.rows, s.n);
    if (rc == 0)
        rc = cmn_txn_set_schema(s.t, CSE_SCHEMA);
    if (rc == 0)
        rc = cmn_txn_commit(s.t);
    else
        cmn_txn_abort(s.t);
    if (rc == 0 && ret_n != NULL)
        *ret_n = s.n;
    for (size_t i = 0; i < s.n; i++) {
        free(s.rows[i].parent);
        free(s.rows[i].path);
        free(s.rows[i].ri);
    }
    free(s.rows);
    return rc;
}
