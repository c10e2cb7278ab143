/* enr_mef: MEF Client Registration and Key Registration (TS-0003 8.3.5.2), and what
 * sync hands each target for the keys. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "enr_config.h"
#include "enr_db.h"
#include "enr_mef.h"
#include "enr_sync.h"
#include "tst.h"

#define KE_ID "0123456789abcdef0123456789abcdef@mef.tep.local"

static char dir[64];
static const uint8_t ke[CMN_KEY_LEN] = {1, 2, 3};
static enr_config cfg;

static cmn_store *add(cmn_store *s, const char *kpm_id, const char *ke_id)
{
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[32] = {0x42};
    enr_enrol_result r;
    enr_enrol_input in = {kpm_id, ke_id, ke, "/tep-cse", "maf.tep.local", time(NULL)};
    char id[64];

    snprintf(id, sizeof(id), "C%s", kpm_id);
    e.kpm_id = (char *)kpm_id;
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    e.enrolee_id = id;
    e.expires = time(NULL) + 3600;
    if (enr_db_enrolee_add(s, &e) != 0 || enr_db_enrol(s, &in, &r) != 0)
        return NULL;
    return s;
}

static int setup(void **state)
{
    cmn_store *s = NULL;
    char err[256];

    snprintf(dir, sizeof(dir), "/tmp/tep-test-mef-XXXXXX");
    setenv("TEP_ENROLLER_TARGETS", "/mn1=coaps://127.0.0.1:5694", 1);
    memset(&cfg, 0, sizeof(cfg));
    if (enr_config_load(NULL, &cfg, err, sizeof(err)) != 0)
        return -1;
    if (mkdtemp(dir) == NULL || enr_db_open(dir, &s) != 0 || add(s, "dev7", KE_ID) == NULL ||
        add(s, "dev8", "fedcba9876543210fedcba9876543210@mef.tep.local") == NULL)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    cmn_store_close(*state);
    enr_config_free(&cfg);
    return tst_rmtree(dir);
}

static enr_mef_ctx ctx(cmn_store *s, const char *kpm_id)
{
    return (enr_mef_ctx){s, &cfg, kpm_id, (int64_t)time(NULL)};
}

/* The answer's string member name (static copy), "" when absent. */
static const char *member(const enr_mef_answer *a, const char *name)
{
    static char buf[128];
    json_t *o = a->body != NULL ? json_loads(a->body, 0, NULL) : NULL;

    snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(o, name)) ?: "");
    json_decref(o);
    return buf;
}

static void client(cmn_store *s, const char *kpm_id, char reg_id[40])
{
    enr_mef_ctx x = ctx(s, kpm_id);
    enr_mef_answer a;
    const char *req = "{\"mefFQDN\": \"mef.tep.local\", \"labels\": [\"meter\"]}";

    enr_mef_client_register(&x, (const uint8_t *)req, strlen(req), &a);
    assert_int_equal(a.code, 201);
    snprintf(reg_id, 40, "%s", member(&a, "mefClientRegID"));
    assert_int_equal(strlen(reg_id), 32);
    assert_string_equal(member(&a, "mefClientID"), kpm_id[3] == '7' ? "Cdev7" : "Cdev8");
    free(a.body);
}

static unsigned key(cmn_store *s, const char *kpm_id, const char *body, enr_mef_answer *a)
{
    enr_mef_ctx x = ctx(s, kpm_id);

    enr_mef_key_register(&x, (const uint8_t *)body, strlen(body), a);
    return a->code;
}

/* The credential sync gives target for event seq (NULL: none). */
static Tep__SyncResponse *sync_for(cmn_store *s, const char *target, uint64_t seq)
{
    Tep__SyncRequest req = TEP__SYNC_REQUEST__INIT;
    Tep__SyncResponse *resp = calloc(1, sizeof(*resp));

    tep__sync_response__init(resp);
    req.after_seq = seq - 1;
    req.target_id = (char *)target;
    req.max = 1;
    assert_int_equal(enr_sync_answer(s, "mef.tep.local", &req, resp), 0);
    assert_int_equal(resp->n_items, 1);
    return resp;
}

static void sync_free(Tep__SyncResponse *r)
{
    enr_sync_clear(r);
    free(r);
}

static void test_key_for_a_second_target(void **state)
{
    char rel[40], upd[64];
    cmn_store *s = *state;
    uint8_t kuc[CMN_KEY_LEN];
    char reg_id[40], body[256], want[CMN_KEY_ID_MAX];
    Tep__SyncResponse *r;
    enr_mef_answer a;
    enr_mef_ctx x;

    client(s, "dev7", reg_id);
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 22, "
             "\"targetIDs\": [\"/mn1\"]}",
             reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 201);
    /* the key is Kuc of 10.3.7, its ID cmn_kdf_kuc_id: both computed from Ke */
    assert_int_equal(cmn_kdf_kuc(ke, 22, "/mn1", kuc), 0);
    assert_int_equal(cmn_kdf_kuc_id(kuc, "mef.tep.local", want, sizeof(want)), 0);
    assert_string_equal(member(&a, "keyID"), want);
    assert_string_equal(member(&a, "sourceMefClientID"), "Cdev7");
    assert_int_equal(a.events.n, 1);
    assert_int_equal(a.events.ev[0].kind, TEP__EVENT__KIND__KEY_REGISTERED);
    free(a.body);

    /* sync: /mn1 gets Kuc, the registrar nothing for this event */
    r = sync_for(s, "/mn1", a.events.ev[0].seq);
    assert_non_null(r->items[0]->credential);
    assert_string_equal(r->items[0]->credential->key_id, want);
    assert_int_equal(r->items[0]->credential->suid, 22);
    assert_memory_equal(r->items[0]->credential->key.data, kuc, CMN_KEY_LEN);
    assert_false(r->items[0]->credential->revoked);
    sync_free(r);
    r = sync_for(s, "/tep-cse", a.events.ev[0].seq);
    assert_null(r->items[0]->credential);
    sync_free(r);

    /* Key Registration Update: a new expiry, a new KEY_REGISTERED for the target */
    x = ctx(s, "dev7");
    snprintf(rel, sizeof(rel), "%.32s", want);
    snprintf(upd, sizeof(upd), "{\"expirationTime\": %lld}", (long long)x.now + 60);
    enr_mef_key_update(&x, rel, (const uint8_t *)upd, strlen(upd), &a);
    assert_int_equal(a.code, 204);
    assert_int_equal(a.events.n, 1);
    r = sync_for(s, "/mn1", a.events.ev[0].seq);
    assert_int_equal(r->items[0]->credential->expires, x.now + 60);
    sync_free(r);
    free(a.body);
    enr_mef_key_update(&x, rel, (const uint8_t *)"{\"targetIDs\": [\"/x\"]}", 19, &a);
    assert_int_equal(a.code, 400);
    free(a.body);
    x.kpm_id = "dev8"; /* only its source */
    enr_mef_key_update(&x, rel, (const uint8_t *)upd, strlen(upd), &a);
    assert_int_equal(a.code, 404);
    free(a.body);
    x.kpm_id = "dev7";

    /* client de-registration de-registers the key: /mn1 gets it revoked, keyless */
    enr_mef_client_deregister(&x, reg_id, &a);
    assert_int_equal(a.code, 202);
    assert_int_equal(a.events.n, 1);
    assert_int_equal(a.events.ev[0].kind, TEP__EVENT__KIND__KEY_DEREGISTERED);
    r = sync_for(s, "/mn1", a.events.ev[0].seq);
    assert_true(r->items[0]->credential->revoked);
    assert_int_equal(r->items[0]->credential->key.len, 0);
    sync_free(r);
    enr_mef_client_deregister(&x, reg_id, &a); /* gone */
    assert_int_equal(a.code, 404);
    free(a.body);
    cmn_wipe(kuc, sizeof(kuc));
}

static void test_refusals(void **state)
{
    cmn_store *s = *state;
    char reg_id[40], body[256];
    enr_mef_answer a;
    static const char *bad[] = {
        "\"suid\": 21, \"targetIDs\": [\"/mn1\"]",
        "\"suid\": 22, \"targetIDs\": [\"/mn1\", \"/tep-cse\"]",
        "\"suid\": 22, \"targetIDs\": []",
        "\"suid\": 22",
        "\"suid\": 22, \"targetIDs\": [\"/mn1\"], \"expirationTime\": 5",
    };
    enr_mef_ctx x;

    client(s, "dev7", reg_id);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"mefClientRegID\": \"%s\", %s}", reg_id, bad[i]);
        assert_int_equal(key(s, "dev7", body, &a), 400);
        assert_int_equal(a.events.n, 0);
        free(a.body);
    }
    /* not a target of this MEF; no client registration; someone else's registration */
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 22, "
             "\"targetIDs\": [\"/elsewhere\"]}",
             reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 403);
    free(a.body);
    assert_int_equal(key(s, "dev7",
                         "{\"mefClientRegID\": \"00\", \"suid\": 22, "
                         "\"targetIDs\": [\"/mn1\"]}",
                         &a),
                     403);
    free(a.body);
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 22, "
             "\"targetIDs\": [\"/mn1\"]}",
             reg_id);
    assert_int_equal(key(s, "dev8", body, &a), 403);
    free(a.body);
    x = ctx(s, "dev8");
    enr_mef_client_deregister(&x, reg_id, &a);
    assert_int_equal(a.code, 404);
    free(a.body);
    enr_mef_client_register(&x, (const uint8_t *)"{\"mefFQDN\": \"x\"}", 16, &a);
    assert_int_equal(a.code, 400);
    free(a.body);
}

static void test_update_is_bounded(void **state)
{
    cmn_store *s = *state;
    char reg_id[40], body[128];
    enr_mef_ctx x = ctx(s, "dev7");
    enr_mef_answer a;
    json_t *o;

    client(s, "dev7", reg_id);
    snprintf(body, sizeof(body), "{\"expirationTime\": %lld}", (long long)x.now + 100 * 86400);
    enr_mef_client_update(&x, reg_id, (const uint8_t *)body, strlen(body), &a);
    assert_int_equal(a.code, 204);
    o = json_loads(a.body, 0, NULL);
    /* never after the enrolment (an hour here) */
    assert_true(json_integer_value(json_object_get(o, "expirationTime")) <= x.now + 3600);
    json_decref(o);
    free(a.body);
}

static unsigned retrieve(cmn_store *s, const char *kpm_id, const char *rel, enr_mef_answer *a)
{
    enr_mef_ctx x = ctx(s, kpm_id);

    enr_mef_key_retrieve(&x, rel, a);
    return a->code;
}

/* ESData keys (SUIDs 24/25): an AE target, fetched by MEF Key Retrieval (8.3.5.2.8) only
 * by that target, never handed out over sync; they end with the key and the enrolment. */
static void test_esdata_key_retrieval(void **state)
{
    cmn_store *s = *state;
    uint8_t kuc[CMN_KEY_LEN];
    char reg_id[40], body[256], want[CMN_KEY_ID_MAX], rel[40], hex[2 * CMN_KEY_LEN + 1];
    enr_mef_answer a;
    enr_events ev;
    json_t *o;
    Tep__SyncResponse *r;
    enr_mef_ctx x;

    client(s, "dev7", reg_id);
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 24, \"targetIDs\": [\"Cdev8\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 201);
    assert_int_equal(cmn_kdf_kuc(ke, 24, "Cdev8", kuc), 0);
    assert_int_equal(cmn_kdf_kuc_id(kuc, "mef.tep.local", want, sizeof(want)), 0);
    assert_string_equal(member(&a, "keyID"), want);
    free(a.body);
    snprintf(rel, sizeof(rel), "%.32s", want);

    /* the target gets Kuc; the answer names the source and the SUID */
    assert_int_equal(retrieve(s, "dev8", rel, &a), 205);
    cmn_hex_encode(kuc, CMN_KEY_LEN, hex);
    assert_string_equal(member(&a, "keyValue"), hex);
    assert_string_equal(member(&a, "keyID"), want);
    assert_string_equal(member(&a, "sourceMefClientID"), "Cdev7");
    o = json_loads(a.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "suid")), 24);
    json_decref(o);
    cmn_wipe(a.body, strlen(a.body));
    free(a.body);
    /* anyone else, its source included, is refused; unknown or malformed IDs are 4.04 */
    assert_int_equal(retrieve(s, "dev7", rel, &a), 403);
    assert_null(strstr(a.body, hex));
    free(a.body);
    assert_int_equal(retrieve(s, "dev8", "00000000000000000000000000000000", &a), 404);
    free(a.body);
    assert_int_equal(retrieve(s, "dev8", "../x", &a), 404);
    free(a.body);
    assert_int_equal(retrieve(s, "nobody", rel, &a), 403); /* no live enrolment */
    free(a.body);

    /* an ESData key for a CSE target goes by retrieval too, not over sync */
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 25, \"targetIDs\": [\"/mn1\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 201);
    r = sync_for(s, "/mn1", a.events.ev[0].seq);
    assert_null(r->items[0]->credential);
    sync_free(r);
    free(a.body);
    /* wrong target forms, an ESPrim key for a CSE that is no Enrolment Target */
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 24, \"targetIDs\": [\"dev8\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 400);
    free(a.body);
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 23, \"targetIDs\": [\"/nowhere\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 403);
    free(a.body);
    /* an ESPrim key for an AE Receiver: registered, fetched by that AE */
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 23, \"targetIDs\": [\"Cdev8\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 201);
    free(a.body);

    /* de-registered: gone for the target too */
    x = ctx(s, "dev7");
    enr_mef_key_deregister(&x, rel, &a);
    assert_int_equal(a.code, 202);
    assert_int_equal(retrieve(s, "dev8", rel, &a), 404);
    free(a.body);

    /* a new key, then the source's enrolment revoked: gone */
    snprintf(body, sizeof(body),
             "{\"mefClientRegID\": \"%s\", \"suid\": 24, \"targetIDs\": [\"Cdev8\"]}", reg_id);
    assert_int_equal(key(s, "dev7", body, &a), 201);
    free(a.body);
    assert_int_equal(retrieve(s, "dev8", rel, &a), 205);
    cmn_wipe(a.body, strlen(a.body));
    free(a.body);
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(enr_db_enrolee_revoke(s, "dev7", &ev), 0);
    assert_int_equal(retrieve(s, "dev8", rel, &a), 404);
    free(a.body);
    cmn_wipe(kuc, sizeof(kuc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_for_a_second_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_esdata_key_retrieval, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
