/* Fuzz target: tep-cse's request handling from the datagram up, without sockets.
 *
 * Input: one CoAP-over-UDP datagram (RFC 7252). It is parsed by libcoap
 * (coap_pdu_parse), read by the CoAP glue's own reader (cse_coap_read(): the oneM2M
 * options with RVI, RQET/RSET/OET, Uri-Path, Uri-Query, the body, CBOR decoded to JSON;
 * a bad option or undecodable CBOR answered 4000 as the glue does), and the request goes
 * to cse_request_handle(): JSON parsing, attribute validation, filter criteria and rcn,
 * addressing (structured/unstructured, "~", "_"), From binding, the local access
 * decision and the LMDB resource tree; an ESPrim NOTIFY to the CSEBase (m2m:seci sit 3,
 * sit 5 with a JWE) goes through cse_esprim.c. The first token byte picks the session: bit 0
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
#include "cse_coap.h"
#include "cse_esprim.h"
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
    static const char *const dbs[] = {CSE_RES_DBS,      CSE_DB_CREDENTIALS, CSE_DB_ENROLEES,
                                      CSE_DB_KEIDS,     CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,
                                      CSE_DB_KEY_KEIDS, CMN_SYNC_DB,        CSE_ESPRIM_DB};
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    snprintf(fz.dir, sizeof(fz.dir), "%s/tep-fuzz-XXXXXX", base);
    if (mkdtemp(fz.dir) == NULL) {
        fz.dir[0] = '\0';
        return -1;
    }
    if (cmn_store_open(fz.dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, FUZZ_MAP_SIZE,
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
    if (cse_esprim_new(fz.store, 1800000000, &fz.node.esprim) !=
        0) /* ESPrim objects to the CSEBase */
        exit(1);
    return 0;
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
    cse_req req = {0};
    cse_rsp rsp = {0};
    cse_coap_in *in = NULL;
    coap_bin_const_t token;

    if (pdu == NULL)
        return 0;
    /* What the glue hands over: a parsed request with a known method, read by the
     * glue's own reader (a request it refuses early is answered without the handler). */
    if (!coap_pdu_parse(COAP_PROTO_UDP, data, size, pdu) ||
        coap_pdu_get_code(pdu) < COAP_REQUEST_CODE_GET ||
        coap_pdu_get_code(pdu) > COAP_REQUEST_CODE_DELETE)
        goto out;
    if (!cse_coap_read(pdu, &req, &rsp, &in)) {
        if (rsp.rsc < 1000 || rsp.rsc > 6999 || !body_is_json(rsp.body))
            abort();
        goto out;
    }
    req.now = FUZZ_NOW;
    req.peer_ip = "127.0.0.1";
    token = coap_pdu_get_token(pdu);
    if (token.length > 0 && (token.s[0] & 1)) {
        req.secure = true;
        req.bound_id = FUZZ_BOUND_ID;
    } else if (token.length > 0 && (token.s[0] & 2)) {
        req.secure = true;
        req.bound_admin = true;
    }
    cse_request_handle(&fz.node, &req, &rsp);
    /* Hosted on another CSE (a <remoteCSE> the input created): to be sent on, to a named
     * next hop with a From (cse_route.h) */
    if (rsp.forward) {
        if (rsp.rsc != 0 || rsp.fwd_hop[0] != '/' || rsp.fwd_from[0] != '/')
            abort();
        goto out;
    }
    /* Whatever it answers: an RSC, and a body that is JSON. */
    if (rsp.rsc < 1000 || rsp.rsc > 6999 || !body_is_json(rsp.body))
        abort();
out:
    cse_rsp_clear(&rsp);
    cse_coap_in_free(in);
    coap_delete_pdu(pdu);
    return 0;
}
