/* libcoap glue: PDU <-> cse_req/cse_rsp (TS-0008 6.2). */
#include <netdb.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_cbor.h"
#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_admit.h"
#include "cse_client.h"
#include "cse_coap.h"
#include "cse_ctx.h"
#include "cse_saef.h"

#define SUB "coap"
/* How long a subscription CREATE waits for its verification answers (TS-0004 7.4.8). */
#define VERIFY_WAIT_MS 5000
/* A parked request whose answer could not be delivered (its client went away). */
#define PARKED_MAX_AGE_MS 60000
#define PARKED_MAX 4096
/* Forwards waiting for the next CSE's answer: per session, and in all (then 5103). */
#define FORWARD_PER_SESSION 64
#define FORWARD_MAX 1024

/* PARK_COMMIT: answered, its write waiting for the batch commit (group commit). */
/* PARK_FORWARDING: sent on to the next CSE (cse_route.h), waiting for its answer. */
typedef enum { PARK_DECIDING, PARK_VERIFYING, PARK_COMMIT, PARK_DONE, PARK_FORWARDING } park_state;
/* How long a forwarded request waits for the next CSE's answer (then 5103). */
#define FORWARD_WAIT_MS 8000

/* Group commit: at most this many reads of libcoap's sockets in one batch. */
#define BATCH_READS 32

/* A request held back (libcoap async with delay 0) while its remote access decisions
 * (cse_pep.h), its subscription verification or the commit of its write are on their
 * way. cse_coap_process handles it again, outside libcoap's callbacks, with what came
 * back; once its answer is known the async is triggered and the handler only sends that
 * answer. The ACK of a confirmable request waits up to piggyback_ms for it
 * (coap_async_delay_ack, tep's libcoap patch): an answer known by then is piggy-backed
 * on the ACK; only a later one goes out as a separate response after an empty ACK
 * (RFC 7252 5.2.2). Nothing blocks meanwhile: the ACK is a libcoap timer. */
typedef struct parked parked;

struct cse_coap {
    coap_context_t *ctx;
    /* The sessions this CSE opens as Entity A of a SAEF (the MN-CSE to its registrar):
     * a context of their own, without server credentials (cse_coap_client_context). */
    coap_context_t *cctx;
    cmn_body_limits body; /* [cse] max_body..., for both contexts */
    bool body_set;
    cse_node *node; /* borrowed */
    cse_client *client;
    parked *parked;
    size_t n_parked;
    cmn_dtls_guard *guard;
    cse_admit *admit;       /* NULL: every request may wait for its decisions */
    int64_t shed_logged_ms; /* event=decisions_shed, at most one line per SHED_LOG_MS */
    uint64_t shed_unlogged;
    bool batching;            /* inside the batch of one loop turn (cse_coap_process) */
    size_t n_held;            /* parked in PARK_COMMIT */
    uint64_t commit_failures; /* batch commits that failed (their writes are lost) */
    struct note *notes;       /* notifications waiting for the batch commit (notify) */
    struct note **notes_tail;
    int piggyback_ms;       /* a parked CON request's ACK waits this long (0: not) */
    uint64_t n_piggybacked; /* answers in the request's ACK (or NON) */
    uint64_t n_separate;    /* answers after an empty ACK (separate CON response) */
    /* the MN-CSE's session to its registrar (cse_coap_set_uplink), NULL when none */
    coap_session_t *(*uplink)(void *arg);
    void *uplink_arg;
    uint64_t n_forwarded; /* requests sent on to another CSE */
};

#define SHED_LOG_MS 10000

/* ---- request in -------------------------------------------------------------------- */

static int method_to_op(coap_pdu_code_t code, bool has_ty)
{
    switch (code) {
    case COAP_REQUEST_CODE_GET:
        return CMN_OP_RETRIEVE;
    case COAP_REQUEST_CODE_POST:
        return has_ty ? CMN_OP_CREATE : CMN_OP_NOTIFY;
    case COAP_REQUEST_CODE_PUT:
        return CMN_OP_UPDATE;
    case COAP_REQUEST_CODE_DELETE:
        return CMN_OP_DELETE;
    default:
        return 0;
    }
}

static void peer_ip(coap_session_t *session, char *ret, size_t len)
{
    const coap_address_t *a = coap_session_get_addr_remote(session);

    ret[0] = '\0';
    if (a == NULL ||
        getnameinfo(&a->addr.sa, a->size, ret, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
        ret[0] = '\0';
}

typedef struct {
    char path[CSE_PATH_MAX];
    char query[2048];
    char rqet[64], rset[64], oet[64];
    char from[256];
    char rqi[256];
    char rvi[8];
    char ip[64];
    char ati[512]; /* Assigned Token IDs (TS-0008 oneM2M-ATI), "" when none */
    bool bad_option;
    /* CBOR (cse_coap_cbor_in/_out): the handler speaks JSON */
    char *cbor_json;      /* the CBOR body as JSON text (malloc'd), NULL when none */
    uint32_t cbor_when;   /* the handler's JSON answer format to re-encode, 0 = none */
    uint32_t cbor_cf;     /* ... as this CBOR Content-Format (60 or 10010) */
    unsigned cbor_rsc;    /* the CBOR body does not decode: this RSC ... */
    const char *cbor_why; /* ... for this reason */
    size_t body_len;      /* response body length when it is CBOR, 0 = strlen */
} req_opts;

/* RQET, RSET, OET (absRelTimestamp strings): NULL when absent. */
static void read_time_option(const coap_opt_t *opt, char *buf, size_t len, const char **ret,
                             req_opts *o)
{
    int rc = cmn_coap_opt_str_of(opt, buf, len);

    *ret = rc == 0 ? buf : NULL;
    o->bad_option |= rc != 0 && rc != CMN_ENOTFOUND;
}

/* The options read_options takes, found in one pass over the request's options. */
enum {
    OPT_FR,
    OPT_RQI,
    OPT_RVI,
    OPT_TY,
    OPT_CF,
    OPT_ACCEPT,
    OPT_RQET,
    OPT_RSET,
    OPT_OET,
    N_READ_OPTS
};
static const uint16_t read_opt_nums[N_READ_OPTS] = {
    CMN_OPT_FR,         CMN_OPT_RQI,  CMN_OPT_RVI,  CMN_OPT_TY, COAP_OPTION_CONTENT_FORMAT,
    COAP_OPTION_ACCEPT, CMN_OPT_RQET, CMN_OPT_RSET, CMN_OPT_OET};

/* Reads the oneM2M options; an option too long for its buffer is a bad request. */
static void read_options(const coap_pdu_t *pdu, cse_req *req, req_opts *o)
{
    const coap_opt_t *opt[N_READ_OPTS];
    int rc;

    cmn_coap_opts_scan(pdu, read_opt_nums, N_READ_OPTS, opt, o->path, sizeof(o->path), &rc);
    o->bad_option = rc != 0;
    req->path = o->path;
    rc = cmn_coap_opt_str_of(opt[OPT_FR], o->from, sizeof(o->from));
    req->from = rc == 0 ? o->from : NULL;
    o->bad_option |= rc != 0 && rc != CMN_ENOTFOUND;
    rc = cmn_coap_opt_str_of(opt[OPT_RQI], o->rqi, sizeof(o->rqi));
    o->bad_option |= rc != 0 && rc != CMN_ENOTFOUND;
    if (rc != 0)
        o->rqi[0] = '\0';
    rc = cmn_coap_opt_str_of(opt[OPT_RVI], o->rvi, sizeof(o->rvi));
    req->rvi = rc == 0 && o->rvi[0] != '\0' ? o->rvi : NULL;
    if (rc == CMN_ERANGE) {
        req->rvi = "?"; /* longer than any release: 4001 */
        snprintf(o->rvi, sizeof(o->rvi), "3");
    } else if (req->rvi == NULL) {
        snprintf(o->rvi, sizeof(o->rvi), "3");
    }
    rc = cmn_coap_opt_uint_of(opt[OPT_TY], &req->ty);
    o->bad_option |= rc != 0 && rc != CMN_ENOTFOUND;
    if (rc != 0)
        req->ty = 0;
    if (cmn_coap_opt_uint_of(opt[OPT_CF], &req->cf) != 0)
        req->cf = 0;
    req->has_accept = cmn_coap_opt_uint_of(opt[OPT_ACCEPT], &req->accept) == 0;
    read_time_option(opt[OPT_RQET], o->rqet, sizeof(o->rqet), &req->rqet, o);
    read_time_option(opt[OPT_RSET], o->rset, sizeof(o->rset), &req->rset, o);
    read_time_option(opt[OPT_OET], o->oet, sizeof(o->oet), &req->oet, o);
    req->rqi = o->rqi;
}

/* libcoap joins the Uri-Query options with '&'; an empty one is fine. */
static void read_query(const coap_string_t *query, cse_req *req, req_opts *o)
{
    req->query = NULL;
    if (query == NULL || query->length == 0)
        return;
    if (query->length >= sizeof(o->query) || memchr(query->s, '\0', query->length) != NULL) {
        o->bad_option = true;
        return;
    }
    memcpy(o->query, query->s, query->length);
    o->query[query->length] = '\0';
    req->query = o->query;
}

static void read_body(const coap_pdu_t *pdu, cse_req *req)
{
    const uint8_t *data = NULL;
    size_t len = 0, offset = 0, total = 0;

    /* COAP_BLOCK_SINGLE_BODY: libcoap hands over the whole (reassembled) body. */
    if (coap_get_data_large(pdu, &len, &data, &offset, &total) && offset == 0 && len == total) {
        req->body = (const char *)data;
        req->body_len = len;
    }
}

/* ---- CBOR (TS-0004 8.5, TS-0008 6.2.2.2) -------------------------------------------- */

/* The JSON format of the same content (TS-0004 6.7), 0 for a format that is not CBOR. */
static uint32_t cbor_json_twin(uint32_t cf)
{
    switch (cf) {
    case CMN_CF_CBOR:
        return CMN_CF_JSON;
    case 10010:
        return CMN_CF_RES_JSON; /* vnd.onem2m-res+cbor */
    case 10011:
        return CMN_CF_NTFY_JSON; /* vnd.onem2m-ntfy+cbor */
    case 10012:
        return CMN_CF_PREQ_JSON; /* vnd.onem2m-preq+cbor */
    case 10013:
        return CMN_CF_PRSP_JSON; /* vnd.onem2m-prsp+cbor */
    default:
        return 0;
    }
}

/* A CBOR body becomes the JSON text the handler parses (same short names), and a CBOR
 * Accept its JSON twin; the answer is re-encoded by cbor_out. Without Accept, a CBOR
 * request is answered in CBOR (60). A body that does not decode is 4000. */
static void cbor_in(cse_req *req, req_opts *o)
{
    uint32_t twin;
    int rc;

    if (req->has_accept && (twin = cbor_json_twin(req->accept)) != 0) {
        o->cbor_cf = req->accept;
        o->cbor_when = req->accept = twin;
    }
    if ((twin = cbor_json_twin(req->cf)) == 0)
        return;
    req->cf = twin;
    if (!req->has_accept) {
        o->cbor_cf = CMN_CF_CBOR;
        o->cbor_when = CMN_CF_JSON;
    }
    if (req->body == NULL || req->body_len == 0)
        return;
    rc = cmn_cbor_to_json_text((const uint8_t *)req->body, req->body_len, &o->cbor_json);
    if (rc == 0) {
        req->body = o->cbor_json;
        req->body_len = strlen(o->cbor_json);
        return;
    }
    o->cbor_rsc = rc == CMN_ENOMEM ? CMN_RSC_INTERNAL_SERVER_ERROR : CMN_RSC_BAD_REQUEST;
    o->cbor_why = rc == CMN_ERANGE   ? "cbor_too_deep"
                  : rc == CMN_EPROTO ? "cbor_value_not_json"
                                     : "bad_cbor";
    CMN_INFO(SUB, "event=bad_request reason=%s", o->cbor_why);
}

/* The refusal of an undecodable CBOR body, with its m2m:dbg (TS-0004 6.6). */
static void cbor_refuse(const req_opts *o, cse_rsp *rsp)
{
    char text[128];
    json_t *d;

    snprintf(text, sizeof(text), "%s: %s", cmn_rsc_name(o->cbor_rsc), o->cbor_why);
    rsp->rsc = o->cbor_rsc;
    rsp->cf = CMN_CF_JSON;
    d = json_pack("{s:s}", "m2m:dbg", text);
    rsp->body = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
}

/* Re-encodes the handler's JSON answer as CBOR when that is what was asked. */
static void cbor_out(req_opts *o, cse_rsp *rsp)
{
    uint8_t *b;
    size_t n;
    int rc;

    if (o->cbor_when == 0 || rsp->body == NULL || rsp->cf != o->cbor_when)
        return;
    rc = cmn_cbor_from_json_text(rsp->body, strlen(rsp->body), &b, &n);
    if (rc != 0) {
        CMN_WARN(SUB, "event=cbor_encode_failed err=%s", cmn_strerror(rc));
        return; /* answered in JSON, labelled as such */
    }
    free(rsp->body);
    rsp->body = (char *)b;
    rsp->cf = o->cbor_cf;
    o->body_len = n;
}

/* ---- response out ------------------------------------------------------------------ */

static void add_location(coap_pdu_t *rsp, const char *path)
{
    const char *seg = path, *slash;

    while (*seg != '\0') {
        size_t n;

        slash = strchr(seg, '/');
        n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        coap_add_option(rsp, COAP_OPTION_LOCATION_PATH, n, (const uint8_t *)seg);
        seg += n;
        if (*seg == '/')
            seg++;
    }
}

static void add_uint_opt(coap_pdu_t *rsp, uint16_t num, uint32_t v)
{
    uint8_t buf[4];

    coap_add_option(rsp, num, coap_encode_var_safe(buf, sizeof(buf), v), buf);
}

static void release_body(coap_session_t *session, void *app_ptr)
{
    free(app_ptr);
}

static void write_response(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                           coap_pdu_t *response, int op, const req_opts *o, cse_rsp *rsp)
{
    char *body;
    size_t len;
    coap_string_t *query;

    coap_pdu_set_code(response, cmn_rsc_to_coap(rsp->rsc, op));
    if (rsp->rsc == CMN_RSC_CREATED && rsp->location[0] != '\0')
        add_location(response, rsp->location);
    coap_add_option(response, CMN_OPT_RVI, strlen(o->rvi), (const uint8_t *)o->rvi);
    coap_add_option(response, CMN_OPT_RQI, strlen(o->rqi), (const uint8_t *)o->rqi);
    add_uint_opt(response, CMN_OPT_RSC, rsp->rsc);
    if (o->ati[0] != '\0')
        coap_add_option(response, CMN_OPT_ATI, strlen(o->ati), (const uint8_t *)o->ati);
    if (rsp->body == NULL)
        return;
    /* The body is libcoap's from here on, success or not (Block2 may outlive this
     * handler; on failure libcoap has already called release_body). */
    body = rsp->body;

    rsp->body = NULL;
    len = o->body_len != 0 ? o->body_len : strlen(body);
    /* libcoap keeps a body of several blocks and serves the later blocks (Block2 num > 0,
     * which never reach the handler) from it, with the first block's ETag (RFC 7959
     * 2.4), matching them by resource, method and query: without the request's query a
     * discovery's later blocks (fu=1&...) missed it, were computed again and carried a
     * fresh ETag, which a client refuses (integration 116). */
    query = coap_get_query(request);

    if (!coap_add_data_large_response(res, session, request, response, query, rsp->cf, -1, 0, len,
                                      (const uint8_t *)body, release_body, body))
        CMN_WARN(SUB, "event=response_body_failed code=%d", (int)coap_pdu_get_code(response));
    coap_delete_string(query);
}

/* ---- parked requests ----------------------------------------------------------------- */

struct parked {
    parked *next;
    cse_coap *c;
    coap_session_t *session; /* referenced while parked */
    uint8_t token[8];
    size_t token_len;
    park_state state;
    cse_req req; /* as read on arrival; its strings point into o and body */
    req_opts o;
    char *body;
    cse_pep_pending *decisions; /* the remote questions and their answers */
    uint32_t vid;               /* cse_client verification id, 0 once finished */
    int result;                 /* verification: 0 waiting or not started, 1 passed, -1 failed */
    char rn[64];                /* the subscription's name chosen on the first pass */
    int64_t since_ms;           /* monotonic: parked, verification started, or answer ready */
    cse_rsp rsp;                /* PARK_DONE: the answer to send */
    cse_fanout_memo *memo;      /* a write fan-out's member answers (cse_group.c) */
    cse_pass_memo *pass;        /* what the first pass loaded (cse_request.h) */
    bool admitted;              /* counted by cse_admit while deciding (o.from) */
    /* PARK_FORWARDING (cse_route.h): the exchange with the next CSE and its answer */
    uint32_t fwd_id; /* cse_client_request id, 0 once answered */
    bool fwd_answered;
    char fwd_from[256]; /* the From it was sent with (loop detection) */
    char fwd_csi[128];  /* the CSE-ID it is addressed to */
    cse_rsp fwd_rsp;    /* the answer, once fwd_answered */
};

static parked *find_parked(cse_coap *c, coap_session_t *session, coap_bin_const_t token)
{
    for (parked *p = c->parked; p != NULL; p = p->next) {
        if (p->session == session && p->token_len == token.length &&
            memcmp(p->token, token.s, token.length) == 0)
            return p;
    }
    return NULL;
}

/* drop_async: also forget libcoap's async (not from the handler it called). */
static void parked_free(cse_coap *c, parked *p, bool drop_async)
{
    parked **pp = &c->parked;
    coap_bin_const_t token = {p->token_len, p->token};
    coap_async_t *async = drop_async ? coap_find_async(p->session, token) : NULL;

    while (*pp != NULL && *pp != p)
        pp = &(*pp)->next;
    if (*pp == p) {
        *pp = p->next;
        c->n_parked--;
    }
    if (p->admitted)
        cse_admit_release(c->admit, p->o.from, -1, cmn_mono_ms());
    if (p->state == PARK_COMMIT)
        c->n_held--;
    if (async != NULL)
        coap_free_async(p->session, async);
    if (p->vid != 0)
        cse_client_cancel(c->client, p->vid);
    if (p->fwd_id != 0)
        cse_client_forget(c->client, p->fwd_id);
    cse_rsp_clear(&p->fwd_rsp);
    cse_pep_pending_free(p->decisions);
    cse_fanout_memo_free(p->memo);
    cse_pass_memo_free(p->pass);
    cse_rsp_clear(&p->rsp);
    free(p->body);
    coap_session_release(p->session);
    free(p);
}

/* The request's strings now live in p->o and p->body. */
static int park_copy(parked *p, const cse_req *req, const req_opts *o)
{
    p->o = *o;
    p->o.cbor_json = NULL; /* the handler's; the body is copied below */
    p->req = *req;
    p->req.path = p->o.path;
    p->req.from = req->from != NULL ? p->o.from : NULL;
    p->req.query = req->query != NULL ? p->o.query : NULL;
    p->req.rqi = p->o.rqi;
    p->req.rvi = req->rvi == o->rvi ? p->o.rvi : req->rvi; /* or NULL, or "?" */
    p->req.rqet = req->rqet != NULL ? p->o.rqet : NULL;
    p->req.rset = req->rset != NULL ? p->o.rset : NULL;
    p->req.oet = req->oet != NULL ? p->o.oet : NULL;
    p->req.peer_ip = p->o.ip;
    p->req.ati = p->o.ati;
    p->req.ati_len = sizeof(p->o.ati);
    p->req.bound_id = NULL; /* read again on every pass: the binding may be revoked */
    p->req.pass_memo = &p->pass;
    p->req.body = NULL;
    if (req->body == NULL || req->body_len == 0)
        return 0;
    if ((p->body = malloc(req->body_len)) == NULL)
        return CMN_ENOMEM;
    memcpy(p->body, req->body, req->body_len);
    p->req.body = p->body;
    return 0;
}

static void verified(void *arg, bool ok)
{
    parked *p = arg;

    p->vid = 0;
    p->result = ok ? 1 : -1;
    CMN_INFO(SUB, "event=subscription_verification ok=%d", ok);
}

/* Sends the verification requests of rsp (TS-0004 7.4.8.2.1); without an answer in
 * VERIFY_WAIT_MS the verification failed (5204). */
static void start_verify(cse_coap *c, parked *p, const cse_rsp *rsp)
{
    p->state = PARK_VERIFYING;
    p->since_ms = cmn_mono_ms();
    snprintf(p->rn, sizeof(p->rn), "%s", rsp->verify_rn);
    p->vid = cse_client_verify(c->client, rsp->verify_cr, rsp->verify_nu, rsp->n_verify,
                               rsp->verify_body, verified, p);
}

/* Holds the request back: libcoap sends an empty ACK now (the handler sets no code).
 * decisions is the parked request's from here on, also on failure. */
static parked *park(cse_coap *c, coap_session_t *session, const coap_pdu_t *request,
                    const cse_req *req, const req_opts *o, cse_pep_pending *decisions)
{
    coap_bin_const_t token = coap_pdu_get_token(request);
    coap_async_t *async;
    parked *p = NULL;

    if (c->n_parked >= PARKED_MAX || token.length > sizeof(p->token) ||
        (p = calloc(1, sizeof(*p))) == NULL)
        goto fail;
    p->decisions = decisions;
    if (park_copy(p, req, o) != 0 || (async = coap_register_async(session, request, 0)) == NULL) {
        free(p->body);
        free(p);
        goto fail;
    }
    if (c->piggyback_ms > 0) /* no empty ACK yet (CON over UDP or DTLS only) */
        coap_async_delay_ack(async, (coap_tick_t)c->piggyback_ms * COAP_TICKS_PER_SECOND / 1000);
    p->c = c;
    p->session = coap_session_reference(session);
    memcpy(p->token, token.s, token.length);
    p->token_len = token.length;
    p->since_ms = cmn_mono_ms();
    p->next = c->parked;
    c->parked = p;
    c->n_parked++;
    return p;
fail:
    CMN_WARN(SUB, "event=park_failed parked=%zu", c->n_parked);
    cse_pep_pending_free(decisions);
    return NULL;
}

/* The answer is known: libcoap calls the handler again, which sends it. */
static void finish(cse_coap *c, parked *p, cse_rsp *rsp)
{
    coap_bin_const_t token = {p->token_len, p->token};
    coap_async_t *async = coap_find_async(p->session, token);

    p->rsp = *rsp;
    memset(rsp, 0, sizeof(*rsp));
    if (c->batching && cmn_store_batch_dirty(c->node->store)) {
        p->state = PARK_COMMIT; /* released by the batch commit (group commit) */
        c->n_held++;
        return;
    }
    p->state = PARK_DONE;
    p->since_ms = cmn_mono_ms();
    if (async != NULL)
        coap_async_trigger(async);
    else
        parked_free(c, p, false); /* its session is gone */
}

static void handle_pass(cse_coap *c, cse_pep_pending *decisions, const cse_req *req, cse_rsp *rsp)
{
    cse_pep_begin(c->node->pep, decisions);
    cse_request_handle(c->node, req, rsp);
    cse_pep_end(c->node->pep);
}

static coap_session_t *hop_session(cse_coap *c, cse_rsp *rsp, bool *refused);
static void not_reachable(cse_rsp *rsp, const char *why);
static bool forward_quota_ok(const cse_coap *c, const coap_session_t *session);
static bool start_forward(cse_coap *c, parked *p, coap_session_t *s, cse_rsp *rsp);

/* Handles a parked request again (outside libcoap callbacks) with its answers. */
static void resume(cse_coap *c, parked *p)
{
    cse_rsp rsp;
    uint64_t writes, failures;

    p->req.bound_id = NULL;
    if (p->req.secure) {
        p->req.bound_id = cse_saef_bound_id(c->node->store, p->session, p->req.now);
        p->req.bound_admin = p->req.bound_id != NULL && cse_saef_bound_is_admin(p->session);
    }
    p->req.verified = p->result;
    p->req.sub_rn = p->result != 0 ? p->rn : NULL;
    p->o.ati[0] = '\0';
    writes = cmn_store_write_count(c->node->store);
    failures = c->commit_failures;
    handle_pass(c, p->decisions, &p->req, &rsp);
    if (cmn_store_write_count(c->node->store) != writes && c->commit_failures != failures) {
        cse_rsp_clear(&rsp); /* its write was in a lost batch */
        rsp.rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    if (rsp.deciding) {
        p->state = PARK_DECIDING; /* more questions (a DAS consultation after a Deny) */
        return;
    }
    if (p->admitted) { /* decided: the latency from parking is a sample */
        int64_t now = cmn_mono_ms();

        cse_admit_release(c->admit, p->o.from, now - p->since_ms, now);
        p->admitted = false;
    }
    if (rsp.forward) { /* decided, then sent on: a NOTIFY relayed to an AE (fwd_ae) */
        bool refused = false;
        coap_session_t *hop = NULL;

        if (!forward_quota_ok(c, p->session))
            not_reachable(&rsp, "forward_quota");
        else if ((hop = hop_session(c, &rsp, &refused)) == NULL)
            not_reachable(&rsp, refused ? "next_hop_target_not_allowed" : "next_hop_not_connected");
        else if (start_forward(c, p, hop, &rsp)) {
            cse_rsp_clear(&rsp);
            return;
        }
        finish(c, p, &rsp);
        return;
    }
    if (rsp.rsc == 0 && p->result == 0) {
        start_verify(c, p, &rsp);
        cse_rsp_clear(&rsp);
        return;
    }
    if (rsp.rsc == 0) {
        cse_rsp_clear(&rsp);
        rsp.rsc = CMN_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED;
    }
    finish(c, p, &rsp);
}

static void resume_parked(cse_coap *c)
{
    int64_t now = cmn_mono_ms();

    for (parked *p = c->parked, *next; p != NULL; p = next) {
        next = p->next;
        if (p->state == PARK_DECIDING && cse_pep_pending_answered(p->decisions)) {
            resume(c, p);
        } else if (p->state == PARK_VERIFYING) {
            if (p->result == 0 && now - p->since_ms > VERIFY_WAIT_MS) {
                cse_client_cancel(c->client, p->vid);
                p->vid = 0;
                p->result = -1; /* no answer in time: 5204 */
            }
            if (p->result != 0)
                resume(c, p);
        } else if (p->state == PARK_FORWARDING && p->fwd_answered) {
            cse_rsp rsp = p->fwd_rsp;

            memset(&p->fwd_rsp, 0, sizeof(p->fwd_rsp));
            finish(c, p, &rsp);
        } else if (p->state == PARK_DONE && now - p->since_ms > PARKED_MAX_AGE_MS) {
            parked_free(c, p, true); /* triggered, never sent: the client went away */
        }
    }
}

/* A notification tells of a write: while the batch holding it is not committed, it waits
 * and leaves after the commit (group commit); a write whose commit failed is told to
 * nobody. Not committed here: notify is called while the resource tree is being walked
 * with a cursor of the batch's transaction (cse_notify_event), which a commit frees. */
struct note {
    struct note *next;
    char *nu;
    char *owner;
    char *body;
};

static void notes_flush(cse_coap *c, bool send)
{
    struct note *n = c->notes, *next;

    c->notes = NULL;
    c->notes_tail = &c->notes;
    for (; n != NULL; n = next) {
        next = n->next;
        if (send)
            cse_client_notify(c->client, n->nu, n->owner, n->body);
        free(n->nu);
        free(n->owner);
        free(n->body);
        free(n);
    }
}

static void notify(void *arg, const char *nu, const char *owner, const char *body)
{
    cse_coap *c = arg;
    struct note *n;

    if (owner == NULL)
        owner = "";
    if (!c->batching || !cmn_store_batch_dirty(c->node->store)) {
        cse_client_notify(c->client, nu, owner, body);
        return;
    }
    if ((n = calloc(1, sizeof(*n))) == NULL || (n->nu = strdup(nu)) == NULL ||
        (n->owner = strdup(owner)) == NULL || (n->body = strdup(body)) == NULL) {
        CMN_WARN(SUB, "event=notification_dropped reason=out_of_memory");
        if (n != NULL) {
            free(n->nu);
            free(n->owner);
        }
        free(n);
        return;
    }
    if (c->notes_tail == NULL)
        c->notes_tail = &c->notes;
    *c->notes_tail = n;
    c->notes_tail = &n->next;
}

/* ---- forwarding (cse_route.h) ------------------------------------------------------- */

/* The session towards the next hop: the MN-CSE's own to its registrar, the DTLS session
 * a registered CSE opened to this one (the request goes back over its security
 * association), else plain CoAP to a coap:// poa; NULL: not reachable now. */
static coap_session_t *hop_session(cse_coap *c, cse_rsp *rsp, bool *refused)
{
    coap_session_t *s;

    *refused = false;
    if (rsp->fwd_ae) /* an AE as End-Point B: its pointOfAccess */
        return cse_client_ae_session(c->client, rsp->fwd_hop, rsp->fwd_path, sizeof(rsp->fwd_path),
                                     refused);
    if (c->node->registrar_csi != NULL && strcmp(rsp->fwd_hop, c->node->registrar_csi) == 0)
        return c->uplink != NULL ? c->uplink(c->uplink_arg) : NULL;
    if ((s = cse_saef_session_of(rsp->fwd_hop)) != NULL)
        return s;
    return cse_client_plain_session(c->client, rsp->fwd_poa, refused);
}

/* The same request (From, RQI) is being forwarded already: it came back round. */
static bool forwarding_loop(const cse_coap *c, const cse_req *req, const cse_rsp *rsp)
{
    if (req->rqi == NULL || req->rqi[0] == '\0')
        return false;
    for (const parked *p = c->parked; p != NULL; p = p->next) {
        if (p->state == PARK_FORWARDING && strcmp(p->o.rqi, req->rqi) == 0 &&
            strcmp(p->fwd_from, rsp->fwd_from) == 0)
            return true;
    }
    return false;
}

static void forwarded(void *arg, const coap_pdu_t *answer)
{
    parked *p = arg;
    cse_rsp *r = &p->fwd_rsp;
    char loc[CSE_PATH_MAX];

    p->fwd_id = 0;
    if (answer == NULL) {
        /* an answer beyond max_body is not relayed: the hosting CSE's answer does not
         * reach the originator, as when none came (docs/cse.md "Routing") */
        bool big = cse_client_answer_too_large();

        memset(r, 0, sizeof(*r));
        r->rsc = CMN_RSC_TARGET_NOT_REACHABLE;
        r->cf = CMN_CF_JSON;
        r->body = strdup(big ? "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: answer_exceeds_max_body\"}"
                             : "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: no_answer_from_next_hop\"}");
        if (big)
            CMN_WARN(SUB, "event=not_forwarded reason=answer_exceeds_max_body hop=%s rsc=5103",
                     p->fwd_csi);
    } else {
        cse_client_read_answer(answer, r);
        /* the hosting CSE names it CSE-relative: SP-relative for the originator */
        if (r->location[0] != '\0' && r->location[0] != '~' && r->location[0] != '_' &&
            p->fwd_csi[0] == '/') {
            int n = snprintf(loc, sizeof(loc), "~/%s/%s", p->fwd_csi + 1, r->location);

            if (n > 0 && (size_t)n < sizeof(loc))
                memcpy(r->location, loc, (size_t)n + 1);
        }
    }
    p->fwd_answered = true;
}

static coap_pdu_code_t op_code(int op)
{
    switch (op) {
    case CMN_OP_RETRIEVE:
        return COAP_REQUEST_CODE_GET;
    case CMN_OP_UPDATE:
        return COAP_REQUEST_CODE_PUT;
    case CMN_OP_DELETE:
        return COAP_REQUEST_CODE_DELETE;
    default:
        return COAP_REQUEST_CODE_POST;
    }
}

/* Sends a parked request on (rsp: cse_route_check's verdict); false when it cannot be
 * (rsp then holds the answer: 5103 not reachable, 4004 a loop). */
static void not_reachable(cse_rsp *rsp, const char *why)
{
    CMN_WARN(SUB, "event=not_forwarded reason=%s hop=%s rsc=5103", why, rsp->fwd_hop);
    cse_rsp_clear(rsp);
    memset(rsp, 0, sizeof(*rsp));
    rsp->rsc = CMN_RSC_TARGET_NOT_REACHABLE;
    rsp->cf = CMN_CF_JSON;
    rsp->body = strdup(strcmp(why, "send_failed") == 0
                           ? "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: send_failed\"}"
                       : strcmp(why, "forward_quota") == 0
                           ? "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: forward_quota\"}"
                       : strcmp(why, "next_hop_target_not_allowed") == 0
                           ? "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: next_hop_target_not_allowed\"}"
                           : "{\"m2m:dbg\":\"TARGET_NOT_REACHABLE: next_hop_not_connected\"}");
}

/* Forwards waiting for the next hop are bounded per session (one client, or the
 * registered CSE whose requests come over it) and in all, below PARKED_MAX: requests to
 * a next hop that never answers cannot hold every parked slot (each for
 * FORWARD_WAIT_MS) and starve the decisions of everyone else. */
static bool forward_quota_ok(const cse_coap *c, const coap_session_t *session)
{
    size_t all = 0, mine = 0;

    for (const parked *p = c->parked; p != NULL; p = p->next) {
        if (p->state != PARK_FORWARDING)
            continue;
        all++;
        mine += p->session == session;
    }
    return all < FORWARD_MAX && mine < FORWARD_PER_SESSION;
}

static bool start_forward(cse_coap *c, parked *p, coap_session_t *s, cse_rsp *rsp)
{
    cse_client_req r = {
        .code = op_code(p->req.op),
        .path = rsp->fwd_ae ? rsp->fwd_path : p->req.path,
        .query = rsp->fwd_ae ? NULL : p->req.query,
        .from = rsp->fwd_from,
        .rqi = p->req.rqi,
        .rvi = p->req.rvi,
        .ty = p->req.ty,
        .body = p->req.body,
        .body_len = p->req.body_len,
        .timeout_ms = FORWARD_WAIT_MS,
    };

    p->state = PARK_FORWARDING;
    snprintf(p->fwd_from, sizeof(p->fwd_from), "%s", rsp->fwd_from);
    snprintf(p->fwd_csi, sizeof(p->fwd_csi), "%s", rsp->fwd_csi);
    if ((p->fwd_id = cse_client_request(c->client, s, &r, forwarded, p)) != 0) {
        c->n_forwarded++;
        return true;
    }
    not_reachable(rsp, "send_failed");
    return false;
}

/* ---- handler ----------------------------------------------------------------------- */

/* What the request itself says: options, Uri-Path, Uri-Query, method, body (CBOR
 * decoded). Shared with the fuzz target through cse_coap_read(). */
static void read_request(const coap_pdu_t *request, const coap_string_t *query, cse_req *req,
                         req_opts *o)
{
    read_options(request, req, o);
    read_query(query, req, o);
    req->op = method_to_op(coap_pdu_get_code(request), req->ty != 0);
    read_body(request, req);
    cbor_in(req, o);
}

static void fill_req(cse_coap *c, coap_session_t *session, const coap_pdu_t *request,
                     const coap_string_t *query, cse_req *req, req_opts *o)
{
    read_request(request, query, req, o);
    req->now = (int64_t)time(NULL);
    req->secure = coap_session_get_proto(session) == COAP_PROTO_DTLS;
    if (req->secure) {
        req->bound_id = cse_saef_bound_id(c->node->store, session, req->now);
        req->bound_admin = req->bound_id != NULL && cse_saef_bound_is_admin(session);
    }
    peer_ip(session, o->ip, sizeof(o->ip));
    req->peer_ip = o->ip;
}

/* A request refused before the handler sees it (a bad option, a CBOR body that does not
 * decode): true and rsp filled. */
static bool refused_early(const req_opts *o, cse_rsp *rsp)
{
    if (o->bad_option) {
        CMN_INFO(SUB, "event=bad_request reason=bad_option");
        rsp->rsc = CMN_RSC_BAD_REQUEST;
        return true;
    }
    if (o->cbor_rsc != 0) {
        cbor_refuse(o, rsp);
        return true;
    }
    return false;
}

/* libcoap made the response a CON only when the request's ACK is already gone (empty):
 * a separate response. */
static void count_answer(cse_coap *c, const coap_pdu_t *response)
{
    if (coap_pdu_get_type(response) == COAP_MESSAGE_CON)
        c->n_separate++;
    else
        c->n_piggybacked++;
}

/* Called again by libcoap for a parked request once its answer is known. */
static void send_parked(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                        coap_pdu_t *response, parked *p)
{
    if (p->state != PARK_DONE) { /* not expected: libcoap calls only triggered ones */
        cse_rsp_clear(&p->rsp);
        p->rsp.rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    cbor_out(&p->o, &p->rsp);
    count_answer(p->c, response);
    write_response(res, session, request, response, p->req.op, &p->o, &p->rsp);
    parked_free(p->c, p, false); /* libcoap frees its async after this call */
}

/* ---- group commit ------------------------------------------------------------------ */

/* Another datagram (or libcoap timer) is ready on libcoap's sockets. */
static bool input_waiting(const cse_coap *c)
{
    struct epoll_event ev;

    return epoll_wait(coap_context_get_coap_fd(c->ctx), &ev, 1, 0) > 0;
}

/* The batch is durable (rc 0) or lost: every held answer goes out, as it is or 5000. */
static void release_held(cse_coap *c, int rc)
{
    int64_t now = cmn_mono_ms();

    for (parked *p = c->parked, *next; p != NULL && c->n_held > 0; p = next) {
        coap_bin_const_t token = {p->token_len, p->token};
        coap_async_t *async;

        next = p->next;
        if (p->state != PARK_COMMIT)
            continue;
        c->n_held--;
        if (rc != 0) {
            cse_rsp_clear(&p->rsp);
            p->rsp.rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
        }
        p->state = PARK_DONE;
        p->since_ms = now;
        async = coap_find_async(p->session, token);
        if (async != NULL)
            coap_async_trigger(async); /* sent from libcoap's next pass */
        else
            parked_free(c, p, false); /* its session is gone */
    }
}

/* Commits the batch, then lets the held answers go; inside the loop turn a new batch
 * follows. */
static int commit_batch(cse_coap *c, bool reopen)
{
    int rc = cmn_store_batch_commit(c->node->store);

    if (rc != 0) {
        CMN_ERR(SUB, "event=store_commit_failed err=%s held=%zu", cmn_strerror(rc), c->n_held);
        c->commit_failures++;
        /* what the lost batch held may be in the caches kept by the write count */
        cse_pep_policy_cache_flush();
        for (parked *p = c->parked; p != NULL; p = p->next) {
            cse_pass_memo_free(p->pass);
            p->pass = NULL;
        }
    }
    release_held(c, rc);
    notes_flush(c, rc == 0); /* the writes they tell of are durable, or lost */
    if (reopen && cmn_store_batch_begin(c->node->store) != 0)
        c->batching = false; /* every write commits on its own */
    return rc;
}

/* Before an answer leaves: whatever the batch holds becomes durable first, so nothing
 * uncommitted is ever acknowledged or shown. */
static void settle(cse_coap *c, bool wrote, uint64_t failures, cse_rsp *rsp)
{
    if (c->batching && cmn_store_batch_dirty(c->node->store))
        commit_batch(c, true);
    if (wrote && c->commit_failures != failures) { /* its write was in a lost batch */
        cse_rsp_clear(rsp);
        rsp->rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    }
}

/* A request that wrote while more requests wait to be read: its answer is held (parked,
 * separate response) until the batch commit that holds its write, at the end of the
 * loop turn or when an answer must leave first. */
static bool hold_for_commit(cse_coap *c, coap_session_t *session, const coap_pdu_t *request,
                            const cse_req *req, const req_opts *o, cse_pep_pending **decisions,
                            cse_fanout_memo **memo, cse_rsp *rsp)
{
    parked *p;

    if (!c->batching || !input_waiting(c))
        return false;
    p = park(c, session, request, req, o, *decisions);
    *decisions = NULL;
    if (p == NULL)
        return false;
    p->memo = *memo;
    p->req.fanout_memo = &p->memo;
    *memo = NULL;
    p->rsp = *rsp;
    memset(rsp, 0, sizeof(*rsp));
    p->state = PARK_COMMIT;
    c->n_held++;
    free(o->cbor_json);
    return true;
}

/* The first pass: most requests are answered now. One whose remote decisions or
 * subscription verification are on their way is parked (no code set: libcoap sends an
 * empty ACK, the answer comes later as a separate response). */
/* Admission (cse_admit.h): false when the request is shed (logged, rate-limited). The
 * admin is decided locally (cse_pep_decide) and never waits. */
static bool admitted(cse_coap *c, const req_opts *o)
{
    int64_t now = cmn_mono_ms();
    const char *why;

    if (c->admit == NULL || strcmp(o->from, c->node->admin_originator) == 0 ||
        (why = cse_admit_check(c->admit, o->from, now)) == NULL)
        return true;
    c->shed_unlogged++;
    if (now - c->shed_logged_ms >= SHED_LOG_MS || c->shed_logged_ms == 0) {
        char shown[96];
        cse_admit_stats st;

        cse_admit_get_stats(c->admit, &st);
        CMN_WARN(SUB,
                 "event=decisions_shed rsc=5103 reason=%s originator=%s shed=%llu "
                 "waiting=%zu pdp_latency_ms=%lld",
                 why, cmn_log_value(o->from, shown, sizeof(shown)),
                 (unsigned long long)c->shed_unlogged, st.waiting, (long long)st.latency_ms);
        c->shed_logged_ms = now;
        c->shed_unlogged = 0;
    }
    return false;
}

static void handle(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                   const coap_string_t *query, coap_pdu_t *response)
{
    cse_coap *c = coap_get_app_data(coap_session_get_context(session));
    parked *p = find_parked(c, session, coap_pdu_get_token(request));
    cse_pep_pending *decisions = NULL;
    cse_fanout_memo *memo = NULL;
    cse_pass_memo *pass = NULL;
    cse_req req = {.fanout_memo = &memo, .pass_memo = &pass};
    cse_rsp rsp = {0};
    req_opts o = {0};
    uint64_t writes = cmn_store_write_count(c->node->store);
    uint64_t failures = c->commit_failures;
    coap_session_t *hop;
    bool refused = false;
    bool wrote;

    if (p != NULL) {
        send_parked(res, session, request, response, p);
        return;
    }
    fill_req(c, session, request, query, &req, &o);
    req.ati = o.ati;
    req.ati_len = sizeof(o.ati);
    if (refused_early(&o, &rsp)) {
        ;
    } else if (!admitted(c, &o)) {
        rsp.rsc = CMN_RSC_TARGET_NOT_REACHABLE; /* busy: shed before the deadline */
    } else if (cse_pep_pending_new(&decisions) != 0) {
        rsp.rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    } else {
        handle_pass(c, decisions, &req, &rsp);
    }
    wrote = cmn_store_write_count(c->node->store) != writes;
    if (rsp.forward && forwarding_loop(c, &req, &rsp)) {
        CMN_WARN(SUB, "event=not_forwarded reason=forwarding_loop hop=%s rsc=4004", rsp.fwd_hop);
        memset(&rsp, 0, sizeof(rsp));
        rsp.rsc = CMN_RSC_NOT_FOUND;
        rsp.cf = CMN_CF_JSON;
        rsp.body = strdup("{\"m2m:dbg\":\"NOT_FOUND: forwarding_loop\"}");
    } else if (rsp.forward && !forward_quota_ok(c, session)) {
        not_reachable(&rsp, "forward_quota");
    } else if (rsp.forward && (hop = hop_session(c, &rsp, &refused)) == NULL) {
        not_reachable(&rsp, refused ? "next_hop_target_not_allowed" : "next_hop_not_connected");
    } else if (rsp.forward) {
        p = park(c, session, request, &req, &o, decisions);
        decisions = NULL;
        if (p != NULL && start_forward(c, p, hop, &rsp)) {
            cse_pass_memo_free(pass);
            cse_fanout_memo_free(memo);
            free(o.cbor_json);
            return;
        }
        if (p != NULL) /* answered now: not parked after all */
            parked_free(c, p, true);
        else
            rsp.rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    if (rsp.deciding || rsp.rsc == 0) {
        p = park(c, session, request, &req, &o, decisions);
        decisions = NULL;
        if (p != NULL && rsp.deciding && c->admit != NULL)
            p->admitted = cse_admit_take(c->admit, p->o.from) == 0;
        if (p != NULL) { /* the memos go with the parked request */
            p->memo = memo;
            p->req.fanout_memo = &p->memo;
            memo = NULL;
            p->pass = pass;
            pass = NULL;
        }
        if (p != NULL && rsp.rsc == 0 && !rsp.deciding)
            start_verify(c, p, &rsp);
        if (p != NULL) {
            cse_rsp_clear(&rsp);
            free(o.cbor_json);
            return;
        }
        cse_rsp_clear(&rsp);
        rsp.rsc = rsp.deciding ? CMN_RSC_INTERNAL_SERVER_ERROR
                               : CMN_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED;
    }
    cse_pass_memo_free(pass); /* answered in this pass */
    if (wrote && hold_for_commit(c, session, request, &req, &o, &decisions, &memo, &rsp))
        return;
    settle(c, wrote, failures, &rsp);
    cse_pep_pending_free(decisions);
    cse_fanout_memo_free(memo);
    cbor_out(&o, &rsp);
    count_answer(c, response);
    write_response(res, session, request, response, req.op, &o, &rsp);
    cse_rsp_clear(&rsp);
    free(o.cbor_json);
}

/* ---- the request reader, for the fuzz target -------------------------------------- */

struct cse_coap_in {
    req_opts o;
};

bool cse_coap_read(const coap_pdu_t *pdu, cse_req *req, cse_rsp *rsp, cse_coap_in **ret)
{
    cse_coap_in *in = calloc(1, sizeof(*in));
    coap_string_t *query;

    *ret = in;
    if (in == NULL) {
        rsp->rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
        return false;
    }
    query = coap_get_query(pdu);
    read_request(pdu, query, req, &in->o);
    coap_delete_string(query);
    req->ati = in->o.ati;
    req->ati_len = sizeof(in->o.ati);
    return !refused_early(&in->o, rsp);
}

void cse_coap_in_free(cse_coap_in *in)
{
    if (in == NULL)
        return;
    free(in->o.cbor_json);
    free(in);
}

/* ---- endpoints --------------------------------------------------------------------- */

static int listen_on(cse_coap *c, const char *hp, coap_proto_t proto)
{
    coap_address_t addr;

    if (hp == NULL || hp[0] == '\0')
        return 0;
    if (cmn_coap_parse_listen(hp, &addr) != 0) {
        CMN_ERR(SUB, "event=bad_listen_address listen=%s", hp);
        return CMN_EIO;
    }
    if (!cmn_coap_port_free(&addr) || coap_new_endpoint(c->ctx, &addr, proto) == NULL) {
        CMN_ERR(SUB, "event=bind_failed listen=%s proto=%s", hp,
                proto == COAP_PROTO_DTLS ? "coaps" : "coap");
        return CMN_EIO;
    }
    return 0;
}

static int add_handler(coap_context_t *ctx)
{
    coap_resource_t *r = coap_resource_unknown_init2(handle, 0);

    if (r == NULL)
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_GET, handle);
    coap_register_request_handler(r, COAP_REQUEST_POST, handle);
    coap_register_request_handler(r, COAP_REQUEST_PUT, handle);
    coap_register_request_handler(r, COAP_REQUEST_DELETE, handle);
    coap_add_resource(ctx, r);
    return 0;
}

static int setup(cse_coap *c, const char *coap_listen, const char *coaps_listen,
                 const char *psk_hint)
{
    int rc;

    if (!coap_dtls_is_supported()) {
        CMN_ERR(SUB, "event=no_dtls msg=\"libcoap was built without DTLS\"");
        return CMN_ECOAP;
    }
    c->ctx = coap_new_context(NULL);
    if (c->ctx == NULL)
        return CMN_ECOAP;
    coap_set_app_data(c->ctx, c);
    if (cmn_coap_register_options(c->ctx) != 0) {
        CMN_ERR(SUB, "event=options_not_registered msg=\"tep's patched libcoap is required\"");
        return CMN_ECOAP;
    }
    coap_context_set_block_mode(c->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    /* the answer kept for later Block2 blocks is its From's only: originators sharing a
     * session (a gateway's) do not read each other's (patches/README.md item 10; a build
     * against a libcoap from before it says so at every start: ./tep deps rebuilds it) */
#ifdef COAP_TEP_BLOCK2_KEY_OPTION
    coap_context_set_block2_key_option(c->ctx, CMN_OPT_FR);
#else
    CMN_WARN(SUB, "event=block2_not_keyed_on_from msg=\"libcoap without patch item 10: "
                  "run ./tep deps\"");
#endif
    if ((rc = cse_client_new(c->ctx, c->node, &c->client)) != 0)
        return rc;
    c->node->notify = notify;
    c->node->notify_arg = c;
    c->node->target_allowed = cse_client_target_allowed;
    if ((rc = cse_saef_setup(c->ctx, c->node->store, psk_hint)) != 0 ||
        (rc = add_handler(c->ctx)) != 0)
        return rc;
    if ((rc = listen_on(c, coap_listen, COAP_PROTO_UDP)) != 0)
        return rc;
    return listen_on(c, coaps_listen, COAP_PROTO_DTLS);
}

int cse_coap_new(cse_node *node, const char *coap_listen, const char *coaps_listen,
                 const char *psk_hint, cse_coap **ret)
{
    cse_coap *c = calloc(1, sizeof(*c));
    int rc;

    *ret = NULL;
    if (c == NULL)
        return CMN_ENOMEM;
    c->node = node;
    rc = setup(c, coap_listen, coaps_listen, psk_hint);
    if (rc != 0) {
        cse_coap_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

int cse_coap_set_pki(cse_coap *c, const char *cert_file, const char *key_file, const char *ca_file)
{
    int rc = cse_saef_setup_pki(c->ctx, cert_file, key_file, ca_file);

    return rc == 0 ? cse_client_set_pki(c->client, cert_file, key_file, ca_file) : rc;
}

/* libcoap 4.3.1 (OpenSSL) keeps one set of DTLS credentials per context for both roles:
 * every client session of a context whose server side has a PSK set up offers only PSK
 * suites ("PSK:!NULL", setup_client_ssl_session), so a certificate handshake from the
 * server's context cannot happen (the registrar picks PSK, the client has no identity
 * for it: COAP_NACK_TLS_FAILED), and a client's coap_dtls_pki_t replaces the server's
 * (verification callback, certificate) for every later incoming handshake. The client
 * sessions of the CSE as Entity A therefore live in a context of their own: no endpoint,
 * no server credentials; requests the peer sends back on them are handled like any
 * other (same handler, same cse_coap). */
coap_context_t *cse_coap_client_context(cse_coap *c)
{
    coap_context_t *ctx;

    if (c->cctx != NULL)
        return c->cctx;
    ctx = coap_new_context(NULL);
    if (ctx == NULL)
        return NULL;
    coap_set_app_data(ctx, c);
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
#ifdef COAP_TEP_BLOCK2_KEY_OPTION
    /* the registrar's requests for its originators come over these sessions: each one's
     * kept Block2 answer is its own (patches/README.md item 10) */
    coap_context_set_block2_key_option(ctx, CMN_OPT_FR);
#endif
    if (c->body_set)
        cmn_coap_set_body_limits(ctx, &c->body);
    if (cmn_coap_register_options(ctx) != 0 || add_handler(ctx) != 0 ||
        cse_client_attach(c->client, ctx) != 0) {
        coap_free_context(ctx);
        return NULL;
    }
    c->cctx = ctx;
    return ctx;
}

int cse_coap_client_fd(const cse_coap *c)
{
    return c->cctx != NULL ? coap_context_get_coap_fd(c->cctx) : -1;
}

void cse_coap_free(cse_coap *c)
{
    if (c == NULL)
        return;
    while (c->parked != NULL)
        parked_free(c, c->parked, true);
    notes_flush(c, false);
    cse_client_free(c->client);
    cmn_dtls_guard_free(c->guard);
    cse_admit_free(c->admit);
    if (c->node != NULL && c->node->notify_arg == c) {
        c->node->notify = NULL;
        c->node->notify_arg = NULL;
    }
    if (c->cctx != NULL)
        coap_free_context(c->cctx);
    if (c->ctx != NULL)
        coap_free_context(c->ctx);
    free(c);
}

int cse_coap_set_dtls_limits(cse_coap *c, const cmn_dtls_limits *lim)
{
    cmn_dtls_guard_free(c->guard);
    c->guard = NULL;
    return cmn_dtls_guard_new(c->ctx, lim, cse_saef_on_event, &c->guard);
}

void cse_coap_set_body_limits(cse_coap *c, const cmn_body_limits *lim)
{
    c->body = *lim;
    c->body_set = true;
    cmn_coap_set_body_limits(c->ctx, lim);
    if (c->cctx != NULL)
        cmn_coap_set_body_limits(c->cctx, lim);
    cse_client_set_body_limits(c->client, lim);
}

void cse_coap_dtls_stats(const cse_coap *c, cmn_dtls_stats *ret)
{
    if (c->guard != NULL)
        cmn_dtls_guard_stats(c->guard, ret);
    else
        memset(ret, 0, sizeof(*ret));
}

int cse_coap_set_admission(cse_coap *c, const cse_admit_limits *lim, int deadline_ms)
{
    cse_admit_free(c->admit);
    c->admit = NULL;
    return cse_admit_new(lim, deadline_ms, &c->admit);
}

void cse_coap_admit_stats(const cse_coap *c, cse_admit_stats *ret)
{
    if (c->admit != NULL)
        cse_admit_get_stats(c->admit, ret);
    else
        memset(ret, 0, sizeof(*ret));
}

void cse_coap_set_piggyback(cse_coap *c, int ms)
{
    c->piggyback_ms = ms > 0 ? ms : 0;
}

void cse_coap_answer_stats(const cse_coap *c, uint64_t *piggybacked, uint64_t *separate)
{
    *piggybacked = c->n_piggybacked;
    *separate = c->n_separate;
}

void cse_coap_set_uplink(cse_coap *c, coap_session_t *(*fn)(void *arg), void *arg)
{
    c->uplink = fn;
    c->uplink_arg = arg;
}

coap_context_t *cse_coap_context(cse_coap *c)
{
    return c->ctx;
}

cse_client *cse_coap_client(cse_coap *c)
{
    return c->client;
}

uint64_t cse_coap_forwarded(const cse_coap *c)
{
    return c->n_forwarded;
}

int cse_coap_fd(const cse_coap *c)
{
    return coap_context_get_coap_fd(c->ctx);
}

int cse_coap_notify_fd(const cse_coap *c)
{
    return cse_client_pki_fd(c->client);
}

unsigned cse_coap_process(cse_coap *c)
{
    coap_tick_t now;
    unsigned next, pki_next;
    char line[320];

    /* Group commit: the requests read in this turn write into one batch, durable with one
     * sync before any of their answers leaves (cmn_store.h). */
    c->batching = cmn_store_batch_begin(c->node->store) == 0;
    if (c->cctx != NULL)
        coap_io_process(c->cctx, COAP_IO_NO_WAIT);
    for (int i = 0; i < BATCH_READS; i++) {
        coap_io_process(c->ctx, COAP_IO_NO_WAIT);
        if (!c->batching || !input_waiting(c))
            break;
    }
    cse_client_tick(c->client); /* requests to other CSEs past their time */
    resume_parked(c);           /* decided requests write into the same batch */
    if (c->batching) {
        c->batching = false;
        commit_batch(c, false);
    }
    if (cmn_dtls_guard_poll(c->guard, line, sizeof(line)))
        CMN_WARN(SUB, "%s", line);
    coap_ticks(&now);
    /* coap_io_prepare_epoll: the time until libcoap's next timer (retransmits, idle
     * sessions), 0 meaning none. */
    next = coap_io_prepare_epoll(c->ctx, now);
    if (c->cctx != NULL) {
        unsigned cnext = coap_io_prepare_epoll(c->cctx, now);

        if (cnext != 0 && (next == 0 || cnext < next))
            next = cnext;
    }
    pki_next = cse_client_pki_process(c->client); /* SA2 with certificates */
    if (pki_next != 0 && (next == 0 || pki_next < next))
        next = pki_next;
    return next == 0 ? 1000 : next;
}
