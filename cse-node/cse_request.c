/* oneM2M request dispatch: From binding, target resolution, access decision, then the
 * operation on the resource tree. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_binding.h"
#include "cse_request.h"
#include "cse_sync.h"
#include "cse_validate.h"

#define SUB "req"

typedef struct {
    cse_node *node;
    const cse_req *req;
    cse_binding_out who;
    Tep__Resource *target;
} req_ctx;

const char *cse_log_value(const char *in, char *ret, size_t len)
{
    size_t i;

    if (in == NULL)
        in = "-";
    for (i = 0; in[i] != '\0' && i + 1 < len; i++) {
        unsigned char c = (unsigned char)in[i];
        ret[i] = (c > 0x20 && c < 0x7f && c != '"' && c != '=') ? (char)c : '?';
    }
    ret[i] = '\0';
    return ret;
}

void cse_rsp_clear(cse_rsp *rsp)
{
    free(rsp->body);
    rsp->body = NULL;
}

static const char *op_name(int op)
{
    static const char *const names[] = { "?", "create", "retrieve", "update", "delete",
                                         "notify" };
    return op >= CMN_OP_CREATE && op <= CMN_OP_NOTIFY ? names[op] : names[0];
}

static uint32_t acop_bit(int op)
{
    switch (op) {
    case CMN_OP_CREATE: return CMN_ACOP_CREATE;
    case CMN_OP_RETRIEVE: return CMN_ACOP_RETRIEVE;
    case CMN_OP_UPDATE: return CMN_ACOP_UPDATE;
    case CMN_OP_DELETE: return CMN_ACOP_DELETE;
    default: return CMN_ACOP_NOTIFY;
    }
}

/* ---- access decision --------------------------------------------------------------- */

static unsigned check_access(req_ctx *c)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    char target[CSE_PATH_MAX + 1];
    char o[128];
    cse_decision d;

    snprintf(target, sizeof(target), "/%s", c->target->path);
    rq.originator = c->who.originator;
    rq.target = target;
    rq.target_ty = c->target->ty;
    rq.op = acop_bit(c->req->op);
    rq.new_ty = c->req->op == CMN_OP_CREATE ? c->req->ty : 0;
    rq.rq_authn = c->who.rq_authn;
    rq.peer_ip = (char *)(c->req->peer_ip != NULL ? c->req->peer_ip : "");
    rq.is_admin = c->who.is_admin;
    rq.now = c->req->now;
    if (cse_pep_facts(c->node->store, c->target, &rq) != 0) {
        cse_pep_facts_free(&rq);
        CMN_ERR(SUB, "event=decision permit=0 rule=facts_unavailable target=%s", target);
        return CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
    }
    cse_pep_decide(c->node->pep, &rq, &d);
    cse_pep_facts_free(&rq);
    CMN_INFO(SUB, "event=decision permit=%d rule=%s originator=%s target=%s op=%s", d.permit,
             d.rule, cse_log_value(c->who.originator, o, sizeof(o)), target,
             op_name(c->req->op));
    return d.permit ? 0 : CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
}

/* ---- operations -------------------------------------------------------------------- */

/* Parses the body as {"m2m:<ty>": {...}}; *ret_root owns *ret_attrs. */
static unsigned parse_body(const cse_req *req, json_t **ret_root, json_t **ret_attrs)
{
    json_error_t jerr;

    *ret_root = NULL;
    if (req->body == NULL || req->body_len == 0) {
        CMN_INFO(SUB, "event=bad_request reason=empty_body");
        return CMN_RSC_BAD_REQUEST;
    }
    *ret_root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (*ret_root == NULL) {
        CMN_INFO(SUB, "event=bad_request reason=bad_json line=%d column=%d", jerr.line,
                 jerr.column);
        return CMN_RSC_BAD_REQUEST;
    }
    if (cmn_json_unwrap(*ret_root, req->ty, ret_attrs) != 0) {
        CMN_INFO(SUB, "event=bad_request reason=wrapper_does_not_match_ty ty=%u", req->ty);
        return CMN_RSC_BAD_REQUEST;
    }
    return 0;
}

/* AE-ID of a new AE: the bound/given one, or a CSE-assigned "C..." (plain CoAP only). */
static unsigned ae_id_for(req_ctx *c, char *ret, size_t len)
{
    uint8_t rnd[8];
    char hex[17];

    if (c->who.originator[0] != '\0') {
        snprintf(ret, len, "%s", c->who.originator);
        return 0;
    }
    if (cmn_random(rnd, sizeof(rnd)) != 0)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    cmn_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(ret, len, "C%s", hex);
    snprintf(c->who.originator, sizeof(c->who.originator), "%s", ret);
    return 0;
}

static unsigned do_create(req_ctx *c, cse_rsp *rsp)
{
    cse_res_create_in in = { .ty = c->req->ty, .now = c->req->now };
    Tep__Resource *made = NULL;
    json_t *root = NULL;
    char ae_id[256] = "";
    char reason[96];
    unsigned rsc = parse_body(c->req, &root, &in.attrs);

    if (rsc == 0 && (rsc = cse_validate_create(in.ty, in.attrs, reason, sizeof(reason))) != 0)
        CMN_INFO(SUB, "event=bad_request reason=%s", reason);
    if (rsc == 0 && in.ty != CMN_TY_AE)
        rsc = check_access(c);
    if (rsc == 0 && in.ty == CMN_TY_AE)
        rsc = ae_id_for(c, ae_id, sizeof(ae_id));
    if (rsc == 0) {
        in.originator = c->who.originator;
        in.ae_id = ae_id;
        rsc = cse_res_create(c->node->store, c->target, &in, &made);
    }
    if (rsc == CMN_RSC_CREATED) {
        rsp->body = cse_res_render(made);
        snprintf(rsp->location, sizeof(rsp->location), "%s", made->path);
    }
    cse_res_free(made);
    json_decref(root);
    return rsc;
}

static unsigned do_retrieve(req_ctx *c, cse_rsp *rsp)
{
    unsigned rsc = check_access(c);

    if (rsc != 0)
        return rsc;
    rsp->body = cse_res_render(c->target);
    return rsp->body != NULL ? CMN_RSC_OK : CMN_RSC_INTERNAL_SERVER_ERROR;
}

static unsigned do_delete(req_ctx *c)
{
    unsigned rsc = check_access(c);

    return rsc != 0 ? rsc : cse_res_delete(c->node->store, c->target, c->req->now);
}

/* UPDATE and NOTIFY are checked like any request, then answered 5001 (not in issue 2). */
static unsigned do_not_implemented(req_ctx *c)
{
    unsigned rsc = check_access(c);

    return rsc != 0 ? rsc : CMN_RSC_NOT_IMPLEMENTED;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static bool cf_ok(const cse_req *req)
{
    if (req->body_len == 0)
        return true;
    return req->cf == 0 || req->cf == 50 || req->cf == 10001;
}

static unsigned bind_originator(req_ctx *c)
{
    const cse_req *req = c->req;
    cse_binding_in in = {
        .secure = req->secure,
        .bound_id = req->bound_id,
        .from = req->from,
        .ae_create = req->op == CMN_OP_CREATE && req->ty == CMN_TY_AE,
        .admin_originator = c->node->admin_originator,
    };
    char f[128], b[128];
    unsigned rsc;

    if (!req->secure && req->from != NULL)
        in.from_enrolled = cse_cred_is_enrolled(c->node->store, req->from);
    rsc = cse_binding_check(&in, &c->who);
    if (rsc != 0)
        CMN_WARN(SUB, "event=originator_refused reason=%s from=%s bound=%s rsc=%u", c->who.reason,
                 cse_log_value(req->from, f, sizeof(f)), cse_log_value(req->bound_id, b, sizeof(b)),
                 rsc);
    return rsc;
}

static unsigned load_target(req_ctx *c)
{
    char path[CSE_PATH_MAX];

    if (cse_res_resolve(c->node->store, c->node->cse_id, c->req->path, path) != 0)
        return CMN_RSC_NOT_FOUND;
    return cse_res_get(c->node->store, path, &c->target) == 0 ? 0 : CMN_RSC_NOT_FOUND;
}

static unsigned dispatch(req_ctx *c, cse_rsp *rsp)
{
    unsigned rsc;

    if (c->req->op < CMN_OP_CREATE || c->req->op > CMN_OP_NOTIFY)
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    if (!cf_ok(c->req))
        return CMN_RSC_UNSUPPORTED_MEDIA_TYPE;
    if ((rsc = bind_originator(c)) != 0 || (rsc = load_target(c)) != 0)
        return rsc;
    switch (c->req->op) {
    case CMN_OP_CREATE: return do_create(c, rsp);
    case CMN_OP_RETRIEVE: return do_retrieve(c, rsp);
    case CMN_OP_DELETE: return do_delete(c);
    default: return do_not_implemented(c);
    }
}

/* Error responses carry {"m2m:dbg": "<RSC name>"} (TS-0004 debugInfo). */
static char *debug_body(unsigned rsc)
{
    json_t *d = json_pack("{s:s}", "m2m:dbg", cmn_rsc_name(rsc));
    char *s = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;

    json_decref(d);
    return s;
}

void cse_request_handle(cse_node *node, const cse_req *req, cse_rsp *rsp)
{
    req_ctx c = { .node = node, .req = req };
    char p[128], o[128];

    memset(rsp, 0, sizeof(*rsp));
    rsp->rsc = dispatch(&c, rsp);
    if (rsp->rsc >= 4000) {
        cse_rsp_clear(rsp);
        rsp->body = debug_body(rsp->rsc);
    }
    CMN_INFO(SUB, "event=request op=%s path=%s originator=%s secure=%d rsc=%u", op_name(req->op),
             cse_log_value(req->path, p, sizeof(p)),
             cse_log_value(c.who.originator[0] ? c.who.originator : req->from, o, sizeof(o)),
             req->secure, rsp->rsc);
    cse_res_free(c.target);
}
