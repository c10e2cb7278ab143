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

#endif
