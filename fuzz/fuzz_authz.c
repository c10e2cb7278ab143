/* Fuzz target: everything tep-authz reads from a peer, through its real handlers, over a
 * real LMDB store (under /dev/shm when it exists, unlinked once open) that persists
 * across inputs, as in a live MAF (a registration makes what the next update finds).
 *
 * Input: first byte selects, the rest is the message.
 *   0: a bus Envelope (protobuf, as cmn_bus_recv unpacks it): a DecisionRequest through
 *      authz_decide_dynamic (cmn_acp on every acp_json, tokens), a DasRequest through
 *      authz_tokens_das, an AdminRequest through authz_admin_answer;
 *   1: a POST /token body (authz_tokens_request, against a wildcard grant);
 *   2: a POST /maf/clients body (MAF Client Registration), Km session;
 *   3: a POST /maf/keys body (MAF Key Registration), Km session;
 *   4: a PUT /maf/... Uri-Path, NUL, body: authz_maf_item_path (the bytes exactly as
 *      long as the path, no terminator), then the client or key update and the
 *      de-registrations. Logging is off: a fuzzer's stderr is for findings. */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authz_admin.h"
#include "authz_creds.h"
#include "authz_decide.h"
#include "authz_grants.h"
#include "authz_maf.h"
#include "authz_tokens.h"
#include "cmn_log.h"
#include "cmn_store.h"
#include "fuzz_target.h"

#define NOW 1790000000
#define MAF "maf.tep.local"

static struct {
    char dir[256];
    cmn_store *store;
    authz_grants *grants;
    authz_tokens *tokens;
    uint8_t exporter[CMN_EXPORTER_LEN];
} fz;

static const authz_maf_session sess = {"0011@" MAF, "Cfuzz01", NOW + 7200, NULL};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    authz_tokens_free(fz.tokens);
    authz_grants_free(fz.grants);
    cmn_store_close(fz.store);
    if (fz.dir[0] != '\0')
        nftw(fz.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* The session's Km, as the enroller's sync brings it: the MAF serves that client. */
static int put_km(void)
{
    uint8_t km[32] = {0}, buf[256];
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = (char *)sess.km_id;
    c.key = (ProtobufCBinaryData){sizeof(km), km};
    c.suid = 21;
    c.ke_id = "00112233445566778899aabbccddeeff@mef.tep.local";
    c.enrolee_id = (char *)sess.enrolee_id;
    c.expires = sess.expires;
    return cmn_store_put(fz.store, AUTHZ_CREDS_DB, c.key_id, strlen(c.key_id), buf,
                         tep__credential__pack(&c, buf));
}

static int setup(void)
{
    static const char *const dbs[] = {
        AUTHZ_MAF_CLIENTS_DB, AUTHZ_MAF_KEYS_DB,          AUTHZ_CREDS_DB,
        AUTHZ_MAF_LABELS_DB,  AUTHZ_MAF_REVOKED_CERTS_DB, AUTHZ_KE_INDEX_DB,
        AUTHZ_TOKEN_KEY_DB,   AUTHZ_REVOKED_DB,           AUTHZ_ISSUED_DB};
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    authz_tokens_cfg cfg = {.issuer = MAF, .sp_id = "tep.local"};
    char path[300], err[256];
    FILE *f;

    snprintf(fz.dir, sizeof(fz.dir), "%s/tep-fuzz-authz-XXXXXX", base);
    if (mkdtemp(fz.dir) == NULL)
        return -1;
    cfg.data_dir = fz.dir;
    snprintf(path, sizeof(path), "%s/grants.json", fz.dir);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    fputs("{\"grants\":[{\"or\":\"Cfuzz*\",\"ris\":[\"/tep-cse/*/*\"],\"acop\":63,"
          "\"lt\":600}]}",
          f);
    fclose(f);
    for (size_t i = 0; i < sizeof(fz.exporter); i++)
        fz.exporter[i] = (uint8_t)i;
    if (cmn_store_open(fz.dir, dbs, sizeof(dbs) / sizeof(dbs[0]), 1, 64u << 20, &fz.store) != 0 ||
        put_km() != 0 || authz_grants_load(path, &fz.grants, err, sizeof(err)) != 0 ||
        authz_tokens_open(fz.store, &cfg, fz.grants, &fz.tokens) != 0)
        return -1;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FILE *devnull = fopen("/dev/null", "w");

    (void)argc, (void)argv;
    cmn_log_init("fuzz", CMN_LOG_ERR, devnull != NULL ? devnull : stderr);
    if (setup() != 0) {
        fprintf(stderr, "fuzz_authz: cannot set up in %s\n", fz.dir);
        cleanup();
        exit(1);
    }
    atexit(cleanup);
    return 0;
}

static bool never_revoked(const char *tkid, void *arg)
{
    (void)tkid, (void)arg;
    return false;
}

static void bus(const uint8_t *data, size_t size)
{
    Tep__Envelope *e = tep__envelope__unpack(NULL, size, data);
    static const authz_stats st = {0};

    if (e == NULL)
        return;
    if (e->body_case == TEP__ENVELOPE__BODY_DECIDE_REQ && e->decide_req != NULL) {
        Tep__DecisionResponse r;

        (void)authz_decide_dynamic(e->decide_req, never_revoked, NULL, &r);
        if (r.permit && r.rsc != 2000)
            abort();
        authz_decide_clear(&r);
    } else if (e->body_case == TEP__ENVELOPE__BODY_DAS_REQ && e->das_req != NULL) {
        Tep__DasResponse r;

        (void)authz_tokens_das(fz.tokens, e->das_req, NOW, &r);
        authz_tokens_das_clear(&r);
    } else if (e->body_case == TEP__ENVELOPE__BODY_ADMIN_REQ && e->admin_req != NULL) {
        authz_admin_reply *r = malloc(sizeof(*r));

        if (r != NULL)
            authz_admin_answer(e->admin_req, &st, r);
        free(r);
    }
    tep__envelope__free_unpacked(e, NULL);
}

static void check(const authz_maf_answer *a)
{
    if (a->code < 200 || a->code > 599)
        abort();
}

static void item(const char *buf, size_t n)
{
    const char *nul = memchr(buf, '\0', n);
    size_t plen = nul != NULL ? (size_t)(nul - buf) : n;
    const char *body = nul != NULL ? nul + 1 : "";
    size_t blen = nul != NULL ? n - plen - 1 : 0;
    char *path = malloc(plen ? plen : 1), kind[16], id[80];
    authz_maf_answer a;

    if (path == NULL)
        return;
    memcpy(path, buf, plen);
    if (authz_maf_item_path(path, plen, kind, sizeof(kind), id, sizeof(id))) {
        bool keys = strcmp(kind, "keys") == 0;

        if (keys)
            authz_maf_key_update(fz.store, MAF, &sess, id, body, blen, NOW, &a);
        else
            authz_maf_client_update(fz.store, MAF, &sess, id, body, blen, NOW, &a);
        check(&a);
        authz_maf_answer_clear(&a);
        if (blen > 0 && body[0] == 'D') {
            if (keys)
                authz_maf_key_deregister(fz.store, MAF, &sess, id, NOW, &a);
            else
                authz_maf_client_deregister(fz.store, &sess, id, NOW, &a);
            check(&a);
            authz_maf_answer_clear(&a);
        }
    }
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data + 1;
    authz_token_answer t;
    authz_maf_answer a;

    if (size < 1 || size > 65536)
        return 0;
    switch (data[0] % 5) {
    case 0:
        bus(data + 1, size - 1);
        break;
    case 1:
        authz_tokens_request(fz.tokens, "Cfuzz01", body, size - 1, NOW, &t);
        if (t.code < 200 || t.code > 599)
            abort();
        free(t.body);
        break;
    case 2:
        authz_maf_client_register(fz.store, MAF, &sess, body, size - 1, NOW, &a);
        check(&a);
        authz_maf_answer_clear(&a);
        break;
    case 3:
        authz_maf_key_register(fz.store, MAF, &sess, fz.exporter, body, size - 1, NOW, &a);
        check(&a);
        authz_maf_answer_clear(&a);
        break;
    default:
        item(body, size - 1);
    }
    return 0;
}
