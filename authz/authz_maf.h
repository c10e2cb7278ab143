/* tep-authz as the M2M Authentication Function (TS-0003 8.8, 8.2.2.3): MAF Client
 * Registration and MAF Key Registration in a DTLS-PSK Km session (the MAF Handshake,
 * authz_coaps.c), and MAF Key Retrieval by a target over the bus ("keys").
 *
 * tep's own JSON (TS-0032 is not available), with TS-0003 8.8 parameter names:
 *   POST /maf/clients {"mafFQDN"?, "expirationTime"?}
 *     -> 2.01 {"mafClientRegID", "expirationTime", "assignedSymmKeyID" (the KmID)}
 *   POST /maf/keys {"suid": 32, "targetIDs": ["/tep-cse"], "expirationTime"?}
 *     -> 2.01 {"relativeKeyID", "keyID", "expirationTime", "suid", "targetIDs"}
 *   PUT /maf/clients/<mafClientRegID> {"expirationTime"?, "labels"?}   (8.8.2.5) -> 2.04
 *   DELETE /maf/clients/<mafClientRegID>   (8.8.2.6) -> 2.02, its keys revoked
 *   PUT /maf/keys/<relativeKeyID> {"expirationTime"?, "targetIDs"?, "labels"?} (8.8.2.9)
 *   DELETE /maf/keys/<relativeKeyID>       (8.8.2.10) -> 2.02, the record kept revoked
 * The client is the session (Km or certificate), never a body field: someone else's
 * registration or key is 4.03, an unknown one 4.04.
 * Kc/KcID: EXPORTER-oneM2M-Connection (48 bytes) on the Km session, split per cmn_kdf.h
 * (KcID = first 16 bytes, Kc = last 32); Key Identifier = hex(KcID)@MAF-FQDN. Every
 * expirationTime is bounded by the enrolment's expiry (10.7). Records are committed
 * before the answer is built. */
#ifndef TEP_AUTHZ_MAF_H
#define TEP_AUTHZ_MAF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_kdf.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define AUTHZ_MAF_CLIENTS_DB "maf_clients"             /* KmID -> tep.MafClient */
#define AUTHZ_MAF_KEYS_DB "maf_keys"                   /* Key Identifier -> tep.MafKey */
#define AUTHZ_MAF_LABELS_DB "maf_labels"               /* "c:<regID>" / "k:<keyID>" -> JSON array */
#define AUTHZ_MAF_REVOKED_CERTS_DB "maf_revoked_certs" /* serial -> revocation time (8 B) */
#define AUTHZ_MAF_SUID_KC 32                           /* MAF-based SAEF (TS-0003 Table 8.8.1-1) */
#define AUTHZ_MAF_SUID_KM 21                           /* Km: the MAF credential of an enrolment */
/* MAF-distributed end-to-end keys (TS-0004 6.3.4.2.39): ESPrim, ESData encryption, ESData
 * signature. Their targets may be AE-IDs; they are given out to targets only through
 * GET maf/keys/<relativeKeyID> (authz_maf_e2e.c), never to tep-cse as a DTLS PSK. */
#define AUTHZ_MAF_SUID_E2E_PRIM 33
#define AUTHZ_MAF_SUID_E2E_ENC 34
#define AUTHZ_MAF_SUID_E2E_SIG 35
#define AUTHZ_MAF_KEY_LT 3600 /* default key lifetime, seconds */
#define AUTHZ_MAF_KEY_LT_MAX 86400
#define AUTHZ_MAF_CLIENT_LT_MAX (30 * 86400)
#define AUTHZ_MAF_TARGETS_MAX 8
#define AUTHZ_MAF_LABELS_MAX 16
#define AUTHZ_MAF_LABEL_LEN_MAX 64
#define AUTHZ_MAF_CERT_PREFIX "cert:" /* maf_clients key of a certificate client */

/* The MAF Handshake session a request arrived in (borrowed strings): a Km session
 * (km_id set, cert_serial NULL or "") or a certificate session (km_id "", cert_serial
 * the client certificate's serial, lower-case hex). */
typedef struct {
    const char *km_id;       /* its psk_identity; "" for a certificate session */
    const char *enrolee_id;  /* the client: AE-ID / CSE-ID bound to Km or the SAN */
    int64_t expires;         /* the enrolment's expiry (0 = none) */
    const char *cert_serial; /* certificate session: the client certificate's serial */
} authz_maf_session;

/* The CoAP codes of MAF answers, class * 100 + detail (RFC 7252 12.1.2). */
enum {
    AUTHZ_MAF_CREATED = 201,     /* 2.01: a registration */
    AUTHZ_MAF_DELETED = 202,     /* 2.02: a de-registration */
    AUTHZ_MAF_CHANGED = 204,     /* 2.04: an update */
    AUTHZ_MAF_CONTENT = 205,     /* 2.05: a retrieved key */
    AUTHZ_MAF_BAD_REQUEST = 400, /* 4.00: malformed */
    AUTHZ_MAF_FORBIDDEN = 403,   /* 4.03: not the client's, or expired */
    AUTHZ_MAF_NOT_FOUND = 404,   /* 4.04: unknown or de-registered */
    AUTHZ_MAF_INTERNAL = 500,    /* 5.00: store or memory failure */
};

/* An answer: CoAP code (AUTHZ_MAF_*), a malloc'd JSON body (NULL
 * for none) and why (static text, for the log). After a success, key_id (when set) is
 * to be published (authz_maf_publish), and so is every key in gone (client
 * de-registration, or keys a client update shortened). A target that holds a key
 * re-fetches it on its KeyEvent: one no longer named is refused (CMN_EDENIED) and drops
 * it. Release with authz_maf_answer_clear(). */
typedef struct {
    unsigned code;
    char *body;
    const char *reason;
    char key_id[CMN_KEY_ID_MAX]; /* the Key Identifier registered / updated / revoked */
    char **gone;                 /* client de-registration: the keys revoked with it */
    size_t n_gone;
    unsigned suid; /* a retrieved key's SUID (2.05) */
} authz_maf_answer;

void authz_maf_answer_clear(authz_maf_answer *a); /* frees body and gone */

/* A PUT or DELETE's Uri-Path, len bytes (not NUL-terminated): "maf/<kind>/<id>" with kind
 * and id each one non-empty printable segment (no '"') shorter than klen / ilen. On
 * success both are written NUL-terminated; on failure neither is touched. */
bool authz_maf_item_path(const char *path, size_t len, char *kind, size_t klen, char *id,
                         size_t ilen);

void authz_maf_client_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                               const char *body, size_t len, int64_t now, authz_maf_answer *ret);
/* exporter: EXPORTER-oneM2M-Connection of the session (CMN_EXPORTER_LEN bytes). */
void authz_maf_key_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const uint8_t exporter[CMN_EXPORTER_LEN], const char *body, size_t len,
                            int64_t now, authz_maf_answer *ret);

/* MAF Client Registration Update (8.8.2.5): reg_id (the Uri-Path) must be the
 * session's own live registration. 2.04 {"expirationTime"?, "labels"?} (only those
 * asked for); expirationTime bounded as at registration; live keys of the client that
 * would outlive the new expiry are shortened to it (and published). */
void authz_maf_client_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                             const char *reg_id, const char *body, size_t len, int64_t now,
                             authz_maf_answer *ret);
/* MAF Client De-Registration (8.8.2.6): 2.02; the record is deleted and every live key
 * registered with the same credential is revoked (ret->gone), in one transaction. */
void authz_maf_client_deregister(cmn_store *st, const authz_maf_session *s, const char *reg_id,
                                 int64_t now, authz_maf_answer *ret);
/* MAF Key Registration Update (8.8.2.9) of hex(KcID) rel_id by its source only:
 * 2.04 {"expirationTime"?, "targetIDs"?, "labels"?} (those asked for). */
void authz_maf_key_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                          const char *rel_id, const char *body, size_t len, int64_t now,
                          authz_maf_answer *ret);
/* MAF Key De-Registration (8.8.2.10) by its source only: 2.02; see authz_maf_revoke. */
void authz_maf_key_deregister(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                              const char *rel_id, int64_t now, authz_maf_answer *ret);
/* Marks the key revoked (MafKey.revoked = now, Kc wiped from the record, the rest kept
 * for the audit); retrieval answers CMN_ENOTFOUND from then on. Revoking a revoked key
 * changes nothing and returns 0. CMN_ENOTFOUND: unknown. */
int authz_maf_revoke(cmn_store *st, const char *key_id, int64_t now);

/* Every key record (kc cleared), for MAF_KEY_LIST; free with authz_maf_list_free(). */
int authz_maf_list(cmn_store *st, Tep__MafKey ***ret, size_t *ret_n);
void authz_maf_list_free(Tep__MafKey **keys, size_t n);

/* MAF Key Retrieval: the key as the Credential the target stores (key_id, Kc, suid 32,
 * enrolee_id = the source, ke_id = the source's KeID, expires). CMN_ENOTFOUND: unknown, expired, or its source's
 * Km (AUTHZ_CREDS_DB) is revoked, expired or gone; CMN_EDENIED:
 * target_id is not one of its targetIDs. *ret owned by the caller:
 * authz_maf_credential_free() (wipes Kc). */
int authz_maf_retrieve(cmn_store *st, const char *key_id, const char *target_id, int64_t now,
                       Tep__Credential **ret);
void authz_maf_credential_free(Tep__Credential *c); /* NULL is fine */

/* The certificate MAF Handshake's binding (8.8.2.2): enrolee_id's live Km from sync
 * (SUID 21, neither revoked nor expired; the latest-expiring when several): 0 with its
 * expiry and KeID (either out pointer may be NULL). CMN_ENOTFOUND: none. */
int authz_maf_enrolee_km(cmn_store *st, const char *enrolee_id, int64_t now, int64_t *ret_expires,
                         char *ret_ke_id, size_t len_ke_id);

/* Serials of certificates revoked by the sync turn in progress (authz_maf_apply_sync's
 * arg): after the turn, authz_maf_revoke_cert() each. */
typedef struct {
    char **serials;
    size_t n;
} authz_maf_pending;
void authz_maf_pending_clear(authz_maf_pending *p);

/* cmn_sync_apply_fn for tep-authz: authz_creds_apply(), and a CERT_REVOKED item (a
 * certificate revoked on its own, TS-0003 10.7) records its serial: the certificate MAF
 * Handshake refuses it from then on and keys registered with it are no longer given
 * out. arg: an authz_maf_pending (or NULL) that collects the serials. */
int authz_maf_apply_sync(cmn_txn *txn, const Tep__SyncItem *item, void *arg);
/* Revokes every live key registered in a session of the certificate serial (one
 * transaction); *ret: their Key Identifiers, to publish (free each and the array). */
int authz_maf_revoke_cert(cmn_store *st, const char *serial, int64_t now, char ***ret,
                          size_t *ret_n);
/* Whether the certificate serial (lower-case hex) was revoked on its own. */
bool authz_maf_cert_revoked(cmn_store *st, const char *serial);

/* Publishes KeyEvent{key_id, targetIDs, expires, revoked} of the stored key on pub (a
 * PUB). */
int authz_maf_publish(cmn_bus_sock *pub, cmn_store *st, const char *key_id, const char *sender);

/* Number of registered keys neither expired nor revoked (STATUS). */
int authz_maf_count_keys(cmn_store *st, int64_t now, size_t *ret);

#endif
