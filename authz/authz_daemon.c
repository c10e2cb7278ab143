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
#include "authz_creds.h"
#include "authz_decide.h"
#include "cmn_bus.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_store.h"
#include "cmn_sync.h"

#define SENDER "tep-authz"
#define TICK_MS 200
#define POLICIES_DB "policies" /* ACP copies (filled by a later issue) */
#define LOG_VALUE_MAX 128

struct authz_daemon {
    const authz_config *cfg;
    const char *config_path;
    int sigfd;
    cmn_store *store;
    cmn_bus *bus;
    cmn_bus_sock *decide;
    cmn_bus_sock *admin;
    cmn_sync *sync;
    authz_stats stats;
    int sync_err; /* last error of cmn_sync_process, logged once per change */
    bool stop;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Peer-supplied text for a log line: printable, no spaces or quotes, bounded. */
static const char *log_safe(const char *in, char *buf, size_t len)
{
    size_t i = 0;

    for (; in != NULL && in[i] != '\0' && i + 1 < len; i++)
        buf[i] = (in[i] > ' ' && in[i] < 0x7f && in[i] != '"') ? in[i] : '?';
    buf[i] = '\0';
    return buf;
}

/* ---- start-up ----------------------------------------------------------------------- */

static int open_store(authz_daemon *d)
{
    static const char *const dbs[] = {POLICIES_DB, AUTHZ_AUDIT_DB, AUTHZ_CREDS_DB,
                                      AUTHZ_KE_INDEX_DB, CMN_SYNC_DB};
    int err = cmn_store_open(d->cfg->data_dir, dbs, sizeof(dbs) / sizeof(dbs[0]),
                             AUTHZ_STORE_SCHEMA, 0, &d->store);

    if (err == 0)
        err = authz_audit_last_seq(d->store, &d->stats.audit_seq);
    if (err == 0)
        err = authz_creds_count(d->store, &d->stats.credentials);
    if (err != 0)
        CMN_ERR("store", "event=store_failed dir=%s err=\"%s\"", d->cfg->data_dir,
                cmn_strerror(err));
    return err;
}

static int open_bus(authz_daemon *d)
{
    int err = cmn_bus_new(&d->bus);

    if (err != 0) {
        CMN_ERR("bus", "event=bus_failed err=\"%s\"", cmn_strerror(err));
        return AUTHZ_EXIT_START;
    }
    err = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->decide_ep, &d->decide);
    if (err != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->decide_ep,
                cmn_strerror(err));
        return AUTHZ_EXIT_BIND;
    }
    err = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->admin_ep, &d->admin);
    if (err != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->admin_ep,
                cmn_strerror(err));
        return AUTHZ_EXIT_BIND;
    }
    return AUTHZ_EXIT_OK;
}

static int start_sync(authz_daemon *d)
{
    int err = cmn_sync_new(d->bus, d->store, d->cfg->events_ep, d->cfg->sync_ep,
                           d->cfg->maf_id, authz_creds_apply, NULL, &d->sync);

    if (err != 0) {
        CMN_ERR("sync", "event=sync_failed events=%s sync=%s err=\"%s\"", d->cfg->events_ep,
                d->cfg->sync_ep, cmn_strerror(err));
        return AUTHZ_EXIT_START;
    }
    d->stats.last_seq = cmn_sync_last_applied(d->sync);
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
    rc = open_store(d) != 0 ? AUTHZ_EXIT_STORE : AUTHZ_EXIT_OK;
    if (rc == AUTHZ_EXIT_OK)
        rc = open_bus(d);
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
    cmn_bus_close(d->decide);
    cmn_bus_close(d->admin);
    cmn_bus_free(d->bus);
    cmn_store_close(d->store);
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
                      log_safe(rq->originator, orig, sizeof(orig)),
                      log_safe(rq->target, target, sizeof(target)), rq->op, resp->permit,
                      resp->rsc, resp->rule, (unsigned long long)seq);
}

static void record_decision(authz_daemon *d, const Tep__DecisionRequest *rq,
                            const Tep__DecisionResponse *resp)
{
    uint64_t seq = d->stats.audit_seq + 1;
    int err = authz_audit_append(d->store, seq, (int64_t)time(NULL), rq, resp);

    d->stats.decisions++;
    if (!resp->permit)
        d->stats.denials++;
    if (err != 0) {
        /* The decision stands (the PEP is waiting); the gap is visible in the log. */
        CMN_ERR("decide", "event=audit_failed err=\"%s\"", cmn_strerror(err));
        seq = 0;
    } else {
        d->stats.audit_seq = seq;
    }
    log_decision(rq, resp, seq);
}

static void reply(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, Tep__Envelope *out)
{
    int err = cmn_bus_send(s, ident, ilen, out);

    if (err != 0)
        CMN_WARN("bus", "event=reply_failed err=\"%s\"", cmn_strerror(err));
}

static void reply_error(cmn_bus_sock *s, const uint8_t *ident, size_t ilen,
                        const Tep__Envelope *in, const char *msg)
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

static void answer_decide(authz_daemon *d, const uint8_t *ident, size_t ilen,
                          const Tep__Envelope *in)
{
    Tep__Envelope out;
    Tep__DecisionResponse resp;

    if (in->body_case != TEP__ENVELOPE__BODY_DECIDE_REQ || in->decide_req == NULL) {
        reply_error(d->decide, ident, ilen, in, "expected a DecisionRequest");
        return;
    }
    if (authz_decide(in->decide_req, &resp) != 0)
        CMN_ERR("decide", "event=decide_failed err=\"%s\"", cmn_strerror(CMN_ENOMEM));
    record_decision(d, in->decide_req, &resp);
    cmn_bus_env_init(&out, SENDER, in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
    out.decide_resp = &resp;
    reply(d->decide, ident, ilen, &out);
    authz_decide_clear(&resp);
}

/* ---- admin -------------------------------------------------------------------------- */

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
    if (authz_creds_count(d->store, &active) == 0)
        d->stats.credentials = active;
    d->stats.last_seq = cmn_sync_last_applied(d->sync);
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
        int err = cmn_bus_recv(s, ident, &ilen, &in);

        if (err == CMN_EAGAIN)
            return;
        if (err != 0) {
            CMN_WARN("bus", "event=message_dropped socket=%s err=\"%s\"", name,
                     cmn_strerror(err));
            if (err == CMN_ECORRUPT)
                continue;
            return;
        }
        fn(d, ident, ilen, in);
        cmn_bus_env_free(in);
    }
}

static void reload(authz_daemon *d)
{
    authz_config fresh;
    char err[256];

    if (authz_config_load(d->config_path, &fresh, err, sizeof(err)) != 0) {
        CMN_WARN("main", "event=reload_failed reason=\"%s\"", err);
        return;
    }
    cmn_log_set_level(fresh.level);
    CMN_INFO("main", "event=reloaded log_level=%s", fresh.log_level);
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

static void sync_step(authz_daemon *d)
{
    int err = cmn_sync_process(d->sync, mono_ms());

    if (err != d->sync_err && err != 0)
        CMN_WARN("sync", "event=sync_error err=\"%s\"", cmn_strerror(err));
    else if (err != d->sync_err)
        CMN_INFO("sync", "event=sync_ok last_seq=%llu",
                 (unsigned long long)cmn_sync_last_applied(d->sync));
    d->sync_err = err;
}

int authz_daemon_run(authz_daemon *d)
{
    CMN_INFO("main", "event=ready decide=%s admin=%s events=%s sync=%s maf_id=%s",
             d->cfg->decide_ep, d->cfg->admin_ep, d->cfg->events_ep, d->cfg->sync_ep,
             d->cfg->maf_id);
    while (!d->stop) {
        int sync_fds[2];
        struct pollfd pfd[5];

        cmn_sync_fds(d->sync, sync_fds); /* the DEALER's fd changes when rebuilt */
        pfd[0] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = cmn_bus_fd(d->decide), .events = POLLIN};
        pfd[2] = (struct pollfd){.fd = cmn_bus_fd(d->admin), .events = POLLIN};
        pfd[3] = (struct pollfd){.fd = sync_fds[0], .events = POLLIN};
        pfd[4] = (struct pollfd){.fd = sync_fds[1], .events = POLLIN};
        if (poll(pfd, 5, TICK_MS) < 0 && errno != EINTR) {
            CMN_ERR("main", "event=poll_failed errno=%d", errno);
            return AUTHZ_EXIT_START;
        }
        if (pfd[0].revents & POLLIN)
            handle_signals(d);
        serve(d, d->decide, "decide", answer_decide);
        serve(d, d->admin, "admin", answer_admin);
        sync_step(d);
    }
    CMN_INFO("main", "event=stopping decisions=%llu denials=%llu",
             (unsigned long long)d->stats.decisions, (unsigned long long)d->stats.denials);
    return AUTHZ_EXIT_OK;
}
