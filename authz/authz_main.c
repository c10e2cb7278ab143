/* tep-authz: the M2M Authentication Function (MAF) and Policy Decision Point of tep.
 * Start-up is linear: arguments, configuration, logging, signals, store, bus, loop. */
#include <coap3/coap.h>
#include <stdio.h>
#include <unistd.h>

#include "authz_config.h"
#include "authz_daemon.h"
#include "cmn_daemon.h"
#include "cmn_log.h"
#include "cmn_pki.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

#define PROG "tep-authz"

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --config FILE [--check-config]\n"
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

int main(int argc, char **argv)
{
    const cmn_daemon_cli cli = {
        .prog = PROG, .version = TEP_VERSION, .usage = usage, .out = stdout, .err = stderr};
    cmn_daemon_args args;
    authz_config cfg;
    authz_daemon *d = NULL;
    char err[512];
    int sigfd = -1;
    int rc = cmn_daemon_parse_args(&cli, argc, argv, &args);

    if (rc != CMN_DAEMON_GO_ON)
        return rc; /* AUTHZ_EXIT_OK after --help/--version, AUTHZ_EXIT_CONFIG on misuse */
    if (authz_config_load(args.config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return AUTHZ_EXIT_CONFIG;
    }
    rc = AUTHZ_EXIT_OK;
    if (args.check_only) {
        /* the certificate files too: all three or none, readable, issued by ca_file,
         * the MAF's own certificate naming onem2m:<maf_id> */
        cmn_pki_files f = {cfg.cert_file, cfg.key_file, cfg.ca_file};
        bool on;
        cmn_log_init(PROG, cfg.level, NULL);
        if (cmn_pki_check("config", "authz", &f, cfg.maf_id, &on) != 0)
            rc = AUTHZ_EXIT_CONFIG;
        goto out;
    }
    cmn_log_init(PROG, cfg.level, NULL);
    sigfd = cmn_daemon_signalfd();
    if (sigfd < 0) {
        CMN_ERR("main", "event=signalfd_failed");
        rc = AUTHZ_EXIT_START;
        goto out;
    }
    coap_startup(); /* the CoAPS token endpoint (libcoap) */
    rc = authz_daemon_start(&cfg, args.config, sigfd, &d);
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
