/* ZeroMQ CURVE for the bus (cmn_bus.h "CURVE"): key files, the shared public-key
 * directory, and the ZAP handler that admits only clients whose public key is in it.
 *
 * Files:
 *   key_file              Z85 secret key, 40 characters and a newline, mode 0600
 *   key_dir/<name>.pub    Z85 public key, 40 characters and a newline, mode 0644
 * Both are written to a temporary name and renamed, so a reader never sees half a key.
 *
 * The ZAP handler (RFC 27, zeromq.org) is a REP socket on inproc://zeromq.zap.01 in the
 * bus's own context, served by one thread; libzmq asks it once per CURVE handshake on
 * every server socket of that context. It stops when the context is shut down. */
#include "cmn_bus_curve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"

#define Z85_KEY_LEN 40
#define KEY_BIN_LEN 32
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "tep"
#define ZAP_MAX_FRAMES 8

struct cmn_curve {
    char public_z85[Z85_KEY_LEN + 1];
    char secret_z85[Z85_KEY_LEN + 1];
    char *key_dir;
    void *zap; /* REP socket, owned by the thread once it runs */
    pthread_t thread;
    bool running;
};

/* ---- names and files ---------------------------------------------------------------- */

static bool name_valid(const char *name)
{
    if (name == NULL || !name[0] || name[0] == '.' || strlen(name) > 200)
        return false;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool z85_key_valid(const char *z)
{
    uint8_t bin[KEY_BIN_LEN];
    bool ok;
    if (strlen(z) != Z85_KEY_LEN)
        return false;
    ok = zmq_z85_decode(bin, z) != NULL;
    cmn_wipe(bin, sizeof(bin));
    return ok;
}

/* Reads a Z85 key file (40 characters, optional trailing whitespace) into ret_z85. */
static int read_key_file(const char *path, char ret_z85[Z85_KEY_LEN + 1])
{
    char buf[128];
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return errno == ENOENT ? CMN_ENOTFOUND : CMN_EIO;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        rc = CMN_EIO;
        goto out;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    if (!z85_key_valid(buf)) {
        rc = CMN_ECORRUPT;
        goto out;
    }
    memcpy(ret_z85, buf, Z85_KEY_LEN + 1);
out:
    cmn_wipe(buf, sizeof(buf));
    return rc;
}

/* Writes "z85\n" to path atomically with mode. */
static int write_key_file(const char *path, const char *z85, mode_t mode)
{
    char line[Z85_KEY_LEN + 2];
    int rc;

    snprintf(line, sizeof(line), "%s\n", z85);
    rc = cmn_file_write_atomic(path, line, Z85_KEY_LEN + 1, mode, 0);
    cmn_wipe(line, sizeof(line));
    return rc;
}

static int load_or_create_secret(cmn_curve *c, const char *key_file)
{
    int rc = read_key_file(key_file, c->secret_z85);
    if (rc == CMN_ENOTFOUND) {
        if (zmq_curve_keypair(c->public_z85, c->secret_z85) != 0)
            return CMN_EBUS;
        return write_key_file(key_file, c->secret_z85, 0600);
    }
    if (rc)
        return rc;
    if (zmq_curve_public(c->public_z85, c->secret_z85) != 0)
        return CMN_ECORRUPT;
    return 0;
}

static int key_path(const char *key_dir, const char *name, char *buf, size_t len)
{
    if (!name_valid(name))
        return CMN_EINVAL;
    if (snprintf(buf, len, "%s/%s.pub", key_dir, name) >= (int)len)
        return CMN_ERANGE;
    return 0;
}

int cmn_curve_read_public(const char *key_dir, const char *name, char ret_z85[41])
{
    char path[4096];
    int rc = key_path(key_dir, name, path, sizeof(path));
    if (rc)
        return rc;
    return read_key_file(path, ret_z85);
}

/* Publishes our public key unless the directory already holds exactly this one. */
static int publish_public(const cmn_curve *c, const char *name)
{
    char path[4096], cur[Z85_KEY_LEN + 1];
    int rc;
    if (mkdir(c->key_dir, 0755) != 0 && errno != EEXIST)
        return CMN_EIO;
    rc = key_path(c->key_dir, name, path, sizeof(path));
    if (rc)
        return rc;
    if (read_key_file(path, cur) == 0 && strcmp(cur, c->public_z85) == 0)
        return 0;
    return write_key_file(path, c->public_z85, 0644);
}

/* ---- the ZAP handler ---------------------------------------------------------------- */

static bool pub_file_name(const char *n)
{
    size_t len = strlen(n);
    return len > 4 && n[0] != '.' && strcmp(n + len - 4, ".pub") == 0;
}

/* Is the client's Z85 public key one of key_dir/ *.pub? Re-read on every handshake. */
static bool key_admitted(const char *key_dir, const char *client_z85)
{
    char path[4096], z85[Z85_KEY_LEN + 1];
    bool found = false;
    DIR *d = opendir(key_dir);
    if (d == NULL)
        return false;
    for (struct dirent *e = readdir(d); e != NULL && !found; e = readdir(d)) {
        if (!pub_file_name(e->d_name))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", key_dir, e->d_name) >= (int)sizeof(path))
            continue;
        found = read_key_file(path, z85) == 0 && strcmp(z85, client_z85) == 0;
    }
    closedir(d);
    return found;
}

static int zap_send(void *s, const void *buf, size_t len, bool more)
{
    if (zmq_send(s, buf, len, more ? ZMQ_SNDMORE : 0) >= 0)
        return 0;
    return errno == ETERM ? CMN_ESTATE : CMN_EBUS;
}

/* Frames: version, request_id, domain, address, identity, mechanism, credentials...
 * An admitted client's user id is its Z85 public key: libzmq attaches it to every
 * message of the connection as the "User-Id" property (cmn_bus_recv_peer). */
static int zap_reply(void *s, zmq_msg_t *req, const char *user_id)
{
    bool ok = user_id != NULL;
    int rc = zap_send(s, "1.0", 3, true);
    if (!rc)
        rc = zap_send(s, zmq_msg_data(&req[1]), zmq_msg_size(&req[1]), true);
    if (!rc)
        rc = zap_send(s, ok ? "200" : "400", 3, true);
    if (!rc)
        rc = ok ? zap_send(s, "OK", 2, true) : zap_send(s, "unknown key", 11, true);
    if (!rc)
        rc = zap_send(s, ok ? user_id : "", ok ? strlen(user_id) : 0, true); /* user id */
    if (!rc)
        rc = zap_send(s, "", 0, false); /* metadata */
    return rc;
}

/* true and the client's Z85 key in ret_z85 when it is admitted. */
static bool zap_decide(const cmn_curve *c, zmq_msg_t *req, size_t n, char ret_z85[Z85_KEY_LEN + 1])
{
    if (n < 7 || zmq_msg_size(&req[5]) != 5 || memcmp(zmq_msg_data(&req[5]), "CURVE", 5) != 0)
        return false;
    if (zmq_msg_size(&req[6]) != KEY_BIN_LEN)
        return false;
    if (zmq_z85_encode(ret_z85, zmq_msg_data(&req[6]), KEY_BIN_LEN) == NULL)
        return false;
    return key_admitted(c->key_dir, ret_z85);
}

/* One request: all frames (extra ones dropped), then the answer. CMN_ESTATE when the
 * context is shutting down (ETERM), CMN_EBUS on any other failure. */
static int zap_serve_one(cmn_curve *c)
{
    zmq_msg_t req[ZAP_MAX_FRAMES];
    size_t n = 0;
    int more = 1, rc = 0;
    while (more) {
        zmq_msg_t tmp, *m = n < ZAP_MAX_FRAMES ? &req[n] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, c->zap, 0) < 0) {
            int e = errno;
            zmq_msg_close(m);
            if (e == EINTR && n == 0)
                continue;
            rc = e == ETERM ? CMN_ESTATE : CMN_EBUS;
            goto out;
        }
        more = zmq_msg_more(m);
        if (m == &tmp)
            zmq_msg_close(m);
        n++;
    }
    if (n >= 2) {
        char client_z85[Z85_KEY_LEN + 1];
        rc = zap_reply(c->zap, req, zap_decide(c, req, n, client_z85) ? client_z85 : NULL);
    }
out:
    for (size_t i = 0; i < n && i < ZAP_MAX_FRAMES; i++)
        zmq_msg_close(&req[i]);
    return rc;
}

/* Serves until the context shuts down. On any other failure the socket stays bound
 * and the loop slows down: a handshake that finds the handler bound but silent never
 * completes, so the bus fails closed (without a bound handler libzmq would admit any
 * client key). */
static void *zap_thread(void *arg)
{
    cmn_curve *c = arg;
    int rc;
    while ((rc = zap_serve_one(c)) != CMN_ESTATE) {
        if (rc)
            usleep(100 * 1000);
    }
    zmq_close(c->zap);
    c->zap = NULL;
    return NULL;
}

/* The thread gets every signal blocked: daemons take signals through signalfd. */
static int zap_start(cmn_curve *c, void *zctx)
{
    int linger = 0;
    sigset_t all, old;
    int rc;
    c->zap = zmq_socket(zctx, ZMQ_REP);
    if (c->zap == NULL)
        return CMN_EBUS;
    zmq_setsockopt(c->zap, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(c->zap, ZAP_ENDPOINT) != 0)
        return CMN_EBUS;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&c->thread, NULL, zap_thread, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return CMN_ENOMEM;
    c->running = true;
    return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int cmn_curve_start(void *zctx, const cmn_bus_curve *cfg, cmn_curve **ret)
{
    cmn_curve *c;
    int rc;

    if (cfg->key_dir == NULL || !cfg->key_dir[0] || cfg->key_file == NULL || !cfg->key_file[0] ||
        !name_valid(cfg->name))
        return CMN_EINVAL;
    if (!zmq_has("curve"))
        return CMN_EBUS;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CMN_ENOMEM;
    rc = CMN_ENOMEM;
    c->key_dir = strdup(cfg->key_dir);
    if (c->key_dir == NULL)
        goto out;
    rc = load_or_create_secret(c, cfg->key_file);
    if (!rc)
        rc = publish_public(c, cfg->name);
    if (!rc)
        rc = zap_start(c, zctx);
out:
    if (rc) {
        if (c->zap != NULL && !c->running)
            zmq_close(c->zap);
        c->zap = NULL;
        cmn_curve_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

void cmn_curve_stop(cmn_curve *c)
{
    if (c == NULL || !c->running)
        return;
    pthread_join(c->thread, NULL);
    c->running = false;
}

void cmn_curve_free(cmn_curve *c)
{
    if (c == NULL)
        return;
    free(c->key_dir);
    cmn_wipe(c, sizeof(*c));
    free(c);
}

/* ---- sockets ------------------------------------------------------------------------ */

/* "tcp://HOST:PORT" -> HOST (brackets of an IPv6 literal removed). */
static int endpoint_host(const char *endpoint, char *buf, size_t len)
{
    const char *h = endpoint + 6;
    const char *semi = strchr(h, ';'); /* "tcp://source;host:port" */
    const char *colon;
    size_t n;
    if (semi != NULL)
        h = semi + 1;
    colon = strrchr(h, ':');
    if (colon == NULL || colon == h)
        return CMN_EINVAL;
    n = (size_t)(colon - h);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= len)
        return CMN_EINVAL;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return 0;
}

static int set_key(void *zsock, int opt, const char *z85)
{
    return zmq_setsockopt(zsock, opt, z85, Z85_KEY_LEN + 1) == 0 ? 0 : CMN_EBUS;
}

static int apply_client(const cmn_curve *c, void *zsock, const char *endpoint)
{
    char host[256], server_z85[Z85_KEY_LEN + 1];
    int rc = endpoint_host(endpoint, host, sizeof(host));
    if (!rc)
        rc = cmn_curve_read_public(c->key_dir, host, server_z85);
    if (!rc)
        rc = set_key(zsock, ZMQ_CURVE_SERVERKEY, server_z85);
    if (!rc)
        rc = set_key(zsock, ZMQ_CURVE_PUBLICKEY, c->public_z85);
    if (!rc)
        rc = set_key(zsock, ZMQ_CURVE_SECRETKEY, c->secret_z85);
    return rc;
}

static int apply_server(const cmn_curve *c, void *zsock)
{
    int one = 1;
    if (zmq_setsockopt(zsock, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0)
        return CMN_EBUS;
    if (zmq_setsockopt(zsock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0)
        return CMN_EBUS;
    return set_key(zsock, ZMQ_CURVE_SECRETKEY, c->secret_z85);
}

int cmn_curve_apply(const cmn_curve *c, void *zsock, bool server, const char *endpoint)
{
    if (c == NULL || strncmp(endpoint, "tcp://", 6) != 0)
        return 0;
    return server ? apply_server(c, zsock) : apply_client(c, zsock, endpoint);
}

const char *cmn_curve_public(const cmn_curve *c)
{
    return c->public_z85;
}
