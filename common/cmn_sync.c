/* The subscriber side of the enroller's event stream (see cmn_sync.h).
 *
 * State: last_applied (durable, CMN_SYNC_DB "last_seq", 8 bytes big-endian) and
 * known (the newest seq heard of, from events or answers; memory only). At most one
 * SyncRequest is outstanding. We ask when: starting; an event shows known > last;
 * an answer said more or its last_seq > last; an answer made progress but stopped at
 * a gap. An answer that made no progress, a failed apply, or a lost answer (Lazy
 * Pirate: no answer within CMN_SYNC_RETRY_MS, the DEALER is closed and reopened) asks
 * again only after CMN_SYNC_RETRY_MS, so a broken peer never makes us spin.
 *
 * Because the DEALER is rebuilt after a lost answer, its fd changes: callers fetch
 * cmn_sync_fds() again before each poll.
 *
 * The epoch (CMN_SYNC_DB "epoch", the answer's string as is, at most CMN_SYNC_EPOCH_MAX
 * bytes) names the enroller store last_applied counts in. An answer is checked before
 * any item is applied: no epoch recorded yet -> adopt the answer's; another epoch, or
 * last_seq < last_applied -> reset (cmn_sync.h) in one transaction, drop the answer's
 * items and ask from 0. A monitor on the SUB makes every (re)connection (the enroller
 * restarted) ask when no answer is awaited, even when no event comes: a restored store
 * is then seen while its last_seq is still below last_applied. The monitor is drained on each
 * cmn_sync_process call (the daemons tick at least every 250 ms), not polled.
 *
 * The history: with last_applied, the same transaction stores the SHA-256 of the last
 * applied item's Event (CMN_SYNC_DB "last_digest", 32 bytes; tep.Event packed again by
 * protobuf-c from the answer, which is the enroller's log record as stored). With a
 * digest we ask after last_applied - 1: the answer's first item must be last_applied
 * with that digest (then it is skipped), else the enroller's log is not the one we
 * applied (a restored store that already made new events up to or past our position)
 * -> reset, reason history_diverged. A position without a digest (from before digests)
 * asks after last_applied and adopts the digest with the next applied item. */
#include "cmn_sync.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"

#define CMN_SYNC_KEY "last_seq"
#define CMN_SYNC_KEY_LEN (sizeof(CMN_SYNC_KEY) - 1)
#define CMN_SYNC_MAX 256
#define CMN_SYNC_RETRY_MS 1000
#define CMN_SYNC_SENDER_PREFIX "tep-sync:"
#define CMN_SYNC_EPOCH_KEY "epoch"
#define CMN_SYNC_EPOCH_KEY_LEN (sizeof(CMN_SYNC_EPOCH_KEY) - 1)
#define CMN_SYNC_EPOCH_MAX 64
#define CMN_SYNC_DIGEST_KEY "last_digest"
#define CMN_SYNC_DIGEST_KEY_LEN (sizeof(CMN_SYNC_DIGEST_KEY) - 1)
#define SUB "sync"

struct cmn_sync {
    cmn_bus *bus;
    cmn_store *store;
    char *sync_ep;
    char *target_id;
    char *sender;
    cmn_bus_sock *sub;
    cmn_bus_sock *dealer;
    cmn_bus_sock *mon; /* the SUB's connections */
    cmn_sync_apply_fn fn;
    void *arg;
    cmn_sync_reset_fn reset_fn;
    void *reset_arg;
    char epoch[CMN_SYNC_EPOCH_MAX + 1]; /* as stored; "" none yet */
    void (*hook)(uint64_t last, void *arg);
    void *hook_arg;
    uint64_t last;                  /* last applied seq, as stored */
    uint8_t digest[CMN_SHA256_LEN]; /* of last's Event, as stored, if have_digest */
    bool have_digest;
    bool req_check;      /* the outstanding request asked after last - 1 (to check last) */
    uint64_t known;      /* newest seq heard of */
    bool outstanding;    /* a request is in flight */
    uint64_t req_id;     /* its request_id */
    int64_t sent_ms;     /* when it was sent */
    bool ask_now;        /* send a request at the next chance */
    bool reset_pending;  /* reset done, the new log not caught up yet */
    int64_t answered_ms; /* monotonic ms of the last answer that left us caught up */
    int64_t retry_at;    /* if not ask_now: ask again at this time (0: not scheduled) */
};

static int load_last(cmn_store *store, uint64_t *ret_last)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(store, CMN_SYNC_DB, CMN_SYNC_KEY, CMN_SYNC_KEY_LEN, &val, &len);
    if (rc == CMN_ENOTFOUND) {
        *ret_last = 0;
        return 0;
    }
    if (rc)
        return rc;
    if (len != 8)
        rc = CMN_ECORRUPT;
    else
        *ret_last = cmn_store_key_u64(val);
    cmn_store_free_val(val, len);
    return rc;
}

/* The recorded epoch ("" when none: first contact, or a position from before epochs). */
static int load_epoch(cmn_store *store, char ret[CMN_SYNC_EPOCH_MAX + 1])
{
    void *val = NULL;
    size_t len = 0;
    int rc =
        cmn_store_get(store, CMN_SYNC_DB, CMN_SYNC_EPOCH_KEY, CMN_SYNC_EPOCH_KEY_LEN, &val, &len);
    ret[0] = '\0';
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (len > CMN_SYNC_EPOCH_MAX || memchr(val, '\0', len) != NULL)
        rc = CMN_ECORRUPT;
    else {
        memcpy(ret, val, len);
        ret[len] = '\0';
    }
    cmn_store_free_val(val, len);
    return rc;
}

/* The digest of last_applied's Event; *ret_have false when none is recorded. */
static int load_digest(cmn_store *store, uint8_t ret[CMN_SHA256_LEN], bool *ret_have)
{
    void *val = NULL;
    size_t len = 0;
    int rc =
        cmn_store_get(store, CMN_SYNC_DB, CMN_SYNC_DIGEST_KEY, CMN_SYNC_DIGEST_KEY_LEN, &val, &len);
    *ret_have = false;
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (len != CMN_SHA256_LEN)
        rc = CMN_ECORRUPT;
    else {
        memcpy(ret, val, CMN_SHA256_LEN);
        *ret_have = true;
    }
    cmn_store_free_val(val, len);
    return rc;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

int cmn_sync_new(cmn_bus *bus, cmn_store *store, const char *events_ep, const char *sync_ep,
                 const char *target_id, cmn_sync_apply_fn fn, void *arg, cmn_sync **ret)
{
    cmn_sync *s;
    int rc;

    if (bus == NULL || store == NULL || events_ep == NULL || sync_ep == NULL || target_id == NULL ||
        fn == NULL || ret == NULL)
        return CMN_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return CMN_ENOMEM;
    s->bus = bus;
    s->store = store;
    s->fn = fn;
    s->arg = arg;
    s->ask_now = true; /* once at start */
    s->sync_ep = strdup(sync_ep);
    s->target_id = strdup(target_id);
    s->sender = join(CMN_SYNC_SENDER_PREFIX, target_id);
    rc = (s->sync_ep == NULL || s->target_id == NULL || s->sender == NULL) ? CMN_ENOMEM : 0;
    if (!rc)
        rc = load_last(store, &s->last);
    if (!rc)
        rc = load_epoch(store, s->epoch);
    if (!rc)
        rc = load_digest(store, s->digest, &s->have_digest);
    if (!rc)
        rc = cmn_bus_open(bus, CMN_BUS_SUB, events_ep, &s->sub);
    if (!rc)
        rc = cmn_bus_monitor(bus, s->sub, &s->mon);
    if (!rc)
        rc = cmn_bus_open(bus, CMN_BUS_DEALER, sync_ep, &s->dealer);
    if (rc) {
        cmn_sync_free(s);
        return rc;
    }
    s->known = s->last;
    *ret = s;
    return 0;
}

void cmn_sync_free(cmn_sync *s)
{
    if (s == NULL)
        return;
    cmn_bus_close(s->mon); /* before the socket it watches */
    cmn_bus_close(s->sub);
    cmn_bus_close(s->dealer);
    free(s->sync_ep);
    free(s->target_id);
    free(s->sender);
    free(s);
}

void cmn_sync_fds(cmn_sync *s, int ret_fds[2])
{
    ret_fds[0] = cmn_bus_fd(s->sub);
    ret_fds[1] = cmn_bus_fd(s->dealer);
}

uint64_t cmn_sync_last_applied(const cmn_sync *s)
{
    return s != NULL ? s->last : 0;
}

void cmn_sync_set_applied_hook(cmn_sync *s, void (*hook)(uint64_t last, void *arg), void *arg)
{
    s->hook = hook;
    s->hook_arg = arg;
}

void cmn_sync_set_reset_fn(cmn_sync *s, cmn_sync_reset_fn fn, void *arg)
{
    s->reset_fn = fn;
    s->reset_arg = arg;
}

void cmn_sync_poll(cmn_sync *s)
{
    if (s != NULL && !s->outstanding && s->retry_at == 0)
        s->ask_now = true;
}

int64_t cmn_sync_answered_ms(const cmn_sync *s)
{
    return s != NULL ? s->answered_ms : 0;
}

const char *cmn_sync_epoch(const cmn_sync *s)
{
    return s != NULL ? s->epoch : "";
}

/* ---- clearing a database for a reset fn ------------------------------------------- */

typedef struct {
    bool (*keep)(const void *val, size_t vlen);
    void **keys;
    size_t *lens;
    size_t n, cap;
} key_list;

static int collect_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    key_list *l = arg;
    if (l->keep != NULL && l->keep(val, vlen))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void **keys = realloc(l->keys, cap * sizeof(*keys));
        size_t *lens;
        if (keys == NULL)
            return CMN_ENOMEM;
        l->keys = keys;
        lens = realloc(l->lens, cap * sizeof(*lens));
        if (lens == NULL)
            return CMN_ENOMEM;
        l->lens = lens;
        l->cap = cap;
    }
    l->keys[l->n] = malloc(klen ? klen : 1);
    if (l->keys[l->n] == NULL)
        return CMN_ENOMEM;
    memcpy(l->keys[l->n], key, klen);
    l->lens[l->n++] = klen;
    return 0;
}

int cmn_sync_clear_db(cmn_store *store, cmn_txn *txn, const char *db,
                      bool (*keep)(const void *val, size_t vlen), size_t *ret_n)
{
    key_list l = {.keep = keep};
    /* MDB_NOTLS: a read transaction next to txn is fine; txn has written nothing to db */
    int rc = cmn_store_foreach(store, db, NULL, 0, collect_key, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (!rc)
            rc = cmn_txn_del(txn, db, l.keys[i], l.lens[i]);
        if (rc == CMN_ENOTFOUND)
            rc = 0;
        free(l.keys[i]);
    }
    free(l.keys);
    free(l.lens);
    if (!rc && ret_n != NULL)
        *ret_n = l.n;
    return rc;
}

static void schedule_retry(cmn_sync *s, int64_t now_ms)
{
    s->ask_now = false;
    s->retry_at = now_ms + CMN_SYNC_RETRY_MS;
}

/* ---- receiving --------------------------------------------------------------------- */

static void drain_events(cmn_sync *s)
{
    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(s->sub, NULL, NULL, &env);
        if (rc == CMN_ECORRUPT)
            continue; /* dropped; the next event or the sync answer covers it */
        if (rc)
            return;
        if (env->body_case == TEP__ENVELOPE__BODY_EVENT && env->event != NULL &&
            env->event->seq > s->known)
            s->known = env->event->seq;
        cmn_bus_env_free(env);
    }
}

/* A (re)connection of the SUB: the enroller (re)started, perhaps on another or a
 * restored store, so ask even if no event follows; unless an answer is awaited (it, or
 * the Lazy Pirate retry, covers it). The first connection may come before the monitor
 * is attached or while the start request is out: it asks nothing more either way. */
static void drain_monitor(cmn_sync *s)
{
    unsigned ev = 0;
    int rc;
    while ((rc = cmn_bus_monitor_recv(s->mon, &ev)) == 0 || rc == CMN_ECORRUPT) {
        if (rc == 0 && ev == CMN_BUS_EV_CONNECTED && !s->outstanding)
            s->ask_now = true;
    }
}

static int store_epoch(cmn_txn *txn, const char *epoch)
{
    return cmn_txn_put(txn, CMN_SYNC_DB, CMN_SYNC_EPOCH_KEY, CMN_SYNC_EPOCH_KEY_LEN, epoch,
                       strlen(epoch));
}

static int store_last(cmn_txn *txn, uint64_t last)
{
    uint8_t key[8];
    cmn_store_u64_key(last, key);
    return cmn_txn_put(txn, CMN_SYNC_DB, CMN_SYNC_KEY, CMN_SYNC_KEY_LEN, key, sizeof(key));
}

static int store_digest(cmn_txn *txn, const uint8_t digest[CMN_SHA256_LEN])
{
    return cmn_txn_put(txn, CMN_SYNC_DB, CMN_SYNC_DIGEST_KEY, CMN_SYNC_DIGEST_KEY_LEN, digest,
                       CMN_SHA256_LEN);
}

/* SHA-256 of ev packed (the same Event gives the same bytes). */
static int event_digest(const Tep__Event *ev, uint8_t ret[CMN_SHA256_LEN])
{
    return cmn_bus_msg_sha256(&ev->base, ret);
}

/* Applies the in-order prefix of resp after s->last in one transaction. *ret_new is
 * the new last applied seq, *ret_gap true when an item was missing. */
static int apply_items(cmn_sync *s, const Tep__SyncResponse *resp, uint64_t *ret_new, bool *ret_gap)
{
    cmn_txn *txn = NULL;
    uint64_t last = s->last;
    uint8_t digest[CMN_SHA256_LEN] = {0};
    int rc = cmn_store_txn_begin(s->store, &txn);
    if (rc)
        return rc;
    *ret_gap = false;
    for (size_t i = 0; i < resp->n_items; i++) {
        const Tep__SyncItem *it = resp->items[i];
        if (it == NULL || it->event == NULL || it->event->seq <= last)
            continue;
        if (it->event->seq != last + 1) {
            *ret_gap = true;
            break;
        }
        rc = s->fn(txn, it, s->arg);
        if (rc)
            goto out;
        last = it->event->seq;
        rc = event_digest(it->event, digest); /* kept: the last one's is stored */
        if (rc)
            goto out;
    }
    if (last == s->last)
        goto out; /* nothing new: abort the empty transaction */
    rc = store_last(txn, last);
    if (!rc)
        rc = store_digest(txn, digest);
    if (!rc)
        rc = cmn_txn_commit(txn);
    txn = NULL; /* commit frees it, also on failure */
out:
    cmn_txn_abort(txn);
    if (!rc && last != s->last) {
        memcpy(s->digest, digest, sizeof(digest));
        s->have_digest = true;
    }
    if (!rc)
        *ret_new = last;
    return rc;
}

/* Why the answer's store is not the one last_applied counts in: *ret_why, or NULL.
 * Asked after last - 1 (req_check), the first item must be last with the recorded
 * digest; missing or different, the log is another history than the one applied. */
static int reset_reason(const cmn_sync *s, const Tep__SyncResponse *resp, const char **ret_why)
{
    const Tep__SyncItem *first;
    int rc;
    uint8_t digest[CMN_SHA256_LEN];

    *ret_why = NULL;
    if (s->epoch[0] != '\0' && strcmp(s->epoch, resp->epoch) != 0)
        *ret_why = "epoch_changed";
    else if (resp->last_seq < s->last)
        *ret_why = "seq_went_back";
    if (*ret_why != NULL || !s->req_check)
        return 0;
    first = resp->n_items ? resp->items[0] : NULL;
    if (first == NULL || first->event == NULL || first->event->seq != s->last) {
        *ret_why = "history_diverged";
        return 0;
    }
    rc = event_digest(first->event, digest);
    if (!rc && memcmp(digest, s->digest, CMN_SHA256_LEN) != 0)
        *ret_why = "history_diverged";
    return rc;
}

/* One transaction: the daemon's derived records deleted, last_applied 0 (no digest), the
 * new epoch. */
static int reset(cmn_sync *s, const Tep__SyncResponse *resp, const char *why)
{
    cmn_txn *txn = NULL;
    int rc;
    CMN_WARN(SUB,
             "event=enroller_reset reason=%s old_epoch=%s new_epoch=%s last_applied=%llu "
             "enroller_last_seq=%llu",
             why, s->epoch[0] ? s->epoch : "-", resp->epoch[0] ? resp->epoch : "-",
             (unsigned long long)s->last, (unsigned long long)resp->last_seq);
    rc = cmn_store_txn_begin(s->store, &txn);
    if (!rc && s->reset_fn != NULL)
        rc = s->reset_fn(s->store, txn, s->reset_arg);
    if (!rc)
        rc = store_last(txn, 0);
    if (!rc) {
        rc = cmn_txn_del(txn, CMN_SYNC_DB, CMN_SYNC_DIGEST_KEY, CMN_SYNC_DIGEST_KEY_LEN);
        if (rc == CMN_ENOTFOUND)
            rc = 0; /* a position from before digests */
    }
    if (!rc)
        rc = store_epoch(txn, resp->epoch);
    if (!rc) {
        rc = cmn_txn_commit(txn);
        txn = NULL; /* commit frees it, also on failure */
    }
    cmn_txn_abort(txn);
    if (rc) {
        CMN_ERR(SUB, "event=enroller_reset_failed reason=%s err=%s", why, cmn_strerror(rc));
        return rc;
    }
    snprintf(s->epoch, sizeof(s->epoch), "%s", resp->epoch);
    s->last = 0;
    s->have_digest = false;
    s->known = resp->last_seq;
    s->reset_pending = true; /* the hook runs once the new log is applied */
    return 0;
}

/* First contact with an enroller that has an epoch: record it (before any item). */
static int adopt_epoch(cmn_sync *s, const char *epoch)
{
    int rc = cmn_store_put(s->store, CMN_SYNC_DB, CMN_SYNC_EPOCH_KEY, CMN_SYNC_EPOCH_KEY_LEN, epoch,
                           strlen(epoch));
    if (!rc)
        snprintf(s->epoch, sizeof(s->epoch), "%s", epoch);
    return rc;
}

static int handle_response(cmn_sync *s, const Tep__SyncResponse *resp, int64_t now_ms)
{
    uint64_t new_last = s->last;
    bool gap = false;
    int rc = 0;
    const char *why;
    bool progress;
    bool behind;
    if (resp->epoch == NULL || strlen(resp->epoch) > CMN_SYNC_EPOCH_MAX) {
        schedule_retry(s, now_ms);
        return CMN_EPROTO;
    }
    why = NULL;
    if ((rc = reset_reason(s, resp, &why))) {
        schedule_retry(s, now_ms);
        return rc;
    }
    if (why != NULL) {
        rc = reset(s, resp, why);
        if (rc)
            schedule_retry(s, now_ms);
        else {
            s->ask_now = true; /* everything from 0; this answer's items are dropped */
            s->retry_at = 0;
        }
        return rc;
    }
    if (s->epoch[0] == '\0' && resp->epoch[0] != '\0' && (rc = adopt_epoch(s, resp->epoch))) {
        schedule_retry(s, now_ms);
        return rc;
    }
    if (resp->last_seq > s->known)
        s->known = resp->last_seq;
    rc = apply_items(s, resp, &new_last, &gap);
    if (rc) {
        schedule_retry(s, now_ms);
        return rc;
    }
    progress = new_last > s->last;
    s->last = new_last;
    behind = gap || resp->more || s->known > s->last;
    /* after a reset also when the new log gave nothing: what was deleted is gone */
    if (s->hook != NULL && (progress || (s->reset_pending && !behind)))
        s->hook(s->last, s->hook_arg);
    if (!behind) {
        s->reset_pending = false;
        s->answered_ms = now_ms; /* caught up with the peer's log as of now */
    }
    if (behind && progress)
        s->ask_now = true;
    else if (behind)
        schedule_retry(s, now_ms); /* the peer gave nothing usable: don't spin */
    return 0;
}

static int drain_answers(cmn_sync *s, int64_t now_ms)
{
    int rc = 0;

    for (;;) {
        Tep__Envelope *env = NULL;
        int got = cmn_bus_recv(s->dealer, NULL, NULL, &env);
        bool ours;

        if (got == CMN_ECORRUPT)
            continue;
        if (got != 0)
            return got == CMN_EAGAIN ? rc : got;
        ours = s->outstanding && env->request_id == s->req_id &&
               env->body_case == TEP__ENVELOPE__BODY_SYNC_RESP && env->sync_resp != NULL;
        if (ours) {
            s->outstanding = false;
            got = handle_response(s, env->sync_resp, now_ms);
            if (got != 0)
                rc = got;
        } else if (s->outstanding && env->request_id == s->req_id) {
            s->outstanding = false; /* an Error or another body: try again later */
            schedule_retry(s, now_ms);
            rc = CMN_EPROTO;
        }
        cmn_bus_env_free(env);
    }
}

/* ---- asking ------------------------------------------------------------------------ */

static int send_request(cmn_sync *s, int64_t now_ms)
{
    Tep__Envelope env;
    Tep__SyncRequest req;
    bool check;
    int rc;
    cmn_bus_env_init(&env, s->sender, 0);
    tep__sync_request__init(&req);
    /* with a digest, last itself comes back first, to check it is the one applied */
    check = s->last > 0 && s->have_digest;
    req.after_seq = check ? s->last - 1 : s->last;
    req.target_id = s->target_id;
    req.max = CMN_SYNC_MAX;
    env.body_case = TEP__ENVELOPE__BODY_SYNC_REQ;
    env.sync_req = &req;
    rc = cmn_bus_send(s->dealer, NULL, 0, &env);
    if (rc) {
        schedule_retry(s, now_ms);
        return rc;
    }
    s->outstanding = true;
    s->req_check = check;
    s->req_id = env.request_id;
    s->sent_ms = now_ms;
    s->ask_now = false;
    s->retry_at = 0;
    return 0;
}

/* Lazy Pirate: the answer is lost (enroller down or restarted). A fresh DEALER drops
 * whatever the old one still had queued for a peer that is gone. */
static int reopen_dealer(cmn_sync *s)
{
    cmn_bus_sock *fresh = NULL;
    int rc;
    s->outstanding = false;
    rc = cmn_bus_open(s->bus, CMN_BUS_DEALER, s->sync_ep, &fresh);
    if (rc)
        return rc;
    cmn_bus_close(s->dealer);
    s->dealer = fresh;
    return 0;
}

static bool want_request(const cmn_sync *s, int64_t now_ms)
{
    if (s->outstanding)
        return false;
    if (s->ask_now || s->known > s->last)
        return s->retry_at == 0 || now_ms >= s->retry_at;
    return s->retry_at != 0 && now_ms >= s->retry_at;
}

int cmn_sync_process(cmn_sync *s, int64_t now_ms)
{
    int rc;

    if (s == NULL)
        return CMN_EINVAL;
    drain_monitor(s);
    drain_events(s);
    rc = drain_answers(s, now_ms);
    if (s->outstanding && now_ms - s->sent_ms >= CMN_SYNC_RETRY_MS) {
        int rerr;

        s->ask_now = true;
        s->retry_at = 0;
        rerr = reopen_dealer(s);
        if (rerr)
            return rerr; /* the old DEALER stays; the next tick asks on it */
    }
    if (want_request(s, now_ms)) {
        int serr = send_request(s, now_ms);
        /* Nothing took it: the DEALER has no usable connection. A tep-cse whose CURVE
         * key the enroller refused got CMN_EAGAIN on every send on the same DEALER, and
         * still after its key became trusted (integration 28): the Lazy Pirate reopen
         * above only covers a request that was queued, so a failed send reopens too. */
        if (serr == CMN_EAGAIN) {
            int rerr = reopen_dealer(s);
            if (rerr)
                serr = rerr;
        }
        if (!rc)
            rc = serr;
    }
    return rc;
}
