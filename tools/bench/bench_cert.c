/* bench-cert: certificate SAEF handshakes (and MAF key registrations) per second against
 * the real daemons, against a bare libcoap server measured in the same run with the same
 * client code.
 *
 *   bench-cert [--seconds S] [--rounds N] [--no-maf] BUILD_DIR
 *
 * Set-up (as integration/test_54's pki_platform): starts BUILD_DIR/enroller/tep-enroller
 * with a fresh data directory under /tmp, has BUILD_DIR/tools/tepctl provision two
 * enrolees, "tep-cse" (--ae-id /tep-cse) and "bench-dev", runs libtepae's
 * tep_enrol_cert() for both (the tep CA issues each a certificate with SAN
 * onem2m:<id>), starts BUILD_DIR/cse-node/tep-cse with [cse] cert_file/key_file/ca_file
 * = the /tep-cse files (authz mode local: no bus decision) and registers the device's AE
 * over the certificate SAEF. It then starts, from this program (--serve-bare, no tep
 * code), a bare libcoap DTLS server with the same certificate, key and CA (peer
 * certificate verified to the CA, depth 2) that answers any GET with 2.05, RSC 2000 and a
 * fixed AE. Phases of S seconds each (default 3), one operation in flight, each in a
 * forked worker so the client's libcoap state starts fresh, run in N interleaved rounds
 * of S/N seconds (default 3: every phase in turn, then again), so that a change in the
 * machine's load hits a phase and its baseline alike; a rate is all operations over all
 * the time of its phase:
 *   cse-req    a certificate handshake by the benchmark's bare libcoap client
 *              (bench_client.c; the same set-up as libtepae's inside tep_connect_cert: the
 *              device's certificate, the server's checked to the CA and to SAN
 *              onem2m:/tep-cse), then one oneM2M RETRIEVE of the device's AE (From = its
 *              AE-ID, RSC 2000 required), then the session released;
 *   cse-hs     the handshake alone to tep-cse, released at once;
 *   bare-req   cse-req against the bare server;
 *   bare-hs    cse-hs against the bare server;
 *   sdk-req    the public API: tep_connect_cert() + tep_retrieve() to tep-cse.
 * With the MAF (default; --no-maf skips it) tep-authz also runs as the MAF and:
 *   maf-reg    tep_maf_register_key(dev, MAF, "/tep-cse"): DTLS-PSK KmID/Km handshake,
 *              MAF Client Registration, MAF Key Registration (exporter, LMDB commit,
 *              KeyEvent), session released;
 *   psk-hs     a bare DTLS-PSK handshake (bench_client.c) to
 *              BUILD_DIR/tools/bench/bench-coap-server.
 * Checks (or the run fails): every request answered RSC 2000; tep-cse logged
 * event=session_bound for at least every handshake counted against it; tep-authz's
 * status counts at least every key registration counted (maf_keys).
 * Prints KEY=value lines (tools/bench/run.sh turns them into docs/benchmarks.md rows). */
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "tep/tepae.h"

#include "bench_client.h"
#include "bench_proc.h"

#define READY_WAIT_S 15.0
#define MEF_FQDN "mef.tep.local"
#define MAF_ID "maf.tep.local"
#define CSE_ID "/tep-cse"
#define CSE_NAME "tep-cse"
#define HOST "127.0.0.1"
#define PATH_LEN 160

typedef struct {
    double seconds; /* per phase, split into rounds */
    int rounds;
    bool maf;
    const char *build;
    char dir[64];
    char mef_uri[96], cse_uri[96], maf_uri[96], bare_uri[96], psk_uri[96];
    pid_t enroller, cse, authz, bare, psk;
    char cse_crt[PATH_LEN], cse_key[PATH_LEN], cse_ca[PATH_LEN];
    char crt[PATH_LEN], key[PATH_LEN], ca[PATH_LEN];
    char ae_id[128], ae_path[192];
    char kpm_id[512], kpm_hex[512];
} bench;

static void in_dir(const bench *b, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", b->dir, name);
}

/* Writes DIR/<name>.ini from text and starts BUILD/<exe> --config it, logging to
 * DIR/<name>.log; waits for event=ready. */
static int start_daemon(const bench *b, const char *name, const char *exe_rel, const char *text,
                        pid_t *ret_pid)
{
    char exe[512], cfg[PATH_LEN], log[PATH_LEN], data[PATH_LEN];
    FILE *f;
    char *argv[] = {exe, "--config", cfg, NULL};

    snprintf(exe, sizeof(exe), "%s/%s", b->build, exe_rel);
    snprintf(cfg, sizeof(cfg), "%s/%s.ini", b->dir, name);
    snprintf(log, sizeof(log), "%s/%s.log", b->dir, name);
    snprintf(data, sizeof(data), "%s/data-%s", b->dir, name);
    if ((mkdir(data, 0700) != 0) || (f = fopen(cfg, "w")) == NULL)
        return CMN_EIO;
    fputs(text, f);
    if (fclose(f) != 0)
        return CMN_EIO;
    if ((*ret_pid = bench_spawn(argv, log)) < 0)
        return CMN_EIO;
    return bench_wait_for(log, "event=ready", *ret_pid, READY_WAIT_S);
}

static int start_enroller(bench *b, int port)
{
    char text[2048];

    snprintf(b->mef_uri, sizeof(b->mef_uri), "coaps://" HOST ":%d", port);
    snprintf(text, sizeof(text),
             "[enroller]\ndata_dir = %s/data-enroller\nmef_fqdn = " MEF_FQDN "\n"
             "listen = " HOST ":%d\nregistrar_cse_id = " CSE_ID "\nregistrar_poa = %s\n"
             "maf_id = " MAF_ID "\nmaf_poa = %s\nlog_level = info\n\n"
             "[bus]\nevents = ipc://%s/events.ipc\nsync = ipc://%s/sync.ipc\n"
             "admin = ipc://%s/enroller-admin.ipc\n",
             b->dir, port, b->cse_uri, b->maf ? b->maf_uri : "", b->dir, b->dir, b->dir);
    return start_daemon(b, "enroller", "enroller/tep-enroller", text, &b->enroller);
}

static int start_cse(bench *b, int port)
{
    char text[3072];

    snprintf(text, sizeof(text),
             "[cse]\ndata_dir = %s/data-cse\ncse_id = " CSE_ID "\ncse_name = " CSE_NAME "\n"
             "coaps_listen = " HOST ":%d\nadmin_originator = CAdmin\npsk_hint = tep-cse\n"
             "log_level = info\ncert_file = %s\nkey_file = %s\nca_file = %s\n\n"
             "[authz]\nmode = local\n\n"
             "[bus]\ndecide = ipc://%s/decide.ipc\nevents = ipc://%s/events.ipc\n"
             "sync = ipc://%s/sync.ipc\nadmin = ipc://%s/cse-admin.ipc\n",
             b->dir, port, b->cse_crt, b->cse_key, b->cse_ca, b->dir, b->dir, b->dir, b->dir);
    return start_daemon(b, "cse", "cse-node/tep-cse", text, &b->cse);
}

static int start_authz(bench *b, int port)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "[authz]\ndata_dir = %s/data-authz\nmaf_id = " MAF_ID "\n"
             "coaps_listen = " HOST ":%d\nlog_level = info\n\n"
             "[bus]\ndecide = ipc://%s/decide.ipc\nevents = ipc://%s/events.ipc\n"
             "sync = ipc://%s/sync.ipc\nadmin = ipc://%s/authz-admin.ipc\n"
             "keys = ipc://%s/keys.ipc\nmaf_events = ipc://%s/maf-events.ipc\n",
             b->dir, port, b->dir, b->dir, b->dir, b->dir, b->dir, b->dir);
    return start_daemon(b, "authz", "authz/tep-authz", text, &b->authz);
}

/* tepctl enrolee add NAME [--ae-id AE_ID] --out DIR/NAME.prov */
static int add_enrolee(const bench *b, const char *name, const char *ae_id)
{
    char exe[512], admin[PATH_LEN], out[PATH_LEN], log[PATH_LEN];
    char *argv[] = {exe,
                    "--admin",
                    admin,
                    "enrolee",
                    "add",
                    (char *)name,
                    "--mef-uri",
                    (char *)b->mef_uri,
                    "--mef-fqdn",
                    MEF_FQDN,
                    "--out",
                    out,
                    ae_id != NULL ? "--ae-id" : NULL,
                    (char *)ae_id,
                    NULL};

    snprintf(exe, sizeof(exe), "%s/tools/tepctl", b->build);
    snprintf(admin, sizeof(admin), "ipc://%s/enroller-admin.ipc", b->dir);
    snprintf(out, sizeof(out), "%s/%s.prov", b->dir, name);
    in_dir(b, "tepctl.log", log, sizeof(log));
    return bench_run_wait(argv, log);
}

static int load_device(const bench *b, const char *name, tep_device **ret_dev)
{
    char prov[PATH_LEN], state[PATH_LEN];

    snprintf(prov, sizeof(prov), "%s/%s.prov", b->dir, name);
    snprintf(state, sizeof(state), "%s/%s.state", b->dir, name);
    return tep_device_load(prov, state, ret_dev);
}

/* Certificate enrolment of enrolee name; its three PEM paths into crt/key/ca. */
static int enrol_cert(const bench *b, const char *name, char *crt, char *key, char *ca,
                      tep_device **ret_dev)
{
    tep_device *dev = NULL;
    int rc = load_device(b, name, &dev);

    if (rc == 0)
        rc = tep_enrol_cert(dev);
    if (rc == 0 && ((rc = tep_device_cert_path(dev, "crt", crt, PATH_LEN)) != 0 ||
                    (rc = tep_device_cert_path(dev, "key", key, PATH_LEN)) != 0 ||
                    (rc = tep_device_cert_path(dev, "ca", ca, PATH_LEN)) != 0))
        rc = CMN_ERANGE;
    if (rc != 0 || ret_dev == NULL) {
        tep_device_free(dev);
        dev = NULL;
    }
    if (ret_dev != NULL)
        *ret_dev = dev;
    return rc;
}

/* The device's kpm_id and kpm (hex): the bare PSK server's credential. */
static int read_credentials(bench *b)
{
    char path[PATH_LEN];

    in_dir(b, "bench-dev.prov", path, sizeof(path));
    return bench_read_kpm(path, b->kpm_id, sizeof(b->kpm_id), b->kpm_hex, sizeof(b->kpm_hex));
}

/* The device's AE, registered over the certificate SAEF, once tep-cse has applied the
 * enroller's events (both enrolments were committed before it started, so its first
 * sync covers them; before it, the handshake is refused as unknown_identity). */
static int register_ae(bench *b, tep_device *dev)
{
    char log[PATH_LEN];
    tep_conn *conn = NULL;
    tep_response *rsp = NULL;
    int rc;

    in_dir(b, "cse.log", log, sizeof(log));
    if ((rc = bench_wait_for(log, "event=sync_applied", b->cse, READY_WAIT_S)) == 0 &&
        (rc = tep_connect_cert(dev, &conn)) == 0)
        rc = tep_register_ae(conn, NULL, NULL, &rsp);
    if (rc == 0 && rsp->rsc != 2001)
        rc = CMN_EPROTO;
    if (rc == 0) {
        snprintf(b->ae_id, sizeof(b->ae_id), "%s", tep_device_enrolee_id(dev));
        snprintf(b->ae_path, sizeof(b->ae_path), "%s", tep_device_ae_path(dev));
    }
    tep_response_free(rsp);
    tep_conn_free(conn);
    return rc;
}

/* Starts a copy of this program as the bare server (--serve-bare). */
static int start_bare(bench *b, int port, const char *self)
{
    char listen[32], log[PATH_LEN];
    char *argv[] = {(char *)self, "--serve-bare", listen, b->cse_crt, b->cse_key, b->cse_ca, NULL};

    snprintf(listen, sizeof(listen), HOST ":%d", port);
    snprintf(b->bare_uri, sizeof(b->bare_uri), "coaps://%s", listen);
    in_dir(b, "bare.log", log, sizeof(log));
    if ((b->bare = bench_spawn(argv, log)) < 0)
        return CMN_EIO;
    return bench_wait_for(log, "ready", b->bare, READY_WAIT_S);
}

static int start_psk(bench *b, int port)
{
    char exe[512], listen[32], log[PATH_LEN];
    char *argv[] = {exe, "--listen", listen, "--identity", b->kpm_id, "--key", b->kpm_hex, NULL};

    snprintf(exe, sizeof(exe), "%s/tools/bench/bench-coap-server", b->build);
    snprintf(listen, sizeof(listen), HOST ":%d", port);
    snprintf(b->psk_uri, sizeof(b->psk_uri), "coaps://%s", listen);
    in_dir(b, "psk.log", log, sizeof(log));
    if ((b->psk = bench_spawn(argv, log)) < 0)
        return CMN_EIO;
    return bench_wait_for(log, "ready", b->psk, READY_WAIT_S);
}

static int setup(bench *b, const char *self)
{
    int mef = bench_free_udp_port(), cse = bench_free_udp_port(), maf = bench_free_udp_port();
    int bare = bench_free_udp_port(), psk = bench_free_udp_port();
    tep_device *dev = NULL;
    int rc;

    if (mef < 0 || cse < 0 || maf < 0 || bare < 0 || psk < 0)
        return CMN_EIO;
    snprintf(b->cse_uri, sizeof(b->cse_uri), "coaps://" HOST ":%d", cse);
    snprintf(b->maf_uri, sizeof(b->maf_uri), "coaps://" HOST ":%d", maf);
    if ((rc = start_enroller(b, mef)) != 0 || (rc = add_enrolee(b, "tep-cse", CSE_ID)) != 0 ||
        (rc = add_enrolee(b, "bench-dev", NULL)) != 0 ||
        (rc = enrol_cert(b, "tep-cse", b->cse_crt, b->cse_key, b->cse_ca, NULL)) != 0 ||
        (rc = enrol_cert(b, "bench-dev", b->crt, b->key, b->ca, &dev)) != 0 ||
        (rc = start_cse(b, cse)) != 0 || (rc = register_ae(b, dev)) != 0 ||
        (rc = start_bare(b, bare, self)) != 0)
        goto out;
    if (b->maf && ((rc = start_authz(b, maf)) != 0 || (rc = read_credentials(b)) != 0 ||
                   (rc = start_psk(b, psk)) != 0))
        goto out;
out:
    tep_device_free(dev);
    return rc;
}

/* ---- the client side -------------------------------------------------------------- */

enum { M_CSE_REQ, M_CSE_HS, M_BARE_REQ, M_BARE_HS, M_SDK_REQ, M_MAF_REG, M_PSK_HS, M_COUNT };

/* The end of a handshake + request: the answer must be RSC 2000 (when there is one);
 * both released. */
static int close_checked(int rc, tep_response *rsp, tep_conn *conn)
{
    if (rc == 0 && rsp != NULL && rsp->rsc != 2000)
        rc = CMN_EPROTO;
    tep_response_free(rsp);
    tep_conn_free(conn);
    return rc;
}

/* One certificate handshake to uri with the device's files (the server's certificate
 * checked to the CA and to SAN onem2m:/tep-cse), then, if with_request, one RETRIEVE of
 * the device's AE; the session released. The benchmark's own bare client. */
static int pki_once(const bench *b, const char *uri, bool with_request)
{
    bench_pki creds = {
        .cert_file = b->crt, .key_file = b->key, .ca_file = b->ca, .peer_id = CSE_ID, .sni = HOST};

    return bench_pki_once(uri, &creds, with_request ? b->ae_path : NULL, b->ae_id,
                          TEP_DEFAULT_TIMEOUT_MS);
}

static int sdk_once(const bench *b, tep_device *dev)
{
    tep_conn *conn = NULL;
    tep_response *rsp = NULL;
    int rc = tep_connect_cert(dev, &conn);

    if (rc == 0)
        rc = tep_retrieve(conn, b->ae_path, &rsp);
    return close_checked(rc, rsp, conn);
}

static int maf_once(const bench *b, tep_device *dev)
{
    tep_kc *kc = NULL;
    int rc = tep_maf_register_key(dev, b->maf_uri, CSE_ID, 0, &kc);

    tep_kc_free(kc);
    return rc;
}

static int psk_once(const bench *b, const uint8_t *kpm)
{
    return bench_psk_once(b->psk_uri, b->kpm_id, kpm, CMN_KEY_LEN, MEF_FQDN,
                          TEP_DEFAULT_TIMEOUT_MS);
}

/* What a phase did: operations completed and the time they took. */
typedef struct {
    long n;
    double elapsed;
    double cpu; /* the worker's (the client's) user + system CPU seconds */
} tally;

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int phase(const bench *b, int m, tally *ret)
{
    tep_device *dev = NULL;
    uint8_t kpm[CMN_KEY_LEN];
    double t0, t, c0 = cpu_s();
    int rc = 0;

    if (m == M_SDK_REQ || m == M_MAF_REG)
        rc = load_device(b, "bench-dev", &dev);
    else if (m == M_PSK_HS)
        rc = cmn_hex_decode(b->kpm_hex, kpm, sizeof(kpm));
    ret->n = 0;
    for (t0 = t = bench_now_s(); rc == 0 && t - t0 < b->seconds / b->rounds; t = bench_now_s()) {
        switch (m) {
        case M_CSE_REQ:
            rc = pki_once(b, b->cse_uri, true);
            break;
        case M_CSE_HS:
            rc = pki_once(b, b->cse_uri, false);
            break;
        case M_BARE_REQ:
            rc = pki_once(b, b->bare_uri, true);
            break;
        case M_BARE_HS:
            rc = pki_once(b, b->bare_uri, false);
            break;
        case M_SDK_REQ:
            rc = sdk_once(b, dev);
            break;
        case M_MAF_REG:
            rc = maf_once(b, dev);
            break;
        default:
            rc = psk_once(b, kpm);
            break;
        }
        ret->n += rc == 0;
    }
    cmn_wipe(kpm, sizeof(kpm));
    tep_device_free(dev);
    ret->elapsed = t - t0;
    ret->cpu = cpu_s() - c0;
    return rc;
}

/* Runs phase m in a forked worker (fresh libcoap state); its rate. */
static int run_phase(const bench *b, int m, tally *ret)
{
    int fds[2], rc = 0, wstatus;
    tally one = {0, 0, 0};
    pid_t pid;

    if (pipe(fds) != 0)
        return CMN_EIO;
    if ((pid = fork()) == 0) {
        int wrc;

        close(fds[0]);
        wrc = phase(b, m, &one);
        _exit(write(fds[1], &wrc, sizeof(wrc)) == sizeof(wrc) &&
                      write(fds[1], &one, sizeof(one)) == sizeof(one)
                  ? 0
                  : 1);
    }
    close(fds[1]);
    if (pid < 0 || read(fds[0], &rc, sizeof(rc)) != sizeof(rc) ||
        (rc == 0 && read(fds[0], &one, sizeof(one)) != sizeof(one)))
        rc = rc != 0 ? rc : CMN_EIO;
    if (pid > 0)
        waitpid(pid, &wstatus, 0);
    close(fds[0]);
    if (rc == 0 && one.elapsed <= 0)
        rc = CMN_EIO;
    *ret = one;
    return rc;
}

/* tep-authz's maf_keys (tepctl status authz): keys registered and not yet expired. */
static int authz_maf_keys(const bench *b, unsigned long long *ret_keys)
{
    char tepctl[512], admin[PATH_LEN], out[PATH_LEN];

    snprintf(tepctl, sizeof(tepctl), "%s/tools/tepctl", b->build);
    snprintf(admin, sizeof(admin), "ipc://%s/authz-admin.ipc", b->dir);
    in_dir(b, "status.out", out, sizeof(out));
    return bench_status_value(tepctl, admin, "authz", "maf_keys", out, ret_keys);
}

/* Every handshake counted against tep-cse was bound (event=session_bound), every key
 * registration counted is in tep-authz. */
static int check_counts(const bench *b, const long n[M_COUNT])
{
    char log[PATH_LEN];
    long bound, want = n[M_CSE_REQ] + n[M_CSE_HS] + n[M_SDK_REQ];
    unsigned long long keys = 0;
    int rc;

    in_dir(b, "cse.log", log, sizeof(log));
    bound = bench_count_lines(log, "event=session_bound identity=cert:");
    if (bound < want) {
        fprintf(stderr, "bench-cert: %ld handshakes to tep-cse but %ld event=session_bound\n", want,
                bound);
        return CMN_EPROTO;
    }
    if (b->maf &&
        ((rc = authz_maf_keys(b, &keys)) != 0 || keys < (unsigned long long)n[M_MAF_REG])) {
        fprintf(stderr, "bench-cert: %ld key registrations but tep-authz has %llu keys\n",
                n[M_MAF_REG], keys);
        return CMN_EPROTO;
    }
    return 0;
}

static const char *const names[M_COUNT] = {
    "cse handshake+retrieve",
    "cse handshake",
    "bare handshake+retrieve",
    "bare handshake",
    "sdk tep_connect_cert+tep_retrieve",
    "maf key registration",
    "bare psk handshake",
};

static int run(bench *b, const char *self)
{
    double r[M_COUNT] = {0}, t[M_COUNT] = {0}, cpu_us[M_COUNT] = {0};
    long n[M_COUNT] = {0};
    int rc;

    if ((rc = setup(b, self)) != 0) {
        fprintf(stderr, "bench-cert: set-up failed (%s), see %s\n", tep_strerror(rc), b->dir);
        return rc;
    }
    /* Interleaved rounds: a change in the machine's load between phases hits the tep
     * phase and its baseline alike. */
    for (int round = 0; round < b->rounds; round++) {
        for (int m = 0; m < M_COUNT; m++) {
            tally one;

            if (!b->maf && (m == M_MAF_REG || m == M_PSK_HS))
                continue;
            if ((rc = run_phase(b, m, &one)) != 0) {
                fprintf(stderr, "bench-cert: %s failed: %s (logs in %s)\n", names[m],
                        tep_strerror(rc), b->dir);
                return rc;
            }
            n[m] += one.n;
            t[m] += one.elapsed;
            cpu_us[m] += one.cpu * 1e6;
        }
    }
    for (int m = 0; m < M_COUNT; m++) {
        r[m] = t[m] > 0 ? (double)n[m] / t[m] : 0;
        cpu_us[m] = n[m] > 0 ? cpu_us[m] / (double)n[m] : 0;
    }
    if ((rc = check_counts(b, n)) != 0)
        return rc;
    printf("seconds=%g\nrounds=%d\ncse_handshakes=%ld\n", b->seconds, b->rounds,
           n[M_CSE_REQ] + n[M_CSE_HS] + n[M_SDK_REQ]);
    printf("cse_req_per_s=%.1f\ncse_req_latency_us=%.0f\ncse_hs_per_s=%.1f\n"
           "bare_req_per_s=%.1f\nbare_req_latency_us=%.0f\nbare_hs_per_s=%.1f\n"
           "sdk_req_per_s=%.1f\n",
           r[M_CSE_REQ], 1e6 / r[M_CSE_REQ], r[M_CSE_HS], r[M_BARE_REQ], 1e6 / r[M_BARE_REQ],
           r[M_BARE_HS], r[M_SDK_REQ]);
    printf("client_cpu_us_cse_req=%.0f\nclient_cpu_us_bare_req=%.0f\n", cpu_us[M_CSE_REQ],
           cpu_us[M_BARE_REQ]);
    printf("cse_req_over_bare=%.3f\ncse_hs_over_bare=%.3f\nsdk_req_over_bare=%.3f\n",
           r[M_CSE_REQ] / r[M_BARE_REQ], r[M_CSE_HS] / r[M_BARE_HS], r[M_SDK_REQ] / r[M_BARE_REQ]);
    if (b->maf)
        printf("maf_registrations=%ld\nmaf_reg_per_s=%.1f\nmaf_reg_latency_us=%.0f\n"
               "psk_hs_per_s=%.1f\npsk_hs_latency_us=%.0f\nmaf_reg_over_psk_hs=%.3f\n",
               n[M_MAF_REG], r[M_MAF_REG], 1e6 / r[M_MAF_REG], r[M_PSK_HS], 1e6 / r[M_PSK_HS],
               r[M_MAF_REG] / r[M_PSK_HS]);
    return 0;
}

/* ---- the bare server (--serve-bare LISTEN CERT KEY CA) ---------------------------- */

static volatile sig_atomic_t stopping;

static const char bare_ae[] = "{\"m2m:ae\":{\"rn\":\"Cbench\",\"ri\":\"Cbench\",\"pi\":\"tep-cse\","
                              "\"ty\":2,\"api\":\"Ntep\",\"aei\":\"Cbench\",\"rr\":false,"
                              "\"ct\":\"20260101T000000\",\"lt\":\"20260101T000000\","
                              "\"et\":\"99991231T235959\"}}";

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Any GET: 2.05, RSC 2000, RQI and RVI echoed, a fixed AE. */
static void on_get(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                   const coap_string_t *query, coap_pdu_t *response)
{
    char rqi[256], rvi[8];
    uint8_t buf[4];

    (void)res;
    (void)session;
    (void)query;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof(buf), CMN_CF_JSON), buf);
    if (cmn_coap_opt_str(request, CMN_OPT_RVI, rvi, sizeof(rvi)) != 0)
        snprintf(rvi, sizeof(rvi), "3");
    coap_add_option(response, CMN_OPT_RVI, strlen(rvi), (const uint8_t *)rvi);
    if (cmn_coap_opt_str(request, CMN_OPT_RQI, rqi, sizeof(rqi)) == 0)
        coap_add_option(response, CMN_OPT_RQI, strlen(rqi), (const uint8_t *)rqi);
    coap_add_option(response, CMN_OPT_RSC, coap_encode_var_safe(buf, sizeof(buf), 2000), buf);
    coap_add_data(response, sizeof(bare_ae) - 1, (const uint8_t *)bare_ae);
}

static int bare_setup(coap_context_t *ctx, char **argv)
{
    coap_dtls_pki_t pki = {.version = COAP_DTLS_PKI_SETUP_VERSION};
    coap_resource_t *r = coap_resource_unknown_init2(on_get, 0);
    coap_address_t addr;

    pki.verify_peer_cert = 1;
    pki.check_common_ca = 1;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 2;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = argv[1];
    pki.pki_key.key.pem.private_key = argv[2];
    pki.pki_key.key.pem.ca_file = argv[3];
    if (r == NULL || cmn_coap_register_options(ctx) != 0 || !coap_context_set_pki(ctx, &pki))
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_GET, on_get);
    coap_add_resource(ctx, r);
    if (cmn_coap_parse_listen(argv[0], &addr) != 0)
        return CMN_EINVAL;
    return coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS) != NULL ? 0 : CMN_EIO;
}

static int serve_bare(char **argv)
{
    coap_context_t *ctx;
    int rc = 3;

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    coap_startup();
    coap_set_log_level(LOG_ERR);
    if ((ctx = coap_new_context(NULL)) != NULL && bare_setup(ctx, argv) == 0) {
        printf("ready\n");
        fflush(stdout);
        rc = 0;
        while (!stopping)
            coap_io_process(ctx, 200);
    }
    if (ctx != NULL)
        coap_free_context(ctx);
    return rc;
}

/* ---- main ------------------------------------------------------------------------- */

static int parse_args(bench *b, int argc, char **argv)
{
    int i = 1;

    for (; i < argc - 1 && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc - 1)
            b->seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc - 1)
            b->rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-maf") == 0)
            b->maf = false;
        else
            return CMN_EINVAL;
    }
    if (i != argc - 1 || b->seconds <= 0 || b->rounds < 1 || b->rounds > 100)
        return CMN_EINVAL;
    b->build = argv[i];
    return 0;
}

int main(int argc, char **argv)
{
    bench b = {.seconds = 3, .rounds = 3, .maf = true};
    char self[512];
    ssize_t len;
    int rc;

    if (argc == 6 && strcmp(argv[1], "--serve-bare") == 0)
        return serve_bare(argv + 2);
    if (parse_args(&b, argc, argv) != 0) {
        fprintf(stderr, "usage: bench-cert [--seconds S] [--rounds N] [--no-maf] BUILD_DIR\n");
        return 2;
    }
    if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
        perror("bench-cert: /proc/self/exe");
        return 1;
    }
    self[len] = '\0';
    snprintf(b.dir, sizeof(b.dir), "/tmp/bench-cert.XXXXXX");
    if (mkdtemp(b.dir) == NULL) {
        perror("bench-cert: mkdtemp");
        return 1;
    }
    rc = run(&b, self);
    bench_stop(b.psk);
    bench_stop(b.bare);
    bench_stop(b.authz);
    bench_stop(b.cse);
    bench_stop(b.enroller);
    cmn_wipe(b.kpm_hex, sizeof(b.kpm_hex));
    if (rc == 0) {
        char *argv_rm[] = {"/bin/rm", "-rf", b.dir, NULL};

        bench_run_wait(argv_rm, "/dev/null");
    }
    return rc == 0 ? 0 : 1;
}
