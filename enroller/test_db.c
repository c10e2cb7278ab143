/* enr_db: an enrolment is recorded with its events in sequence, a re-enrolment
 * revokes the previous one, refusals leave nothing behind, a certificate is revoked
 * on its own with its CERT_REVOKED event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "enr_ca.h"
#include "enr_db.h"
#include "test_certs.h"
#include "tst.h"

static char dir[64];
static const uint8_t ke_a[CMN_KEY_LEN] = {1, 2, 3};
static const uint8_t ke_b[CMN_KEY_LEN] = {9, 8, 7};

static int setup(void **state)
{
    cmn_store *s = NULL;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x42};

    snprintf(dir, sizeof(dir), "/tmp/tep-test-enr-XXXXXX");
    if (mkdtemp(dir) == NULL || enr_db_open(dir, &s) != 0)
        return -1;
    e.kpm_id = "device01";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "Cdevice01";
    e.app_id = "Ntepdemo";
    e.expires = time(NULL) + 3600;
    if (enr_db_enrolee_add(s, &e) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    cmn_store_close(*state);
    return tst_rmtree(dir);
}

static int enrol(cmn_store *s, const char *kpm_id, const char *ke_id, const uint8_t *ke,
                 enr_enrol_result *r)
{
    enr_enrol_input in = {kpm_id, ke_id, ke, "/tep-cse", "maf.tep.local", time(NULL)};

    return enr_db_enrol(s, &in, r);
}

static uint64_t last_seq(cmn_store *s)
{
    uint64_t seq = 99;

    assert_int_equal(enr_db_last_seq(s, &seq), 0);
    return seq;
}

static void test_first_enrolment_commits_record_and_event(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    Tep__Enrolment *en = NULL;
    Tep__Event *ev = NULL;

    assert_int_equal(last_seq(s), 0);
    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    assert_false(r.repeated);
    assert_string_equal(r.enrolee_id, "Cdevice01");
    assert_string_equal(r.app_id, "Ntepdemo");
    assert_int_equal(r.events.n, 1);
    assert_int_equal(r.events.ev[0].seq, 1);
    assert_int_equal(r.events.ev[0].kind, TEP__EVENT__KIND__ENROLLED);
    assert_int_equal(last_seq(s), 1);

    assert_int_equal(enr_db_enrolment_get(s, "aa@mef.tep.local", &en), 0);
    assert_memory_equal(en->ke.data, ke_a, CMN_KEY_LEN);
    assert_string_equal(en->registrar_cse_id, "/tep-cse");
    assert_false(en->revoked);
    enr_enrolment_free(en);
    assert_int_equal(enr_db_event_get(s, 1, &ev), 0);
    assert_string_equal(ev->ke_id, "aa@mef.tep.local");
    assert_string_equal(ev->enrolee_id, "Cdevice01");
    tep__event__free_unpacked(ev, NULL);
}

static void test_reenrolment_revokes_previous_in_order(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    Tep__Enrolment *old = NULL;

    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    assert_int_equal(enrol(s, "device01", "bb@mef.tep.local", ke_b, &r), 0);
    assert_int_equal(r.events.n, 2);
    assert_int_equal(r.events.ev[0].seq, 2);
    assert_int_equal(r.events.ev[0].kind, TEP__EVENT__KIND__REVOKED);
    assert_string_equal(r.events.ev[0].ke_id, "aa@mef.tep.local");
    assert_int_equal(r.events.ev[1].seq, 3);
    assert_int_equal(r.events.ev[1].kind, TEP__EVENT__KIND__ENROLLED);
    assert_string_equal(r.events.ev[1].ke_id, "bb@mef.tep.local");
    assert_int_equal(last_seq(s), 3);
    assert_int_equal(enr_db_enrolment_get(s, "aa@mef.tep.local", &old), 0);
    assert_true(old->revoked);
    enr_enrolment_free(old);
}

static void test_same_session_again_records_nothing(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;

    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    assert_true(r.repeated);
    assert_int_equal(r.events.n, 0);
    assert_string_equal(r.enrolee_id, "Cdevice01");
    assert_int_equal(last_seq(s), 1);
}

static void test_refusals(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    enr_events ev;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0};

    assert_int_equal(enrol(s, "nobody", "aa@mef.tep.local", ke_a, &r), CMN_ENOTFOUND);
    e.kpm_id = "old";
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = "Cold";
    e.expires = time(NULL) - 1;
    assert_int_equal(enr_db_enrolee_add(s, &e), 0);
    assert_int_equal(enr_db_enrolee_add(s, &e), CMN_EEXIST);
    assert_int_equal(enrol(s, "old", "cc@mef.tep.local", ke_a, &r), CMN_EEXPIRED);
    assert_int_equal(enr_db_enrolee_revoke(s, "device01", &ev), 0);
    assert_int_equal(ev.n, 0); /* never enrolled: nothing to revoke on the bus */
    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), CMN_EDENIED);
    assert_int_equal(last_seq(s), 0);
}

static void test_revoke_enrolee_revokes_enrolment_once(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    enr_events ev;
    Tep__Enrolee *e = NULL;

    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    assert_int_equal(enr_db_enrolee_revoke(s, "device01", &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].seq, 2);
    assert_int_equal(ev.ev[0].kind, TEP__EVENT__KIND__REVOKED);
    assert_int_equal(enr_db_enrolee_get(s, "device01", &e), 0);
    assert_int_equal(e->state, TEP__ENROLEE__STATE__REVOKED);
    enr_enrolee_free(e);
    assert_int_equal(enr_db_enrolee_revoke(s, "device01", &ev), 0);
    assert_int_equal(ev.n, 0);
    assert_int_equal(enr_db_enrolee_revoke(s, "nobody", &ev), CMN_ENOTFOUND);
    assert_int_equal(last_seq(s), 2);
}

static int revoked_of(const Tep__IssuedCert *c, void *arg)
{
    *(int64_t *)arg = c->revoked;
    return 0;
}

/* TS-0003 10.7, one certificate: the mark and the CERT_REVOKED event (serial, the
 * enrolment it was issued in) are committed together; again is 0 with no new event. */
static void test_cert_revoke_marks_and_logs_once(void **state)
{
    cmn_store *s = *state;
    const char *serial = "4a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d";
    enr_enrol_result r;
    enr_events ev;
    Tep__Event *e = NULL;
    int64_t when = 0, mark = 0;

    assert_int_equal(enrol(s, "device01", "aa@mef.tep.local", ke_a, &r), 0);
    test_put_cert(s, serial, "aa@mef.tep.local");
    assert_int_equal(enr_db_cert_revoke(s, serial, 1000, &ev, &when), 0);
    assert_int_equal(when, 1000);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.ev[0].seq, 2);
    assert_int_equal(ev.ev[0].kind, TEP__EVENT__KIND__CERT_REVOKED);
    assert_string_equal(ev.ev[0].cert_serial, serial);
    assert_string_equal(ev.ev[0].enrolee_id, "Cdevice01");
    assert_int_equal(enr_db_event_get(s, 2, &e), 0);
    assert_int_equal(e->kind, TEP__EVENT__KIND__CERT_REVOKED);
    assert_string_equal(e->cert_serial, serial);
    assert_string_equal(e->ke_id, "aa@mef.tep.local");
    assert_string_equal(e->kpm_id, "device01");
    assert_int_equal(e->time, 1000);
    tep__event__free_unpacked(e, NULL);
    assert_int_equal(enr_ca_foreach(s, revoked_of, &mark), 0);
    assert_int_equal(mark, 1000);

    assert_int_equal(enr_db_cert_revoke(s, serial, 2000, &ev, &when), 0);
    assert_int_equal(ev.n, 0);
    assert_int_equal(when, 1000); /* the first revocation stands */
    assert_int_equal(enr_db_cert_revoke(s, "4a0b", 2000, &ev, &when), CMN_ENOTFOUND);
    assert_int_equal(ev.n, 0);
    assert_int_equal(last_seq(s), 2);
    /* the enrolment itself is untouched */
    assert_int_equal(enr_db_enrolee_revoke(s, "device01", &ev), 0);
    assert_int_equal(ev.n, 1);
}

static int add_app(cmn_store *s, const char *kpm_id, const char *app_id, const char *stem)
{
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x43};

    e.kpm_id = (char *)kpm_id;
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = (char *)stem;
    e.app_id = (char *)app_id;
    e.expires = time(NULL) + 3600;
    e.application = true;
    return enr_db_enrolee_add(s, &e);
}

/* KAT of the instance AE-ID format: "C" stem "-" first 16 hex digits (64 bits) of the
 * KeID. */
static void test_instance_id_format(void **state)
{
    char id[64];

    (void)state;
    assert_int_equal(
        enr_instance_id("meter", "0a1b2c3d4e5f60718293a4b5c6d7e8f9@mef.tep.local", id, sizeof(id)),
        0);
    assert_string_equal(id, "Cmeter-0a1b2c3d4e5f6071");
    assert_int_equal(enr_instance_id("meter", "0a1b2c3d4e5f@x", id, sizeof(id)), CMN_EINVAL);
    assert_int_equal(enr_instance_id("meter", "0a1b2c3d4e5f6071@x", id, 8), CMN_ERANGE);
}

/* Seed Z.2: every instance enrols with the application's credential and gets its own
 * Ke and AE-ID; earlier instances stay; revoking the application revokes them all. */
static void test_app_instances_and_revoke(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r1, r2;
    enr_events ev;
    Tep__Enrolment *en = NULL;

    assert_int_equal(add_app(s, "meterapp", "Nmeter", "meter"), 0);
    assert_int_equal(enrol(s, "meterapp", "1111111111111111aa@mef.tep.local", ke_a, &r1), 0);
    assert_int_equal(enrol(s, "meterapp", "2222222222222222bb@mef.tep.local", ke_b, &r2), 0);
    assert_string_equal(r1.enrolee_id, "Cmeter-1111111111111111");
    assert_string_equal(r2.enrolee_id, "Cmeter-2222222222222222");
    assert_string_equal(r2.app_id, "Nmeter");
    assert_int_equal(r2.events.n, 1); /* the first instance is not revoked */
    assert_int_equal(enr_db_enrolment_get(s, "1111111111111111aa@mef.tep.local", &en), 0);
    assert_false(en->revoked);
    enr_enrolment_free(en);
    assert_int_equal(enr_db_app_revoke(s, "Nmeter", &ev), 0);
    assert_int_equal(ev.n, 2); /* one event per instance, one transaction */
    assert_int_equal(ev.ev[0].kind, TEP__EVENT__KIND__REVOKED);
    assert_int_equal(ev.ev[1].kind, TEP__EVENT__KIND__REVOKED);
    assert_int_equal(enr_db_enrolment_get(s, "2222222222222222bb@mef.tep.local", &en), 0);
    assert_true(en->revoked);
    enr_enrolment_free(en);
    assert_int_equal(enrol(s, "meterapp", "3333333333333333cc@mef.tep.local", ke_a, &r1),
                     CMN_EDENIED);
    assert_int_equal(enr_db_app_revoke(s, "Nmeter", &ev), CMN_ENOTFOUND);
    assert_int_equal(enr_db_app_revoke(s, "Nother", &ev), CMN_ENOTFOUND);
}

/* Two sessions whose KeIDs share their first 64 bits would give one AE-ID: the second is
 * refused in the same transaction (CMN_EEXIST, nothing recorded) and the first kept. */
static void test_instance_id_collision_refused(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    Tep__Enrolment *en = NULL;
    uint64_t before, after;

    assert_int_equal(add_app(s, "meterapp", "Nmeter", "meter"), 0);
    assert_int_equal(enrol(s, "meterapp", "1111111111111111aa@mef.tep.local", ke_a, &r), 0);
    assert_int_equal(enr_db_last_seq(s, &before), 0);
    assert_int_equal(enrol(s, "meterapp", "1111111111111111bb@mef.tep.local", ke_b, &r),
                     CMN_EEXIST);
    assert_int_equal(enr_db_last_seq(s, &after), 0);
    assert_int_equal(after, before);
    assert_int_equal(enr_db_enrolment_get(s, "1111111111111111bb@mef.tep.local", &en),
                     CMN_ENOTFOUND);
    assert_int_equal(enr_db_enrolment_get(s, "1111111111111111aa@mef.tep.local", &en), 0);
    assert_false(en->revoked);
    enr_enrolment_free(en);
    assert_int_equal(enrol(s, "meterapp", "2222222222222222bb@mef.tep.local", ke_b, &r), 0);
}

/* More events than a publication batch holds: the newest is always in the last slot,
 * so subscribers see the gap and sync the rest. */
static void test_many_instances_publish_the_newest(void **state)
{
    cmn_store *s = *state;
    enr_enrol_result r;
    enr_events ev;
    char ke_id[64];
    uint64_t last;

    assert_int_equal(add_app(s, "meterapp", "Nmeter", "meter"), 0);
    for (int i = 0; i < ENR_EVENTS_MAX + 3; i++) {
        snprintf(ke_id, sizeof(ke_id), "%016x00@mef.tep.local", i);
        assert_int_equal(enrol(s, "meterapp", ke_id, ke_a, &r), 0);
    }
    assert_int_equal(enr_db_app_revoke(s, "Nmeter", &ev), 0);
    assert_int_equal(enr_db_last_seq(s, &last), 0);
    assert_int_equal(last, 2 * (ENR_EVENTS_MAX + 3));
    assert_int_equal(ev.n, ENR_EVENTS_MAX);
    assert_int_equal(ev.ev[ENR_EVENTS_MAX - 1].seq, last);
}

static void test_valid_ids(void **state)
{
    (void)state;
    assert_true(enr_valid_kpm_id("device-01.a_b", 13));
    assert_false(enr_valid_kpm_id("", 0));
    assert_false(enr_valid_kpm_id("a b", 3));
    assert_false(enr_valid_kpm_id("a\nb", 3));
    assert_true(enr_valid_identifier("Cdevice01"));
    assert_false(enr_valid_identifier("C device"));
}

static bool is_epoch(const char *e)
{
    return strlen(e) == ENR_EPOCH_LEN && strspn(e, "0123456789abcdef") == ENR_EPOCH_LEN;
}

/* The store's epoch: made at the first open, the same after a reopen; a store from
 * before epochs (no "epoch" record) gets a new one at open and keeps its data; another
 * store has another epoch. */
static void test_epoch_stable_and_created_for_old_store(void **state)
{
    cmn_store *s = *state, *other = NULL;
    char a[ENR_EPOCH_LEN + 1], b[ENR_EPOCH_LEN + 1], c[ENR_EPOCH_LEN + 1];
    char dir2[64];
    Tep__Enrolee *e = NULL;

    assert_int_equal(enr_db_epoch(s, a), 0);
    assert_true(is_epoch(a));
    cmn_store_close(s);
    *state = NULL;
    assert_int_equal(enr_db_open(dir, &s), 0);
    *state = s;
    assert_int_equal(enr_db_epoch(s, b), 0);
    assert_string_equal(a, b);

    /* an older store: no epoch record */
    assert_int_equal(cmn_store_del(s, ENR_DB_COUNTERS, "epoch", 5), 0);
    assert_int_equal(enr_db_epoch(s, b), CMN_ENOTFOUND);
    cmn_store_close(s);
    *state = NULL;
    assert_int_equal(enr_db_open(dir, &s), 0);
    *state = s;
    assert_int_equal(enr_db_epoch(s, b), 0);
    assert_true(is_epoch(b));
    assert_string_not_equal(a, b);
    assert_int_equal(enr_db_enrolee_get(s, "device01", &e), 0);
    enr_enrolee_free(e);

    /* a malformed one is refused, not replaced */
    assert_int_equal(cmn_store_put(s, ENR_DB_COUNTERS, "epoch", 5, "XYZ", 3), 0);
    assert_int_equal(enr_db_epoch(s, c), CMN_ECORRUPT);
    cmn_store_close(s);
    *state = NULL;
    assert_int_equal(enr_db_open(dir, &s), CMN_ECORRUPT);
    {
        static const char *const counters[] = {ENR_DB_COUNTERS};
        void *val = NULL;
        size_t len = 0;

        assert_int_equal(cmn_store_open(dir, counters, 1, ENR_SCHEMA, 0, &s), 0);
        assert_int_equal(cmn_store_get(s, ENR_DB_COUNTERS, "epoch", 5, &val, &len), 0);
        assert_int_equal(len, 3);
        assert_memory_equal(val, "XYZ", 3);
        cmn_store_free_val(val, len);
        cmn_store_close(s);
    }

    /* another store, another epoch */
    snprintf(dir2, sizeof(dir2), "/tmp/tep-test-enr-XXXXXX");
    assert_non_null(mkdtemp(dir2));
    assert_int_equal(enr_db_open(dir2, &other), 0);
    assert_int_equal(enr_db_epoch(other, c), 0);
    assert_string_not_equal(a, c);
    cmn_store_close(other);
    assert_int_equal(tst_rmtree(dir2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_enrolment_commits_record_and_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reenrolment_revokes_previous_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_session_again_records_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_enrolee_revokes_enrolment_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cert_revoke_marks_and_logs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_stable_and_created_for_old_store, setup,
                                        teardown),
        cmocka_unit_test(test_valid_ids),
        cmocka_unit_test(test_instance_id_format),
        cmocka_unit_test_setup_teardown(test_app_instances_and_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_id_collision_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_instances_publish_the_newest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
