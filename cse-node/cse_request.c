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
#include "cse_request.h"
#include "cse_saef.h"
#include "cse_sync.h"
#include "cse_validate.h"

#define SUB "req"


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
    free(rsp->verify_body);
    rsp->verify_body = NULL;
    for (size_t i = 0; i < rsp->n_verify; i++)
        free(rsp->verify_nu[i]);
    rsp->n_verify = 0;
}

static const char *op_name(int op)
{
    static const char *const names[] = { "?", "create", "retrieve", "update", "delete",
                                         "notify" };
    return op >= CMN_OP_CREATE && op <= CMN_OP_NOTIFY ? names[op] : names[0];
}

/* ---- one pass per request: the memo of a parked request ----------------------------- */

#define MEMO_FACTS_MAX 64

typedef struct {
    char *path;                 /* the resource decided on */
    cse_pep_scope scope;
    Tep__DecisionRequest facts; /* acp_json, creator, group_ids (owned) */
} memo_facts;

struct cse_pass_memo {
    uint64_t writes;            /* the store's write count when the pass ended */
    char *path;                 /* the request path the target was loaded for */
    Tep__Resource *target;      /* NULL once taken */
    bool fanout;
    char fopt_rest[CSE_PATH_MAX];
    memo_facts f[MEMO_FACTS_MAX];
    size_t n;
};

static uint64_t memo_hits;

uint64_t cse_pass_memo_hits(void)
{
    return memo_hits;
}

static void memo_clear(cse_pass_memo *m)
{
    free(m->path);
    m->path = NULL;
    cse_res_free(m->target);
    m->target = NULL;
    for (size_t i = 0; i < m->n; i++) {
        free(m->f[i].path);
        cse_pep_facts_free(&m->f[i].facts);
    }
    m->n = 0;
}

void cse_pass_memo_free(cse_pass_memo *m)
{
    if (m == NULL)
        return;
    memo_clear(m);
    free(m);
}

/* The memo of this request if what it holds is still what the store says (nothing was
 * written since it was kept), else NULL (emptied). */
static cse_pass_memo *memo_valid(const cse_ctx *c)
{
    cse_pass_memo *m = c->req->pass_memo != NULL ? *c->req->pass_memo : NULL;

    if (m == NULL)
        return NULL;
    if (m->writes != cmn_store_write_count(c->node->store)) {
        memo_clear(m);
        return NULL;
    }
    return m;
}

static int strv_copy(char **in, size_t n, char ***ret)
{
    *ret = NULL;
    if (n == 0)
        return 0;
    if ((*ret = calloc(n, sizeof(char *))) == NULL)
        return CMN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (((*ret)[i] = strdup(in[i])) == NULL)
            return CMN_ENOMEM;
    }
    return 0;
}

/* Copies the facts of from (acp_json, creator, group_ids) into to; on failure what was
 * copied is to's (cse_pep_facts_free). */
static int facts_copy(const Tep__DecisionRequest *from, Tep__DecisionRequest *to)
{
    int rc;

    to->n_acp_json = to->n_group_ids = 0;
    to->creator = NULL;
    if ((rc = strv_copy(from->acp_json, from->n_acp_json, &to->acp_json)) != 0)
        return rc;
    to->n_acp_json = from->n_acp_json;
    if ((rc = strv_copy(from->group_ids, from->n_group_ids, &to->group_ids)) != 0)
        return rc;
    to->n_group_ids = from->n_group_ids;
    if (from->creator != NULL && (to->creator = strdup(from->creator)) == NULL)
        return CMN_ENOMEM;
    return 0;
}

/* The facts of (res, scope): from the memo when the first pass kept them. */
static int facts_of(cse_ctx *c, const Tep__Resource *res, cse_pep_scope scope,
                    Tep__DecisionRequest *rq, bool *ret_memo)
{
    cse_pass_memo *m = memo_valid(c);

    *ret_memo = false;
    for (size_t i = 0; m != NULL && i < m->n; i++) {
        if (m->f[i].scope == scope && strcmp(m->f[i].path, res->path) == 0) {
            rq->acp_json = rq->group_ids = NULL;
            if (facts_copy(&m->f[i].facts, rq) != 0) {
                cse_pep_facts_free(rq);
                break;
            }
            *ret_memo = true;
            memo_hits++;
            return 0;
        }
    }
    return cse_pep_facts(c->node->store, res, scope, rq);
}

static cse_pass_memo *memo_slot(cse_ctx *c)
{
    cse_pass_memo **slot = c->req->pass_memo;

    if (slot != NULL && *slot == NULL)
        *slot = calloc(1, sizeof(cse_pass_memo));
    return slot != NULL ? *slot : NULL;
}

/* A decision is on its way: its facts are kept for the pass that resumes the request. */
static void memo_keep_facts(cse_ctx *c, const Tep__Resource *res, cse_pep_scope scope,
                            const Tep__DecisionRequest *rq)
{
    cse_pass_memo *m = memo_slot(c);
    memo_facts *f;

    if (m == NULL || m->n >= MEMO_FACTS_MAX)
        return;
    f = &m->f[m->n];
    memset(f, 0, sizeof(*f));
    f->scope = scope;
    if ((f->path = strdup(res->path)) == NULL || facts_copy(rq, &f->facts) != 0) {
        free(f->path);
        cse_pep_facts_free(&f->facts);
        return;
    }
    m->n++;
}

/* The first pass ends waiting: its target goes with the request (c->target is then NULL). */
static void memo_keep_target(cse_ctx *c)
{
    cse_pass_memo *m = c->target != NULL ? memo_slot(c) : NULL;

    if (m == NULL)
        return;
    free(m->path);
    cse_res_free(m->target);
    m->path = strdup(c->req->path);
    m->target = m->path != NULL ? c->target : NULL;
    if (m->target == NULL) {
        cse_res_free(c->target);
    } else {
        m->fanout = c->fanout;
        snprintf(m->fopt_rest, sizeof(m->fopt_rest), "%s", c->fopt_rest);
    }
    c->target = NULL;
}

/* The target the first pass loaded, if kept and still valid. */
static bool memo_take_target(cse_ctx *c)
{
    cse_pass_memo *m = memo_valid(c);

    if (m == NULL || m->target == NULL || strcmp(m->path, c->req->path) != 0)
        return false;
    c->target = m->target;
    m->target = NULL;
    c->fanout = m->fanout;
    snprintf(c->fopt_rest, sizeof(c->fopt_rest), "%s", m->fopt_rest);
    memo_hits++;
    return true;
}

/* At the end of a pass that waits: what it kept is valid for the store as it is now. */
static void memo_seal(cse_ctx *c)
{
    cse_pass_memo *m = c->req->pass_memo != NULL ? *c->req->pass_memo : NULL;

    if (m != NULL)
        m->writes = cmn_store_write_count(c->node->store);
}

/* ---- access decision --------------------------------------------------------------- */

unsigned cse_ctx_access_scope(cse_ctx *c, const Tep__Resource *res, uint32_t acop,
                             cse_pep_scope scope)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    char target[CSE_PATH_MAX + 1];
    char o[128];
    cse_decision d;
    bool memo;

    snprintf(target, sizeof(target), "/%s", res->path);
    rq.originator = c->who.originator;
    rq.target = target;
    rq.target_ty = res->ty;
    rq.op = acop;
    rq.new_ty = acop == CMN_ACOP_CREATE ? c->req->ty : 0;
    rq.rq_authn = c->who.rq_authn;
    rq.peer_ip = (char *)(c->req->peer_ip != NULL ? c->req->peer_ip : "");
    rq.is_admin = c->who.is_admin;
    rq.now = c->req->now;
    /* "Cabc", "/tep-cse/Cabc" and "//sp/tep-cse/Cabc" are one originator (TS-0001 7.2) */
    rq.cse_id = (char *)(c->node->cse_id != NULL ? c->node->cse_id : "");
    rq.sp_id = (char *)(c->node->sp_id != NULL ? c->node->sp_id : "");
    if (facts_of(c, res, scope, &rq, &memo) != 0) {
        cse_pep_facts_free(&rq);
        CMN_ERR(SUB, "event=decision permit=0 rule=facts_unavailable target=%s", target);
        return CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
    }
    /* Dynamic authorization grants privileges (the DAS's grantedPrivileges become an
     * ACP's pv, TS-0004 7.5.1.2.10), never selfPrivileges: an ACP and an acpi change are
     * decided by pvs alone, without tokens or DAS grants. */
    if (scope == CSE_PEP_ACPI || res->ty == CMN_TY_ACP)
        cse_pep_decide(c->node->pep, &rq, &d);
    else
        cse_pep_decide_dyn(c->node->pep, &rq, c->req->query, c->req->ati, c->req->ati_len, &d);
    if (cse_pep_waiting(c->node->pep) && !memo && strcmp(d.rule, CSE_PEP_RULE_PENDING) == 0)
        memo_keep_facts(c, res, scope, &rq); /* this decision is on its way */
    cse_pep_facts_free(&rq);
    if (cse_pep_waiting(c->node->pep))
        return CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE; /* provisional: decided in a later pass */
    CMN_INFO(SUB, "event=decision permit=%d rule=%s originator=%s target=%s acop=%u scope=%s",
             d.permit, d.rule, cse_log_value(c->who.originator, o, sizeof(o)), target,
             (unsigned)acop, scope == CSE_PEP_ACPI ? "acpi" : scope == CSE_PEP_FANOUT ? "fopt"
                                                                                   : "privs");
    return d.permit ? 0 : d.rsc ? d.rsc : CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
}

unsigned cse_ctx_access(cse_ctx *c, const Tep__Resource *res, uint32_t acop)
{
    return cse_ctx_access_scope(c, res, acop, CSE_PEP_PRIVS);
}

/* ---- body -------------------------------------------------------------------------- */

unsigned cse_ctx_body(const cse_req *req, unsigned ty, json_t **ret_root, json_t **ret_attrs)
{
    json_error_t jerr;

    *ret_root = NULL;
    *ret_attrs = NULL;
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
    if (cmn_json_unwrap(*ret_root, ty, ret_attrs) != 0) {
        CMN_INFO(SUB, "event=bad_request reason=wrapper_does_not_match_ty ty=%u", ty);
        return CMN_RSC_BAD_REQUEST;
    }
    return 0;
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

    /* every spelling of an enrolled AE-ID needs its security association (4107) */
    if (!req->secure && req->from != NULL)
        in.from_enrolled = cse_cred_is_enrolled(
            c->node->store, cse_binding_local_id(c->node->cse_id, req->from));
    rsc = cse_binding_check(&in, &c->who);
    if (rsc == 0 && req->secure && in.ae_create) /* App-ID of the enrolment (seed Z.2) */
        rsc = cse_saef_check_ae_create(c->node->store, req->bound_id, req->body, req->body_len);
    else if (rsc != 0)
        CMN_WARN(SUB, "event=originator_refused reason=%s from=%s bound=%s rsc=%u", c->who.reason,
                 cse_log_value(req->from, f, sizeof(f)), cse_log_value(req->bound_id, b, sizeof(b)),
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
    rc = cnt->ty == CMN_TY_CNT ? cse_cnt_enforce(c->node->store, cnt, c->req->now) : CMN_ENOTFOUND;
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

const char *cse_ctx_find_fopt(const char *p)
{
    for (const char *s = strstr(p, "/fopt"); s != NULL; s = strstr(s + 1, "/fopt")) {
        if (s[5] == '\0' || s[5] == '/')
            return s + 1;
    }
    return NULL;
}

static unsigned load_target(cse_ctx *c)
{
    const char *p = c->req->path;
    char path[CSE_PATH_MAX];
    const char *last = strrchr(p, '/');
    const char *fopt;

    if (memo_take_target(c))
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
    static const char *const known[] = { "1", "2", "2a", "3", "4", "5" };

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
    const char *names[] = { "rqet", "rset", "oet" };
    const char *vals[] = { req->rqet, req->rset, req->oet };
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

uint32_t cse_ctx_acop(const cse_ctx *c)
{
    static const uint32_t acop[] = { 0, CMN_ACOP_CREATE, CMN_ACOP_RETRIEVE, CMN_ACOP_UPDATE,
                                     CMN_ACOP_DELETE, CMN_ACOP_NOTIFY };

    if (c->req->op == CMN_OP_RETRIEVE && c->q.fu == 1)
        return CMN_ACOP_DISCOVERY;
    return c->req->op >= CMN_OP_CREATE && c->req->op <= CMN_OP_NOTIFY ? acop[c->req->op] : 0;
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
    if ((rsc = bind_originator(c)) != 0 || (rsc = load_target(c)) != 0)
        return rsc;
    if (c->fanout)
        return fanout(c, rsp);
    switch (c->req->op) {
    case CMN_OP_CREATE: return cse_ops_create(c, rsp);
    case CMN_OP_RETRIEVE: return cse_ops_retrieve(c, rsp);
    case CMN_OP_UPDATE: return cse_ops_update(c, rsp);
    case CMN_OP_DELETE: return cse_ops_delete(c, rsp);
    default: return cse_ops_notify(c, rsp);
    }
}

/* Error responses carry {"m2m:dbg": "<RSC name>[: reason]"} (TS-0004 debugInfo). */
static char *debug_body(unsigned rsc, const char *reason)
{
    char text[160];
    json_t *d;

    snprintf(text, sizeof(text), "%s%s%s", cmn_rsc_name(rsc), reason[0] ? ": " : "", reason);
    d = json_pack("{s:s}", "m2m:dbg", text);
    char *s = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;

    json_decref(d);
    return s;
}

void cse_request_handle(cse_node *node, const cse_req *req, cse_rsp *rsp)
{
    cse_ctx c = { .node = node, .req = req };
    char p[128], o[128];

    memset(rsp, 0, sizeof(*rsp));
    rsp->cf = CMN_CF_JSON;
    rsp->rsc = dispatch(&c, rsp);
    if (cse_pep_waiting(node->pep)) {
        cse_rsp_clear(rsp);
        rsp->deciding = true;
        CMN_INFO(SUB, "event=request_parked path=%s reason=remote_decision",
                  cse_log_value(req->path, p, sizeof(p)));
        memo_keep_target(&c); /* resumed where it stopped (cse_pass_memo) */
        memo_seal(&c);
        return;
    }
    if (rsp->rsc == CSE_RSC_PENDING) {
        rsp->rsc = 0;
        CMN_INFO(SUB, "event=verification_pending path=%s targets=%zu",
                 cse_log_value(req->path, p, sizeof(p)), rsp->n_verify);
        cse_res_free(c.target);
        return;
    }
    if (rsp->rsc >= 4000) {
        cse_rsp_clear(rsp);
        rsp->body = debug_body(rsp->rsc, rsp->reason);
    }
    CMN_INFO(SUB, "event=request op=%s path=%s originator=%s secure=%d rsc=%u", op_name(req->op),
             cse_log_value(req->path, p, sizeof(p)),
             cse_log_value(c.who.originator[0] ? c.who.originator : req->from, o, sizeof(o)),
             req->secure, rsp->rsc);
    cse_res_free(c.target);
}
