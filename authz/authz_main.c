/* tep-authz: the M2M Authentication Function (MAF) and Policy Decision Point of tep.
 * Start-up is linear: arguments, configuration, logging, signals, store, bus, loop. */
#include <coap3/coap.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "authz_config.h"
#include "authz_daemon.h"
#include "cmn_log.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

#define PROG "tep-authz"

typedef struct {
    const char *config_path;
    bool check_only;
} authz_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --config FILE [--check-config]\n"
            "       " PROG " --help | --version\n"
            "\n"
            "The MAF and Policy Decision Point of tep: answers access decisions (TS-0003\n"
            "7.1.5) on the decide socket and keeps the MAF credentials (Km) it learns from\n"
            "tep-enroller's events. Every key below can be overridden by the environment\n"
            "variable TEP_<SECTION>_<KEY>.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE    configuration file (required)\n"
            "      --check-config   validate the configuration and exit (0 valid, 1 not)\n"
            "  -h, --help           this text\n"
            "  -V, --version        print the version\n"
            "\n"
            "configuration keys:\n");
    authz_config_print_help(out);
}

/* Returns -1 to go on, or the exit code (after --help, --version, a usage error). */
static int parse_args(int argc, char **argv, authz_args *ret)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {"foreground", no_argument, NULL, 'f'},   {NULL, 0, NULL, 0},
    };
    int c;

    memset(ret, 0, sizeof(*ret));
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': ret->config_path = optarg; break;
        case 'k': ret->check_only = true; break;
        case 'f': break; /* implicit: tep-authz never daemonises */
        case 'h': usage(stdout); return AUTHZ_EXIT_OK;
        case 'V': printf(PROG " " TEP_VERSION "\n"); return AUTHZ_EXIT_OK;
        default: usage(stderr); return AUTHZ_EXIT_CONFIG;
        }
    }
    if (optind < argc || ret->config_path == NULL) {
        fprintf(stderr, PROG ": %s\n",
                optind < argc ? "unexpected argument" : "--config FILE is required");
        return AUTHZ_EXIT_CONFIG;
    }
    return -1;
}

/* Blocks SIGTERM/SIGINT/SIGHUP (before ZeroMQ starts its threads) and returns a
 * signalfd for them, or -1. */
static int block_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
    authz_args args;
    authz_config cfg;
    authz_daemon *d = NULL;
    char err[512];
    int sigfd = -1;
    int rc = parse_args(argc, argv, &args);

    if (rc >= 0)
        return rc;
    if (authz_config_load(args.config_path, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return AUTHZ_EXIT_CONFIG;
    }
    rc = AUTHZ_EXIT_OK;
    if (args.check_only)
        goto out;
    cmn_log_init(PROG, cfg.level, NULL);
    sigfd = block_signals();
    if (sigfd < 0) {
        CMN_ERR("main", "event=signalfd_failed");
        rc = AUTHZ_EXIT_START;
        goto out;
    }
    coap_startup(); /* the CoAPS token endpoint (libcoap) */
    rc = authz_daemon_start(&cfg, args.config_path, sigfd, &d);
    if (rc == AUTHZ_EXIT_OK)
        rc = authz_daemon_run(d);
    authz_daemon_free(d);
    coap_cleanup();
out:
    if (sigfd >= 0)
        close(sigfd);
    authz_config_free(&cfg);
    return rc;
}
