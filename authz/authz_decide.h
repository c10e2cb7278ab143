/* The Policy Decision Point: one DecisionRequest in, one DecisionResponse out
 * (TS-0003 7.1.4/7.1.5 through cmn_acp), and its audit trail. No sockets here. */
#ifndef TEP_AUTHZ_DECIDE_H
#define TEP_AUTHZ_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmn_store.h"
#include "tep.pb-c.h"

#define AUTHZ_AUDIT_DB "audit"

/* Fills ret (initialised here) with the decision:
 *  - is_admin                      -> Permit, rule "admin"
 *  - no acp_json                   -> Permit only if originator == creator ("creator")
 *  - otherwise every acp_json (a pv/pvs object) through cmn_acp_evaluate; a policy that
 *    is not JSON counts as indeterminate (Deny unless another permits).
 * rsc is 2000 on Permit, 4103 on Deny. ret->rule is malloc'd and owned by ret: release
 * with authz_decide_clear(). Returns 0, or CMN_ENOMEM (ret is then a Deny, rule
 * "out of memory"). */
int authz_decide(const Tep__DecisionRequest *rq, Tep__DecisionResponse *ret);
void authz_decide_clear(Tep__DecisionResponse *resp); /* NULL is fine */

/* true when the Token-ID is revoked (a store error must answer true: fail closed). */
typedef bool (*authz_revoked_fn)(const char *tkid, void *arg);
/* authz_decide, then, when it denies, dynamic authorization (TS-0003 7.3): the
 * privileges the DAS granted (dynamic_acp_json, rule "das.acp[i].acr[j]"), then those
 * of each token (token_acp_json, rule "token[i].acp[0].acr[j]") whose token_ids[i] is
 * not revoked. A Deny that only a revoked token would have lifted has rule
 * "token revoked". */
int authz_decide_dynamic(const Tep__DecisionRequest *rq, authz_revoked_fn revoked, void *arg,
                         Tep__DecisionResponse *ret);

/* The audit log: db "audit", key = big-endian seq, value = tep.AuditRecord. */
/* Newest seq in the log (0 when empty). */
int authz_audit_last_seq(cmn_store *store, uint64_t *ret_seq);
/* Appends (committed before it returns 0) the decision as record seq. */
int authz_audit_append(cmn_store *store, uint64_t seq, int64_t now, const Tep__DecisionRequest *rq,
                       const Tep__DecisionResponse *resp);

/* One decision of a group commit (both borrowed). */
typedef struct {
    const Tep__DecisionRequest *rq;
    const Tep__DecisionResponse *resp;
} authz_audit_item;
/* Group commit: items[i] becomes record first_seq + i, all in ONE write transaction,
 * committed (one fsync) before it returns 0; on an error none of them is recorded. */
int authz_audit_append_many(cmn_store *store, uint64_t first_seq, int64_t now,
                            const authz_audit_item *items, size_t n);

/* Retention of the audit log (tep-authz keeps it in its own LMDB environment,
 * <data_dir>/audit, whose map is bounded too): at most max_records records and none
 * older than max_age seconds (0: no such bound). */
typedef struct {
    uint64_t max_records;
    int64_t max_age;
} authz_audit_limits;
/* authz_audit_append_many, then, in the same transaction, the oldest records beyond the
 * limits deleted (at most n + AUTHZ_AUDIT_PRUNE_SLACK per call, so the work per batch
 * is bounded and a log above its bound shrinks back). *ret_pruned (may be NULL): how
 * many were deleted. */
#define AUTHZ_AUDIT_PRUNE_SLACK 64
int authz_audit_append_bounded(cmn_store *store, uint64_t first_seq, int64_t now,
                               const authz_audit_item *items, size_t n,
                               const authz_audit_limits *lim, size_t *ret_pruned);
/* Oldest seq and number of records (both 0 when empty). */
int authz_audit_span(cmn_store *store, uint64_t *ret_oldest, uint64_t *ret_count);

/* One page of the log read backwards (tepctl audit): the newest `max` records (0: 1)
 * whose originator is `originator` (NULL or "": any) and whose seq is below `before`
 * (0: no bound), examining at most scan_max records (0: no bound), so that one page's
 * work is bounded however sparse the originator is. */
typedef struct {
    const char *originator;
    uint64_t before;
    size_t max, scan_max;
} authz_audit_page;
/* The page, oldest first. *ret_next: 0 when no older matching record exists, else the
 * bound of the next page (every record from *ret_next up to `before` was examined; the
 * page may hold fewer than max, even none, when scan_max stopped it). *ret is owned by
 * the caller: authz_audit_query_free(). */
int authz_audit_query(cmn_store *store, const authz_audit_page *q, Tep__AuditRecord ***ret,
                      size_t *ret_n, uint64_t *ret_next);
void authz_audit_query_free(Tep__AuditRecord **recs, size_t n);

#endif
