/* tep-authz's policy log (authz_plog.h): a store from before the log gets its
 * revocations seeded once; each revocation is one event, answered in seq order with
 * the epoch and "more" as the enroller answers; a replica applying the answer knows the
 * tokens revoked, and its reset forgets them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authz_plog.h"
#include "authz_tokens.h"
#include "cmn_err.h"
#include "cmn_store.h"
#include "cmn_sync.h"
#include "tst.h"

#define NOW 1800000000

static const char *const dbs[] = {AUTHZ_REVOKED_DB, AUTHZ_PLOG_DB, AUTHZ_PLOG_META_DB, CMN_SYNC_DB};

static cmn_store *open_in(char *dir, size_t len, const char *name)
{
    cmn_store *s = NULL;

    assert_int_equal(tst_tmpdir(name, dir, len), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 4, 1, 0, &s), 0);
    return s;
}

static void answer(cmn_store *s, uint64_t after, uint32_t max, Tep__SyncResponse *resp)
{
    Tep__SyncRequest rq = TEP__SYNC_REQUEST__INIT;

    rq.after_seq = after;
    rq.max = max;
    tep__sync_response__init(resp);
    assert_int_equal(authz_plog_answer(s, &rq, resp), 0);
}

static void test_seeded_once_then_one_event_per_revocation(void **state)
{
    char dir[64];
    cmn_store *w = open_in(dir, sizeof(dir), "plog-w");
    Tep__SyncResponse resp;
    Tep__Event *ev = NULL;
    uint64_t last = 0;
    char epoch[40];

    (void)state;
    /* two tokens revoked before the log existed */
    assert_int_equal(authz_tokens_revoke(w, "a@maf.tep.local", NOW), 0);
    assert_int_equal(authz_tokens_revoke(w, "b@maf.tep.local", NOW), 0);
    assert_int_equal(authz_plog_open(w), 0);
    assert_int_equal(authz_plog_last(w, &last), 0);
    assert_int_equal(last, 2);
    assert_int_equal(authz_plog_open(w), 0); /* once: the second start seeds nothing */
    assert_int_equal(authz_plog_last(w, &last), 0);
    assert_int_equal(last, 2);

    assert_int_equal(authz_plog_revoke(w, "c@maf.tep.local", NOW + 1, &ev), 0);
    assert_non_null(ev);
    assert_int_equal(ev->seq, 3);
    assert_int_equal(ev->kind, TEP__EVENT__KIND__TOKEN_REVOKED);
    assert_string_equal(ev->token_id, "c@maf.tep.local");
    tep__event__free_unpacked(ev, NULL);
    assert_true(authz_tokens_is_revoked(w, "c@maf.tep.local"));
    assert_int_equal(authz_plog_revoke(w, "", NOW, NULL), CMN_EINVAL);
    assert_int_equal(authz_plog_last(w, &last), 0);
    assert_int_equal(last, 3); /* a refused revocation appends nothing */

    answer(w, 0, 2, &resp);
    assert_int_equal(resp.n_items, 2);
    assert_true(resp.more);
    assert_int_equal(resp.last_seq, 3);
    assert_int_equal(strlen(resp.epoch), 32);
    snprintf(epoch, sizeof(epoch), "%s", resp.epoch);
    assert_int_equal(resp.items[0]->event->seq, 1);
    assert_int_equal(resp.items[1]->event->seq, 2);
    authz_plog_answer_clear(&resp);
    answer(w, 2, 0, &resp);
    assert_int_equal(resp.n_items, 1);
    assert_false(resp.more);
    assert_string_equal(resp.items[0]->event->token_id, "c@maf.tep.local");
    assert_string_equal(resp.epoch, epoch);
    authz_plog_answer_clear(&resp);
    answer(w, 3, 0, &resp);
    assert_int_equal(resp.n_items, 0);
    authz_plog_answer_clear(&resp);
    cmn_store_close(w);
    tst_rmtree(dir);
}

static void test_replica_applies_and_resets(void **state)
{
    char wdir[64], rdir[64];
    cmn_store *w = open_in(wdir, sizeof(wdir), "plog-w2");
    cmn_store *r = open_in(rdir, sizeof(rdir), "plog-r");
    Tep__SyncResponse resp;
    cmn_txn *t = NULL;

    (void)state;
    assert_int_equal(authz_plog_open(w), 0);
    assert_int_equal(authz_plog_revoke(w, "x@maf.tep.local", NOW, NULL), 0);
    answer(w, 0, 0, &resp);
    assert_false(authz_tokens_is_revoked(r, "x@maf.tep.local"));
    assert_int_equal(cmn_store_txn_begin(r, &t), 0);
    for (size_t i = 0; i < resp.n_items; i++)
        assert_int_equal(authz_plog_apply(t, resp.items[i], NULL), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    authz_plog_answer_clear(&resp);
    assert_true(authz_tokens_is_revoked(r, "x@maf.tep.local"));
    assert_false(authz_tokens_is_revoked(r, "y@maf.tep.local"));

    assert_int_equal(cmn_store_txn_begin(r, &t), 0);
    assert_int_equal(authz_plog_reset(r, t, NULL), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    assert_false(authz_tokens_is_revoked(r, "x@maf.tep.local"));
    cmn_store_close(w);
    cmn_store_close(r);
    tst_rmtree(wdir);
    tst_rmtree(rdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeded_once_then_one_event_per_revocation),
        cmocka_unit_test(test_replica_applies_and_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
