/* cmn_coap and cmn_exporter: oneM2M options on libcoap PDUs, and a real DTLS-PSK
 * exchange over loopback in one process (client and server contexts) carrying oneM2M
 * options both ways, with both ends exporting keying material. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "tst.h"

#define LABEL_BOOTSTRAP "EXPORTER-oneM2M-Bootstrap"
#define LABEL_CONNECTION "EXPORTER-oneM2M-Connection"
#define EXPORT_LEN 48

static int group_setup(void **state)
{
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    return 0;
}

static int group_teardown(void **state)
{
    coap_cleanup();
    return 0;
}

/* ---- options on a PDU -------------------------------------------------------------- */

static coap_pdu_t *request_with(coap_optlist_t **chain)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 1024);
    assert_non_null(pdu);
    assert_int_equal(coap_add_optlist_pdu(pdu, chain), 1);
    coap_delete_optlist(*chain);
    *chain = NULL;
    return pdu;
}

static void test_register_options(void **state)
{
    coap_context_t *ctx = coap_new_context(NULL);
    assert_non_null(ctx);
    assert_int_equal(cmn_coap_register_options(ctx), 0);
    assert_int_equal(cmn_coap_register_options(NULL), CMN_EINVAL);
    coap_free_context(ctx);
}

static void test_options_round_trip(void **state)
{
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu;
    char buf[64];
    uint32_t v;
    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "tep-cse"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "device01"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "data"), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_TY, 4), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_FR, "Cdevice01"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_RQI, "req-0001"), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_RSC, 2001), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_EC, 0), 0);
    pdu = request_with(&chain);

    v = 0;
    assert_int_equal(cmn_coap_opt_uint(pdu, CMN_OPT_TY, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(cmn_coap_opt_str(pdu, CMN_OPT_FR, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Cdevice01");
    assert_int_equal(cmn_coap_opt_str(pdu, CMN_OPT_RQI, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "req-0001");
    assert_int_equal(cmn_coap_opt_uint(pdu, CMN_OPT_RSC, &v), 0);
    assert_int_equal(v, 2001);
    assert_int_equal(cmn_coap_opt_uint(pdu, CMN_OPT_EC, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cmn_coap_uri_path(pdu, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "tep-cse/device01/data");

    /* absent, too small a buffer */
    assert_int_equal(cmn_coap_opt_str(pdu, CMN_OPT_GID, buf, sizeof(buf)), CMN_ENOTFOUND);
    assert_int_equal(cmn_coap_opt_uint(pdu, CMN_OPT_CTO, &v), CMN_ENOTFOUND);
    assert_int_equal(cmn_coap_opt_str(pdu, CMN_OPT_FR, buf, 9), CMN_ERANGE);
    assert_int_equal(cmn_coap_uri_path(pdu, buf, 10), CMN_ERANGE);
    coap_delete_pdu(pdu);
}

static void test_uri_path_edge_cases(void **state)
{
    char buf[32];
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu;
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_FR, "CAdmin"), 0);
    pdu = request_with(&chain);
    strcpy(buf, "junk");
    assert_int_equal(cmn_coap_uri_path(pdu, buf, sizeof(buf)), 0);
    assert_string_equal(buf, ""); /* no Uri-Path: the empty path */
    coap_delete_pdu(pdu);

    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "tep-cse"), 0);
    pdu = request_with(&chain);
    assert_int_equal(cmn_coap_uri_path(pdu, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "tep-cse");
    assert_int_equal(cmn_coap_uri_path(pdu, buf, 7), CMN_ERANGE); /* no room for NUL */
    coap_delete_pdu(pdu);
}

static void test_uint_too_long(void **state)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 1, 256);
    const uint8_t five[5] = {1, 2, 3, 4, 5};
    uint32_t v;
    assert_non_null(pdu);
    assert_true(coap_add_option(pdu, CMN_OPT_TY, sizeof(five), five) > 0);
    assert_int_equal(cmn_coap_opt_uint(pdu, CMN_OPT_TY, &v), CMN_ERANGE);
    coap_delete_pdu(pdu);
}

/* One pass finds what the readers one option at a time find: the first of a repeated
 * option, the whole Uri-Path, NULL for an absent one, and the same errors. */
static void test_opts_scan_matches_readers(void **state)
{
    static const uint16_t nums[] = {CMN_OPT_FR, CMN_OPT_RQI, CMN_OPT_TY, CMN_OPT_GID};
    const coap_opt_t *opt[4];
    coap_optlist_t *chain = NULL;
    char path[64], buf[64];
    uint32_t v = 0;
    int rc = -1;
    coap_pdu_t *pdu;

    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "tep-cse"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "device01"), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_TY, 4), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_FR, "Cdevice01"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_RQI, "first"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_RQI, "second"), 0);
    pdu = request_with(&chain);

    cmn_coap_opts_scan(pdu, nums, 4, opt, path, sizeof(path), &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(path, "tep-cse/device01");
    assert_int_equal(cmn_coap_opt_str_of(opt[0], buf, sizeof(buf)), 0);
    assert_string_equal(buf, "Cdevice01");
    assert_int_equal(cmn_coap_opt_str_of(opt[1], buf, sizeof(buf)), 0);
    assert_int_equal(cmn_coap_opt_str(pdu, CMN_OPT_RQI, path, sizeof(path)), 0);
    assert_string_equal(buf, path); /* the first, as coap_check_option finds it */
    assert_int_equal(cmn_coap_opt_uint_of(opt[2], &v), 0);
    assert_int_equal(v, 4);
    assert_null(opt[3]);
    assert_int_equal(cmn_coap_opt_str_of(opt[3], buf, sizeof(buf)), CMN_ENOTFOUND);
    assert_int_equal(cmn_coap_opt_str_of(opt[0], buf, 9), CMN_ERANGE);
    cmn_coap_opts_scan(pdu, nums, 4, opt, path, 10, &rc);
    assert_int_equal(rc, CMN_ERANGE); /* the path does not fit */
    coap_delete_pdu(pdu);
}

/* ---- DTLS-PSK exchange over loopback ----------------------------------------------- */

static const uint8_t psk_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

typedef struct {
    bool handled;                /* server handler ran */
    bool answered;               /* client got a response */
    int srv_export, srv_export2; /* cmn_tls_export results on the server session */
    int cli_export, cli_export2;
    uint8_t srv_boot[EXPORT_LEN], srv_conn[EXPORT_LEN];
    uint8_t cli_boot[EXPORT_LEN], cli_conn[EXPORT_LEN];
    char from[64], rqi[64];
    uint32_t ty;
    uint32_t rsc; /* RSC the client read */
    coap_pdu_code_t resp_code;
} exchange;

static exchange xc;

static void srv_handler(coap_resource_t *r, coap_session_t *session, const coap_pdu_t *req,
                        const coap_string_t *query, coap_pdu_t *resp)
{
    uint8_t rsc[4];
    xc.handled = true;
    cmn_coap_opt_str(req, CMN_OPT_FR, xc.from, sizeof(xc.from));
    cmn_coap_opt_str(req, CMN_OPT_RQI, xc.rqi, sizeof(xc.rqi));
    cmn_coap_opt_uint(req, CMN_OPT_TY, &xc.ty);
    xc.srv_export = cmn_tls_export(session, LABEL_BOOTSTRAP, xc.srv_boot, EXPORT_LEN);
    xc.srv_export2 = cmn_tls_export(session, LABEL_CONNECTION, xc.srv_conn, EXPORT_LEN);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
    coap_add_option(resp, CMN_OPT_RQI, strlen(xc.rqi), (const uint8_t *)xc.rqi);
    coap_add_option(resp, CMN_OPT_RSC, coap_encode_var_safe(rsc, sizeof(rsc), 2000), rsc);
}

static coap_response_t cli_handler(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    xc.answered = true;
    xc.resp_code = coap_pdu_get_code(received);
    cmn_coap_opt_uint(received, CMN_OPT_RSC, &xc.rsc);
    xc.cli_export = cmn_tls_export(session, LABEL_BOOTSTRAP, xc.cli_boot, EXPORT_LEN);
    xc.cli_export2 = cmn_tls_export(session, LABEL_CONNECTION, xc.cli_conn, EXPORT_LEN);
    return COAP_RESPONSE_OK;
}

static void loopback(coap_address_t *addr, uint16_t port)
{
    coap_address_init(addr);
    addr->addr.sin.sin_family = AF_INET;
    addr->addr.sin.sin_port = htons(port);
    addr->addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->size = sizeof(struct sockaddr_in);
}

static coap_context_t *server_new(const coap_address_t *addr, bool register_opts)
{
    coap_context_t *ctx = coap_new_context(NULL);
    coap_dtls_spsk_t spsk;
    coap_resource_t *r;
    assert_non_null(ctx);
    memset(&spsk, 0, sizeof(spsk));
    spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    spsk.psk_info.hint.s = (const uint8_t *)"tep-test";
    spsk.psk_info.hint.length = 8;
    spsk.psk_info.key.s = psk_key;
    spsk.psk_info.key.length = sizeof(psk_key);
    assert_int_equal(coap_context_set_psk2(ctx, &spsk), 1);
    if (register_opts)
        assert_int_equal(cmn_coap_register_options(ctx), 0);
    assert_non_null(coap_new_endpoint(ctx, addr, COAP_PROTO_DTLS));
    r = coap_resource_init(coap_make_str_const("tep-cse"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, srv_handler);
    coap_add_resource(ctx, r);
    return ctx;
}

static coap_session_t *client_new(coap_context_t *ctx, const coap_address_t *dst)
{
    coap_dtls_cpsk_t cpsk;
    coap_session_t *s;
    memset(&cpsk, 0, sizeof(cpsk));
    cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
    cpsk.client_sni = "mef.tep.local";
    cpsk.psk_info.identity.s = (const uint8_t *)"device01";
    cpsk.psk_info.identity.length = 8;
    cpsk.psk_info.key.s = psk_key;
    cpsk.psk_info.key.length = sizeof(psk_key);
    assert_int_equal(cmn_coap_register_options(ctx), 0);
    coap_register_response_handler(ctx, cli_handler);
    s = coap_new_client_session_psk2(ctx, NULL, dst, COAP_PROTO_DTLS, &cpsk);
    assert_non_null(s);
    return s;
}

static void send_onem2m_get(coap_session_t *s)
{
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, s);
    assert_non_null(pdu);
    assert_int_equal(cmn_coap_optlist_str(&chain, COAP_OPTION_URI_PATH, "tep-cse"), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_TY, 2), 0);
    assert_int_equal(cmn_coap_optlist_uint(&chain, CMN_OPT_RVI, 3), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_FR, "Cdevice01"), 0);
    assert_int_equal(cmn_coap_optlist_str(&chain, CMN_OPT_RQI, "rq-42"), 0);
    assert_int_equal(coap_add_optlist_pdu(pdu, &chain), 1);
    coap_delete_optlist(chain);
    assert_true(coap_send(s, pdu) != COAP_INVALID_MID);
}

/* Runs both contexts until the client has its answer or 5 s pass. */
static void run_exchange(bool register_on_server)
{
    coap_address_t addr;
    coap_context_t *srv;
    coap_context_t *cli;
    coap_session_t *s;
    uint8_t early[EXPORT_LEN];
    int64_t deadline;
    loopback(&addr, tst_free_udp_port());
    memset(&xc, 0, sizeof(xc));
    srv = server_new(&addr, register_on_server);
    cli = coap_new_context(NULL);
    assert_non_null(cli);
    s = client_new(cli, &addr);
    assert_int_equal(cmn_tls_export(s, LABEL_BOOTSTRAP, early, EXPORT_LEN), CMN_ESTATE);
    send_onem2m_get(s);
    deadline = cmn_mono_ms() + 5000;
    while (!xc.answered && cmn_mono_ms() < deadline) {
        coap_io_process(cli, 5);
        coap_io_process(srv, 5);
    }
    coap_session_release(s);
    coap_free_context(cli);
    coap_free_context(srv);
}

static void test_dtls_exchange_and_exporter(void **state)
{
    static const uint8_t zero[EXPORT_LEN];
    assert_true(coap_dtls_is_supported()); /* tep's libcoap is built with DTLS */
    run_exchange(true);
    assert_true(xc.handled);
    assert_true(xc.answered);
    assert_int_equal(xc.resp_code, COAP_RESPONSE_CODE_CONTENT);
    /* the oneM2M options went through libcoap both ways */
    assert_string_equal(xc.from, "Cdevice01");
    assert_string_equal(xc.rqi, "rq-42");
    assert_int_equal(xc.ty, 2);
    assert_int_equal(xc.rsc, 2000);
    /* both ends derive the same Bootstrap bytes; another label gives other bytes */
    assert_int_equal(xc.srv_export, 0);
    assert_int_equal(xc.srv_export2, 0);
    assert_int_equal(xc.cli_export, 0);
    assert_int_equal(xc.cli_export2, 0);
    assert_memory_equal(xc.srv_boot, xc.cli_boot, EXPORT_LEN);
    assert_memory_equal(xc.srv_conn, xc.cli_conn, EXPORT_LEN);
    assert_memory_not_equal(xc.srv_boot, xc.srv_conn, EXPORT_LEN);
    assert_memory_not_equal(xc.srv_boot, zero, EXPORT_LEN);
}

/* Without the registration libcoap refuses the critical oneM2M options (4.02), which
 * is what cmn_coap_register_options exists for. */
static void test_unregistered_server_rejects(void **state)
{
    assert_true(coap_dtls_is_supported()); /* tep's libcoap is built with DTLS */
    run_exchange(false);
    assert_false(xc.handled);
    assert_true(xc.answered);
    assert_int_equal(xc.resp_code, COAP_RESPONSE_CODE_BAD_OPTION);
}

static void test_exporter_plain_session(void **state)
{
    coap_context_t *ctx = coap_new_context(NULL);
    coap_address_t dst;
    uint8_t out[EXPORT_LEN];
    coap_session_t *s;
    loopback(&dst, tst_free_udp_port());
    s = coap_new_client_session(ctx, NULL, &dst, COAP_PROTO_UDP);
    assert_non_null(s);
    assert_int_equal(cmn_tls_export(s, LABEL_BOOTSTRAP, out, EXPORT_LEN), CMN_ESTATE);
    assert_int_equal(cmn_tls_export(NULL, LABEL_BOOTSTRAP, out, EXPORT_LEN), CMN_EINVAL);
    coap_session_release(s);
    coap_free_context(ctx);
}

/* The one resolution: numeric hosts always; names only when allowed (the daemons never
 * wait for DNS); a URI's host and port. */
static void test_resolve(void **state)
{
    coap_address_t a;
    coap_uri_t u;
    const char *uri = "coaps://127.0.0.1:5699/x";

    (void)state;
    assert_int_equal(cmn_coap_resolve("127.0.0.1", "5684", true, &a), 0);
    assert_int_equal(a.addr.sa.sa_family, AF_INET);
    assert_int_equal(coap_address_get_port(&a), 5684);
    assert_int_equal(cmn_coap_resolve("::1", "5683", true, &a), 0);
    assert_int_equal(a.addr.sa.sa_family, AF_INET6);
    assert_int_equal(cmn_coap_resolve("localhost", "5684", true, &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_resolve("", "5684", false, &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_resolve(NULL, "5684", false, &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_resolve("127.0.0.1", "no-such-service", false, &a), CMN_ENOTFOUND);
    assert_int_equal(coap_split_uri((const uint8_t *)uri, strlen(uri), &u), 0);
    assert_int_equal(cmn_coap_uri_address(&u, true, &a), 0);
    assert_int_equal(coap_address_get_port(&a), 5699);
}

/* Listen addresses: numeric hosts only (no DNS wait), v4 and [v6]; a bound port is busy. */
static void test_listen_helpers(void **state)
{
    coap_address_t a;
    int fd;

    (void)state;
    assert_int_equal(cmn_coap_parse_listen("127.0.0.1:0", &a), 0);
    assert_int_equal(a.addr.sa.sa_family, AF_INET);
    assert_int_equal(cmn_coap_parse_listen("[::1]:5684", &a), 0);
    assert_int_equal(a.addr.sa.sa_family, AF_INET6);
    assert_int_equal(coap_address_get_port(&a), 5684);
    assert_int_equal(cmn_coap_parse_listen("localhost:5684", &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_parse_listen("127.0.0.1", &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_parse_listen(":5684", &a), CMN_EINVAL);
    assert_int_equal(cmn_coap_parse_listen(NULL, &a), CMN_EINVAL);

    /* a port someone holds is not free */
    assert_int_equal(cmn_coap_parse_listen("127.0.0.1:0", &a), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, &a.addr.sa, a.size), 0);
    a.size = sizeof(a.addr.sin);
    assert_int_equal(getsockname(fd, &a.addr.sa, &a.size), 0);
    assert_false(cmn_coap_port_free(&a));
    close(fd);
    assert_true(cmn_coap_port_free(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_options),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_options_round_trip),
        cmocka_unit_test(test_uri_path_edge_cases),
        cmocka_unit_test(test_uint_too_long),
        cmocka_unit_test(test_opts_scan_matches_readers),
        cmocka_unit_test(test_dtls_exchange_and_exporter),
        cmocka_unit_test(test_unregistered_server_rejects),
        cmocka_unit_test(test_exporter_plain_session),
        cmocka_unit_test(test_listen_helpers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
