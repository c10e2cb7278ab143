/* Bus sockets of tep-enroller: publishing events, answering sync and admin. */
#include "enr_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmn_bus.h"
#include "cmn_bus_peers.h"
#include "cmn_config.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "enr_admin.h"
#include "enr_sync.h"

#define SUB "bus"
#define SENDER "tep-enroller"

struct enr_bus {
    const enr_config *cfg;
    cmn_bus_peers *peers;  /* [bus] peers; no binding: the one-host platform */
    cmn_bus_peers *admins; /* [bus] admin_keys; none: ipc:// admin (cmn_bus_admin_allowed) */
    cmn_store *store;
    cmn_bus *bus;
    cmn_bus_sock *pub, *sync, *admin;
    enr_events *queue; /* committed, not yet published */
    size_t nqueue;
    const enr_coap *coap; /* borrowed: DTLS counters for STATUS */
};

void enr_bus_set_coap(enr_bus *b, const enr_coap *coap)
{
    b->coap = coap;
}

/* ---- opening ------------------------------------------------------------------------ */

static int open_one(enr_bus *b, cmn_bus_kind kind, const char *endpoint, cmn_bus_sock **ret)
{
    int rc = cmn_bus_ipc_dir(endpoint);

    if (rc != 0) {
        CMN_ERR(SUB, "event=bind_failed endpoint=%s reason=mkdir", endpoint);
        return rc;
    }
    rc = cmn_bus_open(b->bus, kind, endpoint, ret);
    if (rc != 0)
        CMN_ERR(SUB, "event=bind_failed endpoint=%s err=%s", endpoint, cmn_strerror(rc));
    return rc;
}

int enr_bus_open(const enr_config *cfg, cmn_store *store, enr_bus **ret)
{
    enr_bus *b = calloc(1, sizeof(*b));
    int rc;

    *ret = NULL;
    if (b == NULL)
        return CMN_ENOMEM;
    b->cfg = cfg;
    b->store = store;
    rc = cmn_bus_new(&b->bus);
    if (rc == 0 && (rc = cmn_bus_curve_enable(b->bus, &cfg->bus_curve)) != 0)
        CMN_ERR(SUB, "event=curve_failed key=%s dir=%s err=%s", cfg->bus_curve.key_file,
                cfg->bus_curve.key_dir, cmn_strerror(rc));
    if (rc == 0 && (rc = cmn_bus_peers_new(cfg->bus_peers, cfg->bus_curve.key_dir, &b->peers)) != 0)
        CMN_ERR(SUB, "event=peers_failed err=%s", cmn_strerror(rc));
    if (rc == 0 && (rc = cmn_bus_admin_keys_new(cfg->bus_admin_keys, cfg->bus_curve.key_dir, b->bus,
                                                &b->admins)) != 0)
        CMN_ERR(SUB, "event=admin_keys_failed err=%s", cmn_strerror(rc));
    if (rc == 0)
        rc = open_one(b, CMN_BUS_PUB, cfg->bus_events, &b->pub);
    if (rc == 0)
        rc = open_one(b, CMN_BUS_ROUTER, cfg->bus_sync, &b->sync);
    if (rc == 0)
        rc = open_one(b, CMN_BUS_ROUTER, cfg->bus_admin, &b->admin);
    if (rc != 0) {
        enr_bus_close(b);
        return rc;
    }
    *ret = b;
    return 0;
}

int enr_bus_reload_peers(enr_bus *b, const enr_config *cfg)
{
    cmn_bus_peers *peers = NULL;
    int rc = cmn_bus_peers_new(cfg->bus_peers, cfg->bus_curve.key_dir, &peers);

    if (rc != 0)
        return rc;
    cmn_bus_peers_free(b->peers);
    b->peers = peers;
    return 0;
}

void enr_bus_close(enr_bus *b)
{
    if (b == NULL)
        return;
    cmn_bus_close(b->pub);
    cmn_bus_close(b->sync);
    cmn_bus_close(b->admin);
    cmn_bus_free(b->bus);
    cmn_bus_peers_free(b->peers);
    cmn_bus_peers_free(b->admins);
    free(b->queue);
    free(b);
}

cmn_bus *enr_bus_ctx(enr_bus *b)
{
    return b->bus;
}

void enr_bus_fds(const enr_bus *b, int ret_fds[2])
{
    ret_fds[0] = cmn_bus_fd(b->sync);
    ret_fds[1] = cmn_bus_fd(b->admin);
}

/* ---- events ------------------------------------------------------------------------- */

int enr_bus_queue(enr_bus *b, const enr_events *ev)
{
    enr_events *q = realloc(b->queue, (b->nqueue + 1) * sizeof(*q));

    if (q == NULL) {
        /* Durable anyway: subscribers get it from sync on their next poke. */
        CMN_WARN(SUB, "event=publish_dropped reason=no_memory");
        return CMN_ENOMEM;
    }
    b->queue = q;
    b->queue[b->nqueue++] = *ev;
    return 0;
}

static const char *kind_name(Tep__Event__Kind kind)
{
    switch (kind) {
    case TEP__EVENT__KIND__ENROLLED:
        return "enrolled";
    case TEP__EVENT__KIND__REVOKED:
        return "revoked";
    case TEP__EVENT__KIND__CERT_REVOKED:
        return "cert_revoked";
    case TEP__EVENT__KIND__KEY_REGISTERED:
        return "key_registered";
    case TEP__EVENT__KIND__KEY_DEREGISTERED:
        return "key_deregistered";
    default:
        return "unknown";
    }
}

/* Publishes event j of q (no key material; a CERT_REVOKED carries its serial). */
static void publish_one(enr_bus *b, const enr_events *q, size_t j)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__Event ev = TEP__EVENT__INIT;
    int rc;

    ev.seq = q->ev[j].seq;
    ev.kind = q->ev[j].kind;
    ev.ke_id = (char *)q->ev[j].ke_id;
    ev.enrolee_id = (char *)q->ev[j].enrolee_id;
    ev.cert_serial = (char *)q->ev[j].cert_serial;
    cmn_bus_env_init(&env, SENDER, 0);
    env.body_case = TEP__ENVELOPE__BODY_EVENT;
    env.event = &ev;
    rc = cmn_bus_send(b->pub, NULL, 0, &env);
    if (rc != 0)
        CMN_WARN(SUB, "event=publish_failed seq=%llu err=%s", (unsigned long long)ev.seq,
                 cmn_strerror(rc));
    else
        CMN_DEBUG(SUB, "event=published seq=%llu kind=%s ke_id=%s", (unsigned long long)ev.seq,
                  kind_name(ev.kind), ev.ke_id);
}

void enr_bus_flush(enr_bus *b)
{
    for (size_t i = 0; i < b->nqueue; i++)
        for (size_t j = 0; j < b->queue[i].n; j++)
            publish_one(b, &b->queue[i], j);
    free(b->queue);
    b->queue = NULL;
    b->nqueue = 0;
}

/* ---- requests ----------------------------------------------------------------------- */

static void reply_error(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, uint64_t rid, int err,
                        const char *msg)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__Error e = TEP__ERROR__INIT;

    e.err = err;
    e.message = (char *)msg;
    cmn_bus_env_init(&env, SENDER, rid);
    env.body_case = TEP__ENVELOPE__BODY_ERROR;
    env.error = &e;
    cmn_bus_send(s, ident, ilen, &env);
}

/* May this requester fetch target's credentials? With [bus] peers: only the target its
 * CURVE key is bound to. Without (one host, ipc://: one trust domain): the targets of
 * this enroller's own configuration, registrar_cse_id, maf_id and [enroller] targets. */
static bool sync_allowed(const enr_bus *b, const char *peer, const char *target)
{
    const char *bound = NULL;
    char safe[96];

    if (cmn_bus_peers_count(b->peers) == 0) {
        if (strcmp(target, b->cfg->maf_id) == 0 || enr_config_target_poa(b->cfg, target) != NULL)
            return true;
    } else if (cmn_bus_peers_check(b->peers, peer, target, &bound) == 0) {
        return true;
    }
    CMN_WARN(SUB, "event=sync_refused target=\"%s\" bound=%s peer_key=%.8s",
             cmn_log_value(target, safe, sizeof(safe)), bound ? bound : "none",
             peer[0] ? peer : "none");
    return false;
}

static void answer_sync(enr_bus *b, const uint8_t *ident, size_t ilen, const char *peer,
                        const Tep__Envelope *req)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__SyncResponse resp = TEP__SYNC_RESPONSE__INIT;
    int rc;

    if (req->body_case != TEP__ENVELOPE__BODY_SYNC_REQ)
        return reply_error(b->sync, ident, ilen, req->request_id, CMN_EPROTO, "want sync_req");
    if (!sync_allowed(b, peer, req->sync_req->target_id))
        return reply_error(b->sync, ident, ilen, req->request_id, CMN_EDENIED,
                           "not the authenticated target");
    rc = enr_sync_answer(b->store, b->cfg->mef_fqdn, req->sync_req, &resp);
    if (rc != 0) {
        CMN_ERR(SUB, "event=sync_failed err=%s", cmn_strerror(rc));
        return reply_error(b->sync, ident, ilen, req->request_id, rc, "sync failed");
    }
    cmn_bus_env_init(&env, SENDER, req->request_id);
    env.body_case = TEP__ENVELOPE__BODY_SYNC_RESP;
    env.sync_resp = &resp;
    rc = cmn_bus_send(b->sync, ident, ilen, &env);
    CMN_DEBUG(SUB, "event=sync after_seq=%llu items=%zu last_seq=%llu sent=%s",
              (unsigned long long)req->sync_req->after_seq, resp.n_items,
              (unsigned long long)resp.last_seq, rc == 0 ? "yes" : cmn_strerror(rc));
    enr_sync_clear(&resp);
}

static const char *op_name(Tep__AdminRequest__Op op)
{
    static const char *const names[] = {
        "status",     "enrolee_add", "enrolee_list", "enrolee_revoke", "cert_list",
        "event_list", "app_add",     "app_list",     "app_revoke",     "cert_revoke"};

    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "unknown";
}

/* The request's KpmID if it is a well-formed one (it goes into a log line), else "-". */
static const char *admin_kpm_id(const Tep__AdminRequest *ar)
{
    const char *id = (ar->op == TEP__ADMIN_REQUEST__OP__ENROLEE_ADD ||
                      ar->op == TEP__ADMIN_REQUEST__OP__APP_ADD) &&
                             ar->enrolee != NULL
                         ? ar->enrolee->kpm_id
                         : ar->kpm_id;

    return enr_valid_kpm_id(id, strlen(id)) ? id : "-";
}

/* ENROLEE_ADD / APP_ADD naming an enrolment target this enroller does not have (not
 * registrar_cse_id, not in [enroller] targets): refused before the store sees it. A
 * malformed one is left to enr_admin_handle, which says why. */
static bool unknown_target(const enr_bus *b, const Tep__AdminRequest *ar, char *msg, size_t len)
{
    const char *t;

    if ((ar->op != TEP__ADMIN_REQUEST__OP__ENROLEE_ADD &&
         ar->op != TEP__ADMIN_REQUEST__OP__APP_ADD) ||
        ar->enrolee == NULL)
        return false;
    t = ar->enrolee->target_cse_id;
    if (t[0] == '\0' || cmn_cfg_valid_cse_id(t, NULL, 0) != 0 || strlen(t) >= ENR_ID_MAX ||
        enr_config_target_poa(b->cfg, t) != NULL)
        return false;
    snprintf(msg, len,
             "unknown enrolment target %s: not registrar_cse_id (%s) nor in "
             "[enroller] targets",
             t, b->cfg->registrar_cse_id);
    return true;
}

static void refuse_admin(enr_bus *b, const uint8_t *ident, size_t ilen, const Tep__Envelope *req,
                         const char *msg)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__AdminResponse resp = TEP__ADMIN_RESPONSE__INIT;

    resp.err = CMN_EINVAL;
    resp.message = (char *)msg;
    CMN_INFO(SUB, "event=admin op=%s kpm_id=%s err=%s reason=unknown_target",
             op_name(req->admin_req->op), admin_kpm_id(req->admin_req), cmn_strerror(CMN_EINVAL));
    cmn_bus_env_init(&env, SENDER, req->request_id);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    env.admin_resp = &resp;
    cmn_bus_send(b->admin, ident, ilen, &env);
}

static void answer_admin(enr_bus *b, const uint8_t *ident, size_t ilen, const char *peer,
                         const Tep__Envelope *req)
{
    char msg[512];

    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__AdminResponse resp = TEP__ADMIN_RESPONSE__INIT;
    enr_events ev;
    const Tep__AdminRequest *ar = req->admin_req;
    int rc;

    if (req->body_case != TEP__ENVELOPE__BODY_ADMIN_REQ)
        return reply_error(b->admin, ident, ilen, req->request_id, CMN_EPROTO, "want admin_req");
    if (!cmn_bus_admin_allowed(b->admins, peer, ar->op, SUB))
        return reply_error(b->admin, ident, ilen, req->request_id, CMN_EDENIED,
                           "not a key allowed to administer ([bus] admin_keys)");
    if (unknown_target(b, ar, msg, sizeof(msg)))
        return refuse_admin(b, ident, ilen, req, msg);
    rc = enr_admin_handle(b->store, ar, time(NULL), &resp, &ev);
    if (rc == 0 && ar->op == TEP__ADMIN_REQUEST__OP__STATUS && b->coap != NULL) {
        cmn_dtls_stats st;

        enr_coap_dtls_stats(b->coap, &st);
        enr_admin_add_dtls_status(&resp, &st);
    }
    CMN_INFO(SUB, "event=admin op=%s kpm_id=%s err=%s", op_name(ar->op), admin_kpm_id(ar),
             rc ? cmn_strerror(rc) : "none");
    if (rc == 0 && ev.n > 0 && ev.ev[0].kind == TEP__EVENT__KIND__CERT_REVOKED)
        CMN_INFO(SUB, "event=cert_revoked serial=%s enrolee_id=%s seq=%llu", ev.ev[0].cert_serial,
                 ev.ev[0].enrolee_id, (unsigned long long)ev.ev[0].seq);
    cmn_bus_env_init(&env, SENDER, req->request_id);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    env.admin_resp = &resp;
    cmn_bus_send(b->admin, ident, ilen, &env);
    enr_admin_clear(&resp);
    if (rc == 0 && ev.n > 0)
        enr_bus_queue(b, &ev);
}

/* Drains one ROUTER. */
static void drain(enr_bus *b, cmn_bus_sock *s,
                  void (*fn)(enr_bus *, const uint8_t *, size_t, const char *,
                             const Tep__Envelope *))
{
    for (;;) {
        uint8_t ident[CMN_BUS_IDENT_MAX];
        size_t ilen = 0;
        char peer[CMN_BUS_PEER_MAX];
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv_peer(s, ident, &ilen, peer, &env);

        if (rc == CMN_EAGAIN)
            return;
        if (rc == CMN_ECORRUPT) {
            CMN_WARN(SUB, "event=bad_message");
            continue;
        }
        if (rc != 0) {
            CMN_WARN(SUB, "event=recv_failed err=%s", cmn_strerror(rc));
            return;
        }
        fn(b, ident, ilen, peer, env);
        cmn_bus_env_free(env);
    }
}

void enr_bus_process(enr_bus *b)
{
    drain(b, b->sync, answer_sync);
    drain(b, b->admin, answer_admin);
}
