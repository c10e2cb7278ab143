/* tep-bsf: the GBA Bootstrapping Server Function of tep (3GPP TS 33.220; TS-0003
 * 8.3.2.3). Start-up is linear: arguments, configuration, logging, signals, store, bus,
 * Ub, loop. */
#include <stdio.h>
#include <unistd.h>

#include "bsf_config.h"
#include "bsf_daemon.h"
#include "cmn_daemon.h"
#include "cmn_log.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

#define PROG "tep-bsf"

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " --config FILE [--check-config]\n"
                 "       " PROG " --help | --version\n"
                 "\n"
                 "The GBA Bootstrapping Server Function of tep (3GPP TS 33.220, TS-0003 8.3.2.3):\n"
                 "holds the subscribers' K, OPc and SQN (the HSS's data), runs HTTP Digest AKA\n"
                 "(RFC 3310) with Milenage on the Ub interface, issues B-TIDs, and answers the\n"
                 "NAF key requests of tep-enroller (Zn) on the bus. Every key below can be\n"
                 "overridden by the environment variable TEP_<SECTION>_<KEY>.\n"
                 "\n"
                 "options:\n"
                 "  -c, --config FILE    configuration file (required)\n"
                 "      --check-config   validate the configuration and exit (0 valid, 1 not)\n"
                 "  -h, --help           this text\n"
                 "  -V, --version        print the version\n"
                 "\n"
                 "configuration keys:\n");
    bsf_config_print_help(out);
}

int main(int argc, char **argv)
{
    const cmn_daemon_cli cli = {
        .prog = PROG, .version = TEP_VERSION, .usage = usage, .out = stdout, .err = stderr};
    cmn_daemon_args args;
    bsf_config cfg;
    bsf_daemon *d = NULL;
    char err[512];
    int sigfd = -1;
    int rc = cmn_daemon_parse_args(&cli, argc, argv, &args);

    if (rc != CMN_DAEMON_GO_ON)
        return rc;
    if (bsf_config_load(args.config, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return BSF_EXIT_CONFIG;
    }
    rc = BSF_EXIT_OK;
    if (args.check_only)
        goto out;
    cmn_log_init(PROG, cfg.level, NULL);
    sigfd = cmn_daemon_signalfd();
    if (sigfd < 0) {
        CMN_ERR("main", "event=signalfd_failed");
        rc = BSF_EXIT_START;
        goto out;
    }
    rc = bsf_daemon_start(&cfg, args.config, sigfd, &d);
    if (rc == BSF_EXIT_OK)
        rc = bsf_daemon_run(d);
    bsf_daemon_free(d);
out:
    if (sigfd >= 0)
        close(sigfd);
    bsf_config_free(&cfg);
    return rc;
}
