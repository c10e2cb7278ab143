/* Credentials tep-cse holds, filled from the enroller's event stream (cmn_sync) and read
 * by the PSK callback. DBs: "credentials" (KpsaID -> tep.Credential), "enrolees"
 * (AE-ID -> KpsaID of its newest credential), "cred_keids" (KeID -> KpsaID).
 * A certificate revoked on its own (CERT_REVOKED, TS-0003 10.7) is kept in
 * "credentials" too, under "cert:<serial>" (the identity its sessions are bound to):
 * a Credential with revoked = true, no key, suid 0, not in the other two indexes. */
#ifndef TEP_CSE_SYNC_H
#define TEP_CSE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "cmn_store.h"
#include "cmn_sync.h"
#include "tep.pb-c.h"

#define CSE_DB_CREDENTIALS "credentials"
#define CSE_DB_ENROLEES "enrolees"
#define CSE_DB_KEIDS "cred_keids"
/* "cse_targets": CSE-ID of an enrolled CSE -> its enrolment target (the CSE its Kpsa is
 * for: the registrar it registers to), from SyncItem.cse_target, for every CSE enrolee
 * of the SP; gone when it is revoked. */
#define CSE_DB_CSE_TARGETS "cse_targets"
#define CSE_TARGET_ID_MAX 128
/* "transit_enrolees": AE-ID -> tep.TransitEnrolment, the enrolment of an AE enrolled for
 * another CSE (SyncItem.ae_target: no key), its newest one; marked revoked by a REVOKED
 * of that KeID. What this CSE checks of an ESCertKE initiator that reaches it through its
 * registrar (cse_escertke.c). */
#define CSE_DB_TRANSIT "transit_enrolees"
/* "key_keids": "<KeID>\0<Key Identifier>" -> "", each usage-constrained key from MEF Key
 * Registration (KEY_REGISTERED) under the KeID it was derived from: a REVOKED of that
 * KeID revokes them all (TS-0003 10.7), beside the one credential "cred_keids" names. */
#define CSE_DB_KEY_KEIDS "key_keids"

typedef struct {
    unsigned applied;     /* items applied since the last reset */
    unsigned revocations; /* of which revocations */
} cse_sync_stats;

#define CSE_CERT_KEY_PREFIX "cert:"

/* cmn_sync_apply_fn: arg is a cse_sync_stats. ENROLLED with a credential stores it
 * (and its indexes); REVOKED marks the credential of that KeID revoked (or stores the
 * revoked credential the item carries); CERT_REVOKED records the serial as revoked
 * (both count as revocations). Items that are not for us, or a CERT_REVOKED without a
 * well-formed serial, are skipped. */
int cse_sync_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg);
/* cmn_sync_reset_fn (register with cmn_sync_set_reset_fn, arg the same cse_sync_stats):
 * deletes every record that came from the enroller (the Kpsa credentials and the
 * "cert:<serial>" records in "credentials", all of "enrolees", "cred_keids" and
 * "cse_targets") and
 * keeps the MAF's Kc credentials (SUID 32; cse_maf checks their sources). Counts as a
 * revocation, so that the applied hook closes the sessions whose credential is gone. */
int cse_sync_reset(cmn_store *st, cmn_txn *txn, void *arg);

/* The SUID of a MAF-based connection key (Kc, cse_maf.h), kept beside the Kpsa. */
#define CSE_MAF_SUID_KC 32
/* An ESPrim key from the MAF (TS-0004 6.3.4.2.39, SUID 33): fetched, stored and revoked
 * like a Kc (cse_maf.h), but never a DTLS PSK (cse_saef.c refuses it); cse_esprim.c
 * derives the pairwiseESPrimKey from it. */
#define CSE_MAF_SUID_ESPRIM 33
#define CSE_MAF_SUID(s) ((s) == CSE_MAF_SUID_KC || (s) == CSE_MAF_SUID_ESPRIM)
/* RSPF-provisioned keys (TS-0004 6.3.4.2.39): Kpsa and a MEF key for the SAEF (22), a MEF
 * key for ESPrim (23: Kuc of MEF Key Registration, never a DTLS PSK). */
#define CSE_SUID_RSPF_SAEF 22
#define CSE_SUID_RSPF_ESPRIM 23
/* Key separation: only these are DTLS PSKs (cse_saef.c). */
#define CSE_SUID_IS_PSK(s) ((s) == CSE_SUID_RSPF_SAEF || (s) == CSE_MAF_SUID_KC)

/* The TransitEnrolment of ae_id (CMN_ENOTFOUND: none); *ret: tep__transit_enrolment__
 * free_unpacked(*ret, NULL). */
int cse_transit_get(cmn_store *st, const char *ae_id, Tep__TransitEnrolment **ret);

/* Reads a credential; *ret owned by the caller: cse_cred_free() (wipes the key). */
int cse_cred_get(cmn_store *st, const char *key_id, Tep__Credential **ret);
void cse_cred_free(Tep__Credential *c); /* NULL is fine */
/* 0 when usable at now; CMN_EDENIED revoked, CMN_EEXPIRED past expires (0 = never). */
int cse_cred_usable(const Tep__Credential *c, int64_t now);
/* 0 when the certificate with this serial (lower-case hex) was not revoked on its own;
 * CMN_EDENIED when it was; another CMN_E* code when the store cannot say. */
int cse_cert_revoked(cmn_store *st, const char *serial);
/* The credential (Kpsa) the enroller published for the enrolment of ae_id (the
 * "enrolees" index); *ret as cse_cred_get. */
int cse_cred_get_by_enrolee(cmn_store *st, const char *ae_id, Tep__Credential **ret);
/* Whether ae_id is the enrolee of any credential this CSE holds. */
bool cse_cred_is_enrolled(cmn_store *st, const char *ae_id);
/* The enrolment target of the enrolled CSE cse_id (CSE_DB_CSE_TARGETS) in ret (len
 * bytes); CMN_ENOTFOUND when this CSE knows no enrolment of it. */
int cse_cse_target(cmn_store *st, const char *cse_id, char *ret, size_t len);
/* Number of credentials (STATUS). */
int cse_cred_count(cmn_store *st, uint64_t *ret);

#endif
