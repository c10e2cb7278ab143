/* The MEF procedures of TS-0003 8.3.5.2 a device needs for keys towards more than one
 * target (docs/internals.md "MEF procedures"): MEF Client Registration (8.3.5.2.3),
 * Registration Update (8.3.5.2.5), De-Registration (8.3.5.2.6), MEF Key Registration of
 * usage-constrained keys, SUIDs 22-25 (8.3.5.2.7), and Key De-Registration
 * (8.3.5.2.10). tep's own JSON with TS-0003's parameter names (TS-0032 not available).
 *
 * Every call runs for the enrolee of an authenticated MEF session (its KpmID, PSK or
 * certificate MEF Handshake) and its current, live enrolment. The registered key is
 * Kuc = HMAC-SHA-256(Ke, L_KUC || decimal(SUID) || target) (10.3.7, cmn_kdf_kuc), its
 * Key Identifier cmn_kdf_kuc_id: both ends compute them from Ke, the MEF stores neither
 * and hands Kuc to the target through sync (KEY_REGISTERED events, SUIDs 22/23: the target
 * is an Enrolment Target of this enroller) or, for the ESData SUIDs 24/25, by MEF Key
 * Retrieval (8.3.5.2.8) to the target's own MEF session.
 *
 * I/O-free: bytes in, a CoAP code and a JSON body out. */
#ifndef TEP_ENR_MEF_H
#define TEP_ENR_MEF_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_store.h"
#include "enr_config.h"
#include "enr_db.h"

#define ENR_MEF_CLIENT_MAX_S (30LL * 86400) /* a client registration lives at most 30 days */
#define ENR_MEF_KEY_DEFAULT_S 3600          /* a key, without expirationTime: an hour */
#define ENR_MEF_KEY_MAX_S 86400             /* at most a day */
#define ENR_MEF_CLIENTS_MAX 64 /* client registrations of one enrolee (then its oldest goes) */
/* TS-0004 Table 6.3.4.2.39-1: RSPF-provisioned keys for SAEF (22), ESPrim (23), ESData
 * encryption (24) and signature (25). */
#define ENR_MEF_SUID_SAEF 22
#define ENR_MEF_SUID_ESPRIM 23
#define ENR_MEF_SUID_ESDATA_ENC 24
#define ENR_MEF_SUID_ESDATA_SIG 25

typedef struct {
    unsigned code;     /* CoAP code as class*100+detail: 201, 202, 204, 400, 403, 404, 500 */
    char *body;        /* JSON (malloc'd, owned by the caller; free()) or NULL */
    enr_events events; /* committed KEY_* events to publish */
} enr_mef_answer;

typedef struct {
    cmn_store *store;
    const enr_config *cfg;
    const char *kpm_id; /* the session's enrolee */
    int64_t now;
} enr_mef_ctx;

/* POST mef/clients: {"mefFQDN"?, "expirationTime"?, "labels"?, "adminFQDN"?} -> 2.01
 * {"mefClientRegID", "expirationTime", "mefClientID", "adminFQDN", "labels"?}. */
void enr_mef_client_register(const enr_mef_ctx *x, const uint8_t *body, size_t len,
                             enr_mef_answer *ret);
/* PUT mef/clients/<reg_id>: {"expirationTime"?, "labels"?} -> 2.04 (the record). */
void enr_mef_client_update(const enr_mef_ctx *x, const char *reg_id, const uint8_t *body,
                           size_t len, enr_mef_answer *ret);
/* DELETE mef/clients/<reg_id> -> 2.02; every key registered under it is de-registered. */
void enr_mef_client_deregister(const enr_mef_ctx *x, const char *reg_id, enr_mef_answer *ret);
/* POST mef/keys: {"mefClientRegID", "suid" (22..25), "targetIDs": [one ID], "expirationTime"?}
 * (22, 23: an Enrolment Target CSE-ID, else 4.03; 24, 25: an AE-ID or CSE-ID) -> 2.01 {"relativeKeyID", "keyID", "expirationTime",
 * "sourceMefClientID", "suid", "targetIDs"}; commits MefKey + KEY_REGISTERED. */
void enr_mef_key_register(const enr_mef_ctx *x, const uint8_t *body, size_t len,
                          enr_mef_answer *ret);
/* PUT mef/keys/<relativeKeyID> {"expirationTime"} (MEF Key Registration Update,
 * 8.3.5.2.9; targets stay: one per key) -> 2.04 (the key), bounded as at registration;
 * a new KEY_REGISTERED carries the expiry to the target. */
void enr_mef_key_update(const enr_mef_ctx *x, const char *rel_id, const uint8_t *body, size_t len,
                        enr_mef_answer *ret);
/* DELETE mef/keys/<relativeKeyID> -> 2.02, KEY_DEREGISTERED. */
void enr_mef_key_deregister(const enr_mef_ctx *x, const char *rel_id, enr_mef_answer *ret);

/* GET mef/keys/<relativeKeyID> (MEF Key Retrieval, 8.3.5.2.8) by the key's target (the
 * session enrolee's live enrolment names it) -> 2.05 {"keyValue": hex(Kuc), "keyID",
 * "suid", "expirationTime", "sourceMefClientID", "adminFQDN", "targetIDs"}; 4.03 for
 * anyone else, 4.04 for an unknown, expired or de-registered key or one whose source
 * enrolment is revoked, expired or replaced. The body holds the key: wipe it. */
void enr_mef_key_retrieve(const enr_mef_ctx *x, const char *rel_id, enr_mef_answer *ret);

/* The MefKey of key_id (owned by the caller: tep__mef_key__free_unpacked). */
int enr_mef_key_get(cmn_store *s, const char *key_id, Tep__MefKey **ret);

#endif
