/* The decide handler as a plain function: DecisionRequest in, DecisionResponse out
 * (TS-0003 7.1.4/7.1.5), and the audit records it leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "authz_decide.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "tst.h"

#define OPEN_PV "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63}]}"
#define SENSOR_PV                                                                                  \
    "{\"acr\": [{\"acor\": [\"Csensor*\"], \"acop\": 3, \"acaf\": true,"                           \
    " \"acod\": [{\"chty\": [4]}]}]}"

typedef struct {
    const char *name;
    const char *acp[2]; /* NULL-terminated */
    const char *originator, *creator;
    uint32_t op, new_ty;
    bool authn, admin;
    bool permit;
    const char *rule;
} case_t;

static const case_t cases[] = {
    {"admin always",
     {SENSOR_PV},
     "CAdmin",
     "Cother",
     CMN_ACOP_DELETE,
     0,
     false,
     true,
     true,
     "admin"},
    {"no acp, creator",
     {NULL},
     "Cowner",
     "Cowner",
     CMN_ACOP_UPDATE,
     0,
     true,
     false,
     true,
     "creator"},
    {"no acp, not creator",
     {NULL},
     "Cother",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     false,
     "no acp: not creator"},
    {"no acp, empty creator",
     {NULL},
     "",
     "",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     false,
     "no acp: not creator"},
    {"acp permits",
     {SENSOR_PV},
     "Csensor01",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     true,
     "acp[0].acr[0]"},
    {"acp create cin",
     {SENSOR_PV},
     "Csensor01",
     "Cowner",
     CMN_ACOP_CREATE,
     4,
     true,
     false,
     true,
     "acp[0].acr[0]"},
    {"acp create cnt denied",
     {SENSOR_PV},
     "Csensor01",
     "Cowner",
     CMN_ACOP_CREATE,
     3,
     true,
     false,
     false,
     "no matching acr"},
    {"acp needs authn",
     {SENSOR_PV},
     "Csensor01",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     false,
     false,
     false,
     "no matching acr"},
    {"acp ignores creator",
     {SENSOR_PV},
     "Cowner",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     false,
     "no matching acr"},
    {"second acp permits",
     {SENSOR_PV, OPEN_PV},
     "Cx",
     "Cowner",
     CMN_ACOP_DELETE,
     0,
     false,
     false,
     true,
     "acp[1].acr[0]"},
    {"policy not JSON",
     {"{acr"},
     "Cx",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     false,
     "acp[0]: pv not an object"},
    {"duplicate keys rejected",
     {"{\"acr\": [], \"acr\": [{\"acor\": [\"all\"], \"acop\": 63}]}"},
     "Cx",
     "Cowner",
     CMN_ACOP_RETRIEVE,
     0,
     true,
     false,
     false,
     "acp[0]: pv not an object"},
    {"two ops at once",
     {OPEN_PV},
     "Cx",
     "Cowner",
     CMN_ACOP_RETRIEVE | CMN_ACOP_UPDATE,
     0,
     true,
     false,
     false,
     "bad request"},
};

static void run_case(const case_t *c)
{
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__DecisionResponse resp;
    char *acp[2] = {(char *)c->acp[0], (char *)c->acp[1]};

    rq.originator = (char *)c->originator;
    rq.creator = (char *)c->creator;
    rq.target = "/tep-cse/sensor/data";
    rq.target_ty = CMN_TY_CNT;
    rq.op = c->op;
    rq.new_ty = c->new_ty;
    rq.rq_authn = c->authn;
    rq.is_admin = c->admin;
    rq.acp_json = acp;
    rq.n_acp_json = c->acp[0] == NULL ? 0 : c->acp[1] == NULL ? 1 : 2;
    rq.now = 1795000000;
    assert_int_equal(authz_decide(&rq, &resp), 0);
    if (resp.permit != c->permit || strcmp(resp.rule, c->rule) != 0)
        fail_msg("%s: got permit=%d rule=\"%s\", want %d \"%s\"", c->name, resp.permit, resp.rule,
                 c->permit, c->rule);
    assert_int_equal(resp.rsc, c->permit ? CMN_RSC_OK : CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    authz_decide_clear(&resp);
    assert_null(resp.rule);
}

static void test_decisions(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* ---- audit log ---------------------------------------------------------------------- */

static void test_audit_append_and_tail(void **state)
{
    char dir[TST_DIR_MAX];
    const char *dbs[] = {AUTHZ_AUDIT_DB};
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__DecisionResponse resp;
    Tep__AuditRecord *rec;
    cmn_store *store = NULL;
    uint8_t key[8];
    void *val = NULL;
    size_t len = 0;
    uint64_t seq = 99;

    assert_int_equal(tst_tmpdir("authz-audit", dir, sizeof(dir)), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 0, &store), 0);
    assert_int_equal(authz_audit_last_seq(store, &seq), 0);
    assert_int_equal(seq, 0);

    rq.originator = "Cother";
    rq.creator = "Cowner";
    rq.target = "/tep-cse/ae/cnt";
    rq.op = CMN_ACOP_DELETE;
    assert_int_equal(authz_decide(&rq, &resp), 0);
    assert_int_equal(authz_audit_append(store, 1, 1795000001, &rq, &resp), 0);
    assert_int_equal(authz_audit_append(store, 2, 1795000002, &rq, &resp), 0);
    authz_decide_clear(&resp);
    assert_int_equal(authz_audit_last_seq(store, &seq), 0);
    assert_int_equal(seq, 2);

    cmn_store_u64_key(2, key);
    assert_int_equal(cmn_store_get(store, AUTHZ_AUDIT_DB, key, sizeof(key), &val, &len), 0);
    rec = tep__audit_record__unpack(NULL, len, val);
    assert_non_null(rec);
    assert_int_equal(rec->seq, 2);
    assert_int_equal(rec->time, 1795000002);
    assert_string_equal(rec->originator, "Cother");
    assert_string_equal(rec->target, "/tep-cse/ae/cnt");
    assert_int_equal(rec->op, CMN_ACOP_DELETE);
    assert_false(rec->permit);
    assert_int_equal(rec->rsc, CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    assert_string_equal(rec->rule, "no acp: not creator");
    tep__audit_record__free_unpacked(rec, NULL);
    cmn_store_free_val(val, len);
    cmn_store_close(store);
    tst_rmtree(dir);
}

/* Group commit: a batch of decisions becomes consecutive records in one transaction,
 * each with its own originator and outcome; "tepctl audit" sees them oldest first. */
static void test_audit_group_commit(void **state)
{
    char dir[TST_DIR_MAX];
    const char *dbs[] = {AUTHZ_AUDIT_DB};
    Tep__DecisionRequest rq[3];
    Tep__DecisionResponse resp[3];
    authz_audit_item items[3];
    const char *orig[3] = {"Cowner", "Cother", "Cowner"};
    Tep__AuditRecord **recs = NULL;
    authz_audit_page all = {.max = 10}, other = {.originator = "Cother", .max = 10};
    cmn_store *store = NULL;
    size_t n = 0;
    uint64_t seq = 0, next = 1;

    assert_int_equal(tst_tmpdir("authz-audit", dir, sizeof(dir)), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 0, &store), 0);
    for (size_t i = 0; i < 3; i++) {
        tep__decision_request__init(&rq[i]);
        rq[i].originator = (char *)orig[i];
        rq[i].creator = "Cowner";
        rq[i].target = "/tep-cse/ae";
        rq[i].op = CMN_ACOP_RETRIEVE;
        assert_int_equal(authz_decide(&rq[i], &resp[i]), 0);
        items[i] = (authz_audit_item){.rq = &rq[i], .resp = &resp[i]};
    }
    assert_int_equal(authz_audit_append(store, 1, 1795000001, &rq[0], &resp[0]), 0);
    assert_int_equal(authz_audit_append_many(store, 2, 1795000002, items, 3), 0);
    assert_int_equal(authz_audit_last_seq(store, &seq), 0);
    assert_int_equal(seq, 4);
    assert_int_equal(authz_audit_query(store, &all, &recs, &n, &next), 0);
    assert_int_equal(n, 4);
    assert_true(next == 0);
    for (size_t i = 1; i < 4; i++) {
        assert_int_equal(recs[i]->seq, i + 1);
        assert_int_equal(recs[i]->time, 1795000002);
        assert_string_equal(recs[i]->originator, orig[i - 1]);
        assert_int_equal(recs[i]->permit, strcmp(orig[i - 1], "Cowner") == 0);
    }
    authz_audit_query_free(recs, n);
    assert_int_equal(authz_audit_query(store, &other, &recs, &n, &next), 0);
    assert_int_equal(n, 1);
    assert_int_equal(recs[0]->seq, 3);
    authz_audit_query_free(recs, n);
    for (size_t i = 0; i < 3; i++)
        authz_decide_clear(&resp[i]);
    cmn_store_close(store);
    tst_rmtree(dir);
}

/* Reads the whole listing of q page by page as tepctl audit --all does: *ret_seqs gets
 * the seqs oldest first; every page's bound strictly below the previous one and every
 * record within it. Returns the number of pages. */
static size_t read_all_pages(cmn_store *store, authz_audit_page q, uint64_t *seqs, size_t cap,
                             size_t *ret_n)
{
    Tep__AuditRecord **recs = NULL;
    uint64_t next = 0, got[64];
    size_t n = 0, total = 0, pages = 0;

    q.before = 0;
    do {
        assert_int_equal(authz_audit_query(store, &q, &recs, &n, &next), 0);
        assert_true(n <= (q.max ? q.max : 1));
        for (size_t i = 0; i < n; i++) {
            assert_true(q.before == 0 || recs[i]->seq < q.before);
            assert_true(recs[i]->seq >= next);
            assert_true(i == 0 || recs[i]->seq > recs[i - 1]->seq);
            assert_true(total + n <= cap && total + n <= 64);
            got[i] = recs[i]->seq;
        }
        authz_audit_query_free(recs, n);
        /* this page goes before the ones read so far (they are newer) */
        memmove(seqs + n, seqs, total * sizeof(*seqs));
        memcpy(seqs, got, n * sizeof(*seqs));
        total += n;
        assert_true(next == 0 || q.before == 0 || next < q.before);
        q.before = next;
        pages++;
    } while (next != 0);
    *ret_n = total;
    return pages;
}

/* Paging (tepctl audit --all / --last N > one page): backwards from a seq bound, every
 * matching record exactly once across page boundaries, oldest first; a scan budget
 * gives short (even empty) pages that still go on; a bound past the newest seq and a
 * page larger than the log. */
static void test_audit_pages(void **state)
{
    char dir[TST_DIR_MAX];
    const char *dbs[] = {AUTHZ_AUDIT_DB};
    Tep__DecisionRequest rq[2];
    Tep__DecisionResponse resp[2];
    authz_audit_item items[25];
    Tep__AuditRecord **recs = NULL;
    authz_audit_page q = {.max = 4};
    cmn_store *store = NULL;
    uint64_t seqs[64], next = 0;
    size_t n = 0;

    (void)state;
    assert_int_equal(tst_tmpdir("authz-audit", dir, sizeof(dir)), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 0, &store), 0);
    for (size_t i = 0; i < 2; i++) {
        tep__decision_request__init(&rq[i]);
        rq[i].originator = i == 0 ? "Cowner" : "Cother";
        rq[i].creator = "Cowner";
        rq[i].target = "/tep-cse/ae";
        rq[i].op = CMN_ACOP_RETRIEVE;
        assert_int_equal(authz_decide(&rq[i], &resp[i]), 0);
    }
    /* seq 1..25; Cother at every third (3, 6, ..., 24), Cowner elsewhere */
    for (size_t i = 0; i < 25; i++)
        items[i] = (authz_audit_item){.rq = &rq[(i + 1) % 3 == 0], .resp = &resp[(i + 1) % 3 == 0]};
    assert_int_equal(authz_audit_append_many(store, 1, 1795000001, items, 25), 0);

    /* all of it, 4 a page: 7 pages (the last one short), 1..25 in order */
    assert_int_equal(read_all_pages(store, q, seqs, 64, &n), 7);
    assert_int_equal(n, 25);
    for (size_t i = 0; i < n; i++)
        assert_true(seqs[i] == i + 1);
    /* exactly one page's worth: no empty page after it */
    q.max = 25;
    assert_int_equal(read_all_pages(store, q, seqs, 64, &n), 1);
    assert_int_equal(n, 25);
    q.max = 1000;
    assert_int_equal(read_all_pages(store, q, seqs, 64, &n), 1);
    /* one originator, 3 a page: 3, 6, ..., 24 (8 records, 3 pages) */
    q = (authz_audit_page){.originator = "Cother", .max = 3};
    assert_int_equal(read_all_pages(store, q, seqs, 64, &n), 3);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_true(seqs[i] == 3 * (i + 1));
    /* a scan budget of 2 records: pages of at most one Cother, some empty, none lost */
    q.scan_max = 2;
    assert_true(read_all_pages(store, q, seqs, 64, &n) > 8);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_true(seqs[i] == 3 * (i + 1));
    /* the first page from a bound: only records below it, the newest first */
    q = (authz_audit_page){.originator = "Cowner", .before = 12, .max = 3};
    assert_int_equal(authz_audit_query(store, &q, &recs, &n, &next), 0);
    assert_int_equal(n, 3);
    assert_true(recs[0]->seq == 8 && recs[1]->seq == 10 && recs[2]->seq == 11);
    assert_true(next == 8); /* 7 (a Cowner) is the next page's newest */
    authz_audit_query_free(recs, n);
    /* a bound past the newest seq, and one at the oldest: nothing before it */
    q = (authz_audit_page){.before = 1000, .max = 2};
    assert_int_equal(authz_audit_query(store, &q, &recs, &n, &next), 0);
    assert_true(n == 2 && recs[1]->seq == 25 && next == 24);
    authz_audit_query_free(recs, n);
    q.before = 1;
    assert_int_equal(authz_audit_query(store, &q, &recs, &n, &next), 0);
    assert_true(n == 0 && next == 0);
    authz_audit_query_free(recs, n);
    /* an originator nobody has: an empty listing, no next page */
    q = (authz_audit_page){.originator = "Cnobody", .max = 5};
    assert_int_equal(read_all_pages(store, q, seqs, 64, &n), 1);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < 2; i++)
        authz_decide_clear(&resp[i]);
    cmn_store_close(store);
    tst_rmtree(dir);
}

/* Retention: at most max_records records, none older than max_age, pruned from the
 * front in the append's own transaction; a tiny map fills and the append fails (the
 * daemon then denies the permits). */
static void test_audit_retention_and_full_map(void **state)
{
    char dir[TST_DIR_MAX];
    const char *dbs[] = {AUTHZ_AUDIT_DB};
    Tep__DecisionRequest rq = TEP__DECISION_REQUEST__INIT;
    Tep__DecisionResponse resp;
    authz_audit_item items[8];
    authz_audit_limits lim = {.max_records = 10, .max_age = 100};
    cmn_store *store = NULL;
    uint64_t oldest = 0, count = 0, seq = 1;
    size_t pruned = 0;
    int rc = 0;

    (void)state;
    assert_int_equal(tst_tmpdir("authz-audit", dir, sizeof(dir)), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 64 << 10, &store), 0);
    rq.originator = "Cowner";
    rq.creator = "Cowner";
    rq.target = "/tep-cse/ae";
    rq.op = CMN_ACOP_RETRIEVE;
    assert_int_equal(authz_decide(&rq, &resp), 0);
    for (size_t i = 0; i < 8; i++)
        items[i] = (authz_audit_item){.rq = &rq, .resp = &resp};
    for (int b = 0; b < 4; b++, seq += 8)
        assert_int_equal(
            authz_audit_append_bounded(store, seq, 1795000000, items, 8, &lim, &pruned), 0);
    assert_int_equal(authz_audit_span(store, &oldest, &count), 0);
    assert_int_equal(count, 10);
    assert_int_equal(oldest, 23);
    /* 200 s later: everything older than 100 s goes, the new batch stays */
    assert_int_equal(authz_audit_append_bounded(store, seq, 1795000200, items, 2, &lim, &pruned),
                     0);
    assert_int_equal(pruned, 10);
    assert_int_equal(authz_audit_span(store, &oldest, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(oldest, 33);
    seq += 2;
    /* no bound: a 64 KiB map fills, and the append says so */
    for (int b = 0; b < 1000 && rc == 0; b++, seq += 8)
        rc = authz_audit_append_bounded(store, seq, 1795000300, items, 8, NULL, NULL);
    assert_int_not_equal(rc, 0);
    authz_decide_clear(&resp);
    cmn_store_close(store);
    tst_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_audit_append_and_tail),
        cmocka_unit_test(test_audit_group_commit),
        cmocka_unit_test(test_audit_pages),
        cmocka_unit_test(test_audit_retention_and_full_map),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
