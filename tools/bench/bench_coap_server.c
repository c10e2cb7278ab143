/* bench-coap-server: the baseline of bench-coap, a bare libcoap DTLS-PSK server that
 * answers the benchmark's oneM2M requests with no oneM2M processing at all: CREATE (POST
 * with TY) -> 2.01, Location-Path, RSC 2001 and the posted body back; RETRIEVE (GET) ->
 * 2.05, RSC 2000 and a fixed contentInstance. RQI and RVI are echoed. Same libcoap, same
 * DTLS backend, same options registration as tep-cse: the difference in requests per
 * second is the cost of tep-cse's request handling, store and access control.
 *
 *   bench-coap-server --listen 127.0.0.1:PORT --identity ID --key HEX [--plain 127.0.0.1:PORT]
 *
 * --plain also listens for plain CoAP (the same answers without DTLS).
 * Runs until SIGTERM/SIGINT; prints "ready" on stdout once listening. */
#include <coap3/coap.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

#define MAX_KEY 64

static volatile sig_atomic_t stopping;

static const char retrieved[] = "{\"m2m:cin\":{\"rn\":\"cin1\",\"ri\":\"cin1\",\"pi\":\"cnt1\","
                                "\"ty\":4,\"con\":\"21.5\",\"cnf\":\"text/plain:0\",\"cs\":4,"
                                "\"st\":0,\"ct\":\"20260101T000000\",\"lt\":\"20260101T000000\","
                                "\"et\":\"99991231T235959\"}}";

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void echo_options(const coap_pdu_t *request, coap_pdu_t *response, uint32_t rsc)
{
    char rqi[256], rvi[8];
    uint8_t buf[4];

    if (cmn_coap_opt_str(request, CMN_OPT_RVI, rvi, sizeof(rvi)) != 0)
        snprintf(rvi, sizeof(rvi), "3");
    coap_add_option(response, CMN_OPT_RVI, strlen(rvi), (const uint8_t *)rvi);
    if (cmn_coap_opt_str(request, CMN_OPT_RQI, rqi, sizeof(rqi)) == 0)
        coap_add_option(response, CMN_OPT_RQI, strlen(rqi), (const uint8_t *)rqi);
    coap_add_option(response, CMN_OPT_RSC, coap_encode_var_safe(buf, sizeof(buf), rsc), buf);
}

static void on_post(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                    const coap_string_t *query, coap_pdu_t *response)
{
    static const char loc[] = "cin1";
    const uint8_t *data = NULL;
    size_t len = 0;
    uint8_t buf[4];

    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED);
    coap_add_option(response, COAP_OPTION_LOCATION_PATH, sizeof(loc) - 1, (const uint8_t *)loc);
    coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof(buf), 50), buf);
    echo_options(request, response, 2001);
    if (coap_get_data(request, &len, &data) && len > 0)
        coap_add_data(response, len, data);
}

static void on_get(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                   const coap_string_t *query, coap_pdu_t *response)
{
    uint8_t buf[4];

    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof(buf), 50), buf);
    echo_options(request, response, 2000);
    coap_add_data(response, sizeof(retrieved) - 1, (const uint8_t *)retrieved);
}

typedef struct {
    const char *identity;
    coap_bin_const_t key;
} bench_psk;

/* The one identity this server knows; any other is refused in the handshake. */
static const coap_bin_const_t *validate_id(coap_bin_const_t *identity, coap_session_t *session,
                                           void *arg)
{
    const bench_psk *p = arg;

    if (identity->length != strlen(p->identity) ||
        memcmp(identity->s, p->identity, identity->length) != 0)
        return NULL;
    return &p->key;
}

static int setup(coap_context_t *ctx, const char *listen, const char *plain, bench_psk *p)
{
    coap_dtls_spsk_t psk = {.version = COAP_DTLS_SPSK_SETUP_VERSION};
    coap_resource_t *r = coap_resource_unknown_init2(on_post, 0);
    coap_address_t addr;

    psk.validate_id_call_back = validate_id;
    psk.id_call_back_arg = p;
    psk.psk_info.hint.s = (const uint8_t *)"bench";
    psk.psk_info.hint.length = 5;
    psk.psk_info.key = p->key;
    if (r == NULL || cmn_coap_register_options(ctx) != 0 || !coap_context_set_psk2(ctx, &psk))
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_POST, on_post);
    coap_register_request_handler(r, COAP_REQUEST_GET, on_get);
    coap_add_resource(ctx, r);
    if (cmn_coap_parse_listen(listen, &addr) != 0 ||
        coap_new_endpoint(ctx, &addr, COAP_PROTO_DTLS) == NULL)
        return CMN_EIO;
    if (plain != NULL && (cmn_coap_parse_listen(plain, &addr) != 0 ||
                          coap_new_endpoint(ctx, &addr, COAP_PROTO_UDP) == NULL))
        return CMN_EIO;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {{"listen", required_argument, NULL, 'l'},
                                          {"identity", required_argument, NULL, 'i'},
                                          {"key", required_argument, NULL, 'k'},
                                          {"plain", required_argument, NULL, 'p'},
                                          {NULL, 0, NULL, 0}};
    const char *listen = NULL, *identity = NULL, *hex = NULL, *plain = NULL;
    uint8_t key[MAX_KEY];
    size_t key_len = 0;
    coap_context_t *ctx = NULL;
    bench_psk psk;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'l')
            listen = optarg;
        else if (c == 'i')
            identity = optarg;
        else if (c == 'k')
            hex = optarg;
        else if (c == 'p')
            plain = optarg;
        else
            goto out;
    }
    if (listen == NULL || identity == NULL || hex == NULL || strlen(hex) % 2 ||
        (key_len = strlen(hex) / 2) == 0 || key_len > MAX_KEY ||
        cmn_hex_decode(hex, key, key_len) != 0) {
        fprintf(stderr, "usage: bench-coap-server --listen HOST:PORT --identity ID --key HEX "
                        "[--plain HOST:PORT]\n");
        goto out;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    coap_startup();
    coap_set_log_level(LOG_ERR);
    rc = 3;
    psk = (bench_psk){.identity = identity, .key = {.s = key, .length = key_len}};
    if ((ctx = coap_new_context(NULL)) == NULL || setup(ctx, listen, plain, &psk) != 0)
        goto out;
    printf("ready\n");
    fflush(stdout);
    rc = 0;
    while (!stopping)
        coap_io_process(ctx, 200);
out:
    if (ctx != NULL)
        coap_free_context(ctx);
    cmn_wipe(key, sizeof(key));
    return rc;
}
