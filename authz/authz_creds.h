/* The MAF's credentials (Km, SUID 21), learnt from the enroller's event stream through
 * cmn_sync (TS-0003 8.3.2.1 "Use of Remotely Provisioned Credential"). */
#ifndef TEP_AUTHZ_CREDS_H
#define TEP_AUTHZ_CREDS_H

#include <stddef.h>

#include "cmn_store.h"
#include "cmn_sync.h"

#define AUTHZ_CREDS_DB "credentials" /* key_id (KmID) -> tep.Credential */
#define AUTHZ_KE_INDEX_DB "ke_index" /* KeID -> key_id, to revoke by enrolment */

/* cmn_sync_apply_fn: ENROLLED with a credential stores it under its key_id (replacing
 * any older one); REVOKED marks the credential of that KeID revoked (a credential
 * carried by the item is stored as revoked). Items for other targets (no credential)
 * and revocations of unknown KeIDs change nothing. arg is unused. */
int authz_creds_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg);
/* cmn_sync_reset_fn for tep-authz (arg unused): deletes in txn every stored credential
 * and the KeID index (all of them came from the enroller's events), and the serials of
 * certificates revoked on their own (AUTHZ_MAF_REVOKED_CERTS_DB: the new log's
 * CERT_REVOKED items record them again). MAF keys already revoked stay revoked. */
int authz_creds_reset(cmn_store *store, cmn_txn *txn, void *arg);

/* Number of stored credentials that are not revoked. */
int authz_creds_count(cmn_store *store, size_t *ret_active);

#endif
