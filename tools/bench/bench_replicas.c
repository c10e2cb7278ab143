/* bench-replicas: access decisions per second through 1, 2 and 4 PDP replicas (issue 17
 * item 3): real tep-authz processes with [authz] role = pdp beside one writer (role =
 * all, serving its policy log), each replica with its own audit log (committed before
 * each answer, no MDB_NOSYNC).
 *
 *   bench-replicas [--seconds S] AUTHZ_BINARY
 *
 * Load: PEPS DEALERs (as PEPS tep-cse processes), each connected to every replica's
 * decide socket with ZMQ_IMMEDIATE exactly as tep-cse's PEP is (cmn_bus_open with an
 * endpoint list: ZeroMQ round-robins), one request in flight on each; the policy set and
 * the eight requests of bench-decide (four permits, four denials), every answer checked.
 * Also the CPU time per decision of the replicas and of the load generator
 * (/proc/PID/stat). Writer and four replicas run throughout; the counts are measured in
 * ROUNDS interleaved rounds (1, 2, 4, 1, 2, 4, ...) and the median of each is reported,
 * with every run (the machine's load drifts).
 * Prints KEY=value lines (tools/bench/run.sh turns them into docs/benchmarks.md rows).
 * On a 2-core machine shared with other work the replicas compete with each other and
 * with the load generator for the same two cores: the ratios say what 2 cores give. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bench_proc.h"
#include "cmn_bus.h"
#include "tep.pb-c.h"

#define N_ACPS 3
#define N_REQS 8
#define PEPS 32
#define MAX_REPLICAS 4
#define WAIT_S 15.0
#define ROUNDS 3 /* each count measured ROUNDS times, interleaved; the median reported */

static const char *const policies[N_ACPS] = {
    "{\"acr\": [{\"acor\": [\"CAdmin\", \"/tep-cse/C98*\"], \"acop\": 63, \"acaf\": true},"
    "{\"acor\": [\"all\"], \"acop\": 34, \"acco\": [{\"acip\": {\"ipv4\": [\"10.0.0.0/8\"]}}]},"
    "{\"acor\": [\"Csensor*\"], \"acop\": 1, \"acod\": [{\"ty\": 3, \"chty\": [4]}]}]}",
    "{\"acr\": [{\"acor\": [\"r1@roles.tep.example\"], \"acop\": 6}]}",
    "{\"acr\": [{\"acor\": [\"Cviewer1\", \"Cviewer2\", \"Cviewer3\"], \"acop\": 2}]}",
};

typedef struct {
    const char *fr, *ip;
    uint32_t op, ty, nty;
    bool authn, permit;
} bench_req;

static const bench_req reqs[N_REQS] = {
    {"C9886", "10.1.2.3", 4, 3, 0, true, true},
    {"Cvisitor", "10.4.4.4", 2, 3, 0, false, true},
    {"Csensor17", "10.9.9.9", 1, 3, 4, true, true},
    {"Cviewer2", "203.0.113.7", 2, 3, 0, true, true},
    {"C9886", "10.1.2.3", 4, 3, 0, false, false},
    {"Cvisitor", "203.0.113.7", 2, 3, 0, true, false},
    {"Csensor17", "10.9.9.9", 1, 3, 3, true, false},
    {"/other-cse/Cviewer2", "192.168.1.1", 8, 3, 0, true, false},
};

static char dir[64];

typedef struct {
    uint8_t *buf[N_REQS];
    size_t len[N_REQS];
} packed_reqs;

static int pack_requests(packed_reqs *ret)
{
    for (size_t i = 0; i < N_REQS; i++) {
        Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
        Tep__Envelope env;

        rq.originator = (char *)reqs[i].fr;
        rq.target = "/tep-cse/plant/line1";
        rq.target_ty = reqs[i].ty;
        rq.op = reqs[i].op;
        rq.new_ty = reqs[i].nty;
        rq.rq_authn = reqs[i].authn;
        rq.peer_ip = (char *)reqs[i].ip;
        rq.acp_json = (char **)policies;
        rq.n_acp_json = N_ACPS;
        rq.now = 1741773600;
        rq.cse_id = "/tep-cse";
        rq.sp_id = "//tep.example";
        cmn_bus_env_init(&env, "bench", i + 1);
        env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
        env.decide_req = &rq;
        ret->len[i] = tep__envelope__get_packed_size(&env);
        if ((ret->buf[i] = malloc(ret->len[i])) == NULL)
            return -1;
        tep__envelope__pack(&env, ret->buf[i]);
    }
    return 0;
}

static bool check_reply(const uint8_t *buf, int n, size_t i)
{
    Tep__Envelope *env = tep__envelope__unpack(NULL, (size_t)n, buf);
    bool ok = env != NULL && env->body_case == TEP__ENVELOPE__BODY_DECIDE_RESP &&
              env->decide_resp != NULL && env->decide_resp->permit == reqs[i].permit;

    tep__envelope__free_unpacked(env, NULL);
    return ok;
}

/* ---- processes ----------------------------------------------------------------------- */

static pid_t start_authz(const char *bin, const char *name, const char *extra)
{
    char conf[160], log[160];
    FILE *f;
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/%s.ini", dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", dir, name);
    if ((f = fopen(conf, "w")) == NULL)
        return -1;
    fprintf(f,
            "[authz]\ndata_dir = %s/%s\nlog_level = info\ndecide_rate = 0\n%s\n"
            "[bus]\ndecide = ipc://%s/%s-decide.ipc\nadmin = ipc://%s/%s-admin.ipc\n"
            "events = ipc://%s/events.ipc\nsync = ipc://%s/sync.ipc\n"
            "policy_sync = ipc://%s/policy-sync.ipc\npolicy_events = ipc://%s/policy-events.ipc\n",
            dir, name, extra, dir, name, dir, name, dir, dir, dir, dir);
    fclose(f);
    pid = bench_spawn((char *const[]){(char *)bin, "--config", conf, NULL}, log);
    if (pid > 0 && bench_wait_for(log, "event=ready", pid, WAIT_S) != 0) {
        fprintf(stderr, "bench-replicas: %s did not start (log %s)\n", name, log);
        bench_stop(pid);
        return -1;
    }
    return pid;
}

/* utime + stime of pid in seconds (/proc/PID/stat fields 14 and 15). */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- load ---------------------------------------------------------------------------- */

/* Decisions per second over n replicas with PEPS DEALERs, one in flight each; -1 on a
 * lost or wrong answer. *ret_cpu_us: the replicas' CPU time per decision. */
static double run_load(void *ctx, int n, const pid_t *pids, const packed_reqs *p, double seconds,
                       double *ret_cpu_us, double *ret_client_us)
{
    void *s[PEPS] = {NULL};
    zmq_pollitem_t items[PEPS];
    size_t next[PEPS];
    int linger = 0, immediate = 1;
    uint8_t buf[65536];
    double t0, el = 0, rate = -1, cpu0 = 0, cpu1 = 0, me0, me1;
    long done = 0;

    for (int k = 0; k < PEPS; k++) {
        s[k] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(s[k], ZMQ_LINGER, &linger, sizeof(linger));
        zmq_setsockopt(s[k], ZMQ_IMMEDIATE, &immediate, sizeof(immediate));
        for (int r = 0; r < n; r++) {
            char ep[128];

            snprintf(ep, sizeof(ep), "ipc://%s/pdp%d-decide.ipc", dir, r + 1);
            if (zmq_connect(s[k], ep) != 0)
                goto out;
        }
        items[k] = (zmq_pollitem_t){.socket = s[k], .events = ZMQ_POLLIN};
        next[k] = (size_t)k % N_REQS;
    }
    nanosleep(&(struct timespec){0, 300000000L}, NULL); /* connections up (ZMQ_IMMEDIATE) */
    for (int r = 0; r < n; r++)
        cpu0 += cpu_s(pids[r]);
    me0 = cpu_s(getpid());
    for (int k = 0; k < PEPS; k++)
        zmq_send(s[k], p->buf[next[k]], p->len[next[k]], 0);
    t0 = bench_now_s();
    while ((el = bench_now_s() - t0) < seconds) {
        if (zmq_poll(items, PEPS, 5000) <= 0)
            goto out;
        for (int k = 0; k < PEPS; k++) {
            int got;

            if (!(items[k].revents & ZMQ_POLLIN))
                continue;
            got = zmq_recv(s[k], buf, sizeof(buf), 0);
            if (got < 0 || !check_reply(buf, got, next[k]))
                goto out;
            done++;
            next[k] = (next[k] + 1) % N_REQS;
            zmq_send(s[k], p->buf[next[k]], p->len[next[k]], 0);
        }
    }
    for (int r = 0; r < n; r++)
        cpu1 += cpu_s(pids[r]);
    me1 = cpu_s(getpid());
    rate = (double)done / el;
    *ret_cpu_us = done > 0 ? (cpu1 - cpu0) * 1e6 / (double)done : 0;
    *ret_client_us = done > 0 ? (me1 - me0) * 1e6 / (double)done : 0;
out:
    for (int k = 0; k < PEPS; k++)
        if (s[k] != NULL)
            zmq_close(s[k]);
    return rate;
}

static double median3(const double *v)
{
    double a = v[0], b = v[1], c = v[2];

    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

int main(int argc, char **argv)
{
    static const int counts[3] = {1, 2, 4};
    double seconds = 3.0, rate[3][ROUNDS], cpu[3][ROUNDS], client[3][ROUNDS], med[3];
    pid_t writer, pids[MAX_REPLICAS] = {0};
    packed_reqs p = {{NULL}, {0}};
    int arg = 1, rc = 0, running = 0;
    void *ctx;

    if (argc == 4 && strcmp(argv[1], "--seconds") == 0) {
        seconds = atof(argv[2]);
        arg = 3;
    }
    if (argc != arg + 1 || seconds <= 0) {
        fprintf(stderr, "usage: %s [--seconds S] AUTHZ_BINARY\n", argv[0]);
        return 1;
    }
    snprintf(dir, sizeof(dir), "/tmp/tep-bench-rep-XXXXXX");
    if (mkdtemp(dir) == NULL || pack_requests(&p) != 0)
        return 1;
    if ((writer = start_authz(argv[arg], "writer", "role = all")) < 0)
        return 1;
    while (running < MAX_REPLICAS && rc == 0) { /* all up: idle ones cost each run alike */
        char name[16];

        snprintf(name, sizeof(name), "pdp%d", running + 1);
        if ((pids[running] = start_authz(argv[arg], name, "role = pdp")) < 0)
            rc = 1;
        else
            running++;
    }
    ctx = zmq_ctx_new();
    /* rounds interleaved (1, 2, 4, 1, 2, 4, ...): the machine's load drifts alike */
    for (int k = 0; k < ROUNDS && rc == 0; k++) {
        for (int i = 0; i < 3 && rc == 0; i++) {
            rate[i][k] = run_load(ctx, counts[i], pids, &p, seconds, &cpu[i][k], &client[i][k]);
            if (rate[i][k] <= 0) {
                fprintf(stderr, "bench-replicas: %d replica(s): a lost or wrong answer\n",
                        counts[i]);
                rc = 1;
            }
        }
    }
    zmq_ctx_term(ctx);
    for (int r = 0; r < running; r++)
        bench_stop(pids[r]);
    bench_stop(writer);
    if (rc == 0) {
        char cmd[128];

        printf("peps=%d\ncores=%ld\nrounds=%d\n", PEPS, sysconf(_SC_NPROCESSORS_ONLN), ROUNDS);
        for (int i = 0; i < 3; i++) {
            med[i] = median3(rate[i]);
            printf("replicas%d_per_s=%.0f\nreplicas%d_runs=%.0f,%.0f,%.0f\n"
                   "replicas%d_cpu_us=%.1f\nreplicas%d_client_cpu_us=%.1f\n",
                   counts[i], med[i], counts[i], rate[i][0], rate[i][1], rate[i][2], counts[i],
                   median3(cpu[i]), counts[i], median3(client[i]));
        }
        printf("replicas2_over_1=%.2f\nreplicas4_over_1=%.2f\n", med[1] / med[0], med[2] / med[0]);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-replicas: %s not removed\n", dir);
    } else {
        fprintf(stderr, "bench-replicas: kept %s\n", dir);
    }
    return rc;
}
