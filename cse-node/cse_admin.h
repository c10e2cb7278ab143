/* The admin ROUTER of tep-cse (tepctl status cse). */
#ifndef TEP_CSE_ADMIN_H
#define TEP_CSE_ADMIN_H

#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"
#include "cse_coap.h"

typedef struct cse_admin cse_admin;

typedef struct {
    const char *cse_id;
    cmn_store *store;                /* borrowed */
    uint64_t last_seq;               /* updated by the daemon after each sync batch */
    const cse_coap *coap;            /* borrowed: DTLS flood counters; NULL until bound */
    const cse_node *node;            /* borrowed: CSE registration (cse_type, registered_cses) */
    struct cse_registree *registree; /* MN-CSE: its registration, else NULL */
} cse_admin_facts;

/* Binds a ROUTER on endpoint (an ipc:// directory is created). facts is borrowed.
 * admin_keys: [bus] admin_keys (cmn_bus_peers.h, names read in key_dir), the keys
 * whose requests are answered (and tep-cse's own, cmn_bus_admin_keys_new); "" with an
 * ipc:// endpoint: the socket's permissions. */
int cse_admin_open(cmn_bus *bus, const char *endpoint, const char *admin_keys, const char *key_dir,
                   const cse_admin_facts *facts, cse_admin **ret);
void cse_admin_close(cse_admin *a); /* NULL is fine */
int cse_admin_fd(cse_admin *a);
/* Answers every waiting request. */
void cse_admin_process(cse_admin *a);

#endif
