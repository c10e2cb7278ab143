/* The Policy Decision Point: one DecisionRequest in, one DecisionResponse out
 * (TS-0003 7.1.4/7.1.5 through cmn_acp), and its audit trail. No sockets here. */
#ifndef TEP_AUTHZ_DECIDE_H
#define TEP_AUTHZ_DECIDE_H

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

/* The audit log: db "audit", key = big-endian seq, value = tep.AuditRecord. */
/* Newest seq in the log (0 when empty). */
int authz_audit_last_seq(cmn_store *store, uint64_t *ret_seq);
/* Appends (committed before it returns 0) the decision as record seq. */
int authz_audit_append(cmn_store *store, uint64_t seq, int64_t now,
                       const Tep__DecisionRequest *rq, const Tep__DecisionResponse *resp);

#endif
