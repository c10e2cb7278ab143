/* tep-cse: the CSE and Policy Enforcement Point. Linear start-up, one poll loop. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <coap3/coap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmn_bus.h"
#include "cmn_clock.h"
#include "cmn_crypto.h"
#include "cmn_daemon.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_pki.h"
#include "cmn_store.h"
#include "cmn_sync.h"
#include "cse_admin.h"
#include "cse_coap.h"
#include "cse_escertke.h"
#include "cse_esprim.h"
#include "cse_config.h"
#include "cse_apprule.h"
#include "cse_dynauth.h"
#include "cse_pep.h"
#include "cse_registree.h"
#include "cse_remotecse.h"
#include "cse_resource.h"
#include "cse_saef.h"
#include "cse_maf.h"
#include "cse_sync.h"
#include "cse_target.h"

#define SUB "main"

enum { EXIT_CONFIG = 1, EXIT_STORE = 2, EXIT_BIND = 3, EXIT_STARTUP = 4 };

typedef struct {
    cse_config cfg;
    int sigfd;
    int lockfd;
    cmn_store *store;
    cmn_bus *bus;
    cse_pep *pep;
    cse_tokens *tokens; /* dynamic authorization (cse_dynauth.h) */
    cse_dynauth *dynauth;
    cse_apprules *app_rules; /* serviceSubscribedAppRule set (cse_apprule.h) */
    cmn_sync *sync;
    cse_sync_stats stats;
    cse_admin *admin;
    cse_maf *maf; /* MAF Key Retrieval (bus or CoAPS); NULL when neither is configured */
    cse_admin_facts facts;
    cse_node node;
    cse_targets targets; /* where plain CoAP may go (cse_target.h) */
    cse_coap *coap;
    cse_registree *registree; /* [cse] type = MN: the registration to its registrar */
    char sender[300];
} daemon_state;

static void usage(FILE *out)
{
    fprintf(out, "usage: tep-cse --config FILE [--check-config]\n"
                 "       tep-cse --help | --version\n\nconfiguration keys "
                 "(environment: TEP_<SECTION>_<KEY>):\n");
    cse_config_print_help(out);
}

static int load_config(daemon_state *d, const char *path)
{
    char err[512];
    cmn_log_level level = CMN_LOG_INFO;

    if (cse_config_load(path, &d->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "tep-cse: %s\n", err);
        return EXIT_CONFIG;
    }
    cmn_log_parse_level(d->cfg.log_level, &level);
    cmn_log_init("tep-cse", level, NULL);
    cmn_log_set_deferred(true); /* written once per loop turn (run) */
    return 0;
}

/* Blocked before ZeroMQ starts its threads, so only the signalfd sees them. */
static int setup_signals(daemon_state *d)
{
    d->sigfd = cmn_daemon_signalfd();
    return d->sigfd >= 0 ? 0 : EXIT_STARTUP;
}

/* One tep-cse per data directory: LMDB itself would let a second one in. */
static int lock_data_dir(daemon_state *d)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/tep-cse.lock", d->cfg.data_dir);
    d->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lockfd < 0 || flock(d->lockfd, LOCK_EX | LOCK_NB) != 0)
        return CMN_EIO;
    return 0;
}

/* A store of an older schema gets the indexes of this one (cse_res_migrate). */
static int migrate(daemon_state *d)
{
    uint32_t from = cmn_store_schema(d->store);
    size_t n = 0;
    int rc;

    if (from >= CSE_SCHEMA)
        return 0;
    rc = cse_res_migrate(d->store, &n);
    if (rc == 0)
        CMN_INFO(SUB, "event=store_migrated data_dir=%s from=%u to=%u instances=%zu",
                 d->cfg.data_dir, (unsigned)from, (unsigned)CSE_SCHEMA, n);
    return rc;
}

static int open_store(daemon_state *d)
{
    static const char *const dbs[] = {CSE_RES_DBS,      CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS,     CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,
                                      CSE_DB_KEY_KEIDS, CMN_SYNC_DB,        CSE_ESPRIM_DB};
    int rc = cmn_store_open(d->cfg.data_dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0,
                            &d->store);

    if (rc == 0 && lock_data_dir(d) != 0) {
        CMN_ERR(SUB, "event=store_refused data_dir=%s msg=\"in use by another tep-cse\"",
                d->cfg.data_dir);
        return EXIT_STORE;
    }
    if (rc == 0)
        rc = migrate(d);
    if (rc == 0)
        rc = cse_res_ensure_csebase(d->store, d->cfg.cse_id, d->cfg.cse_name, (int64_t)time(NULL));
    if (rc == 0 && cse_res_csebase_policy(d->store, d->cfg.cse_name, d->cfg.admin_originator,
                                          d->cfg.csebase_pv, (int64_t)time(NULL)) != 0) {
        CMN_ERR(SUB,
                "event=csebase_policy_refused path=%s/%s msg=\"not an ACP, or not "
                "writable\"",
                d->cfg.cse_name, CSE_RES_CSEBASE_ACP);
        return EXIT_STORE;
    }
    if (rc != 0) {
        CMN_ERR(SUB, "event=store_refused data_dir=%s err=%s", d->cfg.data_dir, cmn_strerror(rc));
        return EXIT_STORE;
    }
    return 0;
}

static void on_applied(uint64_t last, void *arg)
{
    daemon_state *d = arg;

    d->facts.last_seq = last;
    CMN_INFO(SUB, "event=sync_applied last_seq=%llu items=%u revocations=%u",
             (unsigned long long)last, d->stats.applied, d->stats.revocations);
    /* TS-0003 10.7: live DTLS sessions bound to a credential revoked in this batch
     * are closed now, not at their next request; so are the sessions of the MAF keys
     * (Kc) registered with a revoked enrolment, marked revoked here first. */
    if (d->stats.revocations > 0) {
        if (d->maf != NULL)
            cse_maf_revoke_stale(d->store, (int64_t)time(NULL));
        cse_saef_close_revoked(d->store, (int64_t)time(NULL));
    }
    memset(&d->stats, 0, sizeof(d->stats));
}

/* [maf] retrieval = coaps: Kc fetched in this CSE's own MAF Handshake (cse_maf.h). */
static int open_maf_coaps(daemon_state *d)
{
    cse_maf_coaps_cfg c = {.maf_uri = d->cfg.maf_uri,
                           .recheck_s = d->cfg.maf_recheck_s,
                           .timeout_ms = d->cfg.maf_timeout_ms};
    bool shared = false;
    int rc;

    cse_config_maf_files(&d->cfg, &c.prov, &c.state, &shared);
    c.may_enrol = !shared;
    rc = cse_maf_new_coaps(&c, d->cfg.cse_id, d->store, &d->maf);
    if (rc != 0) {
        CMN_ERR(SUB, "event=maf_failed over=coaps err=%s", cmn_strerror(rc));
        return EXIT_STARTUP;
    }
    CMN_INFO(SUB, "event=maf_retrieval over=coaps maf=%s enrolment=%s recheck_s=%ld",
             d->cfg.maf_uri[0] != '\0' ? d->cfg.maf_uri : "mpoa", shared ? "registrar" : c.prov,
             d->cfg.maf_recheck_s);
    return 0;
}

static int open_bus(daemon_state *d)
{
    int rc = cmn_bus_new(&d->bus);

    snprintf(d->sender, sizeof(d->sender), "tep-cse:%s", d->cfg.cse_id);
    if (rc == 0 && (rc = cmn_bus_curve_enable(d->bus, &d->cfg.bus_curve)) != 0)
        CMN_ERR(SUB, "event=curve_failed key=%s dir=%s err=%s", d->cfg.bus_curve.key_file,
                d->cfg.bus_curve.key_dir, cmn_strerror(rc));
    if (rc == 0)
        rc = cse_config_is_local(&d->cfg)
                 ? cse_pep_new_local(&d->pep)
                 : cse_pep_new_remote(d->bus, d->cfg.bus_decide, (int)d->cfg.deadline_ms, d->sender,
                                      &d->pep);
    if (rc == 0 && (cse_dynauth_setup(&d->cfg, d->pep, &d->tokens, &d->dynauth) != 0 ||
                    cse_apprules_setup(&d->cfg, &d->app_rules) != 0))
        return EXIT_CONFIG;
    if (rc == 0)
        rc = cmn_sync_new(d->bus, d->store, d->cfg.bus_events, d->cfg.bus_sync, d->cfg.cse_id,
                          cse_sync_apply, &d->stats, &d->sync);
    if (rc != 0) {
        CMN_ERR(SUB, "event=bus_failed err=%s", cmn_strerror(rc));
        return EXIT_STARTUP;
    }
    if (d->cfg.bus_keys[0] != '\0' &&
        (rc = cse_maf_new(d->bus, d->cfg.bus_keys, d->cfg.bus_maf_events, d->cfg.cse_id, d->store,
                          &d->maf)) != 0) {
        CMN_ERR(SUB, "event=bus_failed endpoint=%s err=%s", d->cfg.bus_keys, cmn_strerror(rc));
        return EXIT_STARTUP;
    }
    if (cse_config_maf_coaps(&d->cfg) && (rc = open_maf_coaps(d)) != 0)
        return rc;
    cmn_sync_set_applied_hook(d->sync, on_applied, d);
    cmn_sync_set_reset_fn(d->sync, cse_sync_reset, &d->stats);
    d->facts.cse_id = d->cfg.cse_id;
    d->facts.store = d->store;
    d->facts.last_seq = cmn_sync_last_applied(d->sync);
    rc = cse_admin_open(d->bus, d->cfg.bus_admin, d->cfg.bus_admin_keys, d->cfg.bus_curve.key_dir,
                        &d->facts, &d->admin);
    if (rc != 0) {
        CMN_ERR(SUB, "event=bind_failed endpoint=%s err=%s", d->cfg.bus_admin, cmn_strerror(rc));
        return EXIT_BIND;
    }
    return 0;
}

/* [cse] admin_psk_file: 64 hex digits (one optional newline), readable by the owner
 * only. The key is wiped from every buffer here; saef keeps its own copy. */
static int read_admin_psk(const char *path, uint8_t key[CMN_KEY_LEN])
{
    char hex[2 * CMN_KEY_LEN + 3] = "";
    struct stat sb;
    size_t n = 0;
    int rc = CMN_ECONFIG;
    FILE *f = fopen(path, "r");

    if (f != NULL && fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) == 0) {
        n = fread(hex, 1, sizeof(hex) - 1, f);
        if (n > 0 && hex[n - 1] == '\n')
            hex[--n] = '\0';
        if (n == 2 * CMN_KEY_LEN && cmn_hex_decode(hex, key, CMN_KEY_LEN) == 0)
            rc = 0;
    }
    if (f != NULL)
        fclose(f);
    cmn_wipe(hex, sizeof(hex));
    return rc;
}

static int set_admin_credential(daemon_state *d)
{
    uint8_t key[CMN_KEY_LEN];
    int rc;

    if (d->cfg.admin_psk_identity[0] == '\0')
        return 0;
    rc = read_admin_psk(d->cfg.admin_psk_file, key);
    if (rc == 0)
        rc = cse_saef_set_admin(d->cfg.admin_psk_identity, key, d->cfg.admin_originator);
    cmn_wipe(key, sizeof(key));
    if (rc != 0) {
        CMN_ERR(SUB, "event=bad_admin_psk file=%s msg=\"64 hex digits, mode 0600\"",
                d->cfg.admin_psk_file);
        return EXIT_CONFIG;
    }
    return 0;
}

static int open_coap(daemon_state *d)
{
    int rc;

    if ((rc = set_admin_credential(d)) != 0)
        return rc;

    d->node.store = d->store;
    d->node.pep = d->pep;
    d->node.dynauth = d->dynauth;
    d->node.app_rules = d->app_rules;
    d->node.cse_id = d->cfg.cse_id;
    d->node.cse_name = d->cfg.cse_name;
    d->node.sp_id = d->cfg.sp_id;
    d->node.admin_originator = d->cfg.admin_originator;
    d->node.verify_per_originator = (unsigned)d->cfg.verify_per_originator;
    d->node.fanout_max = (unsigned)d->cfg.fanout_max;
    d->node.notify_plain = strcmp(d->cfg.notify_plain, "any") == 0   ? CSE_NOTIFY_PLAIN_ANY
                           : strcmp(d->cfg.notify_plain, "off") == 0 ? CSE_NOTIFY_PLAIN_OFF
                                                                     : CSE_NOTIFY_PLAIN_LOOPBACK;
    d->node.is_mn = cse_config_is_mn(&d->cfg);
    d->node.registrar_csi = d->node.is_mn ? d->cfg.registrar_cse_id : NULL;
    d->node.registrar_poa = d->node.is_mn ? d->cfg.registrar_poa : NULL;
    /* validated with the configuration */
    cse_targets_parse(d->cfg.local_targets, &d->targets, NULL, 0);
    cse_targets_set_own(&d->targets, d->cfg.coap_listen, d->cfg.coaps_listen);
    d->node.targets = &d->targets;
    /* ESPrim as the Target: the CSEBase advertises it (e2eSecInfo) */
    if (cse_esprim_new(d->store, (int64_t)time(NULL), &d->node.esprim) != 0 ||
        cse_esprim_publish(d->node.esprim, d->store, d->cfg.cse_name, (int64_t)time(NULL)) != 0) {
        CMN_ERR(SUB, "event=esprim_failed msg=\"cannot write the CSEBase's e2eSecInfo\"");
        return EXIT_STORE;
    }
    rc = cse_coap_new(&d->node, d->cfg.coap_listen, d->cfg.coaps_listen, d->cfg.psk_hint, &d->coap);
    if (rc == 0 && (rc = cse_coap_set_dtls_limits(d->coap, &d->cfg.dtls)) != 0)
        rc = CMN_ECOAP;
    if (rc == 0) {
        cse_coap_set_piggyback(d->coap, (int)d->cfg.piggyback_ms);
        cse_coap_set_body_limits(d->coap, &d->cfg.body);
    }
    if (rc == 0 && !cse_config_is_local(&d->cfg))
        rc = cse_coap_set_admission(d->coap, &d->cfg.admit, (int)d->cfg.deadline_ms);
    if (rc == 0) {
        d->facts.coap = d->coap;
        d->facts.node = &d->node;
        rc = cse_coap_set_pki(d->coap, d->cfg.cert_file, d->cfg.key_file, d->cfg.ca_file);
        /* the files are configuration: logged as event=pki_refused, exit 1 */
        if (rc == CMN_EINVAL || rc == CMN_ECONFIG)
            return EXIT_CONFIG;
    }
    /* ESCertKE as the Terminating End-Point, with the certificate SAEF files (checked) */
    if (rc == 0 && cse_escertke_new(d->cfg.cert_file, d->cfg.key_file, d->cfg.ca_file,
                                    &d->node.escertke) != 0) {
        CMN_ERR(SUB, "event=escertke_failed msg=\"cannot read the certificate files\"");
        return EXIT_CONFIG;
    }
    if (rc == 0 && cse_escertke_load(d->node.escertke, d->store, (int64_t)time(NULL)) != 0) {
        CMN_ERR(SUB, "event=escertke_failed msg=\"cannot read the established keys\"");
        return EXIT_STORE;
    }
    if (rc == 0 && d->node.escertke != NULL) { /* the CSEBase's e2eSecInfo says so */
        cse_esprim_set_escertke(d->node.esprim, d->node.escertke);
        if (cse_esprim_publish(d->node.esprim, d->store, d->cfg.cse_name, (int64_t)time(NULL)) !=
            0) {
            CMN_ERR(SUB, "event=esprim_failed msg=\"cannot write the CSEBase's e2eSecInfo\"");
            return EXIT_STORE;
        }
    }
    if (rc == CMN_EIO)
        return EXIT_BIND;
    if (rc != 0) {
        CMN_ERR(SUB, "event=coap_failed err=%s", cmn_strerror(rc));
        return EXIT_STARTUP;
    }
    return 0;
}

/* [cse] type = MN: the CSEBase says so, and the registration to [registrar] starts
 * (the MN-CSE's own enrolment first, over coaps: cse_registree.h). */
static int open_registree(daemon_state *d)
{
    char coaps[300], coap[300];
    const char *poa[2] = {coaps, coap};
    int rc;

    /* [cse] poa, else where it listens (TS-0001 9.6.3 CSEBase pointOfAccess) */
    /* with the root's '/': the ACME CSE appends "~/..." to a poa as it is */
    if (d->cfg.poa[0] != '\0')
        snprintf(coaps, sizeof(coaps), "%s", d->cfg.poa);
    else
        snprintf(coaps, sizeof(coaps), "coaps://%s/", d->cfg.coaps_listen);
    coap[0] = '\0';
    if (d->cfg.poa[0] == '\0' && d->cfg.coap_listen[0] != '\0')
        snprintf(coap, sizeof(coap), "coap://%s/", d->cfg.coap_listen);
    rc = cse_csr_set_own_type(d->store, d->cfg.cse_name, d->node.is_mn ? CMN_CST_MN : CMN_CST_IN,
                              poa, 2);

    if (rc != 0 || !d->node.is_mn) {
        if (rc != 0)
            CMN_ERR(SUB, "event=store_refused err=%s", cmn_strerror(rc));
        return rc != 0 ? EXIT_STORE : 0;
    }
    /* its sessions in a client context of their own (cse_coap_client_context) */
    if (cse_coap_client_context(d->coap) == NULL) {
        CMN_ERR(SUB, "event=coap_failed msg=\"no client context for the registrar\"");
        return EXIT_STARTUP;
    }
    rc = cse_registree_new(&d->cfg, &d->node, cse_coap_client_context(d->coap),
                           cse_coap_client(d->coap), &d->registree);
    if (rc != 0)
        return rc == CMN_ECONFIG ? EXIT_CONFIG : EXIT_STARTUP;
    cse_coap_set_uplink(d->coap, cse_registree_session, d->registree);
    d->facts.registree = d->registree;
    return 0;
}

/* SIGTERM/SIGINT: stop. SIGHUP: an MN-CSE reads its provisioning file again
 * (cse_registree_reload); nothing else is reloadable yet (logged). */
static bool drain_signals(daemon_state *d)
{
    struct signalfd_siginfo si;
    bool stop = false;

    while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            stop = true;
        else if (si.ssi_signo == SIGHUP && d->registree != NULL)
            CMN_INFO(SUB, "event=sighup reloaded=%s",
                     cse_registree_reload(d->registree) == 0 ? "registrar_provisioning" : "-");
        else if (si.ssi_signo == SIGHUP)
            CMN_INFO(SUB, "event=sighup msg=\"nothing to reload\"");
    }
    return stop;
}

/* The sync fds are fetched every turn: cmn_sync rebuilds its DEALER after a lost answer. */
#define N_FDS 9
static void fill_fds(daemon_state *d, struct pollfd fds[N_FDS])
{
    int sync_fds[2];

    cmn_sync_fds(d->sync, sync_fds);
    fds[0] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = cse_coap_fd(d->coap), .events = POLLIN};
    fds[2] = (struct pollfd){.fd = sync_fds[0], .events = POLLIN};
    fds[3] = (struct pollfd){.fd = sync_fds[1], .events = POLLIN};
    fds[4] = (struct pollfd){.fd = cse_admin_fd(d->admin), .events = POLLIN};
    fds[5] = (struct pollfd){.fd = d->maf != NULL ? cse_maf_fd(d->maf) : -1, .events = POLLIN};
    /* the decide DEALER: answers to the questions of parked requests (rebuilt after a
     * lost answer, so fetched every turn) */
    fds[6] = (struct pollfd){.fd = cse_pep_fd(d->pep), .events = POLLIN};
    /* the MN-CSE's sessions to its registrar (-1 on an IN-CSE) */
    fds[7] = (struct pollfd){.fd = cse_coap_client_fd(d->coap), .events = POLLIN};
    /* notifications over SA2 with certificates (docs/cse.md "Notifications over DTLS") */
    fds[8] = (struct pollfd){.fd = cse_coap_notify_fd(d->coap), .events = POLLIN};
}

/* Expired resources disappear (TS-0004 expirationTime); requests also check on sight. */
#define EXPIRY_SWEEP_MS 5000

static void sweep_expired(daemon_state *d, int64_t now_ms, int64_t *next_ms)
{
    size_t n = 0;
    int rc;

    if (now_ms < *next_ms)
        return;
    *next_ms = now_ms + EXPIRY_SWEEP_MS;
    rc = cse_res_expire(d->store, (int64_t)time(NULL), &n);
    if (rc != 0)
        CMN_ERR(SUB, "event=expiry_sweep_failed err=%s", cmn_strerror(rc));
    else if (n > 0)
        CMN_INFO(SUB, "event=expired count=%zu", n);
    /* and sessions whose credential expired since the last sweep */
    cse_saef_close_revoked(d->store, (int64_t)time(NULL));
}

/* At most 250 ms, less when libcoap or a decision deadline is due sooner. */
static int loop_timeout(const daemon_state *d, unsigned coap_ms)
{
    int ms = coap_ms < 250 ? (int)coap_ms : 250;
    int pep_ms = cse_pep_next_ms(d->pep, cmn_mono_ms());

    return pep_ms >= 0 && pep_ms < ms ? pep_ms : ms;
}

/* The MAF-based SAEF between saef and maf, which know nothing of each other: the Kc
 * identities the PSK callback did not know go to the MAF Key Retrieval, and the sessions
 * of the Kc the MAF side revoked are closed now (TS-0003 10.7), in the same turn. */
static void maf_turn(daemon_state *d)
{
    char ids[CSE_SAEF_WANTED_MAX][CMN_KEY_ID_MAX];
    size_t n = cse_saef_take_wanted(ids, CSE_SAEF_WANTED_MAX);

    if (d->maf == NULL)
        return; /* no [bus] keys, no [maf] retrieval = coaps: nobody to ask */
    for (size_t i = 0; i < n; i++)
        cse_maf_want(d->maf, ids[i]);
    cse_maf_process(d->maf, cmn_mono_ms());
    if (cse_maf_take_revoked(d->maf) > 0)
        cse_saef_close_revoked(d->store, (int64_t)time(NULL));
}

static void run(daemon_state *d)
{
    struct pollfd fds[N_FDS];
    unsigned timeout = 0;
    int64_t next_sweep = 0;

    for (;;) {
        fill_fds(d, fds);
        cmn_log_flush(); /* the turn's log lines, before the loop sleeps */
        /* ZeroMQ fds are edge-like: every turn drains the sockets whatever poll says. */
        if (poll(fds, N_FDS, loop_timeout(d, timeout)) < 0 && errno != EINTR)
            break;
        if (drain_signals(d))
            break;
        /* answers and deadlines first: cse_coap_process handles the parked requests
         * whose decisions are all in */
        cse_pep_process(d->pep, cmn_mono_ms());
        timeout = cse_coap_process(d->coap);
        cmn_sync_process(d->sync, cmn_mono_ms());
        cse_admin_process(d->admin);
        maf_turn(d);
        cse_registree_process(d->registree, cmn_mono_ms());
        sweep_expired(d, cmn_mono_ms(), &next_sweep);
    }
}

static void cleanup(daemon_state *d)
{
    cmn_log_flush();
    cse_registree_free(d->registree); /* before its context goes */
    cse_coap_free(d->coap);           /* closes every session */
    if (d->node.esprim != NULL)       /* what ESPrim must remember over the restart */
        cse_esprim_save(d->node.esprim, (int64_t)time(NULL));
    cse_esprim_free(d->node.esprim);
    cse_escertke_free(d->node.escertke);
    cse_saef_clear_admin();
    cse_admin_close(d->admin);
    cse_maf_free(d->maf);
    cmn_sync_free(d->sync);
    cse_pep_free(d->pep);
    cse_dynauth_free(d->dynauth);
    cse_apprules_free(d->app_rules);
    cse_tokens_free(d->tokens);
    cmn_bus_free(d->bus);
    cmn_store_close(d->store);
    if (d->sigfd >= 0)
        close(d->sigfd);
    if (d->lockfd >= 0)
        close(d->lockfd);
    cse_config_free(&d->cfg);
}

int main(int argc, char **argv)
{
    daemon_state d = {.sigfd = -1, .lockfd = -1};
    const cmn_daemon_cli cli = {
        .prog = "tep-cse", .version = TEP_VERSION, .usage = usage, .out = stdout, .err = stderr};
    cmn_daemon_args args;
    int rc = cmn_daemon_parse_args(&cli, argc, argv, &args);

    if (rc != CMN_DAEMON_GO_ON)
        return rc; /* 0 after --help/--version, EXIT_CONFIG on a usage error */
    rc = load_config(&d, args.config);
    if (rc == 0 && args.check_only) {
        /* the certificate files too: all three or none, readable, issued by ca_file */
        cmn_pki_files f = {d.cfg.cert_file, d.cfg.key_file, d.cfg.ca_file};
        bool on;
        if (cmn_pki_check("config", "cse", &f, NULL, &on) != 0)
            rc = EXIT_CONFIG;
    }
    if (rc != 0 || args.check_only) {
        cse_config_free(&d.cfg);
        return rc;
    }
    coap_startup();
    if (rc == 0)
        rc = setup_signals(&d);
    if (rc == 0)
        rc = open_store(&d);
    if (rc == 0)
        rc = open_bus(&d);
    if (rc == 0)
        rc = open_coap(&d);
    if (rc == 0)
        rc = open_registree(&d);
    if (rc == 0) {
        CMN_INFO(SUB, "event=ready coap=%s coaps=%s cse_id=%s cse_name=%s authz=%s type=%s",
                 d.cfg.coap_listen[0] ? d.cfg.coap_listen : "off", d.cfg.coaps_listen, d.cfg.cse_id,
                 d.cfg.cse_name, d.cfg.authz_mode, d.cfg.type);
        run(&d);
        CMN_INFO(SUB, "event=stopping");
    }
    cleanup(&d);
    coap_cleanup();
    return rc;
}
