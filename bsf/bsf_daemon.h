/* tep-bsf's store, bus and event loop. */
#ifndef TEP_BSF_DAEMON_H
#define TEP_BSF_DAEMON_H

#include "bsf_config.h"

enum {
    BSF_EXIT_OK = 0,
    BSF_EXIT_CONFIG = 1,
    BSF_EXIT_STORE = 2,
    BSF_EXIT_BIND = 3,
    BSF_EXIT_START = 4,
};

typedef struct bsf_daemon bsf_daemon;

/* Opens the store, binds Ub, zn and admin. cfg, config_path and sigfd are borrowed.
 * Returns a BSF_EXIT_* code; on success *ret is the daemon. */
int bsf_daemon_start(const bsf_config *cfg, const char *config_path, int sigfd, bsf_daemon **ret);
/* Serves until SIGTERM/SIGINT; returns a BSF_EXIT_* code. */
int bsf_daemon_run(bsf_daemon *d);
void bsf_daemon_free(bsf_daemon *d); /* NULL is fine */

#endif
