/* cmn_sync against a fake enroller in the test (a ROUTER answering SyncRequests from a
 * list of events, and a PUB): a subscriber that was down catches up in order, gaps
 * and lost answers are recovered, the position survives a restart, and a failed apply
 * commits nothing. The enroller's epoch: adopted at first contact; another epoch or a
 * last_seq below last_applied resets (reset fn, position 0, everything asked again);
 * a failed reset applies nothing. The history: each request re-asks last_applied and
 * checks its Event's digest; another Event there (or none) resets (history_diverged),
 * the same one is not applied twice, a position without a digest adopts one.
 *
 * The fake enroller is a fault-injection stand-in: it makes the gaps, lost answers,
 * epochs, sequences going back and diverging histories that the real tep-enroller
 * only shows after a crash or a restored backup. cmn_sync against the real one:
 * integration 05 (restart), 59 (restored and fresh stores), 29 (tep-authz's
 * credentials following enrolment and revocation), and every scenario that enrols. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_bus.h"
#include "cmn_clock.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_store.h"
#include "cmn_sync.h"
#include "tst.h"

#define TARGET "/tep-cse"
#define MAX_SEQ 64

/* ---- the fake enroller (fault injection: see the top of the file) -------------------- */

typedef struct {
    cmn_bus_sock *router, *pub;
    uint64_t n_events; /* events 1..n_events exist */
    int drop_requests; /* leave the next k requests unanswered */
    uint64_t skip_seq; /* leave this seq out of the next answer (once) */
    uint32_t cap;      /* items per answer (0: as the request asks) */
    int n_requests;
    uint64_t afters[16];   /* after_seq of the requests seen */
    const char *epoch;     /* the store's epoch in answers (NULL: none, as before epochs) */
    char pub_ep[96];       /* to restart the PUB (an enroller restart, seen by the SUB) */
    uint64_t diverge_from; /* events from this seq on are another history (0: none) */
} enroller;

static void fill_item(const enroller *e, Tep__SyncItem *it, Tep__Event *ev, Tep__Credential *cr,
                      uint8_t *key, char *key_id, uint64_t seq)
{
    tep__sync_item__init(it);
    tep__event__init(ev);
    tep__credential__init(cr);
    ev->seq = seq;
    ev->enrolee_id = "Cdevice01";
    ev->kpm_id = e->diverge_from && seq >= e->diverge_from ? "restored" : "original";
    memset(key, (int)seq, 32);
    snprintf(key_id, 16, "kpsa-%" PRIu64, seq);
    cr->key_id = key_id;
    cr->key.data = key;
    cr->key.len = 32;
    cr->suid = 22;
    it->event = ev;
    it->credential = cr;
}

static void answer(enroller *e, const uint8_t *ident, size_t ilen, const Tep__Envelope *req)
{
    static Tep__SyncItem its[MAX_SEQ];
    static Tep__SyncItem *ptrs[MAX_SEQ];
    static Tep__Event evs[MAX_SEQ];
    static Tep__Credential crs[MAX_SEQ];
    static uint8_t keys[MAX_SEQ][32];
    static char ids[MAX_SEQ][16];
    uint32_t max = e->cap ? e->cap : req->sync_req->max;
    size_t n = 0;
    uint64_t seq = req->sync_req->after_seq + 1;
    Tep__Envelope env;
    Tep__SyncResponse resp;
    for (; seq <= e->n_events && n < max; seq++) {
        if (seq == e->skip_seq) {
            e->skip_seq = 0;
            continue;
        }
        fill_item(e, &its[n], &evs[n], &crs[n], keys[n], ids[n], seq);
        ptrs[n] = &its[n];
        n++;
    }
    cmn_bus_env_init(&env, "fake-enroller", req->request_id);
    tep__sync_response__init(&resp);
    resp.n_items = n;
    resp.items = ptrs;
    resp.last_seq = e->n_events;
    resp.more = seq <= e->n_events;
    if (e->epoch != NULL)
        resp.epoch = (char *)e->epoch;
    env.body_case = TEP__ENVELOPE__BODY_SYNC_RESP;
    env.sync_resp = &resp;
    assert_int_equal(cmn_bus_send(e->router, ident, ilen, &env), 0);
}

static void serve(enroller *e)
{
    uint8_t ident[CMN_BUS_IDENT_MAX];
    size_t ilen = 0;
    Tep__Envelope *req = NULL;
    while (cmn_bus_recv(e->router, ident, &ilen, &req) == 0) {
        assert_int_equal(req->body_case, TEP__ENVELOPE__BODY_SYNC_REQ);
        assert_string_equal(req->sync_req->target_id, TARGET);
        if (e->n_requests < 16)
            e->afters[e->n_requests] = req->sync_req->after_seq;
        e->n_requests++;
        if (e->drop_requests > 0)
            e->drop_requests--;
        else
            answer(e, ident, ilen, req);
        cmn_bus_env_free(req);
    }
}

static void publish(enroller *e, uint64_t seq)
{
    Tep__Envelope env;
    Tep__Event ev;
    cmn_bus_env_init(&env, "fake-enroller", 0);
    tep__event__init(&ev);
    ev.seq = seq;
    env.body_case = TEP__ENVELOPE__BODY_EVENT;
    env.event = &ev;
    assert_int_equal(cmn_bus_send(e->pub, NULL, 0, &env), 0);
}

/* ---- the subscriber's side ----------------------------------------------------------- */

typedef struct {
    uint64_t order[MAX_SEQ]; /* seqs in the order apply saw them */
    size_t n;
    uint64_t fail_at; /* apply fails once at this seq */
    int hook_calls;
    uint64_t hook_last; /* last value the hook saw */
    int resets;         /* reset fn calls that succeeded */
    int fail_resets;    /* the next k reset fn calls fail */
    size_t cleared;     /* records the last reset deleted */
} applier;

static int apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg)
{
    applier *a = arg;
    uint64_t seq = item->event->seq;
    const Tep__Credential *c;
    if (seq == a->fail_at) {
        a->fail_at = 0;
        return CMN_EIO;
    }
    if (a->n < MAX_SEQ)
        a->order[a->n++] = seq;
    assert_non_null(item->credential);
    c = item->credential;
    return cmn_txn_put(txn, "creds", c->key_id, strlen(c->key_id), c->key.data, c->key.len);
}

static void hook(uint64_t last, void *arg)
{
    ((applier *)arg)->hook_calls++;
    ((applier *)arg)->hook_last = last;
}

/* Deletes what apply derived ("creds"), through the helper the daemons use. */
static int reset_fn(cmn_store *store, cmn_txn *txn, void *arg)
{
    applier *a = arg;
    int rc;
    if (a->fail_resets > 0) {
        a->fail_resets--;
        return CMN_EIO;
    }
    rc = cmn_sync_clear_db(store, txn, "creds", NULL, &a->cleared);
    if (!rc) {
        a->resets++;
        a->n = 0; /* from here on, order[] holds what the new log applies */
    }
    return rc;
}

typedef struct {
    char dir[64], store_dir[80], sync_ep[96], events_ep[96];
    cmn_bus *bus;
    cmn_store *store;
    enroller enr;
    applier app;
    cmn_sync *sync;
    int64_t skew; /* added to the clock handed to cmn_sync_process */
} fixture;

static const char *const dbs[] = {CMN_SYNC_DB, "creds"};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(tst_tmpdir("sync", f->dir, sizeof(f->dir)), 0);
    snprintf(f->store_dir, sizeof(f->store_dir), "%s/store", f->dir);
    snprintf(f->sync_ep, sizeof(f->sync_ep), "ipc://%s/sync.ipc", f->dir);
    snprintf(f->events_ep, sizeof(f->events_ep), "ipc://%s/events.ipc", f->dir);
    assert_int_equal(cmn_bus_new(&f->bus), 0);
    assert_int_equal(cmn_store_open(f->store_dir, dbs, 2, 1, 0, &f->store), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_ROUTER, f->sync_ep, &f->enr.router), 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->events_ep, &f->enr.pub), 0);
    snprintf(f->enr.pub_ep, sizeof(f->enr.pub_ep), "%s", f->events_ep);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    cmn_sync_free(f->sync);
    cmn_bus_close(f->enr.router);
    cmn_bus_close(f->enr.pub);
    cmn_bus_free(f->bus);
    cmn_store_close(f->store);
    rc = tst_rmtree(f->dir);
    free(f);
    return rc;
}

static void start_sync(fixture *f)
{
    int fds[2];

    assert_int_equal(
        cmn_sync_new(f->bus, f->store, f->events_ep, f->sync_ep, TARGET, apply, &f->app, &f->sync),
        0);
    cmn_sync_set_applied_hook(f->sync, hook, &f->app);
    cmn_sync_set_reset_fn(f->sync, reset_fn, &f->app);
    cmn_sync_fds(f->sync, fds);
    assert_true(fds[0] >= 0 && fds[1] >= 0);
}

/* Turns the loop (subscriber, then enroller) for up to ms real milliseconds, or until
 * last_applied reaches want (want 0: run the whole time). */
static void run(fixture *f, int ms, uint64_t want)
{
    int64_t end = cmn_mono_ms() + ms;
    while (cmn_mono_ms() < end) {
        int rc = cmn_sync_process(f->sync, cmn_mono_ms() + f->skew);
        assert_true(rc == 0 || rc == CMN_EIO); /* CMN_EIO: the failing applier */
        serve(&f->enr);
        if (want && cmn_sync_last_applied(f->sync) >= want)
            return;
        usleep(2000);
    }
}

static void assert_applied_in_order(const applier *a, uint64_t from, uint64_t to)
{
    assert_int_equal(a->n, to - from + 1);
    for (size_t i = 0; i < a->n; i++)
        assert_int_equal(a->order[i], from + i);
}

static void assert_cred(fixture *f, uint64_t seq)
{
    char id[16];
    void *val = NULL;
    size_t len = 0;
    uint8_t want[32];
    snprintf(id, sizeof(id), "kpsa-%" PRIu64, seq);
    memset(want, (int)seq, sizeof(want));
    assert_int_equal(cmn_store_get(f->store, "creds", id, strlen(id), &val, &len), 0);
    assert_int_equal(len, 32);
    assert_memory_equal(val, want, 32);
    cmn_store_free_val(val, len);
}

/* Events 1..5 happen while nobody listens; the subscriber starts, asks once, applies
 * all five in order; its position is durable; a later event is picked up. */
static void test_catch_up_after_down(void **state)
{
    fixture *f = *state;
    int64_t end;
    int before;
    for (uint64_t s = 1; s <= 5; s++) {
        f->enr.n_events = s;
        publish(&f->enr, s); /* no subscriber: lost */
    }
    start_sync(f);
    assert_int_equal(cmn_sync_last_applied(f->sync), 0);
    run(f, 3000, 5);
    assert_int_equal(cmn_sync_last_applied(f->sync), 5);
    assert_applied_in_order(&f->app, 1, 5);
    assert_int_equal(f->enr.afters[0], 0);
    assert_cred(f, 1);
    assert_cred(f, 5);
    assert_true(f->app.hook_calls >= 1);

    /* a new event on the PUB socket makes the subscriber ask from 5 */
    f->enr.n_events = 6;
    end = cmn_mono_ms() + 3000;
    while (cmn_sync_last_applied(f->sync) < 6 && cmn_mono_ms() < end) {
        publish(&f->enr, 6); /* repeated: the SUB may still be joining */
        run(f, 100, 6);
    }
    assert_int_equal(cmn_sync_last_applied(f->sync), 6);
    assert_applied_in_order(&f->app, 1, 6);
    assert_int_equal(f->enr.afters[f->enr.n_requests - 1], 4); /* 5 again, to check it */

    /* restart: the position comes back from the store, no event is applied twice */
    cmn_sync_free(f->sync);
    f->sync = NULL;
    f->app.n = 0;
    before = f->enr.n_requests;
    start_sync(f);
    assert_int_equal(cmn_sync_last_applied(f->sync), 6);
    run(f, 200, 0);
    assert_true(f->enr.n_requests > before);
    assert_int_equal(f->enr.afters[before], 5);
    assert_int_equal(f->app.n, 0); /* 6 came back (same digest): not applied twice */
}

/* Answers capped at 2 items: "more" makes the subscriber ask until it has everything
 * (from the second answer on, one of the two is the re-checked last_applied). */
static void test_more_pages(void **state)
{
    fixture *f = *state;
    f->enr.n_events = 7;
    f->enr.cap = 2;
    start_sync(f);
    run(f, 3000, 7);
    assert_applied_in_order(&f->app, 1, 7);
    assert_int_equal(f->enr.n_requests, 6);
    assert_int_equal(f->enr.afters[5], 5);
}

/* An answer with a hole (3 missing): 1, 2 are applied, 4.. are not, the subscriber
 * asks again after 1 (2 re-checked) and ends with 1..6 in order. */
static void test_gap_in_answer(void **state)
{
    fixture *f = *state;
    f->enr.n_events = 6;
    f->enr.skip_seq = 3;
    start_sync(f);
    run(f, 3000, 6);
    assert_applied_in_order(&f->app, 1, 6);
    assert_int_equal(f->enr.n_requests, 2);
    assert_int_equal(f->enr.afters[0], 0);
    assert_int_equal(f->enr.afters[1], 1);
}

/* The first answer is lost: after 1 s the subscriber rebuilds its DEALER and asks
 * again (Lazy Pirate). */
static void test_lost_answer_retried(void **state)
{
    fixture *f = *state;
    f->enr.n_events = 3;
    f->enr.drop_requests = 1;
    start_sync(f);
    run(f, 200, 0);
    assert_int_equal(f->enr.n_requests, 1);
    assert_int_equal(cmn_sync_last_applied(f->sync), 0);
    f->skew = 1100; /* the answer is now overdue */
    run(f, 3000, 3);
    assert_int_equal(f->enr.n_requests, 2);
    assert_applied_in_order(&f->app, 1, 3);
}

/* The applier fails at seq 2: nothing of the batch is committed (not even 1), the
 * subscriber asks again after 1 s and then applies 1..3. */
static void test_failed_apply_commits_nothing(void **state)
{
    fixture *f = *state;
    void *val = NULL;
    size_t len = 0;
    f->enr.n_events = 3;
    f->app.fail_at = 2;
    start_sync(f);
    run(f, 300, 0);
    assert_int_equal(cmn_sync_last_applied(f->sync), 0);
    assert_int_equal(cmn_store_get(f->store, "creds", "kpsa-1", 6, &val, &len), CMN_ENOTFOUND);
    assert_int_equal(f->enr.n_requests, 1); /* no spinning after a failure */
    f->app.n = 0;
    f->skew = 1100;
    run(f, 3000, 3);
    assert_applied_in_order(&f->app, 1, 3);
    assert_cred(f, 1);
}

/* ---- the enroller's epoch ------------------------------------------------------------ */

#define EPOCH_A "0123456789abcdef0123456789abcdef"
#define EPOCH_B "fedcba9876543210fedcba9876543210"

static int count_creds(fixture *f)
{
    uint64_t n = 0;
    char id[16];
    for (uint64_t seq = 1; seq < MAX_SEQ; seq++) {
        void *val = NULL;
        size_t len = 0;
        snprintf(id, sizeof(id), "kpsa-%" PRIu64, seq);
        if (cmn_store_get(f->store, "creds", id, strlen(id), &val, &len) == 0)
            n++;
        cmn_store_free_val(val, len);
    }
    return (int)n;
}

/* The enroller restarts: its PUB goes away and comes back; the subscriber's SUB
 * reconnects, which makes it ask although no event comes. */
static void restart_enroller(fixture *f)
{
    cmn_bus_close(f->enr.pub);
    f->enr.pub = NULL;
    run(f, 50, 0);
    assert_int_equal(cmn_bus_open(f->bus, CMN_BUS_PUB, f->enr.pub_ep, &f->enr.pub), 0);
}

/* The enroller comes back with epoch and events 1..n_events; turns the loop until the
 * subscriber has reset and caught up (its hook ran after the reset). */
static void enroller_back_with(fixture *f, const char *epoch, uint64_t n_events)
{
    int hooks = f->app.hook_calls;
    int64_t end;
    f->enr.epoch = epoch;
    f->enr.n_events = n_events;
    restart_enroller(f);
    end = cmn_mono_ms() + 3000;
    while ((f->app.resets == 0 || f->app.hook_calls == hooks) && cmn_mono_ms() < end)
        run(f, 20, 0);
    assert_int_equal(f->app.resets, 1);
    assert_int_equal(f->app.hook_last, n_events); /* caught up, also with an empty log */
}

/* Events 1..5 from the store with EPOCH_A, applied. */
static void applied_five(fixture *f)
{
    f->enr.n_events = 5;
    f->enr.epoch = EPOCH_A;
    start_sync(f);
    run(f, 3000, 5);
    assert_int_equal(cmn_sync_last_applied(f->sync), 5);
    run(f, 150, 0); /* the SUB's first connection is made (and asks nothing) */
}

/* First contact: the epoch is adopted and kept (also across a restart); same epoch,
 * nothing reset. */
static void test_epoch_adopted(void **state)
{
    fixture *f = *state;
    int before;
    applied_five(f);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_A);
    cmn_sync_free(f->sync);
    f->sync = NULL;
    start_sync(f);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_A);
    before = f->enr.n_requests;
    f->enr.n_events = 6;
    run(f, 3000, 6);
    assert_int_equal(f->enr.afters[before], 4);
    assert_int_equal(cmn_sync_last_applied(f->sync), 6);
    assert_int_equal(f->app.resets, 0);
    assert_int_equal(count_creds(f), 6);
}

/* A position from before epochs (last_applied 5, no epoch): the first epoch is adopted,
 * nothing reset. */
static void test_epoch_adopted_over_old_position(void **state)
{
    fixture *f = *state;
    f->enr.n_events = 5;
    start_sync(f); /* the enroller has no epoch yet */
    run(f, 3000, 5);
    assert_string_equal(cmn_sync_epoch(f->sync), "");
    cmn_sync_free(f->sync);
    f->sync = NULL;
    f->enr.epoch = EPOCH_A;
    f->enr.n_events = 7;
    start_sync(f);
    run(f, 3000, 7);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_A);
    assert_int_equal(f->app.resets, 0);
    assert_int_equal(count_creds(f), 7);
}

/* The enroller comes back on another store (EPOCH_B) with 8 events: on the SUB's
 * reconnection the subscriber asks after 4 (5 re-checked), resets (the derived records are deleted,
 * the hook sees 0), drops the answer's items 6..8, asks from 0 and applies 1..8 of
 * the new log. */
static void test_epoch_change_resets(void **state)
{
    fixture *f = *state;
    int before;
    applied_five(f);
    before = f->enr.n_requests;
    enroller_back_with(f, EPOCH_B, 8);
    assert_int_equal(f->app.cleared, 5);
    assert_int_equal(f->enr.afters[before], 4);
    assert_int_equal(cmn_sync_last_applied(f->sync), 8);
    assert_int_equal(f->enr.afters[before + 1], 0);
    assert_applied_in_order(&f->app, 1, 8); /* 6..8 of the first answer were dropped */
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_B);
    assert_int_equal(count_creds(f), 8);

    /* durable: a restart keeps position 8 in EPOCH_B, no second reset */
    cmn_sync_free(f->sync);
    f->sync = NULL;
    start_sync(f);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_B);
    assert_int_equal(cmn_sync_last_applied(f->sync), 8);
    run(f, 200, 0);
    assert_int_equal(f->app.resets, 1);
}

/* A fresh store with fewer events than we applied: reset, then 1..2 of the new log;
 * the hook is called with 0 once the empty new log is caught up. */
static void test_epoch_change_fresh_store(void **state)
{
    fixture *f = *state;
    int64_t end;
    applied_five(f);
    enroller_back_with(f, EPOCH_B, 0);
    assert_int_equal(cmn_sync_last_applied(f->sync), 0);
    assert_int_equal(count_creds(f), 0);
    f->enr.n_events = 2;
    end = cmn_mono_ms() + 3000;
    while (cmn_sync_last_applied(f->sync) < 2 && cmn_mono_ms() < end) {
        publish(&f->enr, 2);
        run(f, 100, 2);
    }
    assert_applied_in_order(&f->app, 1, 2);
    assert_int_equal(count_creds(f), 2);
}

/* The same store restored from a backup (same epoch, last_seq 3 < 5): reset with
 * reason seq_went_back, then 1..3 again. */
static void test_seq_went_back_resets(void **state)
{
    fixture *f = *state;
    applied_five(f);
    enroller_back_with(f, EPOCH_A, 3);
    assert_int_equal(cmn_sync_last_applied(f->sync), 3);
    assert_applied_in_order(&f->app, 1, 3);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_A);
    assert_int_equal(count_creds(f), 3);
}

/* The reset transaction fails: nothing is deleted or applied, the position and epoch
 * stay; 1 s later the reset is tried again and goes through. */
static void test_reset_failure_applies_nothing(void **state)
{
    fixture *f = *state;
    applied_five(f);
    f->app.n = 0;
    f->app.fail_resets = 1;
    f->enr.epoch = EPOCH_B;
    f->enr.n_events = 8;
    restart_enroller(f);
    run(f, 500, 0);
    assert_int_equal(f->app.resets, 0);
    assert_int_equal(f->app.n, 0); /* items 6..8 were not applied */
    assert_int_equal(cmn_sync_last_applied(f->sync), 5);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_A);
    assert_int_equal(count_creds(f), 5);
    f->skew = 1100;
    run(f, 3000, 8);
    assert_int_equal(f->app.resets, 1);
    assert_applied_in_order(&f->app, 1, 8);
    assert_string_equal(cmn_sync_epoch(f->sync), EPOCH_B);
}

/* ---- the history (digest of last_applied's Event) ------------------------------------ */

/* The log lines of a test (warn and up), to see the reset's reason. */
typedef struct {
    FILE *fp;
    char *buf;
    size_t len;
} log_capture;

static void capture_log(log_capture *c)
{
    c->fp = open_memstream(&c->buf, &c->len);
    assert_non_null(c->fp);
    cmn_log_init("test-sync", CMN_LOG_WARN, c->fp);
}

static bool logged(log_capture *c, const char *what)
{
    fflush(c->fp);
    return c->buf != NULL && strstr(c->buf, what) != NULL;
}

static void end_capture(log_capture *c)
{
    cmn_log_init("test-sync", CMN_LOG_WARN, NULL);
    fclose(c->fp);
    free(c->buf);
}

/* A restored store (same epoch) that already went past our position: 5 is another
 * Event there. Seqs and epoch cannot tell it, the digest does: reset, reason
 * history_diverged, then 1..8 of the restored log. */
static void test_history_diverged_resets(void **state)
{
    fixture *f = *state;
    log_capture c;
    int before;
    capture_log(&c);
    applied_five(f);
    before = f->enr.n_requests;
    f->enr.diverge_from = 5;
    enroller_back_with(f, EPOCH_A, 8);
    assert_int_equal(f->enr.afters[before], 4);
    assert_true(logged(&c, "event=enroller_reset reason=history_diverged old_epoch=" EPOCH_A
                           " new_epoch=" EPOCH_A " last_applied=5 enroller_last_seq=8"));
    assert_int_equal(f->app.cleared, 5);
    assert_int_equal(f->enr.afters[before + 1], 0);
    assert_applied_in_order(&f->app, 1, 8);
    assert_int_equal(cmn_sync_last_applied(f->sync), 8);

    /* the restored log is ours now: the next ask re-checks 8 and finds it */
    cmn_sync_free(f->sync);
    f->sync = NULL;
    f->app.n = 0;
    before = f->enr.n_requests;
    start_sync(f);
    run(f, 200, 0);
    assert_int_equal(f->enr.afters[before], 7);
    assert_int_equal(f->app.resets, 1);
    assert_int_equal(f->app.n, 0);
    end_capture(&c);
}

/* The restored store no longer has an item at our position although its last_seq is
 * past it (the answer leaves 5 out): not the history we applied, reset. */
static void test_history_item_missing_resets(void **state)
{
    fixture *f = *state;
    log_capture c;
    capture_log(&c);
    applied_five(f);
    f->enr.skip_seq = 5;
    enroller_back_with(f, EPOCH_A, 6);
    assert_true(logged(&c, "event=enroller_reset reason=history_diverged"));
    assert_applied_in_order(&f->app, 1, 6);
    end_capture(&c);
}

/* The enroller restarts on the same store, which went on to 8: 5 comes back with the
 * same digest, no reset, 6..8 applied once (5 is not applied twice). */
static void test_same_history_no_reset(void **state)
{
    fixture *f = *state;
    log_capture c;
    int before;
    capture_log(&c);
    applied_five(f);
    f->app.n = 0;
    before = f->enr.n_requests;
    f->enr.n_events = 8;
    restart_enroller(f);
    run(f, 3000, 8);
    assert_int_equal(cmn_sync_last_applied(f->sync), 8);
    assert_int_equal(f->enr.afters[before], 4);
    assert_applied_in_order(&f->app, 6, 8);
    assert_int_equal(f->app.resets, 0);
    assert_false(logged(&c, "enroller_reset"));
    assert_int_equal(count_creds(f), 8);
    end_capture(&c);
}

/* A position from before digests (last_applied 5, no digest): asked after 5 as
 * before, nothing reset (5 cannot be checked), the digest of 7 adopted with it; from
 * then on 7 is checked, and another Event there resets. */
static void test_old_position_adopts_digest(void **state)
{
    fixture *f = *state;
    log_capture c;
    int before;
    void *val;
    size_t len;
    capture_log(&c);
    applied_five(f);
    cmn_sync_free(f->sync);
    f->sync = NULL;
    assert_int_equal(cmn_store_del(f->store, CMN_SYNC_DB, "last_digest", 11), 0);
    f->enr.n_events = 7;
    before = f->enr.n_requests;
    start_sync(f);
    run(f, 3000, 7);
    assert_int_equal(f->enr.afters[before], 5);
    assert_int_equal(f->app.resets, 0);
    assert_int_equal(cmn_sync_last_applied(f->sync), 7);
    val = NULL;
    len = 0;
    assert_int_equal(cmn_store_get(f->store, CMN_SYNC_DB, "last_digest", 11, &val, &len), 0);
    assert_int_equal(len, 32);
    cmn_store_free_val(val, len);
    run(f, 150, 0); /* the SUB's first connection */

    before = f->enr.n_requests;
    f->enr.diverge_from = 7;
    enroller_back_with(f, EPOCH_A, 7);
    assert_int_equal(f->enr.afters[before], 6);
    assert_true(logged(&c, "reason=history_diverged"));
    assert_applied_in_order(&f->app, 1, 7);
    end_capture(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catch_up_after_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_in_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_answer_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_apply_commits_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_adopted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_adopted_over_old_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_change_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_change_fresh_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_went_back_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_failure_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_diverged_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_item_missing_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_history_no_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_position_adopts_digest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
