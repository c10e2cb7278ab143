/* enr_gba: tep-enroller's Zn client and NAF key cache against a stand-in BSF (a ROUTER
 * on a temporary ipc:// endpoint answering with ZnResponse as tep-bsf does): a B-TID is
 * not known at first (CMN_EAGAIN, one ZnRequest out, not one per handshake), then its
 * key is served with the KpmID of the enrolee holding the IMPI; a B-TID whose IMPI no
 * enrolee holds, and one the BSF refuses, are refused; an expired one says so; B-TID
 * shapes are told apart from KpmIDs. */
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

#include "cmn_bus.h"
#include "cmn_err.h"
#include "enr_db.h"
#include "enr_gba.h"
#include "tst.h"

#define IMPI "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
#define BTID "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.tep.local"

typedef struct {
    char dir[64], ep[128];
    cmn_store *store;
    cmn_bus *bus;
    cmn_bus_sock *bsf;
    enr_gba *gba;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    Tep__Enrolee e = TEP__ENROLEE__INIT;

    snprintf(f->dir, sizeof(f->dir), "/tmp/tep-test-enrgba-XXXXXX");
    if (mkdtemp(f->dir) == NULL || enr_db_open(f->dir, &f->store) != 0)
        return -1;
    snprintf(f->ep, sizeof(f->ep), "ipc://%s/zn.ipc", f->dir);
    if (cmn_bus_new(&f->bus) != 0 || cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &f->bsf) != 0 ||
        enr_gba_new(f->bus, f->ep, "mef.tep.local", f->store, &f->gba) != 0)
        return -1;
    e.kpm_id = "sim7";
    e.enrolee_id = "Csim7";
    e.expires = time(NULL) + 3600;
    e.gba_impi = IMPI;
    if (enr_db_enrolee_add(f->store, &e) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    enr_gba_free(f->gba);
    cmn_bus_close(f->bsf);
    cmn_bus_free(f->bus);
    cmn_store_close(f->store);
    rc = tst_rmtree(f->dir);
    free(f);
    return rc;
}

/* The stand-in BSF answers the one waiting ZnRequest; then enr_gba reads the answer. */
static void bsf_answers(fixture *f, int err, const char *impi, int64_t expires)
{
    uint8_t ident[CMN_BUS_IDENT_MAX], key[32];
    size_t ilen = 0;
    Tep__Envelope *in = NULL, out;
    Tep__ZnResponse r = TEP__ZN_RESPONSE__INIT;

    assert_int_equal(cmn_bus_recv_wait(f->bsf, 5000, ident, &ilen, &in), 0);
    assert_int_equal(in->body_case, TEP__ENVELOPE__BODY_ZN_REQ);
    assert_string_equal(in->zn_req->btid, BTID);
    assert_string_equal(in->zn_req->naf_fqdn, "mef.tep.local");
    memset(key, 0x5a, sizeof(key));
    cmn_bus_env_init(&out, "tep-bsf", in->request_id);
    r.err = err;
    if (err == 0)
        r.ks_naf = (ProtobufCBinaryData){32, key};
    r.impi = (char *)impi;
    r.expires = expires;
    out.body_case = TEP__ENVELOPE__BODY_ZN_RESP;
    out.zn_resp = &r;
    assert_int_equal(cmn_bus_send(f->bsf, ident, ilen, &out), 0);
    cmn_bus_env_free(in);
    /* no second request for the same B-TID meanwhile */
    assert_int_equal(cmn_bus_recv_wait(f->bsf, 100, ident, &ilen, &in), CMN_ETIMEOUT);
    for (int i = 0; i < 250; i++) { /* until the answer is in (5 s at most) */
        uint8_t k[32];
        char id[128];
        int64_t e;

        usleep(20000);
        enr_gba_process(f->gba, time(NULL));
        if (enr_gba_lookup(f->gba, BTID, time(NULL), k, id, sizeof(id), &e) != CMN_EAGAIN)
            break;
    }
}

static int lookup(fixture *f, uint8_t key[32], char kpm_id[128], int64_t *exp)
{
    return enr_gba_lookup(f->gba, BTID, time(NULL), key, kpm_id, 128, exp);
}

static void test_key_after_zn(void **state)
{
    fixture *f = *state;
    uint8_t key[32], want[32];
    char kpm_id[128];
    int64_t exp = 0, life = time(NULL) + 600;

    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EAGAIN);
    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EAGAIN); /* no second request */
    bsf_answers(f, 0, IMPI, life);
    assert_int_equal(lookup(f, key, kpm_id, &exp), 0);
    memset(want, 0x5a, sizeof(want));
    assert_memory_equal(key, want, 32);
    assert_string_equal(kpm_id, "sim7");
    assert_true(exp == life);
}

static void test_no_enrolee_for_impi(void **state)
{
    fixture *f = *state;
    uint8_t key[32];
    char kpm_id[128];
    int64_t exp = 0;

    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EAGAIN);
    bsf_answers(f, 0, "999@ims.example", time(NULL) + 600);
    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EDENIED);
}

static void test_bsf_refuses_or_expired(void **state)
{
    fixture *f = *state;
    uint8_t key[32];
    char kpm_id[128];
    int64_t exp = 0;

    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EAGAIN);
    bsf_answers(f, CMN_EEXPIRED, "", 0);
    assert_int_equal(lookup(f, key, kpm_id, &exp), CMN_EEXPIRED);
}

static void test_btid_shape(void **state)
{
    (void)state;
    assert_true(enr_gba_is_btid(BTID, strlen(BTID)));
    assert_false(enr_gba_is_btid("device01", 8));
    assert_false(enr_gba_is_btid("abc@bsf", 7)); /* local part not base64 blocks */
    assert_false(enr_gba_is_btid("AAAA@", 5));
    assert_false(enr_gba_is_btid("AA A@bsf.local", 14));
    assert_false(enr_gba_is_btid("AAAA@bsf local", 14));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_after_zn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_enrolee_for_impi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bsf_refuses_or_expired, setup, teardown),
        cmocka_unit_test(test_btid_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
