/* Credentials from the enroller's events, as the PSK callback will read them, and
 * certificates revoked on their own, as the certificate SAEF will check them; a reset
 * (the enroller's store replaced) clears them but keeps the MAF's keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cse_sync.h"
#include "tst.h"

typedef struct {
    char dir[64];
    cmn_store *st;
} fixture;

static int setup(void **state)
{
    static const char *const dbs[] = {CSE_DB_CREDENTIALS, CSE_DB_ENROLEES, CSE_DB_KEIDS,
                                      CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,  CSE_DB_KEY_KEIDS,
                                      CMN_SYNC_DB};
    fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/test-cse-sync-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(cmn_store_open(f->dir, dbs, 7, 1, 0, &f->st), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cmn_store_close(f->st);
    assert_int_equal(tst_rmtree(f->dir), 0);
    free(f);
    return 0;
}

static void apply_event(fixture *f, Tep__Event *ev, Tep__Credential *c, cse_sync_stats *stats)
{
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    cmn_txn *t;

    item.event = ev;
    item.credential = c;
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    assert_int_equal(cse_sync_apply(t, &item, stats), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
}

static void apply(fixture *f, uint64_t seq, Tep__Event__Kind kind, const char *ke_id,
                  Tep__Credential *c, cse_sync_stats *stats)
{
    Tep__Event ev = TEP__EVENT__INIT;

    ev.seq = seq;
    ev.kind = kind;
    ev.ke_id = (char *)ke_id;
    ev.enrolee_id = "Cdev1";
    apply_event(f, &ev, c, stats);
}

static void apply_cert_revoked(fixture *f, uint64_t seq, const char *serial, cse_sync_stats *stats)
{
    Tep__Event ev = TEP__EVENT__INIT;

    ev.seq = seq;
    ev.kind = TEP__EVENT__KIND__CERT_REVOKED;
    ev.ke_id = "ke1@mef.tep.local";
    ev.enrolee_id = "Cdev1";
    ev.cert_serial = (char *)serial;
    apply_event(f, &ev, NULL, stats);
}

static Tep__Credential cred(uint8_t *key, int64_t expires)
{
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = "00112233@mef.tep.local";
    c.key = (ProtobufCBinaryData){32, key};
    c.suid = 22;
    c.ke_id = "ke1@mef.tep.local";
    c.enrolee_id = "Cdev1";
    c.expires = expires;
    return c;
}

static void test_enrol_then_revoke(void **state)
{
    fixture *f = *state;
    uint8_t key[32];
    Tep__Credential c, *got = NULL;
    cse_sync_stats stats = {0};
    uint64_t n;

    memset(key, 0x5a, sizeof(key));
    c = cred(key, 0);
    assert_false(cse_cred_is_enrolled(f->st, "Cdev1"));
    apply(f, 1, TEP__EVENT__KIND__ENROLLED, "ke1@mef.tep.local", &c, &stats);
    assert_true(cse_cred_is_enrolled(f->st, "Cdev1"));
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), 0);
    assert_int_equal(cse_cred_usable(got, 1700000000), 0);
    assert_memory_equal(got->key.data, key, 32);
    assert_string_equal(got->enrolee_id, "Cdev1");
    cse_cred_free(got);
    assert_int_equal(cse_cred_count(f->st, &n), 0);
    assert_int_equal(n, 1);

    /* revoked: the event carries no key, the KeID leads to our credential */
    apply(f, 2, TEP__EVENT__KIND__REVOKED, "ke1@mef.tep.local", NULL, &stats);
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), 0);
    assert_int_equal(cse_cred_usable(got, 1700000000), CMN_EDENIED);
    cse_cred_free(got);
    assert_int_equal(stats.applied, 2);
    assert_int_equal(stats.revocations, 1);
    /* still an enrolled AE-ID (plain CoAP keeps refusing it with 4107) */
    assert_true(cse_cred_is_enrolled(f->st, "Cdev1"));
}

static void test_other_events(void **state)
{
    fixture *f = *state;
    uint8_t key[32] = {0};
    Tep__Credential c = cred(key, 1700000000), *got = NULL;

    /* a revocation that is not ours, an enrolment for another target */
    apply(f, 1, TEP__EVENT__KIND__REVOKED, "unknown@mef", NULL, NULL);
    apply(f, 2, TEP__EVENT__KIND__ENROLLED, "ke9@mef", NULL, NULL);
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), CMN_ENOTFOUND);
    apply(f, 3, TEP__EVENT__KIND__ENROLLED, "ke1@mef.tep.local", &c, NULL);
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), 0);
    assert_int_equal(cse_cred_usable(got, 1699999999), 0);
    assert_int_equal(cse_cred_usable(got, 1700000000), CMN_EEXPIRED);
    cse_cred_free(got);
}

/* TS-0003 10.7, one certificate: its serial is kept as revoked (durably: across a
 * reopen of the store), counts as a revocation (so the loop closes its sessions), and
 * leaves the enrolee's credential and its other certificates alone. */
/* A CSE enrolee's enrolment target (SyncItem.cse_target) is kept for every CSE,
 * whether or not a credential comes with it, and goes with its revocation; an AE's is
 * not kept. */
static void test_cse_target(void **state)
{
    fixture *f = *state;
    Tep__Event ev = TEP__EVENT__INIT;
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    char t[CSE_TARGET_ID_MAX];
    cmn_txn *txn;

    ev.seq = 1;
    ev.kind = TEP__EVENT__KIND__ENROLLED;
    ev.ke_id = "ke7@mef";
    ev.enrolee_id = "/mn2";
    item.event = &ev;
    item.cse_target = "/mn1";
    assert_int_equal(cmn_store_txn_begin(f->st, &txn), 0);
    assert_int_equal(cse_sync_apply(txn, &item, NULL), 0);
    ev.seq = 2;
    ev.enrolee_id = "Cdev1"; /* an AE-ID: not a CSE's target */
    assert_int_equal(cse_sync_apply(txn, &item, NULL), 0);
    assert_int_equal(cmn_txn_commit(txn), 0);
    assert_int_equal(cse_cse_target(f->st, "/mn2", t, sizeof(t)), 0);
    assert_string_equal(t, "/mn1");
    assert_int_equal(cse_cse_target(f->st, "Cdev1", t, sizeof(t)), CMN_ENOTFOUND);
    assert_int_equal(cse_cse_target(f->st, "/mn2", t, 4), CMN_ECORRUPT); /* "/mn1" + NUL */

    ev.seq = 3;
    ev.kind = TEP__EVENT__KIND__REVOKED;
    ev.enrolee_id = "/mn2";
    assert_int_equal(cmn_store_txn_begin(f->st, &txn), 0);
    assert_int_equal(cse_sync_apply(txn, &item, NULL), 0);
    assert_int_equal(cmn_txn_commit(txn), 0);
    assert_int_equal(cse_cse_target(f->st, "/mn2", t, sizeof(t)), CMN_ENOTFOUND);
}

/* SyncItem.ae_target: an AE's enrolment for another CSE, keyless (cse_escertke.c checks
 * an initiator behind that CSE with it). A new enrolment replaces it; a REVOKED marks it
 * only when it is the recorded KeID; a reset clears it. */
static void apply_transit(fixture *f, uint64_t seq, Tep__Event__Kind kind, const char *ke_id,
                          const char *target)
{
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    Tep__Event ev = TEP__EVENT__INIT;
    cmn_txn *t;

    ev.seq = seq;
    ev.kind = kind;
    ev.ke_id = (char *)ke_id;
    ev.enrolee_id = "Cdev9";
    item.event = &ev;
    item.ae_target = (char *)target;
    item.ae_expires = 1900000000;
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    assert_int_equal(cse_sync_apply(t, &item, NULL), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
}

static void test_transit_enrolment(void **state)
{
    fixture *f = *state;
    Tep__TransitEnrolment *te = NULL;
    cmn_txn *t;

    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), CMN_ENOTFOUND);
    apply_transit(f, 1, TEP__EVENT__KIND__ENROLLED, "k1@mef.tep.local", "/mn1");
    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), 0);
    assert_string_equal(te->ke_id, "k1@mef.tep.local");
    assert_string_equal(te->registrar, "/mn1");
    assert_int_equal(te->expires, 1900000000);
    assert_false(te->revoked);
    tep__transit_enrolment__free_unpacked(te, NULL);
    /* re-enrolled: the new KeID; the old one's revocation changes nothing */
    apply_transit(f, 2, TEP__EVENT__KIND__ENROLLED, "k2@mef.tep.local", "/mn1");
    apply_transit(f, 3, TEP__EVENT__KIND__REVOKED, "k1@mef.tep.local", "/mn1");
    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), 0);
    assert_string_equal(te->ke_id, "k2@mef.tep.local");
    assert_false(te->revoked);
    tep__transit_enrolment__free_unpacked(te, NULL);
    apply_transit(f, 4, TEP__EVENT__KIND__REVOKED, "k2@mef.tep.local", "/mn1");
    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), 0);
    assert_true(te->revoked);
    tep__transit_enrolment__free_unpacked(te, NULL);
    /* malformed: an AE target that is no CSE-ID, a CSE enrolee: nothing */
    apply_transit(f, 5, TEP__EVENT__KIND__ENROLLED, "k3@mef.tep.local", "mn1");
    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), 0);
    assert_string_equal(te->ke_id, "k2@mef.tep.local");
    tep__transit_enrolment__free_unpacked(te, NULL);
    /* a reset (another enroller store) clears it */
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    assert_int_equal(cse_sync_reset(f->st, t, NULL), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    assert_int_equal(cse_transit_get(f->st, "Cdev9", &te), CMN_ENOTFOUND);
}

/* A MEF key (KEY_REGISTERED) under the KeID of the registrar's Kpsa: it leaves the
 * AE-ID's and KeID's indexes to the Kpsa, and a REVOKED of the KeID (carrying the Kpsa)
 * revokes it too (TS-0003 10.7). */
static void test_mef_key_revoked_with_its_enrolment(void **state)
{
    fixture *f = *state;
    uint8_t key[32], kuc[32];
    Tep__Credential c, k, *got = NULL;
    Tep__Event ev = TEP__EVENT__INIT;

    memset(key, 0x5a, sizeof(key));
    memset(kuc, 0x6b, sizeof(kuc));
    c = cred(key, 0);
    apply(f, 1, TEP__EVENT__KIND__ENROLLED, "ke1@mef.tep.local", &c, NULL);
    k = cred(kuc, 0);
    k.key_id = "99887766@mef.tep.local";
    k.suid = 23;
    ev.seq = 2;
    ev.kind = TEP__EVENT__KIND__KEY_REGISTERED;
    ev.ke_id = "ke1@mef.tep.local";
    ev.enrolee_id = "Cdev1";
    ev.key_id = k.key_id;
    apply_event(f, &ev, &k, NULL);
    /* the AE-ID still names the Kpsa */
    assert_int_equal(cse_cred_get_by_enrolee(f->st, "Cdev1", &got), 0);
    assert_string_equal(got->key_id, "00112233@mef.tep.local");
    cse_cred_free(got);
    /* the enrolment revoked (the item carries the revoked Kpsa): the Kuc too */
    c.revoked = true;
    apply(f, 3, TEP__EVENT__KIND__REVOKED, "ke1@mef.tep.local", &c, NULL);
    assert_int_equal(cse_cred_get(f->st, "99887766@mef.tep.local", &got), 0);
    assert_true(got->revoked);
    cse_cred_free(got);
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), 0);
    assert_true(got->revoked);
    cse_cred_free(got);
}

static void test_cert_revoked(void **state)
{
    static const char *const dbs[] = {CSE_DB_CREDENTIALS, CSE_DB_ENROLEES, CSE_DB_KEIDS,
                                      CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,  CSE_DB_KEY_KEIDS,
                                      CMN_SYNC_DB};
    fixture *f = *state;
    uint8_t key[32] = {0x11};
    Tep__Credential c = cred(key, 0), *got = NULL;
    cse_sync_stats stats = {0};

    apply(f, 1, TEP__EVENT__KIND__ENROLLED, "ke1@mef.tep.local", &c, NULL);
    assert_int_equal(cse_cert_revoked(f->st, "5f00aa"), 0);
    apply_cert_revoked(f, 2, "5f00aa", &stats);
    assert_int_equal(stats.applied, 1);
    assert_int_equal(stats.revocations, 1);
    cmn_store_close(f->st);
    assert_int_equal(cmn_store_open(f->dir, dbs, 7, 1, 0, &f->st), 0);
    assert_int_equal(cse_cert_revoked(f->st, "5f00aa"), CMN_EDENIED);
    assert_int_equal(cse_cert_revoked(f->st, "5f00ab"), 0);
    /* a serial that is not lower-case hex cannot be checked: refused, not let through */
    assert_int_equal(cse_cert_revoked(f->st, "5F00AA"), CMN_EINVAL);
    /* the enrolment (Kpsa) is untouched; "cert:<serial>" is not a usable PSK identity */
    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), 0);
    assert_int_equal(cse_cred_usable(got, 1700000000), 0);
    cse_cred_free(got);
    assert_int_equal(cse_cred_get(f->st, "cert:5f00aa", &got), 0);
    assert_int_equal(cse_cred_usable(got, 1700000000), CMN_EDENIED);
    assert_int_equal(got->key.len, 0);
    cse_cred_free(got);
    /* a malformed serial is skipped: applied, nothing stored, no revocation */
    memset(&stats, 0, sizeof(stats));
    apply_cert_revoked(f, 3, "not-hex", &stats);
    apply_cert_revoked(f, 4, "", &stats);
    assert_int_equal(stats.applied, 2);
    assert_int_equal(stats.revocations, 0);
    assert_int_equal(cse_cred_get(f->st, "cert:not-hex", &got), CMN_ENOTFOUND);
}

/* The enroller's store was replaced: every record from its events goes (Kpsa, the
 * "cert:" record, both indexes), a MAF Kc (SUID 32) stays, and the reset counts as a
 * revocation so that the applied hook closes the sessions that lost their credential. */
static void test_reset_keeps_only_maf_keys(void **state)
{
    fixture *f = *state;
    uint8_t key[32], kc_key[32];
    Tep__Credential c, kc = TEP__CREDENTIAL__INIT, *got = NULL;
    cse_sync_stats stats = {0};
    size_t len;
    uint8_t *buf;
    cmn_txn *t;
    uint64_t n;

    memset(key, 0x5a, sizeof(key));
    memset(kc_key, 0x6b, sizeof(kc_key));
    c = cred(key, 0);
    apply(f, 1, TEP__EVENT__KIND__ENROLLED, "ke1@mef.tep.local", &c, &stats);
    apply_cert_revoked(f, 2, "0badc0de", &stats);
    kc.key_id = "kc-1@maf.tep.local";
    kc.key = (ProtobufCBinaryData){32, kc_key};
    kc.suid = 32;
    kc.enrolee_id = "Cdev1";
    len = tep__credential__get_packed_size(&kc);
    buf = malloc(len);
    tep__credential__pack(&kc, buf);
    assert_int_equal(
        cmn_store_put(f->st, CSE_DB_CREDENTIALS, kc.key_id, strlen(kc.key_id), buf, len), 0);
    free(buf);
    assert_int_equal(cse_cred_count(f->st, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(cse_cert_revoked(f->st, "0badc0de"), CMN_EDENIED);

    memset(&stats, 0, sizeof(stats));
    assert_int_equal(cmn_store_txn_begin(f->st, &t), 0);
    assert_int_equal(cse_sync_reset(f->st, t, &stats), 0);
    assert_int_equal(cmn_txn_commit(t), 0);

    assert_int_equal(cse_cred_get(f->st, "00112233@mef.tep.local", &got), CMN_ENOTFOUND);
    assert_false(cse_cred_is_enrolled(f->st, "Cdev1"));
    assert_int_equal(cse_cert_revoked(f->st, "0badc0de"), 0);
    assert_int_equal(cse_cred_get(f->st, "kc-1@maf.tep.local", &got), 0);
    assert_int_equal(got->suid, 32);
    assert_memory_equal(got->key.data, kc_key, 32);
    cse_cred_free(got);
    assert_int_equal(cse_cred_count(f->st, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(stats.revocations, 1);

    /* the new log applies on a clean slate; the KeID index starts over too */
    apply(f, 1, TEP__EVENT__KIND__REVOKED, "ke1@mef.tep.local", NULL, &stats);
    assert_int_equal(cse_cred_count(f->st, &n), 0);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrol_then_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cse_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transit_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mef_key_revoked_with_its_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_keeps_only_maf_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
