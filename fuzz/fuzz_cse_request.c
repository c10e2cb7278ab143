/* Fuzz target: tep-cse's request handling from the datagram up, without sockets.
 *
 * Input: one CoAP-over-UDP datagram (RFC 7252). It is parsed by libcoap
 * (coap_pdu_parse), its oneM2M options (From, RQI, RVI, TY, Content-Format, Accept),
 * Uri-Path and Uri-Query are read with the same cmn_coap helpers and limits as the CoAP
 * glue (cse_coap.c, whose reader is static: this is a copy), and the request goes to
 * cse_request_handle(): JSON parsing, attribute validation, filter criteria and rcn,
 * addressing (structured/unstructured, "~", "_"), From binding, the local access
 * decision and the LMDB resource tree. The first token byte picks the session: bit 0
 * CoAPS bound to FUZZ_BOUND_ID, bit 1 CoAPS with the admin credential.
 *
 * The resource tree persists across inputs, as in a live CSE (a create makes what the
 * next retrieve finds); a finding that does not replay alone replays after its corpus.
 * The store lives in a fresh directory (under /dev/shm when it exists: LMDB syncs
 * every commit) whose files are unlinked as soon as they are open: LMDB keeps using
 * its descriptors, and nothing is left behind however the fuzzer exits. Logging is off: a fuzzer's stderr is for findings. */
#include <coap3/coap.h>
#include <ftw.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_store.h"
#include "cmn_sync.h"
#include "cse_pep.h"
#include "cse_request.h"
#include "cse_resource.h"
#include "cse_sync.h"
#include "fuzz_target.h"

#define FUZZ_CSE_ID "/tep-cse"
#define FUZZ_CSE_NAME "tep-cse"
#define FUZZ_ADMIN "CAdmin"
#define FUZZ_BOUND_ID "Cfuzz01"
#define FUZZ_NOW 1790000000 /* fixed clock: a finding must replay the same way */
#define FUZZ_MAP_SIZE (64u << 20)

static struct {
    char dir[256];
    cmn_store *store;
    cse_pep *pep;
    cse_node node;
} fz;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_dir(void)
{
    if (fz.dir[0] != '\0')
        nftw(fz.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    fz.dir[0] = '\0';
}

static void fuzz_cleanup(void)
{
    cse_pep_free(fz.pep);
    cmn_store_close(fz.store);
    remove_dir();
}

static int open_store(void)
{
    static const char *const dbs[] = { CSE_DB_RESOURCES, CSE_DB_RI_INDEX, CSE_DB_CREDENTIALS,
                                       CSE_DB_ENROLEES, CSE_DB_KEIDS, CMN_SYNC_DB, CSE_DB_SUBS };
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    snprintf(fz.dir, sizeof(fz.dir), "%s/tep-fuzz-XXXXXX", base);
    if (mkdtemp(fz.dir) == NULL) {
        fz.dir[0] = '\0';
        return -1;
    }
    if (cmn_store_open(fz.dir, dbs, sizeof(dbs) / sizeof(dbs[0]), 1, FUZZ_MAP_SIZE,
                       &fz.store) != 0 ||
        cse_res_ensure_csebase(fz.store, FUZZ_CSE_ID, FUZZ_CSE_NAME, FUZZ_NOW) != 0)
        return -1;
    remove_dir();
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *devnull = fopen("/dev/null", "w");

    (void)argc, (void)argv;
    cmn_log_init("fuzz", CMN_LOG_ERR, devnull != NULL ? devnull : stderr);
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    if (open_store() != 0 || cse_pep_new_local(&fz.pep) != 0) {
        fprintf(stderr, "fuzz_cse_request: cannot set up the store in %s\n", fz.dir);
        fuzz_cleanup();
        exit(1);
    }
    atexit(fuzz_cleanup);
    fz.node.store = fz.store;
    fz.node.pep = fz.pep;
    fz.node.cse_id = FUZZ_CSE_ID;
    fz.node.cse_name = FUZZ_CSE_NAME;
    fz.node.admin_originator = FUZZ_ADMIN;
    return 0;
}

typedef struct {
    char path[CSE_PATH_MAX];
    char from[256];
    char rvi[8];
    char rqi[256];
    char query[2048];
} fuzz_opts;

static int method_to_op(coap_pdu_code_t code, bool has_ty)
{
    switch (code) {
    case COAP_REQUEST_CODE_GET: return CMN_OP_RETRIEVE;
    case COAP_REQUEST_CODE_POST: return has_ty ? CMN_OP_CREATE : CMN_OP_NOTIFY;
    case COAP_REQUEST_CODE_PUT: return CMN_OP_UPDATE;
    case COAP_REQUEST_CODE_DELETE: return CMN_OP_DELETE;
    default: return 0;
    }
}

/* Uri-Query joined with '&' (libcoap's coap_get_query), as the glue hands it over;
 * false for one the glue refuses (too long, or with a NUL). */
static bool read_query(const coap_pdu_t *pdu, cse_req *req, fuzz_opts *o)
{
    coap_string_t *q = coap_get_query(pdu);
    bool ok = true;

    req->query = NULL;
    if (q != NULL && q->length > 0) {
        ok = q->length < sizeof(o->query) && memchr(q->s, '\0', q->length) == NULL;
        if (ok) {
            memcpy(o->query, q->s, q->length);
            o->query[q->length] = '\0';
            req->query = o->query;
        }
    }
    coap_delete_string(q);
    return ok;
}

/* The CoAP glue's option reading (cse_coap.c read_options): false = a bad option,
 * which the glue answers 4000 without calling the request handler. */
static bool read_request(const coap_pdu_t *pdu, cse_req *req, fuzz_opts *o)
{
    bool ok = cmn_coap_uri_path(pdu, o->path, sizeof(o->path)) == 0;
    int rc = cmn_coap_opt_str(pdu, CMN_OPT_FR, o->from, sizeof(o->from));
    const uint8_t *data = NULL;
    size_t len = 0;

    req->path = o->path;
    req->from = rc == 0 ? o->from : NULL;
    ok &= rc == 0 || rc == CMN_ENOTFOUND;
    rc = cmn_coap_opt_str(pdu, CMN_OPT_RQI, o->rqi, sizeof(o->rqi));
    ok &= rc == 0 || rc == CMN_ENOTFOUND;
    req->rqi = rc == 0 ? o->rqi : NULL;
    req->rvi = cmn_coap_opt_str(pdu, CMN_OPT_RVI, o->rvi, sizeof(o->rvi)) == 0 ? o->rvi : NULL;
    req->has_accept = cmn_coap_opt_uint(pdu, COAP_OPTION_ACCEPT, &req->accept) == 0;
    rc = cmn_coap_opt_uint(pdu, CMN_OPT_TY, &req->ty);
    ok &= rc == 0 || rc == CMN_ENOTFOUND;
    if (rc != 0)
        req->ty = 0;
    if (cmn_coap_opt_uint(pdu, COAP_OPTION_CONTENT_FORMAT, &req->cf) != 0)
        req->cf = 0;
    if (coap_get_data(pdu, &len, &data)) {
        req->body = (const char *)data;
        req->body_len = len;
    }
    req->op = method_to_op(coap_pdu_get_code(pdu), req->ty != 0);
    return ok && read_query(pdu, req, o);
}

static bool body_is_json(const char *body)
{
    json_t *j;

    if (body == NULL)
        return true;
    j = json_loads(body, 0, NULL);
    json_decref(j);
    return j != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    coap_pdu_t *pdu = coap_pdu_init(0, 0, 0, size > 0 ? size : 1);
    cse_req req = { .now = FUZZ_NOW, .peer_ip = "127.0.0.1" };
    cse_rsp rsp;
    fuzz_opts o = { 0 };
    coap_bin_const_t token;

    if (pdu == NULL)
        return 0;
    /* Only what the glue hands over: parsed requests with a known method. */
    if (!coap_pdu_parse(COAP_PROTO_UDP, data, size, pdu) || !read_request(pdu, &req, &o) ||
        req.op == 0)
        goto out;
    token = coap_pdu_get_token(pdu);
    if (token.length > 0 && (token.s[0] & 1)) {
        req.secure = true;
        req.bound_id = FUZZ_BOUND_ID;
    } else if (token.length > 0 && (token.s[0] & 2)) {
        req.secure = true;
        req.bound_admin = true;
    }
    cse_request_handle(&fz.node, &req, &rsp);
    /* Whatever it answers: an RSC, and a body that is JSON. */
    if (rsp.rsc < 1000 || rsp.rsc > 6999 || !body_is_json(rsp.body))
        abort();
    cse_rsp_clear(&rsp);
out:
    coap_delete_pdu(pdu);
    return 0;
}
