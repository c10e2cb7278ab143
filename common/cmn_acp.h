/* The access-control evaluator of TS-0003 7.1.4/7.1.5, used by tep-authz (the PDP) and,
 * in local mode, by tep-cse. Permit-overrides over every acr of every policy given;
 * anything indeterminate (unparsable policy, a context that cannot be checked) is FALSE
 * for the part it belongs to, so it never permits: Deny unless another rule permits.
 * docs/access-control.md states every choice; integration/acp_reference/ is the
 * independent reference this code is tested against. Pure: no I/O, no clock. */
#ifndef TEP_CMN_ACP_H
#define TEP_CMN_ACP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every pointer is borrowed for the duration of the call; zero/NULL means "not known". */
typedef struct {
    const char *originator; /* as authenticated / given in From */
    uint32_t op;            /* one CMN_ACOP_* bit (discovery = CMN_ACOP_DISCOVERY) */
    uint32_t target_ty;
    uint32_t new_ty; /* CREATE only */
    bool rq_authn;
    const char *peer_ip;         /* the peer's real address, IPv4 or IPv6; may be NULL */
    const char *const *role_ids; /* may be NULL */
    size_t n_roles;
    int64_t now; /* Unix seconds, rq_time (UTC) */
    /* Originator normalisation: with both set, a CSE-relative ID "Cabc" equals
     * "/tep-cse/Cabc" and "//sp/tep-cse/Cabc"; without, IDs are compared as given. */
    const char *cse_id;           /* hosting CSE-ID, SP-relative: "/tep-cse" */
    const char *sp_id;            /* SP-ID: "//tep.example" (or "tep.example") */
    const char *const *group_ids; /* <group> resource IDs the originator is a member of */
    size_t n_groups;
    const char *target_spty; /* target's specialization (mgmtDefinition/containerDefinition) */
    const char *loc_country; /* rq_loc: ISO 3166-1 alpha-2 country code; may be NULL */
    bool has_loc_point;      /* rq_loc: a point, in degrees */
    double loc_lat, loc_lon;
} cmn_acp_request;

typedef struct {
    bool permit;
    char rule[64]; /* "acp[i].acr[j]" that permitted, or why it denied */
} cmn_acp_result;

/* privs[i] is a "pv" (or "pvs") object {"acr":[...]}; returns 0 and fills ret (Deny on
 * anything it cannot evaluate), or CMN_EINVAL on bad arguments. */
int cmn_acp_evaluate(const cmn_acp_request *rq, json_t *const *privs, size_t n,
                     cmn_acp_result *ret);

/* The same over whole <accessControlPolicy> representations (with or without the
 * "m2m:acp" wrapper): uses each one's "pvs" when the target is an ACP (target_ty == 1),
 * else its "pv" (TS-0003 7.1.1). */
int cmn_acp_evaluate_acps(const cmn_acp_request *rq, json_t *const *acps, size_t n,
                          cmn_acp_result *ret);

/* acor entry match as given (no normalisation): "all", exact, or '*' wildcards whose
 * scope ends at the next '/'. */
bool cmn_acp_acor_match(const char *pattern, const char *originator);

/* The same originator in any form (TS-0001 7.2): compared in absolute form when cse_id
 * and sp_id are both given (non-empty), else as given; an empty ID is no one. Used for
 * the default access policy (the creator, TS-0001 9.6.1.3.2). */
bool cmn_acp_same_originator(const char *a, const char *b, const char *cse_id, const char *sp_id);

/* ---- contexts (cmn_acp_ctx.c), exposed for tests and tools ---- */

/* One 7-field scheduleEntry "sec min hour dom month dow year" against a Unix time (UTC):
 * 1 in the window, 0 not, CMN_EINVAL when the entry is malformed. */
int cmn_acp_schedule_match(const char *entry, int64_t now);

/* One acip entry ("10.0.0.0/8", "fd00::/8", or an address alone) against an address;
 * family 4 or 6 says which list the entry came from. 1 match, 0 not, CMN_EINVAL when the
 * entry or the address is malformed. An IPv4-mapped IPv6 peer is compared as IPv4. */
int cmn_acp_cidr_match(const char *entry, int family, const char *peer_ip);

/* Great-circle distance in metres (haversine, mean Earth radius 6371008.8 m). */
double cmn_acp_distance_m(double lat1, double lon1, double lat2, double lon2);

/* res_ctxts for an acr's "acco" (NULL or empty: TRUE). Used by cmn_acp.c. */
bool cmn_acp_contexts_match(const json_t *acco, const cmn_acp_request *rq);

#endif
