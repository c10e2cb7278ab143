/* tep-authz's event loop: one thread polls the signalfd, the decide and admin ROUTERs
 * and the two sync sockets, with a 200 ms tick for the sync retries. */
#include "authz_daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "authz_admin.h"
#include "authz_coaps.h"
#include "authz_creds.h"
#include "authz_decide.h"
#include "authz_grants.h"
#include "authz_maf.h"
#include "authz_plog.h"
#include "authz_rate.h"
#include "authz_tokens.h"
#include "cmn_bus.h"
#include "cmn_bus_peers.h"
#include "cmn_clock.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_store.h"
#include "cmn_sync.h"

#define SENDER "tep-authz"
#define TICK_MS 200
#define POLICIES_DB "policies" /* ACP copies (filled by a later issue) */
#define LOG_VALUE_MAX 128
#define AUTHZ_DECIDE_BATCH 64 /* decisions per audit transaction, at most */
#define AUTHZ_BATCH_MAX 1024  /* decisions in one DecisionBatchRequest, at most */
#define FWD_MAX 256           /* pdp: DasRequests forwarded to the writer, unanswered */
#define FWD_TTL_MS 10000      /* ... forgotten after this (the PEP gave up long before) */
#define POLICY_POLL_MS 1000   /* pdp: asks the writer's policy log at least this often */
#define PDP_SENDER "tep-authz-pdp"

/* pdp: a DasRequest forwarded to the writer, waiting for its answer. */
typedef struct {
    uint64_t id; /* request_id on the writer DEALER; 0 = free slot */
    uint64_t orig_id;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    int64_t until_ms;
} authz_fwd;

/* A decision between its evaluation and its answer (the group commit in between). */
typedef struct {
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;             /* owned until answered */
    bool is_das;                   /* a DasRequest (dreq): das is the answer */
    Tep__DecisionRequest audit_rq; /* DAS: what its audit record names (borrows in) */
    Tep__DecisionResponse resp;    /* the decision; DAS: its outcome for the audit */
    Tep__DasResponse das;
    bool limited; /* over its originator's rate: answered 5103, neither decided nor audited */
} authz_pending;

struct authz_daemon {
    const authz_config *cfg;
    const char *config_path;
    int sigfd;
    cmn_store *store;
    cmn_store *audit; /* the audit log's own environment, <data_dir>/audit */
    authz_audit_limits audit_lim;
    authz_rate rate; /* decisions per originator */
    cmn_bus *bus;
    cmn_bus_sock *decide;
    cmn_bus_sock *admin;
    cmn_bus_sock *keys;          /* MAF Key Retrieval; NULL when [bus] keys is empty */
    cmn_bus_peers *peers;        /* [bus] peers: who may retrieve for which target */
    cmn_bus_peers *admins;       /* [bus] admin_keys: who may administer */
    char peer[CMN_BUS_PEER_MAX]; /* proven CURVE key of the message being answered */
    cmn_bus_sock *maf_events;    /* KeyEvent PUB; NULL when [bus] maf_events is empty */
    cmn_sync *sync;              /* all: the enroller's log; pdp: the writer's policy log */
    cmn_bus_sock *policy_sync;   /* all: ROUTER serving the policy log; NULL when off */
    cmn_bus_sock *policy_events; /* all: PUB, a poke per policy event; NULL when off */
    cmn_bus_sock *writer;        /* pdp: DEALER to the writer's decide; NULL when off */
    authz_fwd fwd[FWD_MAX];      /* pdp: DasRequests forwarded */
    uint64_t fwd_next;
    int64_t policy_poll_ms; /* pdp: when the policy log was last asked */
    authz_grants *grants;   /* dynamic-authorization policy (grants_file) */
    authz_tokens *tokens;   /* token signing key, DAS answers */
    authz_coaps *coaps;     /* POST /token; NULL when coaps_listen is empty */
    authz_stats stats;
    authz_maf_pending revoked_certs; /* CERT_REVOKED serials of the last sync turn */
    int sync_err;                    /* last error of cmn_sync_process, logged once per change */
    bool stop;
    authz_pending batch[AUTHZ_DECIDE_BATCH]; /* decisions awaiting their group commit */
};

/* ---- start-up ----------------------------------------------------------------------- */

/* The audit log in its own bounded environment: filling it cannot stop the writes of
 * keys, tokens and credentials (and the other way round). Records of the main store's
 * old "audit" db are left where they are. */
static int open_audit(authz_daemon *d)
{
    static const char *const dbs[] = {AUTHZ_AUDIT_DB};
    char dir[4096];
    int rc;

    if ((size_t)snprintf(dir, sizeof(dir), "%s/audit", d->cfg->data_dir) >= sizeof(dir))
        return CMN_ERANGE;
    rc = cmn_store_open(dir, dbs, 1, AUTHZ_STORE_SCHEMA, (size_t)d->cfg->audit_map_kib << 10,
                        &d->audit);
    if (rc == 0)
        rc = authz_audit_last_seq(d->audit, &d->stats.audit_seq);
    d->audit_lim.max_records = (uint64_t)d->cfg->audit_max_records;
    d->audit_lim.max_age = d->cfg->audit_max_age;
    d->stats.audit_max_records = d->audit_lim.max_records;
    d->stats.audit_max_age = d->audit_lim.max_age;
    authz_rate_init(&d->rate, d->cfg->decide_rate);
    if (rc == 0)
        rc = authz_audit_span(d->audit, &d->stats.audit_oldest, &d->stats.audit_records);
    return rc;
}

static int open_store(authz_daemon *d)
{
    static const char *const dbs[] = {
        POLICIES_DB,          AUTHZ_AUDIT_DB,     AUTHZ_CREDS_DB,      AUTHZ_KE_INDEX_DB,
        CMN_SYNC_DB,          AUTHZ_TOKEN_KEY_DB, AUTHZ_REVOKED_DB,    AUTHZ_ISSUED_DB,
        AUTHZ_MAF_CLIENTS_DB, AUTHZ_MAF_KEYS_DB,  AUTHZ_MAF_LABELS_DB, AUTHZ_MAF_REVOKED_CERTS_DB,
        AUTHZ_PLOG_DB,        AUTHZ_PLOG_META_DB};
    int rc = cmn_store_open(d->cfg->data_dir, dbs, sizeof(dbs) / sizeof(dbs[0]), AUTHZ_STORE_SCHEMA,
                            0, &d->store);

    if (rc == 0)
        rc = open_audit(d);
    if (rc == 0)
        rc = authz_creds_count(d->store, &d->stats.credentials);
    if (rc != 0)
        CMN_ERR("store", "event=store_failed dir=%s err=\"%s\"", d->cfg->data_dir,
                cmn_strerror(rc));
    return rc;
}

static int open_bus(authz_daemon *d)
{
    int rc = cmn_bus_new(&d->bus);

    if (rc != 0) {
        CMN_ERR("bus", "event=bus_failed err=\"%s\"", cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    rc = cmn_bus_curve_enable(d->bus, &d->cfg->bus_curve);
    if (rc != 0) {
        CMN_ERR("bus", "event=curve_failed key=%s dir=%s err=\"%s\"", d->cfg->bus_curve.key_file,
                d->cfg->bus_curve.key_dir, cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    rc = cmn_bus_peers_new(d->cfg->bus_peers, d->cfg->bus_curve.key_dir, &d->peers);
    if (rc != 0) {
        CMN_ERR("bus", "event=peers_failed err=\"%s\"", cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    rc = cmn_bus_admin_keys_new(d->cfg->bus_admin_keys, d->cfg->bus_curve.key_dir, d->bus,
                                &d->admins);
    if (rc != 0) {
        CMN_ERR("bus", "event=admin_keys_failed err=\"%s\"", cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->decide_ep, &d->decide);
    if (rc != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->decide_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->admin_ep, &d->admin);
    if (rc != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->admin_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    if (d->cfg->pdp) {
        if (d->cfg->writer_ep[0] != '\0' &&
            (rc = cmn_bus_open(d->bus, CMN_BUS_DEALER, d->cfg->writer_ep, &d->writer)) != 0) {
            CMN_ERR("bus", "event=connect_failed endpoint=%s err=\"%s\"", d->cfg->writer_ep,
                    cmn_strerror(rc));
            return AUTHZ_EXIT_START;
        }
        return AUTHZ_EXIT_OK; /* keys, maf_events: the writer's (authz_config.c) */
    }
    if (d->cfg->policy_sync_ep[0] != '\0' &&
        (rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->policy_sync_ep, &d->policy_sync)) != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->policy_sync_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    if (d->cfg->policy_events_ep[0] != '\0' &&
        (rc = cmn_bus_open(d->bus, CMN_BUS_PUB, d->cfg->policy_events_ep, &d->policy_events)) !=
            0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->policy_events_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    if (d->cfg->keys_ep[0] != '\0' &&
        (rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->keys_ep, &d->keys)) != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->keys_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    if (d->cfg->maf_events_ep[0] != '\0' &&
        (rc = cmn_bus_open(d->bus, CMN_BUS_PUB, d->cfg->maf_events_ep, &d->maf_events)) != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->maf_events_ep,
                cmn_strerror(rc));
        return AUTHZ_EXIT_BIND;
    }
    return AUTHZ_EXIT_OK;
}

/* pdp: the writer's policy log through cmn_sync (its own store keeps the position and
 * the revoked Token-IDs). */
static int start_policy_sync(authz_daemon *d)
{
    int rc = cmn_sync_new(d->bus, d->store, d->cfg->policy_events_ep, d->cfg->policy_sync_ep,
                          d->cfg->bus_curve.name, authz_plog_apply, NULL, &d->sync);

    if (rc != 0) {
        CMN_ERR("sync", "event=sync_failed policy_events=%s policy_sync=%s err=\"%s\"",
                d->cfg->policy_events_ep, d->cfg->policy_sync_ep, cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    cmn_sync_set_reset_fn(d->sync, authz_plog_reset, NULL);
    d->stats.policy_seq = cmn_sync_last_applied(d->sync);
    d->stats.policy_age_ms = -1;
    return AUTHZ_EXIT_OK;
}

static int start_sync(authz_daemon *d)
{
    int rc;

    if (d->cfg->pdp)
        return start_policy_sync(d);
    if ((rc = authz_plog_open(d->store)) != 0 ||
        (rc = authz_plog_last(d->store, &d->stats.policy_seq)) != 0) {
        CMN_ERR("store", "event=policy_log_failed err=\"%s\"", cmn_strerror(rc));
        return AUTHZ_EXIT_STORE;
    }
    rc = cmn_sync_new(d->bus, d->store, d->cfg->events_ep, d->cfg->sync_ep, d->cfg->maf_id,
                      authz_maf_apply_sync, &d->revoked_certs, &d->sync);

    if (rc != 0) {
        CMN_ERR("sync", "event=sync_failed events=%s sync=%s err=\"%s\"", d->cfg->events_ep,
                d->cfg->sync_ep, cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    cmn_sync_set_reset_fn(d->sync, authz_creds_reset, NULL);
    d->stats.last_seq = cmn_sync_last_applied(d->sync);
    return AUTHZ_EXIT_OK;
}

/* A reason read from a file goes into a quoted log value: its double quotes become
 * single ones and control characters spaces, so the line stays one key=value line. */
static const char *quote_safe(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            *p = '\'';
        else if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    return s;
}

static int start_tokens(authz_daemon *d)
{
    authz_tokens_cfg tc = {
        .issuer = d->cfg->maf_id, .sp_id = d->cfg->sp_id, .data_dir = d->cfg->data_dir};
    const cmn_pki_files pki = {d->cfg->cert_file, d->cfg->key_file, d->cfg->ca_file};
    char why[512];
    int rc;

    if (d->cfg->pdp)
        return AUTHZ_EXIT_OK; /* no signing key, no grants, no MAF: the writer's */
    rc = authz_grants_load(d->cfg->grants_file, &d->grants, why, sizeof(why));
    if (rc != 0) {
        CMN_ERR("main", "event=grants_invalid reason=\"%s\"", quote_safe(why));
        return AUTHZ_EXIT_CONFIG;
    }
    d->stats.grants = authz_grants_count(d->grants);
    rc = authz_tokens_open(d->store, &tc, d->grants, &d->tokens);
    if (rc != 0) {
        CMN_ERR("main", "event=token_key_failed err=\"%s\"", cmn_strerror(rc));
        return AUTHZ_EXIT_START;
    }
    d->stats.token_issuer = d->cfg->maf_id;
    d->stats.token_pub = authz_tokens_pub_hex(d->tokens);
    if (d->cfg->coaps_listen[0] == '\0' &&
        (pki.cert_file[0] != '\0' || pki.key_file[0] != '\0' || pki.ca_file[0] != '\0')) {
        CMN_ERR("main", "event=pki_refused reason=no_coaps_listen msg=\"[authz] cert_file, "
                        "key_file, ca_file need coaps_listen\"");
        return AUTHZ_EXIT_CONFIG;
    }
    if (d->cfg->coaps_listen[0] == '\0')
        return AUTHZ_EXIT_OK;
    rc = authz_coaps_new(d->cfg->coaps_listen, d->cfg->psk_hint, d->cfg->maf_id, &pki, d->store,
                         d->tokens, &d->coaps);
    if (rc == CMN_ECONFIG || rc == CMN_EINVAL)
        return AUTHZ_EXIT_CONFIG; /* the PKI files (logged) */
    if (rc != 0) {
        CMN_ERR("main", "event=bind_failed coaps=%s err=\"%s\"", d->cfg->coaps_listen,
                cmn_strerror(rc));
        return rc == CMN_EIO ? AUTHZ_EXIT_BIND : AUTHZ_EXIT_START;
    }
    authz_coaps_set_key_events(d->coaps, d->maf_events);
    if ((rc = authz_coaps_set_dtls_limits(d->coaps, &d->cfg->dtls)) != 0)
        return AUTHZ_EXIT_START;
    authz_coaps_set_body_limits(d->coaps, &d->cfg->body);
    return AUTHZ_EXIT_OK;
}

int authz_daemon_start(const authz_config *cfg, const char *config_path, int sigfd,
                       authz_daemon **ret)
{
    authz_daemon *d = calloc(1, sizeof(*d));
    int rc;

    *ret = NULL;
    if (d == NULL)
        return AUTHZ_EXIT_START;
    d->cfg = cfg;
    d->config_path = config_path;
    d->sigfd = sigfd;
    d->stats.authz_role = cfg->pdp ? "pdp" : "all";
    rc = open_store(d) != 0 ? AUTHZ_EXIT_STORE : AUTHZ_EXIT_OK;
    if (rc == AUTHZ_EXIT_OK)
        rc = open_bus(d);
    if (rc == AUTHZ_EXIT_OK)
        rc = start_tokens(d);
    if (rc == AUTHZ_EXIT_OK)
        rc = start_sync(d);
    if (rc != AUTHZ_EXIT_OK) {
        authz_daemon_free(d);
        return rc;
    }
    *ret = d;
    return AUTHZ_EXIT_OK;
}

void authz_daemon_free(authz_daemon *d)
{
    if (d == NULL)
        return;
    cmn_sync_free(d->sync);
    authz_coaps_free(d->coaps);
    authz_tokens_free(d->tokens);
    authz_grants_free(d->grants);
    cmn_bus_close(d->decide);
    cmn_bus_close(d->admin);
    cmn_bus_close(d->keys);
    cmn_bus_close(d->maf_events);
    cmn_bus_close(d->policy_sync);
    cmn_bus_close(d->policy_events);
    cmn_bus_close(d->writer);
    cmn_bus_free(d->bus);
    cmn_bus_peers_free(d->peers);
    cmn_bus_peers_free(d->admins);
    cmn_store_close(d->store);
    cmn_store_close(d->audit);
    authz_maf_pending_clear(&d->revoked_certs);
    free(d);
}

/* ---- decide ------------------------------------------------------------------------- */

static void log_decision(const Tep__DecisionRequest *rq, const Tep__DecisionResponse *resp,
                         uint64_t seq)
{
    char orig[LOG_VALUE_MAX], target[LOG_VALUE_MAX];

    if (!resp->permit || cmn_log_get_level() >= CMN_LOG_DEBUG)
        cmn_log_write(resp->permit ? CMN_LOG_DEBUG : CMN_LOG_INFO, "decide",
                      "event=decision originator=%s target=%s op=%u permit=%d rsc=%u "
                      "rule=\"%s\" audit_seq=%llu",
                      cmn_log_value(rq->originator, orig, sizeof(orig)),
                      cmn_log_value(rq->target, target, sizeof(target)), rq->op, resp->permit,
                      resp->rsc, resp->rule, (unsigned long long)seq);
}

static void reply(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, Tep__Envelope *out)
{
    int rc = cmn_bus_send(s, ident, ilen, out);

    if (rc != 0)
        CMN_WARN("bus", "event=reply_failed err=\"%s\"", cmn_strerror(rc));
}

static void reply_error(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, const Tep__Envelope *in,
                        const char *msg)
{
    Tep__Envelope out;
    Tep__Error e = TEP__ERROR__INIT;

    CMN_WARN("bus", "event=bad_request body=%d reason=\"%s\"", (int)in->body_case, msg);
    cmn_bus_env_init(&out, SENDER, in->request_id);
    e.err = CMN_EPROTO;
    e.message = (char *)msg;
    out.body_case = TEP__ENVELOPE__BODY_ERROR;
    out.error = &e;
    reply(s, ident, ilen, &out);
}

static bool token_revoked(const char *tkid, void *arg)
{
    return authz_tokens_is_revoked(arg, tkid);
}

/* pdp: a copy of the revocations older than policy_max_lag_ms proves nothing. */
static bool token_unverifiable(const char *tkid, void *arg)
{
    (void)tkid;
    (void)arg;
    return true;
}

/* pdp: the policy log answered (caught up) within policy_max_lag_ms. */
static bool policy_fresh(const authz_daemon *d, int64_t now_ms)
{
    int64_t at = cmn_sync_answered_ms(d->sync);

    return at != 0 && now_ms - at <= d->cfg->policy_max_lag_ms;
}

/* Direct flow (TS-0003 7.3.2.2): the DAS answer, audited like a decision. */
static void decide_das(authz_daemon *d, authz_pending *p)
{
    const Tep__DasRequest *rq = p->in->das_req;

    if (authz_tokens_das(d->tokens, rq, (int64_t)time(NULL), &p->das) != 0)
        p->das.granted = false; /* fail closed */
    tep__decision_request__init(&p->audit_rq);
    p->audit_rq.originator = rq->orig;
    p->audit_rq.target = rq->trid;
    p->audit_rq.op = rq->op;
    tep__decision_response__init(&p->resp);
    /* A tids look-up is answered (permit) when every token was found. */
    p->resp.permit = p->das.granted || (rq->n_tids > 0 && p->das.n_tkns == rq->n_tids);
    p->resp.rsc = p->resp.permit ? 2000 : 4103;
    p->resp.rule = p->das.rule != NULL ? p->das.rule : "das: error";
}

/* One DecisionRequest into resp: its originator's rate first (over it: 5103, neither
 * decided nor audited: returns true), then the rule set and dynamic authorization. */
static bool decide_rq(authz_daemon *d, const Tep__DecisionRequest *rq, Tep__DecisionResponse *resp)
{
    if (!authz_rate_take(&d->rate, rq->originator, cmn_mono_ms())) {
        char orig[LOG_VALUE_MAX];

        tep__decision_response__init(resp);
        resp->rsc = 5103; /* busy: TARGET_NOT_REACHABLE, as tep-cse sheds */
        resp->rule = strdup("rate_limited");
        d->stats.rate_limited++;
        if ((d->stats.rate_limited & (d->stats.rate_limited - 1)) == 0) /* 1, 2, 4, ... */
            CMN_WARN("decide",
                     "event=decisions_rate_limited originator=%s rate=%ld "
                     "rate_limited=%llu",
                     cmn_log_value(rq->originator, orig, sizeof(orig)), d->cfg->decide_rate,
                     (unsigned long long)d->stats.rate_limited);
        return true;
    }
    if (d->cfg->pdp && rq->n_token_acp_json > 0 && !policy_fresh(d, cmn_mono_ms())) {
        /* fail closed: no token permits on a stale copy of the writer's revocations */
        if (authz_decide_dynamic(rq, token_unverifiable, NULL, resp) != 0)
            CMN_ERR("decide", "event=decide_failed err=\"%s\"", cmn_strerror(CMN_ENOMEM));
        if (!resp->permit && resp->rule != NULL && strcmp(resp->rule, "token revoked") == 0) {
            authz_decide_clear(resp);
            resp->rule = strdup("policy_stale: revocations not current");
        }
        return false;
    }
    if (authz_decide_dynamic(rq, token_revoked, d->store, resp) != 0)
        CMN_ERR("decide", "event=decide_failed err=\"%s\"", cmn_strerror(CMN_ENOMEM));
    return false;
}

/* Decides one request into p (its answer waits for the group commit). false: not a
 * decide or DAS request (answered with an error at once). */
static bool decide_one(authz_daemon *d, authz_pending *p)
{
    const Tep__Envelope *in = p->in;

    p->is_das = in->body_case == TEP__ENVELOPE__BODY_DAS_REQ && in->das_req != NULL;
    if (p->is_das) {
        decide_das(d, p);
        return true;
    }
    if (in->body_case != TEP__ENVELOPE__BODY_DECIDE_REQ || in->decide_req == NULL) {
        reply_error(d->decide, p->ident, p->ilen, in, "expected a DecisionRequest or DasRequest");
        return false;
    }
    p->limited = decide_rq(d, in->decide_req, &p->resp);
    return true;
}

static const Tep__DecisionRequest *audited_rq(const authz_pending *p)
{
    return p->is_das ? &p->audit_rq : p->in->decide_req;
}

/* A permit that could not be recorded becomes a Deny (fail closed). */
static void deny_unrecorded(Tep__DecisionResponse *resp)
{
    if (!resp->permit)
        return;
    authz_decide_clear(resp);
    resp->rule = strdup("audit_unavailable");
    resp->permit = false;
    resp->rsc = 4103;
}

static void unrecorded_deny(authz_pending *p)
{
    static char rule[] = "audit_unavailable";

    if (!p->resp.permit)
        return;
    if (!p->is_das) {
        deny_unrecorded(&p->resp);
        return;
    }
    p->das.granted = false;
    p->resp.rule = rule; /* borrowed (a DAS's resp.rule is never freed) */
    p->resp.permit = false;
    p->resp.rsc = 4103;
}

/* The group commit: every decision of the batch in one LMDB transaction (one fsync) of
 * the audit environment, the oldest records beyond the retention pruned in the same
 * one. A failed commit (the audit map full, a disk error) leaves the batch unrecorded:
 * its permits are answered as Deny (rule "audit_unavailable"), its denials stand. */
static int audit_commit(authz_daemon *d, const authz_audit_item *items, size_t m,
                        uint64_t *ret_first)
{
    uint64_t first = d->stats.audit_seq + 1;
    size_t pruned = 0;
    int rc = m == 0 ? 0
                    : authz_audit_append_bounded(d->audit, first, (int64_t)time(NULL), items, m,
                                                 &d->audit_lim, &pruned);

    if (rc != 0) {
        CMN_ERR("decide", "event=audit_failed decisions=%zu err=\"%s\" permits=denied", m,
                cmn_strerror(rc));
        d->stats.audit_failures += m;
    } else if (m > 0) {
        d->stats.audit_seq += m;
        if (d->stats.audit_oldest == 0)
            d->stats.audit_oldest = first;
        d->stats.audit_oldest += pruned;
        d->stats.audit_records = d->stats.audit_seq - d->stats.audit_oldest + 1;
    }
    *ret_first = rc == 0 ? first : 0;
    return rc;
}

/* Each decision logged (seq 0: not recorded), with its final answer. */
static void log_decisions(authz_daemon *d, const authz_audit_item *items, size_t m, uint64_t first)
{
    for (size_t i = 0; i < m; i++)
        log_decision(items[i].rq, items[i].resp, first != 0 ? first + i : 0);
}

static void count_decision(authz_daemon *d, const Tep__DecisionResponse *resp)
{
    d->stats.decisions++;
    if (!resp->permit)
        d->stats.denials++;
}

static void record_batch(authz_daemon *d, authz_pending *batch, size_t n)
{
    authz_audit_item items[AUTHZ_DECIDE_BATCH];
    uint64_t first;
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        if (!batch[i].limited)
            items[m++] = (authz_audit_item){.rq = audited_rq(&batch[i]), .resp = &batch[i].resp};
    if (audit_commit(d, items, m, &first) != 0)
        for (size_t i = 0; i < n; i++)
            unrecorded_deny(&batch[i]);
    for (size_t i = 0; i < n; i++)
        count_decision(d, &batch[i].resp);
    log_decisions(d, items, m, first);
}

static void answer_one(authz_daemon *d, authz_pending *p)
{
    Tep__Envelope out;

    cmn_bus_env_init(&out, SENDER, p->in->request_id);
    if (p->is_das) {
        out.body_case = TEP__ENVELOPE__BODY_DAS_RESP;
        out.das_resp = &p->das;
    } else {
        out.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
        out.decide_resp = &p->resp;
    }
    reply(d->decide, p->ident, p->ilen, &out);
    if (p->is_das)
        authz_tokens_das_clear(&p->das);
    else
        authz_decide_clear(&p->resp);
    cmn_bus_env_free(p->in);
    p->in = NULL;
}

/* Recorded before answered: the batch is committed, then every answer is sent. */
static void flush_batch(authz_daemon *d, authz_pending *batch, size_t n)
{
    if (n == 0)
        return;
    record_batch(d, batch, n);
    for (size_t i = 0; i < n; i++)
        answer_one(d, &batch[i]);
}

/* A DecisionBatchRequest (the questions of one pass of tep-cse: a discovery's
 * candidates): each decided as if sent alone (its originator's rate included), all
 * recorded in one audit transaction, then answered in one DecisionBatchResponse in the
 * same order; an unrecorded permit is a Deny, as in record_batch. */
static void serve_decision_batch(authz_daemon *d, const uint8_t *ident, size_t ilen,
                                 const Tep__Envelope *in)
{
    const Tep__DecisionBatchRequest *b = in->decide_batch_req;
    size_t n = b->n_decisions, m = 0;
    Tep__DecisionResponse *resp = calloc(n ? n : 1, sizeof(*resp));
    Tep__DecisionResponse **rp = calloc(n ? n : 1, sizeof(*rp));
    authz_audit_item *items = calloc(n ? n : 1, sizeof(*items));
    Tep__DecisionBatchResponse out_b = TEP__DECISION_BATCH_RESPONSE__INIT;
    Tep__Envelope out;
    uint64_t first;

    if (n == 0 || n > AUTHZ_BATCH_MAX || resp == NULL || rp == NULL || items == NULL) {
        reply_error(d->decide, ident, ilen, in,
                    n == 0 || n > AUTHZ_BATCH_MAX ? "a batch holds 1 to 1024 decisions"
                                                  : "out of memory");
        goto out;
    }
    d->stats.decide_batches++;
    for (size_t i = 0; i < n; i++) {
        rp[i] = &resp[i];
        tep__decision_response__init(&resp[i]);
        if (!decide_rq(d, b->decisions[i], &resp[i]))
            items[m++] = (authz_audit_item){.rq = b->decisions[i], .resp = &resp[i]};
    }
    if (audit_commit(d, items, m, &first) != 0) {
        for (size_t i = 0; i < n; i++)
            deny_unrecorded(&resp[i]); /* a rate-limited one is no permit */
    }
    for (size_t i = 0; i < n; i++)
        count_decision(d, &resp[i]);
    log_decisions(d, items, m, first);
    out_b.n_decisions = n;
    out_b.decisions = rp;
    cmn_bus_env_init(&out, SENDER, in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_DECIDE_BATCH_RESP;
    out.decide_batch_resp = &out_b;
    reply(d->decide, ident, ilen, &out);
    for (size_t i = 0; i < n; i++)
        authz_decide_clear(&resp[i]);
out:
    free(items);
    free(rp);
    free(resp);
}

/* ---- pdp: DasRequests forwarded to the writer ---------------------------------------- */

/* The writer answers a dreq (grants, issued tokens, its audit): the replica passes it on
 * under a request_id of its own and relays the answer. No writer, or too many waiting:
 * an Error, which the PEP takes as a Deny. */
static void forward_das(authz_daemon *d, const uint8_t *ident, size_t ilen, Tep__Envelope *in)
{
    authz_fwd *f = NULL;
    int64_t now = cmn_mono_ms();
    int rc;

    for (size_t i = 0; i < FWD_MAX && d->writer != NULL; i++) {
        if (d->fwd[i].id == 0 || d->fwd[i].until_ms <= now) {
            f = &d->fwd[i];
            break;
        }
    }
    if (f == NULL) {
        reply_error(d->decide, ident, ilen, in,
                    d->writer == NULL ? "no writer: DAS is off on this replica"
                                      : "too many DAS requests waiting for the writer");
        return;
    }
    f->orig_id = in->request_id;
    f->id = ++d->fwd_next;
    memcpy(f->ident, ident, ilen);
    f->ilen = ilen;
    f->until_ms = now + FWD_TTL_MS;
    in->request_id = f->id;
    rc = cmn_bus_send(d->writer, NULL, 0, in);
    in->request_id = f->orig_id;
    if (rc != 0) {
        f->id = 0;
        reply_error(d->decide, ident, ilen, in, "the writer is unreachable");
        return;
    }
    d->stats.das_forwarded++;
}

/* The writer's answers, relayed to the PEP that asked (late ones dropped). */
static void serve_writer(authz_daemon *d)
{
    Tep__Envelope *env = NULL;
    int rc;

    while (d->writer != NULL && (rc = cmn_bus_recv(d->writer, NULL, NULL, &env)) != CMN_EAGAIN) {
        if (rc != 0) {
            if (rc != CMN_ECORRUPT)
                break;
            continue;
        }
        for (size_t i = 0; i < FWD_MAX; i++) {
            authz_fwd *f = &d->fwd[i];
            if (f->id == 0 || f->id != env->request_id)
                continue;
            env->request_id = f->orig_id;
            reply(d->decide, f->ident, f->ilen, env);
            f->id = 0;
            break;
        }
        cmn_bus_env_free(env);
        env = NULL;
    }
}

/* Receives and decides up to AUTHZ_DECIDE_BATCH requests into batch: those waiting now.
 * Undecodable messages are dropped. Returns how many wait for their answer. */
static size_t collect_batch(authz_daemon *d, authz_pending *batch)
{
    size_t n = 0;

    while (n < AUTHZ_DECIDE_BATCH) {
        authz_pending *p = &batch[n];
        int rc = cmn_bus_recv(d->decide, p->ident, &p->ilen, &p->in);

        if (rc == CMN_EAGAIN)
            break;
        if (rc != 0) {
            CMN_WARN("bus", "event=message_dropped socket=decide err=\"%s\"", cmn_strerror(rc));
            if (rc == CMN_ECORRUPT)
                continue;
            break;
        }
        d->stats.decide_messages++;
        if (p->in->body_case == TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ &&
            p->in->decide_batch_req != NULL) { /* decided, recorded, answered on its own */
            serve_decision_batch(d, p->ident, p->ilen, p->in);
            cmn_bus_env_free(p->in);
            p->in = NULL;
            continue;
        }
        if (d->cfg->pdp && p->in->body_case == TEP__ENVELOPE__BODY_DAS_REQ) {
            forward_das(d, p->ident, p->ilen, p->in);
            cmn_bus_env_free(p->in);
            p->in = NULL;
            continue;
        }
        if (!decide_one(d, p)) { /* answered with an error already */
            cmn_bus_env_free(p->in);
            p->in = NULL;
            continue;
        }
        n++;
    }
    return n;
}

/* Drains the decide ROUTER: the requests of this poll turn are decided, recorded in one
 * transaction (per AUTHZ_DECIDE_BATCH), then answered. It ends on an empty receive, not
 * on a send: the ROUTER's ZMQ_FD is edge-like and a send may swallow the edge. */
static void serve_decide(authz_daemon *d)
{
    size_t n;

    do {
        n = collect_batch(d, d->batch);
        flush_batch(d, d->batch, n);
    } while (n > 0);
}

/* ---- MAF Key Retrieval (TS-0003 8.8.2.6) ------------------------------------------ */

/* The requester names itself (target_id). With [bus] peers, that must be the identity
 * its CURVE key is bound to, else it gets nothing (CMN_EDENIED); without, the bus is the
 * trust boundary (the one-host platform: docs/internals.md "Authenticated credential
 * hand-off"). */
static bool keys_requester_ok(const authz_daemon *d, const char *target, const char *key_id,
                              const char *safe_target)
{
    const char *bound = NULL;

    if (cmn_bus_peers_count(d->peers) == 0 ||
        cmn_bus_peers_check(d->peers, d->peer, target, &bound) == 0)
        return true;
    CMN_WARN("maf",
             "event=maf_key_retrieval_refused key_id=%s target=%s bound=%s "
             "peer_key=%.8s reason=\"not the authenticated target\"",
             key_id, safe_target, bound ? bound : "none", d->peer[0] ? d->peer : "none");
    return false;
}

static void answer_keys(authz_daemon *d, const uint8_t *ident, size_t ilen, const Tep__Envelope *in)
{
    const Tep__KeyRequest *rq = in->key_req;
    Tep__KeyResponse resp = TEP__KEY_RESPONSE__INIT;
    Tep__Credential *cred = NULL;
    char key_id[LOG_VALUE_MAX], target[LOG_VALUE_MAX];
    Tep__Envelope out;

    if (in->body_case != TEP__ENVELOPE__BODY_KEY_REQ || rq == NULL) {
        reply_error(d->keys, ident, ilen, in, "expected a KeyRequest");
        return;
    }
    cmn_log_value(rq->key_id, key_id, sizeof(key_id));
    cmn_log_value(rq->target_id, target, sizeof(target));
    if (!keys_requester_ok(d, rq->target_id, key_id, target)) {
        resp.err = CMN_EDENIED;
        goto answer;
    }
    resp.err = authz_maf_retrieve(d->store, rq->key_id, rq->target_id, (int64_t)time(NULL), &cred);
    if (resp.err == 0)
        CMN_INFO("maf", "event=maf_key_retrieved key_id=%s target=%s source=%s", key_id, target,
                 cred->enrolee_id);
    else
        CMN_WARN("maf", "event=maf_key_retrieval_refused key_id=%s target=%s reason=\"%s\"", key_id,
                 target, resp.err == CMN_EDENIED ? "not a target" : cmn_strerror(resp.err));
answer:
    resp.credential = cred;
    cmn_bus_env_init(&out, SENDER, in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_KEY_RESP;
    out.key_resp = &resp;
    reply(d->keys, ident, ilen, &out);
    authz_maf_credential_free(cred);
}

/* ---- the policy log, served to PDP replicas (writer) ------------------------------- */

static void answer_policy_sync(authz_daemon *d, const uint8_t *ident, size_t ilen,
                               const Tep__Envelope *in)
{
    Tep__SyncResponse resp = TEP__SYNC_RESPONSE__INIT;
    Tep__Envelope out;
    int rc;

    if (in->body_case != TEP__ENVELOPE__BODY_SYNC_REQ || in->sync_req == NULL) {
        reply_error(d->policy_sync, ident, ilen, in, "expected a SyncRequest");
        return;
    }
    rc = authz_plog_answer(d->store, in->sync_req, &resp);
    cmn_bus_env_init(&out, SENDER, in->request_id);
    if (rc != 0) {
        authz_plog_answer_clear(&resp);
        CMN_WARN("plog", "event=policy_sync_failed err=\"%s\"", cmn_strerror(rc));
        reply_error(d->policy_sync, ident, ilen, in, "policy log unreadable");
        return;
    }
    out.body_case = TEP__ENVELOPE__BODY_SYNC_RESP;
    out.sync_resp = &resp;
    reply(d->policy_sync, ident, ilen, &out);
    authz_plog_answer_clear(&resp);
}

/* ---- admin -------------------------------------------------------------------------- */

#define AUDIT_DEFAULT_LAST 20
#define AUDIT_MAX_LAST 1000 /* records an answer (tepctl audit pages beyond) */
/* Records one AUDIT_QUERY answer examines at most (a sparse originator in a large log):
 * the admin socket shares the loop with the decisions, so a page's work is bounded;
 * the answer then says where to go on (audit_next_before). */
#define AUDIT_SCAN_MAX 100000

/* MAF_KEY_REVOKE: operator revocation, as a de-registration by the source: committed,
 * then published as revoked on maf_events. */
static int revoke_maf_key(authz_daemon *d, const char *key_id)
{
    char safe[LOG_VALUE_MAX];
    int rc = authz_maf_revoke(d->store, key_id, (int64_t)time(NULL));

    cmn_log_value(key_id, safe, sizeof(safe));
    if (rc != 0) {
        CMN_WARN("admin", "event=maf_key_revoke_failed key_id=%s err=\"%s\"", safe,
                 cmn_strerror(rc));
        return rc;
    }
    CMN_INFO("admin", "event=maf_key_revoked key_id=%s by=operator", safe);
    if (d->maf_events != NULL && authz_maf_publish(d->maf_events, d->store, key_id, SENDER) != 0)
        CMN_WARN("admin", "event=maf_key_event_failed key_id=%s", safe);
    return 0;
}

/* TOKEN_REVOKE at the writer: the revocation and its policy-log event in one commit,
 * then a poke to the replicas (a lost poke: they poll, see sync_step). */
static int revoke_token(authz_daemon *d, const char *tkid)
{
    Tep__Event *ev = NULL;
    int rc = authz_plog_revoke(d->store, tkid, (int64_t)time(NULL), &ev);

    if (rc != 0)
        return rc;
    CMN_INFO("admin", "event=token_revoked tkid=%s policy_seq=%llu", tkid,
             ev != NULL ? (unsigned long long)ev->seq : 0ULL);
    if (ev != NULL) {
        d->stats.policy_seq = ev->seq;
        if (d->policy_events != NULL) {
            Tep__Envelope out;

            cmn_bus_env_init(&out, SENDER, 0);
            out.body_case = TEP__ENVELOPE__BODY_EVENT;
            out.event = ev;
            if (cmn_bus_send(d->policy_events, NULL, 0, &out) != 0)
                CMN_WARN("plog", "event=policy_poke_failed seq=%llu", (unsigned long long)ev->seq);
        }
        tep__event__free_unpacked(ev, NULL);
    }
    return 0;
}

/* AUDIT_QUERY, TOKEN_REVOKE, MAF_KEY_LIST and MAF_KEY_REVOKE (they read or write the
 * store). false: not one of them. */
static bool answer_admin_store(authz_daemon *d, const uint8_t *ident, size_t ilen,
                               const Tep__Envelope *in)
{
    const Tep__AdminRequest *rq = in->admin_req;
    Tep__AdminResponse resp = TEP__ADMIN_RESPONSE__INIT;
    Tep__Envelope out;
    size_t last = rq->audit_last ? rq->audit_last : AUDIT_DEFAULT_LAST;
    authz_audit_page page = {.originator = rq->audit_originator,
                             .before = rq->audit_before_seq,
                             .max = last > AUDIT_MAX_LAST ? AUDIT_MAX_LAST : last,
                             .scan_max = AUDIT_SCAN_MAX};

    if (rq->op == TEP__ADMIN_REQUEST__OP__AUDIT_QUERY) {
        resp.err =
            authz_audit_query(d->audit, &page, &resp.audit, &resp.n_audit, &resp.audit_next_before);
    } else if (d->cfg->pdp && (rq->op == TEP__ADMIN_REQUEST__OP__TOKEN_REVOKE ||
                               rq->op == TEP__ADMIN_REQUEST__OP__MAF_KEY_REVOKE)) {
        resp.err = CMN_ESTATE;
        resp.message = (char *)"a PDP replica: revoke at the writer (role = all)";
    } else if (rq->op == TEP__ADMIN_REQUEST__OP__TOKEN_REVOKE) {
        resp.err = revoke_token(d, rq->token_id);
    } else if (rq->op == TEP__ADMIN_REQUEST__OP__MAF_KEY_LIST) {
        resp.err = authz_maf_list(d->store, &resp.maf_keys, &resp.n_maf_keys);
    } else if (rq->op == TEP__ADMIN_REQUEST__OP__MAF_KEY_REVOKE) {
        resp.err = revoke_maf_key(d, rq->maf_key_id);
    } else {
        return false;
    }
    if (resp.err != 0 && resp.message == NULL)
        resp.message = (char *)cmn_strerror(resp.err);
    cmn_bus_env_init(&out, SENDER, in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    out.admin_resp = &resp;
    reply(d->admin, ident, ilen, &out);
    authz_audit_query_free(resp.audit, resp.n_audit);
    authz_maf_list_free(resp.maf_keys, resp.n_maf_keys);
    return true;
}

static void answer_admin(authz_daemon *d, const uint8_t *ident, size_t ilen,
                         const Tep__Envelope *in)
{
    Tep__Envelope out;
    authz_admin_reply r;
    size_t active;

    if (in->body_case != TEP__ENVELOPE__BODY_ADMIN_REQ || in->admin_req == NULL) {
        reply_error(d->admin, ident, ilen, in, "expected an AdminRequest");
        return;
    }
    if (!cmn_bus_admin_allowed(d->admins, d->peer, in->admin_req->op, "admin")) {
        Tep__Error e = TEP__ERROR__INIT;

        cmn_bus_env_init(&out, SENDER, in->request_id);
        e.err = CMN_EDENIED;
        e.message = "not a key allowed to administer ([bus] admin_keys)";
        out.body_case = TEP__ENVELOPE__BODY_ERROR;
        out.error = &e;
        reply(d->admin, ident, ilen, &out);
        return;
    }
    if (answer_admin_store(d, ident, ilen, in))
        return;
    if (authz_creds_count(d->store, &active) == 0)
        d->stats.credentials = active;
    if (authz_maf_count_keys(d->store, (int64_t)time(NULL), &active) == 0)
        d->stats.maf_keys = active;
    if (!d->cfg->pdp)
        d->stats.last_seq = cmn_sync_last_applied(d->sync);
    d->stats.has_dtls = d->coaps != NULL;
    if (d->coaps != NULL)
        authz_coaps_dtls_stats(d->coaps, &d->stats.dtls);
    authz_admin_answer(in->admin_req, &d->stats, &r);
    cmn_bus_env_init(&out, SENDER, in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    out.admin_resp = &r.resp;
    reply(d->admin, ident, ilen, &out);
}

/* ---- loop --------------------------------------------------------------------------- */

typedef void (*answer_fn)(authz_daemon *d, const uint8_t *ident, size_t ilen,
                          const Tep__Envelope *in);

/* Drains a ROUTER (its ZMQ_FD is edge-like). Undecodable messages are dropped. */
static void serve(authz_daemon *d, cmn_bus_sock *s, const char *name, answer_fn fn)
{
    for (;;) {
        uint8_t ident[CMN_BUS_IDENT_MAX];
        size_t ilen = 0;
        Tep__Envelope *in = NULL;
        int rc = cmn_bus_recv_peer(s, ident, &ilen, d->peer, &in);

        if (rc == CMN_EAGAIN)
            return;
        if (rc != 0) {
            CMN_WARN("bus", "event=message_dropped socket=%s err=\"%s\"", name, cmn_strerror(rc));
            if (rc == CMN_ECORRUPT)
                continue;
            return;
        }
        fn(d, ident, ilen, in);
        cmn_bus_env_free(in);
    }
}

/* The new grants replace the old only when they are valid. The file's path is the one
 * given at start: a changed grants_file needs a restart. */
static void reload_grants(authz_daemon *d, const char *path)
{
    authz_grants *g = NULL;
    char why[512];

    if (strcmp(path, d->cfg->grants_file) != 0)
        CMN_WARN("main", "event=reload_partial reason=\"grants_file changed: restart\"");
    if (authz_grants_load(d->cfg->grants_file, &g, why, sizeof(why)) != 0) {
        CMN_WARN("main", "event=grants_invalid reason=\"%s\" kept=old", quote_safe(why));
        return;
    }
    authz_tokens_set_grants(d->tokens, g);
    authz_grants_free(d->grants);
    d->grants = g;
    d->stats.grants = authz_grants_count(g);
}

static void reload(authz_daemon *d)
{
    authz_config fresh;
    char err[256];

    if (authz_config_load(d->config_path, &fresh, err, sizeof(err)) != 0) {
        CMN_WARN("main", "event=reload_failed reason=\"%s\"", quote_safe(err));
        return;
    }
    cmn_log_set_level(fresh.level);
    if (!d->cfg->pdp)
        reload_grants(d, fresh.grants_file);
    CMN_INFO("main", "event=reloaded log_level=%s grants=%zu", fresh.log_level, d->stats.grants);
    authz_config_free(&fresh);
}

static void handle_signals(authz_daemon *d)
{
    struct signalfd_siginfo si;

    while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reload(d);
        else
            d->stop = true;
    }
}

/* TS-0003 10.7: the keys registered with a certificate revoked on its own are revoked
 * (committed) and announced revoked, so their targets drop them and close their
 * sessions. The serials come from the sync turn just applied. */
static void revoke_cert_keys(authz_daemon *d)
{
    for (size_t i = 0; i < d->revoked_certs.n; i++) {
        const char *serial = d->revoked_certs.serials[i];
        char **ids = NULL;
        size_t n = 0;
        int rc = authz_maf_revoke_cert(d->store, serial, (int64_t)time(NULL), &ids, &n);

        if (rc != 0)
            CMN_ERR("maf", "event=maf_key_revoke_failed cert=%s err=\"%s\"", serial,
                    cmn_strerror(rc)); /* retrieval refuses them all the same */
        for (size_t j = 0; j < n; j++) {
            CMN_INFO("maf", "event=maf_key_revoked key_id=%s by=cert_revoked cert=%s", ids[j],
                     serial);
            if (d->maf_events != NULL &&
                authz_maf_publish(d->maf_events, d->store, ids[j], SENDER) != 0)
                CMN_WARN("maf", "event=maf_key_event_failed key_id=%s", ids[j]);
            free(ids[j]);
        }
        free(ids);
    }
    authz_maf_pending_clear(&d->revoked_certs);
}

static void sync_step(authz_daemon *d)
{
    int64_t now = cmn_mono_ms();
    int rc;

    if (d->cfg->pdp && now - d->policy_poll_ms >= POLICY_POLL_MS) {
        cmn_sync_poll(d->sync); /* the freshness policy_max_lag_ms asks for */
        d->policy_poll_ms = now;
    }
    rc = cmn_sync_process(d->sync, now);
    if (d->cfg->pdp) {
        int64_t at = cmn_sync_answered_ms(d->sync);

        d->stats.policy_seq = cmn_sync_last_applied(d->sync);
        d->stats.policy_age_ms = at != 0 ? now - at : -1;
    }
    revoke_cert_keys(d);
    if (rc != d->sync_err && rc != 0)
        CMN_WARN("sync", "event=sync_error err=\"%s\"", cmn_strerror(rc));
    else if (rc != d->sync_err)
        CMN_INFO("sync", "event=sync_ok last_seq=%llu",
                 (unsigned long long)cmn_sync_last_applied(d->sync));
    d->sync_err = rc;
}

int authz_daemon_run(authz_daemon *d)
{
    unsigned coap_wait = TICK_MS;

    if (d->cfg->pdp)
        CMN_INFO("main",
                 "event=ready role=pdp decide=%s admin=%s policy_events=%s policy_sync=%s "
                 "writer=%s",
                 d->cfg->decide_ep, d->cfg->admin_ep, d->cfg->policy_events_ep,
                 d->cfg->policy_sync_ep, d->writer != NULL ? d->cfg->writer_ep : "off");
    else
        CMN_INFO("main",
                 "event=ready role=all decide=%s admin=%s events=%s sync=%s maf_id=%s coaps=%s "
                 "keys=%s policy_sync=%s",
                 d->cfg->decide_ep, d->cfg->admin_ep, d->cfg->events_ep, d->cfg->sync_ep,
                 d->cfg->maf_id, d->coaps != NULL ? d->cfg->coaps_listen : "off",
                 d->keys != NULL ? d->cfg->keys_ep : "off",
                 d->policy_sync != NULL ? d->cfg->policy_sync_ep : "off");
    while (!d->stop) {
        int sync_fds[2];
        struct pollfd pfd[9];
        int wait = coap_wait < TICK_MS ? (int)coap_wait : TICK_MS;

        cmn_sync_fds(d->sync, sync_fds); /* the DEALER's fd changes when rebuilt */
        pfd[0] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = cmn_bus_fd(d->decide), .events = POLLIN};
        pfd[2] = (struct pollfd){.fd = cmn_bus_fd(d->admin), .events = POLLIN};
        pfd[3] = (struct pollfd){.fd = sync_fds[0], .events = POLLIN};
        pfd[4] = (struct pollfd){.fd = sync_fds[1], .events = POLLIN};
        pfd[5] = (struct pollfd){.fd = d->coaps != NULL ? authz_coaps_fd(d->coaps) : -1,
                                 .events = POLLIN};
        pfd[6] =
            (struct pollfd){.fd = d->keys != NULL ? cmn_bus_fd(d->keys) : -1, .events = POLLIN};
        pfd[7] = (struct pollfd){.fd = d->policy_sync != NULL ? cmn_bus_fd(d->policy_sync) : -1,
                                 .events = POLLIN};
        pfd[8] =
            (struct pollfd){.fd = d->writer != NULL ? cmn_bus_fd(d->writer) : -1, .events = POLLIN};
        if (poll(pfd, 9, wait) < 0 && errno != EINTR) {
            CMN_ERR("main", "event=poll_failed errno=%d", errno);
            return AUTHZ_EXIT_START;
        }
        if (pfd[0].revents & POLLIN)
            handle_signals(d);
        serve_decide(d);
        serve(d, d->admin, "admin", answer_admin);
        if (d->keys != NULL)
            serve(d, d->keys, "keys", answer_keys);
        if (d->policy_sync != NULL)
            serve(d, d->policy_sync, "policy_sync", answer_policy_sync);
        serve_writer(d);
        sync_step(d);
        if (d->coaps != NULL)
            coap_wait = authz_coaps_process(d->coaps);
    }
    CMN_INFO("main", "event=stopping decisions=%llu denials=%llu",
             (unsigned long long)d->stats.decisions, (unsigned long long)d->stats.denials);
    return AUTHZ_EXIT_OK;
}
