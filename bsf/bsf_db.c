/* tep-bsf's LMDB records (see bsf_db.h). */
#include "bsf_db.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

int bsf_db_open(const char *dir, cmn_store **ret)
{
    static const char *const dbs[] = {BSF_SUBSCRIBERS_DB, BSF_BTIDS_DB};

    return cmn_store_open(dir, dbs, 2, BSF_STORE_SCHEMA, 0, ret);
}

void bsf_db_subscriber_free(Tep__GbaSubscriber *sub)
{
    if (sub == NULL)
        return;
    if (sub->k.data != NULL)
        cmn_wipe(sub->k.data, sub->k.len);
    if (sub->opc.data != NULL)
        cmn_wipe(sub->opc.data, sub->opc.len);
    tep__gba_subscriber__free_unpacked(sub, NULL);
}

void bsf_db_btid_free(Tep__GbaBootstrap *b)
{
    if (b == NULL)
        return;
    if (b->ks.data != NULL)
        cmn_wipe(b->ks.data, b->ks.len);
    tep__gba_bootstrap__free_unpacked(b, NULL);
}

static int impi_valid(const char *impi)
{
    size_t n = impi != NULL ? strlen(impi) : 0;

    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)impi[i] <= 0x20 || (unsigned char)impi[i] >= 0x7f || impi[i] == '"' ||
            impi[i] == '\\')
            return 0;
    return 1;
}

int bsf_db_subscriber_add(cmn_store *s, const Tep__GbaSubscriber *sub, int64_t now)
{
    Tep__GbaSubscriber rec = *sub;
    cmn_txn *t = NULL;
    void *old = NULL;
    size_t olen = 0;
    int rc;

    if (!impi_valid(sub->impi) || sub->k.len != CMN_MIL_K_LEN || sub->opc.len != CMN_MIL_K_LEN ||
        sub->sqn > CMN_MIL_SQN_MAX)
        return CMN_EINVAL;
    rec.created = now;
    rec.resyncs = 0;
    if ((rc = cmn_store_txn_begin(s, &t)) != 0)
        return rc;
    rc = cmn_txn_get(t, BSF_SUBSCRIBERS_DB, sub->impi, strlen(sub->impi), &old, &olen);
    if (rc == 0) {
        cmn_store_free_val(old, olen);
        cmn_txn_abort(t);
        return CMN_EEXIST;
    }
    if (rc != CMN_ENOTFOUND) {
        cmn_txn_abort(t);
        return rc;
    }
    rc = cmn_txn_put_msg(t, BSF_SUBSCRIBERS_DB, sub->impi, strlen(sub->impi),
                         (const ProtobufCMessage *)&rec);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

int bsf_db_subscriber_get(cmn_store *s, const char *impi, Tep__GbaSubscriber **ret)
{
    int rc;

    if (!impi_valid(impi))
        return CMN_ENOTFOUND;
    rc = cmn_store_get_msg(s, BSF_SUBSCRIBERS_DB, impi, strlen(impi),
                           &tep__gba_subscriber__descriptor, (ProtobufCMessage **)ret);
    if (rc == 0 && ((*ret)->k.len != CMN_MIL_K_LEN || (*ret)->opc.len != CMN_MIL_K_LEN)) {
        bsf_db_subscriber_free(*ret);
        *ret = NULL;
        rc = CMN_ECORRUPT;
    }
    return rc;
}

/* Reads the subscriber in t, lets fn change it, writes it back and commits. */
static int update(cmn_store *s, const char *impi, int (*fn)(Tep__GbaSubscriber *sub, void *arg),
                  void *arg)
{
    Tep__GbaSubscriber *sub = NULL;
    cmn_txn *t = NULL;
    int rc;

    if (!impi_valid(impi))
        return CMN_ENOTFOUND;
    if ((rc = cmn_store_txn_begin(s, &t)) != 0)
        return rc;
    rc = cmn_txn_get_msg(t, BSF_SUBSCRIBERS_DB, impi, strlen(impi),
                         &tep__gba_subscriber__descriptor, (ProtobufCMessage **)&sub);
    if (rc == 0)
        rc = fn(sub, arg);
    if (rc == 0)
        rc = cmn_txn_put_msg(t, BSF_SUBSCRIBERS_DB, impi, strlen(impi),
                             (const ProtobufCMessage *)sub);
    bsf_db_subscriber_free(sub);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

static int accepted(Tep__GbaSubscriber *sub, void *arg)
{
    uint64_t sqn = *(const uint64_t *)arg;

    if (sqn > CMN_MIL_SQN_MAX)
        return CMN_EINVAL;
    if (sqn > sub->sqn)
        sub->sqn = sqn;
    return 0;
}

int bsf_db_sqn_accepted(cmn_store *s, const char *impi, uint64_t sqn)
{
    return update(s, impi, accepted, &sqn);
}

typedef struct {
    uint64_t sqn_ms, delta;
} resync_arg;

static int resync(Tep__GbaSubscriber *sub, void *arg)
{
    const resync_arg *a = arg;
    uint64_t next = sub->sqn + 1;

    if (a->sqn_ms > CMN_MIL_SQN_MAX)
        return CMN_EINVAL;
    if (!(next > a->sqn_ms && next - a->sqn_ms <= a->delta))
        sub->sqn = a->sqn_ms;
    sub->resyncs++;
    return 0;
}

int bsf_db_sqn_resync(cmn_store *s, const char *impi, uint64_t sqn_ms, uint64_t delta)
{
    resync_arg a = {sqn_ms, delta};

    return update(s, impi, resync, &a);
}

#define DROP_MAX 64 /* records one put deletes at most (expired ones first) */

typedef struct {
    const Tep__GbaBootstrap *b;
    char *expired[DROP_MAX]; /* B-TIDs past their lifetime, any IMPI */
    size_t n_expired;
    char *mine[DROP_MAX]; /* the IMPI's live ones */
    int64_t mine_created[DROP_MAX];
    size_t n_mine;
} prune_ctx;

static int prune_scan(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    prune_ctx *p = arg;
    Tep__GbaBootstrap *r = tep__gba_bootstrap__unpack(NULL, vlen, val);
    char *id = r != NULL ? strndup(key, klen) : NULL;

    if (id != NULL && r->expires <= p->b->created && p->n_expired < DROP_MAX) {
        p->expired[p->n_expired++] = id;
        id = NULL;
    } else if (id != NULL && strcmp(r->impi, p->b->impi) == 0 && p->n_mine < DROP_MAX) {
        p->mine_created[p->n_mine] = r->created;
        p->mine[p->n_mine++] = id;
        id = NULL;
    }
    free(id);
    bsf_db_btid_free(r);
    return 0;
}

int bsf_db_btid_put(cmn_store *s, const Tep__GbaBootstrap *b)
{
    prune_ctx p = {.b = b};
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc == 0)
        rc = cmn_txn_foreach(t, BSF_BTIDS_DB, NULL, 0, prune_scan, &p);
    for (size_t i = 0; rc == 0 && i < p.n_expired; i++)
        rc = cmn_txn_del(t, BSF_BTIDS_DB, p.expired[i], strlen(p.expired[i]));
    /* the IMPI's oldest live ones go until the new one makes BSF_BTIDS_PER_IMPI */
    while (rc == 0 && p.n_mine >= BSF_BTIDS_PER_IMPI) {
        size_t old = 0;

        for (size_t i = 1; i < p.n_mine; i++)
            old = p.mine_created[i] < p.mine_created[old] ? i : old;
        rc = cmn_txn_del(t, BSF_BTIDS_DB, p.mine[old], strlen(p.mine[old]));
        free(p.mine[old]);
        p.mine[old] = p.mine[--p.n_mine];
        p.mine_created[old] = p.mine_created[p.n_mine];
    }
    if (rc == 0)
        rc =
            cmn_txn_put_msg(t, BSF_BTIDS_DB, b->btid, strlen(b->btid), (const ProtobufCMessage *)b);
    for (size_t i = 0; i < p.n_expired; i++)
        free(p.expired[i]);
    for (size_t i = 0; i < p.n_mine; i++)
        free(p.mine[i]);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

int bsf_db_btid_get(cmn_store *s, const char *btid, Tep__GbaBootstrap **ret)
{
    size_t n = btid != NULL ? strlen(btid) : 0;
    int rc;

    if (n == 0 || n > 300)
        return CMN_ENOTFOUND;
    rc = cmn_store_get_msg(s, BSF_BTIDS_DB, btid, n, &tep__gba_bootstrap__descriptor,
                           (ProtobufCMessage **)ret);
    if (rc == 0 && ((*ret)->ks.len != 32 || (*ret)->rand.len != CMN_MIL_RAND_LEN)) {
        bsf_db_btid_free(*ret);
        *ret = NULL;
        rc = CMN_ECORRUPT;
    }
    return rc;
}
