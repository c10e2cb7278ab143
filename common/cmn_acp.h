/* The access-control evaluator of TS-0003 7.1.4/7.1.5, used by tep-authz (the PDP) and,
 * in local mode, by tep-cse. Permit-overrides over every acr of every policy given;
 * anything indeterminate (unparsable policy, unknown context) is Deny. */
#ifndef TEP_CMN_ACP_H
#define TEP_CMN_ACP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *originator;       /* as authenticated / given in From */
    uint32_t op;                  /* one CMN_ACOP_* bit */
    uint32_t target_ty;
    uint32_t new_ty;              /* CREATE only */
    bool rq_authn;
    const char *peer_ip;          /* may be NULL */
    const char *const *role_ids;  /* may be NULL */
    size_t n_roles;
    int64_t now;                  /* Unix seconds */
} cmn_acp_request;

typedef struct {
    bool permit;
    char rule[64];                /* "acp[i].acr[j]" that permitted, or why it denied */
} cmn_acp_result;

/* privs[i] is a "pv" (or "pvs") object {"acr":[...]}; returns 0 and fills ret (Deny on
 * anything it cannot evaluate), or CMN_EINVAL on bad arguments. */
int cmn_acp_evaluate(const cmn_acp_request *rq, json_t *const *privs, size_t n,
                     cmn_acp_result *ret);

/* acor entry match: "all", exact, or '*' wildcards whose scope ends at the next '/'. */
bool cmn_acp_acor_match(const char *pattern, const char *originator);

#endif
