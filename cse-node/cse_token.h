/* Tokens at tep-cse (TS-0003 7.3.2.3 indirect flow, 7.3.2.5 permissions): the request
 * parameters tkns, tids, ltids and rids (TS-0004 8.2.2 short names, in Uri-Query per
 * TS-0008), verification with cmn_token against the configured issuer, the cache of
 * verified tokens with their Local-Token-IDs (returned in ATI, option 327, as
 * "lti:tkid"), and the privileges a token gives for one target.
 *
 * Choices: the holder must be the originator's absolute ID "//<sp_id><cse_id>/<AE-ID>"
 * (an SP-relative or absolute From is taken as it is); a token permission applies only
 * to targets named by one of its "ris" (a '*' never crosses '/'); its "pv" acrs apply
 * to the holder whatever their acor says (the PEP sets acor to the originator); its
 * "rids" add Role-IDs to the request. A Uri-Query option holds at most 255 bytes
 * (RFC 7252), which tep's own ES256 tokens exceed: they are presented by Token-ID
 * (tids), which tep-cse resolves with tep-authz (dreq tids -> dres tkns), or by the
 * Local-Token-ID assigned on first use (ltids). */
#ifndef TEP_CSE_TOKEN_H
#define TEP_CSE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_token.h"
#include "tep.pb-c.h"

#define CSE_TOKEN_PARAMS_MAX 8 /* of each kind per request */
#define CSE_ATI_MAX 1024

typedef struct {
    const char *tkns[CSE_TOKEN_PARAMS_MAX];
    size_t n_tkns;
    const char *tids[CSE_TOKEN_PARAMS_MAX];
    size_t n_tids;
    const char *ltids[CSE_TOKEN_PARAMS_MAX];
    size_t n_ltids;
    const char *rids[CSE_TOKEN_PARAMS_MAX];
    size_t n_rids;
    char *buf; /* owned: the values point into it */
} cse_token_params;

/* Parses "k=v&k=v" (NULL is fine); values of tkns/tids/ltids/rids are '+'-separated
 * lists and may repeat. CMN_EINVAL when there are more than CSE_TOKEN_PARAMS_MAX of a
 * kind or a value is empty. Release with cse_token_params_free. */
int cse_token_params_parse(const char *query, cse_token_params *ret);
void cse_token_params_free(cse_token_params *p);
bool cse_token_params_any(const cse_token_params *p);

typedef struct cse_tokens cse_tokens;

typedef struct {
    const char *sp_id;      /* SP-ID of absolute IDs ("tep.local") */
    const char *cse_id;     /* SP-relative CSE-ID ("/tep-cse") */
    const char *issuer;     /* trusted iss ("maf.tep.local") */
    const char *issuer_key; /* file with the issuer's public key: 130 hex digits */
} cse_tokens_cfg;

/* CMN_EIO / CMN_EINVAL when the key file cannot be read or is not a P-256 point. */
int cse_tokens_new(const cse_tokens_cfg *cfg, cse_tokens **ret);
void cse_tokens_free(cse_tokens *t); /* NULL is fine */

/* The originator's absolute ID (see above) into ret. */
void cse_tokens_absolute(const cse_tokens *t, const char *originator, char *ret, size_t len);

/* A verified token in the cache. */
typedef struct cse_token_entry cse_token_entry;

/* Verifies jwt for originator at now; on success it is cached (or found cached) and
 * *ret_entry points at it (valid until the next call that adds). CMN_EDENIED with
 * *ret_st the reason otherwise. */
int cse_tokens_accept(cse_tokens *t, const char *jwt, const char *originator, int64_t now,
                      const cse_token_entry **ret_entry, cmn_token_status *ret_st);
/* A cached token by Local-Token-ID, if it is still valid for originator at now. */
const cse_token_entry *cse_tokens_by_lti(cse_tokens *t, const char *lti, const char *originator,
                                         int64_t now);
const char *cse_token_entry_lti(const cse_token_entry *e);
const char *cse_token_entry_tkid(const cse_token_entry *e);

#define CSE_TOKEN_GRANTS_MAX 32
#define CSE_TOKEN_ROLES_MAX 32

/* What the presented tokens give a request: privileges ({"acr":[...]} JSON with acor
 * set to the originator, malloc'd) with the Token-ID each came from, and Role-IDs
 * (borrowed from the cache entries or the request parameters). */
typedef struct {
    char *acp[CSE_TOKEN_GRANTS_MAX];
    char *ids[CSE_TOKEN_GRANTS_MAX];
    size_t n;
    char *roles[CSE_TOKEN_ROLES_MAX];
    size_t n_roles;
} cse_token_grants;

/* Adds what e permits on target (structured "/cse/...") for originator: one acp/ids
 * entry per permission whose ris names target, and its rids. CMN_ERANGE when full. */
int cse_tokens_apply(const cse_token_entry *e, const char *originator, const char *target,
                     cse_token_grants *g);
void cse_token_grants_clear(cse_token_grants *g);

#endif
