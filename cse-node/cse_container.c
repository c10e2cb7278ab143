/* container limits and virtual children (see cse_container.h). contentInstance ids are
 * made in creation order (cse_resource.c new_id), so ri order is age order. */
#include "cse_container.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_resource.h"

typedef struct {
    char *path;
    char *ri;
    int64_t ct;
    long cs;
} cin_row;

typedef struct {
    cin_row *rows;
    size_t n, cap;
} cin_list;

static int collect_cin(const Tep__Resource *r, void *arg)
{
    cin_list *l = arg;
    json_t *a;
    cin_row *nr;

    if (r->ty != CMN_TY_CIN)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        nr = realloc(l->rows, l->cap * sizeof(*nr));
        if (nr == NULL)
            return CMN_ENOMEM;
        l->rows = nr;
    }
    a = json_loads(r->json, 0, NULL);
    l->rows[l->n] = (cin_row){ strdup(r->path), strdup(r->ri), r->ct,
                               (long)json_integer_value(json_object_get(a, "cs")) };
    json_decref(a);
    if (l->rows[l->n].path == NULL || l->rows[l->n].ri == NULL) {
        free(l->rows[l->n].path);
        free(l->rows[l->n].ri);
        return CMN_ENOMEM;
    }
    l->n++;
    return 0;
}

static int by_age(const void *a, const void *b)
{
    const cin_row *x = a, *y = b;

    if (x->ct != y->ct)
        return x->ct < y->ct ? -1 : 1;
    return strcmp(x->ri, y->ri);
}

static void list_free(cin_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].path);
        free(l->rows[i].ri);
    }
    free(l->rows);
}

static int list_cins(cmn_store *st, const char *cnt_path, cin_list *l)
{
    int rc = cse_res_walk(st, cnt_path, true, collect_cin, l);

    if (rc == 0 && l->n > 1)
        qsort(l->rows, l->n, sizeof(l->rows[0]), by_age);
    return rc;
}

int cse_cnt_edge(cmn_store *st, const char *cnt_path, bool oldest, Tep__Resource **ret)
{
    cin_list l = { 0 };
    int rc = list_cins(st, cnt_path, &l);

    *ret = NULL;
    if (rc == 0 && l.n == 0)
        rc = CMN_ENOTFOUND;
    if (rc == 0)
        rc = cse_res_get(st, l.rows[oldest ? 0 : l.n - 1].path, ret);
    list_free(&l);
    return rc;
}

static long limit(json_t *a, const char *name)
{
    json_t *v = json_object_get(a, name);

    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static bool over(const cin_list *l, size_t first, long bytes, long mni, long mbs, long mia,
                 int64_t now)
{
    if (first >= l->n)
        return false;
    if (mni >= 0 && (long)(l->n - first) > mni)
        return true;
    if (mbs >= 0 && bytes > mbs)
        return true;
    return mia >= 0 && l->rows[first].ct + mia <= now;
}

static int drop(cmn_store *st, const char *path, int64_t now)
{
    Tep__Resource *r = NULL;
    int rc = cse_res_get(st, path, &r);

    if (rc == 0 && cse_res_delete(st, r, now) != CMN_RSC_DELETED)
        rc = CMN_ESTORE;
    cse_res_free(r);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

int cse_cnt_enforce(cmn_store *st, const Tep__Resource *cnt, int64_t now)
{
    json_t *a = json_loads(cnt->json, 0, NULL);
    long mni = limit(a, "mni"), mbs = limit(a, "mbs"), mia = limit(a, "mia");
    cin_list l = { 0 };
    long bytes = 0;
    size_t first = 0;
    int rc = 0;

    json_decref(a);
    if (mni < 0 && mbs < 0 && mia < 0)
        return 0;
    rc = list_cins(st, cnt->path, &l);
    for (size_t i = 0; i < l.n; i++)
        bytes += l.rows[i].cs;
    while (rc == 0 && over(&l, first, bytes, mni, mbs, mia, now)) {
        rc = drop(st, l.rows[first].path, now);
        bytes -= l.rows[first].cs;
        first++;
    }
    list_free(&l);
    return rc;
}
