/* container semantics (TS-0004 7.4.6, 7.4.7): the maxNrOfInstances (mni),
 * maxByteSize (mbs) and maxInstanceAge (mia) limits, and the <latest>/<oldest>
 * virtual children (`la`, `ol`).
 *
 * Each container's contentInstances are kept in an age index, db CSE_DB_CIN_AGE: key
 * "<cnt path>\0" + big-endian u64 age (1, 2, ... in creation order, Resource.age),
 * value big-endian ct (8), cs (8), then "<ri>\0<path>". la/ol are a cursor at either end
 * of the container's keys, eviction deletes from the oldest end, and the container's
 * cni/cbs (in its attributes) change by each instance added or removed: no request
 * walks or sorts a container. */
#ifndef TEP_CSE_CONTAINER_H
#define TEP_CSE_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "cmn_store.h"
#include "cse_record.h"
#include "tep.pb-c.h"

/* The latest (oldest = false) or oldest contentInstance of the container at cnt_path
 * (caller frees *ret). CMN_ENOTFOUND when it holds none. */
int cse_cnt_edge(cmn_store *st, const char *cnt_path, bool oldest, Tep__Resource **ret);

/* Deletes the oldest contentInstances of cnt while it holds more than mni of them or
 * more than mbs bytes, and every one older than mia seconds. Writes (one transaction)
 * only when there is something to delete. */
int cse_cnt_enforce(cmn_store *st, const Tep__Resource *cnt, int64_t now);
/* The same on a read: there only mia can have aged instances out since the last write
 * (every write enforces mni and mbs), so a container without mia is left unparsed. */
int cse_cnt_enforce_age(cmn_store *st, const Tep__Resource *cnt, int64_t now);

/* Inside the transaction that stores a new contentInstance cin (before it is put): gives
 * it the next age (cin->age) and indexes it with its content size cs. */
int cse_cnt_txn_index(cmn_txn *t, Tep__Resource *cin, long cs);
/* Removes a contentInstance's index entry (its record is the caller's to delete). */
int cse_cnt_txn_unindex(cmn_txn *t, const Tep__Resource *cin);
/* Then, in the same transaction: the container at cnt_path counts dn more instances and
 * dbytes more bytes (cni, cbs), evicts from the oldest end what its limits no longer
 * allow, and its st and lt follow. *ret_evicted (may be NULL): how many were evicted. */
int cse_cnt_txn_settle(cmn_txn *t, const char *cnt_path, long dn, long dbytes, int64_t now,
                       size_t *ret_evicted);

/* The age index key of an instance: ret holds strlen(cnt_path) + 9; returns its length. */
size_t cse_cnt_age_key(const char *cnt_path, uint64_t age, uint8_t *ret);

#endif
