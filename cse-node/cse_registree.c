/* The MN-CSE's registration to its registrar (see cse_registree.h). */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

typedef enum { CRED_KPSA, CRED_CERT, CRED_MAF } cred_kind;

/* The MN-CSE's credential for the SAEF with its registrar (TS-0003 8.2.2), obtained
 * through libtepae by the worker thread: the enrolment (MEF), the certificate (tep CA),
 * the Kc (MAF), none of which the loop waits for. */
typedef struct {
    char identity[CMN_KEY_ID_MAX]; /* PSK: KpsaID or the Kc's Key Identifier */
    uint8_t key[CMN_KEY_LEN];      /* PSK: Kpsa or Kc */
    char crt[PATH_MAX], crt_key[PATH_MAX], ca[PATH_MAX]; /* cert: the files */
    char enrolee_id[256];
    int64_t expires; /* Unix s: the Kc's, else the enrolment's */
} credential;

/* One run of the worker: inputs copied, outputs written, then done set. The loop joins
 * the thread once done (at once), or at the end, waiting for it: each SDK call is
 * bounded by WORKER_TIMEOUT_MS, so a stop waits a few seconds at worst. */
#define WORKER_TIMEOUT_MS 3000
typedef struct {
    atomic_bool done;
    pthread_t thread;
    cred_kind kind;
    char prov[PATH_MAX], state_path[PATH_MAX], registrar_cse_id[256];
    int rc;
    const char *step; /* the step that failed: enrol, cert, maf_key, mismatch */
    bool enrolled_now;
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
    credential cred;      /* the one the sessions are opened with */
    cred_job *job;        /* the worker's run on its way, NULL when none */
    int64_t cred_next_ms; /* the next run may start then */
    int cred_wait_ms;     /* after a failure: doubling up to CRED_RETRY_MAX_MS */
    bool cred_fatal;      /* the enrolment names another registrar: no retry */
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

/* The SDK's calls, blocking (each bounded by its timeout), in the worker thread only:
 * nothing here logs (the loop logs the outcome). */
static void obtain(cred_job *j)
{
    tep_device *dev = NULL;
    tep_kc *kc = NULL;
    credential *c = &j->cred;
    int rc = tep_device_load(j->prov, j->state_path, &dev);

    j->step = "load";
    tep_device_set_timeout(dev, WORKER_TIMEOUT_MS);
    if (rc == 0 && j->kind == CRED_CERT) {
        /* the certificate of the current enrolment (tep_enrol_cert: a new enrolment and
         * its certificate, issued to the Enrolee-ID, the CSE-ID) */
        bool have = tep_device_is_enrolled(dev) &&
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
        }
    } else if (rc == 0 && !tep_device_is_enrolled(dev)) {
        j->step = "enrol";
        rc = tep_enrol(dev);
        j->enrolled_now = rc == 0;
    }
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

static void start_job(cse_registree *r)
{
    cred_job *j = calloc(1, sizeof(*j));
    int rc;

    if (j == NULL)
        return;
    atomic_init(&j->done, false);
    j->kind = r->kind;
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
    CMN_INFO(SUB, "event=credential_asked credential=%s", kind_name(r->kind));
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
static void take_job(cse_registree *r, int64_t now_ms)
{
    cred_job *j = r->job;

    if (j == NULL || !atomic_load(&j->done))
        return;
    pthread_join(j->thread, NULL); /* it has ended: at once */
    r->job = NULL;
    if (j->rc == 0) {
        cmn_wipe(&r->cred, sizeof(r->cred));
        r->cred = j->cred;
        r->have_cred = true;
        r->cred_wait_ms = 0;
        /* a Kc shorter than KC_RENEW_S (the enrolment ends soon) is not replaced at
         * every turn: at most one new Kc per CRED_RETRY_MAX_MS */
        r->cred_next_ms = now_ms + CRED_RETRY_MAX_MS;
        if (strcmp(r->cred.enrolee_id, r->cfg->cse_id) != 0)
            CMN_WARN(SUB,
                     "event=enrolee_id_not_cse_id enrolee_id=%s cse_id=%s "
                     "msg=\"the registrar binds the session to the Enrolee-ID\"",
                     r->cred.enrolee_id, r->cfg->cse_id);
        if (r->kind == CRED_CERT)
            CMN_INFO(SUB, "event=credential_loaded credential=cert enrolee_id=%s cert=%s%s",
                     r->cred.enrolee_id, r->cred.crt, j->enrolled_now ? " enrolled=true" : "");
        else
            CMN_INFO(
                SUB,
                "event=credential_loaded credential=%s enrolee_id=%s identity=%s expires=%lld%s",
                kind_name(r->kind), r->cred.enrolee_id, r->cred.identity,
                (long long)r->cred.expires, j->enrolled_now ? " enrolled=true" : "");
        if (r->kind == CRED_KPSA)
            CMN_INFO(SUB, "event=enrolment_loaded enrolee_id=%s kpsa_id=%s", r->cred.enrolee_id,
                     r->cred.identity);
    } else if (j->rc == CMN_ECONFIG) {
        r->cred_fatal = true; /* another registrar's enrolment: the operator's to fix */
        CMN_ERR(SUB, "event=enrolment_mismatch enrolment_registrar=%s registrar=%s",
                j->registrar_seen, r->cfg->registrar_cse_id);
    } else {
        r->cred_wait_ms = r->cred_wait_ms == 0 ? CRED_RETRY_MS : r->cred_wait_ms * 2;
        if (r->cred_wait_ms > CRED_RETRY_MAX_MS)
            r->cred_wait_ms = CRED_RETRY_MAX_MS;
        r->cred_next_ms = now_ms + r->cred_wait_ms;
        CMN_WARN(SUB, "event=%s credential=%s step=%s provisioning=%s err=%s retry_ms=%d",
                 strcmp(j->step, "enrol") == 0 || strcmp(j->step, "cert") == 0
                     ? "enrolment_failed"
                     : "credential_failed",
                 kind_name(r->kind), j->step, r->cfg->registrar_prov, cmn_strerror(j->rc),
                 r->cred_wait_ms);
    }
    cmn_free_secret(j, sizeof(*j));
}

/* Whether a (new) credential is to be asked for now: none yet, or a Kc near its end. */
static bool cred_wanted(const cse_registree *r, int64_t now_ms)
{
    if (!r->dtls || r->job != NULL || r->cred_fatal || now_ms < r->cred_next_ms)
        return false;
    if (!r->have_cred)
        return true;
    return r->kind == CRED_MAF && r->cred.expires - (int64_t)time(NULL) < KC_RENEW_S;
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
    if (r->s == NULL)
        return;
    cse_client_session_gone(r->cl, r->s);
    cse_saef_unbind_peer(r->s);
    coap_session_release(r->s);
    r->s = NULL;
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

static int connect_registrar(cse_registree *r)
{
    coap_address_t a;

    if (address_of(r->cfg->registrar_poa, &a) != 0)
        return CMN_EINVAL;
    if (r->dtls && !r->have_cred) {
        return CMN_ESTATE; /* the worker is getting it */
    } else if (r->dtls) {
        r->s = r->kind == CRED_CERT ? open_cert(r, &a) : open_psk(r, &a);
    } else {
        r->s = coap_new_client_session(r->ctx, NULL, &a, COAP_PROTO_UDP);
    }
    if (r->s == NULL)
        return CMN_ECOAP;
    /* requests the registrar sends back on it are its own (cse_saef.h) */
    return cse_saef_bind_peer(r->s, r->cfg->registrar_cse_id);
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
            CMN_WARN(SUB, "event=registration_lost rsc=%u", a.rsc);
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
    if (r == NULL)
        return;
    take_job(r, now_ms);
    if (cred_wanted(r, now_ms))
        start_job(r);
    /* closed by the registrar (e.g. revoked: close_notify) or failed, also while an
     * exchange waits on it: that exchange fails now (cse_client_session_gone), not at its
     * timeout */
    if (r->s != NULL && coap_session_get_state(r->s) == COAP_SESSION_STATE_NONE) {
        CMN_WARN(SUB, "event=registrar_session_closed");
        drop_session(r);
        r->registered = false;
    }
    if (r->waiting || r->left || (r->dtls && !r->have_cred))
        return;
    if (r->stale) {
        r->stale = false;
        drop_session(r);
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
    if (r->dtls)
        start_job(r); /* the enrolment (first start), certificate or Kc: in the background */
    *ret = r;
    return 0;
}

void cse_registree_free(cse_registree *r)
{
    if (r == NULL)
        return;
    if (r->xid != 0)
        cse_client_forget(r->cl, r->xid);
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
