/* tep-bsf's event loop: one thread polls the signalfd, the Ub HTTP server's epoll fd and
 * the zn and admin ROUTERs. */
#include "bsf_daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bsf_answer.h"
#include "bsf_db.h"
#include "bsf_ub.h"
#include "cmn_bus.h"
#include "cmn_bus_peers.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_store.h"

#define SENDER "tep-bsf"
#define TICK_MS 1000

struct bsf_daemon {
    const bsf_config *cfg;
    const char *config_path;
    int sigfd;
    cmn_store *store;
    cmn_bus *bus;
    cmn_bus_sock *zn;
    cmn_bus_sock *admin;
    cmn_bus_peers *peers;        /* [bus] peers: which key may ask for which NAF */
    cmn_bus_peers *admins;       /* [bus] admin_keys: who may administer */
    char peer[CMN_BUS_PEER_MAX]; /* proven CURVE key of the message being answered */
    bsf_ub *ub;
    bool stop;
};

static int open_bus(bsf_daemon *d)
{
    int rc = cmn_bus_new(&d->bus);

    if (rc == 0 && (rc = cmn_bus_curve_enable(d->bus, &d->cfg->bus_curve)) != 0)
        CMN_ERR("bus", "event=curve_failed key=%s dir=%s err=\"%s\"", d->cfg->bus_curve.key_file,
                d->cfg->bus_curve.key_dir, cmn_strerror(rc));
    if (rc == 0 &&
        (rc = cmn_bus_peers_new(d->cfg->bus_peers, d->cfg->bus_curve.key_dir, &d->peers)) != 0)
        CMN_ERR("bus", "event=peers_failed err=\"%s\"", cmn_strerror(rc));
    if (rc == 0 && (rc = cmn_bus_admin_keys_new(d->cfg->bus_admin_keys, d->cfg->bus_curve.key_dir,
                                                d->bus, &d->admins)) != 0)
        CMN_ERR("bus", "event=admin_keys_failed err=\"%s\"", cmn_strerror(rc));
    if (rc != 0)
        return BSF_EXIT_START;
    if ((rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->zn_ep, &d->zn)) != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->zn_ep, cmn_strerror(rc));
        return BSF_EXIT_BIND;
    }
    if ((rc = cmn_bus_open(d->bus, CMN_BUS_ROUTER, d->cfg->admin_ep, &d->admin)) != 0) {
        CMN_ERR("bus", "event=bind_failed endpoint=%s err=\"%s\"", d->cfg->admin_ep,
                cmn_strerror(rc));
        return BSF_EXIT_BIND;
    }
    return BSF_EXIT_OK;
}

int bsf_daemon_start(const bsf_config *cfg, const char *config_path, int sigfd, bsf_daemon **ret)
{
    bsf_daemon *d = calloc(1, sizeof(*d));
    int rc, ex = BSF_EXIT_OK;

    *ret = NULL;
    if (d == NULL)
        return BSF_EXIT_START;
    d->cfg = cfg;
    d->config_path = config_path;
    d->sigfd = sigfd;
    if ((rc = bsf_db_open(cfg->data_dir, &d->store)) != 0) {
        CMN_ERR("store", "event=store_failed dir=%s err=\"%s\"", cfg->data_dir, cmn_strerror(rc));
        ex = BSF_EXIT_STORE;
    }
    if (ex == BSF_EXIT_OK)
        ex = open_bus(d);
    if (ex == BSF_EXIT_OK && (rc = bsf_ub_new(cfg, d->store, true, &d->ub)) != 0) {
        CMN_ERR("ub", "event=bind_failed listen=%s err=\"%s\"", cfg->ub_listen, cmn_strerror(rc));
        ex = BSF_EXIT_BIND;
    }
    if (ex != BSF_EXIT_OK) {
        bsf_daemon_free(d);
        return ex;
    }
    *ret = d;
    return BSF_EXIT_OK;
}

void bsf_daemon_free(bsf_daemon *d)
{
    if (d == NULL)
        return;
    bsf_ub_free(d->ub);
    cmn_bus_close(d->zn);
    cmn_bus_close(d->admin);
    cmn_bus_free(d->bus);
    cmn_bus_peers_free(d->peers);
    cmn_bus_peers_free(d->admins);
    cmn_store_close(d->store);
    free(d);
}

static void reply(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, Tep__Envelope *out)
{
    int rc = cmn_bus_send(s, ident, ilen, out);

    if (rc != 0)
        CMN_WARN("bus", "event=reply_failed err=\"%s\"", cmn_strerror(rc));
}

/* With [bus] peers, Zn answers a NAF key only to the NAF its CURVE key is bound to
 * (docs/internals.md "Authenticated credential hand-off"); without, to whoever names a
 * NAF this BSF serves (one host, ipc://). */
static bool zn_requester_ok(const bsf_daemon *d, const char *naf)
{
    const char *bound = NULL;
    char safe[96];

    if (cmn_bus_peers_count(d->peers) == 0 ||
        cmn_bus_peers_check(d->peers, d->peer, naf, &bound) == 0)
        return true;
    snprintf(safe, sizeof(safe), "%s", naf);
    for (char *p = safe; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || (unsigned char)*p >= 0x7f)
            *p = '?';
    CMN_WARN("zn",
             "event=zn_refused reason=not_the_authenticated_naf naf=\"%s\" bound=%s "
             "peer_key=%.8s",
             safe, bound ? bound : "none", d->peer[0] ? d->peer : "none");
    return false;
}

static void answer_zn(bsf_daemon *d, const uint8_t *ident, size_t ilen, const Tep__Envelope *in)
{
    Tep__Envelope out;
    Tep__ZnResponse resp;
    uint8_t ks_naf[32];

    if (in->body_case != TEP__ENVELOPE__BODY_ZN_REQ || in->zn_req == NULL)
        return; /* the zn socket answers Zn only */
    cmn_bus_env_init(&out, SENDER, in->request_id);
    if (!zn_requester_ok(d, in->zn_req->naf_fqdn)) {
        tep__zn_response__init(&resp);
        resp.err = CMN_EDENIED;
        out.body_case = TEP__ENVELOPE__BODY_ZN_RESP;
        out.zn_resp = &resp;
        reply(d->zn, ident, ilen, &out);
        return;
    }
    bsf_answer_zn(d->cfg, d->store, in->zn_req, (int64_t)time(NULL), &resp, ks_naf);
    out.body_case = TEP__ENVELOPE__BODY_ZN_RESP;
    out.zn_resp = &resp;
    reply(d->zn, ident, ilen, &out);
    cmn_wipe(ks_naf, sizeof(ks_naf));
    bsf_answer_zn_done(&resp);
}

static void answer_admin(bsf_daemon *d, const uint8_t *ident, size_t ilen, const Tep__Envelope *in)
{
    Tep__Envelope out;
    Tep__AdminResponse resp;

    if (in->body_case != TEP__ENVELOPE__BODY_ADMIN_REQ || in->admin_req == NULL)
        return;
    cmn_bus_env_init(&out, SENDER, in->request_id);
    if (!cmn_bus_admin_allowed(d->admins, d->peer, in->admin_req->op, "admin")) {
        Tep__Error e = TEP__ERROR__INIT;

        e.err = CMN_EDENIED;
        e.message = "not a key allowed to administer ([bus] admin_keys)";
        out.body_case = TEP__ENVELOPE__BODY_ERROR;
        out.error = &e;
        reply(d->admin, ident, ilen, &out);
        return;
    }
    bsf_answer_admin(d->cfg, d->store, bsf_ub_get_stats(d->ub), (int64_t)time(NULL), in, &out,
                     &resp);
    reply(d->admin, ident, ilen, &out);
    bsf_answer_admin_done(&resp);
}

typedef void (*answer_fn)(bsf_daemon *d, const uint8_t *ident, size_t ilen,
                          const Tep__Envelope *in);

/* Drains a ROUTER (its ZMQ_FD is edge-like). Undecodable messages are dropped. */
static void serve(bsf_daemon *d, cmn_bus_sock *s, const char *name, answer_fn fn)
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

/* SIGHUP reloads log_level; everything else needs a restart. */
static void reload(bsf_daemon *d)
{
    bsf_config fresh;
    char err[256];

    if (bsf_config_load(d->config_path, &fresh, err, sizeof(err)) != 0) {
        CMN_WARN("main", "event=reload_failed");
        return;
    }
    cmn_log_set_level(fresh.level);
    CMN_INFO("main", "event=reloaded log_level=%s", fresh.log_level);
    bsf_config_free(&fresh);
}

static void handle_signals(bsf_daemon *d)
{
    struct signalfd_siginfo si;

    while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            reload(d);
        else
            d->stop = true;
    }
}

int bsf_daemon_run(bsf_daemon *d)
{
    CMN_INFO("main", "event=ready ub=%s zn=%s admin=%s bsf_name=%s", d->cfg->ub_listen,
             d->cfg->zn_ep, d->cfg->admin_ep, d->cfg->bsf_name);
    while (!d->stop) {
        struct pollfd pfd[4];
        int wait = bsf_ub_timeout_ms(d->ub);

        if (wait < 0 || wait > TICK_MS)
            wait = TICK_MS;
        pfd[0] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = bsf_ub_fd(d->ub), .events = POLLIN};
        pfd[2] = (struct pollfd){.fd = cmn_bus_fd(d->zn), .events = POLLIN};
        pfd[3] = (struct pollfd){.fd = cmn_bus_fd(d->admin), .events = POLLIN};
        if (poll(pfd, 4, wait) < 0 && errno != EINTR) {
            CMN_ERR("main", "event=poll_failed errno=%d", errno);
            return BSF_EXIT_START;
        }
        if (pfd[0].revents & POLLIN)
            handle_signals(d);
        bsf_ub_process(d->ub);
        serve(d, d->zn, "zn", answer_zn);
        serve(d, d->admin, "admin", answer_admin);
    }
    {
        const bsf_ub_stats *st = bsf_ub_get_stats(d->ub);
        CMN_INFO("main", "event=stopping bootstraps=%llu refused=%llu",
                 (unsigned long long)st->bootstraps, (unsigned long long)st->refused);
    }
    return BSF_EXIT_OK;
}
