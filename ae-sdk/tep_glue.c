/* libtepae CoAP glue: everything that touches libcoap. One libcoap context per
 * connection, driven by coap_io_process() until the awaited event (handshake done,
 * response received) or the deadline. The protocol decisions are in tep_core.c. */
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <coap3/coap.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "cmn_onem2m.h"
#include "tep_device.h"
#include "tep_maf_client.h"

#define TEP_RQI_LEN 16 /* random bytes -> 32 hex digits */
#define TEP_OPT_STR_MAX 256

typedef enum { CONN_CONNECTING, CONN_UP, CONN_FAILED } conn_state;

struct tep_conn {
    coap_context_t *ctx;
    coap_session_t *session;
    tep_device *dev;    /* borrowed; NULL for plain and MEF connections */
    char *originator;   /* default From, NULL for none */
    int timeout_ms;
    conn_state state;
    int fail_err;       /* why the session failed (CMN_EDENIED, CMN_ETIMEOUT) */
    /* the exchange in flight */
    bool waiting;
    uint8_t token[8];
    size_t token_len;
    tep_response *rsp;
    int rsp_err;
    /* credentials given to libcoap, kept for the session's life, wiped at free */
    char sni[TEP_ID_MAX];
    char identity[CMN_KEY_ID_MAX];
    uint8_t psk[CMN_KEY_LEN];
};

typedef struct {
    const char *identity;
    const uint8_t *psk; /* CMN_KEY_LEN bytes */
    const char *sni;
} psk_creds;

/* ---- time and libcoap start-up ------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void discard_log(coap_log_t level, const char *message) {}

/* The library never prints: libcoap's own log output is discarded. libcoap is linked
 * statically into libtepae, so this does not reach the application's own libcoap. */
static void glue_startup(void)
{
    static bool started;

    if (started)
        return;
    coap_startup();
    coap_set_log_handler(discard_log);
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
    started = true;
}

/* ---- libcoap callbacks ------------------------------------------------------------ */

static int on_event(coap_session_t *session, const coap_event_t event)
{
    tep_conn *conn = coap_session_get_app_data(session);

    if (!conn)
        return 0;
    if (event == COAP_EVENT_DTLS_CONNECTED) {
        conn->state = CONN_UP;
    } else if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED) {
        conn->state = CONN_FAILED;
        conn->fail_err = CMN_EDENIED;
    }
    return 0;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    tep_conn *conn = coap_session_get_app_data(session);

    if (!conn || !conn->waiting)
        return;
    conn->rsp_err = reason == COAP_NACK_TLS_FAILED ? CMN_EDENIED : CMN_ETIMEOUT;
    conn->waiting = false;
}

static int join_location(const coap_pdu_t *pdu, char **ret)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t len = 0;
    char *s;

    *ret = NULL;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)))
        if (it.number == COAP_OPTION_LOCATION_PATH)
            len += coap_opt_length(opt) + 1;
    if (len == 0)
        return 0;
    if (!(s = calloc(1, len)))
        return CMN_ENOMEM;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it))) {
        if (it.number != COAP_OPTION_LOCATION_PATH)
            continue;
        if (s[0])
            strcat(s, "/");
        strncat(s, (const char *)coap_opt_value(opt), coap_opt_length(opt));
    }
    if (s[0] == '\0') { /* only empty segments: no location */
        free(s);
        s = NULL;
    }
    *ret = s;
    return 0;
}

static int response_from_pdu(const coap_pdu_t *pdu, tep_response **ret)
{
    char rqi[TEP_OPT_STR_MAX] = "";
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    uint32_t rsc = 0;
    tep_response *r = calloc(1, sizeof(*r));
    int code = coap_pdu_get_code(pdu);

    if (!r)
        return CMN_ENOMEM;
    r->coap_code = (unsigned)(code >> 5) * 100 + (unsigned)(code & 31);
    if (cmn_coap_opt_uint(pdu, CMN_OPT_RSC, &rsc) == 0)
        r->rsc = rsc;
    cmn_coap_opt_str(pdu, CMN_OPT_RQI, rqi, sizeof(rqi));
    coap_get_data_large(pdu, &len, &data, &off, &total);
    r->rqi = strdup(rqi);
    r->body = calloc(1, len + 1);
    if (!r->rqi || !r->body || join_location(pdu, &r->location) < 0) {
        tep_response_free(r);
        return CMN_ENOMEM;
    }
    if (len)
        memcpy(r->body, data, len);
    r->body_len = len;
    *ret = r;
    return 0;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    tep_conn *conn = coap_session_get_app_data(session);
    coap_bin_const_t tok = coap_pdu_get_token(received);

    if (!conn || !conn->waiting || tok.length != conn->token_len ||
        memcmp(tok.s, conn->token, tok.length) != 0)
        return COAP_RESPONSE_OK; /* not ours (late or stray): ignored */
    conn->rsp_err = response_from_pdu(received, &conn->rsp);
    conn->waiting = false;
    return COAP_RESPONSE_OK;
}

/* ---- opening sessions ------------------------------------------------------------- */

static int resolve(const coap_uri_t *uri, coap_address_t *ret)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    char host[TEP_ID_MAX];
    int rc = CMN_ENOTFOUND;

    if (uri->host.length == 0 || uri->host.length >= sizeof(host))
        return CMN_EINVAL;
    memcpy(host, uri->host.s, uri->host.length);
    host[uri->host.length] = '\0';
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return CMN_ENOTFOUND;
    if (res->ai_addrlen <= sizeof(ret->addr)) {
        coap_address_init(ret);
        ret->size = res->ai_addrlen;
        memcpy(&ret->addr, res->ai_addr, res->ai_addrlen);
        coap_address_set_port(ret, uri->port);
        rc = 0;
    }
    freeaddrinfo(res);
    return rc;
}

static int conn_new(int timeout_ms, tep_conn **ret)
{
    tep_conn *conn = calloc(1, sizeof(*conn));

    if (!conn)
        return CMN_ENOMEM;
    glue_startup();
    conn->timeout_ms = timeout_ms > 0 ? timeout_ms : TEP_DEFAULT_TIMEOUT_MS;
    if (!(conn->ctx = coap_new_context(NULL))) {
        free(conn);
        return CMN_ECOAP;
    }
    coap_context_set_block_mode(conn->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(conn->ctx, on_response);
    coap_register_nack_handler(conn->ctx, on_nack);
    coap_register_event_handler(conn->ctx, on_event);
    *ret = conn;
    return cmn_coap_register_options(conn->ctx);
}

/* Runs the libcoap loop until done(conn) or the deadline. */
static int run_until(tep_conn *conn, bool (*done)(const tep_conn *), int64_t deadline)
{
    while (!done(conn)) {
        int64_t left = deadline - now_ms();

        if (left <= 0)
            return CMN_ETIMEOUT;
        if (coap_io_process(conn->ctx, (uint32_t)(left < 100 ? left : 100)) < 0)
            return CMN_ECOAP;
    }
    return 0;
}

static bool handshake_done(const tep_conn *conn) { return conn->state != CONN_CONNECTING; }

static int open_session(tep_conn *conn, const char *uri_str, const psk_creds *creds)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};
    coap_address_t dst;
    coap_uri_t uri;
    int rc;

    if (coap_split_uri((const uint8_t *)uri_str, strlen(uri_str), &uri) < 0)
        return CMN_EINVAL;
    if (coap_uri_scheme_is_secure(&uri) != (creds != NULL) ||
        (uri.scheme != COAP_URI_SCHEME_COAP && uri.scheme != COAP_URI_SCHEME_COAPS))
        return CMN_EINVAL;
    if ((rc = resolve(&uri, &dst)) < 0)
        return rc;
    if (!creds) {
        conn->session = coap_new_client_session(conn->ctx, NULL, &dst, COAP_PROTO_UDP);
        conn->state = CONN_UP;
    } else {
        if (snprintf(conn->sni, sizeof(conn->sni), "%s", creds->sni) >= (int)sizeof(conn->sni) ||
            snprintf(conn->identity, sizeof(conn->identity), "%s", creds->identity) >=
                (int)sizeof(conn->identity))
            return CMN_ERANGE;
        memcpy(conn->psk, creds->psk, CMN_KEY_LEN);
        setup.client_sni = conn->sni;
        setup.psk_info.identity.s = (const uint8_t *)conn->identity;
        setup.psk_info.identity.length = strlen(conn->identity);
        setup.psk_info.key.s = conn->psk;
        setup.psk_info.key.length = CMN_KEY_LEN;
        conn->session = coap_new_client_session_psk2(conn->ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
    }
    if (!conn->session)
        return CMN_ECOAP;
    coap_session_set_app_data(conn->session, conn);
    rc = run_until(conn, handshake_done, now_ms() + conn->timeout_ms);
    if (rc == 0 && conn->state == CONN_FAILED)
        rc = conn->fail_err;
    return rc;
}

static int conn_open(const char *uri, const psk_creds *creds, int timeout_ms, tep_conn **ret)
{
    tep_conn *conn = NULL;
    int rc = conn_new(timeout_ms, &conn);

    if (rc == 0)
        rc = open_session(conn, uri, creds);
    if (rc < 0) {
        tep_conn_free(conn);
        return rc;
    }
    *ret = conn;
    return 0;
}

void tep_conn_free(tep_conn *conn)
{
    if (!conn)
        return;
    if (conn->session) {
        coap_session_set_app_data(conn->session, NULL);
        coap_session_release(conn->session);
    }
    if (conn->ctx)
        coap_free_context(conn->ctx);
    tep_response_free(conn->rsp);
    free(conn->originator);
    cmn_free_secret(conn, sizeof(*conn));
}

void tep_conn_set_timeout(tep_conn *conn, int timeout_ms)
{
    if (conn && timeout_ms > 0)
        conn->timeout_ms = timeout_ms;
}

int tep_conn_plain(const char *uri, const char *originator, tep_conn **ret_conn)
{
    tep_conn *conn = NULL;
    int rc;

    if (!uri || !ret_conn)
        return CMN_EINVAL;
    if ((rc = conn_open(uri, NULL, TEP_DEFAULT_TIMEOUT_MS, &conn)) < 0)
        return rc;
    if (originator && !(conn->originator = strdup(originator))) {
        tep_conn_free(conn);
        return CMN_ENOMEM;
    }
    *ret_conn = conn;
    return 0;
}

/* The registrar CSE learns a new Kpsa from the enroller's event stream, usually within
 * milliseconds of the enrolment answer; a device that connects at once can race it and
 * see its handshake refused. So, during the first TEP_FRESH_ENROLMENT_S after its
 * enrolment only, a refused handshake is retried with a growing pause, for at most
 * about TEP_FRESH_RETRY_MS in all. Later refusals are final at once. */
#define TEP_FRESH_ENROLMENT_S 10
#define TEP_FRESH_RETRY_MS 3000

static int connect_fresh(tep_device *dev, const psk_creds *creds, tep_conn **ret_conn)
{
    int pause_ms = 50, waited_ms = 0;
    int rc;

    for (;;) {
        rc = conn_open(dev->enr.registrar_poa, creds, dev->timeout_ms, ret_conn);
        if (rc != CMN_EDENIED || dev->enr.enrolled == 0 ||
            (int64_t)time(NULL) - dev->enr.enrolled > TEP_FRESH_ENROLMENT_S ||
            waited_ms >= TEP_FRESH_RETRY_MS)
            return rc;
        struct timespec ts = {.tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        waited_ms += pause_ms;
        pause_ms *= 2;
    }
}

int tep_connect(tep_device *dev, tep_conn **ret_conn)
{
    char host[TEP_ID_MAX];
    psk_creds creds;
    tep_conn *conn = NULL;
    int rc;

    if (!dev || !ret_conn)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    if ((rc = tep_core_uri_host(dev->enr.registrar_poa, host, sizeof(host))) < 0)
        return rc;
    creds = (psk_creds){.identity = dev->enr.kpsa_id, .psk = dev->enr.kpsa, .sni = host};
    if ((rc = connect_fresh(dev, &creds, &conn)) < 0)
        return rc;
    conn->dev = dev;
    if (!(conn->originator = strdup(dev->enr.enrolee_id))) {
        tep_conn_free(conn);
        return CMN_ENOMEM;
    }
    *ret_conn = conn;
    return 0;
}

int tep_glue_connect_psk(tep_device *dev, const char *uri, const char *identity,
                         const uint8_t psk[CMN_KEY_LEN], tep_conn **ret_conn)
{
    char host[TEP_ID_MAX];
    psk_creds creds = {.identity = identity, .psk = psk, .sni = host};
    tep_conn *conn = NULL;
    int rc = tep_core_uri_host(uri, host, sizeof(host));

    if (rc < 0 || (rc = conn_open(uri, &creds, dev->timeout_ms, &conn)) < 0)
        return rc;
    conn->dev = dev;
    if (!(conn->originator = strdup(dev->enr.enrolee_id))) {
        tep_conn_free(conn);
        return CMN_ENOMEM;
    }
    *ret_conn = conn;
    return 0;
}

/* ---- exchanges -------------------------------------------------------------------- */

typedef struct {
    coap_pdu_code_t code;
    const char *path;
    const char *body;          /* NULL: no payload */
    const char *from;          /* NULL: no From */
    unsigned ty;               /* 0: no TY */
    bool onem2m;               /* add RQI and RVI */
} exchange;

static int add_path(coap_optlist_t **chain, const char *path)
{
    while (*path == '/')
        path++;
    while (*path) {
        size_t n = strcspn(path, "/");

        if (n > 0 && !coap_insert_optlist(chain, coap_new_optlist(COAP_OPTION_URI_PATH, n,
                                                                  (const uint8_t *)path)))
            return CMN_ENOMEM;
        path += n;
        while (*path == '/')
            path++;
    }
    return 0;
}

static int build_options(const exchange *ex, const char *rqi, coap_optlist_t **chain)
{
    uint8_t buf[4];
    int rc = add_path(chain, ex->path);

    if (rc == 0 && ex->body &&
        !coap_insert_optlist(chain, coap_new_optlist(COAP_OPTION_CONTENT_FORMAT,
                                                     coap_encode_var_safe(buf, sizeof(buf), CMN_CF_JSON), buf)))
        rc = CMN_ENOMEM;
    if (rc == 0 && ex->from)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_FR, ex->from);
    if (rc == 0 && ex->ty)
        rc = cmn_coap_optlist_uint(chain, CMN_OPT_TY, ex->ty);
    if (rc == 0 && ex->onem2m)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RQI, rqi);
    if (rc == 0 && ex->onem2m)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RVI, "3");
    return rc;
}

static int build_pdu(tep_conn *conn, const exchange *ex, const char *rqi, coap_pdu_t **ret)
{
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, ex->code, conn->session);
    int rc = CMN_ENOMEM;

    if (!pdu)
        return CMN_ENOMEM;
    coap_session_new_token(conn->session, &conn->token_len, conn->token);
    if (!coap_add_token(pdu, conn->token_len, conn->token))
        goto out;
    if ((rc = build_options(ex, rqi, &chain)) < 0)
        goto out;
    rc = CMN_ECOAP;
    if (!coap_add_optlist_pdu(pdu, &chain))
        goto out;
    if (ex->body && !coap_add_data_large_request(conn->session, pdu, strlen(ex->body),
                                                 (const uint8_t *)ex->body, NULL, NULL))
        goto out;
    *ret = pdu;
    pdu = NULL;
    rc = 0;
out:
    coap_delete_optlist(chain);
    coap_delete_pdu(pdu);
    return rc;
}

static bool exchange_done(const tep_conn *conn)
{
    return !conn->waiting || conn->state == CONN_FAILED;
}

static int run_exchange(tep_conn *conn, const exchange *ex, tep_response **ret)
{
    uint8_t rnd[TEP_RQI_LEN];
    char rqi[2 * TEP_RQI_LEN + 1];
    coap_pdu_t *pdu = NULL;
    int rc;

    if (conn->state != CONN_UP || conn->waiting)
        return CMN_ESTATE;
    if ((rc = cmn_random(rnd, sizeof(rnd))) < 0)
        return rc;
    cmn_hex_encode(rnd, sizeof(rnd), rqi);
    if ((rc = build_pdu(conn, ex, rqi, &pdu)) < 0)
        return rc;
    conn->rsp_err = 0;
    conn->waiting = true;
    if (coap_send(conn->session, pdu) == COAP_INVALID_MID) {
        conn->waiting = false;
        return CMN_ECOAP;
    }
    rc = run_until(conn, exchange_done, now_ms() + conn->timeout_ms);
    if (rc == 0 && conn->waiting)
        rc = conn->fail_err; /* the session died under the request */
    if (rc == 0)
        rc = conn->rsp_err;
    conn->waiting = false;
    if (rc == 0 && ex->onem2m && conn->rsp->rqi[0] && strcmp(conn->rsp->rqi, rqi) != 0)
        rc = CMN_EPROTO;
    if (rc == 0)
        *ret = conn->rsp;
    else
        tep_response_free(conn->rsp);
    conn->rsp = NULL;
    return rc;
}

void tep_response_free(tep_response *rsp)
{
    if (!rsp)
        return;
    free(rsp->rqi);
    free(rsp->body);
    free(rsp->location);
    free(rsp);
}

static const coap_pdu_code_t op_codes[] = {
    [TEP_OP_CREATE] = COAP_REQUEST_CODE_POST, [TEP_OP_RETRIEVE] = COAP_REQUEST_CODE_GET,
    [TEP_OP_UPDATE] = COAP_REQUEST_CODE_PUT, [TEP_OP_DELETE] = COAP_REQUEST_CODE_DELETE,
};

int tep_request(tep_conn *conn, int op, const char *path, unsigned ty, const char *json_body,
                const char *from, tep_response **ret_rsp)
{
    exchange ex = {.path = path, .body = json_body, .ty = ty, .onem2m = true};

    if (!conn || !path || !ret_rsp || op < TEP_OP_CREATE || op > TEP_OP_DELETE ||
        (op == TEP_OP_CREATE) != (ty != 0))
        return CMN_EINVAL;
    ex.code = op_codes[op];
    ex.from = from ? (from[0] ? from : NULL) : conn->originator;
    return run_exchange(conn, &ex, ret_rsp);
}

/* ---- enrolment -------------------------------------------------------------------- */

static int enrol_exchange(tep_conn *mef, uint8_t exporter[CMN_EXPORTER_LEN], tep_response **ret)
{
    exchange ex = {.code = COAP_REQUEST_CODE_POST, .path = "enrol"};
    char *body = NULL;
    int rc = cmn_tls_export(mef->session, CMN_LABEL_BOOTSTRAP, exporter, CMN_EXPORTER_LEN);

    if (rc < 0)
        return rc;
    if ((rc = tep_core_enrol_request(false, false, false, &body)) < 0)
        return rc;
    ex.body = body;
    rc = run_exchange(mef, &ex, ret);
    free(body);
    return rc;
}

static int enrol_result(tep_device *dev, const uint8_t exporter[CMN_EXPORTER_LEN],
                        const tep_response *rsp)
{
    tep_enrolment *enr;
    int rc;

    if (rsp->coap_code == 403)
        return CMN_EDENIED;
    if (rsp->coap_code != 201)
        return CMN_EPROTO;
    if (!(enr = malloc(sizeof(*enr))))
        return CMN_ENOMEM;
    rc = tep_core_enrolment_complete(exporter, dev->prov.mef_fqdn, (const uint8_t *)rsp->body,
                                     rsp->body_len, enr);
    if (rc == 0) {
        enr->enrolled = (int64_t)time(NULL);
        rc = tep_device_install(dev, enr);
    }
    cmn_free_secret(enr, sizeof(*enr));
    return rc;
}

int tep_enrol(tep_device *dev)
{
    uint8_t exporter[CMN_EXPORTER_LEN];
    tep_response *rsp = NULL;
    tep_conn *mef = NULL;
    psk_creds creds;
    int rc;

    if (!dev)
        return CMN_EINVAL;
    creds = (psk_creds){.identity = dev->prov.kpm_id, .psk = dev->prov.kpm,
                        .sni = dev->prov.mef_fqdn};
    if ((rc = conn_open(dev->prov.mef_uri, &creds, dev->timeout_ms, &mef)) < 0)
        goto out;
    if ((rc = enrol_exchange(mef, exporter, &rsp)) < 0)
        goto out;
    rc = enrol_result(dev, exporter, rsp);
out:
    cmn_wipe(exporter, sizeof(exporter));
    tep_response_free(rsp);
    tep_conn_free(mef);
    return rc;
}

/* ---- oneM2M conveniences ---------------------------------------------------------- */

int tep_create(tep_conn *conn, const char *parent_path, unsigned ty, const char *json_body,
               tep_response **ret_rsp)
{
    if (ty == 0)
        return CMN_EINVAL;
    return tep_request(conn, TEP_OP_CREATE, parent_path, ty, json_body, NULL, ret_rsp);
}

int tep_retrieve(tep_conn *conn, const char *path, tep_response **ret_rsp)
{
    return tep_request(conn, TEP_OP_RETRIEVE, path, 0, NULL, NULL, ret_rsp);
}

int tep_delete(tep_conn *conn, const char *path, tep_response **ret_rsp)
{
    return tep_request(conn, TEP_OP_DELETE, path, 0, NULL, NULL, ret_rsp);
}

int tep_register_ae(tep_conn *conn, const char *app_id, const char *rn, tep_response **ret_rsp)
{
    tep_device *dev = conn ? conn->dev : NULL;
    char *body = NULL;
    int rc;

    if (!dev || !ret_rsp)
        return conn ? CMN_ESTATE : CMN_EINVAL;
    if (!app_id)
        app_id = dev->enr.app_id[0] ? dev->enr.app_id : TEP_DEFAULT_APP_ID;
    if (!rn)
        rn = dev->enr.enrolee_id;
    if ((rc = tep_core_ae_body(app_id, rn, &body)) < 0)
        return rc;
    rc = tep_request(conn, TEP_OP_CREATE, dev->cse_name, TEP_TY_AE, body, NULL, ret_rsp);
    free(body);
    if (rc == 0 && (*ret_rsp)->rsc == CMN_RSC_CREATED &&
        (rc = tep_device_set_ae_rn(dev, rn)) < 0) {
        tep_response_free(*ret_rsp);
        *ret_rsp = NULL;
    }
    return rc;
}
