/* The MN-CSE's registration to its registrar (see cse_registree.h). */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmn_ca.h"
#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_pki.h"
#include "cse_registree.h"
#include "cse_esprim.h"
#include "cse_remotecse.h"
#include "cse_resource.h"
#include "cse_saef.h"
#include "tep/tepae.h" /* libtepae: the MN-CSE's own enrolment, certificate and Kc */

#define SUB "registree"
#define ANSWER_WAIT_MS 5000
#define RETRY_MS 1000
/* A credential the worker could not get is asked for again after this (doubling). */
#define CRED_RETRY_MS 1000
#define CRED_RETRY_MAX_MS 30000
/* A Kc is replaced by a new one this long before it expires. */
#define KC_RENEW_S 120
/* Handshakes failed in a row (the session never came up) before the registrar is said
 * to refuse the credential (logged, tepctl status); the second for a Kc (the registrar
 * refuses the first while it fetches the key from the MAF). */
#define HS_REFUSED_AFTER 3
#define HS_KC_REFUSED_AFTER 2
/* The provisioning file is looked at (stat) this often: a new one is picked up. */
#define PROV_CHECK_MS 1000
#define PROV_MAX 65536

typedef enum { CRED_KPSA, CRED_CERT, CRED_MAF } cred_kind;
/* What a run of the worker is for: the credential (first, or a Kc near its end), a new
 * certificate (renewal), a new provisioning file (re-enrolment with it), a new Kc
 * (the registrar refused the current one). */
typedef enum { JOB_GET, JOB_RENEW, JOB_REPROVISION, JOB_NEW_KC } job_mode;

/* The MN-CSE's credential for the SAEF with its registrar (TS-0003 8.2.2), obtained
 * through libtepae by the worker thread: the enrolment (MEF), the certificate (tep CA),
 * the Kc (MAF), none of which the loop waits for. */
typedef struct {
    char identity[CMN_KEY_ID_MAX]; /* PSK: KpsaID or the Kc's Key Identifier */
    uint8_t key[CMN_KEY_LEN];      /* PSK: Kpsa or Kc */
    char crt[PATH_MAX], crt_key[PATH_MAX], ca[PATH_MAX]; /* cert: the files */
    char enrolee_id[256];
    int64_t expires;                /* Unix s: the Kc's, else the enrolment's */
    char serial[CMN_CA_SERIAL_MAX]; /* cert: its serial */
    int64_t not_before, not_after;  /* cert: its validity (Unix s) */
} credential;

/* One run of the worker: inputs copied, outputs written, then done set. The loop joins
 * the thread once done (at once), or at the end, waiting for it: each SDK call is
 * bounded by WORKER_TIMEOUT_MS, so a stop waits a few seconds at worst. */
#define WORKER_TIMEOUT_MS 3000
typedef struct {
    atomic_bool done;
    pthread_t thread;
    cred_kind kind;
    job_mode mode;
    char prov[PATH_MAX], state_path[PATH_MAX], registrar_cse_id[256];
    int rc;
    const char *step; /* the step that failed: enrol, cert, cert_renew, maf_key, mismatch */
    bool enrolled_now;
    bool unchanged;           /* JOB_REPROVISION: the file is the one enrolled with: nothing done */
    char registrar_seen[256]; /* the enrolment's registrar (mismatch) */
    credential cred;
} cred_job;

typedef enum { STEP_CREATE, STEP_UPDATE, STEP_CHECK, STEP_REGISTRAR, STEP_DELETE } step;

struct cse_registree {
    const cse_config *cfg;
    cse_node *node;
    coap_context_t *ctx;
    cse_client *cl;
    coap_session_t *s;
    bool dtls;
    cred_kind kind;
    bool have_cred;
    credential cred;        /* the one the sessions are opened with */
    cred_job *job;          /* the worker's run on its way, NULL when none */
    int64_t cred_next_ms;   /* the next run may start then */
    int cred_wait_ms;       /* after a failure: doubling up to CRED_RETRY_MAX_MS */
    bool cred_fatal;        /* the enrolment names another registrar: no retry */
    const char *cred_error; /* the last failure of the worker (tepctl status), NULL after a
                               success */
    bool reprov;            /* a new provisioning file to enrol with (or SIGHUP) */
    int64_t reprov_next_ms; /* its next try (after a refusal: backoff) */
    struct stat prov_st;    /* the provisioning file as last seen */
    int64_t prov_check_ms;
    bool s_up;              /* the session came up (its handshake succeeded) */
    int hs_fail;            /* sessions in a row whose handshake failed */
    bool kc_refused;        /* a new Kc is wanted: the registrar refuses this one */
    int64_t kc_next_ms;     /* not before ([registrar] kc_retry_s after the last) */
    bool reconnect;         /* a new credential: a new session at the next turn */
    coap_session_t *s_next; /* the new credential's session while the old one serves */
    int64_t s_next_until;   /* it must be up by then, else it is given up */
    coap_session_t *s_old;  /* the old one after the switch, for the answers on their way */
    int64_t s_old_until;    /* released then */
    int64_t reconnect_ms;   /* a failed switch is tried again then */
    char sni[256];
    char rn[128];    /* the <remoteCSE>'s name at the registrar */
    char rname[128]; /* the registrar's CSEBase name */
    char poa[300];   /* own poa announced */
    bool registered;
    bool leaving; /* de-registration asked (cse_registree_leave) */
    bool left;    /* de-registered: nothing more until rejoined */
    bool waiting; /* an exchange on its way */
    bool stale;   /* the session failed: released at the next turn, outside
                               libcoap's callbacks (a NACK handler runs on it) */
    uint32_t xid;
    step step;
    int64_t next_ms;
    char *dcse_sent; /* the descendantCSEs last announced (JSON text) */
    uint64_t n_registrations;
};

/* ---- the credential: libtepae in a worker thread ------------------------------------ */

static const char *kind_name(cred_kind k)
{
    return k == CRED_CERT ? "cert" : k == CRED_MAF ? "maf" : "kpsa";
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The SHA-256 of the provisioning file as hex (it holds Kpm: the text is wiped). */
static int prov_digest(const char *path, char hex[2 * CMN_SHA256_LEN + 1])
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f != NULL ? malloc(PROV_MAX) : NULL;
    uint8_t d[CMN_SHA256_LEN];
    size_t n = 0;
    int rc = f == NULL ? CMN_ENOTFOUND : buf == NULL ? CMN_ENOMEM : 0;

    if (rc == 0) {
        n = fread(buf, 1, PROV_MAX, f);
        rc = ferror(f) || n == PROV_MAX ? CMN_EIO : cmn_sha256(buf, n, d);
    }
    for (size_t i = 0; rc == 0 && i < CMN_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    if (buf != NULL)
        cmn_free_secret(buf, PROV_MAX);
    if (f != NULL)
        fclose(f);
    return rc;
}

/* "<state>.prov": the digest of the provisioning file the enrolment in the state file
 * was made with; "" when there is none (a state from before it: taken as made with the
 * current file). */
static void enrolled_with(const char *state, char hex[2 * CMN_SHA256_LEN + 1])
{
    char path[PATH_MAX + 8];
    FILE *f;

    hex[0] = '\0';
    snprintf(path, sizeof(path), "%s.prov", state);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fgets(hex, 2 * CMN_SHA256_LEN + 1, f) == NULL || strlen(hex) != 2 * CMN_SHA256_LEN)
        hex[0] = '\0';
    fclose(f);
}

static int remember_enrolled_with(const char *state, const char *hex)
{
    char path[PATH_MAX + 8], tmp[PATH_MAX + 16];
    FILE *f;
    int fd;
    int rc;

    snprintf(path, sizeof(path), "%s.prov", state);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* like the state file */
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return CMN_EIO;
    }
    rc = fprintf(f, "%s\n", hex) < 0 ? CMN_EIO : 0;
    if (fclose(f) != 0 || rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return CMN_EIO;
    }
    return 0;
}

/* The certificate's serial and validity. */
static int cert_dates(credential *c)
{
    uint8_t der[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(der);
    cmn_cert_info info;
    int rc = cmn_pki_read_pem(c->crt, "CERTIFICATE", der, &len);

    if (rc == 0)
        rc = cmn_ca_cert_info(der, len, &info);
    if (rc == 0) {
        snprintf(c->serial, sizeof(c->serial), "%s", info.serial);
        c->not_before = info.not_before;
        c->not_after = info.not_after;
    }
    return rc;
}

/* The SDK's calls, blocking (each bounded by its timeout), in the worker thread only:
 * nothing here logs (the loop logs the outcome). A provisioning file other than the
 * one the enrolment was made with (re-provisioned by the operator, TS-0003 8.3.1.2)
 * means a new enrolment with it; the current one is never renewed by a new enrolment
 * with the same file (a revoked gateway stays out). */
static void obtain(cred_job *j)
{
    tep_device *dev = NULL;
    tep_kc *kc = NULL;
    credential *c = &j->cred;
    char now_hex[2 * CMN_SHA256_LEN + 1], was_hex[2 * CMN_SHA256_LEN + 1];
    bool fresh;
    int rc = prov_digest(j->prov, now_hex);

    j->step = "load";
    enrolled_with(j->state_path, was_hex);
    fresh = was_hex[0] != '\0' && strcmp(was_hex, now_hex) != 0;
    if (rc == 0 && j->mode == JOB_REPROVISION && !fresh) {
        j->unchanged = true; /* the file the enrolment was made with: nothing to do */
        j->rc = 0;
        return;
    }
    if (rc == 0)
        rc = tep_device_load(j->prov, j->state_path, &dev);
    tep_device_set_timeout(dev, WORKER_TIMEOUT_MS);
    if (rc == 0 && (j->mode == JOB_REPROVISION || fresh))
        j->mode = JOB_REPROVISION;
    if (rc == 0 && j->kind == CRED_CERT) {
        /* the certificate of the current enrolment (tep_enrol_cert: a new enrolment and
         * its certificate, issued to the Enrolee-ID, the CSE-ID) */
        bool have = j->mode != JOB_REPROVISION && tep_device_is_enrolled(dev) &&
                    tep_device_cert_path(dev, "crt", c->crt, sizeof(c->crt)) == 0 &&
                    tep_device_cert_path(dev, "key", c->crt_key, sizeof(c->crt_key)) == 0 &&
                    tep_device_cert_path(dev, "ca", c->ca, sizeof(c->ca)) == 0 &&
                    readable(c->crt) && readable(c->crt_key) && readable(c->ca);
        j->step = "cert";
        if (!have && (rc = tep_enrol_cert(dev)) == 0) {
            j->enrolled_now = true;
            if ((rc = tep_device_cert_path(dev, "crt", c->crt, sizeof(c->crt))) == 0 &&
                (rc = tep_device_cert_path(dev, "key", c->crt_key, sizeof(c->crt_key))) == 0)
                rc = tep_device_cert_path(dev, "ca", c->ca, sizeof(c->ca));
        } else if (have && j->mode == JOB_RENEW) {
            /* certificate re-provisioning: the same enrolment, a MEF session
             * authenticated with the current certificate */
            j->step = "cert_renew";
            rc = tep_cert_renew(dev);
        }
        if (rc == 0)
            rc = cert_dates(c);
    } else if (rc == 0 && (!tep_device_is_enrolled(dev) || j->mode == JOB_REPROVISION)) {
        j->step = "enrol";
        rc = tep_enrol(dev);
        j->enrolled_now = rc == 0;
    }
    if (rc == 0 && (j->enrolled_now || was_hex[0] == '\0'))
        rc = remember_enrolled_with(j->state_path, now_hex);
    if (rc == 0 && strcmp(tep_device_registrar_cse_id(dev), j->registrar_cse_id) != 0) {
        j->step = "mismatch";
        snprintf(j->registrar_seen, sizeof(j->registrar_seen), "%s",
                 tep_device_registrar_cse_id(dev));
        rc = CMN_ECONFIG;
    }
    if (rc == 0) {
        snprintf(c->enrolee_id, sizeof(c->enrolee_id), "%s", tep_device_enrolee_id(dev));
        c->expires = tep_device_expires(dev);
    }
    if (rc == 0 && j->kind == CRED_KPSA) {
        j->step = "kpsa";
        rc = tep_device_psk(dev, c->identity, sizeof(c->identity), c->key);
    } else if (rc == 0 && j->kind == CRED_MAF) {
        /* MAF Client and Key Registration for the registrar (TS-0003 8.8.2.4), Km MAF
         * Handshake, at the enrolment's MAF point of access; the MAF's default lifetime */
        j->step = "maf_key";
        rc = tep_maf_register_key(dev, NULL, j->registrar_cse_id, 0, &kc);
        if (rc == 0)
            rc = tep_kc_psk(kc, c->identity, sizeof(c->identity), c->key);
        if (rc == 0)
            c->expires = tep_kc_expires(kc);
    }
    tep_kc_free(kc);
    tep_device_free(dev);
    j->rc = rc;
}

static void *worker(void *arg)
{
    cred_job *j = arg;

    obtain(j);
    atomic_store(&j->done, true);
    return NULL;
}

static const char *mode_name(job_mode m)
{
    return m == JOB_RENEW         ? "cert_renewal"
           : m == JOB_REPROVISION ? "reprovisioning"
           : m == JOB_NEW_KC      ? "new_kc"
                                  : "credential";
}

static void start_job(cse_registree *r, job_mode mode)
{
    cred_job *j = calloc(1, sizeof(*j));
    int rc;

    if (j == NULL)
        return;
    atomic_init(&j->done, false);
    j->kind = r->kind;
    j->mode = mode;
    snprintf(j->prov, sizeof(j->prov), "%s", r->cfg->registrar_prov);
    snprintf(j->state_path, sizeof(j->state_path), "%s", r->cfg->registrar_state);
    snprintf(j->registrar_cse_id, sizeof(j->registrar_cse_id), "%s", r->cfg->registrar_cse_id);
    rc = pthread_create(&j->thread, NULL, worker, j);
    if (rc != 0) {
        CMN_ERR(SUB, "event=credential_failed step=thread err=%d", rc);
        free(j);
        return;
    }
    r->job = j;
    CMN_INFO(SUB, "event=credential_asked credential=%s for=%s", kind_name(r->kind),
             mode_name(mode));
}

/* At the end: the job on its way is waited for (libcoap and OpenSSL must not be torn
 * down under it). */
static void end_job(cse_registree *r)
{
    if (r->job == NULL)
        return;
    if (!atomic_load(&r->job->done))
        CMN_INFO(SUB, "event=waiting_for_credential_worker");
    pthread_join(r->job->thread, NULL);
    cmn_free_secret(r->job, sizeof(*r->job));
    r->job = NULL;
}

/* The worker's outcome, once it is there: the credential for the next sessions. */
static void take_ok(cse_registree *r, const cred_job *j, int64_t now_ms)
{
    bool had = r->have_cred;

    cmn_wipe(&r->cred, sizeof(r->cred));
    r->cred = j->cred;
    r->have_cred = true;
    r->cred_wait_ms = 0;
    r->cred_error = NULL;
    /* a Kc shorter than KC_RENEW_S (the enrolment ends soon) is not replaced at every
     * turn, nor a certificate renewed again and again: at most one per CRED_RETRY_MAX_MS */
    r->cred_next_ms = now_ms + CRED_RETRY_MAX_MS;
    if (strcmp(r->cred.enrolee_id, r->cfg->cse_id) != 0)
        CMN_WARN(SUB,
                 "event=enrolee_id_not_cse_id enrolee_id=%s cse_id=%s "
                 "msg=\"the registrar binds the session to the Enrolee-ID\"",
                 r->cred.enrolee_id, r->cfg->cse_id);
    if (j->mode == JOB_REPROVISION) {
        r->reprov = false;
        r->cred_fatal = false;
        r->hs_fail = 0;
        CMN_INFO(SUB, "event=reprovisioned enrolee_id=%s provisioning=%s credential=%s",
                 r->cred.enrolee_id, r->cfg->registrar_prov, kind_name(r->kind));
    }
    if (r->kind == CRED_CERT)
        CMN_INFO(SUB, "event=%s credential=cert enrolee_id=%s cert=%s serial=%s not_after=%lld%s",
                 j->mode == JOB_RENEW ? "cert_renewed" : "credential_loaded", r->cred.enrolee_id,
                 r->cred.crt, r->cred.serial, (long long)r->cred.not_after,
                 j->enrolled_now ? " enrolled=true" : "");
    else
        CMN_INFO(SUB,
                 "event=credential_loaded credential=%s enrolee_id=%s identity=%s expires=%lld%s",
                 kind_name(r->kind), r->cred.enrolee_id, r->cred.identity,
                 (long long)r->cred.expires, j->enrolled_now ? " enrolled=true" : "");
    if (r->kind == CRED_KPSA)
        CMN_INFO(SUB, "event=enrolment_loaded enrolee_id=%s kpsa_id=%s", r->cred.enrolee_id,
                 r->cred.identity);
    /* a renewed certificate, a new enrolment, a Kc for a refused one: the session goes
     * over to it now (a Kc near its end: the session goes on until the registrar ends
     * it) */
    r->reconnect = had && (j->mode != JOB_GET);
    if (j->mode != JOB_GET)
        r->hs_fail = 0; /* a new credential: its handshakes counted anew */
}

static void take_job(cse_registree *r, int64_t now_ms)
{
    cred_job *j = r->job;
    bool refused;

    if (j == NULL || !atomic_load(&j->done))
        return;
    pthread_join(j->thread, NULL); /* it has ended: at once */
    r->job = NULL;
    refused = j->rc == CMN_EDENIED;
    if (j->rc == 0 && j->unchanged) {
        r->reprov = false;
        CMN_INFO(SUB, "event=provisioning_unchanged provisioning=%s", r->cfg->registrar_prov);
    } else if (j->rc == 0) {
        take_ok(r, j, now_ms);
    } else if (strcmp(j->step, "mismatch") == 0) {
        r->cred_fatal = true; /* another registrar's enrolment: the operator's to fix */
        r->reprov = false;
        r->cred_error = "enrolment_mismatch";
        CMN_ERR(SUB, "event=enrolment_mismatch enrolment_registrar=%s registrar=%s",
                j->registrar_seen, r->cfg->registrar_cse_id);
    } else {
        r->cred_wait_ms = r->cred_wait_ms == 0 ? CRED_RETRY_MS : r->cred_wait_ms * 2;
        if (r->cred_wait_ms > CRED_RETRY_MAX_MS)
            r->cred_wait_ms = CRED_RETRY_MAX_MS;
        r->cred_next_ms = now_ms + r->cred_wait_ms;
        r->reprov_next_ms = r->cred_next_ms;
        if (j->mode == JOB_RENEW)
            r->cred_error = refused ? "cert_renewal_refused" : "cert_renewal_failed";
        else if (strcmp(j->step, "enrol") == 0 || strcmp(j->step, "cert") == 0)
            r->cred_error = refused ? "enrolment_refused" : "enrolment_failed";
        else
            r->cred_error = "credential_failed";
        /* refused by the MEF (revoked, or a provisioning file it does not know yet):
         * never anything but this file's Kpm, retried with backoff */
        CMN_WARN(SUB, "event=%s credential=%s step=%s provisioning=%s err=%s retry_ms=%d for=%s",
                 r->cred_error, kind_name(r->kind), j->step, r->cfg->registrar_prov,
                 cmn_strerror(j->rc), r->cred_wait_ms, mode_name(j->mode));
    }
    cmn_free_secret(j, sizeof(*j));
}

/* The certificate's renewal is due: less than [registrar] renew_margin_s left, or
 * half its lifetime gone when that comes later (a margin longer than the lifetime
 * would renew at every turn). */
static bool cert_renewal_due(const cse_registree *r, int64_t now)
{
    int64_t margin = r->cfg->registrar_renew_margin_s;
    int64_t half = (r->cred.not_after - r->cred.not_before) / 2;

    if (r->cred.not_after == 0)
        return false;
    return r->cred.not_after - now < (half < margin ? half : margin);
}

/* Which run of the worker is due now, if any: a new provisioning file, no credential
 * yet, a Kc the registrar refuses, a Kc near its end, a certificate to renew. */
static bool cred_wanted(const cse_registree *r, int64_t now_ms, job_mode *mode)
{
    int64_t now = (int64_t)time(NULL);

    if (!r->dtls || r->job != NULL)
        return false;
    if (r->reprov) {
        *mode = JOB_REPROVISION;
        return now_ms >= r->reprov_next_ms;
    }
    if (r->cred_fatal)
        return false;
    if (r->kind == CRED_MAF && r->have_cred && r->kc_refused) {
        *mode = JOB_NEW_KC;
        return now_ms >= r->kc_next_ms;
    }
    if (now_ms < r->cred_next_ms)
        return false;
    *mode = JOB_GET;
    if (!r->have_cred)
        return true;
    if (r->kind == CRED_CERT) {
        *mode = JOB_RENEW;
        return cert_renewal_due(r, now);
    }
    return r->kind == CRED_MAF && r->cred.expires - now < KC_RENEW_S;
}

/* A new provisioning file at [registrar] provisioning (the operator re-provisioned the
 * MN-CSE): looked at once a second; the worker enrols with it if it is not the one
 * the enrolment was made with. */
static bool prov_changed(const struct stat *a, const struct stat *b)
{
    return a->st_ino != b->st_ino || a->st_size != b->st_size ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static void watch_prov(cse_registree *r, int64_t now_ms)
{
    struct stat st;

    if (!r->dtls || now_ms < r->prov_check_ms)
        return;
    r->prov_check_ms = now_ms + PROV_CHECK_MS;
    if (stat(r->cfg->registrar_prov, &st) != 0 || !prov_changed(&st, &r->prov_st))
        return;
    r->prov_st = st;
    r->reprov = true;
    r->reprov_next_ms = 0;
    CMN_INFO(SUB, "event=provisioning_changed provisioning=%s", r->cfg->registrar_prov);
}

int cse_registree_reload(cse_registree *r)
{
    if (r == NULL || !r->dtls)
        return CMN_EINVAL;
    r->reprov = true;
    r->reprov_next_ms = 0;
    CMN_INFO(SUB, "event=provisioning_reread provisioning=%s", r->cfg->registrar_prov);
    return 0;
}

/* ---- the session ------------------------------------------------------------------- */

/* "coap[s]://HOST:PORT" (validated by the configuration) -> address. */
static int address_of(const char *poa, coap_address_t *ret)
{
    const char *hp = strstr(poa, "://");

    return hp != NULL ? cmn_coap_parse_listen(hp + 3, ret) : CMN_EINVAL;
}

static void drop_session(cse_registree *r)
{
    coap_session_t *s = r->s;

    if (s == NULL)
        return;
    r->s = NULL; /* before the exchanges on it are failed (their callbacks run now) */
    r->s_up = false;
    cse_client_session_gone(r->cl, s);
    cse_saef_unbind_peer(s);
    coap_session_release(s);
}

/* The session ended. One that never came up is a failed handshake: the registrar
 * refuses the credential (revoked, expired, a Kc it cannot get), or is away. Retried
 * 1 s, then doubling to 30 s; a Kc refused twice is replaced at once (kc_retry_s
 * bounding); the Kpsa or certificate is not: the MN-CSE does not re-enrol by itself
 * with the same provisioning (fail closed), it waits for a new one. */
static void session_ended(cse_registree *r, int64_t now_ms)
{
    int64_t wait = RETRY_MS;

    if (r->s == NULL)
        return;
    if (r->s_up) {
        r->hs_fail = 0;
        drop_session(r);
        return;
    }
    drop_session(r);
    r->hs_fail++;
    for (int i = 1; i < r->hs_fail && wait < CRED_RETRY_MAX_MS; i++)
        wait *= 2;
    r->next_ms = now_ms + (wait < CRED_RETRY_MAX_MS ? wait : CRED_RETRY_MAX_MS);
    if (r->kind == CRED_MAF && r->dtls && r->hs_fail >= HS_KC_REFUSED_AFTER && !r->kc_refused &&
        r->job == NULL) {
        r->kc_refused = true;
        CMN_WARN(SUB, "event=kc_refused identity=%s failures=%d msg=\"a new Kc%s\"",
                 r->cred.identity, r->hs_fail, now_ms < r->kc_next_ms ? " after kc_retry_s" : "");
    } else if (r->kind != CRED_MAF && r->dtls && r->hs_fail == HS_REFUSED_AFTER) {
        CMN_ERR(SUB,
                "event=registrar_refuses_credential credential=%s identity=%s failures=%d "
                "provisioning=%s msg=\"revoked or expired? no re-enrolment with the same "
                "provisioning: re-provision the MN-CSE (a new file there, or SIGHUP)\"",
                kind_name(r->kind), r->kind == CRED_CERT ? r->cred.serial : r->cred.identity,
                r->hs_fail, r->cfg->registrar_prov);
    }
}

/* The registrar's certificate (TS-0003 8.2.2.2, the CSE as Entity A): libcoap has
 * checked its chain to the enrolment's trust anchor (validated); the end-entity one
 * must name the registrar, subjectAltName "onem2m:<registrar CSE-ID>". */
static int check_registrar_cert(const char *cn, const uint8_t *der, size_t der_len,
                                coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const cse_registree *r = arg;
    cmn_cert_info info;
    const char *id = NULL;

    (void)cn;
    (void)session;
    if (!validated) {
        CMN_WARN(SUB, "event=registrar_cert_refused reason=chain depth=%u", depth);
        return 0;
    }
    if (depth > 0)
        return 1;
    if (cmn_pki_peer_id(der, der_len, &info, &id) != 0 ||
        strcmp(id, r->cfg->registrar_cse_id) != 0) {
        CMN_WARN(SUB, "event=registrar_cert_refused reason=wrong_san san=%s registrar=%s",
                 id != NULL ? id : "-", r->cfg->registrar_cse_id);
        return 0;
    }
    return 1;
}

static coap_session_t *open_cert(cse_registree *r, const coap_address_t *a)
{
    coap_dtls_pki_t setup = {.version = COAP_DTLS_PKI_SETUP_VERSION};

    setup.verify_peer_cert = 1;
    setup.check_common_ca = 1;
    setup.cert_chain_validation = 1;
    setup.cert_chain_verify_depth = 2;
    setup.validate_cn_call_back = check_registrar_cert;
    setup.cn_call_back_arg = r;
    setup.client_sni = r->sni;
    setup.pki_key.key_type = COAP_PKI_KEY_PEM;
    setup.pki_key.key.pem.public_cert = r->cred.crt; /* libcoap keeps the pointers */
    setup.pki_key.key.pem.private_key = r->cred.crt_key;
    setup.pki_key.key.pem.ca_file = r->cred.ca;
    return coap_new_client_session_pki(r->ctx, NULL, a, COAP_PROTO_DTLS, &setup);
}

static coap_session_t *open_psk(cse_registree *r, const coap_address_t *a)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};

    setup.client_sni = r->sni;
    setup.psk_info.identity.s = (const uint8_t *)r->cred.identity;
    setup.psk_info.identity.length = strlen(r->cred.identity);
    setup.psk_info.key.s = r->cred.key;
    setup.psk_info.key.length = CMN_KEY_LEN;
    return coap_new_client_session_psk2(r->ctx, NULL, a, COAP_PROTO_DTLS, &setup);
}

static int open_session(cse_registree *r, coap_session_t **ret)
{
    coap_address_t a;

    *ret = NULL;
    if (address_of(r->cfg->registrar_poa, &a) != 0)
        return CMN_EINVAL;
    if (r->dtls && !r->have_cred) {
        return CMN_ESTATE; /* the worker is getting it */
    } else if (r->dtls) {
        *ret = r->kind == CRED_CERT ? open_cert(r, &a) : open_psk(r, &a);
    } else {
        *ret = coap_new_client_session(r->ctx, NULL, &a, COAP_PROTO_UDP);
    }
    if (*ret == NULL)
        return CMN_ECOAP;
    /* requests the registrar sends back on it are its own (cse_saef.h) */
    return cse_saef_bind_peer(*ret, r->cfg->registrar_cse_id);
}

static int connect_registrar(cse_registree *r)
{
    return open_session(r, &r->s);
}

static void release_extra(cse_registree *r, coap_session_t **s)
{
    if (*s == NULL)
        return;
    cse_client_session_gone(r->cl, *s);
    cse_saef_unbind_peer(*s);
    coap_session_release(*s);
    *s = NULL;
}

/* Make before break: a new credential (a renewed certificate, a new enrolment, a new
 * Kc) while the session is up opens a second session with it; once that one is up it
 * becomes the uplink (the registrar's route goes over to it) and the old one stays
 * ANSWER_WAIT_MS for the answers on their way, then goes. A new session that does not
 * come up within ANSWER_WAIT_MS is given up and tried again 5 s later; the old one
 * serves meanwhile (its credential is still good until the registrar says otherwise). */
static void switch_sessions(cse_registree *r, int64_t now_ms)
{
    coap_session_state_t st;

    if (r->s_old != NULL && now_ms >= r->s_old_until) {
        CMN_INFO(SUB, "event=registrar_old_session_released");
        release_extra(r, &r->s_old);
    }
    if (r->s_next == NULL)
        return;
    if (r->s == NULL) { /* the old one went meanwhile: the new one is the session */
        r->s = r->s_next;
        r->s_next = NULL;
        return;
    }
    st = coap_session_get_state(r->s_next);
    if (st == COAP_SESSION_STATE_ESTABLISHED && !r->waiting) {
        release_extra(r, &r->s_old);
        r->s_old = r->s;
        r->s_old_until = now_ms + ANSWER_WAIT_MS;
        r->s = r->s_next;
        r->s_next = NULL;
        r->s_up = true;
        r->hs_fail = 0;
        r->next_ms = now_ms; /* the registration checked on it at once */
        CMN_INFO(SUB, "event=registrar_session_switched credential=%s", kind_name(r->kind));
    } else if (st == COAP_SESSION_STATE_NONE || now_ms >= r->s_next_until) {
        CMN_WARN(SUB,
                 "event=registrar_switch_failed credential=%s reason=%s msg=\"the old "
                 "session serves; tried again in 5 s\"",
                 kind_name(r->kind), st == COAP_SESSION_STATE_NONE ? "handshake" : "timeout");
        release_extra(r, &r->s_next);
        r->reconnect = true;
        r->reconnect_ms = now_ms + 5000;
    }
}

coap_session_t *cse_registree_session(void *arg)
{
    cse_registree *r = arg;

    if (r == NULL || r->s == NULL || coap_session_get_state(r->s) != COAP_SESSION_STATE_ESTABLISHED)
        return NULL;
    return r->s;
}

/* ---- the exchanges ------------------------------------------------------------------ */

static void answered(void *arg, const coap_pdu_t *answer);

static char *csr_body(cse_registree *r, bool create)
{
    json_t *dcse = cse_csr_descendants(r->node);
    json_t *a =
        json_pack("{s:[s], s:b, s:[s,s,s]}", "poa", r->poa, "rr", true, "srv", "2a", "3", "4");
    char cb[300];
    char *text;

    if (a == NULL || dcse == NULL) {
        json_decref(a);
        json_decref(dcse);
        return NULL;
    }
    free(r->dcse_sent);
    r->dcse_sent = json_dumps(dcse, JSON_COMPACT);
    json_object_set_new(a, "dcse", dcse);
    /* TS-0003 8.4.2 A: the Receiver's <remoteCSE> says so. Over a security association
     * only: a plain CoAP registrar may be another implementation (the ACME CSE refuses
     * the attribute with 4000, integration 143), and ESPrim needs the SA's keys anyway */
    if (r->node->esprim != NULL && r->dtls)
        json_object_set_new(a, "esi", cse_esprim_esi(r->node->esprim, (int64_t)time(NULL)));
    if (create) {
        snprintf(cb, sizeof(cb), "%s/%s", r->node->cse_id, r->node->cse_name);
        json_object_set_new(a, "rn", json_string(r->rn));
        json_object_set_new(a, "csi", json_string(r->node->cse_id));
        json_object_set_new(a, "cb", json_string(cb));
        json_object_set_new(a, "cst", json_integer(CMN_CST_MN));
    }
    a = json_pack("{s:o}", "m2m:csr", a); /* a is the wrapper's now */
    text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static void send_step(cse_registree *r, step st)
{
    char path[300], rqi[48];
    char *body = NULL;
    cse_client_req q = {.from = r->node->cse_id, .rqi = rqi, .timeout_ms = ANSWER_WAIT_MS};

    snprintf(rqi, sizeof(rqi), "reg-%llu-%d", (unsigned long long)cmn_mono_ms(), (int)st);
    switch (st) {
    case STEP_CREATE:
        q.code = COAP_REQUEST_CODE_POST;
        q.ty = CMN_TY_CSR;
        snprintf(path, sizeof(path), "%s", r->rname);
        body = csr_body(r, true);
        break;
    case STEP_UPDATE:
        q.code = COAP_REQUEST_CODE_PUT;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        body = csr_body(r, false);
        break;
    case STEP_CHECK:
        q.code = COAP_REQUEST_CODE_GET;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        break;
    case STEP_REGISTRAR:
        q.code = COAP_REQUEST_CODE_GET;
        snprintf(path, sizeof(path), "%s", r->rname);
        break;
    case STEP_DELETE:
        q.code = COAP_REQUEST_CODE_DELETE;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        break;
    }
    q.path = path;
    q.body = body;
    q.body_len = body != NULL ? strlen(body) : 0;
    r->step = st;
    r->xid = cse_client_request(r->cl, r->s, &q, answered, r);
    r->waiting = r->xid != 0;
    free(body);
    if (!r->waiting)
        r->next_ms = cmn_mono_ms() + RETRY_MS;
}

/* The registrar as a <remoteCSE> here (TS-0004 7.4.4.2.1 Originator: "create a
 * <remoteCSE> resource locally"), from its CSEBase; written again when it is there. */
static void store_registrar(cse_registree *r, const char *body)
{
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    json_t *cb = json_object_get(root, "m2m:cb");
    const char *csi = r->node->registrar_csi;
    char path[CSE_PATH_MAX], cbaddr[300];
    Tep__Resource *base = NULL, *old = NULL, *made = NULL;
    json_t *a;
    unsigned rsc;
    json_t *srv;

    snprintf(cbaddr, sizeof(cbaddr), "%s/%s", csi, r->rname);
    srv = json_is_array(json_object_get(cb, "srv")) ? json_incref(json_object_get(cb, "srv"))
                                                    : json_pack("[s]", "3");

    a = json_pack("{s:s, s:s, s:i, s:[s], s:b, s:o}", "csi", csi, "cb", cbaddr, "cst",
                  (int)json_integer_value(json_object_get(cb, "cst")) > 0
                      ? (int)json_integer_value(json_object_get(cb, "cst"))
                      : CMN_CST_IN,
                  "poa", r->cfg->registrar_poa, "rr", true, "srv", srv);
    if (a != NULL && json_is_object(json_object_get(cb, "esi"))) /* its e2eSecInfo, as shown */
        json_object_set(a, "esi", json_object_get(cb, "esi"));
    snprintf(path, sizeof(path), "%s/%s", r->node->cse_name, csi + 1);
    if (a == NULL || cse_res_get(r->node->store, r->node->cse_name, &base) != 0) {
        rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    } else if (cse_res_get(r->node->store, path, &old) == 0) {
        json_object_del(a, "csi");
        json_object_del(a, "cb");
        json_object_del(a, "cst");
        rsc = cse_res_update(r->node->store, old, a, (int64_t)time(NULL), &made);
    } else {
        cse_res_create_in in = {.ty = CMN_TY_CSR,
                                .attrs = a,
                                .originator = csi,
                                .ae_id = "",
                                .now = (int64_t)time(NULL)};
        json_object_set_new(a, "rn", json_string(csi + 1));
        rsc = cse_res_create(r->node->store, base, &in, &made);
    }
    CMN_INFO(SUB, "event=registrar_represented path=%s rsc=%u", path, rsc);
    cse_res_free(made);
    cse_res_free(old);
    cse_res_free(base);
    json_decref(a);
    json_decref(root);
}

/* De-registered: the registrar's representation here goes too (TS-0004 7.4.4.2.4). */
static void drop_registrar(cse_registree *r)
{
    char path[CSE_PATH_MAX];
    Tep__Resource *old = NULL;

    snprintf(path, sizeof(path), "%s/%s", r->node->cse_name, r->node->registrar_csi + 1);
    if (cse_res_get(r->node->store, path, &old) == 0)
        cse_res_delete(r->node->store, old, (int64_t)time(NULL));
    cse_res_free(old);
}

static bool dcse_changed(cse_registree *r, const char *body)
{
    json_t *dcse = cse_csr_descendants(r->node);
    char *now = dcse != NULL ? json_dumps(dcse, JSON_COMPACT) : NULL;
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    json_t *there = json_object_get(json_object_get(root, "m2m:csr"), "dcse");
    bool changed = now == NULL || !json_equal(there != NULL ? there : json_array(), dcse);

    free(now);
    json_decref(dcse);
    json_decref(root);
    return changed;
}

static void registered(cse_registree *r, const char *how)
{
    if (!r->registered) {
        r->n_registrations++;
        CMN_INFO(SUB, "event=registered registrar=%s how=%s rn=%s", r->node->registrar_csi, how,
                 r->rn);
    }
    r->registered = true;
    r->node->csr_changed = false;
}

static void answered(void *arg, const coap_pdu_t *answer)
{
    cse_registree *r = arg;
    cse_rsp a;
    int64_t now = cmn_mono_ms();

    r->waiting = false;
    r->xid = 0;
    if (answer != NULL && r->s != NULL) {
        r->s_up = true; /* an answer came: the handshake went through */
        r->hs_fail = 0;
        r->kc_refused = false;
    }
    if (answer == NULL) { /* the registrar restarted or is away: a new session next time */
        CMN_WARN(SUB, "event=registrar_not_answering step=%d", (int)r->step);
        r->registered = r->step == STEP_DELETE ? r->registered : false;
        r->stale = true;
        r->next_ms = now + RETRY_MS;
        return;
    }
    cse_client_read_answer(answer, &a);
    r->next_ms = now; /* the next step at once, unless said otherwise below */
    switch (r->step) {
    case STEP_CREATE:
        if (a.rsc == CMN_RSC_CREATED) {
            registered(r, "create");
            send_step(r, STEP_REGISTRAR);
        } else if (a.rsc == CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED ||
                   a.rsc == CMN_RSC_CONFLICT) {
            send_step(r, STEP_UPDATE); /* there from before this start */
        } else {
            CMN_WARN(SUB, "event=registration_refused rsc=%u", a.rsc);
            r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        }
        break;
    case STEP_UPDATE:
        if (a.rsc == CMN_RSC_UPDATED) {
            registered(r, "update");
            send_step(r, STEP_REGISTRAR);
        } else if (a.rsc == CMN_RSC_NOT_FOUND) {
            /* deleted there (de-registered by its admin, or its store is new) between a
             * check and this update: lost as a check would have found; again at once */
            CMN_WARN(SUB, "event=registration_lost rsc=%u step=update", a.rsc);
            r->registered = false;
        } else {
            CMN_WARN(SUB, "event=registration_update_refused rsc=%u", a.rsc);
            r->registered = false;
            r->next_ms = now + RETRY_MS;
        }
        break;
    case STEP_CHECK:
        if (a.rsc == CMN_RSC_OK && (r->node->csr_changed || dcse_changed(r, a.body))) {
            send_step(r, STEP_UPDATE);
        } else if (a.rsc == CMN_RSC_OK) {
            r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        } else {
            CMN_WARN(SUB, "event=registration_lost rsc=%u step=check", a.rsc);
            r->registered = false; /* deleted there, or its store is new: again */
        }
        break;
    case STEP_DELETE:
        if (a.rsc == CMN_RSC_DELETED || a.rsc == CMN_RSC_NOT_FOUND) {
            r->registered = false;
            r->leaving = false;
            r->left = true;
            drop_registrar(r);
            CMN_INFO(SUB, "event=deregistered registrar=%s rsc=%u", r->node->registrar_csi, a.rsc);
        } else {
            CMN_WARN(SUB, "event=deregistration_refused rsc=%u", a.rsc);
            r->next_ms = now + RETRY_MS;
        }
        break;
    case STEP_REGISTRAR: /* its CSEBase may be closed to us (4103): what we know then */
        store_registrar(r, a.rsc == CMN_RSC_OK ? a.body : NULL);
        r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        break;
    }
    cse_rsp_clear(&a);
}

void cse_registree_process(cse_registree *r, int64_t now_ms)
{
    job_mode mode = JOB_GET;

    if (r == NULL)
        return;
    take_job(r, now_ms);
    watch_prov(r, now_ms);
    if (cred_wanted(r, now_ms, &mode)) {
        if (mode == JOB_NEW_KC) {
            r->kc_refused = false;
            r->kc_next_ms = now_ms + (int64_t)r->cfg->registrar_kc_retry_s * 1000;
        }
        start_job(r, mode);
    }
    if (r->s != NULL && !r->s_up &&
        coap_session_get_state(r->s) == COAP_SESSION_STATE_ESTABLISHED) {
        r->s_up = true;
        r->hs_fail = 0;
        r->kc_refused = false;
    }
    /* closed by the registrar (e.g. revoked: close_notify) or failed, also while an
     * exchange waits on it: that exchange fails now (cse_client_session_gone), not at its
     * timeout */
    if (r->s != NULL && coap_session_get_state(r->s) == COAP_SESSION_STATE_NONE) {
        CMN_WARN(SUB, "event=registrar_session_closed handshake=%s", r->s_up ? "done" : "failed");
        session_ended(r, now_ms);
        r->registered = false;
        r->stale = false;
    }
    switch_sessions(r, now_ms);
    if (r->waiting || r->left || (r->dtls && !r->have_cred))
        return;
    if (r->stale) {
        r->stale = false;
        session_ended(r, now_ms);
    }
    if (r->reconnect && now_ms >= r->reconnect_ms && r->s_next == NULL) {
        /* a new credential: over to it (the registration stays) */
        r->reconnect = false;
        if (r->s != NULL && r->s_up && open_session(r, &r->s_next) == 0) { /* make before break */
            r->s_next_until = now_ms + ANSWER_WAIT_MS;
            CMN_INFO(SUB,
                     "event=registrar_reconnect reason=new_credential credential=%s how=overlap",
                     kind_name(r->kind));
        } else {
            release_extra(r, &r->s_next); /* open_session may leave one unbound */
            if (r->s != NULL)
                CMN_INFO(SUB,
                         "event=registrar_reconnect reason=new_credential credential=%s how=new",
                         kind_name(r->kind));
            drop_session(r);
            r->next_ms = now_ms;
        }
    }
    if (now_ms < r->next_ms && !(r->registered && r->node->csr_changed))
        return;
    if (r->s == NULL && connect_registrar(r) != 0) {
        r->next_ms = now_ms + RETRY_MS;
        return;
    }
    send_step(r, r->leaving ? STEP_DELETE : r->registered ? STEP_CHECK : STEP_CREATE);
}

int cse_registree_leave(cse_registree *r)
{
    if (r == NULL)
        return CMN_EINVAL;
    r->leaving = true;
    r->next_ms = 0; /* at the next turn (after an exchange on its way) */
    CMN_INFO(SUB, "event=deregistration_asked registrar=%s", r->node->registrar_csi);
    return 0;
}

int cse_registree_rejoin(cse_registree *r)
{
    if (r == NULL)
        return CMN_EINVAL;
    r->leaving = r->left = false;
    r->registered = false;
    r->next_ms = 0;
    CMN_INFO(SUB, "event=registration_asked registrar=%s", r->node->registrar_csi);
    return 0;
}

/* ---- life ------------------------------------------------------------------------- */

static void own_poa(cse_registree *r)
{
    const char *cfg = r->cfg->poa;

    if (cfg[0] != '\0')
        snprintf(r->poa, sizeof(r->poa), "%s", cfg);
    else if (r->dtls || r->cfg->coap_listen[0] == '\0')
        snprintf(r->poa, sizeof(r->poa), "coaps://%s/", r->cfg->coaps_listen);
    else /* the root's '/': the ACME CSE appends "~/..." to a poa as it is */
        snprintf(r->poa, sizeof(r->poa), "coap://%s/", r->cfg->coap_listen);
}

int cse_registree_new(const cse_config *cfg, cse_node *node, coap_context_t *ctx, cse_client *cl,
                      cse_registree **ret)
{
    cse_registree *r = calloc(1, sizeof(*r));
    coap_uri_t u;

    *ret = NULL;
    if (r == NULL)
        return CMN_ENOMEM;
    r->cfg = cfg;
    r->node = node;
    r->ctx = ctx;
    r->cl = cl;
    r->dtls = strncmp(cfg->registrar_poa, "coaps://", 8) == 0;
    snprintf(r->rn, sizeof(r->rn), "%s", cfg->cse_id + 1);
    snprintf(r->rname, sizeof(r->rname), "%s",
             cfg->registrar_name[0] != '\0' ? cfg->registrar_name : cfg->registrar_cse_id + 1);
    if (coap_split_uri((const uint8_t *)cfg->registrar_poa, strlen(cfg->registrar_poa), &u) == 0)
        snprintf(r->sni, sizeof(r->sni), "%.*s", (int)u.host.length, (const char *)u.host.s);
    own_poa(r);
    r->kind = strcmp(cfg->registrar_credential, "cert") == 0  ? CRED_CERT
              : strcmp(cfg->registrar_credential, "maf") == 0 ? CRED_MAF
                                                              : CRED_KPSA;
    node->csr_changed = false;
    CMN_INFO(SUB, "event=registree registrar=%s poa=%s over=%s own_poa=%s", cfg->registrar_cse_id,
             cfg->registrar_poa,
             !r->dtls               ? "plain_coap"
             : r->kind == CRED_CERT ? "dtls_cert"
             : r->kind == CRED_MAF  ? "dtls_psk_kc"
                                    : "dtls_psk_kpsa",
             r->poa);
    if (r->dtls) {
        if (stat(cfg->registrar_prov, &r->prov_st) != 0)
            memset(&r->prov_st, 0, sizeof(r->prov_st));
        start_job(r, JOB_GET); /* the enrolment (first start), certificate or Kc: in the
                                  background */
    }
    *ret = r;
    return 0;
}

void cse_registree_free(cse_registree *r)
{
    if (r == NULL)
        return;
    if (r->xid != 0)
        cse_client_forget(r->cl, r->xid);
    release_extra(r, &r->s_next);
    release_extra(r, &r->s_old);
    drop_session(r);
    end_job(r);
    free(r->dcse_sent);
    cmn_wipe(&r->cred, sizeof(r->cred));
    free(r);
}

bool cse_registree_registered(const cse_registree *r)
{
    return r != NULL && r->registered;
}

uint64_t cse_registree_count(const cse_registree *r)
{
    return r != NULL ? r->n_registrations : 0;
}

void cse_registree_info(const cse_registree *r, cse_registree_status *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->credential = "-";
    ret->state = "-";
    if (r == NULL)
        return;
    ret->credential = r->dtls ? kind_name(r->kind) : "plain_coap";
    if (r->have_cred) {
        snprintf(ret->id, sizeof(ret->id), "%s",
                 r->kind == CRED_CERT ? r->cred.serial : r->cred.identity);
        ret->expires = r->kind == CRED_CERT ? r->cred.not_after : r->cred.expires;
    }
    ret->error = r->cred_error;
    if (r->left)
        ret->state = "deregistered";
    else if (r->registered)
        ret->state = "registered";
    else if (r->cred_fatal)
        ret->state = "enrolment_mismatch";
    else if (r->dtls && !r->have_cred)
        ret->state = r->cred_error != NULL ? r->cred_error : "obtaining_credential";
    else if (r->dtls && r->hs_fail >= HS_REFUSED_AFTER)
        ret->state = "credential_refused";
    else
        ret->state = "connecting";
}
