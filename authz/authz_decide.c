/* The Policy Decision Point of tep-authz (see authz_decide.h). */
#include "authz_decide.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmn_acp.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"

/* The rule when even the rule text could not be allocated (never freed). */
static char rule_oom[] = "out of memory";

static int set_result(Tep__DecisionResponse *ret, bool permit, const char *rule)
{
    ret->permit = permit;
    ret->rsc = permit ? CMN_RSC_OK : CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
    ret->rule = strdup(rule);
    if (ret->rule != NULL)
        return 0;
    ret->permit = false; /* fail closed */
    ret->rsc = CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
    ret->rule = rule_oom;
    return CMN_ENOMEM;
}

/* No accessControlPolicyIDs on the target: only its creator (custodian) may act, in
 * whichever form (Cabc, /<cse-id>/Cabc, //<sp>/<cse-id>/Cabc) the request names it. */
static bool is_creator(const Tep__DecisionRequest *rq)
{
    return cmn_acp_same_originator(rq->originator, rq->creator, rq->cse_id, rq->sp_id);
}

static void to_acp_request(const Tep__DecisionRequest *rq, cmn_acp_request *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->originator = rq->originator != NULL ? rq->originator : "";
    ret->op = rq->op;
    ret->target_ty = rq->target_ty;
    ret->new_ty = rq->new_ty;
    ret->rq_authn = rq->rq_authn;
    ret->peer_ip = (rq->peer_ip != NULL && rq->peer_ip[0]) ? rq->peer_ip : NULL;
    ret->role_ids = (const char *const *)rq->role_ids;
    ret->n_roles = rq->n_role_ids;
    ret->now = rq->now ? rq->now : (int64_t)time(NULL);
    ret->cse_id = rq->cse_id;
    ret->sp_id = rq->sp_id;
    ret->group_ids = (const char *const *)rq->group_ids;
    ret->n_groups = rq->n_group_ids;
    ret->target_spty = (rq->target_spty != NULL && rq->target_spty[0]) ? rq->target_spty : NULL;
    ret->loc_country = (rq->loc_country != NULL && rq->loc_country[0]) ? rq->loc_country : NULL;
    ret->has_loc_point = rq->has_loc_point;
    ret->loc_lat = rq->loc_lat;
    ret->loc_lon = rq->loc_lon;
}

/* Parses every policy; an entry that is not JSON stays NULL (indeterminate). */
static int evaluate_json(const Tep__DecisionRequest *rq, char *const *json, size_t n,
                         cmn_acp_result *ret)
{
    json_t **privs = calloc(n ? n : 1, sizeof(*privs));
    cmn_acp_request arq;
    int rc;

    if (privs == NULL)
        return CMN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        privs[i] = json_loads(json[i], JSON_REJECT_DUPLICATES, NULL);
    to_acp_request(rq, &arq);
    rc = cmn_acp_evaluate(&arq, privs, n, ret);
    for (size_t i = 0; i < n; i++)
        json_decref(privs[i]);
    free(privs);
    return rc;
}

static int evaluate_policies(const Tep__DecisionRequest *rq, cmn_acp_result *ret)
{
    return evaluate_json(rq, rq->acp_json, rq->n_acp_json, ret);
}

int authz_decide(const Tep__DecisionRequest *rq, Tep__DecisionResponse *ret)
{
    cmn_acp_result res;
    int rc;

    tep__decision_response__init(ret);
    if (rq->is_admin)
        return set_result(ret, true, "admin");
    if (rq->n_acp_json == 0) {
        bool creator = is_creator(rq);
        return set_result(ret, creator, creator ? "creator" : "no acp: not creator");
    }
    rc = evaluate_policies(rq, &res);
    if (rc == CMN_ENOMEM) {
        ret->rsc = CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE;
        ret->rule = rule_oom;
        return CMN_ENOMEM;
    }
    if (rc != 0) /* the request itself is malformed (e.g. op is not one acop bit) */
        return set_result(ret, false, "bad request");
    return set_result(ret, res.permit, res.rule);
}

/* Privileges the DAS granted (direct flow), cached by the PEP: "das.acp[i].acr[j]". */
static bool permit_dynamic(const Tep__DecisionRequest *rq, char *rule, size_t len)
{
    cmn_acp_result res;

    if (rq->n_dynamic_acp_json == 0 ||
        evaluate_json(rq, rq->dynamic_acp_json, rq->n_dynamic_acp_json, &res) != 0 || !res.permit)
        return false;
    snprintf(rule, len, "das.%s", res.rule);
    return true;
}

/* Token privileges (indirect flow), each alone so that a revoked token contributes
 * nothing: "token[i].acp[0].acr[j]", or "token revoked" when only revoked ones would. */
static bool permit_tokens(const Tep__DecisionRequest *rq, authz_revoked_fn revoked, void *arg,
                          char *rule, size_t len)
{
    bool saw_revoked = false;
    cmn_acp_result res;

    for (size_t i = 0; i < rq->n_token_acp_json; i++) {
        const char *id = i < rq->n_token_ids ? rq->token_ids[i] : NULL;
        if (evaluate_json(rq, &rq->token_acp_json[i], 1, &res) != 0 || !res.permit)
            continue;
        if (id == NULL || revoked(id, arg)) {
            saw_revoked = true;
            continue;
        }
        snprintf(rule, len, "token[%zu].%s", i, res.rule);
        return true;
    }
    if (saw_revoked)
        snprintf(rule, len, "token revoked");
    return false;
}

int authz_decide_dynamic(const Tep__DecisionRequest *rq, authz_revoked_fn revoked, void *arg,
                         Tep__DecisionResponse *ret)
{
    char rule[96] = "";
    int rc = authz_decide(rq, ret);

    if (ret->permit || rc == CMN_ENOMEM)
        return rc;
    if (permit_dynamic(rq, rule, sizeof(rule)) ||
        permit_tokens(rq, revoked, arg, rule, sizeof(rule))) {
        authz_decide_clear(ret);
        return set_result(ret, true, rule);
    }
    if (rule[0] != '\0') {
        authz_decide_clear(ret);
        return set_result(ret, false, rule);
    }
    return 0;
}

void authz_decide_clear(Tep__DecisionResponse *resp)
{
    if (resp == NULL)
        return;
    if (resp->rule != rule_oom)
        free(resp->rule);
    resp->rule = NULL;
}

/* ---- audit ------------------------------------------------------------------------ */

static int keep_last_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    if (klen != 8)
        return CMN_ECORRUPT;
    *(uint64_t *)arg = cmn_store_key_u64(key);
    return 0;
}

/* The newest key through a cursor (every key starts with byte 0, see audit_prefix). */
int authz_audit_last_seq(cmn_store *store, uint64_t *ret_seq)
{
    static const uint8_t zero[1] = {0};
    void *key = NULL;
    size_t klen = 0;
    int rc = cmn_store_edge(store, AUTHZ_AUDIT_DB, zero, 1, 1, &key, &klen, NULL, NULL);

    *ret_seq = 0;
    if (rc == 0)
        rc = keep_last_key(key, klen, NULL, 0, ret_seq);
    cmn_store_free_val(key, klen);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

static int audit_put(cmn_txn *t, uint64_t seq, int64_t now, const Tep__DecisionRequest *rq,
                     const Tep__DecisionResponse *resp)
{
    Tep__AuditRecord rec = TEP__AUDIT_RECORD__INIT;
    uint8_t key[8];
    uint8_t *buf;
    size_t len;
    int rc;

    rec.seq = seq;
    rec.time = now;
    rec.originator = rq->originator;
    rec.target = rq->target;
    rec.op = rq->op;
    rec.permit = resp->permit;
    rec.rsc = resp->rsc;
    rec.rule = resp->rule;
    len = tep__audit_record__get_packed_size(&rec);
    buf = malloc(len ? len : 1);
    if (buf == NULL)
        return CMN_ENOMEM;
    tep__audit_record__pack(&rec, buf);
    cmn_store_u64_key(seq, key);
    rc = cmn_txn_put(t, AUTHZ_AUDIT_DB, key, sizeof(key), buf, len);
    free(buf);
    return rc;
}

/* Every audit key is 8 bytes big-endian, seq < 2^56: they share the first byte 0, the
 * prefix through which the cursor finds the oldest one. */
static const uint8_t audit_prefix[1] = {0};

/* The oldest record: its seq and time. CMN_ENOTFOUND when the log is empty. */
static int oldest(cmn_txn *t, cmn_store *s, uint64_t *ret_seq, int64_t *ret_time)
{
    void *key = NULL, *val = NULL;
    size_t klen = 0, vlen = 0;
    Tep__AuditRecord *r = NULL;
    int rc = t != NULL
                 ? cmn_txn_edge(t, AUTHZ_AUDIT_DB, audit_prefix, 1, 0, &key, &klen, &val, &vlen)
                 : cmn_store_edge(s, AUTHZ_AUDIT_DB, audit_prefix, 1, 0, &key, &klen, &val, &vlen);

    if (rc == 0 && (klen != 8 || (r = tep__audit_record__unpack(NULL, vlen, val)) == NULL))
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        *ret_seq = cmn_store_key_u64(key);
        *ret_time = r->time;
    }
    if (r != NULL)
        tep__audit_record__free_unpacked(r, NULL);
    cmn_store_free_val(key, klen);
    cmn_store_free_val(val, vlen);
    return rc;
}

/* Deletes from the front while the log is beyond lim (newest = last_seq). */
static int prune(cmn_txn *t, uint64_t last_seq, int64_t now, const authz_audit_limits *lim,
                 size_t budget, size_t *ret_pruned)
{
    uint64_t seq;
    int64_t when;
    uint8_t key[8];
    int rc = 0;

    while (*ret_pruned < budget && (rc = oldest(t, NULL, &seq, &when)) == 0) {
        bool too_many = lim->max_records != 0 && last_seq - seq + 1 > lim->max_records;
        bool too_old = lim->max_age != 0 && when < now - lim->max_age;

        if (!too_many && !too_old)
            break;
        cmn_store_u64_key(seq, key);
        if ((rc = cmn_txn_del(t, AUTHZ_AUDIT_DB, key, sizeof(key))) != 0)
            return rc;
        (*ret_pruned)++;
    }
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

int authz_audit_append_bounded(cmn_store *store, uint64_t first_seq, int64_t now,
                               const authz_audit_item *items, size_t n,
                               const authz_audit_limits *lim, size_t *ret_pruned)
{
    cmn_txn *t = NULL;
    size_t pruned = 0;
    int rc = cmn_store_txn_begin(store, &t);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = audit_put(t, first_seq + i, now, items[i].rq, items[i].resp);
    if (rc == 0 && lim != NULL && n > 0)
        rc = prune(t, first_seq + n - 1, now, lim, n + AUTHZ_AUDIT_PRUNE_SLACK, &pruned);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    rc = cmn_txn_commit(t);
    if (ret_pruned != NULL)
        *ret_pruned = rc == 0 ? pruned : 0;
    return rc;
}

int authz_audit_append_many(cmn_store *store, uint64_t first_seq, int64_t now,
                            const authz_audit_item *items, size_t n)
{
    return authz_audit_append_bounded(store, first_seq, now, items, n, NULL, NULL);
}

int authz_audit_span(cmn_store *store, uint64_t *ret_oldest, uint64_t *ret_count)
{
    uint64_t last = 0, first = 0;
    int64_t when;
    int rc = oldest(NULL, store, &first, &when);

    *ret_oldest = 0;
    *ret_count = 0;
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = authz_audit_last_seq(store, &last);
    if (rc == 0 && last >= first) {
        *ret_oldest = first;
        *ret_count = last - first + 1;
    }
    return rc;
}

int authz_audit_append(cmn_store *store, uint64_t seq, int64_t now, const Tep__DecisionRequest *rq,
                       const Tep__DecisionResponse *resp)
{
    authz_audit_item it = {.rq = rq, .resp = resp};

    return authz_audit_append_many(store, seq, now, &it, 1);
}

/* ---- audit query (tepctl audit) ----------------------------------------------------- */

typedef struct {
    const authz_audit_page *q;
    Tep__AuditRecord **page; /* filled from the end: the newest match goes last */
    size_t n, seen;          /* n: matches kept; seen: records examined */
    uint64_t next;           /* the next page's bound, 0 = none */
} audit_walk;

/* 1: a stop of the walk that is not an error */
#define AUDIT_WALK_DONE 1

static bool matches(const audit_walk *w, const Tep__AuditRecord *r)
{
    const char *o = w->q->originator;

    return o == NULL || o[0] == '\0' || (r->originator != NULL && strcmp(r->originator, o) == 0);
}

/* Newest first: a match fills the page from its end; the match past a full page, or
 * the record past the scan budget, is left for the next page (bound = its seq + 1). */
static int keep_match(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    audit_walk *w = arg;
    size_t max = w->q->max ? w->q->max : 1;
    Tep__AuditRecord *r;
    uint64_t seq;

    if (klen != 8)
        return CMN_ECORRUPT;
    seq = cmn_store_key_u64(key);
    if (w->q->scan_max != 0 && w->seen == w->q->scan_max) {
        w->next = seq + 1;
        return AUDIT_WALK_DONE;
    }
    w->seen++;
    if ((r = tep__audit_record__unpack(NULL, vlen, val)) == NULL)
        return CMN_ECORRUPT;
    if (!matches(w, r)) {
        tep__audit_record__free_unpacked(r, NULL);
        return 0;
    }
    if (w->n == max) {
        tep__audit_record__free_unpacked(r, NULL);
        w->next = seq + 1;
        return AUDIT_WALK_DONE;
    }
    w->page[max - ++w->n] = r;
    return 0;
}

int authz_audit_query(cmn_store *store, const authz_audit_page *q, Tep__AuditRecord ***ret,
                      size_t *ret_n, uint64_t *ret_next)
{
    audit_walk w = {.q = q};
    size_t max = q->max ? q->max : 1;
    uint8_t before[8];
    int rc;

    *ret = NULL;
    *ret_n = 0;
    *ret_next = 0;
    if ((w.page = calloc(max, sizeof(*w.page))) == NULL)
        return CMN_ENOMEM;
    cmn_store_u64_key(q->before, before);
    rc = cmn_store_foreach_before(store, AUTHZ_AUDIT_DB, before, q->before != 0 ? 8 : 0, keep_match,
                                  &w);
    if (rc == AUDIT_WALK_DONE)
        rc = 0;
    if (rc != 0) {
        authz_audit_query_free(w.page, max);
        return rc;
    }
    /* oldest first: the matches sit at the page's end */
    memmove(w.page, w.page + (max - w.n), w.n * sizeof(*w.page));
    *ret = w.page;
    *ret_n = w.n;
    *ret_next = w.next;
    return 0;
}

void authz_audit_query_free(Tep__AuditRecord **recs, size_t n)
{
    for (size_t i = 0; recs != NULL && i < n; i++)
        if (recs[i] != NULL)
            tep__audit_record__free_unpacked(recs[i], NULL);
    free(recs);
}
