/* One request in flight inside tep-cse (cse_ctx.h): its access decisions, with what the
 * first pass of a parked request kept for the pass that resumes it (cse_pass_memo), and
 * its body. Between the services (cse_pep.c, cse_dynauth.c) and the operations
 * (cse_ops.c, cse_group.c, cse_notify.c) that call it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_ctx.h"

#define SUB "req"

/* ---- one pass per request: the memo of a parked request ----------------------------- */

#define MEMO_FACTS_MAX 64

typedef struct {
    char *path; /* the resource decided on */
    cse_pep_scope scope;
    Tep__DecisionRequest facts; /* acp_json, creator, group_ids (owned) */
} memo_facts;

struct cse_pass_memo {
    uint64_t writes;       /* the store's write count when the pass ended */
    char *path;            /* the request path the target was loaded for */
    Tep__Resource *target; /* NULL once taken */
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
void cse_ctx_memo_keep_target(cse_ctx *c)
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
bool cse_ctx_memo_take_target(cse_ctx *c)
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
void cse_ctx_memo_seal(cse_ctx *c)
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

    c->open = false;
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
        cse_dynauth_decide(c->node->dynauth, c->node->pep, &rq, c->req->query, c->req->ati,
                           c->req->ati_len, &d);
    if (cse_pep_waiting(c->node->pep) && !memo && strcmp(d.rule, CSE_PEP_RULE_PENDING) == 0)
        memo_keep_facts(c, res, scope, &rq); /* this decision is on its way */
    cse_pep_facts_free(&rq);
    c->open =
        cse_pep_waiting(c->node->pep) && (d.permit || strcmp(d.rule, CSE_PEP_RULE_PENDING) == 0);
    if (cse_pep_waiting(c->node->pep))
        return CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE; /* provisional: decided in a later pass */
    CMN_INFO(SUB, "event=decision permit=%d rule=%s originator=%s target=%s acop=%u scope=%s",
             d.permit, d.rule, cmn_log_value(c->who.originator, o, sizeof(o)), target,
             (unsigned)acop,
             scope == CSE_PEP_ACPI     ? "acpi"
             : scope == CSE_PEP_FANOUT ? "fopt"
                                       : "privs");
    return d.permit ? 0 : d.rsc ? d.rsc : CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
}

unsigned cse_ctx_access(cse_ctx *c, const Tep__Resource *res, uint32_t acop)
{
    return cse_ctx_access_scope(c, res, acop, CSE_PEP_PRIVS);
}

/* ---- body -------------------------------------------------------------------------- */

json_t *cse_ctx_json(cse_ctx *c)
{
    const cse_req *req = c->req;

    if (!c->body_read && req->body != NULL && req->body_len > 0)
        c->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &c->body_err);
    c->body_read = true;
    return c->body;
}

unsigned cse_ctx_body(cse_ctx *c, unsigned ty, json_t **ret_root, json_t **ret_attrs)
{
    const cse_req *req = c->req;

    *ret_root = NULL;
    *ret_attrs = NULL;
    if (req->body == NULL || req->body_len == 0) {
        CMN_INFO(SUB, "event=bad_request reason=empty_body");
        return CMN_RSC_BAD_REQUEST;
    }
    if (cse_ctx_json(c) == NULL) {
        CMN_INFO(SUB, "event=bad_request reason=bad_json line=%d column=%d", c->body_err.line,
                 c->body_err.column);
        return CMN_RSC_BAD_REQUEST;
    }
    *ret_root = c->body; /* the caller's now; a later call reads the body again */
    c->body = NULL;
    c->body_read = false;
    if (cmn_json_unwrap(*ret_root, ty, ret_attrs) != 0) {
        CMN_INFO(SUB, "event=bad_request reason=wrapper_does_not_match_ty ty=%u", ty);
        return CMN_RSC_BAD_REQUEST;
    }
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

uint32_t cse_ctx_acop(const cse_ctx *c)
{
    static const uint32_t acop[] = {
        0, CMN_ACOP_CREATE, CMN_ACOP_RETRIEVE, CMN_ACOP_UPDATE, CMN_ACOP_DELETE, CMN_ACOP_NOTIFY};

    if (c->req->op == CMN_OP_RETRIEVE && c->q.fu == 1)
        return CMN_ACOP_DISCOVERY;
    return c->req->op >= CMN_OP_CREATE && c->req->op <= CMN_OP_NOTIFY ? acop[c->req->op] : 0;
}
