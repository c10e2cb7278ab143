/* tep-authz's resources and event loop: store, bus sockets, event sync, signals. */
#ifndef TEP_AUTHZ_DAEMON_H
#define TEP_AUTHZ_DAEMON_H

#include "authz_config.h"

/* Exit codes (docs/internals.md). */
enum {
    AUTHZ_EXIT_OK = 0,
    AUTHZ_EXIT_CONFIG = 1,
    AUTHZ_EXIT_STORE = 2,
    AUTHZ_EXIT_BIND = 3,
    AUTHZ_EXIT_START = 4,
};

#define AUTHZ_STORE_SCHEMA 1

typedef struct authz_daemon authz_daemon;

/* Opens the store, binds decide/admin, starts the event sync. cfg and config_path
 * (for SIGHUP) are borrowed and must outlive the daemon; sigfd is a signalfd for
 * SIGTERM/SIGINT/SIGHUP (borrowed). Returns an AUTHZ_EXIT_* code; on success *ret is
 * the daemon (free with authz_daemon_free). Logs why it failed. */
int authz_daemon_start(const authz_config *cfg, const char *config_path, int sigfd,
                       authz_daemon **ret);
/* Serves until SIGTERM/SIGINT; returns an AUTHZ_EXIT_* code. */
int authz_daemon_run(authz_daemon *d);
void authz_daemon_free(authz_daemon *d); /* NULL is fine */

#endif
