/* Start-up boilerplate shared by tep-enroller, tep-authz and tep-cse (docs/internals.md,
 * "Daemons: command line and configuration"): the command line and the signalfd of the
 * stop and reload signals. The daemon keeps its own usage text and exit codes. */
#ifndef TEP_CMN_DAEMON_H
#define TEP_CMN_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    const char *prog;         /* "tep-enroller": prefix of messages, --version line */
    const char *version;      /* TEP_VERSION of the daemon */
    void (*usage)(FILE *out); /* the daemon's --help text, configuration keys included */
    FILE *out;                /* --help and --version (stdout) */
    FILE *err;                /* usage errors (stderr) */
} cmn_daemon_cli;

typedef struct {
    const char *config; /* --config FILE: points into argv */
    bool check_only;    /* --check-config */
} cmn_daemon_args;

#define CMN_DAEMON_GO_ON (-1)

/* Parses --config FILE (-c), --check-config, --help (-h), --version (-V, -v) and
 * --foreground (-f, implicit: the daemons never daemonise). Returns CMN_DAEMON_GO_ON with
 * ret filled; or the exit code to return at once: 0 after --help or --version (printed on
 * cli->out), 1 after a usage error (the reason, then the usage, on cli->err). This is the
 * command-line front of a daemon: the one part of common/ that writes to a stream, and
 * only to the ones it is given. */
int cmn_daemon_parse_args(const cmn_daemon_cli *cli, int argc, char **argv, cmn_daemon_args *ret);

/* Blocks SIGTERM, SIGINT, SIGHUP and SIGPIPE in the calling thread (call it before the
 * ZeroMQ context starts its threads, so they inherit the mask) and returns a non-blocking
 * signalfd for the first three: the event loop reads stop and reload requests from it,
 * and a write to a closed socket gives EPIPE instead of killing the process. Returns
 * the fd (the caller closes it) or a negative CMN_E* code. */
int cmn_daemon_signalfd(void);

#endif
