/* libtepae: the one CoAP(S) client (tae_client.h). Everything that drives libcoap for
 * a connection lives here: start-up, callbacks, address resolution, the DTLS-PSK
 * session, the wait loop with its deadline, requests and their answers. */
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <coap3/coap.h>

#include "cmn_ca.h"
#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "tae_client.h"

#define TAE_RQI_LEN 16 /* random bytes -> 32 hex digits */
#define TAE_OPT_STR_MAX 256

/* ---- time and libcoap start-up ------------------------------------------------- */

static void discard_log(coap_log_t level, const char *message)
{
}

/* The library never prints: libcoap's own log output is discarded. libcoap is linked
 * statically into libtepae, so this does not reach the application's own libcoap.
 * Once per process, whichever thread opens the first connection (pthread_once: devices
 * may live in several threads). */
static void client_startup_once(void)
{
    coap_startup();
    coap_set_log_handler(discard_log);
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
}

static void client_startup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, client_startup_once);
}

void tae_client_startup(void)
{
    client_startup();
}

/* ---- libcoap callbacks ------------------------------------------------------------ */

static int on_event(coap_session_t *session, const coap_event_t event)
{
    tep_conn *conn = coap_session_get_app_data(session);

    if (conn == NULL)
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

    if (conn == NULL || !conn->waiting)
        return;
    if (reason == COAP_NACK_BAD_RESPONSE) { /* an answer beyond TAE_ANSWER_MAX, abandoned */
        conn->rsp_err = CMN_ERANGE;
        conn->waiting = false;
        return;
    }
    if (!(conn->flags & TAE_CLIENT_NACK_ENDS_WAIT))
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
    while ((opt = coap_option_next(&it)) != NULL)
        if (it.number == COAP_OPTION_LOCATION_PATH)
            len += coap_opt_length(opt) + 1;
    if (len == 0)
        return 0;
    if ((s = calloc(1, len)) == NULL)
        return CMN_ENOMEM;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
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
    char rqi[TAE_OPT_STR_MAX] = "";
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    uint32_t rsc = 0;
    tep_response *r = calloc(1, sizeof(*r));
    int code = coap_pdu_get_code(pdu);

    if (r == NULL)
        return CMN_ENOMEM;
    r->coap_code = (unsigned)(code >> 5) * 100 + (unsigned)(code & 31);
    if (cmn_coap_opt_uint(pdu, CMN_OPT_RSC, &rsc) == 0)
        r->rsc = rsc;
    cmn_coap_opt_str(pdu, CMN_OPT_RQI, rqi, sizeof(rqi));
    coap_get_data_large(pdu, &len, &data, &off, &total);
    r->rqi = strdup(rqi);
    r->body = calloc(1, len + 1);
    if (r->rqi == NULL || r->body == NULL || join_location(pdu, &r->location) < 0) {
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

    if (conn == NULL || !conn->waiting || tok.length != conn->token_len ||
        memcmp(tok.s, conn->token, tok.length) != 0)
        return COAP_RESPONSE_OK; /* not ours (late or stray): ignored */
    conn->rsp_err = response_from_pdu(received, &conn->rsp);
    conn->waiting = false;
    return COAP_RESPONSE_OK;
}

/* ---- opening sessions ------------------------------------------------------------- */

/* uri_str -> its parts and the peer's address; the scheme must be coaps:// with
 * credentials, coap:// without. */
static int resolve(const char *uri_str, bool secure, coap_uri_t *uri, coap_address_t *ret)
{
    if (coap_split_uri((const uint8_t *)uri_str, strlen(uri_str), uri) < 0)
        return CMN_EINVAL;
    if (coap_uri_scheme_is_secure(uri) != secure ||
        (uri->scheme != COAP_URI_SCHEME_COAP && uri->scheme != COAP_URI_SCHEME_COAPS))
        return CMN_EINVAL;
    return cmn_coap_uri_address(uri, false, ret);
}

static int conn_new(int timeout_ms, unsigned flags, tep_conn **ret)
{
    const cmn_body_limits lim = {TAE_ANSWER_MAX, 1, 1};
    tep_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL)
        return CMN_ENOMEM;
    client_startup();
    conn->timeout_ms = timeout_ms > 0 ? timeout_ms : TEP_DEFAULT_TIMEOUT_MS;
    conn->flags = flags;
    if ((conn->ctx = coap_new_context(NULL)) == NULL) {
        free(conn);
        return CMN_ECOAP;
    }
    coap_context_set_block_mode(conn->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    cmn_coap_set_body_limits(conn->ctx, &lim);
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
        int64_t left = deadline - cmn_mono_ms();

        if (left <= 0)
            return CMN_ETIMEOUT;
        if (coap_io_process(conn->ctx, (uint32_t)(left < 100 ? left : 100)) < 0)
            return CMN_ECOAP;
    }
    return 0;
}

static bool handshake_done(const tep_conn *conn)
{
    return conn->state != CONN_CONNECTING;
}

/* Copies the credentials into conn (libcoap keeps pointers to them) and starts the
 * DTLS session. */
static int new_psk_session(tep_conn *conn, const coap_address_t *dst, const tae_psk_creds *creds)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};

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
    conn->session = coap_new_client_session_psk2(conn->ctx, NULL, dst, COAP_PROTO_DTLS, &setup);
    return 0;
}

/* The server's end-entity certificate must name conn->peer_id in its SAN (libcoap
 * has checked the chain to the trust anchor: validated). */
static int check_server_cert(const char *cn, const uint8_t *der, size_t der_len,
                             coap_session_t *session, unsigned depth, int validated, void *arg)
{
    const tep_conn *conn = arg;
    char want[TAE_ID_MAX + sizeof(CMN_CA_SAN_PREFIX)];
    cmn_cert_info info;

    (void)cn;
    (void)session;
    if (!validated)
        return 0;
    if (depth > 0)
        return 1;
    if (cmn_ca_san_uri(conn->peer_id, want, sizeof(want)) != 0 ||
        cmn_ca_cert_info(der, der_len, &info) != 0)
        return 0;
    return strcmp(info.san_uri, want) == 0;
}

static int new_pki_session(tep_conn *conn, const coap_address_t *dst, const tae_pki_creds *creds)
{
    coap_dtls_pki_t setup = {.version = COAP_DTLS_PKI_SETUP_VERSION};

    if (snprintf(conn->sni, sizeof(conn->sni), "%s", creds->sni) >= (int)sizeof(conn->sni) ||
        snprintf(conn->peer_id, sizeof(conn->peer_id), "%s", creds->peer_id) >=
            (int)sizeof(conn->peer_id))
        return CMN_ERANGE;
    setup.verify_peer_cert = 1;
    setup.check_common_ca = 1;
    setup.cert_chain_validation = 1;
    setup.cert_chain_verify_depth = 2;
    setup.validate_cn_call_back = check_server_cert;
    setup.cn_call_back_arg = conn;
    setup.client_sni = conn->sni;
    setup.pki_key.key_type = COAP_PKI_KEY_PEM;
    setup.pki_key.key.pem.public_cert = creds->cert_file;
    setup.pki_key.key.pem.private_key = creds->key_file;
    setup.pki_key.key.pem.ca_file = creds->ca_file;
    conn->session = coap_new_client_session_pki(conn->ctx, NULL, dst, COAP_PROTO_DTLS, &setup);
    return 0;
}

static int wait_handshake(tep_conn *conn)
{
    int rc;

    if (conn->session == NULL)
        return CMN_ECOAP;
    coap_session_set_app_data(conn->session, conn);
    rc = run_until(conn, handshake_done, cmn_mono_ms() + conn->timeout_ms);
    if (rc == 0 && conn->state == CONN_FAILED)
        rc = conn->fail_err;
    return rc;
}

static int open_session(tep_conn *conn, const coap_address_t *dst, const tae_psk_creds *creds)
{
    int rc;

    if (creds == NULL) {
        conn->session = coap_new_client_session(conn->ctx, NULL, dst, COAP_PROTO_UDP);
        conn->state = CONN_UP;
    } else if ((rc = new_psk_session(conn, dst, creds)) < 0) {
        return rc;
    }
    return wait_handshake(conn);
}

int tae_client_open(const char *uri, const tae_psk_creds *creds, int timeout_ms, unsigned flags,
                    tep_conn **ret_conn)
{
    coap_address_t dst;
    coap_uri_t parts;
    tep_conn *conn = NULL;
    int rc = resolve(uri, creds != NULL, &parts, &dst);

    if (rc == 0)
        rc = conn_new(timeout_ms, flags, &conn);
    if (rc == 0)
        rc = open_session(conn, &dst, creds);
    if (rc < 0) {
        tep_conn_free(conn);
        return rc;
    }
    *ret_conn = conn;
    return 0;
}

int tae_client_open_pki(const char *uri, const tae_pki_creds *creds, int timeout_ms, unsigned flags,
                        tep_conn **ret_conn)
{
    coap_address_t dst;
    coap_uri_t parts;
    tep_conn *conn = NULL;
    int rc = resolve(uri, true, &parts, &dst);

    if (rc == 0)
        rc = conn_new(timeout_ms, flags, &conn);
    if (rc == 0)
        rc = new_pki_session(conn, &dst, creds);
    if (rc == 0)
        rc = wait_handshake(conn);
    if (rc < 0) {
        tep_conn_free(conn);
        return rc;
    }
    *ret_conn = conn;
    return 0;
}

void tep_conn_free(tep_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->session != NULL) {
        coap_session_set_app_data(conn->session, NULL);
        coap_session_release(conn->session);
    }
    if (conn->ctx != NULL)
        coap_free_context(conn->ctx);
    tep_response_free(conn->rsp);
    free(conn->originator);
    cmn_free_secret(conn, sizeof(*conn));
}

void tep_conn_set_timeout(tep_conn *conn, int timeout_ms)
{
    if (conn != NULL && timeout_ms > 0)
        conn->timeout_ms = timeout_ms;
}

/* ---- exchanges -------------------------------------------------------------------- */

/* Uri-Path options from the path up to '?', then one Uri-Query per '&'-separated part
 * of what follows it ("tep-cse/Cdevice01/data?tids=<id>"). */
static int add_path(coap_optlist_t **chain, const char *path)
{
    const char *query = strchr(path, '?');
    const char *end = query != NULL ? query : path + strlen(path);

    while (path < end && *path == '/')
        path++;
    while (path < end) {
        size_t n = strcspn(path, "/?");

        if (n > 0 && !coap_insert_optlist(
                         chain, coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)path)))
            return CMN_ENOMEM;
        path += n;
        while (path < end && *path == '/')
            path++;
    }
    for (const char *q = query != NULL ? query + 1 : end; *q;) {
        size_t n = strcspn(q, "&");

        if (n > 0 && !coap_insert_optlist(
                         chain, coap_new_optlist(COAP_OPTION_URI_QUERY, n, (const uint8_t *)q)))
            return CMN_ENOMEM;
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

static int build_options(const tae_exchange *ex, const char *rqi, coap_optlist_t **chain)
{
    uint8_t buf[4];
    size_t n = coap_encode_var_safe(buf, sizeof(buf), CMN_CF_JSON);
    int rc = add_path(chain, ex->path);

    if (rc == 0 && ex->body != NULL &&
        !coap_insert_optlist(chain, coap_new_optlist(COAP_OPTION_CONTENT_FORMAT, n, buf)))
        rc = CMN_ENOMEM;
    if (rc == 0 && ex->from != NULL)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_FR, ex->from);
    if (rc == 0 && ex->ty)
        rc = cmn_coap_optlist_uint(chain, CMN_OPT_TY, ex->ty);
    if (rc == 0 && ex->onem2m)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RQI, rqi);
    if (rc == 0 && ex->onem2m)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RVI, "3");
    return rc;
}

static int build_pdu(tep_conn *conn, const tae_exchange *ex, const char *rqi, coap_pdu_t **ret)
{
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, ex->code, conn->session);
    int rc = CMN_ENOMEM;

    if (pdu == NULL)
        return CMN_ENOMEM;
    coap_session_new_token(conn->session, &conn->token_len, conn->token);
    if (!coap_add_token(pdu, conn->token_len, conn->token))
        goto out;
    if ((rc = build_options(ex, rqi, &chain)) < 0)
        goto out;
    rc = CMN_ECOAP;
    if (!coap_add_optlist_pdu(pdu, &chain))
        goto out;
    if (ex->body != NULL && !coap_add_data_large_request(conn->session, pdu, strlen(ex->body),
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

int tae_client_exchange(tep_conn *conn, const tae_exchange *ex, tep_response **ret)
{
    uint8_t rnd[TAE_RQI_LEN];
    char rqi[2 * TAE_RQI_LEN + 1];
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
    rc = run_until(conn, exchange_done, cmn_mono_ms() + conn->timeout_ms);
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

int tae_client_post(tep_conn *conn, const char *path, const char *json, tep_response **ret_rsp)
{
    tae_exchange ex = {.code = COAP_REQUEST_CODE_POST, .path = path, .body = json};

    return tae_client_exchange(conn, &ex, ret_rsp);
}

void tep_response_free(tep_response *rsp)
{
    if (rsp == NULL)
        return;
    free(rsp->rqi);
    free(rsp->body);
    free(rsp->location);
    free(rsp);
}
