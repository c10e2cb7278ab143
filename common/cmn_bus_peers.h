/* Bus identities: which CURVE public key speaks for which target (docs/internals.md
 * "Authenticated credential hand-off"). A daemon that hands out key material on the bus
 * (tep-enroller's sync: Kpsa/Km; tep-authz's keys: Kc) binds each client key to ONE
 * identity, a CSE-ID ("/tep-cse") or a MAF-ID ("maf.tep.local"), in its configuration:
 *
 *   [bus] peers = /tep-cse=cse, maf.tep.local=authz, /mn-cse1=z85:<40 Z85 characters>
 *
 * A key is named by the file curve_dir/<name>.pub (cmn_bus.h "CURVE"; read when asked,
 * so a key published after the start is found), or given inline as z85:<key>. The
 * identity of a request is the one bound to the key its connection proved
 * (cmn_bus_recv_peer); a request naming another target gets nothing. */
#ifndef TEP_CMN_BUS_PEERS_H
#define TEP_CMN_BUS_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "cmn_bus.h"

typedef struct cmn_bus_peers cmn_bus_peers;

/* Config validator of the list (cmn_config.h): each item IDENTITY=KEY, IDENTITY an
 * SP-relative CSE-ID or an FQDN, KEY a curve name ([A-Za-z0-9._-], not starting with
 * '.') or z85:<a valid 40-character Z85 key>; identities unique, an inline key bound
 * to one identity only. */
int cmn_bus_peers_valid(const char *list, char *err, size_t errlen);

/* Parses a list that passed cmn_bus_peers_valid; key_dir: the CURVE trust directory
 * names are read from. *ret owned by the caller: cmn_bus_peers_free(). An empty list
 * gives a table with no binding (cmn_bus_peers_count 0). */
int cmn_bus_peers_new(const char *list, const char *key_dir, cmn_bus_peers **ret);
void cmn_bus_peers_free(cmn_bus_peers *p); /* NULL is fine */
size_t cmn_bus_peers_count(const cmn_bus_peers *p);
bool cmn_bus_peers_binds(const cmn_bus_peers *p, const char *identity);

/* Is peer_z85 (the proven key of a request, "" without CURVE) bound to claimed? 0 when
 * it is; CMN_EDENIED otherwise, and *ret_bound (may be NULL) the identity the key is
 * bound to, or NULL when it is bound to none (unknown key, no CURVE) or to more than one
 * (two names whose files hold the same key: refused, a key speaks for one identity). */
int cmn_bus_peers_check(const cmn_bus_peers *p, const char *peer_z85, const char *claimed,
                        const char **ret_bound);

/* ---- who may administer: [bus] admin_keys (docs/internals.md "Bus security") --------
 * A daemon's admin socket (the ROUTER tepctl talks to) answers only the keys of
 *
 *   [bus] admin_keys = operator, z85:<40 Z85 characters>, ...
 *
 * each a curve name (the file curve_dir/<name>.pub, read at each request) or an inline
 * z85:<key>; every other key of the trust directory (a gateway's, another daemon's) is
 * refused. A tcp:// admin socket with CURVE must have the list (the daemon refuses to
 * start without it); an ipc:// one (the one-host platform) may not (no requester key is
 * proven there: the socket directory's 0700 permissions are the guard). A table of
 * keys is a cmn_bus_peers whose identities are the items themselves. */

/* Config validator of the list: items comma-separated, each a curve name or z85:<a
 * valid key>, unique; "" is the empty list. */
int cmn_bus_keys_valid(const char *list, char *err, size_t errlen);
/* The [bus] admin_keys row of a daemon's configuration table (T: its config struct,
 * field: its string). */
#define CMN_BUS_ADMIN_KEYS_CFG_ITEM(T, field)                                                      \
    CMN_CFG_STR_ITEM(T, "bus", "admin_keys", "", field, cmn_bus_keys_valid,                        \
                     "who may administer (the admin socket): CURVE key names (or z85:KEY), "       \
                     "comma-separated; required with a tcp:// admin and CURVE, not allowed "       \
                     "without")
/* Parses a list that passed cmn_bus_keys_valid (as cmn_bus_peers_new). */
int cmn_bus_keys_new(const char *list, const char *key_dir, cmn_bus_peers **ret);
/* The admin table of a daemon: the keys of admin_keys (as cmn_bus_keys_new) and, when
 * the list is not empty and bus has CURVE, the daemon's own public key: its own key
 * administers itself (its health check, `tepctl --config <its .ini>` beside it; whoever
 * holds that secret key holds the daemon already), never another daemon. */
int cmn_bus_admin_keys_new(const char *admin_keys, const char *key_dir, const cmn_bus *bus,
                           cmn_bus_peers **ret);
/* Is peer_z85 one of the keys of p? (A key named twice is found all the same.) */
bool cmn_bus_keys_has(const cmn_bus_peers *p, const char *peer_z85);

/* The consistency of a daemon's admin socket and its admin_keys, at configuration
 * load: path its file (NULL: the environment only), admin_ep its [bus] admin endpoint.
 * 0, or CMN_ECONFIG with "WHERE: bus.admin_keys: reason" in err (WHERE: file:line, or
 * the environment variable, cmn_config_where). */
int cmn_bus_admin_keys_check(const char *path, const char *admin_ep, bool curve,
                             const char *admin_keys, char *err, size_t errlen);

/* The gate of every admin request: may the requester whose proven key is peer_z85
 * ("" without CURVE) administer? With admin_keys (count > 0): only one of its keys.
 * Without: only a requester without CURVE (ipc://; a CURVE key is refused: never
 * trusted by default). A refusal is logged (subsystem sub): event=admin_refused
 * peer_key=<its first 8 Z85 characters, or none> op=<the AdminRequest op, lower
 * case> reason=no_admin_keys|not_an_admin_key. */
bool cmn_bus_admin_allowed(const cmn_bus_peers *admins, const char *peer_z85, int op,
                           const char *sub);

#endif
