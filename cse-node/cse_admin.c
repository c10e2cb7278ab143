/* Admin requests: STATUS (role, version, ready, cse_id, credentials, resources, last_seq). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmn_bus_peers.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cse_admin.h"
#include "cse_ctx.h"
#include "cse_registree.h"
#include "cse_remotecse.h"
#include "cse_resource.h"
#include "cse_sync.h"

#define SUB "admin"
#define N_BASE 7
#define N_PEP 7
#define N_STORE 2
#define N_CSR 9 /* 4, and 5 for an MN-CSE */
#define N_STATUS (N_BASE + N_STORE + CMN_DTLS_STATUS_N + N_PEP + N_CSR)

struct cse_admin {
    cmn_bus_sock *router;
    cmn_bus_peers *admins; /* [bus] admin_keys */
    const cse_admin_facts *facts;
    char list[2048]; /* STATUS values longer than the others' 32 bytes */
    char registrar[160];
    char fwd[32];
    char reg_id[CMN_KEY_ID_MAX]; /* registrar_credential_id */
    char reg_exp[80];            /* registrar_credential_expires */
};

int cse_admin_open(cmn_bus *bus, const char *endpoint, const char *admin_keys, const char *key_dir,
                   const cse_admin_facts *facts, cse_admin **ret)
{
    cse_admin *a = calloc(1, sizeof(*a));
    int rc;

    *ret = NULL;
    if (a == NULL)
        return CMN_ENOMEM;
    a->facts = facts;
    rc = cmn_bus_admin_keys_new(admin_keys, key_dir, bus, &a->admins);
    if (rc == 0)
        rc = cmn_bus_ipc_dir(endpoint);
    if (rc == 0)
        rc = cmn_bus_open(bus, CMN_BUS_ROUTER, endpoint, &a->router);
    if (rc != 0) {
        cmn_bus_peers_free(a->admins);
        free(a);
        return rc;
    }
    *ret = a;
    return 0;
}

void cse_admin_close(cse_admin *a)
{
    if (a == NULL)
        return;
    cmn_bus_close(a->router);
    cmn_bus_peers_free(a->admins);
    free(a);
}

int cse_admin_fd(cse_admin *a)
{
    return cmn_bus_fd(a->router);
}

/* Admission at the PEP (cse_admit.h): pep_admitted, pep_shed, pep_waiting,
 * pep_latency_ms. */
static size_t add_pep_status(const cse_coap *coap, const char **keys, const char **v, size_t n,
                             char vals[][32])
{
    static const char *const names[N_PEP] = {
        "pep_admitted",     "pep_shed",      "pep_waiting",          "pep_latency_ms",
        "coap_piggybacked", "coap_separate", "pep_resumed_from_memo"};
    cse_admit_stats st;
    uint64_t nums[N_PEP];

    cse_coap_admit_stats(coap, &st);
    nums[0] = st.admitted;
    nums[1] = st.shed_originator + st.shed_total + st.shed_slow;
    nums[2] = st.waiting;
    nums[3] = st.latency_ms > 0 ? (uint64_t)st.latency_ms : 0;
    /* answers in the request's ACK, and after an empty ACK (cse_coap_set_piggyback) */
    cse_coap_answer_stats(coap, &nums[4], &nums[5]);
    nums[6] = cse_pass_memo_hits(); /* targets and facts a resumed pass did not rebuild */
    for (size_t i = 0; i < N_PEP; i++) {
        snprintf(vals[i], 32, "%" PRIu64, nums[i]);
        keys[n + i] = names[i];
        v[n + i] = vals[i];
    }
    return n + N_PEP;
}

/* An MN-CSE's credential for its registrar and its registration's state
 * (cse_registree_info): registrar_credential, registrar_credential_id,
 * registrar_credential_expires ("2026-12-06T10:00:00Z (1796551200)", "-" when none),
 * registrar_state, registrar_error ("-" when none). */
static size_t add_registree_status(cse_admin *a, const char **keys, const char **v, size_t n)
{
    cse_registree_status st;
    struct tm tm;
    time_t t;

    cse_registree_info(a->facts->registree, &st);
    snprintf(a->reg_id, sizeof(a->reg_id), "%s", st.id[0] != '\0' ? st.id : "-");
    t = (time_t)st.expires;
    if (st.expires > 0 && gmtime_r(&t, &tm) != NULL)
        snprintf(a->reg_exp, sizeof(a->reg_exp), "%04d-%02d-%02dT%02d:%02d:%02dZ (%lld)",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (long long)st.expires);
    else
        snprintf(a->reg_exp, sizeof(a->reg_exp), "-");
    keys[n] = "registrar_credential";
    v[n] = st.credential;
    keys[n + 1] = "registrar_credential_id";
    v[n + 1] = a->reg_id;
    keys[n + 2] = "registrar_credential_expires";
    v[n + 2] = a->reg_exp;
    keys[n + 3] = "registrar_state";
    v[n + 3] = st.state;
    keys[n + 4] = "registrar_error";
    v[n + 4] = st.error != NULL ? st.error : "-";
    return n + 5;
}

/* CSE registration (docs/cse.md): cse_type, registered_cses (csi[:sa],...), registrar
 * (MN: "<csi> registered|unregistered", IN: "-"), forwarded; an MN-CSE's credential
 * (add_registree_status). */
static size_t add_csr_status(cse_admin *a, const char **keys, const char **v, size_t n, char *list,
                             size_t list_len, char *registrar, size_t reg_len, char *fwd)
{
    const cse_node *node = a->facts->node;

    if (node == NULL)
        return n;
    cse_csr_list(node, list, list_len);
    if (node->registrar_csi != NULL)
        snprintf(registrar, reg_len, "%s %s", node->registrar_csi,
                 cse_registree_registered(a->facts->registree) ? "registered" : "unregistered");
    else
        snprintf(registrar, reg_len, "-");
    snprintf(fwd, 32, "%" PRIu64, a->facts->coap != NULL ? cse_coap_forwarded(a->facts->coap) : 0);
    keys[n] = "cse_type";
    v[n] = node->is_mn ? "MN" : "IN";
    keys[n + 1] = "registered_cses";
    v[n + 1] = list[0] != '\0' ? list : "-";
    keys[n + 2] = "registrar";
    v[n + 2] = registrar;
    keys[n + 3] = "forwarded";
    v[n + 3] = fwd;
    if (node->registrar_csi != NULL)
        return add_registree_status(a, keys, v, n + 4);
    return n + 4;
}

static void answer_status(cse_admin *a, Tep__AdminResponse *resp, Tep__KeyValue *kv,
                          Tep__KeyValue **kvp, char vals[][32])
{
    uint64_t creds = 0, res = 0;
    static const char *const base[N_BASE] = {"role",        "version",   "ready",   "cse_id",
                                             "credentials", "resources", "last_seq"};
    const char *keys[N_STATUS];
    const char *v[N_STATUS];
    char dtls_vals[CMN_DTLS_STATUS_N][24];
    cmn_dtls_stats st;
    size_t n = N_BASE;

    cse_cred_count(a->facts->store, &creds);
    cse_res_count(a->facts->store, &res);
    snprintf(vals[0], 32, "%" PRIu64, creds);
    snprintf(vals[1], 32, "%" PRIu64, res);
    snprintf(vals[2], 32, "%" PRIu64, a->facts->last_seq);
    memcpy(keys, base, sizeof(base));
    v[0] = "cse";
    v[1] = TEP_VERSION;
    v[2] = "true";
    v[3] = a->facts->cse_id;
    v[4] = vals[0];
    v[5] = vals[1];
    v[6] = vals[2];
    /* group commit (cmn_store.h): write transactions and the durable commits that held
     * them; fewer commits than writes when requests shared them */
    keys[N_BASE] = "store_writes";
    keys[N_BASE + 1] = "store_commits";
    snprintf(vals[3], 32, "%" PRIu64, cmn_store_write_count(a->facts->store));
    snprintf(vals[4], 32, "%" PRIu64, cmn_store_sync_count(a->facts->store));
    v[N_BASE] = vals[3];
    v[N_BASE + 1] = vals[4];
    n = N_BASE + N_STORE;
    if (a->facts->coap != NULL) {
        cse_coap_dtls_stats(a->facts->coap, &st);
        cmn_dtls_stats_kv(&st, keys + n, dtls_vals);
        for (size_t i = 0; i < CMN_DTLS_STATUS_N; i++) {
            snprintf(vals[3 + N_STORE + i], 32, "%s", dtls_vals[i]);
            v[n + i] = vals[3 + N_STORE + i];
        }
        n += CMN_DTLS_STATUS_N;
        n = add_pep_status(a->facts->coap, keys, v, n, vals + 3 + N_STORE + CMN_DTLS_STATUS_N);
    }
    n = add_csr_status(a, keys, v, n, a->list, sizeof(a->list), a->registrar, sizeof(a->registrar),
                       a->fwd);
    for (size_t i = 0; i < n; i++) {
        tep__key_value__init(&kv[i]);
        kv[i].key = (char *)keys[i];
        kv[i].value = (char *)v[i];
        kvp[i] = &kv[i];
    }
    resp->n_status = n;
    resp->status = kvp;
}

static void refuse(cse_admin *a, const uint8_t *ident, size_t ilen, const Tep__Envelope *req)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__Error e = TEP__ERROR__INIT;

    cmn_bus_env_init(&env, "tep-cse", req->request_id);
    e.err = CMN_EDENIED;
    e.message = "not a key allowed to administer ([bus] admin_keys)";
    env.body_case = TEP__ENVELOPE__BODY_ERROR;
    env.error = &e;
    if (cmn_bus_send(a->router, ident, ilen, &env) != 0)
        CMN_WARN(SUB, "event=admin_reply_failed");
}

static void answer(cse_admin *a, const uint8_t *ident, size_t ilen, const char *peer,
                   const Tep__Envelope *req)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT;
    Tep__AdminResponse resp = TEP__ADMIN_RESPONSE__INIT;
    Tep__KeyValue kv[N_STATUS];
    Tep__KeyValue *kvp[N_STATUS];
    char vals[3 + N_STORE + CMN_DTLS_STATUS_N + N_PEP][32];

    if (!cmn_bus_admin_allowed(
            a->admins, peer,
            req->body_case == TEP__ENVELOPE__BODY_ADMIN_REQ ? (int)req->admin_req->op : -1, SUB))
        return refuse(a, ident, ilen, req);
    cmn_bus_env_init(&env, "tep-cse", req->request_id);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    env.admin_resp = &resp;
    if (req->body_case == TEP__ENVELOPE__BODY_ADMIN_REQ &&
        req->admin_req->op == TEP__ADMIN_REQUEST__OP__STATUS) {
        answer_status(a, &resp, kv, kvp, vals);
    } else if (req->body_case == TEP__ENVELOPE__BODY_ADMIN_REQ &&
               (req->admin_req->op == TEP__ADMIN_REQUEST__OP__CSE_DEREGISTER ||
                req->admin_req->op == TEP__ADMIN_REQUEST__OP__CSE_REGISTER)) {
        /* the MN-CSE leaves or rejoins its registrar (cse_registree.h), asynchronously */
        resp.err = req->admin_req->op == TEP__ADMIN_REQUEST__OP__CSE_DEREGISTER
                       ? cse_registree_leave(a->facts->registree)
                       : cse_registree_rejoin(a->facts->registree);
        resp.message = resp.err != 0 ? "not an MN-CSE (no registrar)" : "asked";
    } else {
        resp.err = CMN_EINVAL;
        resp.message = "unsupported request for tep-cse";
    }
    if (cmn_bus_send(a->router, ident, ilen, &env) != 0)
        CMN_WARN(SUB, "event=admin_reply_failed");
}

void cse_admin_process(cse_admin *a)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    char peer[CMN_BUS_PEER_MAX];
    Tep__Envelope *env = NULL;
    int rc;

    while ((rc = cmn_bus_recv_peer(a->router, ident, &ilen, peer, &env)) != CMN_EAGAIN) {
        if (rc == 0)
            answer(a, ident, ilen, peer, env);
        else if (rc != CMN_ECORRUPT)
            break;
        cmn_bus_env_free(env);
        env = NULL;
    }
}
