/* The "sync" answer (docs/internals.md "Bus"): events after after_seq, each with the
 * credential the asking target is entitled to. For the enrolment's registrar CSE-ID:
 * Kpsa/KpsaID (SUID 22); for its MAF-ID: Km/KmID (SUID 21); for anyone else: none.
 * A revoked enrolment never hands out its key: its items carry key_id, revoked=true
 * and no key. A CERT_REVOKED event goes to every target as it is (cert_serial), with
 * no credential. Every answer carries the store's epoch (enr_db.h). I/O-free apart
 * from reading the store. */
#ifndef TEP_ENR_SYNC_H
#define TEP_ENR_SYNC_H

#include "cmn_store.h"
#include "tep.pb-c.h"

#define ENR_SYNC_DEFAULT_MAX 64
#define ENR_SYNC_MAX 256

#define ENR_SUID_MAF 21  /* Km: remotely provisioned MAF credential */
#define ENR_SUID_KPSA 22 /* Kpsa: provisioned symmetric key for a registrar CSE */

/* Fills resp (initialised by the caller with TEP__SYNC_RESPONSE__INIT). The items,
 * their events and credentials, and the epoch string are owned by resp: release with
 * enr_sync_clear(), which wipes the keys (on failure resp is already released).
 * mef_fqdn: issuer of KpsaIDs. */
int enr_sync_answer(cmn_store *s, const char *mef_fqdn, const Tep__SyncRequest *req,
                    Tep__SyncResponse *resp);
void enr_sync_clear(Tep__SyncResponse *resp);

#endif
