/* bench-coap: oneM2M requests per second over CoAP or CoAPS (DTLS-PSK), and a holder of
 * idle DTLS sessions.
 *
 *   bench-coap --uri coap[s]://127.0.0.1:5684 [--identity ID --key HEX] --from ORIG
 *              --path tep-cse/AE/cnt --op create|retrieve|idle [--query Q] [--ty N]
 *              [--body JSON] [--seconds N] [--window W] [--count N] [--sessions N]
 *
 * W sessions (default 1), each its own socket (DTLS-PSK for coaps://, with --identity
 * and --key), each with one CON request in flight (libcoap's NSTART is 1: a second CON
 * on one session waits for the first), so W requests are in flight, for --seconds or
 * until --count requests are answered. CREATE sends
 * --body (default a contentInstance) with TY --ty (default 4) to path; RETRIEVE reads
 * path, with Uri-Query Q ("fu=1&lim=20": a discovery). Counts the answers whose
 * oneM2M-RSC is the expected one (2001 / 2000) and prints KEY=value lines:
 *   op, requests, ok, errors, seconds, rps (ok per second), first_rsc_error.
 * --op idle opens --sessions DTLS sessions (32 handshakes at a time), prints
 * "connected=N failed=N closed=N" (closed: by the server after the handshake) and
 * "ready", then holds them, sending nothing, until its
 * standard input closes.
 * Exit 0 when every answer was the expected one, 3 when some were not, 2 when the
 * handshake failed, 1 on usage. */
#include <coap3/coap.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

#define MAX_KEY 64
#define MAX_WINDOW 64

typedef struct {
    const char *uri, *identity, *from, *path, *op, *query, *body;
    uint8_t key[MAX_KEY];
    size_t key_len;
    double seconds;
    unsigned window, ty;
    unsigned long count, sessions;
} bench_opts;

typedef struct {
    bench_opts o;
    coap_context_t *ctx;
    coap_session_t *session[MAX_WINDOW]; /* o.window of them */
    unsigned busy[MAX_WINDOW];           /* requests in flight on each (0 or 1) */
    bool failed, dtls;
    unsigned long connected, hs_failed, closed;
    unsigned in_flight, next_rqi;
    unsigned long sent, ok, errors;
    unsigned first_bad_rsc;
    unsigned want_rsc;
} bench;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The request on session is answered or given up. */
static void session_done(bench *b, coap_session_t *session)
{
    for (unsigned i = 0; i < b->o.window; i++) {
        if (b->session[i] == session && b->busy[i] > 0)
            b->busy[i]--;
    }
    if (b->in_flight > 0)
        b->in_flight--;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    bench *b = coap_get_app_data(coap_session_get_context(session));
    uint32_t rsc = 0;

    if (cmn_coap_opt_uint(received, CMN_OPT_RSC, &rsc) == 0 && rsc == b->want_rsc) {
        b->ok++;
    } else {
        b->errors++;
        if (b->first_bad_rsc == 0)
            b->first_bad_rsc = rsc != 0 ? rsc : 1;
    }
    session_done(b, session);
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent, const coap_nack_reason_t r,
                    const coap_mid_t mid)
{
    bench *b = coap_get_app_data(coap_session_get_context(session));

    b->errors++;
    session_done(b, session);
    if (r == COAP_NACK_TLS_FAILED)
        b->failed = true;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    bench *b = coap_get_app_data(coap_session_get_context(session));

    if (event == COAP_EVENT_DTLS_CONNECTED) {
        b->connected++;
        coap_session_set_app_data(session, b); /* marks it established */
    } else if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED) {
        b->failed = true;
        if (coap_session_get_app_data(session) != NULL)
            b->closed++; /* closed by the server after its handshake */
        else
            b->hs_failed++;
        coap_session_set_app_data(session, NULL);
    }
    return 0;
}

static void add_path(coap_optlist_t **chain, const char *path)
{
    const char *seg = path;

    while (*seg != '\0') {
        const char *slash = strchr(seg, '/');
        size_t n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);

        if (n > 0)
            coap_insert_optlist(chain,
                                coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)seg));
        seg += n;
        if (*seg == '/')
            seg++;
    }
}

static void add_query(coap_optlist_t **chain, const char *query)
{
    const char *arg = query;

    while (*arg != '\0') {
        size_t n = strcspn(arg, "&");

        if (n > 0)
            coap_insert_optlist(chain,
                                coap_new_optlist(COAP_OPTION_URI_QUERY, n, (const uint8_t *)arg));
        arg += n;
        if (*arg == '&')
            arg++;
    }
}

/* One CON request on session i: CREATE (POST, TY 4, a contentInstance) or RETRIEVE
 * (GET). */
static int send_one(bench *b, unsigned i, bool create)
{
    const char *body = b->o.body;
    coap_session_t *session = b->session[i];
    coap_pdu_t *pdu = coap_new_pdu(
        COAP_MESSAGE_CON, create ? COAP_REQUEST_CODE_POST : COAP_REQUEST_CODE_GET, session);
    coap_optlist_t *chain = NULL;
    uint8_t token[8];
    size_t tlen;
    char rqi[24];
    int rc = CMN_ECOAP;

    if (pdu == NULL)
        return CMN_ENOMEM;
    coap_session_new_token(session, &tlen, token);
    coap_add_token(pdu, tlen, token);
    snprintf(rqi, sizeof(rqi), "b%u", b->next_rqi++);
    add_path(&chain, b->o.path);
    if (b->o.query != NULL)
        add_query(&chain, b->o.query);
    if (cmn_coap_optlist_str(&chain, CMN_OPT_FR, b->o.from) != 0 ||
        cmn_coap_optlist_str(&chain, CMN_OPT_RQI, rqi) != 0 ||
        cmn_coap_optlist_str(&chain, CMN_OPT_RVI, "3") != 0 ||
        (create && (cmn_coap_optlist_uint(&chain, CMN_OPT_TY, b->o.ty) != 0 ||
                    cmn_coap_optlist_uint(&chain, COAP_OPTION_CONTENT_FORMAT, 50) != 0)))
        goto out;
    if (!coap_add_optlist_pdu(pdu, &chain) ||
        (create && !coap_add_data(pdu, strlen(body), (const uint8_t *)body)))
        goto out;
    if (coap_send(session, pdu) != COAP_INVALID_MID) {
        b->sent++;
        b->in_flight++;
        b->busy[i]++;
        rc = 0;
    }
    pdu = NULL; /* coap_send owns it */
out:
    coap_delete_optlist(chain);
    coap_delete_pdu(pdu);
    return rc;
}

static coap_session_t *new_session(bench *b, const coap_address_t *dst)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};

    if (!b->dtls)
        return coap_new_client_session(b->ctx, NULL, dst, COAP_PROTO_UDP);
    setup.psk_info.identity.s = (const uint8_t *)b->o.identity;
    setup.psk_info.identity.length = strlen(b->o.identity);
    setup.psk_info.key.s = b->o.key;
    setup.psk_info.key.length = b->o.key_len;
    return coap_new_client_session_psk2(b->ctx, NULL, dst, COAP_PROTO_DTLS, &setup);
}

static int destination(bench *b, coap_address_t *ret)
{
    coap_uri_t uri;

    if (coap_split_uri((const uint8_t *)b->o.uri, strlen(b->o.uri), &uri) < 0 ||
        (uri.scheme != COAP_URI_SCHEME_COAPS && uri.scheme != COAP_URI_SCHEME_COAP))
        return CMN_EINVAL;
    b->dtls = uri.scheme == COAP_URI_SCHEME_COAPS;
    if (b->dtls && (b->o.identity == NULL || b->o.key_len == 0))
        return CMN_EINVAL;
    return cmn_coap_uri_address(&uri, true, ret);
}

/* o.window sessions, each on its own socket; DTLS: all handshakes done. */
static int connect_all(bench *b)
{
    coap_address_t dst;
    double deadline = now_s() + 10 + b->o.window;

    if (destination(b, &dst) != 0)
        return CMN_EINVAL;
    for (unsigned i = 0; i < b->o.window; i++) {
        if ((b->session[i] = new_session(b, &dst)) == NULL)
            return CMN_ECOAP;
    }
    if (!b->dtls)
        return 0;
    while (b->connected < b->o.window && !b->failed && now_s() < deadline)
        coap_io_process(b->ctx, 100);
    return b->connected == b->o.window ? 0 : CMN_ECOAP;
}

/* --op idle: opens o.sessions DTLS sessions, at most 32 handshakes at a time, then holds
 * them without a datagram until standard input closes. */
static int hold_idle(bench *b)
{
    coap_address_t dst;
    struct rlimit rl;
    unsigned long opened = 0;
    double deadline;
    char buf[64];

    if (destination(b, &dst) != 0 || !b->dtls)
        return CMN_EINVAL;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    deadline = now_s() + 60 + (double)b->o.sessions / 50;
    while (b->connected + b->hs_failed < b->o.sessions && now_s() < deadline) {
        while (opened < b->o.sessions && opened - b->connected - b->hs_failed < 32) {
            if (new_session(b, &dst) == NULL)
                return CMN_ECOAP;
            opened++;
        }
        coap_io_process(b->ctx, 100);
    }
    printf("connected=%lu\nfailed=%lu\nclosed=%lu\nready\n", b->connected, b->hs_failed, b->closed);
    fflush(stdout);
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

/* Keeps window requests in flight for the configured time. */
static int run(bench *b, double *ret_elapsed)
{
    bool create = strcmp(b->o.op, "create") == 0;
    double t0 = now_s(), end = t0 + b->o.seconds;

    b->want_rsc = create ? 2001 : 2000;
    while (now_s() < end && !b->failed && (b->o.count == 0 || b->ok + b->errors < b->o.count)) {
        for (unsigned i = 0; i < b->o.window && (b->o.count == 0 || b->sent < b->o.count); i++)
            if (b->busy[i] == 0 && send_one(b, i, create) != 0)
                return CMN_ECOAP;
        coap_io_process(b->ctx, 1000);
    }
    end = now_s() + 5; /* drain what is still in flight */
    while (b->in_flight > 0 && now_s() < end && !b->failed)
        coap_io_process(b->ctx, 100);
    *ret_elapsed = now_s() - t0;
    return 0;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    static const struct option longs[] = {
        {"uri", required_argument, NULL, 'u'},      {"identity", required_argument, NULL, 'i'},
        {"key", required_argument, NULL, 'k'},      {"from", required_argument, NULL, 'f'},
        {"path", required_argument, NULL, 'p'},     {"op", required_argument, NULL, 'o'},
        {"seconds", required_argument, NULL, 's'},  {"window", required_argument, NULL, 'w'},
        {"query", required_argument, NULL, 'q'},    {"ty", required_argument, NULL, 't'},
        {"body", required_argument, NULL, 'b'},     {"count", required_argument, NULL, 'c'},
        {"sessions", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    const char *key = NULL;
    int c;

    *o = (bench_opts){.seconds = 5,
                      .window = 1,
                      .op = "retrieve",
                      .ty = 4,
                      .body = "{\"m2m:cin\":{\"con\":\"21.5\",\"cnf\":\"text/plain:0\"}}"};
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->uri = optarg;
            break;
        case 'i':
            o->identity = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'f':
            o->from = optarg;
            break;
        case 'p':
            o->path = optarg;
            break;
        case 'o':
            o->op = optarg;
            break;
        case 's':
            o->seconds = atof(optarg);
            break;
        case 'w':
            o->window = (unsigned)atoi(optarg);
            break;
        case 'q':
            o->query = optarg;
            break;
        case 't':
            o->ty = (unsigned)atoi(optarg);
            break;
        case 'b':
            o->body = optarg;
            break;
        case 'c':
            o->count = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            o->sessions = strtoul(optarg, NULL, 10);
            break;
        default:
            return CMN_EINVAL;
        }
    }
    if (o->uri == NULL || o->from == NULL || o->path == NULL || o->seconds <= 0 || o->window == 0 ||
        o->window > MAX_WINDOW ||
        (strcmp(o->op, "create") && strcmp(o->op, "retrieve") && strcmp(o->op, "idle")) ||
        (strcmp(o->op, "idle") == 0 && (o->sessions == 0 || o->sessions > 100000)))
        return CMN_EINVAL;
    if (key == NULL)
        return 0;
    o->key_len = strlen(key) / 2;
    if (o->key_len == 0 || o->key_len > MAX_KEY || strlen(key) % 2 ||
        cmn_hex_decode(key, o->key, o->key_len) != 0)
        return CMN_EINVAL;
    return 0;
}

static void report(const bench *b, double elapsed)
{
    printf("op=%s\nrequests=%lu\nok=%lu\nerrors=%lu\nseconds=%.3f\nrps=%.1f\n", b->o.op, b->sent,
           b->ok, b->errors, elapsed, elapsed > 0 ? (double)b->ok / elapsed : 0.0);
    printf("first_rsc_error=%u\n", b->first_bad_rsc);
}

int main(int argc, char **argv)
{
    bench b = {0};
    double elapsed = 0;
    int rc = 1;

    if (parse_args(argc, argv, &b.o) != 0) {
        fprintf(stderr, "usage: bench-coap --uri coap[s]://HOST:PORT [--identity ID --key HEX] "
                        "--from ORIG --path PATH --op create|retrieve|idle [--query Q] "
                        "[--ty N] [--body JSON] [--seconds N] [--window W] [--count N] "
                        "[--sessions N]\n");
        goto out;
    }
    coap_startup();
    coap_set_log_level(LOG_ERR);
    b.ctx = coap_new_context(NULL);
    rc = 2;
    if (b.ctx == NULL || cmn_coap_register_options(b.ctx) != 0)
        goto out;
    coap_set_app_data(b.ctx, &b);
    coap_register_response_handler(b.ctx, on_response);
    coap_register_nack_handler(b.ctx, on_nack);
    coap_register_event_handler(b.ctx, on_event);
    coap_context_set_block_mode(b.ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    if (strcmp(b.o.op, "idle") == 0) {
        rc = hold_idle(&b) == 0 ? 0 : 2;
        goto out;
    }
    if (connect_all(&b) != 0) {
        fprintf(stderr, "bench-coap: DTLS handshake with %s failed\n", b.o.uri);
        goto out;
    }
    rc = run(&b, &elapsed) == 0 && b.errors == 0 ? 0 : 3;
    report(&b, elapsed);
out:
    if (b.ctx != NULL)
        coap_free_context(b.ctx);
    cmn_wipe(b.o.key, sizeof(b.o.key));
    return rc;
}
