/* bench-enrol: complete enrolments per second against a real tep-enroller, against bare
 * DTLS-PSK handshakes measured in the same run with the same client code.
 *
 *   bench-enrol [--seconds S] [--enrolees N] [--inflight K] BUILD_DIR
 *
 * Starts BUILD_DIR/enroller/tep-enroller with a fresh data directory under /tmp, has
 * BUILD_DIR/tools/tepctl pre-provision N enrolees (default 8) over its admin socket,
 * starts BUILD_DIR/tools/bench/bench-coap-server (a bare libcoap DTLS-PSK server knowing
 * the first enrolee's KpmID/Kpm), then runs three phases of S seconds (default 3), one
 * operation in flight:
 *   enrol      libtepae's tep_enrol() for each enrolee in turn (each re-enrols, which
 *              the MEF allows): DTLS-PSK with KpmID/Kpm and SNI, the TLS exporter
 *              (Ke/KeID), POST /enrol, the enroller's LMDB commit and event, Kpsa
 *              derivation and the device's state file;
 *   mef-hs     the DTLS-PSK handshake alone to the same tep-enroller (same KpmID/Kpm
 *              and SNI), closed at once, by the benchmark's bare libcoap client
 *              (bench_client.c, no libtepae code);
 *   bare-hs    the same handshake to the bare libcoap server;
 * then enrol and bare-hs again with K (default 4) forked workers at once, one operation
 * in flight each (libtepae is single-threaded; worker k enrols enrolees k, k+K, ...).
 * Every phase runs in a forked worker, so the client's libcoap state starts fresh. At the
 * end the enroller's last committed event (tepctl status: last_seq) must cover every
 * enrolment counted, or the run fails.
 * Prints KEY=value lines (tools/bench/run.sh turns them into docs/benchmarks.md rows). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_client.h"
#include "bench_proc.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "tep/tepae.h"

#define MAX_ENROLEES 64
#define READY_WAIT_S 15.0
#define MEF_FQDN "mef.tep.local"

typedef struct {
    double seconds;
    int enrolees, inflight;
    const char *build;
    char dir[64];
    char mef_uri[64], bare_uri[64];
    pid_t enroller, bare;
    char kpm_id[512], kpm_hex[512];
} bench;

static int write_config(const bench *b, const char *path, int port)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return CMN_EIO;
    fprintf(f,
            "[enroller]\ndata_dir = %s/data\nmef_fqdn = %s\nlisten = 127.0.0.1:%d\n"
            "registrar_cse_id = /tep-cse\nregistrar_poa = coaps://127.0.0.1:5684\n"
            "maf_id = maf.tep.local\nmaf_poa =\nlog_level = info\n\n"
            "[bus]\nevents = ipc://%s/events.ipc\nsync = ipc://%s/sync.ipc\n"
            "admin = ipc://%s/admin.ipc\n",
            b->dir, MEF_FQDN, port, b->dir, b->dir, b->dir);
    return fclose(f) == 0 ? 0 : CMN_EIO;
}

static int start_enroller(bench *b)
{
    char exe[512], cfg[128], log[128];
    int port = bench_free_udp_port(), rc;
    char *argv[] = {exe, "--config", cfg, NULL};

    snprintf(exe, sizeof(exe), "%s/enroller/tep-enroller", b->build);
    snprintf(cfg, sizeof(cfg), "%s/enroller.ini", b->dir);
    snprintf(log, sizeof(log), "%s/enroller.log", b->dir);
    snprintf(b->mef_uri, sizeof(b->mef_uri), "coaps://127.0.0.1:%d", port);
    if (port < 0 || (rc = write_config(b, cfg, port)) != 0)
        return CMN_EIO;
    if ((b->enroller = bench_spawn(argv, log)) < 0)
        return CMN_EIO;
    return bench_wait_for(log, "event=ready", b->enroller, READY_WAIT_S);
}

static void prov_path(const bench *b, int i, char *out, size_t n, const char *ext)
{
    snprintf(out, n, "%s/e%d.%s", b->dir, i, ext);
}

static int provision(const bench *b)
{
    char exe[512], admin[128], name[32], out[128], log[128];

    snprintf(exe, sizeof(exe), "%s/tools/tepctl", b->build);
    snprintf(admin, sizeof(admin), "ipc://%s/admin.ipc", b->dir);
    snprintf(log, sizeof(log), "%s/tepctl.log", b->dir);
    for (int i = 0; i < b->enrolees; i++) {
        char *argv[] = {exe,         "--admin",          admin,        "enrolee", "add",   name,
                        "--mef-uri", (char *)b->mef_uri, "--mef-fqdn", MEF_FQDN,  "--out", out,
                        NULL};

        snprintf(name, sizeof(name), "bench-enrolee-%d", i);
        prov_path(b, i, out, sizeof(out), "prov");
        if (bench_run_wait(argv, log) != 0)
            return CMN_EIO;
    }
    return 0;
}

static int start_bare(bench *b)
{
    char exe[512], listen[64], log[128];
    int port = bench_free_udp_port();
    char *argv[] = {exe, "--listen", listen, "--identity", b->kpm_id, "--key", b->kpm_hex, NULL};

    snprintf(exe, sizeof(exe), "%s/tools/bench/bench-coap-server", b->build);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(log, sizeof(log), "%s/bare.log", b->dir);
    snprintf(b->bare_uri, sizeof(b->bare_uri), "coaps://127.0.0.1:%d", port);
    if (port < 0 || (b->bare = bench_spawn(argv, log)) < 0)
        return CMN_EIO;
    return bench_wait_for(log, "ready", b->bare, READY_WAIT_S);
}

/* One handshake with the first enrolee's KpmID/Kpm and SNI to uri, closed at once. */
static int handshake(const char *uri, const char *kpm_id, const uint8_t *kpm)
{
    return bench_psk_once(uri, kpm_id, kpm, CMN_KEY_LEN, MEF_FQDN, TEP_DEFAULT_TIMEOUT_MS);
}

/* What a phase did: operations completed and the time they took. */
typedef struct {
    long n;
    double elapsed;
} tally;

/* Handshakes to uri for b->seconds (slice unused: every worker uses the first enrolee). */
static int phase_handshakes(const bench *b, const char *uri, int first, int step, tally *ret)
{
    uint8_t kpm[CMN_KEY_LEN];
    double t0 = bench_now_s(), t = t0;
    int rc = cmn_hex_decode(b->kpm_hex, kpm, sizeof(kpm));

    (void)first;
    (void)step;
    ret->n = 0;
    while (rc == 0 && t - t0 < b->seconds) {
        if ((rc = handshake(uri, b->kpm_id, kpm)) == 0)
            ret->n++;
        t = bench_now_s();
    }
    cmn_wipe(kpm, sizeof(kpm));
    ret->elapsed = t - t0;
    return rc;
}

static void free_devices(tep_device **devs, int n)
{
    for (int i = 0; i < n; i++)
        tep_device_free(devs[i]);
}

/* Enrolments of enrolees first, first+step, ... in turn for b->seconds (uri unused). */
static int phase_enrol(const bench *b, const char *uri, int first, int step, tally *ret)
{
    tep_device *devs[MAX_ENROLEES] = {0};
    char prov[128], state[128];
    int rc = 0, n_devs = 0;
    double t0, t;

    (void)uri;
    for (int i = first; rc == 0 && i < b->enrolees; i += step) {
        prov_path(b, i, prov, sizeof(prov), "prov");
        prov_path(b, i, state, sizeof(state), "state");
        rc = tep_device_load(prov, state, &devs[n_devs++]);
    }
    ret->n = 0;
    for (t0 = t = bench_now_s(); rc == 0 && n_devs > 0 && t - t0 < b->seconds; t = bench_now_s()) {
        tep_device *dev = devs[ret->n % n_devs];

        if ((rc = tep_enrol(dev)) == 0 && !tep_device_is_enrolled(dev))
            rc = CMN_EPROTO;
        ret->n += rc == 0;
    }
    free_devices(devs, n_devs);
    ret->elapsed = t - t0;
    return rc;
}

typedef int (*phase_fn)(const bench *b, const char *uri, int first, int step, tally *ret);

/* Runs phase in `workers` forked processes at once (worker k takes enrolees k, k+workers,
 * ...), one operation in flight each; the rate is all completions over the longest
 * worker's time. */
static int run_workers(const bench *b, phase_fn phase, const char *uri, int workers,
                       double *ret_per_s, long *ret_n)
{
    pid_t pids[MAX_ENROLEES];
    int fds[2], rc = 0, started = 0;
    tally sum = {0, 0}, one;

    if (pipe(fds) != 0)
        return CMN_EIO;
    for (; started < workers; started++) {
        if ((pids[started] = fork()) < 0)
            break;
        if (pids[started] == 0) {
            int wrc;

            close(fds[0]);
            wrc = phase(b, uri, started, workers, &one);
            _exit(wrc == 0 && write(fds[1], &one, sizeof(one)) == sizeof(one) ? 0 : 1);
        }
    }
    close(fds[1]);
    for (int k = 0; k < started; k++) {
        if (read(fds[0], &one, sizeof(one)) != sizeof(one)) {
            rc = CMN_EIO;
            continue;
        }
        sum.n += one.n;
        sum.elapsed = one.elapsed > sum.elapsed ? one.elapsed : sum.elapsed;
    }
    for (int k = 0; k < started; k++)
        waitpid(pids[k], NULL, 0);
    close(fds[0]);
    if (rc == 0 && (started < workers || sum.elapsed <= 0))
        rc = CMN_EIO;
    *ret_per_s = rc == 0 ? (double)sum.n / sum.elapsed : 0;
    *ret_n = sum.n;
    return rc;
}

static int parse_args(bench *b, int argc, char **argv)
{
    int i = 1;

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            b->seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--enrolees") == 0)
            b->enrolees = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--inflight") == 0)
            b->inflight = atoi(argv[i + 1]);
        else
            return CMN_EINVAL;
    }
    if (i != argc - 1 || b->seconds <= 0 || b->enrolees < 1 || b->enrolees > MAX_ENROLEES ||
        b->inflight < 1 || b->inflight > b->enrolees)
        return CMN_EINVAL;
    b->build = argv[i];
    return 0;
}

/* The enroller's last committed event sequence number (tepctl status enroller). */
static int enroller_last_seq(const bench *b, unsigned long long *ret_seq)
{
    char exe[512], admin[128], out[128];

    snprintf(exe, sizeof(exe), "%s/tools/tepctl", b->build);
    snprintf(admin, sizeof(admin), "ipc://%s/admin.ipc", b->dir);
    snprintf(out, sizeof(out), "%s/status.out", b->dir);
    return bench_status_value(exe, admin, "enroller", "last_seq", out, ret_seq);
}

/* The first enrolee's kpm_id and kpm (hex) from its provisioning file. */
static int read_credentials(bench *b)
{
    char path[128];

    prov_path(b, 0, path, sizeof(path), "prov");
    return bench_read_kpm(path, b->kpm_id, sizeof(b->kpm_id), b->kpm_hex, sizeof(b->kpm_hex));
}

/* The measurements, in the order they run. */
enum { M_ENROL, M_MEF_HS, M_BARE_HS, M_ENROL_K, M_BARE_HS_K, M_COUNT };

static int measure(bench *b, double per_s[M_COUNT], long *ret_enrolments)
{
    static const struct {
        const char *what;
        bool enrol, bare, parallel;
    } m[M_COUNT] = {
        {"enrol", true, false, false},
        {"mef handshake", false, false, false},
        {"bare handshake", false, true, false},
        {"enrol, in flight", true, false, true},
        {"bare handshake, in flight", false, true, true},
    };

    *ret_enrolments = 0;
    for (int i = 0; i < M_COUNT; i++) {
        long n = 0;
        int rc = run_workers(b, m[i].enrol ? phase_enrol : phase_handshakes,
                             m[i].bare ? b->bare_uri : b->mef_uri, m[i].parallel ? b->inflight : 1,
                             &per_s[i], &n);

        *ret_enrolments += m[i].enrol ? n : 0;

        if (rc != 0) {
            fprintf(stderr, "bench-enrol: %s failed: %s (logs in %s)\n", m[i].what,
                    tep_strerror(rc), b->dir);
            return rc;
        }
    }
    return 0;
}

static int run(bench *b)
{
    double r[M_COUNT];
    long enrolments;
    unsigned long long last_seq = 0;
    int rc;

    if ((rc = start_enroller(b)) != 0 || (rc = provision(b)) != 0 ||
        (rc = read_credentials(b)) != 0 || (rc = start_bare(b)) != 0) {
        fprintf(stderr, "bench-enrol: set-up failed (%s), see %s\n", tep_strerror(rc), b->dir);
        return rc;
    }
    if ((rc = measure(b, r, &enrolments)) != 0)
        return rc;
    /* Every enrolment counted must have left a committed event in the enroller. */
    if ((rc = enroller_last_seq(b, &last_seq)) != 0 || last_seq < (unsigned long long)enrolments) {
        fprintf(stderr, "bench-enrol: %ld enrolments but the enroller's last event is %llu\n",
                enrolments, last_seq);
        return rc != 0 ? rc : CMN_EPROTO;
    }
    printf("enrolees=%d\nseconds=%g\ninflight=%d\nenrolments=%ld\nenroller_last_seq=%llu\n",
           b->enrolees, b->seconds, b->inflight, enrolments, last_seq);
    printf("enrol_per_s=%.1f\nenrol_latency_us=%.0f\nmef_handshake_per_s=%.1f\n"
           "bare_handshake_per_s=%.1f\nbare_handshake_latency_us=%.0f\n",
           r[M_ENROL], 1e6 / r[M_ENROL], r[M_MEF_HS], r[M_BARE_HS], 1e6 / r[M_BARE_HS]);
    printf("enrol_over_bare=%.3f\nmef_handshake_over_bare=%.3f\n", r[M_ENROL] / r[M_BARE_HS],
           r[M_MEF_HS] / r[M_BARE_HS]);
    printf(
        "enrol_many_per_s=%.1f\nbare_handshake_many_per_s=%.1f\nenrol_many_over_bare_many=%.3f\n",
        r[M_ENROL_K], r[M_BARE_HS_K], r[M_ENROL_K] / r[M_BARE_HS_K]);
    return 0;
}

int main(int argc, char **argv)
{
    bench b = {.seconds = 3, .enrolees = 8, .inflight = 4};
    int rc;

    if (parse_args(&b, argc, argv) != 0) {
        fprintf(stderr,
                "usage: bench-enrol [--seconds S] [--enrolees N] [--inflight K] BUILD_DIR\n");
        return 2;
    }
    snprintf(b.dir, sizeof(b.dir), "/tmp/bench-enrol.XXXXXX");
    if (mkdtemp(b.dir) == NULL) {
        perror("bench-enrol: mkdtemp");
        return 1;
    }
    rc = run(&b);
    bench_stop(b.bare);
    bench_stop(b.enroller);
    cmn_wipe(b.kpm_hex, sizeof(b.kpm_hex));
    if (rc == 0) {
        char *argv_rm[] = {"/bin/rm", "-rf", b.dir, NULL};
        char log[] = "/dev/null";

        bench_run_wait(argv_rm, log);
    }
    return rc == 0 ? 0 : 1;
}
