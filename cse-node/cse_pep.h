/* The Policy Enforcement Point (TS-0003 7.1): builds the DecisionRequest of a request
 * and gets the decision, either from tep-authz over the bus (remote) or from the same
 * evaluator in process (local). Both apply one rule set:
 *  - the authenticated admin is always permitted (rule "admin");
 *  - policies given (acp_json non-empty): cmn_acp_evaluate, permit-overrides;
 *  - no policies: only the creator (custodian) is permitted (rule "creator").
 * Anything indeterminate is Deny 4103. */
#ifndef TEP_CSE_PEP_H
#define TEP_CSE_PEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

typedef struct cse_pep cse_pep;

typedef struct {
    bool permit;
    unsigned rsc; /* 0 when permitted, 4103 when denied (4000: bad token parameter) */
    char rule[64];
} cse_decision;

/* local: evaluate in process. */
int cse_pep_new_local(cse_pep **ret);
/* remote: DEALER to endpoint; a decision not back within deadline_ms is a Deny.
 * bus is borrowed and must outlive the PEP. */
int cse_pep_new_remote(cmn_bus *bus, const char *endpoint, int deadline_ms, const char *sender,
                       cse_pep **ret);
void cse_pep_free(cse_pep *p); /* NULL is fine */

/* The decision for rq. Never fails open: on any error ret is a Deny. */
void cse_pep_decide(cse_pep *p, const Tep__DecisionRequest *rq, cse_decision *ret);

/* The shared rule set above, in process (also what tep-authz implements), then, on
 * Deny, the dynamic privileges of rq (dynamic_acp_json, token_acp_json; no revocation
 * list in process). _static: the rule set alone. */
void cse_pep_evaluate_local(const Tep__DecisionRequest *rq, cse_decision *ret);
void cse_pep_evaluate_static(const Tep__DecisionRequest *rq, cse_decision *ret);

/* A question to tep-authz's decide socket (remote only, else CMN_ESTATE): env gets
 * sender and a fresh request_id; *ret (cmn_bus_env_free) is the answer of body case
 * want.
 * Inside cse_pep_begin/cse_pep_end (a request that can be parked): the answer this
 * request got before, or the question is sent now without waiting and CMN_EAGAIN is
 * returned (cse_pep_waiting() is then true: the result of the pass is provisional).
 * Outside (nothing parked): one blocking round trip of at most deadline_ms.
 * A question not answered within deadline_ms fails with CMN_ETIMEOUT; the DEALER is
 * then rebuilt (Lazy Pirate), the questions still outstanding fail with CMN_EAGAIN, and
 * for the next deadline_ms every new question fails at once with CMN_EAGAIN: the PDP
 * counts as down, so under load no request waits more than about one deadline (rule
 * "pdp_unavailable"). */
int cse_pep_ask(cse_pep *p, Tep__Envelope *env, Tep__Envelope__BodyCase want, Tep__Envelope **ret);
bool cse_pep_is_remote(const cse_pep *p);

/* ---- asynchronous remote decisions (DESIGN.md 1: nothing blocks inside a libcoap
 * callback) ---------------------------------------------------------------------------
 * A cse_pep_pending holds the remote questions of one request and their answers, for
 * as long as the request is parked. The CoAP glue handles a request between
 * cse_pep_begin(p, pending) and cse_pep_end(p); when cse_pep_waiting() says questions
 * were sent, the response is dropped, the request parked, and handled again (with the
 * same time) once cse_pep_pending_answered(): then every question gets its answer (or
 * its failure: a timeout is a Deny, the platform fails closed). The event loop polls
 * cse_pep_fd() and calls cse_pep_process() every turn, and waits no longer than
 * cse_pep_next_ms(). Local mode never asks: nothing is ever parked. */
typedef struct cse_pep_pending cse_pep_pending;
int cse_pep_pending_new(cse_pep_pending **ret);
/* NULL is fine. Questions still outstanding are withdrawn: their answers, when they come,
 * are dropped. Not while it is the current one (cse_pep_end first). */
void cse_pep_pending_free(cse_pep_pending *pp);
bool cse_pep_pending_answered(const cse_pep_pending *pp);
void cse_pep_begin(cse_pep *p, cse_pep_pending *pp);
cse_pep_pending *cse_pep_end(cse_pep *p); /* returns the pending that was current */
bool cse_pep_waiting(const cse_pep *p);   /* the current request has questions outstanding */
/* The rule of a provisional Deny (the question is on its way). */
#define CSE_PEP_RULE_PENDING "pending"
int cse_pep_fd(cse_pep *p); /* the DEALER's fd, -1 in local mode; may change: ask each turn */
/* Reads every answer that arrived, then fails the questions past their deadline. */
void cse_pep_process(cse_pep *p, int64_t now_ms);
/* ms until the first deadline of an outstanding question, -1 when none. */
int cse_pep_next_ms(const cse_pep *p, int64_t now_ms);
size_t cse_pep_outstanding(const cse_pep *p); /* questions on the wire, all requests */

/* Decision cache (remote mode; off when cache_ms is 0, the default): an identical
 * DecisionRequest (its time and target path aside: the rule set reads neither) answered
 * by the PDP less than cache_ms ago is answered from the cache. The policies are part of the question, so an ACP that is
 * updated or deleted is never answered from an old entry. Not cached: requests with
 * token or DAS privileges, policies with time windows (actw), timeouts. A cache hit is
 * not audited by tep-authz (tep-cse logs it). */
void cse_pep_set_cache(cse_pep *p, int cache_ms);
void cse_pep_cache_clear(cse_pep *p);
uint64_t cse_pep_cache_hits(const cse_pep *p);

/* Which policies decide a request (docs/access-control.md, "Who decides what"):
 *  CSE_PEP_PRIVS   the target's own: an <accessControlPolicy> its own "pvs" (TS-0001
 *                  9.6.2); a resource without acpi (contentInstance) its parent's; else
 *                  the "pv" of each ACP in acpi; no acpi (or none resolves): the creator;
 *  CSE_PEP_ACPI    an UPDATE of acpi: the "pvs" of the ACPs acpi references now (TS-0001
 *                  9.6.1.3.2); none: the creator;
 *  CSE_PEP_FANOUT  <group>/fopt: the "pv" of the group's macp (TS-0001 9.6.14); without
 *                  macp the group's CSE_PEP_PRIVS. */
typedef enum { CSE_PEP_PRIVS, CSE_PEP_ACPI, CSE_PEP_FANOUT } cse_pep_scope;

/* Fills rq->acp_json/n_acp_json (rule sets as compact JSON) and, when no policy applies,
 * rq->creator (the originator of the creation, or the AE-ID of the closest ancestor AE)
 * with malloc'd strings: release with cse_pep_facts_free(), also after an error. */
int cse_pep_facts(cmn_store *st, const Tep__Resource *target, cse_pep_scope scope,
                  Tep__DecisionRequest *rq);
void cse_pep_facts_free(Tep__DecisionRequest *rq);
/* Policies cached (cse_pep.c): the rule sets of ACPs read from the store (valid while
 * its write count is unchanged) and rule sets parsed (by their text). Flush after a
 * failed batch commit (what the batch held is gone while the write count stays). */
void cse_pep_policy_cache_flush(void);
uint64_t cse_pep_policy_cache_hits(void);

#endif
