/* The MAF credential store fed by the enroller's events (TS-0003 8.3.2.1): Km stored
 * on ENROLLED, marked revoked on REVOKED, other targets' items ignored; a reset (the
 * enroller's store replaced) forgets them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "authz_creds.h"
#include "authz_maf.h"
#include "cmn_err.h"
#include "tst.h"

static tst_store fx;
static cmn_store *store; /* fx.store */

static int setup(void **state)
{
    const char *dbs[] = {AUTHZ_CREDS_DB, AUTHZ_KE_INDEX_DB, CMN_SYNC_DB,
                         AUTHZ_MAF_REVOKED_CERTS_DB};

    if (tst_store_open("authz-creds", dbs, 4, 1, &fx) != 0)
        return -1;
    store = fx.store;
    return 0;
}

static int teardown(void **state)
{
    tst_store_close(&fx);
    store = NULL;
    return 0;
}

/* Applies one item in its own transaction, as cmn_sync does for a batch. */
static int apply(Tep__Event__Kind kind, const char *ke_id, Tep__Credential *cred)
{
    Tep__Event ev = TEP__EVENT__INIT;
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    cmn_txn *txn = NULL;
    int rc;

    ev.seq = 1;
    ev.kind = kind;
    ev.ke_id = (char *)ke_id;
    ev.enrolee_id = "Cdevice01";
    item.event = &ev;
    item.credential = cred;
    assert_int_equal(cmn_store_txn_begin(store, &txn), 0);
    rc = authz_creds_apply(txn, &item, NULL);
    if (rc != 0) {
        cmn_txn_abort(txn);
        return rc;
    }
    return cmn_txn_commit(txn);
}

static Tep__Credential *load(const char *key_id)
{
    void *val = NULL;
    size_t len = 0;
    Tep__Credential *c;

    if (cmn_store_get(store, AUTHZ_CREDS_DB, key_id, strlen(key_id), &val, &len) != 0)
        return NULL;
    c = tep__credential__unpack(NULL, len, val);
    cmn_store_free_val(val, len);
    return c;
}

static size_t active(void)
{
    size_t n = 99;

    assert_int_equal(authz_creds_count(store, &n), 0);
    return n;
}

/* Device01's Km credential as sync hands it to the MAF (km: 32 bytes, filled here). */
static Tep__Credential km_cred(uint8_t *km)
{
    Tep__Credential cred = TEP__CREDENTIAL__INIT;

    memset(km, 0xa5, 32);
    cred.key_id = "0011aabb@maf.tep.local";
    cred.key.data = km;
    cred.key.len = 32;
    cred.suid = 21;
    cred.ke_id = "ffee@mef.tep.local";
    cred.enrolee_id = "Cdevice01";
    cred.expires = 1795000000;
    return cred;
}

static void test_enrol_then_revoke(void **state)
{
    uint8_t km[32];
    Tep__Credential cred = km_cred(km), *got;

    assert_int_equal(active(), 0);
    assert_int_equal(apply(TEP__EVENT__KIND__ENROLLED, cred.ke_id, &cred), 0);
    assert_int_equal(active(), 1);
    got = load(cred.key_id);
    assert_non_null(got);
    assert_int_equal(got->suid, 21);
    assert_string_equal(got->enrolee_id, "Cdevice01");
    assert_int_equal(got->key.len, 32);
    assert_memory_equal(got->key.data, km, 32);
    assert_false(got->revoked);
    tep__credential__free_unpacked(got, NULL);

    /* The revocation event carries no credential: found through the KeID. */
    assert_int_equal(apply(TEP__EVENT__KIND__REVOKED, cred.ke_id, NULL), 0);
    assert_int_equal(active(), 0);
    got = load(cred.key_id);
    assert_non_null(got);
    assert_true(got->revoked);
    tep__credential__free_unpacked(got, NULL);
}

static void test_items_for_others_change_nothing(void **state)
{
    Tep__Credential nokey = TEP__CREDENTIAL__INIT;

    assert_int_equal(apply(TEP__EVENT__KIND__ENROLLED, "1234@mef.tep.local", NULL), 0);
    assert_int_equal(apply(TEP__EVENT__KIND__REVOKED, "unknown@mef.tep.local", NULL), 0);
    nokey.key_id = ""; /* malformed: skipped, not fatal to the batch */
    assert_int_equal(apply(TEP__EVENT__KIND__ENROLLED, "1234@mef.tep.local", &nokey), 0);
    assert_int_equal(active(), 0);
    assert_int_equal(authz_creds_apply(NULL, &(Tep__SyncItem)TEP__SYNC_ITEM__INIT, NULL), 0);
}

/* A reset deletes every credential, the KeID index and the revoked serials: a REVOKED
 * for the old KeID then finds nothing. */
static void test_reset_forgets_everything(void **state)
{
    uint8_t km[32];
    uint8_t when[8] = {0};
    Tep__Credential cred = km_cred(km), *got;
    void *val = NULL;
    size_t len = 0;
    cmn_txn *txn = NULL;

    assert_int_equal(apply(TEP__EVENT__KIND__ENROLLED, cred.ke_id, &cred), 0);
    assert_int_equal(cmn_store_put(store, AUTHZ_MAF_REVOKED_CERTS_DB, "0badc0de", 8, when, 8), 0);
    assert_int_equal(active(), 1);

    assert_int_equal(cmn_store_txn_begin(store, &txn), 0);
    assert_int_equal(authz_creds_reset(store, txn, NULL), 0);
    assert_int_equal(cmn_txn_commit(txn), 0);
    assert_int_equal(active(), 0);
    assert_null(load(cred.key_id));
    assert_int_equal(
        cmn_store_get(store, AUTHZ_KE_INDEX_DB, cred.ke_id, strlen(cred.ke_id), &val, &len),
        CMN_ENOTFOUND);
    assert_int_equal(cmn_store_get(store, AUTHZ_MAF_REVOKED_CERTS_DB, "0badc0de", 8, &val, &len),
                     CMN_ENOTFOUND);
    assert_int_equal(apply(TEP__EVENT__KIND__REVOKED, cred.ke_id, NULL), 0);
    assert_null(load(cred.key_id));

    /* the new log's ENROLLED stores it again */
    assert_int_equal(apply(TEP__EVENT__KIND__ENROLLED, cred.ke_id, &cred), 0);
    got = load(cred.key_id);
    assert_non_null(got);
    assert_false(got->revoked);
    tep__credential__free_unpacked(got, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrol_then_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_for_others_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_forgets_everything, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
