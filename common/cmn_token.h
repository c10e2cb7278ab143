/* oneM2M dynamic-authorization tokens (TS-0003 7.3.2.4-7.3.2.6, TS-0004 6.3.5.42) as
 * ES256 JWS Compact JWTs: header {"alg":"ES256","typ":"JWT"}; the m2m:tokenClaimSet with
 * the JWT mapping tkid->jti, tkis->iss, tkhd->azp, tknb->nbf, tkna->exp (NumericDate),
 * tkau->aud; tkvr, tknm, tkps and tkex keep their oneM2M names.
 *
 * Verification order (the first failure is the status): decodable JWS with an object
 * header and payload; alg exactly "ES256" (so "none", HS256 and the rest are refused) and
 * typ "JWT" when present; iss one of the trusted issuers; the signature under that
 * issuer's key; jti not revoked; nbf <= now <= exp; the verifier's CSE-ID in aud; azp
 * equal to the originator's absolute ID. */
#ifndef TEP_CMN_TOKEN_H
#define TEP_CMN_TOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_jws.h"

#define CMN_TOKEN_ID_MAX 256

typedef enum {
    CMN_TOKEN_VALID = 0,
    CMN_TOKEN_MALFORMED,      /* not a JWS of a claim set we can read */
    CMN_TOKEN_BAD_ALG,        /* alg other than ES256 (including "none"), or typ not JWT */
    CMN_TOKEN_UNKNOWN_ISSUER, /* iss not trusted */
    CMN_TOKEN_BAD_SIGNATURE,
    CMN_TOKEN_REVOKED,
    CMN_TOKEN_NOT_YET_VALID,  /* now < nbf */
    CMN_TOKEN_EXPIRED,        /* now > exp */
    CMN_TOKEN_WRONG_AUDIENCE, /* own CSE-ID not in aud */
    CMN_TOKEN_WRONG_HOLDER,   /* azp != originator */
} cmn_token_status;

/* Static text for a status ("valid", "expired", ...), for logs and audit rules. */
const char *cmn_token_status_name(cmn_token_status st);

/* What an issuer puts in a token. Strings are borrowed. */
typedef struct {
    const char *tkid;              /* Token-ID "rel@issuer-fqdn" */
    const char *issuer;            /* iss: the issuer's ID (tep-authz's MAF-ID) */
    const char *holder;            /* azp: the holder's absolute ID "//sp/cse/AE-ID" */
    int64_t not_before, not_after; /* Unix seconds */
    const char *const *audience;   /* aud: CSE-IDs */
    size_t n_audience;
    const char *name; /* tknm, may be NULL */
    json_t *
        permissions; /* tkps {"pm":[{"ris":[..],"pv":{"acr":[..]},"rids":[..]}]}, borrowed, may be NULL */
} cmn_token_claims;

/* Signs claims as above; *ret is malloc'd (caller frees). */
int cmn_token_issue(const cmn_token_claims *claims, const uint8_t priv[CMN_ES256_PRIV_LEN],
                    const uint8_t pub[CMN_ES256_PUB_LEN], char **ret);

typedef struct {
    const char *id;                 /* the iss value */
    uint8_t pub[CMN_ES256_PUB_LEN]; /* its ES256 public key */
} cmn_token_issuer;

/* true when Token-ID tkid is revoked. */
typedef bool (*cmn_token_revoked_fn)(const char *tkid, void *arg);

typedef struct {
    const cmn_token_issuer *issuers; /* trusted issuers */
    size_t n_issuers;
    const char *holder;          /* the originator's absolute ID */
    const char *const *audience; /* IDs of the verifier: one must be in aud (either form) */
    size_t n_audience;
    int64_t now;                  /* Unix seconds */
    cmn_token_revoked_fn revoked; /* may be NULL */
    void *revoked_arg;
} cmn_token_check;

/* A verified token. */
typedef struct {
    char tkid[CMN_TOKEN_ID_MAX];
    char issuer[CMN_TOKEN_ID_MAX];
    char holder[CMN_TOKEN_ID_MAX];
    int64_t not_before, not_after;
    json_t *permissions; /* owned: tkps, or NULL when absent */
} cmn_token;

/* Verifies compact against chk. Returns 0 with *ret_st = CMN_TOKEN_VALID and *ret a
 * verified token (owned by the caller: cmn_token_free), or CMN_EDENIED with *ret_st the
 * reason and *ret NULL; CMN_ENOMEM / CMN_EINVAL (bad arguments) otherwise. */
int cmn_token_verify(const char *compact, const cmn_token_check *chk, cmn_token **ret,
                     cmn_token_status *ret_st);
void cmn_token_free(cmn_token *t); /* NULL is fine */

/* true when a "ris" entry of a token permission names target: equal, or a pattern with
 * '*' wildcards that never cross a '/' (the acor rule of TS-0003 7.1.3). */
bool cmn_token_ris_match(const char *pattern, const char *target);

#endif
