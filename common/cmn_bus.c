/* The internal bus over ZeroMQ: one packed tep.Envelope per message (see cmn_bus.h).
 *
 * Frames on the wire:
 *   DEALER -> ROUTER   [payload]           (the ROUTER sees [identity][payload])
 *   ROUTER -> DEALER   [identity][payload] (the DEALER sees [payload])
 *   PUB    -> SUB      ["ev"][payload]
 *
 * Payloads may carry key material (SyncResponse credentials, AdminResponse Kpm):
 * every buffer we own is wiped before it is released. ZeroMQ's own internal copies
 * are out of our reach; the bus is ipc:// with 0700 directories or CURVE-protected
 * (cmn_bus_curve.c). */
#include "cmn_bus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cmn_bus_curve.h"
#include "cmn_clock.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

#define BUS_TOPIC "ev"
#define BUS_TOPIC_LEN 2
#define BUS_MAX_FRAMES 2

struct cmn_bus {
    void *zctx;
    cmn_curve *curve; /* NULL: no CURVE (cmn_bus_curve_enable) */
};

struct cmn_bus_sock {
    void *z;
    cmn_bus_kind kind;
};

/* ZeroMQ errno -> CMN_E*. */
static int bus_err(int e)
{
    switch (e) {
    case EAGAIN:
        return CMN_EAGAIN;
    case ENOMEM:
        return CMN_ENOMEM;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
        return CMN_EINVAL;
    default:
        return CMN_EBUS;
    }
}

int cmn_bus_new(cmn_bus **ret_bus)
{
    cmn_bus *bus = calloc(1, sizeof(*bus));
    if (bus == NULL)
        return CMN_ENOMEM;
    bus->zctx = zmq_ctx_new();
    if (bus->zctx == NULL) {
        free(bus);
        return CMN_EBUS;
    }
    *ret_bus = bus;
    return 0;
}

void cmn_bus_free(cmn_bus *bus)
{
    if (bus == NULL)
        return;
    if (bus->curve != NULL) {
        zmq_ctx_shutdown(bus->zctx); /* wakes the ZAP thread with ETERM */
        cmn_curve_stop(bus->curve);
    }
    /* Sockets are closed with linger 0, so term does not wait for peers. */
    while (zmq_ctx_term(bus->zctx) != 0 && errno == EINTR)
        ;
    cmn_curve_free(bus->curve);
    free(bus);
}

static int zmq_type(cmn_bus_kind kind)
{
    switch (kind) {
    case CMN_BUS_ROUTER:
        return ZMQ_ROUTER;
    case CMN_BUS_DEALER:
        return ZMQ_DEALER;
    case CMN_BUS_PUB:
        return ZMQ_PUB;
    case CMN_BUS_SUB:
        return ZMQ_SUB;
    }
    return -1;
}

int cmn_bus_curve_enable(cmn_bus *bus, const cmn_bus_curve *cfg)
{
    if (bus == NULL || cfg == NULL)
        return CMN_EINVAL;
    if (!cfg->enabled)
        return 0;
    if (bus->curve != NULL)
        return CMN_ESTATE;
    return cmn_curve_start(bus->zctx, cfg, &bus->curve);
}

/* A connecting socket given "EP1, EP2, ...": connected to each (CURVE server key per
 * endpoint, set before its connect), with ZMQ_IMMEDIATE so that a DEALER spreads its
 * messages only over the connections that are up: a dead replica's pipe is dropped at
 * once instead of queueing a share of the requests for a peer that is gone. ZMTP
 * heartbeats drop a connection whose peer stopped answering without closing it (a
 * frozen process, a host cut off by the network) the same way. */
static int connect_list(const cmn_bus *bus, cmn_bus_sock *s, const char *list)
{
    int immediate = 1, ivl = CMN_BUS_HEARTBEAT_IVL_MS, timeout = CMN_BUS_HEARTBEAT_TIMEOUT_MS;
    char one[512];
    size_t n = 0;
    const char *p = list;

    if (zmq_setsockopt(s->z, ZMQ_IMMEDIATE, &immediate, sizeof(immediate)) != 0 ||
        zmq_setsockopt(s->z, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl)) != 0 ||
        zmq_setsockopt(s->z, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof(timeout)) != 0)
        return bus_err(errno);
    for (;;) { /* every segment: an empty one (",," or a trailing comma) is refused */
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t a = 0;
        int rc;

        while (a < len && p[a] == ' ')
            a++;
        while (len > a && p[len - 1] == ' ')
            len--;
        if (len == a || len - a >= sizeof(one) || ++n > CMN_BUS_ENDPOINTS_MAX)
            return CMN_EINVAL;
        memcpy(one, p + a, len - a);
        one[len - a] = '\0';
        if ((rc = cmn_curve_apply(bus->curve, s->z, false, one)) != 0)
            return rc;
        if (zmq_connect(s->z, one) != 0)
            return bus_err(errno);
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

static int sock_setup(const cmn_bus *bus, cmn_bus_sock *s, const char *endpoint)
{
    int linger = 0;
    bool bind;
    int rc;

    if (zmq_setsockopt(s->z, ZMQ_LINGER, &linger, sizeof(linger)) != 0)
        return bus_err(errno);
    if (s->kind == CMN_BUS_SUB && zmq_setsockopt(s->z, ZMQ_SUBSCRIBE, "", 0) != 0)
        return bus_err(errno);
    bind = s->kind == CMN_BUS_ROUTER || s->kind == CMN_BUS_PUB;
    if (!bind && strchr(endpoint, ',') != NULL)
        return connect_list(bus, s, endpoint);
    rc = cmn_curve_apply(bus->curve, s->z, bind, endpoint);
    if (rc != 0)
        return rc;
    rc = bind ? zmq_bind(s->z, endpoint) : zmq_connect(s->z, endpoint);
    if (rc != 0)
        return bus_err(errno);
    return 0;
}

int cmn_bus_ipc_dir(const char *endpoint)
{
    char path[4096];
    char *slash;

    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    if ((size_t)snprintf(path, sizeof(path), "%s", endpoint + 6) >= sizeof(path))
        return CMN_ERANGE;
    slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return 0;
    *slash = '\0';
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return CMN_EIO;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return CMN_EIO;
    return 0;
}

int cmn_bus_open(cmn_bus *bus, cmn_bus_kind kind, const char *endpoint, cmn_bus_sock **ret)
{
    int type = zmq_type(kind);
    cmn_bus_sock *s;
    int rc;

    if (bus == NULL || endpoint == NULL || type < 0)
        return CMN_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return CMN_ENOMEM;
    s->kind = kind;
    s->z = zmq_socket(bus->zctx, type);
    if (s->z == NULL) {
        rc = bus_err(errno);
        free(s);
        return rc;
    }
    rc = sock_setup(bus, s, endpoint);
    if (rc != 0) {
        cmn_bus_close(s);
        return rc;
    }
    *ret = s;
    return 0;
}

void cmn_bus_close(cmn_bus_sock *s)
{
    if (s == NULL)
        return;
    zmq_close(s->z);
    free(s);
}

/* ZMQ_FD signals "the socket's state may have changed", not "a message is waiting",
 * and only on transitions (edge-like). Callers must therefore, each time it polls
 * readable (and on every loop tick), call cmn_bus_recv until it returns CMN_EAGAIN;
 * cmn_bus_recv consults ZMQ_EVENTS implicitly through its non-blocking receive. */
int cmn_bus_fd(cmn_bus_sock *s)
{
    int fd = -1;
    size_t len = sizeof(fd);
    if (s == NULL)
        return CMN_EINVAL;
    if (zmq_getsockopt(s->z, ZMQ_FD, &fd, &len) != 0)
        return bus_err(errno);
    return fd;
}

static int send_frame(cmn_bus_sock *s, const void *buf, size_t len, int more)
{
    int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);
    while (zmq_send(s->z, buf, len, flags) < 0) {
        if (errno != EINTR)
            return bus_err(errno);
    }
    return 0;
}

/* Never blocks: CMN_EAGAIN when the peer's queue is full (high-water mark). A ROUTER
 * silently drops messages for an identity that is not connected (ZeroMQ semantics). */
int cmn_bus_send(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, const Tep__Envelope *env)
{
    size_t len;
    uint8_t *buf;
    int rc;

    if (s == NULL || env == NULL || s->kind == CMN_BUS_SUB)
        return CMN_EINVAL;
    if (s->kind == CMN_BUS_ROUTER && (ident == NULL || ilen == 0 || ilen > CMN_BUS_IDENT_MAX))
        return CMN_EINVAL;
    len = tep__envelope__get_packed_size(env);
    buf = malloc(len ? len : 1);
    if (buf == NULL)
        return CMN_ENOMEM;
    tep__envelope__pack(env, buf);
    rc = 0;
    if (s->kind == CMN_BUS_ROUTER)
        rc = send_frame(s, ident, ilen, 1);
    else if (s->kind == CMN_BUS_PUB)
        rc = send_frame(s, BUS_TOPIC, BUS_TOPIC_LEN, 1);
    if (!rc)
        rc = send_frame(s, buf, len, 0);
    cmn_free_secret(buf, len);
    return rc;
}

/* One whole multipart message into frames[0..*ret_n-1]; frames beyond BUS_MAX_FRAMES
 * are received and discarded, *ret_n then exceeds BUS_MAX_FRAMES. */
static int recv_frames(cmn_bus_sock *s, zmq_msg_t frames[BUS_MAX_FRAMES], size_t *ret_n)
{
    size_t n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_t *m = n < BUS_MAX_FRAMES ? &frames[n] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s->z, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int e = errno;
            zmq_msg_close(m);
            if (e == EINTR && n == 0)
                continue;
            *ret_n = n < BUS_MAX_FRAMES ? n : BUS_MAX_FRAMES;
            return bus_err(e);
        }
        more = zmq_msg_more(m);
        if (m == &tmp) {
            cmn_wipe(zmq_msg_data(m), zmq_msg_size(m));
            zmq_msg_close(m);
        }
        n++;
    }
    *ret_n = n;
    return 0;
}

static void close_frames(zmq_msg_t *frames, size_t n)
{
    for (size_t i = 0; i < n && i < BUS_MAX_FRAMES; i++) {
        cmn_wipe(zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]));
        zmq_msg_close(&frames[i]);
    }
}

static size_t expected_frames(cmn_bus_kind kind)
{
    return (kind == CMN_BUS_ROUTER || kind == CMN_BUS_SUB) ? 2 : 1;
}

static int decode_payload(zmq_msg_t *m, Tep__Envelope **ret_env)
{
    Tep__Envelope *env =
        tep__envelope__unpack(NULL, zmq_msg_size(m), (const uint8_t *)zmq_msg_data(m));
    if (env == NULL)
        return CMN_ECORRUPT;
    if (env->version != CMN_BUS_VERSION) {
        cmn_bus_env_free(env);
        return CMN_ECORRUPT;
    }
    *ret_env = env;
    return 0;
}

static int check_prefix(cmn_bus_sock *s, zmq_msg_t *first, uint8_t *ret_ident, size_t *ret_ilen)
{
    size_t len = zmq_msg_size(first);
    if (s->kind == CMN_BUS_SUB)
        return (len == BUS_TOPIC_LEN && memcmp(zmq_msg_data(first), BUS_TOPIC, len) == 0)
                   ? 0
                   : CMN_ECORRUPT;
    if (len == 0 || len > CMN_BUS_IDENT_MAX)
        return CMN_ECORRUPT;
    if (ret_ident != NULL)
        memcpy(ret_ident, zmq_msg_data(first), len);
    if (ret_ilen != NULL)
        *ret_ilen = len;
    return 0;
}

/* The "User-Id" property of m (the ZAP handler's user id: the client's Z85 key). */
static void peer_of(zmq_msg_t *m, char ret_peer[CMN_BUS_PEER_MAX])
{
    const char *uid = zmq_msg_gets(m, "User-Id");
    ret_peer[0] = '\0';
    if (uid != NULL && strlen(uid) < CMN_BUS_PEER_MAX)
        memcpy(ret_peer, uid, strlen(uid) + 1);
}

int cmn_bus_recv(cmn_bus_sock *s, uint8_t *ret_ident, size_t *ret_ilen, Tep__Envelope **ret_env)
{
    return cmn_bus_recv_peer(s, ret_ident, ret_ilen, NULL, ret_env);
}

int cmn_bus_recv_peer(cmn_bus_sock *s, uint8_t *ret_ident, size_t *ret_ilen,
                      char ret_peer[CMN_BUS_PEER_MAX], Tep__Envelope **ret_env)
{
    zmq_msg_t frames[BUS_MAX_FRAMES];
    size_t n = 0;
    int rc;
    size_t want;
    if (ret_peer != NULL)
        ret_peer[0] = '\0';
    if (s == NULL || ret_env == NULL || s->kind == CMN_BUS_PUB)
        return CMN_EINVAL;
    rc = recv_frames(s, frames, &n);
    if (rc)
        goto out;
    want = expected_frames(s->kind);
    if (n != want) {
        rc = CMN_ECORRUPT;
        goto out;
    }
    if (want == 2) {
        rc = check_prefix(s, &frames[0], ret_ident, ret_ilen);
        if (rc)
            goto out;
    }
    rc = decode_payload(&frames[want - 1], ret_env);
    if (!rc && ret_peer != NULL)
        peer_of(&frames[want - 1], ret_peer);
out:
    close_frames(frames, n);
    return rc;
}

static int wait_readable(cmn_bus_sock *s, int timeout_ms)
{
    zmq_pollitem_t item = {.socket = s->z, .events = ZMQ_POLLIN};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : bus_err(errno);
    return rc;
}

int cmn_bus_recv_wait(cmn_bus_sock *s, int timeout_ms, uint8_t *ret_ident, size_t *ret_ilen,
                      Tep__Envelope **ret_env)
{
    int64_t deadline;

    if (s == NULL)
        return CMN_EINVAL;
    deadline = cmn_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int rc = cmn_bus_recv(s, ret_ident, ret_ilen, ret_env);
        int64_t left;

        if (rc != CMN_EAGAIN)
            return rc;
        left = deadline - cmn_mono_ms();
        if (left <= 0)
            return CMN_ETIMEOUT;
        rc = wait_readable(s, (int)left);
        if (rc < 0)
            return rc;
    }
}

int cmn_bus_request(cmn_bus *bus, const char *endpoint, const Tep__Envelope *req, int timeout_ms,
                    Tep__Envelope **ret_resp)
{
    cmn_bus_sock *s = NULL;
    int rc;
    int64_t deadline;
    if (req == NULL || ret_resp == NULL)
        return CMN_EINVAL;
    rc = cmn_bus_open(bus, CMN_BUS_DEALER, endpoint, &s);
    if (rc)
        return rc;
    rc = cmn_bus_send(s, NULL, 0, req);
    deadline = cmn_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (!rc) {
        int64_t left = deadline - cmn_mono_ms();
        Tep__Envelope *resp = NULL;
        rc = cmn_bus_recv_wait(s, left > 0 ? (int)left : 0, NULL, NULL, &resp);
        if (rc == CMN_ECORRUPT) {
            rc = 0; /* a stray undecodable reply: keep waiting for ours */
            continue;
        }
        if (rc)
            break;
        if (resp->request_id == req->request_id) {
            *ret_resp = resp;
            break;
        }
        cmn_bus_env_free(resp); /* a late answer to someone's earlier request */
    }
    cmn_bus_close(s);
    return rc;
}

static void wipe_pb_bytes(ProtobufCBinaryData *b)
{
    if (b != NULL && b->data != NULL && b->len)
        cmn_wipe(b->data, b->len);
}

static void wipe_enrolee(Tep__Enrolee *e)
{
    if (e != NULL)
        wipe_pb_bytes(&e->kpm);
}

static void wipe_secrets(Tep__Envelope *env)
{
    switch (env->body_case) {
    case TEP__ENVELOPE__BODY_SYNC_RESP:
        for (size_t i = 0; env->sync_resp != NULL && i < env->sync_resp->n_items; i++) {
            Tep__SyncItem *it = env->sync_resp->items[i];
            if (it != NULL && it->credential != NULL)
                wipe_pb_bytes(&it->credential->key);
        }
        break;
    case TEP__ENVELOPE__BODY_ADMIN_REQ:
        if (env->admin_req != NULL)
            wipe_enrolee(env->admin_req->enrolee);
        if (env->admin_req != NULL && env->admin_req->gba_subscriber != NULL) {
            wipe_pb_bytes(&env->admin_req->gba_subscriber->k);
            wipe_pb_bytes(&env->admin_req->gba_subscriber->opc);
        }
        break;
    case TEP__ENVELOPE__BODY_ZN_RESP:
        if (env->zn_resp != NULL)
            wipe_pb_bytes(&env->zn_resp->ks_naf);
        break;
    case TEP__ENVELOPE__BODY_ADMIN_RESP:
        for (size_t i = 0; env->admin_resp != NULL && i < env->admin_resp->n_enrolees; i++)
            wipe_enrolee(env->admin_resp->enrolees[i]);
        break;
    default:
        break;
    }
}

/* For envelopes from cmn_bus_recv (unpacked by protobuf-c): wipes Credential.key in
 * SyncResponse items, Enrolee.kpm and GbaSubscriber K/OPc in admin messages and
 * ZnResponse.ks_naf, then frees. */
void cmn_bus_env_free(Tep__Envelope *env)
{
    if (env == NULL)
        return;
    wipe_secrets(env);
    tep__envelope__free_unpacked(env, NULL);
}

/* Request ids: a random 64-bit start, then a counter, so that ids from one process
 * never repeat and ids of two processes (or two runs) are unlikely to collide. Not
 * thread-safe, like the rest of the bus (one event loop per daemon). */
static uint64_t next_request_id(void)
{
    static uint64_t next;
    static bool seeded;
    if (!seeded) {
        if (cmn_random((uint8_t *)&next, sizeof(next)) != 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            next = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
        }
        seeded = true;
    }
    if (++next == 0) /* 0 means "give me a fresh one" */
        ++next;
    return next;
}

void cmn_bus_env_init(Tep__Envelope *env, const char *sender, uint64_t request_id)
{
    tep__envelope__init(env);
    env->version = CMN_BUS_VERSION;
    env->request_id = request_id ? request_id : next_request_id();
    /* protobuf-c never writes through a string field on pack; "" is its default. */
    env->sender = (char *)(sender != NULL ? sender : "");
}

/* ---- connection events ------------------------------------------------------------- */

int cmn_bus_monitor(cmn_bus *bus, cmn_bus_sock *s, cmn_bus_sock **ret_mon)
{
    static unsigned serial; /* one inproc endpoint per monitor (one thread opens them) */
    char ep[64];
    int linger = 0;
    cmn_bus_sock *m;

    if (bus == NULL || s == NULL || ret_mon == NULL)
        return CMN_EINVAL;
    snprintf(ep, sizeof(ep), "inproc://cmn-bus-monitor-%u", ++serial);
    if (zmq_socket_monitor(s->z, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return bus_err(errno);
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        zmq_socket_monitor(s->z, NULL, 0);
        return CMN_ENOMEM;
    }
    m->kind = CMN_BUS_SUB; /* receive only; never decoded as an Envelope */
    m->z = zmq_socket(bus->zctx, ZMQ_PAIR);
    if (m->z == NULL || zmq_setsockopt(m->z, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_connect(m->z, ep) != 0) {
        int rc = bus_err(errno);
        if (m->z != NULL)
            zmq_close(m->z);
        free(m);
        zmq_socket_monitor(s->z, NULL, 0);
        return rc;
    }
    *ret_mon = m;
    return 0;
}

/* A monitor message: [uint16 event, uint32 value][endpoint]. */
int cmn_bus_monitor_recv(cmn_bus_sock *mon, unsigned *ret_event)
{
    zmq_msg_t frames[BUS_MAX_FRAMES];
    size_t n = 0;
    uint16_t ev;
    int rc;

    if (mon == NULL || ret_event == NULL)
        return CMN_EINVAL;
    rc = recv_frames(mon, frames, &n);
    if (!rc && (n != 2 || zmq_msg_size(&frames[0]) != 6))
        rc = CMN_ECORRUPT;
    if (!rc) {
        memcpy(&ev, zmq_msg_data(&frames[0]), sizeof(ev));
        *ret_event = ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ? CMN_BUS_EV_CONNECTED : 0;
    }
    close_frames(frames, n);
    return rc;
}

int cmn_bus_msg_sha256(const ProtobufCMessage *m, uint8_t ret[CMN_SHA256_LEN])
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    int rc;

    if (buf == NULL)
        return CMN_ENOMEM;
    protobuf_c_message_pack(m, buf);
    rc = cmn_sha256(buf, len, ret);
    cmn_free_secret(buf, len);
    return rc;
}

int cmn_bus_curve_public(const cmn_bus *bus, char ret_z85[CMN_BUS_PEER_MAX])
{
    ret_z85[0] = '\0';
    if (bus == NULL || bus->curve == NULL)
        return CMN_ENOTFOUND;
    snprintf(ret_z85, CMN_BUS_PEER_MAX, "%s", cmn_curve_public(bus->curve));
    return 0;
}
