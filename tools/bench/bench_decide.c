/* bench-decide: access decisions per second, in process and over the bus, against a bare
 * ZeroMQ DEALER/ROUTER echo of the same message size measured in the same run.
 *
 *   bench-decide [--seconds S] AUTHZ_BINARY
 *
 * Phases (each S seconds, default 3), on one policy set of three ACPs with wildcards,
 * contexts (actw, acip, aclr), object details, roles and groups, and eight requests
 * taken in turn (permits and denies):
 *   evaluate   cmn_acp_evaluate on pre-parsed policies (tep-cse local mode, cached JSON)
 *   pdp        authz_decide: the PDP handler, JSON policies parsed per decision
 *   bus        DEALER -> a real tep-authz ROUTER, one request in flight: the full
 *              round trip incl. protobuf, the decision and the committed audit record
 *   bus x16    16 DEALERs (16 PEPs, e.g. 16 tep-cse), one request in flight each, to
 *              the same tep-authz: what its group commit of audit records gives
 *   bus pdp    DEALER -> a forked bare ROUTER answering with authz_decide (no audit,
 *              no store): the transport plus the decision alone
 *   echo       DEALER -> a forked bare ROUTER that echoes, same request bytes
 * Prints KEY=value lines (tools/bench/run.sh turns them into docs/benchmarks.md rows). */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "authz_decide.h"
#include "cmn_acp.h"
#include "cmn_bus.h"
#include "cmn_onem2m.h"

#define N_ACPS 3
#define N_REQS 8
#define BATCH 200
#define WAIT_MS 10000
#define PEPS 16

static const char *const policies[N_ACPS] = {
    "{\"acr\": ["
    "{\"acor\": [\"CAdmin\", \"/tep-cse/C98*\", \"//tep.example/tep-cse/Cops*\"], \"acop\": 63,"
    " \"acaf\": true},"
    "{\"acor\": [\"all\"], \"acop\": 34, \"acco\": [{\"actw\": [\"* * 6-22 * * 1-5 *\"],"
    " \"acip\": {\"ipv4\": [\"10.0.0.0/8\", \"192.168.0.0/16\"], \"ipv6\": [\"fd00::/8\"]}}]},"
    "{\"acor\": [\"Csensor*\"], \"acop\": 1, \"acod\": [{\"ty\": 3, \"chty\": [4]}]}]}",
    "{\"acr\": [{\"acor\": [\"r1@roles.tep.example\"], \"acop\": 6},"
    "{\"acor\": [\"/tep-cse/grpOps\"], \"acop\": 63, \"acco\": [{\"aclr\": {\"accc\": "
    "[\"DE\", \"FR\"]}}]}]}",
    "{\"acr\": [{\"acor\": [\"Cviewer1\", \"Cviewer2\", \"Cviewer3\"], \"acop\": 2}]}",
};

typedef struct {
    const char *fr, *ip;
    uint32_t op, ty, nty;
    bool authn;
} bench_req;

/* Wed 2025-03-12 10:00 UTC; the first four permit, the last four deny. */
#define BENCH_NOW 1741773600
static const bench_req reqs[N_REQS] = {
    {"C9886", "10.1.2.3", CMN_ACOP_UPDATE, CMN_TY_CNT, 0, true},
    {"Cvisitor", "192.168.4.4", CMN_ACOP_RETRIEVE, CMN_TY_CNT, 0, false},
    {"Csensor17", "10.9.9.9", CMN_ACOP_CREATE, CMN_TY_CNT, CMN_TY_CIN, true},
    {"Cviewer2", "203.0.113.7", CMN_ACOP_RETRIEVE, CMN_TY_CNT, 0, true},
    {"C9886", "10.1.2.3", CMN_ACOP_UPDATE, CMN_TY_CNT, 0, false},
    {"Cvisitor", "203.0.113.7", CMN_ACOP_RETRIEVE, CMN_TY_CNT, 0, true},
    {"Csensor17", "10.9.9.9", CMN_ACOP_CREATE, CMN_TY_CNT, CMN_TY_CNT, true},
    {"/other-cse/Cviewer2", "10.1.1.1", CMN_ACOP_DELETE, CMN_TY_CNT, 0, true},
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- in process --------------------------------------------------------------------- */

static void to_acp_request(const bench_req *b, cmn_acp_request *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->originator = b->fr;
    ret->op = b->op;
    ret->target_ty = b->ty;
    ret->new_ty = b->nty;
    ret->rq_authn = b->authn;
    ret->peer_ip = b->ip;
    ret->now = BENCH_NOW;
    ret->cse_id = "/tep-cse";
    ret->sp_id = "//tep.example";
}

/* Decisions per second of cmn_acp_evaluate; -1 if the policy set does not parse or a
 * decision is not the expected one. */
static double bench_evaluate(double seconds)
{
    json_t *privs[N_ACPS] = {NULL};
    cmn_acp_request rq[N_REQS];
    cmn_acp_result res;
    double t0, el;
    long n = 0, bad = 0;

    for (size_t i = 0; i < N_ACPS; i++)
        privs[i] = json_loads(policies[i], 0, NULL);
    for (size_t i = 0; i < N_REQS; i++)
        to_acp_request(&reqs[i], &rq[i]);
    t0 = now_s();
    do {
        for (int k = 0; k < BATCH; k++, n++) {
            if (cmn_acp_evaluate(&rq[n % N_REQS], privs, N_ACPS, &res) != 0 ||
                res.permit != (n % N_REQS < 4))
                bad++;
        }
    } while ((el = now_s() - t0) < seconds);
    for (size_t i = 0; i < N_ACPS; i++)
        json_decref(privs[i]);
    return bad ? -1 : (double)n / el;
}

static void to_decision_request(const bench_req *b, Tep__DecisionRequest *ret)
{
    tep__decision_request__init(ret);
    ret->originator = (char *)b->fr;
    ret->target = "/tep-cse/plant/line1";
    ret->target_ty = b->ty;
    ret->op = b->op;
    ret->new_ty = b->nty;
    ret->rq_authn = b->authn;
    ret->peer_ip = (char *)b->ip;
    ret->acp_json = (char **)policies;
    ret->n_acp_json = N_ACPS;
    ret->now = BENCH_NOW;
    ret->cse_id = "/tep-cse";
    ret->sp_id = "//tep.example";
}

static double bench_pdp(double seconds)
{
    Tep__DecisionRequest rq[N_REQS];
    Tep__DecisionResponse resp;
    double t0, el;
    long n = 0, bad = 0;

    for (size_t i = 0; i < N_REQS; i++)
        to_decision_request(&reqs[i], &rq[i]);
    t0 = now_s();
    do {
        for (int k = 0; k < BATCH; k++, n++) {
            if (authz_decide(&rq[n % N_REQS], &resp) != 0 || resp.permit != (n % N_REQS < 4))
                bad++;
            authz_decide_clear(&resp);
        }
    } while ((el = now_s() - t0) < seconds);
    return bad ? -1 : (double)n / el;
}

/* ---- processes: the echo server and tep-authz ---------------------------------------- */

static char dir[64], decide_ep[128], echo_ep[128], pdp_ep[128], conf[128], log_path[128];

/* The answer of the bare PDP server: authz_decide on the request, no audit, no store. */
static size_t pdp_answer(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    Tep__Envelope *req = tep__envelope__unpack(NULL, n, in);
    Tep__Envelope env;
    Tep__DecisionResponse resp;
    size_t len = 0;

    if (req == NULL || req->body_case != TEP__ENVELOPE__BODY_DECIDE_REQ)
        goto out;
    authz_decide(req->decide_req, &resp);
    cmn_bus_env_init(&env, "bench-pdp", req->request_id);
    env.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
    env.decide_resp = &resp;
    if (tep__envelope__get_packed_size(&env) <= cap)
        len = tep__envelope__pack(&env, out);
    authz_decide_clear(&resp);
out:
    tep__envelope__free_unpacked(req, NULL);
    return len;
}

/* A bare ROUTER that echoes [identity][payload], or (pdp) answers with authz_decide;
 * an empty payload stops it. Runs in a forked child before the parent has any ZeroMQ
 * context. */
static void bare_server(const char *ep, bool pdp)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_ROUTER);
    uint8_t ident[256], buf[65536], out[65536];
    int ilen, n;

    if (zmq_bind(s, ep) != 0)
        _exit(1);
    for (;;) {
        ilen = zmq_recv(s, ident, sizeof(ident), 0);
        n = zmq_recv(s, buf, sizeof(buf), 0);
        if (ilen < 0 || n <= 0)
            break;
        zmq_send(s, ident, (size_t)ilen, ZMQ_SNDMORE);
        if (pdp)
            zmq_send(s, out, pdp_answer(buf, (size_t)n, out, sizeof(out)), 0);
        else
            zmq_send(s, buf, (size_t)n, 0);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    _exit(0);
}

static bool log_has_ready(void)
{
    char buf[8192];
    FILE *f = fopen(log_path, "r");
    size_t n;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "event=ready") != NULL;
}

static pid_t start_authz(const char *path)
{
    FILE *f = fopen(conf, "w");
    int fd;
    pid_t pid;

    if (f == NULL)
        return -1;
    fprintf(f,
            "[authz]\ndata_dir = %s/data\nlog_level = info\ndecide_rate = 0\n[bus]\ndecide = %s\n"
            "admin = ipc://%s/admin.ipc\nevents = ipc://%s/events.ipc\nsync = ipc://%s/sync.ipc\n",
            dir, decide_ep, dir, dir, dir);
    fclose(f);
    fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        execl(path, path, "--config", conf, (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (int waited = 0; pid > 0 && waited < WAIT_MS; waited += 20) {
        if (log_has_ready())
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        sleep_ms(20);
    }
    return -1;
}

static int stop_authz(pid_t pid)
{
    int rc = 0;

    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    if (waitpid(pid, &rc, 0) != pid)
        return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- over the bus -------------------------------------------------------------------- */

/* The packed DecisionRequest envelopes, one per request. */
typedef struct {
    uint8_t *buf[N_REQS];
    size_t len[N_REQS];
} packed_reqs;

static int pack_requests(packed_reqs *ret)
{
    for (size_t i = 0; i < N_REQS; i++) {
        Tep__DecisionRequest rq;
        Tep__Envelope env;

        to_decision_request(&reqs[i], &rq);
        cmn_bus_env_init(&env, "bench", i + 1);
        env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
        env.decide_req = &rq;
        ret->len[i] = tep__envelope__get_packed_size(&env);
        ret->buf[i] = malloc(ret->len[i]);
        if (ret->buf[i] == NULL)
            return -1;
        tep__envelope__pack(&env, ret->buf[i]);
    }
    return 0;
}

/* One answer: a DecisionResponse with the expected outcome (decide) or the same bytes
 * back (echo). */
static bool check_reply(const uint8_t *buf, int n, size_t i, const packed_reqs *p, bool echo)
{
    Tep__Envelope *env;
    bool ok;

    if (echo)
        return n == (int)p->len[i] && memcmp(buf, p->buf[i], p->len[i]) == 0;
    env = tep__envelope__unpack(NULL, (size_t)n, buf);
    ok = env != NULL && env->body_case == TEP__ENVELOPE__BODY_DECIDE_RESP &&
         env->decide_resp != NULL && env->decide_resp->permit == (i < 4);
    tep__envelope__free_unpacked(env, NULL);
    return ok;
}

/* Round trips per second, one in flight; -1 on a lost or wrong answer. */
static double bench_roundtrip(void *ctx, const char *ep, const packed_reqs *p, bool echo,
                              double seconds)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, rcvtimeo = 3000;
    uint8_t buf[65536];
    double t0, el, rate = -1;
    long n = 0;

    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
    if (zmq_connect(s, ep) != 0)
        goto out;
    t0 = now_s();
    do {
        for (int k = 0; k < BATCH / 4; k++, n++) {
            size_t i = (size_t)(n % N_REQS);
            int got;

            zmq_send(s, p->buf[i], p->len[i], 0);
            got = zmq_recv(s, buf, sizeof(buf), 0);
            if (got < 0 || !check_reply(buf, got, i, p, echo))
                goto out;
        }
    } while ((el = now_s() - t0) < seconds);
    rate = (double)n / el;
out:
    zmq_close(s);
    return rate;
}

/* Round trips per second with PEPS DEALERs, one request in flight on each (as PEPS
 * tep-cse processes would have); -1 on a lost or wrong answer. */
static double bench_concurrent(void *ctx, const char *ep, const packed_reqs *p, double seconds)
{
    void *s[PEPS] = {NULL};
    zmq_pollitem_t items[PEPS];
    size_t next[PEPS];
    int linger = 0;
    uint8_t buf[65536];
    double t0, el = 0, rate = -1;
    long n = 0;

    for (int k = 0; k < PEPS; k++) {
        s[k] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(s[k], ZMQ_LINGER, &linger, sizeof(linger));
        if (zmq_connect(s[k], ep) != 0)
            goto out;
        items[k] = (zmq_pollitem_t){.socket = s[k], .events = ZMQ_POLLIN};
        next[k] = (size_t)k % N_REQS;
        zmq_send(s[k], p->buf[next[k]], p->len[next[k]], 0);
    }
    t0 = now_s();
    while ((el = now_s() - t0) < seconds) {
        if (zmq_poll(items, PEPS, 3000) <= 0)
            goto out;
        for (int k = 0; k < PEPS; k++) {
            int got;

            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            got = zmq_recv(s[k], buf, sizeof(buf), 0);
            if (got < 0 || !check_reply(buf, got, next[k], p, false))
                goto out;
            n++;
            next[k] = (next[k] + 1) % N_REQS;
            zmq_send(s[k], p->buf[next[k]], p->len[next[k]], 0);
        }
    }
    rate = (double)n / el;
out:
    for (int k = 0; k < PEPS; k++)
        if (s[k] != NULL)
            zmq_close(s[k]);
    return rate;
}

static void stop_server(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 1000;

    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_connect(s, ep) == 0)
        zmq_send(s, "", 0, 0);
    zmq_close(s);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

/* ---- main ---------------------------------------------------------------------------- */

typedef struct {
    double evaluate, pdp, bus, bus_many, bus_pdp, echo;
} bench_results;

static void print_results(const bench_results *r, size_t size)
{
    printf("msg_bytes=%zu\n", size);
    printf("evaluate_per_s=%.0f\npdp_per_s=%.0f\n", r->evaluate, r->pdp);
    printf("bus_decide_per_s=%.0f\nbus_pdp_per_s=%.0f\nbus_echo_per_s=%.0f\n", r->bus, r->bus_pdp,
           r->echo);
    if (r->bus <= 0 || r->bus_pdp <= 0 || r->echo <= 0)
        return;
    printf("bus_decide_latency_us=%.1f\nbus_pdp_latency_us=%.1f\nbus_echo_latency_us=%.1f\n",
           1e6 / r->bus, 1e6 / r->bus_pdp, 1e6 / r->echo);
    printf("bus_decide_over_echo=%.3f\nbus_pdp_over_echo=%.3f\n", r->bus / r->echo,
           r->bus_pdp / r->echo);
    printf("peps=%d\nbus_decide_many_per_s=%.0f\nbus_decide_many_over_one=%.2f\n", PEPS,
           r->bus_many, r->bus_many / r->bus);
}

static void set_paths(void)
{
    snprintf(decide_ep, sizeof(decide_ep), "ipc://%s/decide.ipc", dir);
    snprintf(echo_ep, sizeof(echo_ep), "ipc://%s/echo.ipc", dir);
    snprintf(pdp_ep, sizeof(pdp_ep), "ipc://%s/pdp.ipc", dir);
    snprintf(conf, sizeof(conf), "%s/authz.ini", dir);
    snprintf(log_path, sizeof(log_path), "%s/authz.log", dir);
}

static pid_t fork_server(const char *ep, bool pdp)
{
    pid_t pid = fork();

    if (pid == 0)
        bare_server(ep, pdp);
    return pid;
}

/* The three round-trip phases, then every server stopped; 0 when all went well. */
static int bench_bus(const char *authz, const packed_reqs *p, double seconds, bench_results *r)
{
    pid_t echo_pid = fork_server(echo_ep, false), pdp_pid = fork_server(pdp_ep, true);
    pid_t authz_pid = start_authz(authz);
    void *ctx;
    int rc = -1;

    if (authz_pid < 0)
        fprintf(stderr, "bench-decide: tep-authz did not start (log %s)\n", log_path);
    ctx = zmq_ctx_new();
    if (authz_pid > 0 && echo_pid > 0 && pdp_pid > 0) {
        r->bus = bench_roundtrip(ctx, decide_ep, p, false, seconds);
        r->bus_many = bench_concurrent(ctx, decide_ep, p, seconds);
        r->bus_pdp = bench_roundtrip(ctx, pdp_ep, p, false, seconds);
        r->echo = bench_roundtrip(ctx, echo_ep, p, true, seconds);
        rc = r->bus > 0 && r->bus_many > 0 && r->bus_pdp > 0 && r->echo > 0 ? 0 : -1;
    }
    stop_server(ctx, echo_ep);
    stop_server(ctx, pdp_ep);
    if (stop_authz(authz_pid) != 0) {
        fprintf(stderr, "bench-decide: tep-authz did not stop cleanly (log %s)\n", log_path);
        rc = -1;
    }
    if (echo_pid > 0)
        waitpid(echo_pid, NULL, 0);
    if (pdp_pid > 0)
        waitpid(pdp_pid, NULL, 0);
    zmq_ctx_term(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = 3.0;
    bench_results r = {-1, -1, -1, -1, -1, -1};
    packed_reqs p = {{NULL}, {0}};
    int rc = 1, arg = 1;

    if (argc == 4 && strcmp(argv[1], "--seconds") == 0) {
        seconds = atof(argv[2]);
        arg = 3;
    }
    if (argc != arg + 1 || seconds <= 0) {
        fprintf(stderr, "usage: %s [--seconds S] AUTHZ_BINARY\n", argv[0]);
        return 1;
    }
    snprintf(dir, sizeof(dir), "/tmp/tep-bench-XXXXXX");
    if (mkdtemp(dir) == NULL || pack_requests(&p) != 0)
        goto out;
    set_paths();
    r.evaluate = bench_evaluate(seconds);
    r.pdp = bench_pdp(seconds);
    if (bench_bus(argv[arg], &p, seconds, &r) == 0 && r.evaluate > 0 && r.pdp > 0)
        rc = 0;
    print_results(&r, p.len[0]);
    if (rc == 0)
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    else
        fprintf(stderr, "bench-decide: a phase failed (a wrong or lost answer); kept %s\n", dir);
out:
    for (size_t i = 0; i < N_REQS; i++)
        free(p.buf[i]);
    return rc;
}
