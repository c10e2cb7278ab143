/* tepctl: the operator console. Global options, then a command; every command talks
 * to one daemon's admin socket (docs/internals.md "tepctl"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tctl.h"
#include "tctl_audit.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT | --config FILE] [--timeout MS] COMMAND ...\n\n"
            "Commands:\n"
            "  enrolee add NAME --out FILE [options]   pre-provision an enrolee\n"
            "  enrolee list | enrolee show NAME        list enrolees; one of them\n"
            "  enrolee revoke NAME                     revoke an enrolee\n"
            "  app add APP-ID --out FILE [options]     application enrolment credential\n"
            "  app list | app revoke APP-ID            ... its instances; revoke them all\n"
            "  cert list | cert revoke SERIAL          certificates the tep CA issued; revoke one\n"
            "  events [--after SEQ] [--max N]          the enrolment event log\n"
            "  status [enroller|authz|cse|bsf]         daemon status (KEY=value)\n"
            "  cse deregister | cse register           an MN-CSE leaves / rejoins its registrar\n"
            "  audit [--originator ID] [--last N|--all] tep-authz's access decisions\n"
            "  token revoke TOKEN-ID                   refuse a token from now on\n"
            "  maf keys | maf revoke KEY-ID            keys registered at the MAF; revoke one\n"
            "  gba add IMPI [--k HEX --opc HEX]        a GBA subscriber of tep-bsf\n"
            "  gba list | gba btids                    its subscribers; the B-TIDs it issued\n"
            "  bus sync|key ...                        what this bus identity is handed\n\n"
            "  --admin ENDPOINT  the daemon's admin socket (ipc:// or tcp://)\n"
            "  --config FILE     read the admin socket (and defaults) from the daemon's .ini\n"
            "  --timeout MS      how long to wait for an answer (default %d)\n"
            "  COMMAND --help    help on one command\n\n"
            "Exit: 0 ok, 1 usage, 2 daemon unreachable, 3 refused by the daemon.\n",
            TCTL_DEFAULT_TIMEOUT_MS);
}

/* Global options; returns the index of the command or -1 (usage) / -2 (done, exit 0). */
static int parse_global(int argc, char **argv, tctl_opts *o)
{
    static const struct option opts[] = {
        {"admin", required_argument, NULL, 'a'},   {"config", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o->admin = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 't':
            o->timeout_ms = (int)strtol(optarg, &end, 10);
            if (*end || o->timeout_ms <= 0)
                return -1;
            break;
        case 'h':
            usage(stdout);
            return -2;
        case 'V':
            printf("tepctl " TEP_VERSION "\n");
            return -2;
        default:
            return -1;
        }
    }
    return optind < argc ? optind : -1;
}

int main(int argc, char **argv)
{
    tctl_opts o = {NULL, NULL, TCTL_DEFAULT_TIMEOUT_MS};
    int cmd = parse_global(argc, argv, &o);

    if (cmd == -2)
        return TCTL_OK;
    if (cmd < 0) {
        usage(stderr);
        return TCTL_USAGE;
    }
    if (!strcmp(argv[cmd], "enrolee"))
        return tctl_enrolee_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "app"))
        return tctl_app_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "cert"))
        return tctl_cert_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "events"))
        return tctl_events_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "status"))
        return tctl_status_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "cse"))
        return tctl_cse_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "audit"))
        return tctl_audit_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "token"))
        return tctl_token_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "maf"))
        return tctl_maf_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "gba"))
        return tctl_gba_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "bus"))
        return tctl_bus_main(&o, argc - cmd, argv + cmd);
    if (!strcmp(argv[cmd], "help")) {
        usage(stdout);
        return TCTL_OK;
    }
    fprintf(stderr, "tepctl: unknown command '%s'\n", argv[cmd]);
    usage(stderr);
    return TCTL_USAGE;
}
