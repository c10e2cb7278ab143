/* The MAF's registrations (TS-0003 8.8.2.3, 8.8.2.5) and key retrieval (8.8.2.6): what a
 * client and a target see. The exporter is fixed, so the Key Identifier and Kc are
 * known answers of the split convention (cmn_kdf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>

#include "authz_creds.h"
#include "authz_maf.h"
#include "cmn_err.h"

#define NOW 1800000000
#define MAF "maf.tep.local"

static char dir[64];
static cmn_store *store;
static uint8_t exporter[CMN_EXPORTER_LEN];
static const authz_maf_session sess = { "0011@maf.tep.local", "Cdevice01", NOW + 7200 };

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* The client's Km as the enroller's sync brought it (SUID 21). */
static int put_km(bool revoked)
{
    uint8_t km[32] = { 0 }, buf[256];
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = (char *)sess.km_id;
    c.key = (ProtobufCBinaryData){ sizeof(km), km };
    c.suid = 21;
    c.ke_id = "aa@mef.tep.local";
    c.enrolee_id = (char *)sess.enrolee_id;
    c.expires = sess.expires;
    c.revoked = revoked;
    return cmn_store_put(store, AUTHZ_CREDS_DB, c.key_id, strlen(c.key_id), buf,
                         tep__credential__pack(&c, buf));
}

static int setup(void **state)
{
    const char *dbs[] = { AUTHZ_MAF_CLIENTS_DB, AUTHZ_MAF_KEYS_DB, AUTHZ_CREDS_DB };
    int rc;

    (void)state;
    for (size_t i = 0; i < sizeof(exporter); i++)
        exporter[i] = (uint8_t)i; /* KcID = 00..0f, Kc = 10..2f */
    snprintf(dir, sizeof(dir), "/tmp/tep-authz-maf-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    rc = cmn_store_open(dir, dbs, 3, 1, 0, &store);
    return rc == 0 ? put_km(false) : rc;
}

static int teardown(void **state)
{
    (void)state;
    cmn_store_close(store);
    store = NULL;
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static json_t *body_of(authz_maf_answer *a)
{
    json_t *o = a->body ? json_loads(a->body, 0, NULL) : NULL;

    free(a->body);
    a->body = NULL;
    return o;
}

static void register_client(void)
{
    authz_maf_answer a;
    json_t *o;

    authz_maf_client_register(store, MAF, &sess, "{\"mafFQDN\":\"" MAF "\"}", 27, NOW, &a);
    assert_int_equal(a.code, 201);
    o = body_of(&a);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "assignedSymmKeyID")), sess.km_id);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "mafClientRegID"))), 16);
    /* bounded by the enrolment's expiry */
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), sess.expires);
    json_decref(o);
}

static void register_key(const char *body, unsigned code, authz_maf_answer *a)
{
    authz_maf_key_register(store, MAF, &sess, exporter, body, strlen(body), NOW, a);
    assert_int_equal(a->code, code);
}

static void test_key_registration_then_retrieval(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    json_t *o;

    (void)state;
    register_client();
    register_key("{\"suid\":32,\"targetIDs\":[\"/tep-cse\"],\"expirationTime\":1800000600}", 201,
                 &a);
    assert_string_equal(a.key_id, "000102030405060708090a0b0c0d0e0f@" MAF);
    o = body_of(&a);
    assert_string_equal(json_string_value(json_object_get(o, "keyID")), a.key_id);
    assert_string_equal(json_string_value(json_object_get(o, "relativeKeyID")),
                        "000102030405060708090a0b0c0d0e0f");
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), NOW + 600);
    assert_int_equal(json_integer_value(json_object_get(o, "suid")), 32);
    json_decref(o);

    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW + 1, &c), 0);
    assert_string_equal(c->key_id, a.key_id);
    assert_string_equal(c->enrolee_id, "Cdevice01");
    assert_string_equal(c->ke_id, "aa@mef.tep.local"); /* the source's enrolment */
    assert_int_equal(c->suid, 32);
    assert_int_equal(c->expires, NOW + 600);
    assert_int_equal(c->key.len, 32);
    assert_memory_equal(c->key.data, exporter + 16, 32);
    authz_maf_credential_free(c);
}

static void test_retrieval_refusals(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;

    (void)state;
    register_client();
    register_key("{\"targetIDs\":[\"/tep-cse\"]}", 201, &a); /* default lifetime */
    free(a.body);
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/other-cse", NOW, &c), CMN_EDENIED);
    assert_null(c);
    assert_int_equal(authz_maf_retrieve(store, "00@" MAF, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW + AUTHZ_MAF_KEY_LT, &c),
                     CMN_ENOTFOUND);
    /* the source's enrolment revoked: its keys are gone */
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW, &c), 0);
    authz_maf_credential_free(c);
    assert_int_equal(put_km(true), 0);
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    assert_null(c);
}

static void test_expiry_bounded_by_enrolment(void **state)
{
    authz_maf_answer a;
    json_t *o;

    (void)state;
    register_client();
    register_key("{\"targetIDs\":[\"/tep-cse\"],\"expirationTime\":1900000000}", 201, &a);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")),
                     NOW + AUTHZ_MAF_KEY_LT_MAX < sess.expires ? NOW + AUTHZ_MAF_KEY_LT_MAX
                                                               : sess.expires);
    json_decref(o);
}

static void test_bad_requests(void **state)
{
    authz_maf_answer a;

    (void)state;
    register_key("{\"targetIDs\":[\"/tep-cse\"]}", 403, &a); /* no client registration */
    free(a.body);
    register_client();
    register_key("{\"targetIDs\":[]}", 400, &a);
    free(a.body);
    register_key("{\"targetIDs\":[\"tep-cse\"]}", 400, &a);
    free(a.body);
    register_key("{\"suid\":22,\"targetIDs\":[\"/tep-cse\"]}", 400, &a);
    free(a.body);
    register_key("{\"targetIDs\":[\"/tep-cse\"],\"expirationTime\":5}", 400, &a);
    free(a.body);
    register_key("not json", 400, &a);
    free(a.body);
    authz_maf_client_register(store, MAF, &sess, "{\"mafFQDN\":\"x.example\"}", 23, NOW, &a);
    assert_int_equal(a.code, 400);
    free(a.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_registration_then_retrieval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retrieval_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_bounded_by_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
