/* The subscriber side of the enroller's event stream, shared by tep-cse and tep-authz.
 * Events on "events" (SUB) are only a poke; the data comes from "sync" (DEALER to the
 * enroller's ROUTER): "everything after my last applied seq, with my credentials".
 * Each item is applied and the new last_applied is stored in ONE transaction, so a
 * subscriber that was down, or missed a PUB message, catches up and never skips one.
 * The daemon must list CMN_SYNC_DB among its store's databases.
 *
 * A sequence number only means something within one enroller store: each answer names
 * its store (SyncResponse.epoch). When it names another one than last_applied counts
 * in, or the enroller's last_seq is below last_applied (a backup restored), the
 * subscriber resets (cmn_sync_reset_fn, log event=enroller_reset) and applies the new
 * log from its start. It also asks whenever its SUB reconnects (an enroller restart),
 * so a restored store is seen before its next seq catches up with last_applied.
 * The digest of the last applied item's Event is stored with last_applied; each
 * request asks after last_applied - 1 and the answer's first item must be that Event
 * again: if the enroller's log has another one there (a restored store that already
 * went up to or past last_applied), it resets too (reason history_diverged). */
#ifndef TEP_CMN_SYNC_H
#define TEP_CMN_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"

#define CMN_SYNC_DB "sync_state"

/* Write what the item means for this daemon into txn; return 0 or a CMN_E* code (the
 * whole batch is then aborted and asked again later). */
typedef int (*cmn_sync_apply_fn)(cmn_txn *txn, const Tep__SyncItem *item, void *arg);

/* The enroller's store was replaced or restored (its epoch changed, its last_seq is
 * below our last_applied, or its item at last_applied is another Event): delete, inside
 * txn, every record the daemon derived from the enroller's events, then return 0 or a
 * CMN_E* code. store is the subscriber's store, for reading what to delete (a read
 * transaction; txn has written nothing yet). cmn_sync then sets last_applied 0 (no
 * digest) and the new epoch in the same txn, commits and asks for everything from 0;
 * the applied hook runs once the new log is caught up (also when it has no events). On
 * any failure nothing is committed, nothing of that answer is applied, and it asks
 * again after 1 s. */
typedef int (*cmn_sync_reset_fn)(cmn_store *store, cmn_txn *txn, void *arg);

/* For reset fns: deletes in txn every record of db (as store has it) for which keep is
 * NULL or returns false; *ret_n (may be NULL) gets how many were deleted. */
int cmn_sync_clear_db(cmn_store *store, cmn_txn *txn, const char *db,
                      bool (*keep)(const void *val, size_t vlen), size_t *ret_n);

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
/* Called after each applied batch (optional), e.g. to log or to close sessions; also
 * after a reset, when caught up with the new log. */
void cmn_sync_set_applied_hook(cmn_sync *s, void (*hook)(uint64_t last, void *arg), void *arg);
/* Required for a daemon that stores records derived from the events (set it before
 * the first cmn_sync_process): without one a reset only rewinds the position, and what
 * was derived from the old log stays. */
void cmn_sync_set_reset_fn(cmn_sync *s, cmn_sync_reset_fn fn, void *arg);
/* Asks once more at the next cmn_sync_process (unless an answer is awaited or a retry
 * is scheduled): a subscriber that must know how fresh its copy is polls with it (a PUB
 * poke can be lost), e.g. tep-authz's PDP replicas. */
void cmn_sync_poll(cmn_sync *s);
/* Monotonic ms (the now_ms given to cmn_sync_process) of the last answer that left the
 * subscriber caught up with the peer's log (nothing more to fetch); 0 before the first. */
int64_t cmn_sync_answered_ms(const cmn_sync *s);
/* The epoch of the enroller store last_applied counts in ("" before the first answer
 * of an enroller that has one). */
const char *cmn_sync_epoch(const cmn_sync *s);

#endif
