/* Discovery and child listing (see cse_discovery.h). */
#include "cse_discovery.h"

#include <string.h>

#include "cmn_err.h"
#include "cmn_json.h"
#include "cse_resource.h"

static bool ty_match(const Tep__Resource *r, const cse_query *q)
{
    if (q->n_ty == 0)
        return true;
    for (size_t i = 0; i < q->n_ty; i++) {
        if (q->ty[i] == r->ty)
            return true;
    }
    return false;
}

static bool lbl_match(json_t *a, const cse_query *q)
{
    json_t *lbl = json_object_get(a, "lbl");
    json_t *e;
    size_t i;

    if (q->n_lbl == 0)
        return true;
    json_array_foreach(lbl, i, e) {
        for (size_t j = 0; j < q->n_lbl; j++) {
            if (json_is_string(e) && strcmp(json_string_value(e), q->lbl[j]) == 0)
                return true;
        }
    }
    return false;
}

static bool time_match(const Tep__Resource *r, const cse_query *q)
{
    if ((q->cra != CSE_QUERY_NO_TIME && r->ct <= q->cra) ||
        (q->crb != CSE_QUERY_NO_TIME && r->ct >= q->crb))
        return false;
    return !((q->ms != CSE_QUERY_NO_TIME && r->lt <= q->ms) ||
             (q->us != CSE_QUERY_NO_TIME && r->lt >= q->us));
}

static bool st_match(json_t *a, const cse_query *q)
{
    json_t *st = json_object_get(a, "st");

    if (q->sts < 0 && q->stb < 0)
        return true;
    if (!json_is_integer(st))
        return false;
    if (q->sts >= 0 && json_integer_value(st) >= q->sts)
        return false;
    return !(q->stb >= 0 && json_integer_value(st) <= q->stb);
}

bool cse_disc_match(const Tep__Resource *r, const cse_query *q)
{
    json_t *a;
    bool ok;

    if (!ty_match(r, q) || !time_match(r, q))
        return false;
    if (q->n_lbl == 0 && q->sts < 0 && q->stb < 0)
        return true;
    a = json_loads(r->json, 0, NULL);
    ok = a != NULL && lbl_match(a, q) && st_match(a, q);
    json_decref(a);
    return ok;
}

/* find_fn's "lim reached": ends the walk, not an error. */
#define FIND_FULL 1

typedef struct {
    const cse_query *q;
    cse_disc_form form;
    size_t root_depth;
    int64_t now;
    cse_disc_allow_fn allow;
    void *arg;
    long skipped;
    size_t open; /* candidates whose decision is not known yet (CSE_DISC_OPEN) */
    json_t *out;
} find_ctx;

static size_t depth(const char *path)
{
    size_t n = 0;

    for (; *path != '\0'; path++)
        n += *path == '/';
    return n;
}

static json_t *render(const Tep__Resource *r, const find_ctx *f)
{
    json_t *a;

    switch (f->form) {
        json_t *ref;

    case CSE_DISC_IDS:
        return json_string(f->q->drt == 2 ? r->ri : r->path);
    case CSE_DISC_REFS:
        a = json_loads(r->json, 0, NULL);
        ref = json_pack("{s:s?, s:i, s:s}", "nm", json_string_value(json_object_get(a, "rn")),
                        "typ", (json_int_t)r->ty, "val", f->q->drt == 2 ? r->ri : r->path);
        json_decref(a);
        return ref;
    default:
        a = json_loads(r->json, 0, NULL);
        return a != NULL && cmn_json_ty_key(r->ty) != NULL
                   ? json_pack("{s:o}", cmn_json_ty_key(r->ty), a)
                   : NULL;
    }
}

static int find_fn(const Tep__Resource *r, void *arg)
{
    find_ctx *f = arg;
    cse_disc_verdict v = CSE_DISC_ALLOW;
    json_t *item;

    if (f->q->lvl > 0 && depth(r->path) - f->root_depth > (size_t)f->q->lvl)
        return 0;
    if (f->q->lim >= 0 && (size_t)f->skipped + f->open + json_array_size(f->out) >=
                              (size_t)f->q->lim + (size_t)(f->q->ofst > 1 ? f->q->ofst - 1 : 0))
        return FIND_FULL; /* nothing further can be returned: stop the walk */
    if (cse_res_expired(r, f->now) || !cse_disc_match(r, f->q))
        return 0;
    if (f->allow != NULL && (v = f->allow(r, f->arg)) == CSE_DISC_DENY)
        return 0;
    if (v == CSE_DISC_OPEN) { /* provisional pass: counted, not rendered */
        f->open++;
        return 0;
    }
    if (f->q->ofst > 1 && f->skipped < f->q->ofst - 1) {
        f->skipped++;
        return 0;
    }
    item = render(r, f);
    if (item == NULL || json_array_append_new(f->out, item) != 0)
        return CMN_ENOMEM;
    return 0;
}

int cse_disc_find(cmn_store *st, const Tep__Resource *root, const cse_query *q, bool direct_only,
                  cse_disc_form form, int64_t now, cse_disc_allow_fn allow, void *arg, json_t **ret)
{
    find_ctx f = {.q = q,
                  .form = form,
                  .root_depth = depth(root->path),
                  .now = now,
                  .allow = allow,
                  .arg = arg,
                  .out = json_array()};
    int rc;

    *ret = NULL;
    if (f.out == NULL)
        return CMN_ENOMEM;
    rc = cse_res_walk(st, root->path, direct_only, find_fn, &f);
    if (rc == FIND_FULL)
        rc = 0;
    if (rc != 0) {
        json_decref(f.out);
        return rc;
    }
    *ret = f.out;
    return 0;
}
