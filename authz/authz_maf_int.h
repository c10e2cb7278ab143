/* tep-authz's MAF (authz_maf.h), its parts' shared rules: the files of the MAF
 * procedures (authz_maf_client.c: MAF Client Registration, Update, De-Registration;
 * authz_maf_key.c: MAF Key Registration, Update, De-Registration, revocation, publishing;
 * authz_maf_retrieve.c: MAF Key Retrieval) use these, defined in authz_maf.c, and nothing
 * outside the MAF includes this header.
 *
 * One error flow for every procedure: a refusal or failure is one CoAP code
 * (AUTHZ_MAF_*, authz_maf.h) and a static reason given to authz_maf_reply() once, at the
 * end; cleanup runs forward only (goto out); helpers that refuse return the code and
 * set *ret_why. Stored records are read with cmn_store's protobuf getters. */
#ifndef TEP_AUTHZ_MAF_INT_H
#define TEP_AUTHZ_MAF_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authz_maf.h"

#define AUTHZ_MAF_REG_ID_BYTES 8 /* mafClientRegID: 16 hex digits */

/* Collects the live keys of one client (same source and credential). */
typedef struct {
    const authz_maf_session *s;
    int64_t now;
    char **ids;
    size_t n;
    int err;
    bool any_source; /* only the credential counts (a revoked certificate's keys) */
} authz_maf_key_search;

void authz_maf_reply(authz_maf_answer *ret, unsigned code, const char *reason);
json_t *authz_maf_parse_body(const char *body, size_t len);
int64_t authz_maf_min_nonzero(int64_t a, int64_t b);
/* A requested expirationTime (absent: now + def), at most now + max and never after
 * the enrolment. CMN_EINVAL when present but not a future integer. */
int authz_maf_expiry(json_t *o, int64_t now, int64_t def, int64_t max, int64_t bound, int64_t *ret);
int authz_maf_get_client(cmn_store *st, const char *km_id, Tep__MafClient **ret);
void authz_maf_key_free(Tep__MafKey *k);
int authz_maf_get_key(cmn_store *st, const char *key_id, Tep__MafKey **ret);
bool authz_maf_has_cert(const authz_maf_session *s);
/* The maf_clients key of the session's client: its KmID, or "cert:<serial>". */
const char *authz_maf_client_key(const authz_maf_session *s, char *buf, size_t len);
/* labels (optional): 0..AUTHZ_MAF_LABELS_MAX strings of 1..AUTHZ_MAF_LABEL_LEN_MAX
 * characters. *ret: the compact JSON to store (malloc'd), NULL when absent. */
int authz_maf_parse_labels(json_t *o, char **ret);
void authz_maf_labels_key(char kind, const char *id, char *buf, size_t len);
/* The record and its labels (NULL: keep the stored ones) in one transaction. */
int authz_maf_put_with_labels(cmn_store *st, const char *db, const char *key,
                              const ProtobufCMessage *m, char kind, const char *label_id,
                              const char *labels);
/* targetIDs: 1..AUTHZ_MAF_TARGETS_MAX CSE-IDs ("/name") or, for the end-to-end SUIDs,
 * AE-IDs as the MEF assigned them ("C..."/"S...", the ID the target's MAF Handshake
 * authenticates; docs/keys.md item 14). check_key_request applies the SUID's rules. */
int authz_maf_parse_targets(json_t *o, const char **ret, size_t *ret_n);
/* SUID 32 (SAEF with a CSE) wants CSE-IDs; 33 (ESPrim) exactly one target (8.3.5.2.7);
 * 34/35 (ESData) one or more. */
bool authz_maf_targets_fit_suid(unsigned suid, const char *const *targets, size_t n);
/* mafFQDN, when present, names this MAF. */
bool authz_maf_fqdn_ok(json_t *o, const char *maf_fqdn);
/* The session's client registration exists and has not expired: 0 with its expiry, or
 * 403 with why. */
unsigned authz_maf_live_client(cmn_store *st, const authz_maf_session *s, int64_t now,
                               int64_t *ret_expires, const char **ret_why);
/* The key was registered by this session's client (the same credential). */
bool authz_maf_is_source(const Tep__MafKey *k, const authz_maf_session *s);
bool authz_maf_key_live(const Tep__MafKey *k, int64_t now);
int authz_maf_collect_keys(const void *key, size_t klen, const void *val, size_t vlen, void *arg);
int authz_maf_client_keys(cmn_store *st, const authz_maf_session *s, int64_t now, char ***ret,
                          size_t *ret_n);
int authz_maf_txn_get_key(cmn_txn *t, const char *key_id, Tep__MafKey **ret);
/* In t: the key revoked (or, with new_expires > 0, shortened to it). */
int authz_maf_txn_change_key(cmn_txn *t, const char *key_id, int64_t now, int64_t new_expires);
char *authz_maf_update_body(json_t *req, int64_t expires, char *const *targets, size_t n_targets,
                            const char *labels);
/* An update must ask for something (8.8.2.5, 8.8.2.9 NOTE) and nothing unknown. */
bool authz_maf_update_members_ok(json_t *o, const char *const *allowed);

#endif
