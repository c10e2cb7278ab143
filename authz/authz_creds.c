/* The MAF's credential store, fed by cmn_sync (see authz_creds.h). Packed credentials
 * hold Km: every buffer that held one is wiped before it is freed. */
#include "authz_creds.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "authz_maf.h"

#define SUB "sync"

static int put_credential(cmn_txn *txn, const Tep__Credential *cred)
{
    int rc = cmn_txn_put_msg(txn, AUTHZ_CREDS_DB, cred->key_id, strlen(cred->key_id), &cred->base);

    if (rc == 0 && cred->ke_id != NULL && cred->ke_id[0] != '\0')
        rc = cmn_txn_put(txn, AUTHZ_KE_INDEX_DB, cred->ke_id, strlen(cred->ke_id), cred->key_id,
                         strlen(cred->key_id));
    return rc;
}

static void free_credential(Tep__Credential *cred)
{
    if (cred == NULL)
        return;
    if (cred->key.data != NULL)
        cmn_wipe(cred->key.data, cred->key.len);
    tep__credential__free_unpacked(cred, NULL);
}

/* Loads the credential stored under key_id (inside txn). */
static int get_credential(cmn_txn *txn, const void *key_id, size_t klen, Tep__Credential **ret_cred)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(txn, AUTHZ_CREDS_DB, key_id, klen, &val, &len);

    if (rc != 0)
        return rc;
    *ret_cred = tep__credential__unpack(NULL, len, val);
    cmn_store_free_val(val, len);
    return *ret_cred != NULL ? 0 : CMN_ECORRUPT;
}

static int revoke_by_ke(cmn_txn *txn, const char *ke_id)
{
    void *key_id = NULL;
    size_t klen = 0;
    Tep__Credential *cred = NULL;
    int rc;

    rc = cmn_txn_get(txn, AUTHZ_KE_INDEX_DB, ke_id, strlen(ke_id), &key_id, &klen);
    if (rc == CMN_ENOTFOUND)
        return 0; /* not an enrolment of ours */
    if (rc != 0)
        return rc;
    rc = get_credential(txn, key_id, klen, &cred);
    if (rc == CMN_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc != 0)
        goto out;
    cred->revoked = true;
    rc = put_credential(txn, cred);
    if (rc == 0)
        CMN_INFO(SUB, "event=credential_revoked key_id=%s ke_id=%s", cred->key_id, ke_id);
out:
    free_credential(cred);
    cmn_store_free_val(key_id, klen);
    return rc;
}

static int store_credential(cmn_txn *txn, const Tep__Credential *in, bool revoked)
{
    Tep__Credential cred = *in; /* shallow: only the flag changes */
    int rc;

    cred.revoked = cred.revoked || revoked;
    rc = put_credential(txn, &cred);
    if (rc == 0)
        CMN_INFO(SUB, "event=credential_stored key_id=%s enrolee_id=%s suid=%u revoked=%d",
                 cred.key_id, cred.enrolee_id ? cred.enrolee_id : "", cred.suid, cred.revoked);
    return rc;
}

int authz_creds_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg)
{
    const Tep__Event *ev = item != NULL ? item->event : NULL;
    const Tep__Credential *cred = item != NULL ? item->credential : NULL;

    if (ev == NULL) {
        CMN_WARN(SUB, "event=sync_item_skipped reason=\"no event\"");
        return 0;
    }
    if (cred != NULL && (cred->key_id == NULL || cred->key_id[0] == '\0')) {
        CMN_WARN(SUB, "event=sync_item_skipped seq=%llu reason=\"credential without key_id\"",
                 (unsigned long long)ev->seq);
        cred = NULL;
    }
    if (ev->kind == TEP__EVENT__KIND__REVOKED) {
        if (cred != NULL)
            return store_credential(txn, cred, true);
        return ev->ke_id != NULL && ev->ke_id[0] ? revoke_by_ke(txn, ev->ke_id) : 0;
    }
    return cred != NULL ? store_credential(txn, cred, false) : 0;
}

int authz_creds_reset(cmn_store *store, cmn_txn *txn, void *arg)
{
    size_t n = 0, certs = 0;
    int rc = cmn_sync_clear_db(store, txn, AUTHZ_CREDS_DB, NULL, &n);

    (void)arg;
    if (rc == 0)
        rc = cmn_sync_clear_db(store, txn, AUTHZ_KE_INDEX_DB, NULL, NULL);
    if (rc == 0)
        rc = cmn_sync_clear_db(store, txn, AUTHZ_MAF_REVOKED_CERTS_DB, NULL, &certs);
    if (rc == 0)
        CMN_INFO(SUB, "event=credentials_cleared count=%zu revoked_certs=%zu", n, certs);
    return rc;
}

static int count_active(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    Tep__Credential *cred = tep__credential__unpack(NULL, vlen, val);

    if (cred == NULL)
        return CMN_ECORRUPT;
    if (!cred->revoked)
        (*(size_t *)arg)++;
    free_credential(cred);
    return 0;
}

int authz_creds_count(cmn_store *store, size_t *ret_active)
{
    *ret_active = 0;
    return cmn_store_foreach(store, AUTHZ_CREDS_DB, NULL, 0, count_active, ret_active);
}
