/* tep-authz's policy log: what a PDP replica must know of the writer's state, as an
 * event log served the way tep-enroller serves its own (SyncRequest -> SyncResponse on
 * the writer's [bus] policy_sync ROUTER, a poke on its policy_events PUB), so a replica
 * keeps its copy with common/cmn_sync.h: durable position, catch-up after any outage,
 * reset when the writer's store is another one (epoch). One kind of event today:
 * TOKEN_REVOKED (tepctl token revoke). ACPs need no copy: tep-cse sends them with each
 * DecisionRequest. docs/internals.md "PDP replicas". */
#ifndef TEP_AUTHZ_PLOG_H
#define TEP_AUTHZ_PLOG_H

#include <stdint.h>

#include "cmn_store.h"
#include "tep.pb-c.h"

#define AUTHZ_PLOG_DB "policy_log"           /* big-endian u64 seq -> packed tep.Event */
#define AUTHZ_PLOG_META_DB "policy_log_meta" /* "epoch" (32 hex), "last" (u64 BE) */
#define AUTHZ_PLOG_MAX 256                   /* events in one answer, at most */

/* Writer, at start: the log's epoch made once; a store from before the log gets one
 * TOKEN_REVOKED event per token already revoked (once, while the log is empty). */
int authz_plog_open(cmn_store *store);
/* Writer: the token revoked and its event appended in one transaction; *ret_ev (may be
 * NULL) gets the event to publish (free with tep__event__free_unpacked). */
int authz_plog_revoke(cmn_store *store, const char *tkid, int64_t now, Tep__Event **ret_ev);
int authz_plog_last(cmn_store *store, uint64_t *ret_last);
/* Writer: the events after req->after_seq (at most req->max, AUTHZ_PLOG_MAX), with
 * last_seq, more and epoch. Free with authz_plog_answer_clear. */
int authz_plog_answer(cmn_store *store, const Tep__SyncRequest *req, Tep__SyncResponse *resp);
void authz_plog_answer_clear(Tep__SyncResponse *resp);

/* Replica: cmn_sync's apply and reset functions (arg unused). */
int authz_plog_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg);
int authz_plog_reset(cmn_store *store, cmn_txn *txn, void *arg);

#endif
