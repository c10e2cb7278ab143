/* tep-authz as the M2M Authentication Function (TS-0003 8.8, 8.2.2.3): MAF Client
 * Registration and MAF Key Registration in a DTLS-PSK Km session (the MAF Handshake,
 * authz_coaps.c), and MAF Key Retrieval by a target over the bus ("keys").
 *
 * tep's own JSON (TS-0032 is not available), with TS-0003 8.8 parameter names:
 *   POST /maf/clients {"mafFQDN"?, "expirationTime"?}
 *     -> 2.01 {"mafClientRegID", "expirationTime", "assignedSymmKeyID" (the KmID)}
 *   POST /maf/keys {"suid": 32, "targetIDs": ["/tep-cse"], "expirationTime"?}
 *     -> 2.01 {"relativeKeyID", "keyID", "expirationTime", "suid", "targetIDs"}
 * Kc/KcID: EXPORTER-oneM2M-Connection (48 bytes) on the Km session, split per cmn_kdf.h
 * (KcID = first 16 bytes, Kc = last 32); Key Identifier = hex(KcID)@MAF-FQDN. Every
 * expirationTime is bounded by the enrolment's expiry (10.7). Records are committed
 * before the answer is built. */
#ifndef TEP_AUTHZ_MAF_H
#define TEP_AUTHZ_MAF_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_kdf.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define AUTHZ_MAF_CLIENTS_DB "maf_clients" /* KmID -> tep.MafClient */
#define AUTHZ_MAF_KEYS_DB "maf_keys"       /* Key Identifier -> tep.MafKey */
#define AUTHZ_MAF_SUID_KC 32               /* MAF-based SAEF (TS-0003 Table 8.8.1-1) */
#define AUTHZ_MAF_KEY_LT 3600              /* default key lifetime, seconds */
#define AUTHZ_MAF_KEY_LT_MAX 86400
#define AUTHZ_MAF_CLIENT_LT_MAX (30 * 86400)
#define AUTHZ_MAF_TARGETS_MAX 8

/* The Km session a request arrived in (borrowed strings). */
typedef struct {
    const char *km_id;      /* its psk_identity */
    const char *enrolee_id; /* the client: AE-ID / CSE-ID bound to Km */
    int64_t expires;        /* the enrolment's expiry (0 = none) */
} authz_maf_session;

/* An answer: CoAP code (201, 400, 403, 500), a malloc'd JSON body (NULL for none; the
 * caller frees) and why (static text, for the log). */
typedef struct {
    unsigned code;
    char *body;
    const char *reason;
    char key_id[CMN_KEY_ID_MAX]; /* key registration: the new Key Identifier */
} authz_maf_answer;

void authz_maf_client_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                               const char *body, size_t len, int64_t now, authz_maf_answer *ret);
/* exporter: EXPORTER-oneM2M-Connection of the session (CMN_EXPORTER_LEN bytes). */
void authz_maf_key_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const uint8_t exporter[CMN_EXPORTER_LEN], const char *body,
                            size_t len, int64_t now, authz_maf_answer *ret);

/* MAF Key Retrieval: the key as the Credential the target stores (key_id, Kc, suid 32,
 * enrolee_id = the source, ke_id = the source's KeID, expires). CMN_ENOTFOUND: unknown, expired, or its source's
 * Km (AUTHZ_CREDS_DB) is revoked, expired or gone; CMN_EDENIED:
 * target_id is not one of its targetIDs. *ret owned by the caller:
 * authz_maf_credential_free() (wipes Kc). */
int authz_maf_retrieve(cmn_store *st, const char *key_id, const char *target_id, int64_t now,
                       Tep__Credential **ret);
void authz_maf_credential_free(Tep__Credential *c); /* NULL is fine */

/* Publishes KeyEvent{key_id, targetIDs, expires} of the stored key on pub (a PUB). */
int authz_maf_publish(cmn_bus_sock *pub, cmn_store *st, const char *key_id, const char *sender);

/* Number of registered keys not yet expired (STATUS). */
int authz_maf_count_keys(cmn_store *st, int64_t now, size_t *ret);

#endif
