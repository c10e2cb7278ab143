/* Access decisions: the shared local rule set, and the remote PDP with its deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_pep.h"

static Tep__DecisionRequest base(const char *originator, const char *creator)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;

    rq.originator = (char *)originator;
    rq.creator = (char *)creator;
    rq.target = "/tep-cse/dev1/data";
    rq.target_ty = CMN_TY_CNT;
    rq.op = CMN_ACOP_RETRIEVE;
    rq.rq_authn = true;
    rq.now = 1700000000;
    return rq;
}

static void test_local_rules(void **state)
{
    Tep__DecisionRequest rq = base("Cdev1", "Cdev1");
    char *acps[1];
    cse_decision d;

    cse_pep_evaluate_local(&rq, &d);
    assert_true(d.permit);
    assert_string_equal(d.rule, "creator");
    rq.originator = "Cdev2";
    cse_pep_evaluate_local(&rq, &d);
    assert_false(d.permit);
    assert_int_equal(d.rsc, 4103);
    rq.is_admin = true;
    cse_pep_evaluate_local(&rq, &d);
    assert_true(d.permit);
    assert_string_equal(d.rule, "admin");
    /* with policies the creator has no special right */
    rq = base("Cdev1", "Cdev1");
    acps[0] = "{\"acr\":[{\"acor\":[\"Cdev2\"],\"acop\":2}]}";
    rq.acp_json = acps;
    rq.n_acp_json = 1;
    cse_pep_evaluate_local(&rq, &d);
    assert_false(d.permit);
    rq.originator = "Cdev2";
    cse_pep_evaluate_local(&rq, &d);
    assert_true(d.permit);
    rq.op = CMN_ACOP_DELETE;
    cse_pep_evaluate_local(&rq, &d);
    assert_false(d.permit);
    /* an unparsable policy is Deny */
    rq.op = CMN_ACOP_RETRIEVE;
    acps[0] = "{\"acr\":";
    cse_pep_evaluate_local(&rq, &d);
    assert_false(d.permit);
    assert_int_equal(d.rsc, 4103);
    /* no creator at all (CSEBase): nobody but the admin */
    rq = base("Cdev1", "");
    cse_pep_evaluate_local(&rq, &d);
    assert_false(d.permit);
}

/* A stand-in PDP, for the faults it injects: it answers a given number of requests and
 * then stays silent (the deadline: Deny), and its stale answers must be dropped. The
 * remote PEP against the real tep-authz: integration 03, 06 (tep-authz down: fail
 * closed), 43 (under load), 304 and 40 (policies decided by it). */
typedef struct {
    cmn_bus_sock *router;
    int answer; /* answer this many requests, permit */
} pdp;

static void *pdp_thread(void *arg)
{
    pdp *p = arg;
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in = NULL;
    Tep__Envelope out = TEP__ENVELOPE__INIT;
    Tep__DecisionResponse resp = TEP__DECISION_RESPONSE__INIT;

    if (cmn_bus_recv_wait(p->router, 3000, ident, &ilen, &in) != 0)
        return NULL;
    cmn_bus_env_init(&out, "test-pdp", in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
    out.decide_resp = &resp;
    resp.permit = strcmp(in->decide_req->originator, "Cdev1") == 0;
    resp.rsc = resp.permit ? 2000 : 4103;
    resp.rule = resp.permit ? "acp[0].acr[0]" : "no_match";
    cmn_bus_send(p->router, ident, ilen, &out);
    cmn_bus_env_free(in);
    return NULL;
}

static void test_remote(void **state)
{
    char ep[128];
    cmn_bus *bus;
    pdp p = {0};
    cse_pep *pep;
    pthread_t th;
    Tep__DecisionRequest rq = base("Cdev1", "Cdev1");
    cse_decision d;

    snprintf(ep, sizeof(ep), "ipc:///tmp/test-cse-pep-%d.ipc", (int)getpid());
    assert_int_equal(cmn_bus_new(&bus), 0);
    assert_int_equal(cmn_bus_open(bus, CMN_BUS_ROUTER, ep, &p.router), 0);
    assert_int_equal(cse_pep_new_remote(bus, ep, 1000, "test", &pep), 0);

    assert_int_equal(pthread_create(&th, NULL, pdp_thread, &p), 0);
    cse_pep_decide(pep, &rq, &d);
    pthread_join(th, NULL);
    assert_true(d.permit);
    assert_string_equal(d.rule, "acp[0].acr[0]");

    /* nobody answers: Deny 4103 after the deadline, and the next question still works */
    cse_pep_free(pep);
    assert_int_equal(cse_pep_new_remote(bus, ep, 100, "test", &pep), 0);
    cse_pep_decide(pep, &rq, &d);
    assert_false(d.permit);
    assert_int_equal(d.rsc, 4103);
    assert_string_equal(d.rule, "decision_timeout");
    { /* drop the unanswered question at the PDP, then answer the next one */
        uint8_t ident[CMN_BUS_IDENT_MAX];
        size_t ilen;
        Tep__Envelope *stale = NULL;
        assert_int_equal(cmn_bus_recv_wait(p.router, 1000, ident, &ilen, &stale), 0);
        cmn_bus_env_free(stale);
    }
    assert_int_equal(pthread_create(&th, NULL, pdp_thread, &p), 0);
    cse_pep_free(pep);
    assert_int_equal(cse_pep_new_remote(bus, ep, 1000, "test", &pep), 0);
    rq.originator = "Cdev2";
    cse_pep_decide(pep, &rq, &d);
    pthread_join(th, NULL);
    assert_false(d.permit);
    assert_string_equal(d.rule, "no_match");

    cse_pep_free(pep);
    cmn_bus_close(p.router);
    cmn_bus_free(bus);
    unlink(ep + 6);
}

/* A PDP that answers (permit) every question for a while, counting them. */
typedef struct {
    cmn_bus_sock *router;
    int asked;
} counting_pdp;

static void *counting_thread(void *arg)
{
    counting_pdp *p = arg;

    for (;;) {
        uint8_t ident[CMN_BUS_IDENT_MAX];
        size_t ilen;
        Tep__Envelope *in = NULL;
        Tep__Envelope out = TEP__ENVELOPE__INIT;
        Tep__DecisionResponse resp = TEP__DECISION_RESPONSE__INIT;
        if (cmn_bus_recv_wait(p->router, 1500, ident, &ilen, &in) != 0)
            return NULL;
        p->asked++;
        cmn_bus_env_init(&out, "test-pdp", in->request_id);
        out.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
        out.decide_resp = &resp;
        resp.permit = true;
        resp.rsc = 2000;
        resp.rule = "acp[0].acr[0]";
        cmn_bus_send(p->router, ident, ilen, &out);
        cmn_bus_env_free(in);
    }
}

/* The decision cache answers an identical question without the PDP, and a changed
 * policy is a new question (ACP update/delete invalidates by construction). */
static void test_cache_invalidated_by_policy_change(void **state)
{
    char ep[128];
    cmn_bus *bus;
    counting_pdp p = {0};
    cse_pep *pep;
    pthread_t th;
    Tep__DecisionRequest rq = base("Cdev2", "Cdev1");
    char *acps[1] = {"{\"acr\":[{\"acor\":[\"Cdev2\"],\"acop\":2}]}"};
    cse_decision d;

    snprintf(ep, sizeof(ep), "ipc:///tmp/test-cse-pep-cache-%d.ipc", (int)getpid());
    assert_int_equal(cmn_bus_new(&bus), 0);
    assert_int_equal(cmn_bus_open(bus, CMN_BUS_ROUTER, ep, &p.router), 0);
    assert_int_equal(cse_pep_new_remote(bus, ep, 1000, "test", &pep), 0);
    cse_pep_set_cache(pep, 60000);
    assert_int_equal(pthread_create(&th, NULL, counting_thread, &p), 0);

    rq.acp_json = acps;
    rq.n_acp_json = 1;
    cse_pep_decide(pep, &rq, &d);
    rq.now += 5; /* the time is not part of the question */
    cse_pep_decide(pep, &rq, &d);
    assert_true(d.permit);
    assert_int_equal(cse_pep_cache_hits(pep), 1);
    /* The ACP changed (update): asked again. */
    acps[0] = "{\"acr\":[{\"acor\":[\"Cdev2\"],\"acop\":3}]}";
    cse_pep_decide(pep, &rq, &d);
    /* The ACP is gone (delete): asked again. */
    rq.n_acp_json = 0;
    cse_pep_decide(pep, &rq, &d);
    /* Time windows are never cached. */
    acps[0] = "{\"acr\":[{\"acor\":[\"Cdev2\"],\"acop\":2,"
              "\"acco\":[{\"actw\":[\"* * * * * * *\"]}]}]}";
    rq.n_acp_json = 1;
    cse_pep_decide(pep, &rq, &d);
    cse_pep_decide(pep, &rq, &d);
    assert_int_equal(cse_pep_cache_hits(pep), 1);
    pthread_join(th, NULL);
    assert_int_equal(p.asked, 5);

    cse_pep_free(pep);
    cmn_bus_close(p.router);
    cmn_bus_free(bus);
    unlink(ep + 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_rules),
        cmocka_unit_test(test_remote),
        cmocka_unit_test(test_cache_invalidated_by_policy_change),
    };
    cmn_log_init("test", CMN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
