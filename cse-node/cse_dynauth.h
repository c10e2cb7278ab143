/* Dynamic authorization (TS-0003 7.3), on top of the PEP: cse_dynauth_decide asks
 * cse_pep_decide, with these privileges added, and falls back to it alone without
 * dynamic authorization. The PEP knows nothing of it.
 *  - indirect flow: the tokens a request presents (tkns, tids resolved with tep-authz,
 *    ltids from earlier requests; cse_token.h) are verified and their privileges for
 *    the target travel in the DecisionRequest (token_acp_json, token_ids), which the
 *    PDP tries after the target's own policies (and refuses for revoked tokens). A
 *    token that fails verification refuses the request: 4103, rule "token: <why>".
 *    Newly accepted tokens are reported for the ATI option.
 *  - direct flow ([authz] das = true, remote mode): on Deny, tep-cse consults the DAS
 *    (tep-authz, DasRequest = m2m:seci dreq over the decide socket, same deadline);
 *    granted privileges (dai gp) are cached for (originator, target) until their
 *    lifetime (dai pl) and sent as dynamic_acp_json with every later decision for that
 *    pair. A late or lost DAS answer leaves the Deny: the platform fails closed.
 * Role-IDs come only from verified tokens; a request's own rids are not trusted (tep
 * has no <role> resources to check them against). */
#ifndef TEP_CSE_DYNAUTH_H
#define TEP_CSE_DYNAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cse_config.h"
#include "cse_pep.h"
#include "cse_token.h"

typedef struct cse_dynauth cse_dynauth;

typedef struct {
    cse_tokens *tokens; /* borrowed; NULL: every token is refused */
    bool das;           /* direct flow on */
    int64_t das_ppl;    /* proposed privilege lifetime sent in dreq, seconds (0: DAS's) */
} cse_dynauth_cfg;

int cse_dynauth_new(const cse_dynauth_cfg *cfg, cse_dynauth **ret);
void cse_dynauth_free(cse_dynauth *da); /* NULL is fine */

/* cse_pep_decide(p, rq) with dynamic authorization: the token parameters of the
 * request's Uri-Query (tkns, tids, ltids, rids), DAS-granted privileges, a DAS
 * consultation on Deny. ati (atilen bytes, may be NULL) gets the ATI option value
 * ("lti:tkid+...", "" when no token was newly accepted). da NULL (no dynamic
 * authorization): cse_pep_decide alone. rq's dynamic fields are filled for the call and
 * restored. */
void cse_dynauth_decide(cse_dynauth *da, cse_pep *p, Tep__DecisionRequest *rq, const char *query,
                        char *ati, size_t atilen, cse_decision *ret);
/* Drops every DAS-granted privilege (e.g. when policies change). */
void cse_dynauth_forget(cse_dynauth *da);
/* Number of cached DAS grants still valid at now (for STATUS and tests). */
size_t cse_dynauth_cached(const cse_dynauth *da, int64_t now);

/* From cse.ini ([cse] sp_id, cse_id; [authz] token_issuer, token_issuer_key, das,
 * cache_ms): *ret_tokens (NULL when token_issuer is empty) and *ret_da (the caller hands
 * it to cse_node.dynauth); sets pep's decision cache lifetime. Free both after the PEP. CMN_EIO / CMN_EINVAL: the key file is unreadable or not a P-256 key (a
 * configuration error, logged). */
int cse_dynauth_setup(const cse_config *cfg, cse_pep *pep, cse_tokens **ret_tokens,
                      cse_dynauth **ret_da);

#endif
