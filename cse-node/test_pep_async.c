/* The pending-decision table of the PEP: questions of parked requests sent without
 * waiting, answered by request_id, failed at their deadline (a Deny: fail closed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_bus.h"
#include "cmn_clock.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_pep.h"

#define MANY 200

typedef struct {
    char ep[128];
    cmn_bus *bus;
    cmn_bus_sock *router; /* plays tep-authz: late, missing and withdrawn answers on
                           * demand (fault injection); the real one: integration 06,
                           * 43, 48 */
    cse_pep *pep;
} fixture;

static fixture *setup_pep(int deadline_ms)
{
    static fixture f;

    memset(&f, 0, sizeof(f));
    snprintf(f.ep, sizeof(f.ep), "ipc:///tmp/test-cse-pep-async-%d.ipc", (int)getpid());
    assert_int_equal(cmn_bus_new(&f.bus), 0);
    assert_int_equal(cmn_bus_open(f.bus, CMN_BUS_ROUTER, f.ep, &f.router), 0);
    assert_int_equal(cse_pep_new_remote(f.bus, f.ep, deadline_ms, "test", &f.pep), 0);
    return &f;
}

static void teardown_pep(fixture *f)
{
    cse_pep_free(f->pep);
    cmn_bus_close(f->router);
    cmn_bus_free(f->bus);
    unlink(f->ep + strlen("ipc://"));
}

static Tep__DecisionRequest question(const char *originator)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;

    rq.originator = (char *)originator;
    rq.creator = "Cowner";
    rq.target = "/tep-cse/Cowner/data";
    rq.target_ty = CMN_TY_CNT;
    rq.op = CMN_ACOP_RETRIEVE;
    rq.rq_authn = true;
    rq.now = 1700000000;
    return rq;
}

/* One pass of a parked request: its decision now (provisional while waiting). */
static void pass(cse_pep *pep, cse_pep_pending *pp, const char *originator, cse_decision *d)
{
    Tep__DecisionRequest rq = question(originator);

    cse_pep_begin(pep, pp);
    cse_pep_decide(pep, &rq, d);
    cse_pep_end(pep);
}

/* The PDP's side: receives one question; the answer permits when the originator's
 * name starts with "Cyes", with the originator as the rule. */
static void pdp_take(fixture *f, uint8_t *ident, size_t *ilen, Tep__Envelope **ret)
{
    assert_int_equal(cmn_bus_recv_wait(f->router, 2000, ident, ilen, ret), 0);
    assert_int_equal((*ret)->body_case, TEP__ENVELOPE__BODY_DECIDE_REQ);
}

static void pdp_answer(fixture *f, const uint8_t *ident, size_t ilen, Tep__Envelope *in)
{
    Tep__Envelope out;
    Tep__DecisionResponse resp = TEP__DECISION_RESPONSE__INIT;
    const char *o = in->decide_req->originator;

    cmn_bus_env_init(&out, "pdp", in->request_id);
    resp.permit = strncmp(o, "Cyes", 4) == 0;
    resp.rsc = resp.permit ? 0 : 4103;
    resp.rule = (char *)o;
    out.body_case = TEP__ENVELOPE__BODY_DECIDE_RESP;
    out.decide_resp = &resp;
    assert_int_equal(cmn_bus_send(f->router, ident, ilen, &out), 0);
    cmn_bus_env_free(in);
}

/* Waits (as the event loop does) until pp is answered or wait_ms passed. */
static void loop_until_answered(fixture *f, cse_pep_pending *pp, int wait_ms)
{
    int64_t end = cmn_mono_ms() + wait_ms;

    while (!cse_pep_pending_answered(pp) && cmn_mono_ms() < end) {
        usleep(5000);
        cse_pep_process(f->pep, cmn_mono_ms());
    }
}

static void test_answer_completes_the_parked_request(void **state)
{
    fixture *f = setup_pep(2000);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;
    cse_pep_pending *pp;
    cse_decision d;

    assert_int_equal(cse_pep_pending_new(&pp), 0);
    pass(f->pep, pp, "Cyes1", &d);
    assert_false(d.permit); /* provisional */
    assert_string_equal(d.rule, CSE_PEP_RULE_PENDING);
    assert_false(cse_pep_pending_answered(pp));
    assert_int_equal(cse_pep_outstanding(f->pep), 1);
    assert_true(cse_pep_next_ms(f->pep, cmn_mono_ms()) > 0);

    pdp_take(f, ident, &ilen, &in);
    pdp_answer(f, ident, ilen, in);
    loop_until_answered(f, pp, 2000);
    assert_true(cse_pep_pending_answered(pp));
    assert_int_equal(cse_pep_outstanding(f->pep), 0);
    assert_int_equal(cse_pep_next_ms(f->pep, cmn_mono_ms()), -1);

    pass(f->pep, pp, "Cyes1", &d); /* handled again: the answer, nothing sent */
    assert_true(d.permit);
    assert_string_equal(d.rule, "Cyes1");
    assert_int_equal(cmn_bus_recv_wait(f->router, 50, ident, &ilen, &in), CMN_ETIMEOUT);
    cse_pep_pending_free(pp);
    teardown_pep(f);
}

static void test_timeout_denies_and_late_answer_is_dropped(void **state)
{
    fixture *f = setup_pep(100);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;
    cse_pep_pending *pp, *pp2;
    cse_decision d;
    int64_t t0 = cmn_mono_ms();

    assert_int_equal(cse_pep_pending_new(&pp), 0);
    pass(f->pep, pp, "Cyes1", &d);
    pdp_take(f, ident, &ilen, &in); /* taken, not answered in time */
    loop_until_answered(f, pp, 1000);
    assert_true(cse_pep_pending_answered(pp));
    assert_true(cmn_mono_ms() - t0 >= 100);
    pass(f->pep, pp, "Cyes1", &d);
    assert_false(d.permit);
    assert_int_equal(d.rsc, 4103);
    assert_string_equal(d.rule, "decision_timeout");

    /* the late answer reaches nobody: the DEALER was rebuilt */
    pdp_answer(f, ident, ilen, in);
    usleep(20000);
    cse_pep_process(f->pep, cmn_mono_ms());
    pass(f->pep, pp, "Cyes1", &d);
    assert_string_equal(d.rule, "decision_timeout");

    /* within one deadline after the loss, a new question is a Deny at once */
    assert_int_equal(cse_pep_pending_new(&pp2), 0);
    pass(f->pep, pp2, "Cyes2", &d);
    assert_string_equal(d.rule, "pdp_unavailable");
    assert_true(cse_pep_pending_answered(pp2));
    cse_pep_pending_free(pp2);
    cse_pep_pending_free(pp);
    teardown_pep(f);
}

static void test_withdrawn_request_drops_its_answer(void **state)
{
    fixture *f = setup_pep(2000);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;
    cse_pep_pending *pp;
    cse_decision d;

    assert_int_equal(cse_pep_pending_new(&pp), 0);
    pass(f->pep, pp, "Cyes1", &d);
    cse_pep_pending_free(pp); /* the client went away */
    assert_int_equal(cse_pep_outstanding(f->pep), 0);
    pdp_take(f, ident, &ilen, &in);
    pdp_answer(f, ident, ilen, in);
    usleep(20000);
    cse_pep_process(f->pep, cmn_mono_ms()); /* dropped, no crash */
    assert_int_equal(cse_pep_outstanding(f->pep), 0);
    teardown_pep(f);
}

/* MANY parked requests, answered in reverse order: each gets its own answer. */
static void test_many_parked_requests(void **state)
{
    fixture *f = setup_pep(5000);
    static uint8_t idents[MANY][CMN_BUS_IDENT_MAX];
    static size_t ilens[MANY];
    static Tep__Envelope *ins[MANY];
    cse_pep_pending *pps[MANY];
    char name[MANY][16];
    cse_decision d;

    for (int i = 0; i < MANY; i++) {
        snprintf(name[i], sizeof(name[i]), "%s%d", i % 2 ? "Cyes" : "Cno", i);
        assert_int_equal(cse_pep_pending_new(&pps[i]), 0);
        pass(f->pep, pps[i], name[i], &d);
        assert_string_equal(d.rule, CSE_PEP_RULE_PENDING);
    }
    assert_int_equal(cse_pep_outstanding(f->pep), MANY);
    for (int i = 0; i < MANY; i++)
        pdp_take(f, idents[i], &ilens[i], &ins[i]);
    for (int i = MANY - 1; i >= 0; i--)
        pdp_answer(f, idents[i], ilens[i], ins[i]);
    loop_until_answered(f, pps[0], 3000);
    for (int i = 0; i < MANY; i++) {
        assert_true(cse_pep_pending_answered(pps[i]));
        pass(f->pep, pps[i], name[i], &d);
        assert_int_equal(d.permit, i % 2);
        assert_string_equal(d.rule, name[i]);
        cse_pep_pending_free(pps[i]);
    }
    assert_int_equal(cse_pep_outstanding(f->pep), 0);
    teardown_pep(f);
}

/* One request asking several questions (a discovery): all of its pass in ONE message
 * (a DecisionBatchRequest, in the order asked) when the pass ends, answered by one
 * DecisionBatchResponse; the request is answered when that is in. */
static void test_batch_of_one_request(void **state)
{
    fixture *f = setup_pep(2000);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in, *none = NULL, out;
    const char *who[3] = {"Cyes-a", "Cno-b", "Cyes-c"};
    Tep__DecisionResponse resp[3], *rp[3];
    Tep__DecisionBatchResponse b = TEP__DECISION_BATCH_RESPONSE__INIT;
    cse_pep_pending *pp;
    cse_decision d;

    assert_int_equal(cse_pep_pending_new(&pp), 0);
    cse_pep_begin(f->pep, pp);
    for (int i = 0; i < 3; i++) {
        Tep__DecisionRequest rq = question(who[i]);
        cse_pep_decide(f->pep, &rq, &d);
    }
    assert_true(cse_pep_waiting(f->pep));
    /* nothing leaves before the pass ends */
    assert_int_equal(cmn_bus_recv_wait(f->router, 20, ident, &ilen, &none), CMN_ETIMEOUT);
    cse_pep_end(f->pep);
    assert_int_equal(cmn_bus_recv_wait(f->router, 2000, ident, &ilen, &in), 0);
    assert_int_equal(in->body_case, TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ);
    assert_int_equal(in->decide_batch_req->n_decisions, 3);
    for (int i = 0; i < 3; i++) {
        const char *o = in->decide_batch_req->decisions[i]->originator;
        assert_string_equal(o, who[i]);
        tep__decision_response__init(&resp[i]);
        resp[i].permit = strncmp(o, "Cyes", 4) == 0;
        resp[i].rsc = resp[i].permit ? 0 : 4103;
        resp[i].rule = (char *)who[i];
        rp[i] = &resp[i];
    }
    assert_int_equal(cmn_bus_recv_wait(f->router, 50, ident, &ilen, &none), CMN_ETIMEOUT);
    b.n_decisions = 3;
    b.decisions = rp;
    cmn_bus_env_init(&out, "pdp", in->request_id);
    out.body_case = TEP__ENVELOPE__BODY_DECIDE_BATCH_RESP;
    out.decide_batch_resp = &b;
    assert_int_equal(cmn_bus_send(f->router, ident, ilen, &out), 0);
    cmn_bus_env_free(in);
    loop_until_answered(f, pp, 2000);
    assert_true(cse_pep_pending_answered(pp));
    cse_pep_begin(f->pep, pp);
    for (int i = 0; i < 3; i++) {
        Tep__DecisionRequest rq = question(who[i]);
        cse_pep_decide(f->pep, &rq, &d);
        assert_int_equal(d.permit, i != 1);
        assert_string_equal(d.rule, who[i]);
    }
    assert_false(cse_pep_waiting(f->pep));
    cse_pep_end(f->pep);
    cse_pep_pending_free(pp);
    teardown_pep(f);
}

/* A batch not answered in time fails every question it carried: Deny (fail closed). */
static void test_batch_timeout_denies_all(void **state)
{
    fixture *f = setup_pep(100);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;
    const char *who[2] = {"Cyes-a", "Cyes-b"};
    cse_pep_pending *pp;
    cse_decision d;

    assert_int_equal(cse_pep_pending_new(&pp), 0);
    cse_pep_begin(f->pep, pp);
    for (int i = 0; i < 2; i++) {
        Tep__DecisionRequest rq = question(who[i]);
        cse_pep_decide(f->pep, &rq, &d);
    }
    cse_pep_end(f->pep);
    assert_int_equal(cmn_bus_recv_wait(f->router, 2000, ident, &ilen, &in), 0);
    assert_int_equal(in->body_case, TEP__ENVELOPE__BODY_DECIDE_BATCH_REQ);
    cmn_bus_env_free(in); /* taken, never answered */
    loop_until_answered(f, pp, 1000);
    assert_true(cse_pep_pending_answered(pp));
    cse_pep_begin(f->pep, pp);
    for (int i = 0; i < 2; i++) {
        Tep__DecisionRequest rq = question(who[i]);
        cse_pep_decide(f->pep, &rq, &d);
        assert_false(d.permit);
        assert_int_equal(d.rsc, 4103);
    }
    cse_pep_end(f->pep);
    cse_pep_pending_free(pp);
    teardown_pep(f);
}

/* The decision cache keeps the answers of many distinct questions at once (a discovery's
 * candidates): each of CACHED questions answered by the PDP is answered from the cache
 * the next time, none evicts another. */
#define CACHED 64

static void test_cache_keeps_many_answers(void **state)
{
    fixture *f = setup_pep(2000);
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen;
    Tep__Envelope *in;
    cse_pep_pending *pp;
    cse_decision d;
    char who[CACHED][16];
    Tep__DecisionRequest rq;

    cse_pep_set_cache(f->pep, 60000);
    for (int i = 0; i < CACHED; i++) {
        snprintf(who[i], sizeof(who[i]), "Cyes-%02d", i);
        assert_int_equal(cse_pep_pending_new(&pp), 0);
        pass(f->pep, pp, who[i], &d);
        pdp_take(f, ident, &ilen, &in);
        pdp_answer(f, ident, ilen, in);
        loop_until_answered(f, pp, 2000);
        pass(f->pep, pp, who[i], &d); /* the answer, now cached */
        assert_true(d.permit);
        cse_pep_pending_free(pp);
    }
    assert_int_equal(cse_pep_cache_hits(f->pep), 0);
    for (int i = 0; i < CACHED; i++) {
        assert_int_equal(cse_pep_pending_new(&pp), 0);
        pass(f->pep, pp, who[i], &d);
        assert_true(d.permit);
        assert_string_equal(d.rule, who[i]);
        assert_true(cse_pep_pending_answered(pp)); /* nothing asked */
        cse_pep_pending_free(pp);
    }
    assert_int_equal(cse_pep_cache_hits(f->pep), CACHED);

    /* another resource with the same type, policies and creator (the next instance of a
     * container): the rule set does not read the path, the answer is the cached one */
    assert_int_equal(cse_pep_pending_new(&pp), 0);
    rq = question(who[0]);
    rq.target = "/tep-cse/Cowner/data/cin-2";
    cse_pep_begin(f->pep, pp);
    cse_pep_decide(f->pep, &rq, &d);
    cse_pep_end(f->pep);
    assert_true(d.permit);
    assert_true(cse_pep_pending_answered(pp));
    cse_pep_pending_free(pp);
    /* another type is another question */
    assert_int_equal(cse_pep_pending_new(&pp), 0);
    rq.target_ty = CMN_TY_CIN;
    cse_pep_begin(f->pep, pp);
    cse_pep_decide(f->pep, &rq, &d);
    cse_pep_end(f->pep);
    assert_string_equal(d.rule, CSE_PEP_RULE_PENDING);
    assert_int_equal(cse_pep_cache_hits(f->pep), CACHED + 1);
    cse_pep_pending_free(pp);
    pdp_take(f, ident, &ilen, &in);
    cmn_bus_env_free(in);
    assert_int_equal(cmn_bus_recv_wait(f->router, 50, ident, &ilen, &in), CMN_ETIMEOUT);
    teardown_pep(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_completes_the_parked_request),
        cmocka_unit_test(test_timeout_denies_and_late_answer_is_dropped),
        cmocka_unit_test(test_withdrawn_request_drops_its_answer),
        cmocka_unit_test(test_many_parked_requests),
        cmocka_unit_test(test_batch_of_one_request),
        cmocka_unit_test(test_batch_timeout_denies_all),
        cmocka_unit_test(test_cache_keeps_many_answers),
    };

    cmn_log_init("test_pep_async", CMN_LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
