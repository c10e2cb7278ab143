/* The target's side of the MAF-based SAEF (TS-0003 8.2.2.3): which identities are Key
 * Identifiers, and what a retrieved Kc becomes in the credentials store (found by the
 * PSK callback like a Kpsa, bound to the source AE-ID); with a real ZeroMQ ROUTER and
 * PUB standing in for tep-authz: KeyEvent revocation and update, and the keys DEALER
 * rebuilt after a lost answer (Lazy Pirate).
 *
 * The stand-in tep-authz is there for the faults it injects: answers dropped, late or
 * sent to a socket since rebuilt, a PUB closed and bound again, a retrieval refused.
 * The same paths with the real tep-authz: integration 53 (Kc fetched, revoked, tep-authz
 * restarted), 56 (updates and de-registrations), 21 (a shortened key re-fetched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <poll.h>
#include <time.h>

#include "cmn_bus.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cse_maf.h"
#include "cse_sync.h"
#include "tst.h"

#define KEY_ID "000102030405060708090a0b0c0d0e0f@maf.tep.local"

static char dir[64];
static cmn_store *store;

static int setup(void **state)
{
    const char *dbs[] = {CSE_DB_CREDENTIALS, CSE_DB_KEIDS};

    (void)state;
    if (tst_tmpdir("cse-maf", dir, sizeof(dir)) != 0)
        return -1;
    return cmn_store_open(dir, dbs, 2, 1, 0, &store);
}

static int teardown(void **state)
{
    (void)state;
    cmn_store_close(store);
    tst_rmtree(dir);
    return 0;
}

static void test_key_identifier_shape(void **state)
{
    (void)state;
    assert_true(cse_maf_is_key_id(KEY_ID));
    assert_true(cse_maf_is_key_id("000102030405060708090A0B0C0D0E0F@maf"));
    assert_false(cse_maf_is_key_id("0001@maf.tep.local"));                   /* short */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0g@maf")); /* not hex */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0f@"));    /* no FQDN */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0f"));     /* no '@' */
    cse_maf_want(NULL, KEY_ID); /* no cse_maf: nothing happens */
}

static void test_retrieved_kc_is_a_credential(void **state)
{
    uint8_t kc[32];
    Tep__Credential c = TEP__CREDENTIAL__INIT, *got = NULL;

    (void)state;
    memset(kc, 0x5a, sizeof(kc));
    c.key_id = KEY_ID;
    c.key = (ProtobufCBinaryData){sizeof(kc), kc};
    c.suid = CSE_MAF_SUID_KC;
    c.enrolee_id = "Cdevice01";
    c.expires = 1800000600;
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), 0);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), 0);
    assert_string_equal(got->enrolee_id, "Cdevice01");
    assert_memory_equal(got->key.data, kc, 32);
    assert_int_equal(cse_cred_usable(got, 1800000599), 0);
    assert_int_equal(cse_cred_usable(got, 1800000600), CMN_EEXPIRED);
    cse_cred_free(got);
}

static void test_malformed_answers_are_not_stored(void **state)
{
    uint8_t kc[32] = {0};
    Tep__Credential c = TEP__CREDENTIAL__INIT, *got = NULL;

    (void)state;
    c.key_id = KEY_ID;
    c.key = (ProtobufCBinaryData){sizeof(kc), kc};
    c.enrolee_id = "Cdevice01";
    c.suid = 22; /* a Kpsa is not a Kc */
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    c.suid = CSE_MAF_SUID_KC;
    assert_int_equal(cse_maf_store(store, "ff" KEY_ID, &c), CMN_EPROTO); /* another key */
    c.enrolee_id = "";
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    c.enrolee_id = "Cdevice01";
    c.key.len = 16;
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), CMN_ENOTFOUND);
}

static void put(const char *key_id, unsigned suid, const char *ke_id, bool revoked)
{
    uint8_t k[32] = {1};
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = (char *)key_id;
    c.key = (ProtobufCBinaryData){sizeof(k), k};
    c.suid = suid;
    c.ke_id = (char *)ke_id;
    c.enrolee_id = "Cdevice01";
    c.revoked = revoked;
    if (suid == CSE_MAF_SUID_KC) {
        assert_int_equal(cse_maf_store(store, key_id, &c), 0);
    } else { /* a Kpsa, as cse_sync stores it, with its KeID index */
        uint8_t buf[256];

        assert_int_equal(cmn_store_put(store, CSE_DB_CREDENTIALS, key_id, strlen(key_id), buf,
                                       tep__credential__pack(&c, buf)),
                         0);
        assert_int_equal(
            cmn_store_put(store, CSE_DB_KEIDS, ke_id, strlen(ke_id), key_id, strlen(key_id)), 0);
    }
}

/* TS-0003 10.7: revoking the source's enrolment ends the Kc registered with it. */
static void test_revoked_source_revokes_kc(void **state)
{
    Tep__Credential *got = NULL;

    (void)state;
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", false);
    put(KEY_ID, CSE_MAF_SUID_KC, "ke1@mef.tep.local", false);
    put("ffffffffffffffffffffffffffffffff@maf.tep.local", CSE_MAF_SUID_KC, "ke9@mef.tep.local",
        false); /* a source this CSE does not know: left to its expiry */
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 0);
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", true);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 1);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), 0);
    assert_int_equal(cse_cred_usable(got, 1800000000), CMN_EDENIED);
    cse_cred_free(got);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 0); /* once */
}

/* More Kc than one store read collects: all of them are checked in one sweep, also
 * those after CSE_MAF_SWEEP_MAX live ones. */
static void test_sweep_checks_every_kc(void **state)
{
    char id[CMN_KEY_ID_MAX];
    const size_t n = CSE_MAF_SWEEP_MAX + 6;

    (void)state;
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", false);
    put("kpsa2@mef.tep.local", 22, "ke2@mef.tep.local", false);
    for (size_t i = 0; i < n; i++) { /* the live source's keys sort first */
        snprintf(id, sizeof(id), "%032zx@maf.tep.local", i);
        put(id, CSE_MAF_SUID_KC, i < CSE_MAF_SWEEP_MAX ? "ke2@mef.tep.local" : "ke1@mef.tep.local",
            false);
    }
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", true);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), n - CSE_MAF_SWEEP_MAX);
}

/* ---- against a stand-in tep-authz: ROUTER on "keys", PUB on "maf_events" ----------- */

#define CSE_ID "/tep-cse"
#define KEY2 "ffeeddccbbaa99887766554433221100@maf.tep.local"

typedef struct {
    cmn_bus *bus;
    cmn_bus_sock *router, *pub;
    cse_maf *maf;
    int64_t now; /* the loop's monotonic ms, driven by the test */
} authz;

static void authz_up(authz *a)
{
    char keys[128], events[128];

    memset(a, 0, sizeof(*a));
    snprintf(keys, sizeof(keys), "ipc://%s/keys.ipc", dir);
    snprintf(events, sizeof(events), "ipc://%s/maf-ev.ipc", dir);
    assert_int_equal(cmn_bus_new(&a->bus), 0);
    assert_int_equal(cmn_bus_open(a->bus, CMN_BUS_ROUTER, keys, &a->router), 0);
    assert_int_equal(cmn_bus_open(a->bus, CMN_BUS_PUB, events, &a->pub), 0);
    assert_int_equal(cse_maf_new(a->bus, keys, events, CSE_ID, store, &a->maf), 0);
    a->now = 1000;
}

static void authz_down(authz *a)
{
    cse_maf_free(a->maf);
    cmn_bus_close(a->router);
    cmn_bus_close(a->pub);
    cmn_bus_free(a->bus);
}

static authz stand_in;

static int setup_authz(void **state)
{
    if (setup(state) != 0)
        return -1;
    authz_up(&stand_in);
    *state = &stand_in;
    return 0;
}

static int teardown_authz(void **state)
{
    authz_down(*state);
    return teardown(state);
}

/* The next KeyRequest on the ROUTER (the loop turns until it is sent). */
static Tep__Envelope *next_request(authz *a, uint8_t *ident, size_t *ilen)
{
    Tep__Envelope *env = NULL;

    cse_maf_process(a->maf, a->now);
    assert_int_equal(cmn_bus_recv_wait(a->router, 2000, ident, ilen, &env), 0);
    assert_int_equal(env->body_case, TEP__ENVELOPE__BODY_KEY_REQ);
    assert_string_equal(env->key_req->target_id, CSE_ID);
    return env;
}

/* Answers rq with Kc = 32 bytes of fill (err 0) or with err alone. */
static void answer(authz *a, const uint8_t *ident, size_t ilen, const Tep__Envelope *rq, int err,
                   uint8_t fill)
{
    uint8_t kc[32];
    Tep__Envelope env;
    Tep__KeyResponse r = TEP__KEY_RESPONSE__INIT;
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    memset(kc, fill, sizeof(kc));
    cmn_bus_env_init(&env, "tep-authz", rq->request_id);
    env.body_case = TEP__ENVELOPE__BODY_KEY_RESP;
    env.key_resp = &r;
    r.err = err;
    if (err == 0) {
        c.key_id = rq->key_req->key_id;
        c.key = (ProtobufCBinaryData){sizeof(kc), kc};
        c.suid = CSE_MAF_SUID_KC;
        c.enrolee_id = "Cdevice01";
        c.expires = 1800000000 + fill;
        r.credential = &c;
    }
    assert_int_equal(cmn_bus_send(a->router, ident, ilen, &env), 0);
}

/* Turns the loop (the maf fd polled, as tep-cse does) until done() or ms passed. */
static bool turn_for(authz *a, bool (*done)(void), long ms)
{
    struct timespec t0, t;
    struct pollfd pfd = {.fd = cse_maf_fd(a->maf), .events = POLLIN};

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        poll(&pfd, 1, 20);
        cse_maf_process(a->maf, a->now);
        if (done())
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    return false;
}

static bool turn_until(authz *a, bool (*done)(void))
{
    return turn_for(a, done, 3000);
}

static Tep__Credential *kc_now(const char *key_id)
{
    Tep__Credential *c = NULL;

    if (cse_cred_get(store, key_id, &c) != 0)
        return NULL;
    return c;
}

static bool key_revoked(void)
{
    Tep__Credential *c = kc_now(KEY_ID);
    bool r = c != NULL && c->revoked;

    cse_cred_free(c);
    return r;
}

static bool key2_stored(void)
{
    Tep__Credential *c = kc_now(KEY2);
    bool r = c != NULL;

    cse_cred_free(c);
    return r;
}

static void publish(authz *a, const char *key_id, const char *target, bool revoked)
{
    Tep__Envelope env;
    Tep__KeyEvent ev = TEP__KEY_EVENT__INIT;
    char *targets[1] = {(char *)target};

    cmn_bus_env_init(&env, "tep-authz", 0);
    env.body_case = TEP__ENVELOPE__BODY_KEY_EVENT;
    env.key_event = &ev;
    ev.key_id = (char *)key_id;
    ev.target_ids = targets;
    ev.n_target_ids = 1;
    ev.revoked = revoked;
    assert_int_equal(cmn_bus_send(a->pub, NULL, 0, &env), 0);
}

/* A SUB misses what is published before its subscription is in: the stand-in publishes
 * the (idempotent) event again each turn until it shows. */
static bool publish_until(authz *a, const char *key_id, bool revoked, bool (*done)(void))
{
    for (int i = 0; i < 150; i++) {
        struct pollfd pfd = {.fd = cse_maf_fd(a->maf), .events = POLLIN};

        publish(a, key_id, CSE_ID, revoked);
        poll(&pfd, 1, 20);
        cse_maf_process(a->maf, a->now);
        if (done())
            return true;
    }
    return false;
}

/* KeyEvent{revoked}: the stored Kc is revoked durably, its key bytes dropped; handshakes
 * with it are then refused as revoked (cse_cred_usable is what the PSK callback asks). */
static void test_key_event_revoked_revokes_kc(void **state)
{
    authz *a = *state;
    Tep__Credential *got;

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    assert_true(publish_until(a, KEY_ID, true, key_revoked));
    got = kc_now(KEY_ID);
    assert_non_null(got);
    assert_int_equal(cse_cred_usable(got, 1800000000), CMN_EDENIED);
    assert_int_equal(got->key.len, 0);
    assert_string_equal(got->enrolee_id, "Cdevice01");
    cse_cred_free(got);
}

/* The Kc a turn revoked are reported once to the loop, which closes their sessions
 * (cse_maf_take_revoked, then cse_saef_close_revoked in tep-cse's loop). */
static void test_revoked_kc_are_reported_once(void **state)
{
    authz *a = *state;

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    assert_int_equal(cse_maf_take_revoked(a->maf), 0);
    assert_true(publish_until(a, KEY_ID, true, key_revoked));
    assert_int_equal(cse_maf_take_revoked(a->maf), 1);
    assert_int_equal(cse_maf_take_revoked(a->maf), 0);
}

/* A retrieval in flight when the key is revoked: its answer does not store it. */
static void test_revoked_while_in_flight_is_not_stored(void **state)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    authz *a = *state;
    Tep__Envelope *rq;
    struct pollfd pfd;

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    assert_true(publish_until(a, KEY_ID, true, key_revoked)); /* the SUB is in */
    cse_maf_want(a->maf, KEY2);
    rq = next_request(a, ident, &ilen);
    assert_string_equal(rq->key_req->key_id, KEY2);
    publish(a, KEY2, CSE_ID, true);
    pfd = (struct pollfd){.fd = cse_maf_fd(a->maf), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    cse_maf_process(a->maf, a->now); /* the event: before the answer */
    answer(a, ident, ilen, rq, 0, 0x22);
    assert_false(turn_for(a, key2_stored, 300));
    cmn_bus_env_free(rq);
}

#define KEY3 "33333333333333333333333333333333@maf.tep.local"

static bool key3_revoked(void)
{
    Tep__Credential *c = kc_now(KEY3);
    bool r = c != NULL && c->revoked;

    cse_cred_free(c);
    return r;
}

/* Waits until tep-cse's SUB gets what is published (a KeyEvent revoking KEY3 shows). */
static void sub_in(authz *a)
{
    put(KEY3, CSE_MAF_SUID_KC, "", false);
    assert_true(publish_until(a, KEY3, true, key3_revoked));
}

/* Publishes one KeyEvent for key_id (the SUB is in) and turns the loop until tep-cse's
 * retrieval of it reaches the ROUTER. */
static Tep__Envelope *request_after_event(authz *a, const char *key_id, const char *target,
                                          uint8_t *ident, size_t *ilen)
{
    Tep__Envelope *rq = NULL;

    publish(a, key_id, target, false);
    for (int i = 0; i < 150 && rq == NULL; i++) {
        cse_maf_process(a->maf, a->now);
        if (cmn_bus_recv_wait(a->router, 20, ident, ilen, &rq) != 0)
            rq = NULL;
    }
    assert_non_null(rq);
    assert_string_equal(rq->key_req->key_id, key_id);
    return rq;
}

/* Whether key_id is stored live with the expiry of answer(..., 0x33). */
static bool updated(const char *key_id)
{
    Tep__Credential *c = kc_now(key_id);
    bool r = c != NULL && !c->revoked && c->expires == 1800000000 + 0x33;

    cse_cred_free(c);
    return r;
}

static bool key_updated(void)
{
    return updated(KEY_ID);
}

/* KeyEvent without revoked for a stored key: fetched again and updated; when the MAF
 * says this CSE is no longer a target (CMN_EDENIED), the Kc is revoked. */
static void test_key_event_update_refetches(void **state)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    authz *a = *state;
    Tep__Envelope *rq;
    Tep__Credential *got;

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    sub_in(a);
    rq = request_after_event(a, KEY_ID, CSE_ID, ident, &ilen); /* new expiry */
    answer(a, ident, ilen, rq, 0, 0x33);
    cmn_bus_env_free(rq);
    assert_true(turn_until(a, key_updated));
    got = kc_now(KEY_ID);
    assert_int_equal(cse_cred_usable(got, 1800000000), 0);
    assert_int_equal(got->key.data[0], 0x33);
    cse_cred_free(got);
    /* targets changed: this CSE is not among them (the event does not name it) */
    rq = request_after_event(a, KEY_ID, "/other-cse", ident, &ilen);
    answer(a, ident, ilen, rq, CMN_EDENIED, 0);
    assert_true(turn_until(a, key_revoked));
    cmn_bus_env_free(rq);
}

/* A Kc revoked here (its source enrolment revoked) while a retrieval of it is in flight:
 * the MAF's answer does not bring it back. */
static void test_revoked_here_stays_revoked(void **state)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    authz *a = *state;
    Tep__Envelope *rq;
    Tep__Credential *got;

    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", false);
    put(KEY_ID, CSE_MAF_SUID_KC, "ke1@mef.tep.local", false);
    cse_maf_want(a->maf, KEY_ID);
    rq = next_request(a, ident, &ilen);
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", true);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 1);
    answer(a, ident, ilen, rq, 0, 0x55);
    for (int i = 0; i < 20; i++) { /* the answer is taken and refused */
        struct pollfd pfd = {.fd = cse_maf_fd(a->maf), .events = POLLIN};
        poll(&pfd, 1, 20);
        cse_maf_process(a->maf, a->now);
    }
    got = kc_now(KEY_ID);
    assert_true(got->revoked);
    assert_int_equal(got->key.len, 0);
    cse_cred_free(got);
    cmn_bus_env_free(rq);
}

/* Lazy Pirate: tep-authz loses the first request; after the deadline the DEALER is
 * rebuilt (a new ZeroMQ identity at the ROUTER), a stale answer to the old socket is
 * never taken, and the next retrieval works. */
static void test_lost_answer_rebuilds_dealer(void **state)
{
    uint8_t id1[CMN_BUS_IDENT_MAX], id2[CMN_BUS_IDENT_MAX];
    size_t len1 = 0, len2 = 0;
    authz *a = *state;
    Tep__Envelope *rq1, *rq2;
    Tep__Credential *got;

    cse_maf_want(a->maf, KEY2);
    rq1 = next_request(a, id1, &len1); /* dropped */
    a->now += CSE_MAF_DEADLINE_MS;
    cse_maf_process(a->maf, a->now); /* timed out: forgotten, DEALER rebuilt */
    cse_maf_want(a->maf, KEY2);      /* the client's retried handshake */
    a->now += 1;
    rq2 = next_request(a, id2, &len2);
    assert_string_equal(rq2->key_req->key_id, KEY2);
    assert_false(len1 == len2 && memcmp(id1, id2, len1) == 0); /* another socket */
    answer(a, id1, len1, rq1, 0, 0x11); /* stale, to the closed socket: lost */
    answer(a, id2, len2, rq2, 0, 0x22);
    assert_true(turn_until(a, key2_stored));
    got = kc_now(KEY2);
    assert_int_equal(got->key.data[0], 0x22);
    cse_cred_free(got);
    cmn_bus_env_free(rq1);
    cmn_bus_env_free(rq2);
}

/* The loop's fd follows the rebuilt DEALER: an answer on the new socket wakes poll(). */
static void test_rebuilt_dealer_wakes_poll(void **state)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    authz *a = *state;
    Tep__Envelope *rq;
    struct pollfd pfd;

    cse_maf_want(a->maf, KEY2);
    rq = next_request(a, ident, &ilen);
    cmn_bus_env_free(rq);
    a->now += CSE_MAF_DEADLINE_MS;
    cse_maf_process(a->maf, a->now);
    cse_maf_want(a->maf, KEY2);
    rq = next_request(a, ident, &ilen);
    cse_maf_process(a->maf, a->now); /* drained: the edge-like fd is quiet again */
    answer(a, ident, ilen, rq, 0, 0x44);
    pfd = (struct pollfd){.fd = cse_maf_fd(a->maf), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    assert_true(turn_until(a, key2_stored));
    cmn_bus_env_free(rq);
}

/* The KeyRequests that reach the ROUTER while the loop turns for up to ms (at most max),
 * their key ids in ids and the requests in rqs (freed by the caller). */
static size_t requests_for(authz *a, long ms, Tep__Envelope **rqs,
                           uint8_t (*idents)[CMN_BUS_IDENT_MAX], size_t *ilens, size_t max)
{
    size_t n = 0;

    for (long t = 0; t < ms && n < max; t += 10) {
        Tep__Envelope *rq = NULL;

        cse_maf_process(a->maf, a->now);
        while (n < max && cmn_bus_recv_wait(a->router, 10, idents[n], &ilens[n], &rq) == 0) {
            assert_int_equal(rq->body_case, TEP__ENVELOPE__BODY_KEY_REQ);
            rqs[n++] = rq;
            rq = NULL;
        }
    }
    return n;
}

static bool key3_updated(void)
{
    return updated(KEY3);
}

#define KEY4 "44444444444444444444444444444444@maf.tep.local"

/* KeyEvents lost while tep-authz was away: after the DEALER is rebuilt every stored live
 * Kc is fetched again (a revoked one is not): the MAF's CMN_ENOTFOUND revokes it, an
 * answer with the key replaces it. */
static void test_rebuilt_dealer_resyncs_stored_kc(void **state)
{
    uint8_t idents[4][CMN_BUS_IDENT_MAX];
    size_t ilens[4], n;
    authz *a = *state;
    Tep__Envelope *rqs[4];

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    put(KEY3, CSE_MAF_SUID_KC, "ke1@mef.tep.local", false);
    put(KEY4, CSE_MAF_SUID_KC, "", true);
    cse_maf_want(a->maf, KEY2);
    cmn_bus_env_free(next_request(a, idents[0], &ilens[0]));          /* dropped */
    assert_int_equal(requests_for(a, 100, rqs, idents, ilens, 4), 0); /* nothing else yet */
    a->now += CSE_MAF_DEADLINE_MS;
    n = requests_for(a, 500, rqs, idents, ilens, 4); /* timeout, rebuild, resync */
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        bool first = strcmp(rqs[i]->key_req->key_id, KEY_ID) == 0;

        assert_true(first || strcmp(rqs[i]->key_req->key_id, KEY3) == 0);
        answer(a, idents[i], ilens[i], rqs[i], first ? CMN_ENOTFOUND : 0, 0x33);
        cmn_bus_env_free(rqs[i]);
    }
    assert_true(turn_until(a, key_revoked));
    assert_true(turn_until(a, key3_updated));
}

static bool all_revoked(void)
{
    char id[CMN_KEY_ID_MAX];

    for (size_t i = 0; i < CSE_MAF_PENDING_MAX + 8; i++) {
        Tep__Credential *c;
        bool r;

        snprintf(id, sizeof(id), "%032zx@maf.tep.local", i);
        c = kc_now(id);
        r = c != NULL && c->revoked;
        cse_cred_free(c);
        if (!r)
            return false;
    }
    return true;
}

/* More stored Kc than retrieval slots: the resync asks for the rest as answers free
 * slots; a second rebuild within CSE_MAF_RESYNC_GAP_MS does not start another one at
 * once (tep-authz still down), it waits for the gap's end. */
static void test_resync_walks_every_kc(void **state)
{
    enum { N = CSE_MAF_PENDING_MAX + 8 };
    static uint8_t idents[N][CMN_BUS_IDENT_MAX];
    size_t ilens[N], n, total = 0;
    authz *a = *state;
    Tep__Envelope *rqs[N];
    char id[CMN_KEY_ID_MAX];

    for (size_t i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "%032zx@maf.tep.local", i);
        put(id, CSE_MAF_SUID_KC, "", false);
    }
    cse_maf_want(a->maf, KEY2);
    cmn_bus_env_free(next_request(a, idents[0], &ilens[0]));
    a->now += CSE_MAF_DEADLINE_MS;
    n = requests_for(a, 300, rqs, idents, ilens, N); /* the slots full: the first 32 */
    assert_int_equal(n, CSE_MAF_PENDING_MAX);
    for (size_t i = 0; i < n; i++)
        cmn_bus_env_free(rqs[i]); /* lost as well */
    /* all lost: rebuilt again, 2 s after the resync began: no new resync yet, the walk
     * goes on with the keys after the first 32 */
    a->now += CSE_MAF_DEADLINE_MS;
    n = requests_for(a, 300, rqs, idents, ilens, N);
    assert_int_equal(n, N - CSE_MAF_PENDING_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%032x@maf.tep.local", CSE_MAF_PENDING_MAX);
        assert_true(strcmp(rqs[i]->key_req->key_id, id) >= 0);
        cmn_bus_env_free(rqs[i]);
    }
    a->now += CSE_MAF_RESYNC_GAP_MS - CSE_MAF_DEADLINE_MS;
    while (total < N) { /* the gap's end: from the first key again, then the rest */
        n = requests_for(a, 300, rqs, idents, ilens, N);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            answer(a, idents[i], ilens[i], rqs[i], CMN_ENOTFOUND, 0);
            cmn_bus_env_free(rqs[i]);
        }
        total += n;
    }
    assert_int_equal(total, N);
    assert_true(turn_until(a, all_revoked));
}

/* Turns the loop, the test's clock running, until a KeyRequest for key_id reaches the
 * ROUTER (NULL after 3 s). */
static Tep__Envelope *request_for(authz *a, const char *key_id, uint8_t *ident, size_t *ilen)
{
    for (int i = 0; i < 150; i++) {
        Tep__Envelope *rq = NULL;

        a->now += 20;
        cse_maf_process(a->maf, a->now);
        if (cmn_bus_recv_wait(a->router, 20, ident, ilen, &rq) == 0) {
            if (strcmp(rq->key_req->key_id, key_id) == 0)
                return rq;
            cmn_bus_env_free(rq);
        }
    }
    return NULL;
}

/* tep-authz restarted: what its PUB published while tep-cse's SUB was away is lost
 * (here: nothing could be); once the SUB has reconnected, every stored live Kc is
 * fetched again, and a key the MAF no longer gives out is revoked. Also at the SUB's
 * first connection. Nothing is asked while the SUB stays disconnected. */
static void test_sub_reconnect_resyncs_stored_kc(void **state)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    authz *a = *state;
    Tep__Envelope *rq;
    char events[128];

    put(KEY_ID, CSE_MAF_SUID_KC, "", false);
    rq = request_for(a, KEY_ID, ident, &ilen); /* the first connection's resync */
    assert_non_null(rq);
    answer(a, ident, ilen, rq, 0, 0x11);
    cmn_bus_env_free(rq);
    cmn_bus_close(a->pub); /* tep-authz goes away */
    rq = NULL;
    for (int i = 0; i < 20 && rq == NULL; i++) { /* the answer taken; nothing asked */
        a->now += 20;
        cse_maf_process(a->maf, a->now);
        if (cmn_bus_recv_wait(a->router, 20, ident, &ilen, &rq) != 0)
            rq = NULL;
    }
    assert_null(rq);
    snprintf(events, sizeof(events), "ipc://%s/maf-ev.ipc", dir);
    assert_int_equal(cmn_bus_open(a->bus, CMN_BUS_PUB, events, &a->pub), 0); /* back */
    rq = request_for(a, KEY_ID, ident, &ilen);
    assert_non_null(rq);
    answer(a, ident, ilen, rq, CMN_ENOTFOUND, 0); /* de-registered meanwhile */
    cmn_bus_env_free(rq);
    assert_true(turn_until(a, key_revoked));
}

#define STORE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define BUS_TEST(t) cmocka_unit_test_setup_teardown(t, setup_authz, teardown_authz)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_identifier_shape),
        STORE_TEST(test_retrieved_kc_is_a_credential),
        STORE_TEST(test_malformed_answers_are_not_stored),
        STORE_TEST(test_revoked_source_revokes_kc),
        STORE_TEST(test_sweep_checks_every_kc),
        BUS_TEST(test_key_event_revoked_revokes_kc),
        BUS_TEST(test_revoked_kc_are_reported_once),
        BUS_TEST(test_revoked_while_in_flight_is_not_stored),
        BUS_TEST(test_key_event_update_refetches),
        BUS_TEST(test_revoked_here_stays_revoked),
        BUS_TEST(test_lost_answer_rebuilds_dealer),
        BUS_TEST(test_rebuilt_dealer_wakes_poll),
        BUS_TEST(test_rebuilt_dealer_resyncs_stored_kc),
        BUS_TEST(test_resync_walks_every_kc),
        BUS_TEST(test_sub_reconnect_resyncs_stored_kc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
