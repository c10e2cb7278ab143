/* cse-probe: one oneM2M request over CoAP or CoAPS (PSK), printing what came back.
 *   cse-probe [--psk ID:HEXKEY] [--from F] [--ty N] [--rqi R] [--body JSON]
 *             [--query K=V&K=V] HOST PORT METHOD PATH
 * Prints "coap=X.YY", "rsc=NNNN", "ati=...", "location=..." and "body=..." lines; exit 0 when a
 * response arrived, 2 when none did, 1 on usage errors. For manual checks and tests.
 * An answer is bounded as tep-cse's own client's are (CSE_PROBE_MAX_BODY, tep-cse's
 * default [cse] max_body; patches/README.md item 9): a Block2 answer announcing or
 * growing past it is abandoned, "error=answer_too_large", exit 2. */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"

typedef struct {
    const char *psk, *from, *ty, *rqi, *body, *query;
    const char *host, *port, *method, *path;
} probe_args;

#define CSE_PROBE_MAX_BODY 65536

static int done;
static int too_large;

static void print_response(const coap_pdu_t *rcv)
{
    char buf[1024];
    uint32_t rsc;
    const uint8_t *data;
    size_t len, off, total;
    coap_opt_iterator_t it;
    coap_opt_t *o;
    coap_pdu_code_t code = coap_pdu_get_code(rcv);

    printf("coap=%d.%02d\n", code >> 5, code & 31);
    if (cmn_coap_opt_uint(rcv, CMN_OPT_RSC, &rsc) == 0)
        printf("rsc=%u\n", rsc);
    if (cmn_coap_opt_str(rcv, CMN_OPT_RQI, buf, sizeof(buf)) == 0)
        printf("rqi=%s\n", buf);
    if (cmn_coap_opt_str(rcv, CMN_OPT_ATI, buf, sizeof(buf)) == 0)
        printf("ati=%s\n", buf);
    coap_option_iterator_init(rcv, &it, COAP_OPT_ALL);
    while ((o = coap_option_next(&it)) != NULL) {
        if (it.number == COAP_OPTION_LOCATION_PATH)
            printf("location=%.*s\n", (int)coap_opt_length(o), coap_opt_value(o));
    }
    if (coap_get_data_large(rcv, &len, &data, &off, &total))
        printf("body=%.*s\n", (int)len, data);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent, const coap_pdu_t *rcv,
                                   const coap_mid_t id)
{
    print_response(rcv);
    done = 1;
    return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t reason,
                    const coap_mid_t id)
{
    if (reason == COAP_NACK_BAD_RESPONSE)
        too_large = 1;
}

static coap_pdu_code_t method_code(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return COAP_REQUEST_CODE_GET;
    if (strcmp(m, "POST") == 0)
        return COAP_REQUEST_CODE_POST;
    if (strcmp(m, "PUT") == 0)
        return COAP_REQUEST_CODE_PUT;
    if (strcmp(m, "DELETE") == 0)
        return COAP_REQUEST_CODE_DELETE;
    return 0;
}

static coap_session_t *open_session(coap_context_t *ctx, const probe_args *a)
{
    static uint8_t key[64];
    static char id[300];
    coap_dtls_cpsk_t setup;
    coap_address_t dst;
    const char *colon;

    if (cmn_coap_resolve(a->host, a->port, false, &dst) != 0)
        return NULL;
    if (a->psk == NULL)
        return coap_new_client_session(ctx, NULL, &dst, COAP_PROTO_UDP);
    colon = strrchr(a->psk, ':');
    if (colon == NULL || (size_t)(colon - a->psk) >= sizeof(id) || strlen(colon + 1) != 64 ||
        cmn_hex_decode(colon + 1, key, 32) != 0)
        return NULL;
    memcpy(id, a->psk, (size_t)(colon - a->psk));
    memset(&setup, 0, sizeof(setup));
    setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
    setup.psk_info.identity.s = (const uint8_t *)id;
    setup.psk_info.identity.length = strlen(id);
    setup.psk_info.key.s = key;
    setup.psk_info.key.length = 32;
    return coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
}

static void add_path(coap_optlist_t **ol, const char *path)
{
    const char *seg = path;

    while (*seg != '\0') {
        const char *slash = strchr(seg, '/');
        size_t n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        coap_insert_optlist(ol, coap_new_optlist(COAP_OPTION_URI_PATH, n, (const uint8_t *)seg));
        seg += n + (slash != NULL ? 1 : 0);
    }
}

/* Each '&'-separated part of q is one Uri-Query option (sent as given). */
static void add_query(coap_optlist_t **ol, const char *q)
{
    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t n = amp != NULL ? (size_t)(amp - q) : strlen(q);
        coap_insert_optlist(ol, coap_new_optlist(COAP_OPTION_URI_QUERY, n, (const uint8_t *)q));
        q += n + (amp != NULL ? 1 : 0);
    }
}

static coap_pdu_t *build(coap_session_t *s, const probe_args *a)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, method_code(a->method),
                                    coap_new_message_id(s), coap_session_max_pdu_size(s));
    coap_optlist_t *ol = NULL;
    uint8_t tok[8];
    size_t tlen;

    if (pdu == NULL)
        return NULL;
    coap_session_new_token(s, &tlen, tok);
    coap_add_token(pdu, tlen, tok);
    add_path(&ol, a->path);
    add_query(&ol, a->query);
    if (a->body != NULL)
        cmn_coap_optlist_uint(&ol, COAP_OPTION_CONTENT_FORMAT, CMN_CF_JSON);
    if (a->ty != NULL)
        cmn_coap_optlist_uint(&ol, CMN_OPT_TY, (uint32_t)atoi(a->ty));
    cmn_coap_optlist_str(&ol, CMN_OPT_RVI, "3");
    if (a->from != NULL)
        cmn_coap_optlist_str(&ol, CMN_OPT_FR, a->from);
    cmn_coap_optlist_str(&ol, CMN_OPT_RQI, a->rqi != NULL ? a->rqi : "probe-1");
    coap_add_optlist_pdu(pdu, &ol);
    coap_delete_optlist(ol);
    if (a->body != NULL)
        coap_add_data_large_request(s, pdu, strlen(a->body), (const uint8_t *)a->body, NULL, NULL);
    return pdu;
}

static int parse(int argc, char **argv, probe_args *a)
{
    static const struct option opts[] = {
        {"psk", required_argument, NULL, 'k'},
        {"from", required_argument, NULL, 'f'},
        {"ty", required_argument, NULL, 't'},
        {"rqi", required_argument, NULL, 'r'},
        {"body", required_argument, NULL, 'b'},
        {"query", required_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    int o;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'k':
            a->psk = optarg;
            break;
        case 'f':
            a->from = optarg;
            break;
        case 't':
            a->ty = optarg;
            break;
        case 'r':
            a->rqi = optarg;
            break;
        case 'b':
            a->body = optarg;
            break;
        case 'q':
            a->query = optarg;
            break;
        default:
            return 1;
        }
    }
    if (argc - optind != 4)
        return 1;
    a->host = argv[optind];
    a->port = argv[optind + 1];
    a->method = argv[optind + 2];
    a->path = argv[optind + 3];
    return method_code(a->method) == 0;
}

int main(int argc, char **argv)
{
    probe_args a = {0};
    const cmn_body_limits limits = {CSE_PROBE_MAX_BODY, 1, 1};
    coap_context_t *ctx;
    coap_session_t *s;
    coap_pdu_t *pdu;

    if (parse(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: cse-probe [--psk ID:HEXKEY] [--from F] [--ty N] [--rqi R] "
                        "[--body JSON] [--query Q] HOST PORT GET|POST|PUT|DELETE PATH\n");
        return 1;
    }
    coap_startup();
    ctx = coap_new_context(NULL);
    if (ctx == NULL || cmn_coap_register_options(ctx) != 0)
        return 2;
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    cmn_coap_set_body_limits(ctx, &limits);
    coap_register_response_handler(ctx, on_response);
    coap_register_nack_handler(ctx, on_nack);
    s = open_session(ctx, &a);
    pdu = s != NULL ? build(s, &a) : NULL;
    if (pdu != NULL && coap_send(s, pdu) != COAP_INVALID_MID) {
        /* 5 s in all: coap_io_process returns at each datagram */
        for (int64_t end = cmn_mono_ms() + 5000; !done && !too_large && cmn_mono_ms() < end;)
            coap_io_process(ctx, 200);
    }
    if (too_large)
        printf("error=answer_too_large max_body=%d\n", CSE_PROBE_MAX_BODY);
    else if (!done)
        printf("error=no_response\n");
    coap_free_context(ctx);
    coap_cleanup();
    return done ? 0 : 2;
}
