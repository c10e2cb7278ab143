/* cmn_bus: envelopes over ZeroMQ ROUTER/DEALER and PUB/SUB on ipc:// in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cmn_bus.h"
#include "cmn_err.h"

typedef struct {
    char dir[64];
    char ep[128];
    cmn_bus *bus;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tep-test-bus-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->ep, sizeof(f->ep), "ipc://%s/s.ipc", f->dir);
    assert_int_equal(cmn_bus_new(&f->bus), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cmn_bus_free(f->bus);
    char path[128];
    snprintf(path, sizeof(path), "%s/s.ipc", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void event_env(Tep__Envelope *env, Tep__Event *ev, uint64_t seq)
{
    cmn_bus_env_init(env, "test", 0);
    tep__event__init(ev);
    ev->seq = seq;
    ev->kind = TEP__EVENT__KIND__ENROLLED;
    ev->ke_id = "abcd@mef.tep.local";
    ev->enrolee_id = "Cdevice01";
    env->body_case = TEP__ENVELOPE__BODY_EVENT;
    env->event = ev;
}

static void test_env_init_fresh_ids(void **state)
{
    Tep__Envelope a, b, c;
    cmn_bus_env_init(&a, "x", 0);
    cmn_bus_env_init(&b, "x", 0);
    cmn_bus_env_init(&c, "x", 42);
    assert_int_equal(a.version, CMN_BUS_VERSION);
    assert_true(a.request_id != 0);
    assert_true(a.request_id != b.request_id);
    assert_int_equal(c.request_id, 42);
    assert_string_equal(a.sender, "x");
}

static void test_recv_empty_is_eagain(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    Tep__Envelope *env = NULL;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    assert_true(cmn_bus_fd(r) >= 0);
    assert_int_equal(cmn_bus_recv(r, NULL, NULL, &env), CMN_EAGAIN);
    assert_int_equal(cmn_bus_recv_wait(r, 20, NULL, NULL, &env), CMN_ETIMEOUT);
    assert_null(env);
    cmn_bus_close(r);
}

static void test_bind_missing_dir_fails(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    char ep[160];
    snprintf(ep, sizeof(ep), "ipc://%s/no/such/dir/s.ipc", f->dir);
    assert_true(cmn_bus_open(f->bus, CMN_BUS_ROUTER, ep, &r) < 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, "bogus://x", &r), CMN_EINVAL);
}

/* DEALER asks, ROUTER answers with a credential; the DEALER gets it with its id. */
static void test_router_dealer_round_trip(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL, *d = NULL;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_DEALER, f->ep, &d), 0);

    Tep__Envelope req;
    Tep__SyncRequest sr;
    cmn_bus_env_init(&req, "tep-cse", 0);
    tep__sync_request__init(&sr);
    sr.after_seq = 7;
    sr.target_id = "/tep-cse";
    sr.max = 256;
    req.body_case = TEP__ENVELOPE__BODY_SYNC_REQ;
    req.sync_req = &sr;
    assert_int_equal(cmn_bus_send(d, NULL, 0, &req), 0);

    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    Tep__Envelope *got = NULL;
    assert_int_equal(cmn_bus_recv_wait(r, 2000, ident, &ilen, &got), 0);
    assert_true(ilen > 0);
    assert_int_equal(got->body_case, TEP__ENVELOPE__BODY_SYNC_REQ);
    assert_int_equal(got->sync_req->after_seq, 7);
    assert_string_equal(got->sync_req->target_id, "/tep-cse");
    assert_string_equal(got->sender, "tep-cse");

    uint8_t key[32];
    memset(key, 0xa5, sizeof(key));
    Tep__Envelope resp;
    Tep__SyncResponse srs;
    Tep__SyncItem item, *items[1] = {&item};
    Tep__Event ev;
    Tep__Credential cred;
    cmn_bus_env_init(&resp, "tep-enroller", got->request_id);
    tep__sync_response__init(&srs);
    tep__sync_item__init(&item);
    tep__event__init(&ev);
    tep__credential__init(&cred);
    ev.seq = 8;
    cred.key_id = "kpsa-id";
    cred.key.data = key;
    cred.key.len = sizeof(key);
    cred.suid = 22;
    item.event = &ev;
    item.credential = &cred;
    srs.n_items = 1;
    srs.items = items;
    srs.last_seq = 8;
    resp.body_case = TEP__ENVELOPE__BODY_SYNC_RESP;
    resp.sync_resp = &srs;
    assert_int_equal(cmn_bus_send(r, ident, ilen, &resp), 0);
    cmn_bus_env_free(got);

    got = NULL;
    assert_int_equal(cmn_bus_recv_wait(d, 2000, NULL, NULL, &got), 0);
    assert_int_equal(got->request_id, req.request_id);
    assert_int_equal(got->body_case, TEP__ENVELOPE__BODY_SYNC_RESP);
    assert_int_equal(got->sync_resp->n_items, 1);
    assert_int_equal(got->sync_resp->items[0]->event->seq, 8);
    assert_int_equal(got->sync_resp->items[0]->credential->suid, 22);
    assert_memory_equal(got->sync_resp->items[0]->credential->key.data, key, sizeof(key));
    cmn_bus_env_free(got);
    cmn_bus_close(d);
    cmn_bus_close(r);
}

/* A subscriber connected to a publisher receives events (after the usual ZeroMQ
 * "slow joiner" delay, hence the retries). */
static void test_pub_sub(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *p = NULL, *s = NULL;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->ep, &p), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_SUB, f->ep, &s), 0);
    Tep__Envelope env, *got = NULL;
    Tep__Event ev;
    int err = CMN_ETIMEOUT;
    for (int i = 0; i < 100 && err == CMN_ETIMEOUT; i++) {
        event_env(&env, &ev, 5);
        assert_int_equal(cmn_bus_send(p, NULL, 0, &env), 0);
        err = cmn_bus_recv_wait(s, 50, NULL, NULL, &got);
    }
    assert_int_equal(err, 0);
    assert_int_equal(got->body_case, TEP__ENVELOPE__BODY_EVENT);
    assert_int_equal(got->event->seq, 5);
    assert_string_equal(got->event->enrolee_id, "Cdevice01");
    cmn_bus_env_free(got);
    /* A PUB cannot receive, a SUB cannot send. */
    assert_int_equal(cmn_bus_recv(p, NULL, NULL, &got), CMN_EINVAL);
    assert_int_equal(cmn_bus_send(s, NULL, 0, &env), CMN_EINVAL);
    cmn_bus_close(s);
    cmn_bus_close(p);
}

/* Garbage, a wrong version and a wrong frame count are dropped with CMN_ECORRUPT, and
 * the socket keeps working. */
static void test_corrupt_frames_dropped(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    void *zctx = zmq_ctx_new();
    void *raw = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof(linger));
    assert_int_equal(zmq_connect(raw, f->ep), 0);

    Tep__Envelope *got = NULL;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(zmq_send(raw, junk, sizeof(junk), 0), (int)sizeof(junk));
    assert_int_equal(cmn_bus_recv_wait(r, 2000, NULL, NULL, &got), CMN_ECORRUPT);
    assert_null(got);

    Tep__Envelope env;
    Tep__Event ev;
    event_env(&env, &ev, 1);
    env.version = CMN_BUS_VERSION + 1;
    uint8_t buf[256];
    size_t n = tep__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(raw, buf, n, 0), (int)n);
    assert_int_equal(cmn_bus_recv_wait(r, 2000, NULL, NULL, &got), CMN_ECORRUPT);

    env.version = CMN_BUS_VERSION;
    n = tep__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(raw, "x", 1, ZMQ_SNDMORE), 1);
    assert_int_equal(zmq_send(raw, buf, n, 0), (int)n);
    assert_int_equal(cmn_bus_recv_wait(r, 2000, NULL, NULL, &got), CMN_ECORRUPT);

    assert_int_equal(zmq_send(raw, buf, n, 0), (int)n);
    assert_int_equal(cmn_bus_recv_wait(r, 2000, NULL, NULL, &got), 0);
    assert_int_equal(got->event->seq, 1);
    cmn_bus_env_free(got);

    zmq_close(raw);
    zmq_ctx_term(zctx);
    cmn_bus_close(r);
}

static void test_request_timeout(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    Tep__Envelope req, *resp = NULL;
    Tep__Event ev;
    event_env(&req, &ev, 1);
    assert_int_equal(cmn_bus_request(f->bus, f->ep, &req, 150, &resp), CMN_ETIMEOUT);
    assert_null(resp);
    cmn_bus_close(r); /* it got the request but never answered */
}

/* A responder thread answers first with a stale request_id, then with the right one:
 * cmn_bus_request skips the stale reply. */
typedef struct {
    cmn_bus_sock *router;
    int ok;
} responder;

static void *respond(void *arg)
{
    responder *rs = arg;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    Tep__Envelope *got = NULL;
    if (cmn_bus_recv_wait(rs->router, 3000, ident, &ilen, &got) != 0)
        return NULL;
    Tep__Envelope reply;
    Tep__Error e;
    tep__error__init(&e);
    cmn_bus_env_init(&reply, "responder", got->request_id + 1);
    reply.body_case = TEP__ENVELOPE__BODY_ERROR;
    reply.error = &e;
    e.err = -99;
    int err = cmn_bus_send(rs->router, ident, ilen, &reply);
    reply.request_id = got->request_id;
    e.err = CMN_EDENIED;
    if (!err)
        err = cmn_bus_send(rs->router, ident, ilen, &reply);
    rs->ok = err == 0;
    cmn_bus_env_free(got);
    return NULL;
}

static void test_request_skips_other_ids(void **state)
{
    fixture *f = *state;
    responder rs = {0};
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &rs.router), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, respond, &rs), 0);
    Tep__Envelope req, *resp = NULL;
    Tep__Event ev;
    event_env(&req, &ev, 3);
    assert_int_equal(cmn_bus_request(f->bus, f->ep, &req, 3000, &resp), 0);
    pthread_join(th, NULL);
    assert_true(rs.ok);
    assert_int_equal(resp->request_id, req.request_id);
    assert_int_equal(resp->body_case, TEP__ENVELOPE__BODY_ERROR);
    assert_int_equal(resp->error->err, CMN_EDENIED);
    cmn_bus_env_free(resp);
    cmn_bus_close(rs.router);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_init_fresh_ids),
        cmocka_unit_test_setup_teardown(test_recv_empty_is_eagain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_missing_dir_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_router_dealer_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pub_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_frames_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_skips_other_ids, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
