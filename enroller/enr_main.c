/* tep-enroller: the M2M Enrolment Function (TS-0003 8.3.2.1). Start-up is linear:
 * arguments, configuration, log, signals, store, bus, CoAPS, ready, loop, cleanup. */
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

#include "cmn_daemon.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "enr_bus.h"
#include "enr_gba.h"
#include "enr_ca.h"
#include "enr_coap.h"
#include "enr_config.h"
#include "enr_db.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

#define PROG "tep-enroller"
#define TICK_MS 1000

enum { EXIT_OK = 0, EXIT_CONFIG = 1, EXIT_STORE = 2, EXIT_BIND = 3, EXIT_START = 4 };

static void usage(FILE *out)
{
    fprintf(out, "Usage: " PROG " --config FILE [--check-config]\n"
                 "       " PROG " --help | --version\n\n"
                 "The tep M2M Enrolment Function: DTLS-PSK enrolment over CoAPS, credential\n"
                 "events and sync on the bus, admin for tepctl. Runs in the foreground.\n\n"
                 "Configuration keys (override with TEP_<SECTION>_<KEY>):\n");
    enr_config_print_help(out);
}

/* SIGHUP: what may be reloaded is the manufacturer trust anchors (TS-0003 8.3.2.2), the
 * enrolment targets and the [bus] peers that bind them (a gateway added without a
 * restart); the whole file is checked again and nothing changes when it has an error.
 * Other keys need a restart. */
static void reload(const char *path, enr_config *live, enr_coap *coap, enr_bus *bus)
{
    enr_config cfg = {0};
    char err[512];
    int rc;

    if (enr_config_load(path, &cfg, err, sizeof(err)) != 0 ||
        enr_config_reloadable(live, &cfg, err, sizeof(err)) != 0) {
        CMN_ERR("main", "event=reload_refused msg=\"%s\"", err);
        enr_config_free(&cfg);
        return;
    }
    enr_coap_reload_trust(coap, cfg.mfr_trust_anchors, cfg.mfr_crls);
    if ((rc = enr_bus_reload_peers(bus, &cfg)) != 0) {
        CMN_ERR("main", "event=reload_refused key=targets msg=\"bus.peers: %s\" kept=%zu",
                cmn_strerror(rc), live->n_targets);
    } else {
        enr_config_take_targets(live, &cfg);
        CMN_INFO("main", "event=reloaded key=targets targets=%zu", live->n_targets);
    }
    enr_config_free(&cfg);
}

/* true when a stop signal arrived. */
static bool read_signals(int sigfd, const char *config, enr_config *cfg, enr_coap *coap,
                         enr_bus *bus)
{
    struct signalfd_siginfo si;
    bool stop = false;

    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            CMN_INFO("main", "event=sighup action=reload");
            reload(config, cfg, coap, bus);
        } else {
            stop = true;
        }
    }
    return stop;
}

static void on_events(const enr_events *ev, void *arg)
{
    enr_bus_queue(arg, ev);
}

static int run_loop(enr_config *cfg, enr_coap *coap, enr_bus *bus, enr_gba *gba, int sigfd,
                    const char *config)
{
    struct pollfd pfd[5] = {{.fd = sigfd, .events = POLLIN},
                            {.fd = enr_coap_fd(coap), .events = POLLIN}};
    int bus_fds[2], wait_ms = 0;

    enr_bus_fds(bus, bus_fds);
    pfd[2] = (struct pollfd){.fd = bus_fds[0], .events = POLLIN};
    pfd[3] = (struct pollfd){.fd = bus_fds[1], .events = POLLIN};
    pfd[4] = (struct pollfd){.fd = gba != NULL ? enr_gba_fd(gba) : -1, .events = POLLIN};
    for (;;) {
        if (poll(pfd, 5, wait_ms > 0 && wait_ms < TICK_MS ? wait_ms : TICK_MS) < 0 &&
            errno != EINTR)
            return CMN_EIO;
        if (read_signals(sigfd, config, cfg, coap, bus))
            return 0;
        if (gba != NULL)
            enr_gba_process(gba, (int64_t)time(NULL));
        wait_ms = enr_coap_process(coap);
        if (wait_ms < 0)
            return wait_ms;
        enr_bus_process(bus);
        enr_bus_flush(bus);
    }
}

static int load_config(const cmn_daemon_args *a, enr_config *cfg)
{
    char err[512];

    if (enr_config_load(a->config, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_CONFIG;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    const cmn_daemon_cli cli = {
        .prog = PROG, .version = TEP_VERSION, .usage = usage, .out = stdout, .err = stderr};
    cmn_daemon_args args;
    enr_config cfg = {0};
    cmn_store *store = NULL;
    enr_bus *bus = NULL;
    enr_coap *coap = NULL;
    enr_ca *ca = NULL;
    enr_gba *gba = NULL;
    int sigfd = -1, rc, ex;

    rc = cmn_daemon_parse_args(&cli, argc, argv, &args);
    if (rc != CMN_DAEMON_GO_ON)
        return rc; /* 0 (EXIT_OK) after --help/--version, 1 (EXIT_CONFIG) on a usage error */
    ex = load_config(&args, &cfg);
    if (ex != EXIT_OK || args.check_only)
        goto out;
    cmn_log_init(PROG, cfg.level, NULL);
    ex = EXIT_START;
    sigfd = cmn_daemon_signalfd();
    if (sigfd < 0) {
        CMN_ERR("main", "event=start_failed reason=signalfd");
        goto out;
    }
    rc = enr_db_open(cfg.data_dir, &store);
    if (rc != 0) {
        CMN_ERR("main", "event=store_failed dir=%s err=%s", cfg.data_dir, cmn_strerror(rc));
        ex = EXIT_STORE;
        goto out;
    }
    rc = enr_ca_open(store, cfg.data_dir, cfg.mef_fqdn, (int64_t)time(NULL), &ca);
    if (rc != 0) {
        CMN_ERR("main", "event=ca_failed dir=%s err=%s", cfg.data_dir, cmn_strerror(rc));
        ex = rc == CMN_ESTORE || rc == CMN_ECORRUPT ? EXIT_STORE : EXIT_START;
        goto out;
    }
    rc = enr_bus_open(&cfg, store, &bus);
    if (rc != 0) {
        ex = rc == CMN_EBUS || rc == CMN_EIO ? EXIT_BIND : EXIT_START;
        goto out;
    }
    rc = enr_coap_new(&cfg, store, ca, on_events, bus, &coap);
    if (rc != 0) {
        CMN_ERR("main", "event=listen_failed listen=%s err=%s", cfg.listen, cmn_strerror(rc));
        ex = rc == CMN_EIO ? EXIT_BIND : EXIT_START;
        goto out;
    }
    enr_bus_set_coap(bus, coap);
    if (cfg.bus_zn[0] != '\0') { /* GBA: tep-enroller is a NAF of tep-bsf */
        rc = enr_gba_new(enr_bus_ctx(bus), cfg.bus_zn, cfg.mef_fqdn, store, &gba);
        if (rc != 0) {
            CMN_ERR("main", "event=zn_failed endpoint=%s err=%s", cfg.bus_zn, cmn_strerror(rc));
            ex = EXIT_BIND;
            goto out;
        }
        enr_coap_set_gba(coap, gba);
    }
    CMN_INFO("main",
             "event=ready version=%s listen=coaps://%s mef_fqdn=%s events=%s sync=%s "
             "admin=%s ca=%s/ca.pem",
             TEP_VERSION, cfg.listen, cfg.mef_fqdn, cfg.bus_events, cfg.bus_sync, cfg.bus_admin,
             cfg.data_dir);
    rc = run_loop(&cfg, coap, bus, gba, sigfd, args.config);
    CMN_INFO("main", "event=stopping reason=%s", rc == 0 ? "signal" : cmn_strerror(rc));
    ex = rc == 0 ? EXIT_OK : EXIT_START;
out:
    enr_coap_free(coap);
    enr_gba_free(gba);
    enr_bus_close(bus);
    enr_ca_free(ca);
    cmn_store_close(store);
    if (sigfd >= 0)
        close(sigfd);
    enr_config_free(&cfg);
    return ex;
}
