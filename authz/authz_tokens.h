/* tep-authz as Dynamic Authorization Server and token issuer (TS-0003 7.3):
 *  - the ES256 signing key, made at first start and kept in LMDB ("token_key"); its
 *    public key is written to <data_dir>/token-issuer.pub (130 hex digits: the X9.63
 *    uncompressed point), which tep-cse's [authz] token_issuer_key points to;
 *  - POST /token (indirect flow): the JSON request of docs/internals.md, answered with
 *    a token when a grant allows it (authz_grants.h);
 *  - the DAS answer to tep-cse's DasRequest (direct flow);
 *  - revoked Token-IDs ("revoked_tokens"), refused by the PDP. */
#ifndef TEP_AUTHZ_TOKENS_H
#define TEP_AUTHZ_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authz_grants.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define AUTHZ_TOKEN_KEY_DB "token_key"
#define AUTHZ_REVOKED_DB "revoked_tokens"
#define AUTHZ_ISSUED_DB "issued_tokens" /* Token-ID -> the compact JWS, for dreq tids */
#define AUTHZ_TOKEN_PUB_FILE "token-issuer.pub"

typedef struct authz_tokens authz_tokens;

typedef struct {
    const char *issuer; /* iss and the FQDN of every Token-ID (the MAF-ID) */
    const char *sp_id;  /* SP-ID of absolute IDs: holder "//<sp_id><cse-id>/<AE-ID>" */
    const char *data_dir;
} authz_tokens_cfg;

/* Loads the signing key (creating and storing it on first start) and writes the public
 * key file. cfg strings and store are borrowed; grants is borrowed and may be replaced
 * with authz_tokens_set_grants. */
int authz_tokens_open(cmn_store *store, const authz_tokens_cfg *cfg, const authz_grants *grants,
                      authz_tokens **ret);
void authz_tokens_free(authz_tokens *t); /* NULL is fine; wipes the private key */
void authz_tokens_set_grants(authz_tokens *t, const authz_grants *grants);
/* The public key as 130 hex digits (static storage of t). */
const char *authz_tokens_pub_hex(const authz_tokens *t);

/* An answer to POST /token: CoAP code (201, 400, 403 or 500) and a malloc'd JSON body
 * (caller frees), and why (static text, for the log). */
typedef struct {
    unsigned code;
    char *body;
    const char *reason;
    char tkid[128];
} authz_token_answer;

/* holder_ae: the AE-ID bound to the requester's Km session (never taken from the body). */
void authz_tokens_request(authz_tokens *t, const char *holder_ae, const char *body, size_t len,
                          int64_t now, authz_token_answer *ret);

/* Direct flow: ret (initialised here) gets granted, gp_json (malloc'd), pl, rule
 * (malloc'd); free with authz_tokens_das_clear. A dreq with tids asks for tokens
 * instead (TS-0003 7.3.2.3 step 6, tokens by Token-ID): dres.tkns holds the issued,
 * not revoked, tokens among them; nothing is granted. */
int authz_tokens_das(authz_tokens *t, const Tep__DasRequest *rq, int64_t now,
                     Tep__DasResponse *ret);
void authz_tokens_das_clear(Tep__DasResponse *ret);

/* Revocation list. authz_tokens_revoke_txn writes the record inside txn (the writer's
 * policy log appends its event in the same transaction, authz_plog.h). */
int authz_tokens_revoke(cmn_store *store, const char *tkid, int64_t now);
int authz_tokens_revoke_txn(cmn_txn *txn, const char *tkid, int64_t now);
bool authz_tokens_is_revoked(cmn_store *store, const char *tkid);

#endif
