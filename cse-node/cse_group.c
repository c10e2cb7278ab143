/* group (TS-0004 7.4.13): member checks on CREATE/UPDATE and the fanOutPoint (7.4.14),
 * which sends the request to every member and aggregates the answers (m2m:agr). Only
 * members hosted on this CSE are supported. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_onem2m.h"
#include "cse_ctx.h"

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
    return cse_res_get(c->node->store, path, ret) == 0 && !cse_res_expired(*ret, c->req->now)
               ? 0 : -1;
}

static bool seen_before(json_t *mid, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (json_equal(json_array_get(mid, j), json_array_get(mid, i)))
            return true;
    }
    return false;
}

static long stored_int(const Tep__Resource *grp, const char *name, long dflt)
{
    json_t *a = grp != NULL ? json_loads(grp->json, 0, NULL) : NULL;
    json_t *v = json_object_get(a, name);
    long n = json_is_integer(v) ? (long)json_integer_value(v) : dflt;

    json_decref(a);
    return n;
}

static unsigned check_one(cse_ctx *c, const char *id, long mt)
{
    Tep__Resource *m = NULL;
    unsigned rsc = 0;

    if (member_get(c, id, &m) != 0)
        rsc = CMN_RSC_BAD_REQUEST; /* unknown or remote member */
    else if (mt != 0 && (long)m->ty != mt)
        rsc = CMN_RSC_GROUP_MEMBER_TYPE_INCONSISTENT;
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
    unsigned rsc;

    for (size_t i = json_array_size(mid); i-- > 0;) {
        if (seen_before(mid, i))
            json_array_remove(mid, i);
    }
    if ((max >= 0 && (long)json_array_size(mid) > max) ||
        json_array_size(mid) > CSE_GROUP_MAX_MEMBERS)
        return CMN_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED;
    for (size_t i = 0; i < json_array_size(mid); i++) {
        rsc = check_one(c, json_string_value(json_array_get(mid, i)), mt);
        if (rsc != 0)
            return rsc;
    }
    return 0;
}

/* ---- fan-out ----------------------------------------------------------------------- */

static json_t *member_rsp(cse_ctx *c, const char *id, const cse_rsp *sub)
{
    json_t *pc = sub->body != NULL ? json_loads(sub->body, 0, NULL) : NULL;
    json_t *r = json_pack("{s:i, s:s, s:s, s:s}", "rsc", (json_int_t)sub->rsc, "rqi",
                          c->req->rqi != NULL ? c->req->rqi : "", "fr", c->node->cse_id,
                          "to", id);

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
                     c->req->rqi != NULL ? c->req->rqi : "", "fr", c->node->cse_id, "to", id,
                     "pc", "m2m:dbg", cmn_rsc_name(rsc));
}

static json_t *one_member(cse_ctx *c, const char *id)
{
    Tep__Resource *m = NULL;
    char path[CSE_PATH_MAX];
    cse_req sub = *c->req;
    cse_rsp srsp;
    json_t *r;

    if (member_get(c, id, &m) != 0)
        return member_error(c, id, CMN_RSC_NOT_FOUND);
    if ((size_t)snprintf(path, sizeof(path), "%s%s%.*s", m->path, c->fopt_rest[0] ? "/" : "",
                         (int)(sizeof(path) - 1), c->fopt_rest) >= sizeof(path)) {
        cse_res_free(m);
        return member_error(c, id, CMN_RSC_BAD_REQUEST);
    }
    cse_res_free(m);
    sub.path = path;
    sub.fanout_depth = c->req->fanout_depth + 1;
    cse_request_handle(c->node, &sub, &srsp);
    r = member_rsp(c, id, &srsp);
    cse_rsp_clear(&srsp);
    return r;
}

unsigned cse_group_fanout(cse_ctx *c, cse_rsp *rsp)
{
    json_t *a = json_loads(c->target->json, 0, NULL);
    json_t *mid = json_object_get(a, "mid");
    json_t *list = json_array(), *e;
    size_t i, n = json_array_size(mid);

    if (a == NULL || list == NULL) {
        json_decref(a);
        json_decref(list);
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    json_array_foreach(mid, i, e) {
        json_t *r = one_member(c, json_string_value(e));

        if (r != NULL)
            json_array_append_new(list, r);
    }
    json_decref(a);
    if (n == 0) {
        json_decref(list);
        return CMN_RSC_NO_MEMBERS;
    }
    e = json_pack("{s:{s:o}}", "m2m:agr", "m2m:rsp", list);
    rsp->body = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    return rsp->body != NULL ? CMN_RSC_OK : CMN_RSC_INTERNAL_SERVER_ERROR;
}
