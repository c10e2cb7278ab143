/* The internal bus: ZeroMQ sockets carrying one protobuf-c tep.Envelope per message.
 * Frames: DEALER/REQ side sends [payload]; ROUTER sees [identity][payload] and replies
 * the same way; PUB sends [topic "ev"][payload]. Endpoints are ipc:// (one machine) or
 * tcp:// (CURVE, see cmn_bus_curve_enable). Daemons poll cmn_bus_fd() with their
 * other fds; the fd is ZMQ_FD (edge-like): after it polls readable, call recv until
 * CMN_EAGAIN. */
#ifndef TEP_CMN_BUS_H
#define TEP_CMN_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_config.h"
#include "cmn_crypto.h"
#include "tep.pb-c.h"

#define CMN_BUS_VERSION 1
#define CMN_BUS_IDENT_MAX 256

typedef struct cmn_bus cmn_bus; /* a ZeroMQ context */
typedef struct cmn_bus_sock cmn_bus_sock;

typedef enum {
    CMN_BUS_ROUTER, /* bind: request/reply server */
    CMN_BUS_DEALER, /* connect: asynchronous client */
    CMN_BUS_PUB,    /* bind */
    CMN_BUS_SUB,    /* connect, subscribed to everything */
} cmn_bus_kind;

/* Block SIGTERM/SIGINT/SIGHUP before this (ZeroMQ starts threads). */
int cmn_bus_new(cmn_bus **ret_bus);
void cmn_bus_free(cmn_bus *bus); /* closes nothing: close sockets first; NULL is fine */

/* For ROUTER/PUB the endpoint is bound, for DEALER/SUB connected. An ipc:// endpoint's
 * directory must exist (cmn_bus_ipc_dir). Linger is 0. A DEALER/SUB may be given up to
 * CMN_BUS_ENDPOINTS_MAX endpoints, comma-separated: it connects to each, with
 * ZMQ_IMMEDIATE (a DEALER round-robins over the connections that are up; with none up a
 * send fails at once with CMN_EAGAIN) and heartbeats (below). */
#define CMN_BUS_ENDPOINTS_MAX 16
/* ... and ZMTP heartbeats: a PING every IVL, the connection dropped (and left out of the
 * rotation until a new one completes its handshake) after TIMEOUT without traffic. */
#define CMN_BUS_HEARTBEAT_IVL_MS 1000
#define CMN_BUS_HEARTBEAT_TIMEOUT_MS 3000
int cmn_bus_open(cmn_bus *bus, cmn_bus_kind kind, const char *endpoint, cmn_bus_sock **ret);
/* For an ipc:// endpoint, makes the directories of its path that are missing, each 0700
 * (mkdir -p of the socket's directory: the bus's only protection on one host); for any
 * other endpoint, nothing. 0, CMN_ERANGE (path too long), CMN_EIO. */
int cmn_bus_ipc_dir(const char *endpoint);
void cmn_bus_close(cmn_bus_sock *s); /* NULL is fine */
int cmn_bus_fd(cmn_bus_sock *s);     /* for poll(); see above */

/* Sends env (packed). ident/ilen: the peer identity on a ROUTER, NULL otherwise. */
int cmn_bus_send(cmn_bus_sock *s, const uint8_t *ident, size_t ilen, const Tep__Envelope *env);
/* Non-blocking receive. On a ROUTER, ret_ident (CMN_BUS_IDENT_MAX bytes) and
 * ret_ilen get the peer identity. ret_env is owned by the caller: cmn_bus_env_free().
 * CMN_EAGAIN when nothing is waiting; CMN_ECORRUPT when a message does not decode or
 * has another version (the message is consumed and dropped). */
int cmn_bus_recv(cmn_bus_sock *s, uint8_t *ret_ident, size_t *ret_ilen, Tep__Envelope **ret_env);
/* As cmn_bus_recv, and ret_peer (CMN_BUS_PEER_MAX bytes) gets the sender's proven bus
 * identity: the Z85 CURVE public key the connection authenticated with (40 characters),
 * or "" when the connection has no CURVE (ipc://, or CURVE off). */
#define CMN_BUS_PEER_MAX 41
int cmn_bus_recv_peer(cmn_bus_sock *s, uint8_t *ret_ident, size_t *ret_ilen,
                      char ret_peer[CMN_BUS_PEER_MAX], Tep__Envelope **ret_env);
/* Waits up to timeout_ms for a message, then as cmn_bus_recv (CMN_ETIMEOUT). */
int cmn_bus_recv_wait(cmn_bus_sock *s, int timeout_ms, uint8_t *ret_ident, size_t *ret_ilen,
                      Tep__Envelope **ret_env);
void cmn_bus_env_free(Tep__Envelope *env); /* NULL is fine; wipes key bytes it carries */

/* One blocking round trip for tools (tepctl) and tests: fresh DEALER to endpoint, send,
 * wait up to timeout_ms for the reply with the same request_id, close. */
int cmn_bus_request(cmn_bus *bus, const char *endpoint, const Tep__Envelope *req, int timeout_ms,
                    Tep__Envelope **ret_resp);

/* ---- connection events (ZeroMQ socket monitor) -------------------------------------
 * A DEALER or SUB reconnects by itself, unseen; what a PUB sent meanwhile is lost. A
 * monitor tells its owner when a connection of s is up again, so that it can fetch what
 * it may have missed. CMN_BUS_EV_CONNECTED: a connection of s completed its ZeroMQ
 * handshake (ZMQ_EVENT_HANDSHAKE_SUCCEEDED: after CURVE's, when there is CURVE), at the
 * first connection and at each reconnection. */
#define CMN_BUS_EV_CONNECTED 1u

/* A monitor of s (a PAIR socket on inproc://, its fd edge-like as cmn_bus_fd's; poll it
 * with cmn_bus_fd(*ret_mon) and drain it with cmn_bus_monitor_recv). Close it with
 * cmn_bus_close() before s. */
int cmn_bus_monitor(cmn_bus *bus, cmn_bus_sock *s, cmn_bus_sock **ret_mon);
/* Non-blocking: the next event of a monitor (*ret_event: CMN_BUS_EV_*), CMN_EAGAIN when
 * none is waiting. */
int cmn_bus_monitor_recv(cmn_bus_sock *mon, unsigned *ret_event);

/* Initialises env (version, sender, a fresh request_id when request_id is 0). */
void cmn_bus_env_init(Tep__Envelope *env, const char *sender, uint64_t request_id);

/* ---- CURVE: tcp:// between hosts (docs/internals.md "Bus security") ----------------
 * Every process has a key pair: its secret key in key_file (Z85; created 0600 on first
 * use, kept in the process's own data directory) and its public key published as
 * key_dir/<name>.pub. key_dir is shared by the processes of one platform and is the
 * trust list. Once enabled on a bus, every tcp:// socket opened on it uses CURVE:
 *  - binders (ROUTER, PUB) are CURVE servers with their own key and admit a client only
 *    when its public key is one of key_dir/ *.pub (a ZAP handler, checked per handshake,
 *    so keys published later are admitted without a restart);
 *  - connecters (DEALER, SUB) to tcp://HOST:PORT authenticate the server with the key
 *    key_dir/HOST.pub: a server's name is the host name its clients use (the
 *    docker-compose service name); cmn_bus_open fails with CMN_ENOTFOUND when absent.
 * A refused peer gets no error: its messages never arrive (ZeroMQ semantics).
 * ipc:// sockets are unaffected: they rely on file permissions. */
typedef struct {
    bool enabled;   /* false: cmn_bus_curve_enable() does nothing */
    char *key_dir;  /* shared public keys; created 0755 if missing */
    char *key_file; /* own secret key */
    char *name;     /* [A-Za-z0-9._-]+: own public key is key_dir/<name>.pub */
} cmn_bus_curve;

/* The [bus] curve, curve_dir, curve_key and curve_name rows of a daemon's configuration
 * table (T: its config struct, member: its cmn_bus_curve field, own: its own key's
 * name, a string literal, also the folder of /var/lib/tep/<own>/bus-curve.key). */
#define CMN_BUS_CURVE_CFG_ITEMS(T, member, own)                                                    \
    CMN_CFG_BOOL_ITEM(T, "bus", "curve", "false", member.enabled,                                  \
                      "ZeroMQ CURVE on tcp:// endpoints (cmn_bus.h)"),                             \
        CMN_CFG_STR_ITEM(T, "bus", "curve_dir", "/var/lib/tep/bus-keys", member.key_dir, NULL,     \
                         "CURVE: shared directory of public keys <name>.pub (the trust list)"),    \
        CMN_CFG_STR_ITEM(T, "bus", "curve_key", "/var/lib/tep/" own "/bus-curve.key",              \
                         member.key_file, NULL,                                                    \
                         "CURVE: own secret key file, created 0600 on first start"),               \
        CMN_CFG_STR_ITEM(T, "bus", "curve_name", own, member.name, NULL,                           \
                         "CURVE: own public key name: the host name clients connect to")

/* Call right after cmn_bus_new(), before opening sockets, with signals blocked (it
 * starts the ZAP thread). CMN_EINVAL for an incomplete cfg or a bad name, CMN_EIO for
 * an unreadable/unwritable key file or directory, CMN_ECORRUPT for a malformed key
 * file, CMN_EBUS when this libzmq has no CURVE. */
int cmn_bus_curve_enable(cmn_bus *bus, const cmn_bus_curve *cfg);

/* The own CURVE public key (Z85, 40 characters and a NUL) into ret_z85; CMN_ENOTFOUND
 * when CURVE is not enabled on bus. */
int cmn_bus_curve_public(const cmn_bus *bus, char ret_z85[CMN_BUS_PEER_MAX]);

/* SHA-256 of m packed (protobuf-c packs fields in number order, unknown ones last: the
 * same message gives the same digest). The packed bytes are wiped. */
int cmn_bus_msg_sha256(const ProtobufCMessage *m, uint8_t ret[CMN_SHA256_LEN]);

#endif
