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
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

typedef struct cse_pep cse_pep;

typedef struct {
    bool permit;
    unsigned rsc;      /* 0 when permitted, 4103 when denied */
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

/* The shared rule set above, in process (also what tep-authz implements). */
void cse_pep_evaluate_local(const Tep__DecisionRequest *rq, cse_decision *ret);

/* Policy facts of a target: for each acpi of the target, the ACP's "pv" ("pvs" when the
 * target is itself an ACP) as compact JSON; the creator of the target, or the AE-ID of
 * its closest ancestor AE when it has none. Fills rq->acp_json/n_acp_json/creator with
 * malloc'd strings: release with cse_pep_facts_free(). */
int cse_pep_facts(cmn_store *st, const Tep__Resource *target, Tep__DecisionRequest *rq);
void cse_pep_facts_free(Tep__DecisionRequest *rq);

#endif
