/* Dynamic authorization at the PEP (see cse_dynauth.h). */
#include "cse_dynauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"

#define SUB "dynauth"
#define DAS_CACHE_MAX 128
#define DYN_MAX 8

typedef struct {
    char *originator;
    char *target;
    char *gp_json;
    int64_t pl;
} das_grant;

struct cse_dynauth {
    cse_dynauth_cfg cfg;
    das_grant cache[DAS_CACHE_MAX];
};

/* The dynamic part of one decision: what is added to rq, and the fields it replaced. */
typedef struct {
    cse_token_grants tokens;
    char *dyn[DYN_MAX];
    size_t n_dyn;
    char **saved_roles;
    size_t saved_n_roles;
    char *roles[CSE_TOKEN_ROLES_MAX * 2];
} dyn_state;

int cse_dynauth_new(const cse_dynauth_cfg *cfg, cse_dynauth **ret)
{
    *ret = calloc(1, sizeof(**ret));
    if (*ret == NULL)
        return CMN_ENOMEM;
    (*ret)->cfg = *cfg;
    return 0;
}

static void grant_clear(das_grant *g)
{
    free(g->originator);
    free(g->target);
    free(g->gp_json);
    memset(g, 0, sizeof(*g));
}

void cse_dynauth_forget(cse_dynauth *da)
{
    for (size_t i = 0; i < DAS_CACHE_MAX; i++)
        grant_clear(&da->cache[i]);
}

void cse_dynauth_free(cse_dynauth *da)
{
    if (da == NULL)
        return;
    cse_dynauth_forget(da);
    free(da);
}

size_t cse_dynauth_cached(const cse_dynauth *da, int64_t now)
{
    size_t n = 0;

    for (size_t i = 0; i < DAS_CACHE_MAX; i++)
        n += da->cache[i].gp_json != NULL && da->cache[i].pl >= now;
    return n;
}

/* ---- the DAS cache ------------------------------------------------------------------ */

static void cache_put(cse_dynauth *da, const char *orig, const char *target, const char *gp,
                      int64_t pl, int64_t now)
{
    das_grant *slot = &da->cache[0];

    for (size_t i = 0; i < DAS_CACHE_MAX; i++) {
        das_grant *g = &da->cache[i];
        if (g->gp_json == NULL || g->pl < now) {
            slot = g;
            break;
        }
        if (g->pl < slot->pl) /* full: the one that ends first goes */
            slot = g;
    }
    grant_clear(slot);
    slot->originator = strdup(orig);
    slot->target = strdup(target);
    slot->gp_json = strdup(gp);
    slot->pl = pl;
    if (slot->originator == NULL || slot->target == NULL || slot->gp_json == NULL)
        grant_clear(slot); /* not cached: the next request asks again */
}

static void add_cached(cse_dynauth *da, const Tep__DecisionRequest *rq, dyn_state *st)
{
    for (size_t i = 0; i < DAS_CACHE_MAX && st->n_dyn < DYN_MAX; i++) {
        das_grant *g = &da->cache[i];
        if (g->gp_json == NULL)
            continue;
        if (g->pl < rq->now) {
            grant_clear(g); /* lifetime over */
            continue;
        }
        if (strcmp(g->originator, rq->originator) == 0 && strcmp(g->target, rq->target) == 0)
            st->dyn[st->n_dyn++] = g->gp_json; /* borrowed for this decision */
    }
}

/* ---- tokens ----------------------------------------------------------------------- */

static void refuse(cse_decision *ret, unsigned rsc, const char *why)
{
    ret->permit = false;
    ret->rsc = rsc;
    snprintf(ret->rule, sizeof(ret->rule), "%s", why);
}

static void ati_add(char *ati, size_t atilen, const cse_token_entry *e)
{
    size_t used;

    if (ati == NULL || atilen == 0)
        return;
    used = strlen(ati);
    snprintf(ati + used, atilen - used, "%s%s:%s", used ? "+" : "", cse_token_entry_lti(e),
             cse_token_entry_tkid(e));
}

static int accept_one(cse_dynauth *da, const Tep__DecisionRequest *rq, const char *jwt,
                      dyn_state *st, char *ati, size_t atilen, cse_decision *ret)
{
    const cse_token_entry *e = NULL;
    cmn_token_status ts = CMN_TOKEN_MALFORMED;
    char why[64];

    if (cse_tokens_accept(da->cfg.tokens, jwt, rq->originator, rq->now, &e, &ts) != 0) {
        snprintf(why, sizeof(why), "token: %s", cmn_token_status_name(ts));
        refuse(ret, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, why);
        return CMN_EDENIED;
    }
    ati_add(ati, atilen, e);
    return cse_tokens_apply(e, rq->originator, rq->target, &st->tokens);
}

/* tids: tep-authz answers a dreq with tids with the tokens themselves (dres tkns). */
static int fetch_tids(cse_pep *p, const Tep__DecisionRequest *rq, const cse_token_params *tp,
                      Tep__Envelope **ret)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__DasRequest dreq = TEP__DAS_REQUEST__INIT;
    int rc;

    dreq.orig = rq->originator;
    dreq.trid = rq->target;
    dreq.op = rq->op;
    dreq.rts = rq->now;
    dreq.tids = (char **)tp->tids;
    dreq.n_tids = tp->n_tids;
    env.body_case = TEP__ENVELOPE__BODY_DAS_REQ;
    env.das_req = &dreq;
    rc = cse_pep_ask(p, &env, TEP__ENVELOPE__BODY_DAS_RESP, ret);
    if (rc == 0 && (*ret)->das_resp->n_tkns != tp->n_tids) {
        cmn_bus_env_free(*ret);
        *ret = NULL;
        rc = CMN_ENOTFOUND;
    }
    return rc;
}

static int accept_tids(cse_dynauth *da, cse_pep *p, const Tep__DecisionRequest *rq,
                       const cse_token_params *tp, dyn_state *st, char *ati, size_t atilen,
                       cse_decision *ret)
{
    Tep__Envelope *in = NULL;
    int rc = fetch_tids(p, rq, tp, &in);

    if (rc != 0) {
        refuse(ret, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
               rc == CMN_ENOTFOUND ? "token: unknown or revoked tid" : "token: das unreachable");
        return CMN_EDENIED;
    }
    for (size_t i = 0; rc == 0 && i < in->das_resp->n_tkns; i++)
        rc = accept_one(da, rq, in->das_resp->tkns[i], st, ati, atilen, ret);
    cmn_bus_env_free(in);
    return rc;
}

static int accept_ltids(cse_dynauth *da, const Tep__DecisionRequest *rq, const cse_token_params *tp,
                        dyn_state *st, cse_decision *ret)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < tp->n_ltids; i++) {
        const cse_token_entry *e =
            cse_tokens_by_lti(da->cfg.tokens, tp->ltids[i], rq->originator, rq->now);
        if (e == NULL) {
            refuse(ret, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, "token: unknown ltid");
            return CMN_EDENIED;
        }
        rc = cse_tokens_apply(e, rq->originator, rq->target, &st->tokens);
    }
    return rc;
}

/* Verifies every token the request presents; on refusal ret is filled. */
static int collect_tokens(cse_dynauth *da, cse_pep *p, const Tep__DecisionRequest *rq,
                          const cse_token_params *tp, dyn_state *st, char *ati, size_t atilen,
                          cse_decision *ret)
{
    int rc = 0;

    if (!cse_token_params_any(tp))
        return 0;
    if (da->cfg.tokens == NULL) {
        refuse(ret, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, "token: no trusted issuer");
        return CMN_EDENIED;
    }
    for (size_t i = 0; rc == 0 && i < tp->n_tkns; i++)
        rc = accept_one(da, rq, tp->tkns[i], st, ati, atilen, ret);
    if (rc == 0 && tp->n_tids > 0)
        rc = accept_tids(da, p, rq, tp, st, ati, atilen, ret);
    if (rc == 0)
        rc = accept_ltids(da, rq, tp, st, ret);
    if (rc != 0 && rc != CMN_EDENIED)
        refuse(ret, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, "token: too many permissions");
    return rc;
}

/* ---- the decision ------------------------------------------------------------------- */

static void attach(Tep__DecisionRequest *rq, dyn_state *st)
{
    size_t n = 0;

    st->saved_roles = rq->role_ids;
    st->saved_n_roles = rq->n_role_ids;
    for (size_t i = 0; i < rq->n_role_ids && n < CSE_TOKEN_ROLES_MAX; i++)
        st->roles[n++] = rq->role_ids[i];
    for (size_t i = 0; i < st->tokens.n_roles; i++)
        st->roles[n++] = st->tokens.roles[i];
    rq->role_ids = st->roles;
    rq->n_role_ids = n;
    rq->token_acp_json = st->tokens.acp;
    rq->token_ids = st->tokens.ids;
    rq->n_token_acp_json = rq->n_token_ids = st->tokens.n;
    rq->dynamic_acp_json = st->dyn;
    rq->n_dynamic_acp_json = st->n_dyn;
}

static void detach(Tep__DecisionRequest *rq, dyn_state *st)
{
    rq->role_ids = st->saved_roles;
    rq->n_role_ids = st->saved_n_roles;
    rq->token_acp_json = rq->token_ids = rq->dynamic_acp_json = NULL;
    rq->n_token_acp_json = rq->n_token_ids = rq->n_dynamic_acp_json = 0;
    cse_token_grants_clear(&st->tokens);
}

/* Direct flow: one dreq; a granted dai is cached and joins this decision. */
static bool consult_das(cse_dynauth *da, cse_pep *p, Tep__DecisionRequest *rq, dyn_state *st)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT, *in = NULL;
    Tep__DasRequest dreq = TEP__DAS_REQUEST__INIT;
    const Tep__DasResponse *dres;
    bool got = false;
    int rc;

    dreq.orig = rq->originator;
    dreq.trt = rq->target_ty;
    dreq.op = rq->op;
    dreq.oip_ip4 = strchr(rq->peer_ip, ':') == NULL ? rq->peer_ip : "";
    dreq.oip_ip6 = strchr(rq->peer_ip, ':') != NULL ? rq->peer_ip : "";
    dreq.rts = rq->now;
    dreq.trid = rq->target;
    dreq.ppl = da->cfg.das_ppl;
    env.body_case = TEP__ENVELOPE__BODY_DAS_REQ;
    env.das_req = &dreq;
    rc = cse_pep_ask(p, &env, TEP__ENVELOPE__BODY_DAS_RESP, &in);
    if (rc != 0 && cse_pep_waiting(p))
        return false; /* on its way: the request is handled again with the answer */
    dres = rc == 0 ? in->das_resp : NULL;
    if (dres != NULL && dres->granted && dres->gp_json != NULL && dres->pl >= rq->now) {
        cache_put(da, rq->originator, rq->target, dres->gp_json, dres->pl, rq->now);
        got = st->n_dyn < DYN_MAX && (st->dyn[st->n_dyn] = strdup(dres->gp_json)) != NULL;
        st->n_dyn += got;
    }
    CMN_INFO(SUB, "event=das_consulted target=%s granted=%d rule=\"%s\" err=\"%s\"", rq->target,
             got, dres != NULL ? dres->rule : "-", rc != 0 ? cmn_strerror(rc) : "");
    cmn_bus_env_free(in);
    return got;
}

void cse_dynauth_decide(cse_dynauth *da, cse_pep *p, Tep__DecisionRequest *rq, const char *query,
                        char *ati, size_t atilen, cse_decision *ret)
{
    dyn_state st;
    cse_token_params tp;
    size_t cached;

    if (ati != NULL && atilen > 0)
        ati[0] = '\0';
    if (da == NULL) {
        cse_pep_decide(p, rq, ret);
        return;
    }
    memset(&st, 0, sizeof(st));
    if (cse_token_params_parse(query, &tp) != 0) {
        refuse(ret, CMN_RSC_BAD_REQUEST, "token: bad parameter");
        return;
    }
    if (collect_tokens(da, p, rq, &tp, &st, ati, atilen, ret) != 0)
        goto out;
    if (!rq->is_admin)
        add_cached(da, rq, &st);
    cached = st.n_dyn;
    attach(rq, &st);
    cse_pep_decide(p, rq, ret);
    /* a Deny while the decision is on its way (cse_pep_waiting) is provisional: the DAS
     * is consulted only after the PDP's real answer */
    if (!ret->permit && !rq->is_admin && da->cfg.das && cse_pep_is_remote(p) &&
        !cse_pep_waiting(p) && consult_das(da, p, rq, &st)) {
        rq->dynamic_acp_json = st.dyn;
        rq->n_dynamic_acp_json = st.n_dyn;
        cse_pep_decide(p, rq, ret);
    }
    detach(rq, &st);
    for (size_t i = cached; i < st.n_dyn; i++)
        free(st.dyn[i]); /* those before are the cache's */
out:
    cse_token_params_free(&tp);
    cse_token_grants_clear(&st.tokens);
}

/* ---- set-up from cse.ini ---------------------------------------------------------- */

int cse_dynauth_setup(const cse_config *cfg, cse_pep *pep, cse_tokens **ret_tokens,
                      cse_dynauth **ret_da)
{
    cse_tokens_cfg tc = {.sp_id = cfg->sp_id,
                         .cse_id = cfg->cse_id,
                         .issuer = cfg->token_issuer,
                         .issuer_key = cfg->token_issuer_key};
    cse_dynauth_cfg dc = {.das = cfg->das};
    int rc = 0;

    *ret_tokens = NULL;
    *ret_da = NULL;
    if (cfg->token_issuer[0] != '\0')
        rc = cse_tokens_new(&tc, ret_tokens);
    if (rc != 0) {
        CMN_ERR(SUB, "event=token_issuer_key_refused path=%s err=\"%s\"", cfg->token_issuer_key,
                cmn_strerror(rc));
        return rc;
    }
    dc.tokens = *ret_tokens;
    rc = cse_dynauth_new(&dc, ret_da);
    if (rc != 0) {
        cse_tokens_free(*ret_tokens);
        *ret_tokens = NULL;
        return rc;
    }
    cse_pep_set_cache(pep, (int)cfg->cache_ms);
    CMN_INFO(SUB, "event=dynamic_authorization tokens=%s das=%d decision_cache_ms=%ld",
             cfg->token_issuer[0] ? cfg->token_issuer : "off", cfg->das, cfg->cache_ms);
    return 0;
}
