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
#include "authz_maf_e2e.h"
#include "cmn_err.h"
#include "tst.h"

#define NOW 1800000000
#define MAF "maf.tep.local"
#define KE_ID "00112233445566778899aabbccddeeff@mef.tep.local"
/* a certificate serial bound to KE_ID (cmn_ca_issue_bound), and one of another enrolment */
#define SERIAL "5e0011223344556677a1b2c3d4e5f607"
#define OTHER_SERIAL "5e8899aabbccddeeffa1b2c3d4e5f607"

static tst_store fx;
static cmn_store *store; /* fx.store */
static uint8_t exporter[CMN_EXPORTER_LEN];
static const authz_maf_session sess = {"0011@maf.tep.local", "Cdevice01", NOW + 7200, NULL};

/* The client's Km as the enroller's sync brought it (SUID 21). */
static int put_km(bool revoked)
{
    uint8_t km[32] = {0}, buf[256];
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = (char *)sess.km_id;
    c.key = (ProtobufCBinaryData){sizeof(km), km};
    c.suid = 21;
    c.ke_id = KE_ID;
    c.enrolee_id = (char *)sess.enrolee_id;
    c.expires = sess.expires;
    c.revoked = revoked;
    return cmn_store_put(store, AUTHZ_CREDS_DB, c.key_id, strlen(c.key_id), buf,
                         tep__credential__pack(&c, buf));
}

static int setup(void **state)
{
    const char *dbs[] = {AUTHZ_MAF_CLIENTS_DB, AUTHZ_MAF_KEYS_DB,          AUTHZ_CREDS_DB,
                         AUTHZ_MAF_LABELS_DB,  AUTHZ_MAF_REVOKED_CERTS_DB, AUTHZ_KE_INDEX_DB};
    int rc;

    (void)state;
    for (size_t i = 0; i < sizeof(exporter); i++)
        exporter[i] = (uint8_t)i; /* KcID = 00..0f, Kc = 10..2f */
    if ((rc = tst_store_open("authz-maf", dbs, 6, 1, &fx)) != 0)
        return rc;
    store = fx.store;
    return put_km(false);
}

static int teardown(void **state)
{
    (void)state;
    tst_store_close(&fx);
    store = NULL;
    return 0;
}

static json_t *body_of(authz_maf_answer *a)
{
    json_t *o = a->body != NULL ? json_loads(a->body, 0, NULL) : NULL;

    free(a->body);
    a->body = NULL;
    return o;
}

/* Registers sess's client; returns its mafClientRegID (static buffer). */
static const char *register_client(void)
{
    static char reg_id[32];
    authz_maf_answer a;
    json_t *o;

    authz_maf_client_register(store, MAF, &sess, "{\"mafFQDN\":\"" MAF "\"}", 27, NOW, &a);
    assert_int_equal(a.code, 201);
    o = body_of(&a);
    snprintf(reg_id, sizeof(reg_id), "%s", json_string_value(json_object_get(o, "mafClientRegID")));
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "assignedSymmKeyID")), sess.km_id);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "mafClientRegID"))), 16);
    /* bounded by the enrolment's expiry */
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), sess.expires);
    json_decref(o);
    return reg_id;
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
    assert_string_equal(c->ke_id, KE_ID); /* the source's enrolment */
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

/* ---- lifecycle (8.8.2.5, 8.8.2.6, 8.8.2.9, 8.8.2.10) ------------------------------------ */

static const authz_maf_session other = {"0022@maf.tep.local", "Cdevice02", NOW + 7200, NULL};

static void register_other_client(char *reg_id, size_t len)
{
    authz_maf_answer a;
    json_t *o;

    authz_maf_client_register(store, MAF, &other, "{}", 2, NOW, &a);
    assert_int_equal(a.code, 201);
    o = body_of(&a);
    snprintf(reg_id, len, "%s", json_string_value(json_object_get(o, "mafClientRegID")));
    json_decref(o);
}

static void client_update(const authz_maf_session *s, const char *reg_id, const char *body,
                          unsigned code, authz_maf_answer *a)
{
    authz_maf_client_update(store, MAF, s, reg_id, body, strlen(body), NOW, a);
    assert_int_equal(a->code, code);
}

static void test_client_update(void **state)
{
    authz_maf_answer a;
    char theirs[32];
    const char *mine = register_client();
    json_t *o;

    (void)state;
    register_other_client(theirs, sizeof(theirs));
    client_update(&sess, mine, "{\"expirationTime\":1800000900,\"labels\":[\"room-1\"]}", 204, &a);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), NOW + 900);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "labels"), 0)),
                        "room-1");
    authz_maf_answer_clear(&a);
    json_decref(o);
    /* only what was asked for is answered */
    client_update(&sess, mine, "{\"labels\":[]}", 204, &a);
    o = body_of(&a);
    assert_null(json_object_get(o, "expirationTime"));
    json_decref(o);
    authz_maf_answer_clear(&a);
    /* a key now lives at most as long as the client registration */
    register_key("{\"targetIDs\":[\"/tep-cse\"],\"expirationTime\":1800003000}", 201, &a);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), NOW + 900);
    json_decref(o);
    /* the expiry bounded by the enrolment, as at registration */
    client_update(&sess, mine, "{\"expirationTime\":1900000000}", 204, &a);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), sess.expires);
    json_decref(o);
    authz_maf_answer_clear(&a);

    client_update(&sess, theirs, "{\"labels\":[\"x\"]}", 403, &a); /* someone else's */
    authz_maf_answer_clear(&a);
    client_update(&sess, "00000000000000ff", "{\"labels\":[\"x\"]}", 404, &a);
    authz_maf_answer_clear(&a);
    client_update(&sess, "../keys", "{\"labels\":[\"x\"]}", 400, &a);
    authz_maf_answer_clear(&a);
    client_update(&sess, mine, "{}", 400, &a); /* nothing to update */
    authz_maf_answer_clear(&a);
    client_update(&sess, mine, "{\"expirationTime\":5}", 400, &a);
    authz_maf_answer_clear(&a);
    client_update(&sess, mine, "{\"labels\":\"x\"}", 400, &a);
    authz_maf_answer_clear(&a);
    client_update(&sess, mine, "{\"mafClientRegID\":\"x\"}", 400, &a); /* unknown member */
    authz_maf_answer_clear(&a);
    client_update(&sess, mine, "{\"mafFQDN\":\"x.example\",\"labels\":[]}", 400, &a);
    authz_maf_answer_clear(&a);
    /* expired registration: no update (8.8.2.5 pre-condition) */
    authz_maf_client_update(store, MAF, &sess, mine, "{\"labels\":[]}", 13, NOW + 7200, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);
}

static void test_client_deregistration_revokes_its_keys(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    char theirs[32];
    const char *mine = register_client();
    char key_id[CMN_KEY_ID_MAX];

    (void)state;
    register_other_client(theirs, sizeof(theirs));
    register_key("{\"targetIDs\":[\"/tep-cse\"]}", 201, &a);
    free(a.body);
    snprintf(key_id, sizeof(key_id), "%s", a.key_id);

    authz_maf_client_deregister(store, &sess, theirs, NOW, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);
    authz_maf_client_deregister(store, &other, mine, NOW, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);

    authz_maf_client_deregister(store, &sess, mine, NOW, &a);
    assert_int_equal(a.code, 202);
    assert_int_equal(a.n_gone, 1);
    assert_string_equal(a.gone[0], key_id);
    authz_maf_answer_clear(&a);
    assert_int_equal(authz_maf_retrieve(store, key_id, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    /* the record is gone: no new key, no second de-registration */
    register_key("{\"targetIDs\":[\"/tep-cse\"]}", 403, &a);
    authz_maf_answer_clear(&a);
    authz_maf_client_deregister(store, &sess, mine, NOW, &a);
    assert_int_equal(a.code, 404);
    authz_maf_answer_clear(&a);
}

static void key_update(const authz_maf_session *s, const char *rel, const char *body, unsigned code,
                       authz_maf_answer *a)
{
    authz_maf_key_update(store, MAF, s, rel, body, strlen(body), NOW, a);
    assert_int_equal(a->code, code);
}

#define REL "000102030405060708090a0b0c0d0e0f"

static void test_key_update(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    char theirs[32];
    json_t *o;

    (void)state;
    register_client();
    register_other_client(theirs, sizeof(theirs));
    register_key("{\"targetIDs\":[\"/tep-cse\",\"/cse-2\"],\"expirationTime\":1800000600}", 201,
                 &a);
    free(a.body);

    key_update(&sess, REL,
               "{\"expirationTime\":1800001200,\"targetIDs\":[\"/tep-cse\",\"/cse-3\"]}", 204, &a);
    assert_string_equal(a.key_id, REL "@" MAF);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "expirationTime")), NOW + 1200);
    assert_int_equal(json_array_size(json_object_get(o, "targetIDs")), 2);
    assert_null(json_object_get(o, "labels"));
    json_decref(o);
    authz_maf_answer_clear(&a);
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/cse-3", NOW, &c), 0);
    assert_int_equal(c->expires, NOW + 1200);
    assert_memory_equal(c->key.data, exporter + 16, 32); /* Kc unchanged */
    authz_maf_credential_free(c);
    c = NULL;
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/cse-2", NOW, &c), CMN_EDENIED);

    key_update(&sess, REL, "{\"labels\":[\"door\"]}", 204, &a);
    o = body_of(&a);
    assert_null(json_object_get(o, "expirationTime"));
    assert_non_null(json_object_get(o, "labels"));
    json_decref(o);
    authz_maf_answer_clear(&a);

    key_update(&other, REL, "{\"labels\":[\"x\"]}", 403, &a); /* not the source */
    authz_maf_answer_clear(&a);
    key_update(&sess, "ffffffffffffffffffffffffffffffff", "{\"labels\":[]}", 404, &a);
    authz_maf_answer_clear(&a);
    key_update(&sess, "0001", "{\"labels\":[]}", 400, &a);
    authz_maf_answer_clear(&a);
    key_update(&sess, REL, "{}", 400, &a);
    authz_maf_answer_clear(&a);
    key_update(&sess, REL, "{\"targetIDs\":[]}", 400, &a);
    authz_maf_answer_clear(&a);
    key_update(&sess, REL, "{\"suid\":32}", 400, &a);
    authz_maf_answer_clear(&a);
    /* an expired key is not updated (8.8.2.9 pre-condition) */
    authz_maf_key_update(store, MAF, &sess, REL, "{\"labels\":[]}", 13, NOW + 1200, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);
}

static void test_key_deregistration(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    Tep__MafKey **keys = NULL;
    size_t n = 0, live = 9;

    (void)state;
    register_client();
    register_key("{\"targetIDs\":[\"/tep-cse\"]}", 201, &a);
    free(a.body);
    authz_maf_key_deregister(store, MAF, &other, REL, NOW, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/tep-cse", NOW, &c), 0);
    authz_maf_credential_free(c);
    c = NULL;

    authz_maf_key_deregister(store, MAF, &sess, REL, NOW + 5, &a);
    assert_int_equal(a.code, 202);
    assert_string_equal(a.key_id, REL "@" MAF);
    authz_maf_answer_clear(&a);
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    assert_int_equal(authz_maf_count_keys(store, NOW, &live), 0);
    assert_int_equal(live, 0);
    /* the record stays for the audit, revoked, without Kc */
    assert_int_equal(authz_maf_list(store, &keys, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0]->key_id, REL "@" MAF);
    assert_int_equal(keys[0]->revoked, NOW + 5);
    assert_int_equal(keys[0]->kc.len, 0);
    assert_string_equal(keys[0]->source_id, "Cdevice01");
    authz_maf_list_free(keys, n);
    /* gone for its source too */
    authz_maf_key_deregister(store, MAF, &sess, REL, NOW, &a);
    assert_int_equal(a.code, 404);
    authz_maf_answer_clear(&a);
    key_update(&sess, REL, "{\"labels\":[]}", 404, &a);
    authz_maf_answer_clear(&a);
    /* operator revocation: unknown keys are refused, a revoked one stays revoked */
    assert_int_equal(authz_maf_revoke(store, "ff@" MAF, NOW), CMN_ENOTFOUND);
    assert_int_equal(authz_maf_revoke(store, REL "@" MAF, NOW + 9), 0);
    assert_int_equal(authz_maf_list(store, &keys, &n), 0);
    assert_int_equal(keys[0]->revoked, NOW + 5);
    authz_maf_list_free(keys, n);
}

static int cert_revoked_item(const char *serial)
{
    Tep__Event ev = TEP__EVENT__INIT;
    Tep__SyncItem item = TEP__SYNC_ITEM__INIT;
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(store, &t);

    ev.kind = TEP__EVENT__KIND__CERT_REVOKED;
    ev.seq = 7;
    ev.enrolee_id = "Cdevice01";
    ev.cert_serial = (char *)serial;
    item.event = &ev;
    if (rc == 0)
        rc = authz_maf_apply_sync(t, &item, NULL);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

/* A certificate session (8.8.2.2): the client is keyed by its certificate's serial, has no
 * assignedSymmKeyID, and its keys live while the source has a live Km from sync. */
/* A client update that shortens the registration shortens its longer-lived keys too
 * (published: they are in gone). */
static void test_client_update_shortens_keys(void **state)
{
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    const char *mine = register_client();

    (void)state;
    register_key("{\"targetIDs\":[\"/tep-cse\"],\"expirationTime\":1800003000}", 201, &a);
    free(a.body);
    client_update(&sess, mine, "{\"expirationTime\":1800000900}", 204, &a);
    assert_int_equal(a.n_gone, 1);
    assert_string_equal(a.gone[0], REL "@" MAF);
    authz_maf_answer_clear(&a);
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/tep-cse", NOW, &c), 0);
    assert_int_equal(c->expires, NOW + 900);
    authz_maf_credential_free(c);
}

/* Rewrites the stored key's certificate serial (as if registered under that one). */
static int source_with_serial(const char *key_id, const char *serial)
{
    void *val = NULL;
    size_t len = 0;
    Tep__MafKey *k;
    uint8_t buf[1024];
    int rc = cmn_store_get(store, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), &val, &len);

    if (rc != 0)
        return rc;
    k = tep__maf_key__unpack(NULL, len, val);
    cmn_store_free_val(val, len);
    if (k == NULL || tep__maf_key__get_packed_size(k) > sizeof(buf) - 64)
        return CMN_ECORRUPT;
    {
        char *own = k->cert_serial;

        k->cert_serial = (char *)serial;
        len = tep__maf_key__pack(k, buf);
        k->cert_serial = own; /* the unpacked string goes with k */
    }
    tep__maf_key__free_unpacked(k, NULL);
    return cmn_store_put(store, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), buf, len);
}

static void test_certificate_session(void **state)
{
    static const authz_maf_session cert = {"", "Cdevice01", NOW + 7200, SERIAL};
    char **gone = NULL;
    authz_maf_answer a;
    Tep__Credential *c = NULL;
    Tep__MafKey **keys = NULL;
    int64_t expires = 0;
    char ke_id[64];
    size_t n = 0;
    json_t *o;

    (void)state;
    assert_int_equal(authz_maf_enrolee_km(store, "Cdevice01", NOW, &expires, ke_id, sizeof(ke_id)),
                     0);
    assert_int_equal(expires, sess.expires);
    assert_string_equal(ke_id, KE_ID);
    assert_int_equal(authz_maf_enrolee_km(store, "Cdevice02", NOW, NULL, NULL, 0), CMN_ENOTFOUND);

    authz_maf_client_register(store, MAF, &cert, "{}", 2, NOW, &a);
    assert_int_equal(a.code, 201);
    o = body_of(&a);
    assert_null(json_object_get(o, "assignedSymmKeyID"));
    json_decref(o);
    authz_maf_key_register(store, MAF, &cert, exporter, "{\"targetIDs\":[\"/tep-cse\"]}", 26, NOW,
                           &a);
    assert_int_equal(a.code, 201);
    free(a.body);
    assert_int_equal(authz_maf_list(store, &keys, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0]->cert_serial, SERIAL);
    assert_string_equal(keys[0]->km_id, "");
    authz_maf_list_free(keys, n);
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW, &c), 0);
    assert_string_equal(c->ke_id, KE_ID);
    authz_maf_credential_free(c);
    c = NULL;
    /* a key registered with a certificate of another enrolment of the same AE-ID (one
     * revoked or replaced) is not served */
    assert_int_equal(source_with_serial(a.key_id, OTHER_SERIAL), 0);
    assert_int_equal(authz_maf_retrieve(store, a.key_id, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    assert_int_equal(source_with_serial(a.key_id, SERIAL), 0);
    /* the Km session of the same enrolee is another client: not the source */
    authz_maf_key_deregister(store, MAF, &sess, REL, NOW, &a);
    assert_int_equal(a.code, 403);
    authz_maf_answer_clear(&a);
    /* the certificate revoked on its own (a CERT_REVOKED sync item): the key is gone */
    assert_false(authz_maf_cert_revoked(store, SERIAL));
    assert_int_equal(cert_revoked_item(SERIAL), 0);
    assert_true(authz_maf_cert_revoked(store, SERIAL));
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    /* and its keys are revoked, to be announced */
    assert_int_equal(authz_maf_revoke_cert(store, SERIAL, NOW + 3, &gone, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(gone[0], REL "@" MAF);
    free(gone[0]);
    free(gone);
    assert_int_equal(authz_maf_revoke_cert(store, SERIAL, NOW + 4, &gone, &n), 0);
    assert_int_equal(n, 0); /* only live keys */
    free(gone);
    /* the enrolment revoked: no live Km either */
    assert_int_equal(put_km(true), 0);
    assert_int_equal(authz_maf_retrieve(store, REL "@" MAF, "/tep-cse", NOW, &c), CMN_ENOTFOUND);
    assert_int_equal(authz_maf_enrolee_km(store, "Cdevice01", NOW, NULL, NULL, 0), CMN_ENOTFOUND);
}

/* The Uri-Path of a PUT/DELETE: every short or odd path is refused without reading past
 * its bytes (the buffer is not NUL-terminated: valgrind and ASan see any overread). */
static void test_item_path(void **state)
{
    static const char *const bad[] = {"",
                                      "m",
                                      "ma",
                                      "maf",
                                      "maf/",
                                      "maf/keys",
                                      "maf/keys/",
                                      "maf//x",
                                      "mab/keys/x",
                                      "maf/keys/x/y",
                                      "maf/ke ys/x",
                                      "maf/keys/\"x",
                                      "maf/averyveryverylongkind/x"};
    char kind[16], id[8];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        char *exact = malloc(n + 1); /* exactly n bytes are the path */

        assert_non_null(exact);
        memcpy(exact, bad[i], n);
        if (authz_maf_item_path(exact, n, kind, sizeof(kind), id, sizeof(id)))
            fail_msg("accepted \"%s\"", bad[i]);
        free(exact);
    }
    assert_false(authz_maf_item_path("maf/keys/12345678", 17, kind, sizeof(kind), id, sizeof(id)));
    assert_true(authz_maf_item_path("maf/keys/1234567", 16, kind, sizeof(kind), id, sizeof(id)));
    assert_string_equal(kind, "keys");
    assert_string_equal(id, "1234567");
    assert_true(authz_maf_item_path("maf/clients/c1XXX", 14, kind, sizeof(kind), id, sizeof(id)));
    assert_string_equal(kind, "clients");
    assert_string_equal(id, "c1");
}

/* End-to-end SUIDs (TS-0004 6.3.4.2.39: 33 ESPrim, 34 ESData encryption, 35 ESData
 * signature): registered with AE targets, retrieved by a target's session only
 * (authz_maf_e2e_retrieve); a SAEF Kc only by its target CSE's session. */
static void test_e2e_suids(void **state)
{
    static const char *const refused[] = {
        "{\"suid\":36,\"targetIDs\":[\"Capp01\"]}",
        "{\"suid\":32,\"targetIDs\":[\"Capp01\"]}",            /* SAEF: CSEs only */
        "{\"suid\":33,\"targetIDs\":[\"Capp01\",\"Cother\"]}", /* ESPrim: one target */
        "{\"suid\":34,\"targetIDs\":[\"app 01\"]}",
    };
    const authz_maf_session app = {"0022@maf.tep.local", "Capp01", NOW + 7200, NULL};
    const authz_maf_session stranger = {"0033@maf.tep.local", "Cother", NOW + 7200, NULL};
    char rel[2 * CMN_REL_ID_LEN + 1] = "000102030405060708090a0b0c0d0e0f";
    authz_maf_answer a, r;
    json_t *o;

    (void)state;
    register_client();
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        register_key(refused[i], 400, &a);
        authz_maf_answer_clear(&a);
    }
    register_key("{\"suid\":34,\"targetIDs\":[\"Capp01\",\"/tep-cse\"]}", 201, &a);
    o = body_of(&a);
    assert_int_equal(json_integer_value(json_object_get(o, "suid")), 34);
    json_decref(o);

    authz_maf_e2e_retrieve(store, MAF, &app, rel, NOW + 1, &r);
    assert_int_equal(r.code, 205);
    o = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "keyValue")),
                        "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f");
    assert_string_equal(json_string_value(json_object_get(o, "keyID")), a.key_id);
    assert_string_equal(json_string_value(json_object_get(o, "sourceID")), "Cdevice01");
    assert_int_equal(json_integer_value(json_object_get(o, "suid")), 34);
    json_decref(o);
    authz_maf_answer_clear(&r);
    authz_maf_e2e_retrieve(store, MAF, &stranger, rel, NOW + 1, &r);
    assert_int_equal(r.code, 403);
    assert_null(r.body);
    authz_maf_e2e_retrieve(store, MAF, &app, "0001", NOW + 1, &r);
    assert_int_equal(r.code, 400);
    authz_maf_e2e_retrieve(store, MAF, &app, "ffffffffffffffffffffffffffffffff", NOW, &r);
    assert_int_equal(r.code, 404);
    authz_maf_e2e_retrieve(store, MAF, &app, rel, NOW + AUTHZ_MAF_KEY_LT, &r);
    assert_int_equal(r.code, 404); /* expired */

    /* a SAEF key for /tep-cse: to /tep-cse's own MAF session (8.8.2.8), to no other CSE */
    exporter[0] ^= 0xff;
    register_key("{\"suid\":32,\"targetIDs\":[\"/tep-cse\"]}", 201, &a);
    free(a.body);
    authz_maf_e2e_retrieve(store, MAF,
                           &(authz_maf_session){"0055@maf.tep.local", "/mn-cse1", NOW + 7200, NULL},
                           "ff0102030405060708090a0b0c0d0e0f", NOW, &r);
    assert_int_equal(r.code, 403);
    assert_null(r.body);
    authz_maf_e2e_retrieve(store, MAF,
                           &(authz_maf_session){"0044@maf.tep.local", "/tep-cse", NOW + 7200, NULL},
                           "ff0102030405060708090a0b0c0d0e0f", NOW, &r);
    assert_int_equal(r.code, 205);
    o = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "suid")), 32);
    assert_string_equal(json_string_value(json_object_get(o, "sourceID")), "Cdevice01");
    json_decref(o);
    authz_maf_answer_clear(&r);
    exporter[0] ^= 0xff;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_path),
        cmocka_unit_test_setup_teardown(test_key_registration_then_retrieval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retrieval_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_bounded_by_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_deregistration_revokes_its_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_key_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_deregistration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_update_shortens_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_e2e_suids, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
