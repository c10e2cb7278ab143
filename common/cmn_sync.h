/* The subscriber side of the enroller's event stream, shared by tep-cse and tep-authz.
 * Events on "events" (SUB) are only a poke; the data comes from "sync" (DEALER to the
 * enroller's ROUTER): "everything after my last applied seq, with my credentials".
 * Each item is applied and the new last_applied is stored in ONE transaction, so a
 * subscriber that was down, or missed a PUB message, catches up and never skips one.
 * The daemon must list CMN_SYNC_DB among its store's databases. */
#ifndef TEP_CMN_SYNC_H
#define TEP_CMN_SYNC_H

#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"

#define CMN_SYNC_DB "sync_state"

/* Write what the item means for this daemon into txn; return 0 or a CMN_E* code (the
 * whole batch is then aborted and asked again later). */
typedef int (*cmn_sync_apply_fn)(cmn_txn *txn, const Tep__SyncItem *item, void *arg);

typedef struct cmn_sync cmn_sync;

int cmn_sync_new(cmn_bus *bus, cmn_store *store, const char *events_ep, const char *sync_ep,
                 const char *target_id, cmn_sync_apply_fn fn, void *arg, cmn_sync **ret);
void cmn_sync_free(cmn_sync *s); /* NULL is fine */
/* The two fds to poll (SUB, DEALER). The DEALER is rebuilt after a lost answer, so
 * its fd changes: fetch the fds again before each poll. */
void cmn_sync_fds(cmn_sync *s, int ret_fds[2]);
/* Call when an fd polls readable and on every loop tick: drains both sockets, applies
 * answers, asks again after a lost answer (Lazy Pirate, 1 s) and once at start. */
int cmn_sync_process(cmn_sync *s, int64_t now_ms);
uint64_t cmn_sync_last_applied(const cmn_sync *s);
/* Called after each applied batch (optional), e.g. to log or to close sessions. */
void cmn_sync_set_applied_hook(cmn_sync *s, void (*hook)(uint64_t last, void *arg), void *arg);

#endif
