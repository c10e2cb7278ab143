/* oneM2M request dispatch: From binding, target resolution, access decision, then the
 * operation on the resource tree. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_binding.h"
#include "cse_container.h"
#include "cse_ctx.h"
#include "cse_escertke.h"
#include "cse_esprim.h"
#include "cse_remotecse.h"
#include "cse_request.h"
#include "cse_route.h"
#include "cse_sync.h"
#include "cse_validate.h"

#define SUB "req"

static const char *op_name(int op)
{
    static const char *const names[] = {"?", "create", "retrieve", "update", "delete", "notify"};
    return op >= CMN_OP_CREATE && op <= CMN_OP_NOTIFY ? names[op] : names[0];
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* TS-0008 6.2.2.2: JSON in (50 and the vnd JSON formats). CBOR and XML are not parsed:
 * 4015. */
static bool cf_ok(const cse_req *req)
{
    if (req->body_len == 0)
        return true;
    switch (req->cf) {
    case 0: /* absent: JSON assumed */
    case CMN_CF_JSON:
    case CMN_CF_RES_JSON:
    case CMN_CF_NTFY_JSON:
    case CMN_CF_PREQ_JSON:
        return true;
    default:
        return false;
    }
}

/* Accept: JSON (50) or the resource JSON vnd format; anything else 5207 (4.06). */
static unsigned accept_cf(const cse_req *req, uint32_t *ret_cf)
{
    *ret_cf = CMN_CF_JSON;
    if (!req->has_accept || req->accept == CMN_CF_JSON)
        return 0;
    if (req->accept == CMN_CF_RES_JSON) {
        *ret_cf = CMN_CF_RES_JSON;
        return 0;
    }
    return CMN_RSC_NOT_ACCEPTABLE;
}

static unsigned bind_originator(cse_ctx *c)
{
    const cse_req *req = c->req;
    cse_binding_in in = {
        .secure = req->secure,
        .bound_id = req->bound_id,
        .from = req->from,
        .ae_create = req->op == CMN_OP_CREATE && req->ty == CMN_TY_AE,
        .admin_originator = c->node->admin_originator,
        .bound_admin = req->bound_admin,
    };
    char f[128], b[128];
    unsigned rsc;

    /* a registered CSE forwarding for an originator behind it (cse_remotecse.h) */
    in.transit = req->secure && req->from != NULL && cse_csr_is_cse_id(req->bound_id) &&
                 strcmp(req->from, req->bound_id) != 0 &&
                 cse_csr_transit_from_ok(c->node, req->bound_id, req->from);
    /* every spelling of an enrolled AE-ID needs its security association (4107) */
    if (!req->secure && req->from != NULL)
        in.from_enrolled =
            cse_cred_is_enrolled(c->node->store, cse_binding_local_id(c->node->cse_id, req->from));
    rsc = cse_binding_check(&in, &c->who);
    if (rsc == 0 && req->secure && in.ae_create) /* App-ID of the enrolment (seed Z.2) */
        rsc = cse_apprules_check_app_id(c->node->store, req->bound_id, cse_ctx_json(c), req->body,
                                        req->body_len);
    else if (rsc != 0)
        CMN_WARN(SUB, "event=originator_refused reason=%s from=%s bound=%s rsc=%u", c->who.reason,
                 cmn_log_value(req->from, f, sizeof(f)), cmn_log_value(req->bound_id, b, sizeof(b)),
                 rsc);
    return rsc;
}

/* An expired resource is gone (TS-0004 9.6.1.3 expirationTime): deleted on sight. */
static int get_live(cse_ctx *c, const char *path, Tep__Resource **ret)
{
    int rc = cse_res_get(c->node->store, path, ret);

    if (rc == 0 && cse_res_expired(*ret, c->req->now)) {
        cse_res_delete(c->node->store, *ret, c->req->now);
        cse_res_free(*ret);
        *ret = NULL;
        rc = CMN_ENOTFOUND;
    }
    return rc;
}

/* ".../la" and ".../ol" of a container: its latest / oldest contentInstance. */
static unsigned load_virtual(cse_ctx *c, const char *uri_path, const char *last)
{
    char parent[CSE_PATH_MAX], path[CSE_PATH_MAX];
    Tep__Resource *cnt = NULL;
    bool oldest = strcmp(last, "ol") == 0;
    int rc;

    snprintf(parent, sizeof(parent), "%.*s", (int)(last - 1 - uri_path), uri_path);
    if (cse_res_resolve(c->node->store, c->node->cse_id, parent, path) != 0 ||
        get_live(c, path, &cnt) != 0)
        return CMN_RSC_NOT_FOUND;
    rc = cnt->ty == CMN_TY_CNT ? cse_cnt_enforce_age(c->node->store, cnt, c->req->now)
                               : CMN_ENOTFOUND;
    if (rc == 0)
        rc = cse_cnt_edge(c->node->store, cnt->path, oldest, &c->target);
    cse_res_free(cnt);
    return rc == 0 ? 0 : CMN_RSC_NOT_FOUND;
}

/* "<group>/fopt[/rest]": the group's fanOutPoint. */
static unsigned load_fanout(cse_ctx *c, const char *uri_path, const char *fopt)
{
    char grp[CSE_PATH_MAX], path[CSE_PATH_MAX];

    if (c->req->fanout_depth >= CSE_FANOUT_MAX_DEPTH) {
        CMN_INFO(SUB, "event=bad_request reason=nested_fanout");
        return CMN_RSC_BAD_REQUEST; /* a group of groups fanning out without end */
    }
    snprintf(grp, sizeof(grp), "%.*s", (int)(fopt - 1 - uri_path), uri_path);
    snprintf(c->fopt_rest, sizeof(c->fopt_rest), "%s", fopt[4] == '/' ? fopt + 5 : "");
    if (cse_res_resolve(c->node->store, c->node->cse_id, grp, path) != 0 ||
        get_live(c, path, &c->target) != 0 || c->target->ty != CMN_TY_GRP)
        return CMN_RSC_NOT_FOUND;
    c->fanout = true;
    return 0;
}

static unsigned load_target(cse_ctx *c)
{
    const char *p = c->req->path;
    char path[CSE_PATH_MAX];
    const char *last = strrchr(p, '/');
    const char *fopt;

    if (cse_ctx_memo_take_target(c))
        return 0;
    if (cse_res_resolve(c->node->store, c->node->cse_id, p, path) == 0)
        return get_live(c, path, &c->target) == 0 ? 0 : CMN_RSC_NOT_FOUND;
    if ((fopt = cse_ctx_find_fopt(p)) != NULL)
        return load_fanout(c, p, fopt);
    if (last != NULL && (strcmp(last, "/la") == 0 || strcmp(last, "/ol") == 0))
        return load_virtual(c, p, last + 1);
    return CMN_RSC_NOT_FOUND;
}

/* TS-0004 6.4.x releaseVersion: the releases whose CoAP binding tep speaks. */
static bool rvi_ok(const char *rvi)
{
    static const char *const known[] = {"1", "2", "2a", "3", "4", "5"};

    if (rvi == NULL)
        return true;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(rvi, known[i]) == 0)
            return true;
    }
    return false;
}

/* m2m:absRelTimestamp: "YYYYMMDDTHHMMSS[,fraction]" or milliseconds from now. */
static int abs_rel_time(const char *v, int64_t now, int64_t *ret)
{
    char ts[16];
    char *end = NULL;
    long long ms;

    if (v[0] != '\0' && strspn(v + (v[0] == '-'), "0123456789") == strlen(v + (v[0] == '-'))) {
        ms = strtoll(v, &end, 10);
        *ret = now + ms / 1000;
        return *end == '\0' ? 0 : CMN_EINVAL;
    }
    if (strlen(v) < 15 || (v[15] != '\0' && v[15] != ','))
        return CMN_EINVAL;
    memcpy(ts, v, 15);
    ts[15] = '\0';
    return cmn_json_parse_timestamp(ts, ret);
}

/* TS-0004 7.3.2 (7346-7348): an expired request or result expiration is 4008; an
 * operation execution time in the future cannot be honoured here (5001). */
static unsigned check_times(const cse_req *req, cse_rsp *rsp)
{
    const char *names[] = {"rqet", "rset", "oet"};
    const char *vals[] = {req->rqet, req->rset, req->oet};
    int64_t t;

    for (size_t i = 0; i < 3; i++) {
        if (vals[i] == NULL)
            continue;
        if (abs_rel_time(vals[i], req->now, &t) != 0) {
            snprintf(rsp->reason, sizeof(rsp->reason), "bad_%s", names[i]);
            return CMN_RSC_BAD_REQUEST;
        }
        if (i < 2 && t < req->now) {
            snprintf(rsp->reason, sizeof(rsp->reason), "%s_passed", names[i]);
            return CMN_RSC_REQUEST_TIMEOUT;
        }
        if (i == 2 && t > req->now) {
            snprintf(rsp->reason, sizeof(rsp->reason), "deferred_execution_not_supported");
            return CMN_RSC_NOT_IMPLEMENTED;
        }
    }
    return 0;
}

static unsigned check_request(cse_ctx *c, cse_rsp *rsp)
{
    unsigned rsc;
    char reason[64];

    if (c->req->op < CMN_OP_CREATE || c->req->op > CMN_OP_NOTIFY)
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    if (!rvi_ok(c->req->rvi)) {
        snprintf(rsp->reason, sizeof(rsp->reason), "unknown_release_version");
        return CMN_RSC_RELEASE_VERSION_NOT_SUPPORTED;
    }
    if ((rsc = check_times(c->req, rsp)) != 0)
        return rsc;
    if (!cf_ok(c->req)) {
        CMN_INFO(SUB, "event=bad_request reason=unsupported_content_format cf=%u", c->req->cf);
        return CMN_RSC_UNSUPPORTED_MEDIA_TYPE;
    }
    if (accept_cf(c->req, &rsp->cf) != 0) {
        CMN_INFO(SUB, "event=bad_request reason=not_acceptable accept=%u", c->req->accept);
        return CMN_RSC_NOT_ACCEPTABLE;
    }
    if (cse_query_parse(c->req->query, &c->q, reason, sizeof(reason)) != 0) {
        CMN_INFO(SUB, "event=bad_request reason=%s", reason);
        snprintf(rsp->reason, sizeof(rsp->reason), "%s", reason);
        return CMN_RSC_BAD_REQUEST;
    }
    return 0;
}

/* The group's macp (else its own policies) first: a stranger reaches no member and
 * learns no member ID (TS-0001 10.2.7.6-10.2.7.10). Then the members (cse_group.c:
 * counted and bounded, decisions asked together, never blocking the loop). */
static unsigned fanout(cse_ctx *c, cse_rsp *rsp)
{
    unsigned rsc = cse_ctx_access_scope(c, c->target, cse_ctx_acop(c), CSE_PEP_FANOUT);

    return rsc != 0 ? rsc : cse_group_fanout(c, rsp);
}

static unsigned dispatch(cse_ctx *c, cse_rsp *rsp)
{
    unsigned rsc;

    if ((rsc = check_request(c, rsp)) != 0)
        return rsc;
    if ((rsc = bind_originator(c)) != 0)
        return rsc;
    /* hosted on another CSE: forwarded (cse_route.h) */
    if ((rsc = cse_route_check(c, rsp)) != 0 || rsp->forward)
        return rsc;
    if ((rsc = load_target(c)) != 0)
        return rsc;
    if (c->fanout)
        return fanout(c, rsp);
    switch (c->req->op) {
    case CMN_OP_CREATE:
        return cse_ops_create(c, rsp);
    case CMN_OP_RETRIEVE:
        return cse_ops_retrieve(c, rsp);
    case CMN_OP_UPDATE:
        return cse_ops_update(c, rsp);
    case CMN_OP_DELETE:
        return cse_ops_delete(c, rsp);
    default:
        return cse_ops_notify(c, rsp);
    }
}

/* Error responses carry {"m2m:dbg": "<RSC name>[: reason]"} (TS-0004 debugInfo). */
static char *debug_body(unsigned rsc, const char *reason)
{
    char text[160];
    json_t *d;
    char *s;

    snprintf(text, sizeof(text), "%s%s%s", cmn_rsc_name(rsc), reason[0] ? ": " : "", reason);
    d = json_pack("{s:s}", "m2m:dbg", text);
    s = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;

    json_decref(d);
    return s;
}

void cse_request_handle(cse_node *node, const cse_req *req, cse_rsp *rsp)
{
    cse_ctx c = {.node = node, .req = req, .handle = cse_request_handle};
    char p[128], o[128];

    memset(rsp, 0, sizeof(*rsp));
    rsp->cf = CMN_CF_JSON;
    if (cse_escertke_claims(node, req)) { /* TS-0003 8.7: a tunnelled TLS handshake */
        cse_escertke_handle(node, req, rsp);
        CMN_INFO(SUB, "event=request op=notify path=%s escertke=1 rsc=%u",
                 cmn_log_value(req->path, p, sizeof(p)), rsp->rsc);
        return;
    }
    if (cse_esprim_claims(node, req)) { /* the inner request is handled inside */
        cse_esprim_handle(node, req, rsp, cse_request_handle);
        if (!rsp->deciding)
            CMN_INFO(SUB, "event=request op=notify path=%s esprim=1 rsc=%u",
                     cmn_log_value(req->path, p, sizeof(p)), rsp->rsc);
        return;
    }
    rsp->rsc = dispatch(&c, rsp);
    json_decref(c.body); /* the body read at bind time and not taken by the operation */
    c.body = NULL;
    if (cse_pep_waiting(node->pep)) {
        cse_rsp_clear(rsp);
        rsp->deciding = true;
        CMN_INFO(SUB, "event=request_parked path=%s reason=remote_decision",
                 cmn_log_value(req->path, p, sizeof(p)));
        cse_ctx_memo_keep_target(&c); /* resumed where it stopped (cse_pass_memo) */
        cse_ctx_memo_seal(&c);
        return;
    }
    if (rsp->forward) {
        rsp->rsc = 0;
        CMN_INFO(SUB, "event=request_forwarded op=%s path=%s originator=%s hop=%s",
                 op_name(req->op), cmn_log_value(req->path, p, sizeof(p)),
                 cmn_log_value(rsp->fwd_from, o, sizeof(o)), rsp->fwd_hop);
        return;
    }
    if (rsp->rsc == CSE_RSC_PENDING) {
        rsp->rsc = 0;
        CMN_INFO(SUB, "event=verification_pending path=%s targets=%zu",
                 cmn_log_value(req->path, p, sizeof(p)), rsp->n_verify);
        cse_res_free(c.target);
        return;
    }
    if (rsp->rsc >= 4000) {
        cse_rsp_clear(rsp);
        rsp->body = debug_body(rsp->rsc, rsp->reason);
    }
    CMN_INFO(SUB, "event=request op=%s path=%s originator=%s secure=%d rsc=%u", op_name(req->op),
             cmn_log_value(req->path, p, sizeof(p)),
             cmn_log_value(c.who.originator[0] ? c.who.originator : req->from, o, sizeof(o)),
             req->secure, rsp->rsc);
    cse_res_free(c.target);
}
