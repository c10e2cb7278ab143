/* group (TS-0004 7.4.13): member checks on CREATE/UPDATE and the fanOutPoint (7.4.14),
 * which sends the request to every member and aggregates the answers (m2m:agr). Only
 * members hosted on this CSE are supported.
 *
 * A fan-out is bounded (issue 10: nested groups whose members repeat one resource under
 * different spellings made one request into a million): members are one per resolved
 * path, and every sub-request of one request, nested fan-outs included, is counted
 * before any is sent (node->fanout_max, else 6010). A fan-out that writes never blocks
 * the loop on the PDP: the decisions of all its members are asked together first, and
 * the request is parked until they are answered; a member is then written once, its
 * answer kept (cse_fanout_memo) if the request has to be handled again. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_ctx.h"

#define SUB "req"
/* Entries of mid a CREATE/UPDATE may send before duplicates are removed. */
#define MID_INPUT_MAX (4 * CSE_GROUP_MAX_MEMBERS)

/* ---- a map of paths (open addressing), for dedupe sets and the memo ---------------- */

typedef struct {
    char *key;   /* NULL: free */
    json_t *val; /* may be NULL (a set) */
} path_slot;

struct cse_fanout_memo {
    path_slot *s;
    size_t cap, n; /* cap: a power of two */
};

typedef struct cse_fanout_memo path_map;

static size_t path_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

static path_slot *map_find(const path_map *m, const char *key)
{
    size_t i;

    if (m->cap == 0)
        return NULL;
    for (i = path_hash(key) & (m->cap - 1); m->s[i].key != NULL; i = (i + 1) & (m->cap - 1)) {
        if (strcmp(m->s[i].key, key) == 0)
            return &m->s[i];
    }
    return &m->s[i];
}

static int map_grow(path_map *m)
{
    path_map bigger = {.cap = m->cap ? m->cap * 2 : 16};

    if ((bigger.s = calloc(bigger.cap, sizeof(path_slot))) == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->s[i].key != NULL)
            *map_find(&bigger, m->s[i].key) = m->s[i];
    }
    free(m->s);
    m->s = bigger.s;
    m->cap = bigger.cap;
    return 0;
}

/* Adds key (copied) with val (a reference taken); 1 when it was there already (nothing
 * changed), 0 added, -1 out of memory. */
static int map_add(path_map *m, const char *key, json_t *val)
{
    path_slot *s = map_find(m, key);

    if (s != NULL && s->key != NULL)
        return 1;
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
        return -1;
    s = map_find(m, key);
    if ((s->key = strdup(key)) == NULL)
        return -1;
    s->val = json_incref(val);
    m->n++;
    return 0;
}

static json_t *map_get(const path_map *m, const char *key)
{
    path_slot *s = m != NULL ? map_find(m, key) : NULL;

    return s != NULL && s->key != NULL ? s->val : NULL;
}

static void map_clear(path_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->s[i].key);
        json_decref(m->s[i].val);
    }
    free(m->s);
    memset(m, 0, sizeof(*m));
}

void cse_fanout_memo_free(cse_fanout_memo *m)
{
    if (m == NULL)
        return;
    map_clear(m);
    free(m);
}

/* ---- members ------------------------------------------------------------------------ */

/* A member ID as stored in mid: structured/unstructured CSE-relative, or SP-relative
 * "/<cse-id>/...". */
static int member_get(cse_ctx *c, const char *id, Tep__Resource **ret)
{
    char uri[CSE_PATH_MAX + 2], path[CSE_PATH_MAX];

    *ret = NULL;
    if (id[0] == '/')
        snprintf(uri, sizeof(uri), "~%s", id);
    else
        snprintf(uri, sizeof(uri), "%s", id);
    if (cse_res_resolve(c->node->store, c->node->cse_id, uri, path) != 0)
        return -1;
    return cse_res_get(c->node->store, path, ret) == 0 && !cse_res_expired(*ret, c->req->now) ? 0
                                                                                              : -1;
}

static long stored_int(const Tep__Resource *grp, const char *name, long dflt)
{
    json_t *a = grp != NULL ? json_loads(grp->json, 0, NULL) : NULL;
    json_t *v = json_object_get(a, name);
    long n = json_is_integer(v) ? (long)json_integer_value(v) : dflt;

    json_decref(a);
    return n;
}

/* 0, 4000 (unknown or remote member), 4110 (not of type mt); *ret_dup: the member
 * resolves to a path seen before (another spelling of the same resource). */
static unsigned check_one(cse_ctx *c, const char *id, long mt, path_map *seen, bool *ret_dup)
{
    Tep__Resource *m = NULL;
    unsigned rsc = 0;
    int added;

    *ret_dup = false;
    if (member_get(c, id, &m) != 0)
        rsc = CMN_RSC_BAD_REQUEST;
    else if (mt != 0 && (long)m->ty != mt)
        rsc = CMN_RSC_GROUP_MEMBER_TYPE_INCONSISTENT;
    else if ((added = map_add(seen, m->path, NULL)) < 0)
        rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    else
        *ret_dup = added == 1;
    cse_res_free(m);
    return rsc;
}

unsigned cse_group_check_members(cse_ctx *c, json_t *attrs, const Tep__Resource *grp)
{
    json_t *mid = json_object_get(attrs, "mid");
    json_t *mnm = json_object_get(attrs, "mnm");
    long mt = json_is_integer(json_object_get(attrs, "mt"))
                  ? (long)json_integer_value(json_object_get(attrs, "mt"))
                  : stored_int(grp, "mt", 0);
    long max = json_is_integer(mnm) ? (long)json_integer_value(mnm) : stored_int(grp, "mnm", -1);
    path_map seen = {0};
    unsigned rsc = 0;
    bool dup;

    if (json_array_size(mid) > MID_INPUT_MAX)
        return CMN_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED;
    for (size_t i = 0; rsc == 0 && i < json_array_size(mid);) {
        rsc = check_one(c, json_string_value(json_array_get(mid, i)), mt, &seen, &dup);
        if (rsc == 0 && dup)
            json_array_remove(mid, i); /* the same resource, spelled otherwise */
        else
            i++;
    }
    map_clear(&seen);
    if (rsc != 0)
        return rsc;
    if ((max >= 0 && (long)json_array_size(mid) > max) ||
        json_array_size(mid) > CSE_GROUP_MAX_MEMBERS)
        return CMN_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED;
    return 0;
}

/* ---- fan-out ----------------------------------------------------------------------- */

/* One request's fan-out, shared by its nested sub-requests (cse_req.fanout_run). */
struct cse_fanout_run {
    size_t used, max;       /* sub-requests sent / allowed */
    bool write;             /* members are written: each once */
    bool ask_first;         /* remote decisions of a write: asked while counting */
    cse_fanout_memo **memo; /* the request's memo slot; NULL: blocking asks */
};

/* A group's members, one per resolved path, in mid order: id as written and the member's
 * structured path (NULL: unknown or expired). */
typedef struct {
    const char *id;
    char *path;
} member;

typedef struct {
    json_t *attrs; /* owns the ids */
    member *m;
    size_t n;
} member_list;

static void members_free(member_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->m[i].path);
    free(l->m);
    json_decref(l->attrs);
    memset(l, 0, sizeof(*l));
}

static int members_of(cse_ctx *c, const Tep__Resource *grp, member_list *ret)
{
    json_t *mid, *e;
    path_map seen = {0};
    Tep__Resource *m = NULL;
    size_t i;
    int rc = 0;

    memset(ret, 0, sizeof(*ret));
    if ((ret->attrs = json_loads(grp->json, 0, NULL)) == NULL)
        return -1;
    mid = json_object_get(ret->attrs, "mid");
    if (json_array_size(mid) > 0 && (ret->m = calloc(json_array_size(mid), sizeof(member))) == NULL)
        rc = -1;
    json_array_foreach(mid, i, e) {
        const char *id = json_string_value(e);
        int added = 0;

        if (rc != 0 || id == NULL)
            continue;
        if (member_get(c, id, &m) == 0 && (added = map_add(&seen, m->path, NULL)) == 0 &&
            (ret->m[ret->n].path = strdup(m->path)) == NULL)
            added = -1;
        cse_res_free(m);
        m = NULL;
        if (added < 0)
            rc = -1;
        else if (added == 0) /* a new path, or an unknown member (path NULL) */
            ret->m[ret->n++].id = id;
    }
    map_clear(&seen);
    if (rc != 0)
        members_free(ret);
    return rc;
}

/* member path + "/" + rest, the path a member's sub-request goes to. */
static bool sub_path(const char *mpath, const char *rest, char *ret)
{
    return (size_t)snprintf(ret, CSE_PATH_MAX, "%s%s%s", mpath, rest[0] ? "/" : "", rest) <
           CSE_PATH_MAX;
}

static bool plan_group(cse_ctx *c, const Tep__Resource *grp, const char *rest, int depth,
                       cse_fanout_run *run, size_t *count);

/* What a sub-request to path will be (as load_target in cse_request.c sees it): a
 * resource (a write asks its decision now), or a nested fan-out (counted in turn). */
static bool plan_path(cse_ctx *c, const char *path, int depth, cse_fanout_run *run, size_t *count)
{
    char p[CSE_PATH_MAX], grp[CSE_PATH_MAX];
    const char *fopt;
    Tep__Resource *r = NULL;
    bool ok = true;

    if (cse_res_resolve(c->node->store, c->node->cse_id, path, p) == 0) {
        if (run->ask_first && cse_res_get(c->node->store, p, &r) == 0)
            (void)cse_ctx_access(c, r, cse_ctx_acop(c)); /* asked now, answered later */
        cse_res_free(r);
        return true;
    }
    if ((fopt = cse_ctx_find_fopt(path)) == NULL || depth >= CSE_FANOUT_MAX_DEPTH)
        return true; /* la/ol, unknown, or too deep: one answer, nothing more */
    snprintf(grp, sizeof(grp), "%.*s", (int)(fopt - 1 - path), path);
    if (cse_res_resolve(c->node->store, c->node->cse_id, grp, p) != 0 ||
        cse_res_get(c->node->store, p, &r) != 0)
        return true;
    if (r->ty == CMN_TY_GRP && !cse_res_expired(r, c->req->now)) {
        if (run->ask_first)
            (void)cse_ctx_access_scope(c, r, cse_ctx_acop(c), CSE_PEP_FANOUT);
        ok = plan_group(c, r, fopt[4] == '/' ? fopt + 5 : "", depth, run, count);
    }
    cse_res_free(r);
    return ok;
}

/* Counts the sub-requests of a fan-out to grp (at nesting depth), false past run->max. */
static bool plan_group(cse_ctx *c, const Tep__Resource *grp, const char *rest, int depth,
                       cse_fanout_run *run, size_t *count)
{
    member_list l;
    char path[CSE_PATH_MAX];
    bool ok = true;

    if (members_of(c, grp, &l) != 0)
        return true; /* answered 5000 when it is handled */
    for (size_t i = 0; ok && i < l.n; i++) {
        ok = ++*count <= run->max;
        if (ok && l.m[i].path != NULL && sub_path(l.m[i].path, rest, path))
            ok = plan_path(c, path, depth + 1, run, count);
    }
    members_free(&l);
    return ok;
}

static json_t *member_rsp(cse_ctx *c, const char *id, const cse_rsp *sub)
{
    json_t *pc = sub->body != NULL ? json_loads(sub->body, 0, NULL) : NULL;
    json_t *r = json_pack("{s:i, s:s, s:s, s:s}", "rsc", (json_int_t)sub->rsc, "rqi",
                          c->req->rqi != NULL ? c->req->rqi : "", "fr", c->node->cse_id, "to", id);

    if (r != NULL && pc != NULL)
        json_object_set_new(r, "pc", pc);
    else
        json_decref(pc);
    return r;
}

/* A member the fan-out could not even address: the same m2m:rsp shape as the others
 * (rsc, rqi and fr as in any response primitive, the reason in pc). */
static json_t *member_error(cse_ctx *c, const char *id, unsigned rsc)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:{s:s}}", "rsc", (json_int_t)rsc, "rqi",
                     c->req->rqi != NULL ? c->req->rqi : "", "fr", c->node->cse_id, "to", id, "pc",
                     "m2m:dbg", cmn_rsc_name(rsc));
}

/* The memo of a write fan-out that keeps one (created on first use). */
static cse_fanout_memo *memo_of(cse_fanout_run *run)
{
    if (!run->write || run->memo == NULL)
        return NULL;
    if (*run->memo == NULL)
        *run->memo = calloc(1, sizeof(cse_fanout_memo));
    return *run->memo;
}

/* One member's answer; NULL when a write fan-out stops for this pass (decisions are on
 * their way: the answer is provisional, the request is handled again). */
static json_t *one_member(cse_ctx *c, cse_fanout_run *run, const member *m)
{
    char path[CSE_PATH_MAX];
    cse_req sub = *c->req;
    cse_fanout_memo *memo = memo_of(run);
    cse_rsp srsp;
    json_t *r;

    if (m->path == NULL)
        return member_error(c, m->id, CMN_RSC_NOT_FOUND);
    if (run->write && run->memo != NULL && memo == NULL)
        return member_error(c, m->id, CMN_RSC_INTERNAL_SERVER_ERROR);
    if (!sub_path(m->path, c->fopt_rest, path))
        return member_error(c, m->id, CMN_RSC_BAD_REQUEST);
    if (run->used >= run->max) /* counted before: only if the tree changed meanwhile */
        return member_error(c, m->id, CMN_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED);
    run->used++;
    if ((r = map_get(memo, path)) != NULL)
        return json_incref(r); /* written in an earlier pass: not again */
    if (memo != NULL && cse_pep_waiting(c->node->pep))
        return NULL;
    sub.path = path;
    sub.fanout_depth = c->req->fanout_depth + 1;
    sub.fanout_run = run;
    sub.pass_memo = NULL;            /* the memo is the top request's: its target, its facts */
    c->handle(c->node, &sub, &srsp); /* dispatch (cse_request_handle) */
    r = member_rsp(c, m->id, &srsp);
    cse_rsp_clear(&srsp);
    if (r != NULL && memo != NULL && !cse_pep_waiting(c->node->pep) && map_add(memo, path, r) < 0)
        CMN_WARN(SUB, "event=fanout_memo_failed");
    return r;
}

static unsigned members_answer(cse_ctx *c, cse_fanout_run *run, cse_rsp *rsp)
{
    member_list l;
    json_t *list, *e;

    if (members_of(c, c->target, &l) != 0 || (list = json_array()) == NULL) {
        members_free(&l);
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    for (size_t i = 0; i < l.n; i++) {
        json_t *r = one_member(c, run, &l.m[i]);

        if (r != NULL)
            json_array_append_new(list, r);
    }
    if (l.n == 0) {
        members_free(&l);
        json_decref(list);
        return CMN_RSC_NO_MEMBERS;
    }
    members_free(&l);
    e = json_pack("{s:{s:o}}", "m2m:agr", "m2m:rsp", list);
    rsp->body = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    return rsp->body != NULL ? CMN_RSC_OK : CMN_RSC_INTERNAL_SERVER_ERROR;
}

unsigned cse_group_fanout(cse_ctx *c, cse_rsp *rsp)
{
    cse_fanout_run top = {0};
    cse_pep_pending *pp;
    size_t count = 0;
    unsigned rsc;

    if (c->req->fanout_run != NULL) /* nested: counted and asked with the first */
        return members_answer(c, c->req->fanout_run, rsp);
    top.max = c->node->fanout_max > 0 ? c->node->fanout_max : CSE_FANOUT_MAX_DEFAULT;
    top.write = c->req->op != CMN_OP_RETRIEVE;
    top.memo = c->req->fanout_memo;
    if (!plan_group(c, c->target, c->fopt_rest, c->req->fanout_depth, &top, &count)) {
        snprintf(rsp->reason, sizeof(rsp->reason), "fanout_limit_%zu_exceeded", top.max);
        CMN_WARN(SUB, "event=fanout_refused reason=limit max=%zu group=%s", top.max,
                 c->target->path);
        return CMN_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED;
    }
    /* within the bound: the same walk again asks the decisions of a remote write (a
     * refused fan-out sends the PDP nothing) */
    top.ask_first = top.write && top.memo != NULL && cse_pep_is_remote(c->node->pep);
    count = 0;
    if (top.ask_first)
        (void)plan_group(c, c->target, c->fopt_rest, c->req->fanout_depth, &top, &count);
    if (cse_pep_waiting(c->node->pep))
        return CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE; /* provisional: handled again */
    if (!top.write || top.memo != NULL)
        return members_answer(c, &top, rsp);
    /* no memo to keep answers across passes (a caller that parks nothing): a write
     * asks blocking, at most about one deadline in all (cse_pep_ask) */
    pp = cse_pep_end(c->node->pep);
    rsc = members_answer(c, &top, rsp);
    cse_pep_begin(c->node->pep, pp);
    return rsc;
}
