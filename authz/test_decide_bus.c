/* Black-box test of tep-authz: starts the real daemon (path in argv[1]) with a generated
 * configuration and ipc:// endpoints in a temporary directory, and talks to it over
 * the bus as tep-cse and tepctl would: decisions (TS-0003 7.1.5), garbage that must not
 * stop it, STATUS, a clean SIGTERM stop, and the audit log surviving a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cmn_bus.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "tst.h"

#define WAIT_MS 10000
#define OPEN_PV "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63}]}"

static const char *daemon_path;
static char dir[64];
static char decide_ep[128], admin_ep[128], conf[128], log_path[128];
static pid_t pid = -1;
static cmn_bus *bus;

static int write_config(void)
{
    FILE *f = fopen(conf, "w");

    if (f == NULL)
        return -1;
    fprintf(f,
            "[authz]\ndata_dir = %s/data\nmaf_id = maf.test.local\nlog_level = info\n"
            "[bus]\ndecide = %s\nadmin = %s\nevents = ipc://%s/events.ipc\n"
            "sync = ipc://%s/sync.ipc\n",
            dir, decide_ep, admin_ep, dir, dir);
    return fclose(f);
}

/* Starts the daemon (its output to log_path, truncated) and waits for "event=ready". */
static int start_daemon(void)
{
    char *argv[] = {(char *)daemon_path, "--config", conf, NULL};
    int rc;

    pid = tst_spawn(argv, log_path);
    rc = tst_wait_log(log_path, "event=ready", pid, WAIT_MS);
    if (rc == -2)
        tst_stop(pid, WAIT_MS);
    if (rc != 0)
        pid = -1;
    return rc == 0 ? 0 : -1;
}

/* SIGTERM, then the exit status (or -1 when it does not stop in time). */
static int stop_daemon(void)
{
    int rc = tst_stop(pid, WAIT_MS);

    pid = -1;
    return rc;
}

static int group_setup(void **state)
{
    if (tst_tmpdir("authz-bus", dir, sizeof(dir)) != 0)
        return -1;
    snprintf(decide_ep, sizeof(decide_ep), "ipc://%s/decide.ipc", dir);
    snprintf(admin_ep, sizeof(admin_ep), "ipc://%s/admin.ipc", dir);
    snprintf(conf, sizeof(conf), "%s/authz.ini", dir);
    snprintf(log_path, sizeof(log_path), "%s/authz.log", dir);
    if (write_config() != 0 || cmn_bus_new(&bus) != 0)
        return -1;
    return start_daemon();
}

static int group_teardown(void **state)
{
    if (pid > 0)
        stop_daemon();
    cmn_bus_free(bus);
    tst_rmtree(dir);
    return 0;
}

/* ---- requests ----------------------------------------------------------------------- */

static Tep__DecisionResponse *decide(Tep__DecisionRequest *rq, Tep__Envelope **ret_env)
{
    Tep__Envelope env;

    cmn_bus_env_init(&env, "test", 0);
    env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
    env.decide_req = rq;
    assert_int_equal(cmn_bus_request(bus, decide_ep, &env, 3000, ret_env), 0);
    assert_int_equal((*ret_env)->request_id, env.request_id);
    assert_string_equal((*ret_env)->sender, "tep-authz");
    assert_int_equal((*ret_env)->body_case, TEP__ENVELOPE__BODY_DECIDE_RESP);
    return (*ret_env)->decide_resp;
}

static const char *status_value(const char *key, char *buf, size_t len)
{
    Tep__Envelope env, *resp = NULL;
    Tep__AdminRequest rq = TEP__ADMIN_REQUEST__INIT;

    rq.op = TEP__ADMIN_REQUEST__OP__STATUS;
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_REQ;
    env.admin_req = &rq;
    assert_int_equal(cmn_bus_request(bus, admin_ep, &env, 3000, &resp), 0);
    assert_int_equal(resp->body_case, TEP__ENVELOPE__BODY_ADMIN_RESP);
    buf[0] = '\0';
    for (size_t i = 0; i < resp->admin_resp->n_status; i++) {
        if (strcmp(resp->admin_resp->status[i]->key, key) == 0)
            snprintf(buf, len, "%s", resp->admin_resp->status[i]->value);
    }
    cmn_bus_env_free(resp);
    return buf;
}

static void test_permit_by_policy(void **state)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__Envelope *env = NULL;
    Tep__DecisionResponse *resp;
    char *acp[] = {OPEN_PV};

    rq.originator = "Csensor01";
    rq.target = "/tep-cse/sensor/data";
    rq.target_ty = CMN_TY_CNT;
    rq.op = CMN_ACOP_RETRIEVE;
    rq.acp_json = acp;
    rq.n_acp_json = 1;
    resp = decide(&rq, &env);
    assert_true(resp->permit);
    assert_int_equal(resp->rsc, CMN_RSC_OK);
    assert_string_equal(resp->rule, "acp[0].acr[0]");
    cmn_bus_env_free(env);
}

static void test_deny_not_creator(void **state)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__Envelope *env = NULL;
    Tep__DecisionResponse *resp;

    rq.originator = "Cintruder";
    rq.creator = "Cowner";
    rq.target = "/tep-cse/owner";
    rq.op = CMN_ACOP_DELETE;
    resp = decide(&rq, &env);
    assert_false(resp->permit);
    assert_int_equal(resp->rsc, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    assert_string_equal(resp->rule, "no acp: not creator");
    cmn_bus_env_free(env);
    assert_true(tst_log_contains(log_path, "event=decision originator=Cintruder"));
}

/* A DecisionBatchRequest (tep-cse's questions of one pass): one answer, each decision
 * in the order asked, each audited; an empty batch is an Error. */
static void test_batch_answered_in_order(void **state)
{
    Tep__DecisionRequest rq[3], *rp[3];
    Tep__DecisionBatchRequest b = TEP__DECISION_BATCH_REQUEST__INIT;
    Tep__Envelope env, *resp = NULL;
    char *acp[] = {OPEN_PV};
    const char *who[3] = {"Cbatch-a", "Cbatch-b", "Cbatch-c"};
    char before[32], after[32], batches[32];

    status_value("audit_seq", before, sizeof(before));
    for (int i = 0; i < 3; i++) {
        tep__decision_request__init(&rq[i]);
        rq[i].originator = (char *)who[i];
        rq[i].creator = "Cowner";
        rq[i].target = "/tep-cse/owner/data";
        rq[i].op = CMN_ACOP_DISCOVERY;
        if (i != 1) { /* the middle one has no policy and is not the creator */
            rq[i].acp_json = acp;
            rq[i].n_acp_json = 1;
        }
        rp[i] = &rq[i];
    }
    b.decisions = rp;
    b.n_decisions = 3;
    cmn_bus_env_init(&env, "test", 0);
    env.body_case = TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ;
    env.decide_batch_req = &b;
    assert_int_equal(cmn_bus_request(bus, decide_ep, &env, 3000, &resp), 0);
    assert_int_equal(resp->request_id, env.request_id);
    assert_int_equal(resp->body_case, TEP__ENVELOPE__BODY_DECIDE_BATCH_RESP);
    assert_int_equal(resp->decide_batch_resp->n_decisions, 3);
    assert_true(resp->decide_batch_resp->decisions[0]->permit);
    assert_false(resp->decide_batch_resp->decisions[1]->permit);
    assert_int_equal(resp->decide_batch_resp->decisions[1]->rsc,
                     CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    assert_true(resp->decide_batch_resp->decisions[2]->permit);
    cmn_bus_env_free(resp);
    status_value("audit_seq", after, sizeof(after));
    assert_int_equal(strtoull(after, NULL, 10), strtoull(before, NULL, 10) + 3);
    assert_true(strtoull(status_value("decide_batches", batches, sizeof(batches)), NULL, 10) >= 1);

    b.n_decisions = 0;
    cmn_bus_env_init(&env, "test", 0);
    env.body_case = TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ;
    env.decide_batch_req = &b;
    assert_int_equal(cmn_bus_request(bus, decide_ep, &env, 3000, &resp), 0);
    assert_int_equal(resp->body_case, TEP__ENVELOPE__BODY_ERROR);
    cmn_bus_env_free(resp);
}

/* Undecodable bytes are dropped, a wrong message type gets an Error, and the daemon
 * goes on answering. */
static void test_bad_input_survived(void **state)
{
    void *zctx = zmq_ctx_new();
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 2000; /* let the garbage leave before the context ends */
    Tep__Envelope env, *resp = NULL;
    Tep__AdminRequest wrong = TEP__ADMIN_REQUEST__INIT;

    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    assert_int_equal(zmq_connect(sock, decide_ep), 0);
    assert_int_equal(zmq_send(sock, "\xff\x01garbage", 9, 0), 9);
    zmq_close(sock);
    zmq_ctx_term(zctx);

    cmn_bus_env_init(&env, "test", 0);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_REQ;
    env.admin_req = &wrong;
    assert_int_equal(cmn_bus_request(bus, decide_ep, &env, 3000, &resp), 0);
    assert_int_equal(resp->body_case, TEP__ENVELOPE__BODY_ERROR);
    assert_int_equal(resp->error->err, CMN_EPROTO);
    cmn_bus_env_free(resp);

    test_permit_by_policy(state); /* still serving */
    assert_true(tst_wait_log(log_path, "event=message_dropped socket=decide", 0, WAIT_MS) == 0);
}

static void test_status(void **state)
{
    char v[32];

    assert_string_equal(status_value("role", v, sizeof(v)), "authz");
    assert_string_equal(status_value("decisions", v, sizeof(v)), "3");
    assert_string_equal(status_value("denials", v, sizeof(v)), "1");
    assert_string_equal(status_value("audit_seq", v, sizeof(v)), "3");
    assert_string_equal(status_value("credentials", v, sizeof(v)), "0");
}

/* ---- credentials from a stand-in enroller (events PUB + sync ROUTER) ------------------ */

/* The stand-in gives a Km of a fixed, recognisable value (0x5a...) so that the test can
 * look for it in the log. The same path with the real tep-enroller (the Km of a real
 * enrolment arriving and leaving on revocation, no key in any log): integration
 * test_29_stand_ins_replaced.py::test_authz_credentials_follow_the_real_enroller. */

/* The stand-in enroller's log: seq 1 enrols Cdevice01 (with its Km for our MAF-ID),
 * seq 2 revokes it (the credential is found by KeID). */
static uint8_t km_bytes[32];

static void script_item(uint64_t seq, Tep__Event *ev, Tep__Credential *km, Tep__SyncItem *ret)
{
    tep__event__init(ev);
    ev->seq = seq;
    ev->kind = seq == 1 ? TEP__EVENT__KIND__ENROLLED : TEP__EVENT__KIND__REVOKED;
    ev->ke_id = "00aa@mef.test.local";
    ev->enrolee_id = "Cdevice01";
    tep__credential__init(km);
    km->key_id = "77cc@maf.test.local";
    km->key.data = km_bytes;
    km->key.len = sizeof(km_bytes);
    km->suid = 21;
    km->ke_id = ev->ke_id;
    km->enrolee_id = ev->enrolee_id;
    tep__sync_item__init(ret);
    ret->event = ev;
    ret->credential = seq == 1 ? km : NULL;
}

/* Answers one SyncRequest, if one comes within 50 ms, with the events (after_seq, head]. */
static void serve_sync(cmn_bus_sock *router, uint64_t head)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0, n = 0;
    Tep__Envelope *in = NULL, out;
    Tep__Event evs[2];
    Tep__Credential kms[2];
    Tep__SyncItem items[2], *itemp[2];
    Tep__SyncResponse resp = TEP__SYNC_RESPONSE__INIT;

    if (cmn_bus_recv_wait(router, 50, ident, &ilen, &in) != 0)
        return;
    assert_int_equal(in->body_case, TEP__ENVELOPE__BODY_SYNC_REQ);
    assert_string_equal(in->sync_req->target_id, "maf.test.local"); /* our MAF-ID */
    for (uint64_t seq = in->sync_req->after_seq + 1; seq <= head && n < 2; seq++, n++) {
        script_item(seq, &evs[n], &kms[n], &items[n]);
        itemp[n] = &items[n];
    }
    resp.items = itemp;
    resp.n_items = n;
    resp.last_seq = head;
    cmn_bus_env_init(&out, "tep-enroller", in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_SYNC_RESP;
    out.sync_resp = &resp;
    assert_int_equal(cmn_bus_send(router, ident, ilen, &out), 0);
    cmn_bus_env_free(in);
}

/* Publishes event "head" and serves sync until the daemon reports it applied. The
 * poke is repeated: a SUB that is still (re)connecting misses messages. */
static bool enroller_until_applied(cmn_bus_sock *router, cmn_bus_sock *pub, uint64_t head)
{
    Tep__Envelope poke;
    Tep__Event ev;
    Tep__Credential km;
    Tep__SyncItem item;
    char v[32], want[32];

    snprintf(want, sizeof(want), "%llu", (unsigned long long)head);
    script_item(head, &ev, &km, &item);
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        cmn_bus_env_init(&poke, "tep-enroller", 0);
        poke.body_case = TEP__ENVELOPE__BODY_EVENT;
        poke.event = &ev;
        assert_int_equal(cmn_bus_send(pub, NULL, 0, &poke), 0);
        serve_sync(router, head);
        if (strcmp(status_value("last_seq", v, sizeof(v)), want) == 0)
            return true;
    }
    return false;
}

static void test_credentials_follow_enroller(void **state)
{
    char ep[128], v[32];
    cmn_bus_sock *router = NULL, *pub = NULL;

    memset(km_bytes, 0x5a, sizeof(km_bytes));
    snprintf(ep, sizeof(ep), "ipc://%s/sync.ipc", dir);
    assert_int_equal(cmn_bus_open(bus, CMN_BUS_ROUTER, ep, &router), 0);
    snprintf(ep, sizeof(ep), "ipc://%s/events.ipc", dir);
    assert_int_equal(cmn_bus_open(bus, CMN_BUS_PUB, ep, &pub), 0);

    assert_true(enroller_until_applied(router, pub, 1));
    assert_string_equal(status_value("credentials", v, sizeof(v)), "1");
    assert_true(enroller_until_applied(router, pub, 2));
    assert_string_equal(status_value("credentials", v, sizeof(v)), "0");
    assert_false(tst_log_contains(log_path, "5a5a5a5a")); /* Km never reaches the log */
    cmn_bus_close(pub);
    cmn_bus_close(router);
}

static void test_clean_stop_and_audit_kept(void **state)
{
    char v[32];

    assert_int_equal(stop_daemon(), 0);
    assert_true(tst_log_contains(log_path, "event=stopping"));
    assert_int_equal(start_daemon(), 0);
    assert_string_equal(status_value("decisions", v, sizeof(v)), "0"); /* since start */
    assert_string_equal(status_value("audit_seq", v, sizeof(v)), "3"); /* durable */
    test_permit_by_policy(state);
    assert_string_equal(status_value("audit_seq", v, sizeof(v)), "4");
}

/* ---- many PEPs at once: group commit ---------------------------------------------- */

#define PEPS 16

static void send_decide(void *sock, size_t k)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__Envelope env;
    char orig[32];
    uint8_t buf[512];
    size_t len;

    snprintf(orig, sizeof(orig), "Cpep%02zu", k);
    rq.originator = orig;
    rq.creator = k % 2 == 0 ? orig : "Cowner"; /* even: the creator, permitted */
    rq.target = "/tep-cse/pep";
    rq.op = CMN_ACOP_RETRIEVE;
    cmn_bus_env_init(&env, "test", 1000 + k);
    env.body_case = TEP__ENVELOPE__BODY_DECIDE_REQ;
    env.decide_req = &rq;
    len = tep__envelope__get_packed_size(&env);
    assert_true(len <= sizeof(buf));
    tep__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(sock, buf, len, 0), (int)len);
}

static void check_answer(void *sock, size_t k)
{
    uint8_t buf[4096];
    int n = zmq_recv(sock, buf, sizeof(buf), 0);
    Tep__Envelope *env;

    assert_true(n > 0);
    env = tep__envelope__unpack(NULL, (size_t)n, buf);
    assert_non_null(env);
    assert_int_equal(env->request_id, 1000 + k);
    assert_int_equal(env->body_case, TEP__ENVELOPE__BODY_DECIDE_RESP);
    assert_int_equal(env->decide_resp->permit, k % 2 == 0);
    tep__envelope__free_unpacked(env, NULL);
}

static size_t audit_count(const char *originator, bool *ret_permit)
{
    Tep__Envelope env, *resp = NULL;
    Tep__AdminRequest rq = TEP__ADMIN_REQUEST__INIT;
    size_t n;

    rq.op = TEP__ADMIN_REQUEST__OP__AUDIT_QUERY;
    rq.audit_originator = (char *)originator;
    rq.audit_last = 100;
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_ADMIN_REQ;
    env.admin_req = &rq;
    assert_int_equal(cmn_bus_request(bus, admin_ep, &env, 3000, &resp), 0);
    n = resp->admin_resp->n_audit;
    if (n > 0)
        *ret_permit = resp->admin_resp->audit[0]->permit;
    cmn_bus_env_free(resp);
    return n;
}

/* Requests of many PEPs waiting together are decided, recorded (one transaction) and
 * answered: every PEP gets its own answer, and every decision is in the audit log. */
static void test_many_peps_recorded(void **state)
{
    void *zctx = zmq_ctx_new(), *socks[PEPS];
    int linger = 0, rcvtimeo = 3000;
    char v[32], orig[32];
    bool permit = false;

    for (size_t k = 0; k < PEPS; k++) {
        socks[k] = zmq_socket(zctx, ZMQ_DEALER);
        zmq_setsockopt(socks[k], ZMQ_LINGER, &linger, sizeof(linger));
        zmq_setsockopt(socks[k], ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
        assert_int_equal(zmq_connect(socks[k], decide_ep), 0);
    }
    for (size_t k = 0; k < PEPS; k++)
        send_decide(socks[k], k);
    for (size_t k = 0; k < PEPS; k++)
        check_answer(socks[k], k);
    for (size_t k = 0; k < PEPS; k++)
        zmq_close(socks[k]);
    zmq_ctx_term(zctx);
    assert_string_equal(status_value("audit_seq", v, sizeof(v)), "20"); /* 4 + 16 */
    for (size_t k = 0; k < PEPS; k++) {
        snprintf(orig, sizeof(orig), "Cpep%02zu", k);
        assert_int_equal(audit_count(orig, &permit), 1);
        assert_int_equal(permit, k % 2 == 0);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permit_by_policy),
        cmocka_unit_test(test_deny_not_creator),
        cmocka_unit_test(test_bad_input_survived),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_credentials_follow_enroller),
        cmocka_unit_test(test_clean_stop_and_audit_kept),
        cmocka_unit_test(test_many_peps_recorded),
        cmocka_unit_test(test_batch_answered_in_order), /* last: the counts above are exact */
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-tep-authz\n", argv[0]);
        return 1;
    }
    daemon_path = argv[1];
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
