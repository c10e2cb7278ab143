/* Credentials tep-cse holds, filled from the enroller's event stream (cmn_sync) and read
 * by the PSK callback. DBs: "credentials" (KpsaID -> tep.Credential), "enrolees"
 * (AE-ID -> KpsaID of its newest credential), "cred_keids" (KeID -> KpsaID). */
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

typedef struct {
    unsigned applied;     /* items applied since the last reset */
    unsigned revocations; /* of which revocations */
} cse_sync_stats;

/* cmn_sync_apply_fn: arg is a cse_sync_stats. ENROLLED with a credential stores it
 * (and its indexes); REVOKED marks the credential of that KeID revoked (or stores the
 * revoked credential the item carries). Items that are not for us are skipped. */
int cse_sync_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg);

/* Reads a credential; *ret owned by the caller: cse_cred_free() (wipes the key). */
int cse_cred_get(cmn_store *st, const char *key_id, Tep__Credential **ret);
void cse_cred_free(Tep__Credential *c); /* NULL is fine */
/* 0 when usable at now; CMN_EDENIED revoked, CMN_EEXPIRED past expires (0 = never). */
int cse_cred_usable(const Tep__Credential *c, int64_t now);
/* Whether ae_id is the enrolee of any credential this CSE holds. */
bool cse_cred_is_enrolled(cmn_store *st, const char *ae_id);
/* Number of credentials (STATUS). */
int cse_cred_count(cmn_store *st, uint64_t *ret);

#endif
