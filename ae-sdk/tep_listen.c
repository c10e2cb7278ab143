/* libtepae: the notification listener (SA2, TS-0003 8.2.1): a CoAPS server the
 * registrar CSE connects to as DTLS client with the credential of this device's own
 * association. Its libcoap context runs in a thread of its own; what it receives waits
 * in a bounded queue for tep_listener_next(). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>
#include <jansson.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_onem2m.h"
#include "cmn_pki.h"
#include "tae_client.h"
#include "tae_device.h"
#include "tae_maf_client.h"

#define LISTEN_SESSIONS_MAX 4 /* idle and handshaking sessions, each */
#define LISTEN_OPT_MAX 256    /* From, RQI: longer is refused (4.00) */
#define LISTEN_PATH_MAX 1024  /* certificate file paths */
#define N_CREDS 2             /* Kpsa, and one Kc (or MEF Kuc) */

typedef struct {
    char identity[CMN_KEY_ID_MAX]; /* "" = unused */
    uint8_t key[CMN_KEY_LEN];
    coap_bin_const_t psk;
} listen_cred;

typedef struct queued {
    struct queued *next;
    tep_notification *n;
} queued;

struct tep_listener {
    coap_context_t *ctx;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;
    bool stop;
    queued *head, **tail;
    size_t n_queued;
    unsigned long refused; /* handshakes with another identity, requests refused */
    listen_cred creds[N_CREDS];
    /* certificate SA2 (tep_listen_cert): the device's files, kept for libcoap (it keeps
     * the pointers), and the CSE-ID the client certificate must name */
    char crt[LISTEN_PATH_MAX], key[LISTEN_PATH_MAX], ca[LISTEN_PATH_MAX];
    char cse_id[TAE_ID_MAX];
    uint8_t unused_psk[CMN_KEY_LEN];
    tep_esprim_receiver *esprim; /* ESPrim exchanges answered with it (not queued) */
};

/* ---- credentials ------------------------------------------------------------------- */

static const coap_bin_const_t *check_identity(coap_bin_const_t *identity, coap_session_t *session,
                                              void *arg)
{
    tep_listener *l = arg;

    for (size_t i = 0; i < N_CREDS; i++) {
        const listen_cred *c = &l->creds[i];

        if (c->identity[0] != '\0' && identity->length == strlen(c->identity) &&
            memcmp(identity->s, c->identity, identity->length) == 0)
            return &c->psk;
    }
    pthread_mutex_lock(&l->lock);
    l->refused++;
    pthread_mutex_unlock(&l->lock);
    return NULL; /* not this device's association: the handshake fails */
}

static int add_cred(tep_listener *l, size_t i, const char *identity, const uint8_t *key)
{
    listen_cred *c = &l->creds[i];

    if (strlen(identity) >= sizeof(c->identity))
        return CMN_ERANGE;
    snprintf(c->identity, sizeof(c->identity), "%s", identity);
    memcpy(c->key, key, CMN_KEY_LEN);
    c->psk.s = c->key;
    c->psk.length = CMN_KEY_LEN;
    return 0;
}

/* The certificate files of tep_enrol_cert(), which must exist (CMN_ESTATE). */
static int cert_files(tep_listener *l, const tep_device *dev)
{
    char *paths[] = {l->crt, l->key, l->ca};
    const char *which[] = {"crt", "key", "ca"};

    for (size_t i = 0; i < 3; i++) {
        if (tep_device_cert_path(dev, which[i], paths[i], LISTEN_PATH_MAX) != 0)
            return CMN_ERANGE;
        if (access(paths[i], R_OK) != 0)
            return CMN_ESTATE;
    }
    if (snprintf(l->cse_id, sizeof(l->cse_id), "%s", dev->enr.registrar_cse_id) >=
        (int)sizeof(l->cse_id))
        return CMN_ERANGE;
    return 0;
}

/* ---- requests ---------------------------------------------------------------------- */

static char *opt_str(const coap_pdu_t *pdu, uint16_t num, bool *ok)
{
    char v[LISTEN_OPT_MAX] = "";
    int rc = cmn_coap_opt_str(pdu, num, v, sizeof(v));

    if (rc != 0 && rc != CMN_ENOTFOUND)
        *ok = false;
    return strdup(v);
}

static char *path_of(const coap_pdu_t *pdu)
{
    coap_string_t *p = coap_get_uri_path(pdu);
    char *s = p != NULL ? strndup((const char *)p->s, p->length) : strdup("");

    coap_delete_string(p);
    return s;
}

static bool is_verification(const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    bool v = json_is_true(json_object_get(json_object_get(j, "m2m:sgn"), "vrq"));

    json_decref(j);
    return v;
}

static void answer(coap_pdu_t *response, coap_pdu_code_t code, unsigned rsc, const char *rqi)
{
    uint8_t buf[4];

    coap_pdu_set_code(response, code);
    coap_add_option(response, CMN_OPT_RSC, coap_encode_var_safe(buf, sizeof(buf), rsc), buf);
    if (rqi != NULL)
        coap_add_option(response, CMN_OPT_RQI, strlen(rqi), (const uint8_t *)rqi);
    coap_add_option(response, CMN_OPT_RVI, 1, (const uint8_t *)"3");
}

static void release_body(coap_session_t *session, void *app_ptr)
{
    (void)session;
    free(app_ptr);
}

/* An ESPrim exchange with the AE (End-Point B) answered by its receiver: true. The
 * answer (an ESCertKE Message with the AE's certificate: over a kilobyte) goes out in
 * Block2 as needed. */
static bool esprim_answer(tep_listener *l, const tep_notification *n, coap_resource_t *resource,
                          coap_session_t *session, const coap_pdu_t *request, coap_pdu_t *response)
{
    tep_esprim_receiver *r;
    char *body = NULL;
    unsigned rsc = 0;

    pthread_mutex_lock(&l->lock);
    r = l->esprim;
    pthread_mutex_unlock(&l->lock);
    if (r == NULL || tep_esprim_receiver_handle(r, n->from, n->body, n->body_len, &rsc, &body) != 0)
        return false;
    answer(response,
           rsc < 3000   ? COAP_RESPONSE_CODE_CHANGED
           : rsc < 5000 ? COAP_RESPONSE_CODE_BAD_REQUEST
                        : COAP_RESPONSE_CODE_INTERNAL_ERROR,
           rsc, n->rqi);
    if (coap_add_data_large_response(resource, session, request, response, NULL, CMN_CF_JSON, -1, 0,
                                     strlen(body), (const uint8_t *)body, release_body, body))
        body = NULL;
    free(body);
    return true;
}

void tep_listener_set_esprim(tep_listener *l, tep_esprim_receiver *r)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->esprim = r;
    pthread_mutex_unlock(&l->lock);
}

static void on_post(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                    const coap_string_t *query, coap_pdu_t *response)
{
    tep_listener *l = coap_get_app_data(coap_session_get_context(session));
    const coap_bin_const_t *id = coap_session_get_psk_identity(session);
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    bool ok = true;
    tep_notification *n = calloc(1, sizeof(*n));
    queued *q = calloc(1, sizeof(*q));
    uint32_t ty = 0;

    (void)resource;
    (void)query;
    if (n == NULL || q == NULL)
        goto busy;
    n->from = opt_str(request, CMN_OPT_FR, &ok);
    n->rqi = opt_str(request, CMN_OPT_RQI, &ok);
    n->path = path_of(request);
    n->identity = id != NULL && id->s != NULL ? strndup((const char *)id->s, id->length)
                                              : strdup(""); /* a certificate session: none */
    coap_get_data_large(request, &len, &data, &off, &total);
    if (n->from == NULL || n->rqi == NULL || n->path == NULL || n->identity == NULL ||
        (n->body = malloc(len + 1)) == NULL)
        goto busy;
    if (!ok || len == 0 || len > TEP_LISTEN_BODY_MAX || total != len ||
        cmn_coap_opt_uint(request, CMN_OPT_TY, &ty) == 0) {
        answer(response, COAP_RESPONSE_CODE_BAD_REQUEST, CMN_RSC_BAD_REQUEST, n->rqi);
        goto refused;
    }
    memcpy(n->body, data, len);
    n->body[len] = '\0';
    n->body_len = len;
    n->verification = is_verification(n->body, len) ? 1 : 0;
    if (esprim_answer(l, n, resource, session, request, response))
        goto refused; /* answered: nothing queued */
    pthread_mutex_lock(&l->lock);
    if (l->n_queued >= TEP_LISTEN_QUEUE_MAX) {
        l->refused++;
        pthread_mutex_unlock(&l->lock);
        goto busy;
    }
    /* answered before n is queued: once queued, tep_listener_next() may free it */
    answer(response, COAP_RESPONSE_CODE_CHANGED, CMN_RSC_OK, n->rqi);
    q->n = n;
    *l->tail = q;
    l->tail = &q->next;
    l->n_queued++;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    return;
busy: /* the queue is full (or memory ran out): the CSE may try again later */
    answer(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE, CMN_RSC_INTERNAL_SERVER_ERROR,
           n != NULL ? n->rqi : NULL);
refused:
    tep_notification_free(n);
    free(q);
}

/* Anything but POST (a NOTIFY) is 4.05. */
static void on_other(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
                     const coap_string_t *query, coap_pdu_t *response)
{
    (void)resource;
    (void)session;
    (void)request;
    (void)query;
    answer(response, COAP_RESPONSE_CODE_NOT_ALLOWED, CMN_RSC_OPERATION_NOT_ALLOWED, NULL);
}

/* The registrar CSE's certificate (the client of SA2): chained to the device's trust
 * anchor (OpenSSL checked it before: validated) and naming the registrar's CSE-ID. */
static int check_cse_cert(const char *cn, const uint8_t *der, size_t der_len,
                          coap_session_t *session, unsigned depth, int validated, void *arg)
{
    tep_listener *l = arg;
    cmn_cert_info info;
    const char *id;
    int ok;

    (void)cn;
    (void)session;
    if (!validated)
        return 0;
    if (depth > 0)
        return 1;
    ok = cmn_pki_peer_id(der, der_len, &info, &id) == 0 && strcmp(id, l->cse_id) == 0;
    if (!ok) {
        pthread_mutex_lock(&l->lock);
        l->refused++;
        pthread_mutex_unlock(&l->lock);
    }
    return ok;
}

/* Certificate handshakes beside PSK: libcoap 4.3.1 (OpenSSL) looks for PSK suites only
 * when the context has a default PSK, so spsk gets a random one nobody holds (every
 * key comes from check_identity). */
static int setup_pki(tep_listener *l, coap_dtls_spsk_t *spsk)
{
    coap_dtls_pki_t pki = {.version = COAP_DTLS_PKI_SETUP_VERSION};

    if (cmn_random(l->unused_psk, CMN_KEY_LEN) != 0)
        return CMN_ECRYPTO;
    spsk->psk_info.key.s = l->unused_psk;
    spsk->psk_info.key.length = CMN_KEY_LEN;
    if (!coap_context_set_psk2(l->ctx, spsk))
        return CMN_ECOAP;
    pki.verify_peer_cert = 1;
    pki.check_common_ca = 1;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 2;
    pki.validate_cn_call_back = check_cse_cert;
    pki.cn_call_back_arg = l;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = l->crt;
    pki.pki_key.key.pem.private_key = l->key;
    pki.pki_key.key.pem.ca_file = l->ca;
    return coap_context_set_pki(l->ctx, &pki) ? 0 : CMN_ECOAP;
}

/* ---- the thread -------------------------------------------------------------------- */

static void *run(void *arg)
{
    tep_listener *l = arg;
    bool stop = false;

    while (!stop) {
        coap_io_process(l->ctx, 100);
        pthread_mutex_lock(&l->lock);
        stop = l->stop;
        pthread_mutex_unlock(&l->lock);
    }
    return NULL;
}

static int setup(tep_listener *l, const char *uri)
{
    coap_dtls_spsk_t spsk = {.version = COAP_DTLS_SPSK_SETUP_VERSION};
    const cmn_body_limits lim = {TEP_LISTEN_BODY_MAX, 1, LISTEN_SESSIONS_MAX};
    coap_uri_t parts;
    coap_address_t addr;
    coap_resource_t *r;

    if (coap_split_uri((const uint8_t *)uri, strlen(uri), &parts) < 0 ||
        parts.scheme != COAP_URI_SCHEME_COAPS || cmn_coap_uri_address(&parts, true, &addr) != 0)
        return CMN_EINVAL;
    tae_client_startup();
    if ((l->ctx = coap_new_context(NULL)) == NULL)
        return CMN_ECOAP;
    coap_set_app_data(l->ctx, l);
    if (cmn_coap_register_options(l->ctx) != 0)
        return CMN_ECOAP;
    coap_context_set_block_mode(l->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    cmn_coap_set_body_limits(l->ctx, &lim);
    coap_context_set_max_idle_sessions(l->ctx, LISTEN_SESSIONS_MAX);
    coap_context_set_max_handshake_sessions(l->ctx, LISTEN_SESSIONS_MAX);
    spsk.validate_id_call_back = check_identity;
    spsk.id_call_back_arg = l;
    if (!coap_context_set_psk2(l->ctx, &spsk))
        return CMN_ECOAP;
    if (l->crt[0] != '\0' && setup_pki(l, &spsk) != 0)
        return CMN_ECOAP;
    if ((r = coap_resource_unknown_init2(on_other, 0)) == NULL)
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_POST, on_post);
    coap_register_request_handler(r, COAP_REQUEST_GET, on_other);
    coap_register_request_handler(r, COAP_REQUEST_DELETE, on_other);
    coap_add_resource(l->ctx, r);
    if (!cmn_coap_port_free(&addr) || coap_new_endpoint(l->ctx, &addr, COAP_PROTO_DTLS) == NULL)
        return CMN_EIO;
    return 0;
}

static int listen_open(tep_device *dev, const char *uri, const tep_kc *kc, bool cert,
                       tep_listener **ret)
{
    tep_listener *l;
    pthread_condattr_t ca;
    const char *kc_id = NULL;
    const uint8_t *kc_key = NULL;
    int rc;

    if (dev == NULL || uri == NULL || ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (kc != NULL && tae_kc_psk(kc, &kc_id, &kc_key) != 0)
        return CMN_EINVAL;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return CMN_ENOMEM;
    l->tail = &l->head;
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    rc = add_cred(l, 0, dev->enr.kpsa_id, dev->enr.kpsa);
    if (rc == 0 && kc != NULL)
        rc = add_cred(l, 1, kc_id, kc_key);
    if (rc == 0 && cert)
        rc = cert_files(l, dev);
    if (rc == 0)
        rc = setup(l, uri);
    if (rc == 0 && pthread_create(&l->thread, NULL, run, l) != 0)
        rc = CMN_EIO;
    if (rc != 0) {
        tep_listener_free(l);
        return rc;
    }
    l->started = true;
    *ret = l;
    return 0;
}

int tep_listen(tep_device *dev, const char *uri, const tep_kc *kc, tep_listener **ret)
{
    return listen_open(dev, uri, kc, false, ret);
}

int tep_listen_cert(tep_device *dev, const char *uri, tep_listener **ret)
{
    return listen_open(dev, uri, NULL, true, ret);
}

int tep_listener_next(tep_listener *l, int timeout_ms, tep_notification **ret)
{
    struct timespec until;
    queued *q;
    int rc = 0;

    if (l == NULL || ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->lock);
    while (l->head == NULL && rc == 0)
        rc = timeout_ms <= 0 ? ETIMEDOUT : pthread_cond_timedwait(&l->cond, &l->lock, &until);
    if ((q = l->head) != NULL) {
        l->head = q->next;
        if (l->head == NULL)
            l->tail = &l->head;
        l->n_queued--;
    }
    pthread_mutex_unlock(&l->lock);
    if (q == NULL)
        return CMN_ETIMEOUT;
    *ret = q->n;
    free(q);
    return 0;
}

unsigned long tep_listener_refused(tep_listener *l)
{
    unsigned long n;

    if (l == NULL)
        return 0;
    pthread_mutex_lock(&l->lock);
    n = l->refused;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void tep_notification_free(tep_notification *n)
{
    if (n == NULL)
        return;
    free(n->from);
    free(n->rqi);
    free(n->path);
    free(n->body);
    free(n->identity);
    free(n);
}

void tep_listener_free(tep_listener *l)
{
    if (l == NULL)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->lock);
        l->stop = true;
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    if (l->ctx != NULL)
        coap_free_context(l->ctx);
    while (l->head != NULL) {
        queued *q = l->head;

        l->head = q->next;
        tep_notification_free(q->n);
        free(q);
    }
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->lock);
    cmn_free_secret(l, sizeof(*l));
}
