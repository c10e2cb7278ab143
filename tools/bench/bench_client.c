/* The benchmarks' bare libcoap DTLS client (bench_client.h). */
#include "bench_client.h"

#include <coap3/coap.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_proc.h"
#include "cmn_ca.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

#define RQI_BYTES 16

typedef struct {
    coap_context_t *ctx;
    coap_session_t *session;
    bool up, failed, answered;
    uint32_t rsc;
    const char *peer_id;
} client;

static void discard_log(coap_log_t level, const char *message)
{
    (void)level;
    (void)message;
}

static void startup(void)
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

static int on_event(coap_session_t *session, const coap_event_t event)
{
    client *c = coap_session_get_app_data(session);

    if (c == NULL)
        return 0;
    if (event == COAP_EVENT_DTLS_CONNECTED)
        c->up = true;
    else if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED)
        c->failed = true;
    return 0;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    client *c = coap_session_get_app_data(session);

    (void)sent;
    (void)reason;
    (void)mid;
    if (c != NULL)
        c->failed = true;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    client *c = coap_session_get_app_data(session);

    (void)sent;
    (void)mid;
    if (c != NULL) {
        c->answered = true;
        if (cmn_coap_opt_uint(received, CMN_OPT_RSC, &c->rsc) != 0)
            c->rsc = 0;
    }
    return COAP_RESPONSE_OK;
}

/* The server's end-entity certificate must name c->peer_id (libcoap checked the chain). */
static int check_cert(const char *cn, const uint8_t *der, size_t der_len, coap_session_t *session,
                      unsigned depth, int validated, void *arg)
{
    const client *c = arg;
    char want[256 + sizeof(CMN_CA_SAN_PREFIX)];
    cmn_cert_info info;

    (void)cn;
    (void)session;
    if (!validated)
        return 0;
    if (depth > 0)
        return 1;
    if (cmn_ca_san_uri(c->peer_id, want, sizeof(want)) != 0 ||
        cmn_ca_cert_info(der, der_len, &info) != 0)
        return 0;
    return strcmp(info.san_uri, want) == 0;
}

static int resolve(const char *uri_str, coap_address_t *ret)
{
    coap_uri_t uri;

    if (coap_split_uri((const uint8_t *)uri_str, strlen(uri_str), &uri) < 0 ||
        uri.scheme != COAP_URI_SCHEME_COAPS)
        return CMN_EINVAL;
    return cmn_coap_uri_address(&uri, false, ret);
}

static int client_new(client *c)
{
    startup();
    memset(c, 0, sizeof(*c));
    if ((c->ctx = coap_new_context(NULL)) == NULL)
        return CMN_ECOAP;
    coap_context_set_block_mode(c->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_event_handler(c->ctx, on_event);
    coap_register_nack_handler(c->ctx, on_nack);
    coap_register_response_handler(c->ctx, on_response);
    return cmn_coap_register_options(c->ctx);
}

/* client_new() and the address of uri. */
static int client_open(client *c, const char *uri, coap_address_t *ret_dst)
{
    int rc = client_new(c);

    return rc == 0 ? resolve(uri, ret_dst) : rc;
}

static void client_free(client *c)
{
    if (c->session != NULL) {
        coap_session_set_app_data(c->session, NULL);
        coap_session_release(c->session);
    }
    if (c->ctx != NULL)
        coap_free_context(c->ctx);
}

/* Runs libcoap until *flag or a failure, for at most timeout_ms. */
static int wait_for(client *c, const bool *flag, int timeout_ms)
{
    double deadline = bench_now_s() + timeout_ms / 1000.0;

    while (!*flag && !c->failed) {
        double left = deadline - bench_now_s();

        if (left <= 0)
            return CMN_ETIMEOUT;
        if (coap_io_process(c->ctx, left < 0.1 ? (uint32_t)(left * 1000) + 1 : 100) < 0)
            return CMN_ECOAP;
    }
    return *flag ? 0 : CMN_EDENIED;
}

static int handshake(client *c, int timeout_ms)
{
    if (c->session == NULL)
        return CMN_ECOAP;
    coap_session_set_app_data(c->session, c);
    return wait_for(c, &c->up, timeout_ms);
}

int bench_psk_once(const char *uri, const char *identity, const uint8_t *psk, size_t psk_len,
                   const char *sni, int timeout_ms)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};
    coap_address_t dst;
    client c;
    int rc = client_open(&c, uri, &dst);

    if (rc == 0) {
        setup.client_sni = (char *)sni;
        setup.psk_info.identity.s = (const uint8_t *)identity;
        setup.psk_info.identity.length = strlen(identity);
        setup.psk_info.key.s = psk;
        setup.psk_info.key.length = psk_len;
        c.session = coap_new_client_session_psk2(c.ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
        rc = handshake(&c, timeout_ms);
    }
    client_free(&c);
    return rc;
}

/* One Uri-Path option per '/'-separated segment of path. */
static int add_path(coap_optlist_t **chain, const char *path)
{
    while (*path != '\0') {
        size_t n = strcspn(path, "/");

        if (n > 0 && !coap_insert_optlist(
                         chain, coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)path)))
            return CMN_ENOMEM;
        path += n;
        if (*path == '/')
            path++;
    }
    return 0;
}

/* GET path with From, a fresh RQI and RVI 3; waits for the answer. */
static int retrieve(client *c, const char *path, const char *from, int timeout_ms)
{
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, c->session);
    uint8_t rnd[RQI_BYTES], token[8];
    char rqi[2 * RQI_BYTES + 1];
    size_t token_len;
    int rc = CMN_ENOMEM;

    if (pdu == NULL)
        return CMN_ENOMEM;
    coap_session_new_token(c->session, &token_len, token);
    if (!coap_add_token(pdu, token_len, token) || cmn_random(rnd, sizeof(rnd)) != 0)
        goto out;
    cmn_hex_encode(rnd, sizeof(rnd), rqi);
    if (add_path(&chain, path) != 0 || cmn_coap_optlist_str(&chain, CMN_OPT_FR, from) != 0 ||
        cmn_coap_optlist_str(&chain, CMN_OPT_RQI, rqi) != 0 ||
        cmn_coap_optlist_str(&chain, CMN_OPT_RVI, "3") != 0 || !coap_add_optlist_pdu(pdu, &chain))
        goto out;
    rc = CMN_ECOAP;
    if (coap_send(c->session, pdu) == COAP_INVALID_MID) {
        pdu = NULL; /* coap_send() frees it */
        goto out;
    }
    pdu = NULL;
    rc = wait_for(c, &c->answered, timeout_ms);
    if (rc == 0 && c->rsc != 2000)
        rc = CMN_EPROTO;
out:
    coap_delete_optlist(chain);
    coap_delete_pdu(pdu);
    return rc;
}

int bench_pki_once(const char *uri, const bench_pki *creds, const char *path, const char *from,
                   int timeout_ms)
{
    coap_dtls_pki_t setup = {.version = COAP_DTLS_PKI_SETUP_VERSION};
    coap_address_t dst;
    client c;
    int rc = client_open(&c, uri, &dst);

    if (rc == 0) {
        c.peer_id = creds->peer_id;
        setup.verify_peer_cert = 1;
        setup.check_common_ca = 1;
        setup.cert_chain_validation = 1;
        setup.cert_chain_verify_depth = 2;
        setup.validate_cn_call_back = check_cert;
        setup.cn_call_back_arg = &c;
        setup.client_sni = (char *)creds->sni;
        setup.pki_key.key_type = COAP_PKI_KEY_PEM;
        setup.pki_key.key.pem.public_cert = creds->cert_file;
        setup.pki_key.key.pem.private_key = creds->key_file;
        setup.pki_key.key.pem.ca_file = creds->ca_file;
        c.session = coap_new_client_session_pki(c.ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
        rc = handshake(&c, timeout_ms);
    }
    if (rc == 0 && path != NULL)
        rc = retrieve(&c, path, from, timeout_ms);
    client_free(&c);
    return rc;
}
