/* enr_admin: what tepctl sees for each admin operation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "enr_admin.h"
#include "test_certs.h"
#include "tst.h"

static char dir[64];

static int setup(void **state)
{
    cmn_store *s = NULL;

    snprintf(dir, sizeof(dir), "/tmp/tep-test-enradm-XXXXXX");
    if (mkdtemp(dir) == NULL || enr_db_open(dir, &s) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    cmn_store_close(*state);
    return tst_rmtree(dir);
}

static int add(cmn_store *s, const char *kpm_id, const char *enrolee_id, Tep__AdminResponse *resp)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    enr_events ev;

    e.kpm_id = (char *)kpm_id;
    e.enrolee_id = (char *)enrolee_id;
    e.app_id = "Ntepdemo";
    e.expires = time(NULL) + 60;
    req.op = TEP__ADMIN_REQUEST__OP__ENROLEE_ADD;
    req.enrolee = &e;
    tep__admin_response__init(resp);
    return enr_admin_handle(s, &req, time(NULL), resp, &ev);
}

static int simple(cmn_store *s, Tep__AdminRequest__Op op, const char *kpm_id,
                  Tep__AdminResponse *resp, enr_events *ev)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;

    req.op = op;
    if (kpm_id != NULL)
        req.kpm_id = (char *)kpm_id;
    tep__admin_response__init(resp);
    return enr_admin_handle(s, &req, time(NULL), resp, ev);
}

static const char *status_value(const Tep__AdminResponse *r, const char *key)
{
    for (size_t i = 0; i < r->n_status; i++)
        if (!strcmp(r->status[i]->key, key))
            return r->status[i]->value;
    return NULL;
}

static void test_add_gives_kpm_once_and_list_hides_it(void **state)
{
    Tep__AdminResponse r;
    enr_events ev;

    assert_int_equal(add(*state, "device01", "", &r), 0);
    assert_int_equal(r.n_enrolees, 1);
    assert_int_equal(r.enrolees[0]->kpm.len, ENR_KPM_LEN);
    assert_string_equal(r.enrolees[0]->enrolee_id, "Cdevice01"); /* default */
    enr_admin_clear(&r);
    assert_int_equal(add(*state, "device01", "Cother", &r), CMN_EEXIST);
    assert_int_equal(r.err, CMN_EEXIST);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__ENROLEE_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_enrolees, 1);
    assert_string_equal(r.enrolees[0]->kpm_id, "device01");
    assert_int_equal(r.enrolees[0]->kpm.len, 0);
    enr_admin_clear(&r);
}

static void test_add_refuses_bad_input(void **state)
{
    Tep__AdminResponse r;

    assert_int_equal(add(*state, "bad id", "", &r), CMN_EINVAL);
    assert_non_null(strstr(r.message, "kpm_id"));
    enr_admin_clear(&r);
    assert_int_equal(add(*state, "ok", "C with space", &r), CMN_EINVAL);
    enr_admin_clear(&r);
}

static void test_status_and_revoke(void **state)
{
    Tep__AdminResponse r;
    enr_events ev;

    assert_int_equal(add(*state, "device01", "", &r), 0);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__STATUS, NULL, &r, &ev), 0);
    assert_string_equal(status_value(&r, "role"), "enroller");
    assert_string_equal(status_value(&r, "enrolees"), "1");
    assert_string_equal(status_value(&r, "enrolments"), "0");
    assert_string_equal(status_value(&r, "last_seq"), "0");
    assert_non_null(status_value(&r, "version"));
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE, "device01", &r, &ev),
                     0);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE, "nobody", &r, &ev),
                     CMN_ENOTFOUND);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__ENROLEE_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.enrolees[0]->state, TEP__ENROLEE__STATE__REVOKED);
    enr_admin_clear(&r);
}

static int cert_revoke(cmn_store *s, const char *serial, Tep__AdminResponse *resp, enr_events *ev)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;

    req.op = TEP__ADMIN_REQUEST__OP__CERT_REVOKE;
    req.cert_serial = (char *)serial;
    tep__admin_response__init(resp);
    return enr_admin_handle(s, &req, 1700000000, resp, ev);
}

/* tepctl cert revoke: the serial as openssl prints it (upper case) works, CERT_LIST
 * shows the time, a second revoke is ok and says so, an unknown serial is ENOTFOUND. */
static void test_cert_revoke(void **state)
{
    Tep__AdminResponse r;
    enr_events ev;

    test_put_cert(*state, "6c01ab", "ab@mef");
    assert_int_equal(cert_revoke(*state, "6C01AB", &r, &ev), 0);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.ev[0].cert_serial, "6c01ab");
    assert_string_equal(r.message, "6c01ab revoked at 1700000000");
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__CERT_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_certs, 1);
    assert_int_equal(r.certs[0]->revoked, 1700000000);
    enr_admin_clear(&r);
    assert_int_equal(cert_revoke(*state, "6c01ab", &r, &ev), 0);
    assert_int_equal(ev.n, 0);
    assert_non_null(strstr(r.message, "already revoked"));
    enr_admin_clear(&r);
    assert_int_equal(cert_revoke(*state, "6c01ac", &r, &ev), CMN_ENOTFOUND);
    assert_string_equal(r.message, "no certificate with this serial");
    enr_admin_clear(&r);
    assert_int_equal(cert_revoke(*state, "6c:01:ab", &r, &ev), CMN_EINVAL);
    enr_admin_clear(&r);
    assert_int_equal(cert_revoke(*state, "", &r, &ev), CMN_EINVAL);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__EVENT_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_events, 1);
    assert_int_equal(r.events[0]->kind, TEP__EVENT__KIND__CERT_REVOKED);
    assert_string_equal(r.events[0]->cert_serial, "6c01ab");
    enr_admin_clear(&r);
}

static int app_add(cmn_store *s, const char *kpm_id, const char *app_id, const char *stem,
                   Tep__AdminResponse *resp)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    enr_events ev;

    e.kpm_id = (char *)kpm_id;
    e.enrolee_id = (char *)stem;
    e.app_id = (char *)app_id;
    e.expires = time(NULL) + 60;
    req.op = TEP__ADMIN_REQUEST__OP__APP_ADD;
    req.enrolee = &e;
    tep__admin_response__init(resp);
    return enr_admin_handle(s, &req, time(NULL), resp, &ev);
}

/* Seed Z.2: the application credential's AE-ID stem defaults to the App-ID without
 * its leading N/R; instances show in APP_LIST; APP_REVOKE revokes them all. */
static void test_app_add_list_revoke(void **state)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__AdminResponse r;
    enr_enrol_result er;
    enr_events ev;
    const uint8_t ke[CMN_KEY_LEN] = {7};

    assert_int_equal(app_add(*state, "app.Nmeter", "Nmeter", "", &r), 0);
    assert_string_equal(r.enrolees[0]->enrolee_id, "meter");
    assert_true(r.enrolees[0]->application);
    assert_int_equal(r.enrolees[0]->kpm.len, ENR_KPM_LEN);
    enr_admin_clear(&r);
    assert_int_equal(app_add(*state, "app.x", "", "x", &r), CMN_EINVAL); /* no App-ID */
    enr_admin_clear(&r);
    assert_int_equal(enr_db_enrol(*state,
                                  &(enr_enrol_input){"app.Nmeter", "abcdef0123456789ab@mef", ke,
                                                     "/tep-cse", "maf", time(NULL)},
                                  &er),
                     0);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__APP_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_enrolees, 1);
    assert_int_equal(r.n_instances, 1);
    assert_string_equal(r.instances[0]->enrolee_id, "Cmeter-abcdef0123456789");
    assert_int_equal(r.instances[0]->ke.len, 0); /* Ke never leaves the enroller */
    enr_admin_clear(&r);
    req.op = TEP__ADMIN_REQUEST__OP__APP_REVOKE;
    req.app_id = "Nmeter";
    tep__admin_response__init(&r);
    assert_int_equal(enr_admin_handle(*state, &req, time(NULL), &r, &ev), 0);
    assert_int_equal(ev.n, 1);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__EVENT_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_events, 2); /* enrolled, revoked */
    assert_int_equal(r.events[1]->kind, TEP__EVENT__KIND__REVOKED);
    assert_string_equal(r.events[1]->kpm_id, "app.Nmeter");
    assert_true(r.events[1]->time > 0);
    enr_admin_clear(&r);
    assert_int_equal(simple(*state, TEP__ADMIN_REQUEST__OP__CERT_LIST, NULL, &r, &ev), 0);
    assert_int_equal(r.n_certs, 0);
    enr_admin_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_gives_kpm_once_and_list_hides_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_add_list_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_revoke, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
