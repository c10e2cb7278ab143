/* enr_sync: the registrar CSE gets Kpsa/KpsaID, the MAF gets Km/KmID, anyone else
 * gets the event without a credential, a revoked enrolment hands out no key, and a
 * CERT_REVOKED goes to everyone with its serial and no credential. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_kdf.h"
#include "enr_db.h"
#include "enr_sync.h"
#include "test_certs.h"
#include "tst.h"

#define MEF "mef.tep.local"
#define CSE "/tep-cse"
#define MAF "maf.tep.local"

static char dir[64];
static const uint8_t ke[CMN_KEY_LEN] = {0xde, 0xad, 0xbe, 0xef};

static int setup(void **state)
{
    cmn_store *s = NULL;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x42};
    enr_enrol_result r;
    enr_enrol_input in = {"device01", "ab@" MEF, ke, CSE, MAF, time(NULL)};

    snprintf(dir, sizeof(dir), "/tmp/tep-test-sync-XXXXXX");
    if (mkdtemp(dir) == NULL || enr_db_open(dir, &s) != 0)
        return -1;
    e.kpm_id = "device01";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "Cdevice01";
    e.app_id = "Ntepdemo";
    e.expires = time(NULL) + 3600;
    if (enr_db_enrolee_add(s, &e) != 0 || enr_db_enrol(s, &in, &r) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    cmn_store_close(*state);
    return tst_rmtree(dir);
}

static void ask(cmn_store *s, uint64_t after, const char *target, uint32_t max,
                Tep__SyncResponse *resp)
{
    Tep__SyncRequest req = TEP__SYNC_REQUEST__INIT;

    req.after_seq = after;
    req.target_id = (char *)target;
    req.max = max;
    tep__sync_response__init(resp);
    assert_int_equal(enr_sync_answer(s, MEF, &req, resp), 0);
}

static void test_registrar_gets_kpsa(void **state)
{
    Tep__SyncResponse resp;
    uint8_t kpsa[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    const Tep__Credential *c;

    ask(*state, 0, CSE, 0, &resp);
    assert_int_equal(resp.n_items, 1);
    assert_int_equal(resp.last_seq, 1);
    assert_false(resp.more);
    assert_int_equal(resp.items[0]->event->seq, 1);
    c = resp.items[0]->credential;
    assert_non_null(c);
    assert_int_equal(c->suid, ENR_SUID_KPSA);
    assert_int_equal(cmn_kdf_kpsa(ke, CSE, kpsa), 0);
    assert_int_equal(cmn_kdf_kpsa_id(kpsa, MEF, id, sizeof(id)), 0);
    assert_int_equal(c->key.len, CMN_KEY_LEN);
    assert_memory_equal(c->key.data, kpsa, CMN_KEY_LEN);
    assert_string_equal(c->key_id, id);
    assert_string_equal(c->enrolee_id, "Cdevice01");
    assert_string_equal(c->app_id, "Ntepdemo");
    assert_string_equal(c->ke_id, "ab@" MEF);
    assert_false(c->revoked);
    enr_sync_clear(&resp);
}

/* Every answer names the store: its epoch, also when there is nothing to give; the
 * epoch string is released with the answer. */
static void test_answer_carries_epoch(void **state)
{
    Tep__SyncResponse resp;
    char epoch[ENR_EPOCH_LEN + 1];

    assert_int_equal(enr_db_epoch(*state, epoch), 0);
    ask(*state, 0, CSE, 0, &resp);
    assert_string_equal(resp.epoch, epoch);
    enr_sync_clear(&resp);
    assert_string_equal(resp.epoch, "");
    ask(*state, 1, "/other-cse", 0, &resp);
    assert_int_equal(resp.n_items, 0);
    assert_string_equal(resp.epoch, epoch);
    enr_sync_clear(&resp);
}

static void test_maf_gets_km(void **state)
{
    Tep__SyncResponse resp;
    uint8_t km[CMN_KEY_LEN];
    char id[CMN_KEY_ID_MAX];
    const Tep__Credential *c;

    ask(*state, 0, MAF, 0, &resp);
    assert_int_equal(resp.n_items, 1);
    c = resp.items[0]->credential;
    assert_non_null(c);
    assert_int_equal(c->suid, ENR_SUID_MAF);
    assert_int_equal(cmn_kdf_km(ke, MAF, km), 0);
    assert_int_equal(cmn_kdf_km_id(km, MAF, id, sizeof(id)), 0);
    assert_memory_equal(c->key.data, km, CMN_KEY_LEN);
    assert_string_equal(c->key_id, id);
    enr_sync_clear(&resp);
}

static void test_others_get_no_credential(void **state)
{
    Tep__SyncResponse resp;

    ask(*state, 0, "/other-cse", 0, &resp);
    assert_int_equal(resp.n_items, 1);
    assert_non_null(resp.items[0]->event);
    assert_null(resp.items[0]->credential);
    enr_sync_clear(&resp);
    ask(*state, 0, "", 0, &resp);
    assert_null(resp.items[0]->credential);
    enr_sync_clear(&resp);
}

static void test_revoked_hands_out_no_key(void **state)
{
    Tep__SyncResponse resp;
    enr_events ev;

    assert_int_equal(enr_db_enrolee_revoke(*state, "device01", &ev), 0);
    ask(*state, 0, CSE, 0, &resp);
    assert_int_equal(resp.n_items, 2);
    assert_int_equal(resp.items[1]->event->kind, TEP__EVENT__KIND__REVOKED);
    for (size_t i = 0; i < 2; i++) {
        assert_true(resp.items[i]->credential->revoked);
        assert_int_equal(resp.items[i]->credential->key.len, 0);
        assert_true(resp.items[i]->credential->key_id[0] != '\0');
    }
    enr_sync_clear(&resp);
}

static void test_cert_revoked_goes_to_all_without_credential(void **state)
{
    const char *targets[] = {CSE, MAF, "/other-cse"};
    Tep__SyncResponse resp;
    enr_events ev;
    int64_t when;

    test_put_cert(*state, "5f00aa", "ab@" MEF);
    assert_int_equal(enr_db_cert_revoke(*state, "5f00aa", time(NULL), &ev, &when), 0);
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        ask(*state, 1, targets[i], 0, &resp);
        assert_int_equal(resp.n_items, 1);
        assert_int_equal(resp.items[0]->event->kind, TEP__EVENT__KIND__CERT_REVOKED);
        assert_string_equal(resp.items[0]->event->cert_serial, "5f00aa");
        assert_string_equal(resp.items[0]->event->enrolee_id, "Cdevice01");
        assert_null(resp.items[0]->credential); /* never a key with it */
        enr_sync_clear(&resp);
    }
}

static void test_paging(void **state)
{
    Tep__SyncResponse resp;
    enr_events ev;

    assert_int_equal(enr_db_enrolee_revoke(*state, "device01", &ev), 0);
    ask(*state, 0, CSE, 1, &resp);
    assert_int_equal(resp.n_items, 1);
    assert_true(resp.more);
    assert_int_equal(resp.last_seq, 2);
    enr_sync_clear(&resp);
    ask(*state, 1, CSE, 1, &resp);
    assert_int_equal(resp.n_items, 1);
    assert_int_equal(resp.items[0]->event->seq, 2);
    assert_false(resp.more);
    enr_sync_clear(&resp);
    ask(*state, 2, CSE, 0, &resp);
    assert_int_equal(resp.n_items, 0);
    assert_false(resp.more);
    enr_sync_clear(&resp);
}

/* An enrolee with its own Enrolment Target (tepctl enrolee add --target): its Kpsa is
 * derived for that CSE-ID and handed only to it; the default registrar gets the event
 * without a credential, and the target gets nothing of the other enrolees. */
static void test_enrolee_target_gets_its_kpsa_only(void **state)
{
    cmn_store *s = *state;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x43}, kpsa[CMN_KEY_LEN];
    static const uint8_t ke2[CMN_KEY_LEN] = {0xca, 0xfe};
    enr_enrol_input in = {"device02", "cd@" MEF, ke2, CSE, MAF, time(NULL)};
    enr_enrol_result r;
    Tep__SyncResponse resp;
    const Tep__Credential *c;

    e.kpm_id = "device02";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "Cdevice02";
    e.target_cse_id = "/mn-cse1";
    e.expires = time(NULL) + 3600;
    assert_int_equal(enr_db_enrolee_add(s, &e), 0);
    assert_int_equal(enr_db_enrol(s, &in, &r), 0);
    assert_string_equal(r.registrar_cse_id, "/mn-cse1");

    ask(s, 0, "/mn-cse1", 0, &resp); /* device01's and device02's events */
    assert_int_equal(resp.n_items, 2);
    assert_null(resp.items[0]->credential); /* device01: the IN-CSE's */
    c = resp.items[1]->credential;
    assert_non_null(c);
    assert_int_equal(c->suid, ENR_SUID_KPSA);
    assert_string_equal(c->enrolee_id, "Cdevice02");
    assert_int_equal(cmn_kdf_kpsa(ke2, "/mn-cse1", kpsa), 0);
    assert_memory_equal(c->key.data, kpsa, CMN_KEY_LEN);
    assert_string_equal(resp.items[1]->ae_target, ""); /* its own registrar: the key */
    enr_sync_clear(&resp);

    ask(s, 1, CSE, 0, &resp); /* the IN-CSE: no key of device02, its enrolment for /mn-cse1 */
    assert_int_equal(resp.n_items, 1);
    assert_null(resp.items[0]->credential);
    assert_string_equal(resp.items[0]->ae_target, "/mn-cse1");
    assert_int_equal(resp.items[0]->ae_expires, r.expires);
    assert_string_equal(resp.items[0]->event->enrolee_id, "Cdevice02");
    enr_sync_clear(&resp);

    ask(s, 1, MAF, 0, &resp); /* the MAF's Km is per enrolee as before */
    assert_non_null(resp.items[0]->credential);
    assert_int_equal(resp.items[0]->credential->suid, ENR_SUID_MAF);
    assert_string_equal(resp.items[0]->ae_target, ""); /* not a CSE */
    enr_sync_clear(&resp);
}

/* A CSE enrolee's enrolment target goes to every target (the registrar of its
 * registrar checks descendantCSEs with it); an AE enrolee's to none. */
static void test_cse_target_to_every_target(void **state)
{
    cmn_store *s = *state;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x44};
    static const uint8_t ke2[CMN_KEY_LEN] = {0xbe, 0xef};
    enr_enrol_input in = {"mn2", "ef@" MEF, ke2, CSE, MAF, time(NULL)};
    enr_enrol_result r;
    Tep__SyncResponse resp;

    e.kpm_id = "mn2";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "/mn2";
    e.target_cse_id = "/mn-cse1";
    e.expires = time(NULL) + 3600;
    assert_int_equal(enr_db_enrolee_add(s, &e), 0);
    assert_int_equal(enr_db_enrol(s, &in, &r), 0);
    ask(s, 0, CSE, 0, &resp);
    assert_int_equal(resp.n_items, 2);
    assert_string_equal(resp.items[0]->cse_target, ""); /* Cdevice01: an AE */
    assert_null(resp.items[1]->credential);             /* not the IN-CSE's Kpsa */
    assert_string_equal(resp.items[1]->cse_target, "/mn-cse1");
    enr_sync_clear(&resp);
    ask(s, 1, "/mn-cse1", 0, &resp);
    assert_non_null(resp.items[0]->credential);
    assert_string_equal(resp.items[0]->cse_target, "/mn-cse1");
    enr_sync_clear(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registrar_gets_kpsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cse_target_to_every_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_carries_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maf_gets_km, setup, teardown),
        cmocka_unit_test_setup_teardown(test_others_get_no_credential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_hands_out_no_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_revoked_goes_to_all_without_credential, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrolee_target_gets_its_kpsa_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
