/* cmn_bus: envelopes over ZeroMQ ROUTER/DEALER and PUB/SUB on ipc:// in a temp dir, and
 * CURVE over tcp:// on loopback (key files, admitted and refused clients). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cmn_bus.h"
#include "cmn_bus_peers.h"
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
    char path[128];
    cmn_bus_free(f->bus);
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

/* cmn_bus_ipc_dir makes the missing directories of an ipc:// path (0700), and then the
 * bind that failed above succeeds; other endpoints are left alone. */
static void test_ipc_dir_made(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    char ep[160], path[160];
    struct stat st;

    snprintf(ep, sizeof(ep), "ipc://%s/no/such/s.ipc", f->dir);
    assert_int_equal(cmn_bus_ipc_dir(ep), 0);
    assert_int_equal(cmn_bus_ipc_dir(ep), 0); /* already there */
    snprintf(path, sizeof(path), "%s/no/such", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, ep, &r), 0);
    cmn_bus_close(r);
    assert_int_equal(cmn_bus_ipc_dir("tcp://127.0.0.1:5555"), 0);
    snprintf(path, sizeof(path), "%s/no/such/s.ipc", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/no/such", f->dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/no", f->dir);
    rmdir(path);
}

/* DEALER asks, ROUTER answers with a credential; the DEALER gets it with its id. */
static void test_router_dealer_round_trip(void **state)
{
    Tep__SyncItem item, *items[1] = {&item};
    fixture *f = *state;
    cmn_bus_sock *r = NULL, *d = NULL;
    Tep__Envelope req;
    Tep__SyncRequest sr;
    size_t ilen;
    Tep__Envelope *got;
    Tep__Envelope resp;
    Tep__SyncResponse srs;
    Tep__Event ev;
    Tep__Credential cred;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    uint8_t key[32];
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_DEALER, f->ep, &d), 0);

    cmn_bus_env_init(&req, "tep-cse", 0);
    tep__sync_request__init(&sr);
    sr.after_seq = 7;
    sr.target_id = "/tep-cse";
    sr.max = 256;
    req.body_case = TEP__ENVELOPE__BODY_SYNC_REQ;
    req.sync_req = &sr;
    assert_int_equal(cmn_bus_send(d, NULL, 0, &req), 0);

    ilen = 0;
    got = NULL;
    assert_int_equal(cmn_bus_recv_wait(r, 2000, ident, &ilen, &got), 0);
    assert_true(ilen > 0);
    assert_int_equal(got->body_case, TEP__ENVELOPE__BODY_SYNC_REQ);
    assert_int_equal(got->sync_req->after_seq, 7);
    assert_string_equal(got->sync_req->target_id, "/tep-cse");
    assert_string_equal(got->sender, "tep-cse");

    memset(key, 0xa5, sizeof(key));
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
    Tep__Envelope env, *got = NULL;
    fixture *f = *state;
    cmn_bus_sock *p = NULL, *s = NULL;
    Tep__Event ev;
    int rc;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->ep, &p), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_SUB, f->ep, &s), 0);
    rc = CMN_ETIMEOUT;
    for (int i = 0; i < 100 && rc == CMN_ETIMEOUT; i++) {
        event_env(&env, &ev, 5);
        assert_int_equal(cmn_bus_send(p, NULL, 0, &env), 0);
        rc = cmn_bus_recv_wait(s, 50, NULL, NULL, &got);
    }
    assert_int_equal(rc, 0);
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

/* Whether mon reports a connection within wait_ms (its fd polled, as daemons do). */
static bool monitor_connected(cmn_bus_sock *mon, int wait_ms)
{
    struct pollfd pfd = {.fd = cmn_bus_fd(mon), .events = POLLIN};
    unsigned ev = 0;
    for (int t = 0; t < wait_ms; t += 20) {
        while (cmn_bus_monitor_recv(mon, &ev) == 0)
            if (ev == CMN_BUS_EV_CONNECTED)
                return true;
        poll(&pfd, 1, 20);
    }
    return false;
}

/* A SUB's monitor reports its connection when the PUB comes up, and again after the
 * PUB went away and came back (what was published meanwhile is lost: the owner learns
 * when to catch up); nothing while the PUB is away. */
static void test_monitor_reports_reconnection(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *p = NULL, *s = NULL, *mon = NULL;
    unsigned ev = 0;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_SUB, f->ep, &s), 0);
    assert_int_equal(cmn_bus_monitor(f->bus, s, &mon), 0);
    assert_int_equal(cmn_bus_monitor_recv(mon, &ev), CMN_EAGAIN);
    assert_false(monitor_connected(mon, 200));
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->ep, &p), 0);
    assert_true(monitor_connected(mon, 3000));
    cmn_bus_close(p);
    assert_false(monitor_connected(mon, 300));
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->ep, &p), 0);
    assert_true(monitor_connected(mon, 3000));
    assert_int_equal(cmn_bus_monitor(f->bus, NULL, &mon), CMN_EINVAL);
    assert_int_equal(cmn_bus_monitor_recv(NULL, &ev), CMN_EINVAL);
    cmn_bus_close(mon);
    cmn_bus_close(s);
    cmn_bus_close(p);
}

/* Garbage, a wrong version and a wrong frame count are dropped with CMN_ECORRUPT, and
 * the socket keeps working. */
static void test_corrupt_frames_dropped(void **state)
{
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    void *zctx;
    void *raw;
    int linger;
    Tep__Envelope *got;
    Tep__Envelope env;
    Tep__Event ev;
    size_t n;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    uint8_t buf[256];
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
    zctx = zmq_ctx_new();
    raw = zmq_socket(zctx, ZMQ_DEALER);
    linger = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof(linger));
    assert_int_equal(zmq_connect(raw, f->ep), 0);

    got = NULL;
    assert_int_equal(zmq_send(raw, junk, sizeof(junk), 0), (int)sizeof(junk));
    assert_int_equal(cmn_bus_recv_wait(r, 2000, NULL, NULL, &got), CMN_ECORRUPT);
    assert_null(got);

    event_env(&env, &ev, 1);
    env.version = CMN_BUS_VERSION + 1;
    n = tep__envelope__pack(&env, buf);
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
    Tep__Envelope req, *resp = NULL;
    fixture *f = *state;
    cmn_bus_sock *r = NULL;
    Tep__Event ev;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &r), 0);
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
    Tep__Envelope reply;
    Tep__Error e;
    int rc;
    if (cmn_bus_recv_wait(rs->router, 3000, ident, &ilen, &got) != 0)
        return NULL;
    tep__error__init(&e);
    cmn_bus_env_init(&reply, "responder", got->request_id + 1);
    reply.body_case = TEP__ENVELOPE__BODY_ERROR;
    reply.error = &e;
    e.err = -99;
    rc = cmn_bus_send(rs->router, ident, ilen, &reply);
    reply.request_id = got->request_id;
    e.err = CMN_EDENIED;
    if (!rc)
        rc = cmn_bus_send(rs->router, ident, ilen, &reply);
    rs->ok = rc == 0;
    cmn_bus_env_free(got);
    return NULL;
}

static void test_request_skips_other_ids(void **state)
{
    Tep__Envelope req, *resp = NULL;
    fixture *f = *state;
    responder rs = {0};
    pthread_t th;
    Tep__Event ev;
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->ep, &rs.router), 0);
    assert_int_equal(pthread_create(&th, NULL, respond, &rs), 0);
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

/* ---- CURVE over tcp:// ------------------------------------------------------------- */

typedef struct {
    char dir[64];     /* temp root */
    char keys[96];    /* the server's trust list (shared key dir) */
    char other[96];   /* an outsider's own key dir */
    char bind_ep[64]; /* tcp://127.0.0.1:PORT */
    char conn_ep[64]; /* tcp://localhost:PORT: the server is named "localhost" */
    cmn_bus *server, *client;
    cmn_bus_sock *router; /* the server's ROUTER, bound once (a rebind can race the close) */
} curve_fixture;

static int free_tcp_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void curve_cfg(cmn_bus_curve *c, char *key_dir, char *key_file, char *name)
{
    c->enabled = true;
    c->key_dir = key_dir;
    c->key_file = key_file;
    c->name = name;
}

/* A bus with CURVE enabled: key file <root>/<name>.key, public key in key_dir. */
static cmn_bus *curve_bus(const curve_fixture *f, const char *key_dir, const char *name)
{
    char file[160];
    cmn_bus_curve c;
    cmn_bus *bus = NULL;
    snprintf(file, sizeof(file), "%s/%s.key", f->dir, name);
    curve_cfg(&c, (char *)key_dir, file, (char *)name);
    assert_int_equal(cmn_bus_new(&bus), 0);
    assert_int_equal(cmn_bus_curve_enable(bus, &c), 0);
    return bus;
}

static int curve_setup(void **state)
{
    curve_fixture *f = calloc(1, sizeof(*f));
    int port;
    assert_non_null(f);
    strcpy(f->dir, "/tmp/tep-test-curve-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
    snprintf(f->other, sizeof(f->other), "%s/other", f->dir);
    port = free_tcp_port();
    snprintf(f->bind_ep, sizeof(f->bind_ep), "tcp://127.0.0.1:%d", port);
    snprintf(f->conn_ep, sizeof(f->conn_ep), "tcp://localhost:%d", port);
    f->server = curve_bus(f, f->keys, "localhost");
    *state = f;
    return 0;
}

static void rm_tree(const char *path)
{
    char sub[512];
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (e->d_type == DT_DIR)
            rm_tree(sub);
        else
            unlink(sub);
    }
    if (d != NULL)
        closedir(d);
    rmdir(path);
}

static int curve_teardown(void **state)
{
    curve_fixture *f = *state;
    cmn_bus_close(f->router);
    cmn_bus_free(f->client);
    cmn_bus_free(f->server);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void read_text(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, (int)len, fp));
    fclose(fp);
}

static void copy_file(const char *from, const char *to)
{
    char buf[128];
    FILE *fp;
    read_text(from, buf, sizeof(buf));
    fp = fopen(to, "w");
    assert_non_null(fp);
    fputs(buf, fp);
    fclose(fp);
}

/* Sends one request from a DEALER on client; returns 0 when the server's ROUTER got it
 * and the answer came back, or the first error (CMN_ETIMEOUT: the server never saw it).
 * Sockets are closed before any assertion, so a failure cannot hang the teardown. */
static int curve_try(curve_fixture *f, int wait_ms)
{
    cmn_bus_sock *d = NULL;
    Tep__Envelope req, *got = NULL;
    Tep__Event ev;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    int rc =
        f->router != NULL ? 0 : cmn_bus_open(f->server, CMN_BUS_ROUTER, f->bind_ep, &f->router);
    cmn_bus_sock *r = f->router;
    if (!rc)
        rc = cmn_bus_open(f->client, CMN_BUS_DEALER, f->conn_ep, &d);
    event_env(&req, &ev, 11);
    if (!rc)
        rc = cmn_bus_send(d, NULL, 0, &req);
    if (!rc)
        rc = cmn_bus_recv_wait(r, wait_ms, ident, &ilen, &got);
    if (!rc)
        rc = cmn_bus_send(r, ident, ilen, got);
    cmn_bus_env_free(got);
    got = NULL;
    if (!rc)
        rc = cmn_bus_recv_wait(d, wait_ms, NULL, NULL, &got);
    if (!rc && (got->request_id != req.request_id || got->event->seq != 11))
        rc = CMN_EPROTO;
    cmn_bus_env_free(got);
    cmn_bus_close(d);
    return rc;
}

static void curve_exchange(curve_fixture *f, bool ok)
{
    if (ok)
        assert_string_equal(cmn_strerror(curve_try(f, 3000)), cmn_strerror(0));
    else
        assert_int_equal(curve_try(f, 700), CMN_ETIMEOUT);
}

/* Keys are made on first use (secret 0600, public published) and kept: a second start
 * with the same key file publishes the same public key. */
static void test_curve_keys_created_and_kept(void **state)
{
    curve_fixture *f = *state;
    char path[160], pub1[128], pub2[128];
    struct stat st;
    snprintf(path, sizeof(path), "%s/localhost.key", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/localhost.pub", f->keys);
    read_text(path, pub1, sizeof(pub1));
    assert_int_equal(strlen(pub1), 41); /* 40 Z85 characters and a newline */
    unlink(path);
    cmn_bus_free(f->server);
    f->server = curve_bus(f, f->keys, "localhost");
    read_text(path, pub2, sizeof(pub2));
    assert_string_equal(pub1, pub2);
}

/* A client whose public key is in the shared key dir talks to the server. */
static void test_curve_known_client_served(void **state)
{
    curve_fixture *f = *state;
    f->client = curve_bus(f, f->keys, "client1");
    curve_exchange(f, true);
}

/* The ROUTER learns which key a request came with (the ZAP user id, cmn_bus_recv_peer):
 * client1's public key as published; an identity bound to it in cmn_bus_peers is the
 * only one it may claim (by name or inline z85:), a key bound twice speaks for none,
 * and without CURVE (ipc://) the peer is "" and claims nothing. */
static void test_curve_peer_is_the_client_key(void **state)
{
    curve_fixture *f = *state;
    cmn_bus_sock *d = NULL;
    Tep__Envelope req, *got = NULL;
    Tep__Event ev;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    char peer[CMN_BUS_PEER_MAX], pub[128], path[160], list[200], copy[160];
    cmn_bus_peers *peers = NULL;
    const char *bound = NULL;
    int rc;

    f->client = curve_bus(f, f->keys, "client1");
    assert_int_equal(cmn_bus_open(f->server, CMN_BUS_ROUTER, f->bind_ep, &f->router), 0);
    assert_int_equal(cmn_bus_open(f->client, CMN_BUS_DEALER, f->conn_ep, &d), 0);
    event_env(&req, &ev, 12);
    assert_int_equal(cmn_bus_send(d, NULL, 0, &req), 0);
    rc = CMN_EAGAIN;
    for (int i = 0; i < 300 && rc == CMN_EAGAIN; i++) {
        rc = cmn_bus_recv_peer(f->router, ident, &ilen, peer, &got);
        if (rc == CMN_EAGAIN)
            usleep(10000);
    }
    cmn_bus_close(d);
    assert_int_equal(rc, 0);
    cmn_bus_env_free(got);
    snprintf(path, sizeof(path), "%s/client1.pub", f->keys);
    read_text(path, pub, sizeof(pub));
    pub[40] = '\0';
    assert_string_equal(peer, pub);

    assert_int_equal(
        cmn_bus_peers_new("/tep-cse=client1, maf.tep.local=localhost", f->keys, &peers), 0);
    assert_int_equal(cmn_bus_peers_check(peers, peer, "/tep-cse", &bound), 0);
    assert_string_equal(bound, "/tep-cse");
    assert_int_equal(cmn_bus_peers_check(peers, peer, "/mn-cse1", &bound), CMN_EDENIED);
    assert_string_equal(bound, "/tep-cse");
    assert_int_equal(cmn_bus_peers_check(peers, "", "/tep-cse", &bound), CMN_EDENIED);
    assert_null(bound);
    cmn_bus_peers_free(peers);
    snprintf(list, sizeof(list), "/mn-cse1=z85:%s", pub);
    assert_int_equal(cmn_bus_peers_new(list, "/nonexistent", &peers), 0);
    assert_int_equal(cmn_bus_peers_check(peers, peer, "/mn-cse1", NULL), 0);
    assert_int_equal(cmn_bus_peers_check(peers, peer, "/tep-cse", &bound), CMN_EDENIED);
    cmn_bus_peers_free(peers);
    /* the same key under a second name, bound to a second identity: neither */
    snprintf(copy, sizeof(copy), "%s/client1-copy.pub", f->keys);
    copy_file(path, copy);
    assert_int_equal(cmn_bus_peers_new("/tep-cse=client1, /mn-cse1=client1-copy", f->keys, &peers),
                     0);
    assert_int_equal(cmn_bus_peers_check(peers, peer, "/tep-cse", &bound), CMN_EDENIED);
    assert_null(bound);
    cmn_bus_peers_free(peers);

    /* [bus] admin_keys: the proven key administers when listed, by name or inline; a key
     * of the trust list that is not listed does not, nor does "" (no CURVE) once there
     * is a list; without a list only "" does (ipc://), never a CURVE key */
    assert_int_equal(cmn_bus_keys_new("localhost, client1", f->keys, &peers), 0);
    assert_true(cmn_bus_keys_has(peers, peer));
    assert_true(cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    assert_false(cmn_bus_admin_allowed(peers, "", TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    assert_int_equal(cmn_bus_keys_new("localhost, missing", f->keys, &peers), 0);
    assert_false(
        cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE, "test"));
    assert_false(cmn_bus_admin_allowed(peers, "short", TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    snprintf(list, sizeof(list), "z85:%s", pub);
    assert_int_equal(cmn_bus_keys_new(list, "/nonexistent", &peers), 0);
    assert_true(cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    assert_int_equal(cmn_bus_keys_new("", f->keys, &peers), 0);
    assert_int_equal(cmn_bus_peers_count(peers), 0);
    assert_true(cmn_bus_admin_allowed(peers, "", TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    assert_false(cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    assert_int_equal(cmn_bus_keys_new("a b", f->keys, &peers), CMN_EINVAL);
    assert_null(peers);
    /* a daemon's admin table: its list and its own key (here the client's bus: client1),
     * not another's (the server's bus: localhost); none without a list */
    assert_int_equal(cmn_bus_admin_keys_new("missing", f->keys, f->client, &peers), 0);
    assert_int_equal(cmn_bus_peers_count(peers), 2);
    assert_true(cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    assert_int_equal(cmn_bus_admin_keys_new("missing", f->keys, f->server, &peers), 0);
    assert_false(cmn_bus_admin_allowed(peers, peer, TEP__ADMIN_REQUEST__OP__STATUS, "test"));
    cmn_bus_peers_free(peers);
    assert_int_equal(cmn_bus_admin_keys_new("", f->keys, f->client, &peers), 0);
    assert_int_equal(cmn_bus_peers_count(peers), 0);
    cmn_bus_peers_free(peers);
}

/* The admin_keys list is validated as configuration, and its consistency with the admin
 * endpoint: required on a tcp:// CURVE admin socket, refused elsewhere. */
static void test_admin_keys_validated(void **state)
{
    char err[512];
    (void)state;
    assert_int_equal(cmn_bus_keys_valid("", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_keys_valid("  ", err, sizeof(err)), 0);
    assert_int_equal(
        cmn_bus_keys_valid(" operator ,pki,z85:rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", err,
                           sizeof(err)),
        0);
    assert_int_equal(cmn_bus_keys_valid("operator,", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "empty item"));
    assert_int_equal(cmn_bus_keys_valid(".hidden", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "CURVE key name"));
    assert_int_equal(cmn_bus_keys_valid("z85:short", err, sizeof(err)), CMN_EINVAL);
    assert_int_equal(cmn_bus_keys_valid("ops, ops", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(cmn_bus_keys_valid("/tep-cse=cse", err, sizeof(err)), CMN_EINVAL);

    assert_int_equal(
        cmn_bus_admin_keys_check(NULL, "ipc:///run/a.ipc", false, "", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_admin_keys_check(NULL, "ipc:///run/a.ipc", true, "", err, sizeof(err)),
                     0);
    assert_int_equal(cmn_bus_admin_keys_check(NULL, "tcp://h:1", false, "", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_admin_keys_check(NULL, "tcp://h:1", true, "ops", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_admin_keys_check(NULL, "tcp://h:1", true, "", err, sizeof(err)),
                     CMN_ECONFIG);
    assert_non_null(strstr(err, "bus.admin_keys: a tcp:// admin socket with CURVE needs"));
    assert_int_equal(
        cmn_bus_admin_keys_check(NULL, "ipc:///run/a.ipc", true, "ops", err, sizeof(err)),
        CMN_ECONFIG);
    assert_non_null(strstr(err, "needs [bus] curve = true and a tcp:// admin endpoint"));
    assert_int_equal(cmn_bus_admin_keys_check(NULL, "tcp://h:1", false, "ops", err, sizeof(err)),
                     CMN_ECONFIG);
}

/* The peers list is validated as configuration. */
static void test_peers_list_validated(void **state)
{
    char err[256];
    (void)state;
    assert_int_equal(cmn_bus_peers_valid("", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_peers_valid("/tep-cse=cse, maf.tep.local=authz", err, sizeof(err)), 0);
    assert_int_equal(cmn_bus_peers_valid("tep-cse=cse!", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "CURVE key name"));
    assert_int_equal(cmn_bus_peers_valid("/a b=cse", err, sizeof(err)), CMN_EINVAL);
    assert_int_equal(cmn_bus_peers_valid("/a=z85:short", err, sizeof(err)), CMN_EINVAL);
    assert_int_equal(cmn_bus_peers_valid("/a=.hidden", err, sizeof(err)), CMN_EINVAL);
    assert_int_equal(cmn_bus_peers_valid("-bad-=cse", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "CSE-ID"));
    assert_int_equal(cmn_bus_peers_valid("/a=cse, /b=cse", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "two identities"));
    assert_int_equal(cmn_bus_peers_valid("/a=k1, /a=k2", err, sizeof(err)), CMN_EINVAL);
    assert_non_null(strstr(err, "twice"));
}

/* A client with the right server key but its own key outside the trust list (another
 * key dir) is refused by the ZAP handler: nothing reaches the server. Once its public
 * key is published into the shared dir, it is admitted without a restart. */
static void test_curve_unknown_client_refused(void **state)
{
    curve_fixture *f = *state;
    char from[160], to[160];
    assert_int_equal(mkdir(f->other, 0755), 0);
    snprintf(from, sizeof(from), "%s/localhost.pub", f->keys);
    snprintf(to, sizeof(to), "%s/localhost.pub", f->other);
    copy_file(from, to);
    f->client = curve_bus(f, f->other, "intruder");
    curve_exchange(f, false);
    snprintf(from, sizeof(from), "%s/intruder.pub", f->other);
    snprintf(to, sizeof(to), "%s/intruder.pub", f->keys);
    copy_file(from, to);
    curve_exchange(f, true);
}

/* A client that holds a wrong server key cannot complete the handshake. */
static void test_curve_wrong_server_key_refused(void **state)
{
    curve_fixture *f = *state;
    char from[160], to[160];
    assert_int_equal(mkdir(f->other, 0755), 0);
    f->client = curve_bus(f, f->other, "client2");
    snprintf(from, sizeof(from), "%s/client2.pub", f->other);
    snprintf(to, sizeof(to), "%s/client2.pub", f->keys);
    copy_file(from, to); /* the server admits client2 ... */
    snprintf(to, sizeof(to), "%s/localhost.pub", f->other);
    copy_file(from, to); /* ... but client2 expects a wrong key */
    curve_exchange(f, false);
}

/* With CURVE the monitor reports a connection only once CURVE's handshake succeeded:
 * not to a client holding a wrong server key, at once to one with the right key. */
static void test_curve_monitor_after_handshake(void **state)
{
    curve_fixture *f = *state;
    cmn_bus_sock *d = NULL, *mon = NULL;
    char from[160], to[160];
    cmn_bus *good;
    bool refused;
    bool connected;
    assert_int_equal(cmn_bus_open(f->server, CMN_BUS_ROUTER, f->bind_ep, &f->router), 0);
    assert_int_equal(mkdir(f->other, 0755), 0);
    f->client = curve_bus(f, f->other, "client3");
    snprintf(from, sizeof(from), "%s/client3.pub", f->other);
    snprintf(to, sizeof(to), "%s/client3.pub", f->keys);
    copy_file(from, to);
    snprintf(to, sizeof(to), "%s/localhost.pub", f->other);
    copy_file(from, to); /* a wrong server key */
    assert_int_equal(cmn_bus_open(f->client, CMN_BUS_DEALER, f->conn_ep, &d), 0);
    assert_int_equal(cmn_bus_monitor(f->client, d, &mon), 0);
    refused = !monitor_connected(mon, 700);
    cmn_bus_close(mon);
    cmn_bus_close(d);
    assert_true(refused);
    good = curve_bus(f, f->keys, "client4");
    assert_int_equal(cmn_bus_open(good, CMN_BUS_DEALER, f->conn_ep, &d), 0);
    assert_int_equal(cmn_bus_monitor(good, d, &mon), 0);
    connected = monitor_connected(mon, 3000);
    cmn_bus_close(mon);
    cmn_bus_close(d);
    cmn_bus_free(good);
    assert_true(connected);
}

/* No public key for the endpoint's host: opening a client socket fails; ipc:// sockets
 * on a CURVE bus are unaffected; bad configurations are rejected. */
static void test_curve_open_and_config_errors(void **state)
{
    curve_fixture *f = *state;
    cmn_bus_sock *s = NULL;
    char ep[160], file[160];
    cmn_bus_curve c;
    FILE *fp;
    assert_int_equal(cmn_bus_open(f->server, CMN_BUS_DEALER, "tcp://nosuchpeer:1", &s),
                     CMN_ENOTFOUND);
    snprintf(ep, sizeof(ep), "ipc://%s/plain.ipc", f->dir);
    assert_int_equal(cmn_bus_open(f->server, CMN_BUS_ROUTER, ep, &s), 0);
    cmn_bus_close(s);

    snprintf(file, sizeof(file), "%s/x.key", f->dir);
    assert_int_equal(cmn_bus_new(&f->client), 0);
    curve_cfg(&c, f->keys, file, "../escape");
    assert_int_equal(cmn_bus_curve_enable(f->client, &c), CMN_EINVAL);
    curve_cfg(&c, f->keys, "", "x");
    assert_int_equal(cmn_bus_curve_enable(f->client, &c), CMN_EINVAL);
    c.enabled = false;
    assert_int_equal(cmn_bus_curve_enable(f->client, &c), 0);
    /* a malformed key file is reported, never replaced */
    fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("not a key\n", fp);
    fclose(fp);
    curve_cfg(&c, f->keys, file, "x");
    assert_int_equal(cmn_bus_curve_enable(f->client, &c), CMN_ECORRUPT);
    /* enabling twice is a state error */
    assert_int_equal(cmn_bus_curve_enable(f->server, &c), CMN_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_init_fresh_ids),
        cmocka_unit_test_setup_teardown(test_recv_empty_is_eagain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_missing_dir_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipc_dir_made, setup, teardown),
        cmocka_unit_test_setup_teardown(test_router_dealer_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pub_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitor_reports_reconnection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_frames_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_skips_other_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_curve_keys_created_and_kept, curve_setup,
                                        curve_teardown),
        cmocka_unit_test_setup_teardown(test_curve_peer_is_the_client_key, curve_setup,
                                        curve_teardown),
        cmocka_unit_test(test_peers_list_validated),
        cmocka_unit_test_setup_teardown(test_curve_known_client_served, curve_setup,
                                        curve_teardown),
        cmocka_unit_test(test_admin_keys_validated),
        cmocka_unit_test_setup_teardown(test_curve_unknown_client_refused, curve_setup,
                                        curve_teardown),
        cmocka_unit_test_setup_teardown(test_curve_wrong_server_key_refused, curve_setup,
                                        curve_teardown),
        cmocka_unit_test_setup_teardown(test_curve_open_and_config_errors, curve_setup,
                                        curve_teardown),
        cmocka_unit_test_setup_teardown(test_curve_monitor_after_handshake, curve_setup,
                                        curve_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
