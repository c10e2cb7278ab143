/* tep-authz's policy log (authz_plog.h): the writer's side (append, answer) and the
 * replica's (apply, reset). */
#include "authz_plog.h"

#include <stdlib.h>
#include <string.h>

#include "authz_tokens.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_sync.h"

#define EPOCH_LEN 32
#define SEED_MAX 100000 /* revoked tokens seeded into a new log, at most */

static const char epoch_key[] = "epoch";
static const char last_key[] = "last";

static uint64_t be64_get(const uint8_t *b)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

static int last_read(cmn_store *s, cmn_txn *t, uint64_t *ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = t != NULL
                 ? cmn_txn_get(t, AUTHZ_PLOG_META_DB, last_key, sizeof(last_key) - 1, &val, &len)
                 : cmn_store_get(s, AUTHZ_PLOG_META_DB, last_key, sizeof(last_key) - 1, &val, &len);

    *ret = 0;
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc == 0 && len != 8)
        rc = CMN_ECORRUPT;
    if (rc == 0)
        *ret = be64_get(val);
    cmn_store_free_val(val, len);
    return rc;
}

/* Appends ev (its seq set here) inside t. */
static int append(cmn_txn *t, Tep__Event *ev)
{
    uint8_t key[8];
    uint64_t last = 0;
    int rc = last_read(NULL, t, &last);

    if (rc != 0)
        return rc;
    ev->seq = last + 1;
    cmn_store_u64_key(ev->seq, key);
    rc = cmn_txn_put_msg(t, AUTHZ_PLOG_DB, key, sizeof(key), &ev->base);
    if (rc == 0)
        rc = cmn_txn_put(t, AUTHZ_PLOG_META_DB, last_key, sizeof(last_key) - 1, key, sizeof(key));
    return rc;
}

typedef struct {
    char **ids;
    size_t n;
    int rc;
} seed_list;

static int collect_revoked(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    seed_list *l = arg;
    char *id;

    (void)val;
    (void)vlen;
    if (l->n >= SEED_MAX)
        return 1; /* stop */
    if ((id = strndup(key, klen)) == NULL) {
        l->rc = CMN_ENOMEM;
        return 1;
    }
    l->ids[l->n++] = id;
    return 0;
}

/* A log made now for a store that already has revocations: one event each. */
static int seed(cmn_txn *t)
{
    seed_list l = {.ids = calloc(SEED_MAX, sizeof(char *))};
    int rc = l.ids != NULL ? 0 : CMN_ENOMEM;

    if (rc == 0)
        rc = cmn_txn_foreach(t, AUTHZ_REVOKED_DB, NULL, 0, collect_revoked, &l);
    if (rc == 1) /* stopped at SEED_MAX */
        rc = 0;
    if (rc == 0)
        rc = l.rc;
    for (size_t i = 0; i < l.n; i++) {
        Tep__Event ev = TEP__EVENT__INIT;

        ev.kind = TEP__EVENT__KIND__TOKEN_REVOKED;
        ev.token_id = l.ids[i];
        if (rc == 0)
            rc = append(t, &ev);
        free(l.ids[i]);
    }
    if (rc == 0 && l.n > 0)
        CMN_INFO("plog", "event=policy_log_seeded revoked_tokens=%zu", l.n);
    free(l.ids);
    return rc;
}

int authz_plog_open(cmn_store *store)
{
    char epoch[EPOCH_LEN + 1];
    uint8_t rnd[EPOCH_LEN / 2];
    void *val = NULL;
    size_t len = 0;
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(store, &t);

    if (rc == 0)
        rc = cmn_txn_get(t, AUTHZ_PLOG_META_DB, epoch_key, sizeof(epoch_key) - 1, &val, &len);
    cmn_store_free_val(val, len);
    if (rc != CMN_ENOTFOUND) { /* there already (0), or an error */
        cmn_txn_abort(t);
        return rc;
    }
    rc = cmn_random(rnd, sizeof(rnd));
    if (rc == 0) {
        cmn_hex_encode(rnd, sizeof(rnd), epoch);
        rc = cmn_txn_put(t, AUTHZ_PLOG_META_DB, epoch_key, sizeof(epoch_key) - 1, epoch, EPOCH_LEN);
    }
    if (rc == 0)
        rc = seed(t);
    if (rc == 0)
        return cmn_txn_commit(t);
    cmn_txn_abort(t);
    return rc;
}

int authz_plog_revoke(cmn_store *store, const char *tkid, int64_t now, Tep__Event **ret_ev)
{
    Tep__Event ev = TEP__EVENT__INIT;
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(store, &t);

    if (ret_ev != NULL)
        *ret_ev = NULL;
    if (rc != 0)
        return rc;
    ev.kind = TEP__EVENT__KIND__TOKEN_REVOKED;
    ev.token_id = (char *)tkid;
    ev.time = now;
    rc = authz_tokens_revoke_txn(t, tkid, now);
    if (rc == 0)
        rc = append(t, &ev);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    if ((rc = cmn_txn_commit(t)) != 0)
        return rc;
    if (ret_ev != NULL) {
        uint8_t buf[1024];
        size_t len = tep__event__get_packed_size(&ev);

        if (len <= sizeof(buf)) {
            tep__event__pack(&ev, buf);
            *ret_ev = tep__event__unpack(NULL, len, buf);
        }
    }
    return 0;
}

int authz_plog_last(cmn_store *store, uint64_t *ret_last)
{
    return last_read(store, NULL, ret_last);
}

static int read_epoch(cmn_store *store, char **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(store, AUTHZ_PLOG_META_DB, epoch_key, sizeof(epoch_key) - 1, &val, &len);

    if (rc == 0 && (*ret = strndup(val, len)) == NULL)
        rc = CMN_ENOMEM;
    cmn_store_free_val(val, len);
    return rc;
}

int authz_plog_answer(cmn_store *store, const Tep__SyncRequest *req, Tep__SyncResponse *resp)
{
    uint32_t max = req->max == 0 || req->max > AUTHZ_PLOG_MAX ? AUTHZ_PLOG_MAX : req->max;
    uint64_t last = 0, n = 0;
    int rc = last_read(store, NULL, &last);

    if (rc == 0)
        rc = read_epoch(store, &resp->epoch);
    if (rc != 0)
        return rc;
    if (req->after_seq < last)
        n = last - req->after_seq < max ? last - req->after_seq : max;
    resp->last_seq = last;
    resp->more = req->after_seq + n < last;
    if (n == 0)
        return 0;
    if ((resp->items = calloc(n, sizeof(*resp->items))) == NULL)
        return CMN_ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        Tep__SyncItem *it = calloc(1, sizeof(*it));
        uint8_t key[8];

        if (it == NULL)
            return CMN_ENOMEM; /* the caller clears */
        tep__sync_item__init(it);
        resp->items[resp->n_items++] = it;
        cmn_store_u64_key(req->after_seq + 1 + i, key);
        rc = cmn_store_get_msg(store, AUTHZ_PLOG_DB, key, sizeof(key), &tep__event__descriptor,
                               (ProtobufCMessage **)&it->event);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void authz_plog_answer_clear(Tep__SyncResponse *resp)
{
    for (size_t i = 0; i < resp->n_items; i++) {
        if (resp->items[i]->event != NULL)
            tep__event__free_unpacked(resp->items[i]->event, NULL);
        free(resp->items[i]);
    }
    free(resp->items);
    resp->items = NULL;
    resp->n_items = 0;
    if (resp->epoch != NULL && resp->epoch != protobuf_c_empty_string)
        free(resp->epoch);
    resp->epoch = (char *)protobuf_c_empty_string;
}

int authz_plog_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg)
{
    const Tep__Event *ev = item->event;
    int rc;

    (void)arg;
    if (ev == NULL || ev->kind != TEP__EVENT__KIND__TOKEN_REVOKED)
        return 0; /* nothing a replica keeps */
    rc = authz_tokens_revoke_txn(txn, ev->token_id, ev->time);
    if (rc == CMN_EINVAL || rc == CMN_ERANGE) {
        CMN_WARN("plog", "event=policy_event_skipped seq=%llu reason=\"bad token_id\"",
                 (unsigned long long)ev->seq);
        return 0;
    }
    if (rc == 0)
        CMN_INFO("plog", "event=token_revoked tkid=%.128s by=policy_log seq=%llu", ev->token_id,
                 (unsigned long long)ev->seq);
    return rc;
}

int authz_plog_reset(cmn_store *store, cmn_txn *txn, void *arg)
{
    (void)arg;
    return cmn_sync_clear_db(store, txn, AUTHZ_REVOKED_DB, NULL, NULL);
}
