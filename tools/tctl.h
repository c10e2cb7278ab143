/* tepctl internals: global options, exit codes, the admin round trip, and reading a
 * daemon's configuration for endpoints and defaults. */
#ifndef TEP_TCTL_H
#define TEP_TCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tep.pb-c.h"

/* Exit codes (docs/internals.md "tepctl"). */
enum { TCTL_OK = 0, TCTL_USAGE = 1, TCTL_UNREACHABLE = 2, TCTL_REFUSED = 3 };

#define TCTL_DEFAULT_TIMEOUT_MS 3000
#define TCTL_DEFAULT_LIFETIME 31536000L
#define TCTL_DEFAULT_MEF_FQDN "mef.tep.local"
#define TCTL_DEFAULT_MEF_URI "coaps://127.0.0.1:5784"

typedef struct {
    const char *admin;  /* --admin ENDPOINT, or NULL */
    const char *config; /* --config FILE (a daemon's .ini), or NULL */
    int timeout_ms;
} tctl_opts;

/* A setting of the daemon configuration: environment TEP_<SECTION>_<KEY> first, then
 * o->config. 0 and buf, or CMN_ENOTFOUND. */
int tctl_setting(const tctl_opts *o, const char *section, const char *key, char *buf, size_t len);
/* The admin endpoint of daemon ("enroller", "authz", "cse", "bsf"): --admin, else [bus] admin
 * of --config, else ipc:///run/tep/<daemon>-admin.ipc. */
void tctl_admin_endpoint(const tctl_opts *o, const char *daemon, char *buf, size_t len);

/* Sends req, waits for the AdminResponse. Returns a TCTL_* exit code and prints the
 * reason on stderr when it is not TCTL_OK; *ret (an envelope with admin_resp) is owned
 * by the caller: cmn_bus_env_free(). */
int tctl_admin_call(const tctl_opts *o, const char *daemon, const Tep__AdminRequest *req,
                    Tep__Envelope **ret);

/* One round trip of env to endpoint (CURVE from --config as for admin calls); "what"
 * names the peer in the unreachable message. TCTL_OK and *ret (owned by the caller:
 * cmn_bus_env_free()), or TCTL_USAGE / TCTL_UNREACHABLE with the reason on stderr. */
int tctl_bus_call(const tctl_opts *o, const char *endpoint, const char *what,
                  const Tep__Envelope *env, Tep__Envelope **ret);

/* Fills *uri / *fqdn (when NULL) from the enroller's configuration, else the defaults. */
void tctl_mef_defaults(const tctl_opts *o, const char **uri, const char **fqdn, char *uri_buf,
                       char *fqdn_buf, size_t len);
/* An enrolee's enrolment target as tepctl shows it: its CSE-ID, or "-" for the
 * enroller's default (registrar_cse_id). */
const char *tctl_target_str(const Tep__Enrolee *e);
/* "2026-11-28T02:18:00Z" (or "-") into buf. */
void tctl_time_str(int64_t t, char *buf, size_t len);

/* A command of two verbs against one daemon: LIST_WORD (no argument) and "revoke ID"
 * (`tepctl cert list|revoke`, `tepctl maf keys|revoke`). */
typedef struct {
    const char *daemon;    /* "enroller", "authz" */
    const char *list_word; /* "list", "keys" */
    Tep__AdminRequest__Op list_op, revoke_op;
    void (*usage)(FILE *out);
    void (*set_id)(Tep__AdminRequest *req, char *id); /* revoke: the ID field */
    void (*print_list)(const Tep__AdminResponse *r);
    void (*print_revoked)(const Tep__AdminRequest *req, const Tep__AdminResponse *r);
} tctl_list_revoke;
/* Parses argv (argv[0] = the command's name), asks, prints; a TCTL_* exit code. */
int tctl_list_revoke_main(const tctl_list_revoke *c, const tctl_opts *o, int argc, char **argv);

int tctl_enrolee_main(const tctl_opts *o, int argc, char **argv);
int tctl_app_main(const tctl_opts *o, int argc, char **argv);
int tctl_cert_main(const tctl_opts *o, int argc, char **argv);
int tctl_maf_main(const tctl_opts *o, int argc, char **argv); /* tctl_maf.c: MAF keys */
int tctl_gba_main(const tctl_opts *o, int argc, char **argv); /* tctl_gba.c: tep-bsf */
int tctl_events_main(const tctl_opts *o, int argc, char **argv);
int tctl_status_main(const tctl_opts *o, int argc, char **argv);
int tctl_cse_main(const tctl_opts *o, int argc, char **argv);
int tctl_bus_main(const tctl_opts *o, int argc, char **argv); /* tctl_bus.c: credential probes */

#endif
