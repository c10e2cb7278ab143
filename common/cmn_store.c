/* The LMDB backend of cmn_store.h. One environment per daemon, MDB_NOTLS (read
 * transactions are tied to their object, not to a thread), synchronous commits. The
 * internal database "meta" holds "schema" (uint32, big-endian). */
#include "cmn_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define META_DB "meta"
#define SCHEMA_KEY "schema"
#define DEFAULT_MAP_SIZE ((size_t)256 << 20)

struct cmn_store {
    MDB_env *env;
    unsigned ndb;
    char **names;
    MDB_dbi *dbis;
    int in_txn;      /* a cmn_txn is open: single-op writes would deadlock on LMDB's lock */
    uint32_t schema; /* as stored when opened */
    MDB_txn *batch;  /* group commit: the open batch, NULL when none */
    MDB_txn *cur;    /* the open write transaction (nested in batch when there is one) */
    int batch_dirty; /* the batch holds committed nested writes */
    uint64_t writes; /* write transactions committed */
    uint64_t syncs;  /* durable commits */
};

struct cmn_txn {
    cmn_store *s;
    MDB_txn *txn;
};

static int map_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return CMN_ENOTFOUND;
    case MDB_KEYEXIST:
        return CMN_EEXIST;
    case MDB_BAD_VALSIZE:
        return CMN_EINVAL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_VERSION_MISMATCH:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
        return CMN_ECORRUPT;
    case ENOMEM:
        return CMN_ENOMEM;
    case EACCES:
    case ENOENT:
    case EIO:
    case ENOSPC:
    case EROFS:
        return CMN_EIO;
    default:
        return CMN_ESTORE;
    }
}

void cmn_store_u64_key(uint64_t v, uint8_t ret_key[8])
{
    for (int i = 7; i >= 0; i--) {
        ret_key[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t cmn_store_key_u64(const uint8_t key[8])
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | key[i];
    return v;
}

static int find_dbi(const cmn_store *s, const char *db, MDB_dbi *ret)
{
    if (s == NULL || db == NULL)
        return CMN_EINVAL;
    for (unsigned i = 0; i < s->ndb; i++) {
        if (strcmp(s->names[i], db) == 0) {
            *ret = s->dbis[i];
            return 0;
        }
    }
    return CMN_EINVAL;
}

/* Fresh environment: an empty main database. Anything else without "meta" is not ours. */
static int env_is_empty(MDB_txn *txn)
{
    MDB_stat st;
    MDB_dbi main_db;

    if (mdb_dbi_open(txn, NULL, 0, &main_db) != MDB_SUCCESS ||
        mdb_stat(txn, main_db, &st) != MDB_SUCCESS)
        return 0;
    return st.ms_entries == 0;
}

static int put_schema(MDB_txn *txn, uint32_t schema, unsigned flags)
{
    MDB_dbi meta;
    uint8_t be[4] = {(uint8_t)(schema >> 24), (uint8_t)(schema >> 16), (uint8_t)(schema >> 8),
                     (uint8_t)schema};
    MDB_val k = {sizeof(SCHEMA_KEY) - 1, (void *)SCHEMA_KEY}, v = {sizeof(be), be};
    int rc = mdb_dbi_open(txn, META_DB, MDB_CREATE, &meta);

    if (rc == MDB_SUCCESS)
        rc = mdb_put(txn, meta, &k, &v, flags);
    return map_mdb(rc);
}

static int write_schema(MDB_txn *txn, uint32_t schema)
{
    return put_schema(txn, schema, MDB_NOOVERWRITE);
}

/* Existing store: accept a schema up to the caller's; refuse newer or unreadable. */
static int check_schema(MDB_txn *txn, MDB_dbi meta, uint32_t schema, uint32_t *ret_stored)
{
    MDB_val k = {sizeof(SCHEMA_KEY) - 1, (void *)SCHEMA_KEY}, v;
    const uint8_t *b;
    uint32_t stored;
    int rc = mdb_get(txn, meta, &k, &v);

    if (rc == MDB_NOTFOUND)
        return CMN_ECORRUPT;
    if (rc != MDB_SUCCESS)
        return map_mdb(rc);
    if (v.mv_size != 4)
        return CMN_ECORRUPT;
    b = v.mv_data;
    stored = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    *ret_stored = stored;
    return stored > schema ? CMN_ESCHEMA : 0;
}

/* One write transaction: check or create meta, then open (creating) every database.
 * On refusal the transaction is aborted: nothing is ever written to a refused store. */
static int open_dbs(cmn_store *s, uint32_t schema)
{
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    int rc = map_mdb(mdb_txn_begin(s->env, NULL, 0, &txn));

    if (rc)
        return rc;
    s->schema = schema;
    rc = mdb_dbi_open(txn, META_DB, 0, &meta);
    if (rc == MDB_SUCCESS)
        rc = check_schema(txn, meta, schema, &s->schema);
    else if (rc == MDB_NOTFOUND)
        rc = env_is_empty(txn) ? write_schema(txn, schema) : CMN_ECORRUPT;
    else
        rc = map_mdb(rc);
    for (unsigned i = 0; rc == 0 && i < s->ndb; i++)
        rc = map_mdb(mdb_dbi_open(txn, s->names[i], MDB_CREATE, &s->dbis[i]));
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return map_mdb(mdb_txn_commit(txn));
}

static int make_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return CMN_EIO;
}

static int copy_names(cmn_store *s, const char *const *dbs, unsigned ndb)
{
    s->names = calloc(ndb ? ndb : 1, sizeof(*s->names));
    s->dbis = calloc(ndb ? ndb : 1, sizeof(*s->dbis));
    if (s->names == NULL || s->dbis == NULL)
        return CMN_ENOMEM;
    for (unsigned i = 0; i < ndb; i++) {
        if (dbs[i] == NULL || dbs[i][0] == '\0' || strcmp(dbs[i], META_DB) == 0)
            return CMN_EINVAL;
        s->names[i] = strdup(dbs[i]);
        if (s->names[i] == NULL)
            return CMN_ENOMEM;
        s->ndb = i + 1;
    }
    return 0;
}

int cmn_store_open(const char *dir, const char *const *dbs, unsigned ndb, uint32_t schema,
                   size_t map_size, cmn_store **ret_store)
{
    cmn_store *s = NULL;
    int rc;

    if (dir == NULL || ret_store == NULL || (ndb && dbs == NULL) || ndb > 1000)
        return CMN_EINVAL;
    *ret_store = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return CMN_ENOMEM;
    rc = copy_names(s, dbs, ndb);
    if (rc)
        goto out;
    rc = make_dir(dir);
    if (rc)
        goto out;
    rc = map_mdb(mdb_env_create(&s->env));
    if (rc)
        goto out;
    rc = map_mdb(mdb_env_set_maxdbs(s->env, (MDB_dbi)ndb + 1));
    if (rc == 0)
        rc = map_mdb(mdb_env_set_mapsize(s->env, map_size ? map_size : DEFAULT_MAP_SIZE));
    if (rc == 0)
        rc = map_mdb(mdb_env_open(s->env, dir, MDB_NOTLS, 0600));
    if (rc == 0)
        rc = open_dbs(s, schema);
out:
    if (rc) {
        cmn_store_close(s);
        return rc;
    }
    *ret_store = s;
    return 0;
}

void cmn_store_close(cmn_store *s)
{
    if (s == NULL)
        return;
    if (s->batch != NULL)
        mdb_txn_abort(s->batch); /* not committed: not acknowledged either */
    if (s->env != NULL)
        mdb_env_close(s->env);
    for (unsigned i = 0; i < s->ndb; i++)
        free(s->names[i]);
    free(s->names);
    free(s->dbis);
    free(s);
}

/* --- write transactions --- */

int cmn_store_txn_begin(cmn_store *s, cmn_txn **ret_txn)
{
    cmn_txn *t;
    int rc;

    if (s == NULL || ret_txn == NULL)
        return CMN_EINVAL;
    *ret_txn = NULL;
    if (s->in_txn)
        return CMN_ESTATE;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return CMN_ENOMEM;
    rc = map_mdb(mdb_txn_begin(s->env, s->batch, 0, &t->txn));
    if (rc) {
        free(t);
        return rc;
    }
    t->s = s;
    s->in_txn = 1;
    s->cur = t->txn;
    *ret_txn = t;
    return 0;
}

int cmn_txn_put(cmn_txn *t, const char *db, const void *key, size_t klen, const void *val,
                size_t vlen)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    MDB_dbi dbi;
    int rc;

    if (t == NULL || key == NULL || (val == NULL && vlen != 0))
        return CMN_EINVAL;
    rc = find_dbi(t->s, db, &dbi);
    return rc ? rc : map_mdb(mdb_put(t->txn, dbi, &k, &v, 0));
}

int cmn_txn_del(cmn_txn *t, const char *db, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    MDB_dbi dbi;
    int rc;

    if (t == NULL || key == NULL)
        return CMN_EINVAL;
    rc = find_dbi(t->s, db, &dbi);
    return rc ? rc : map_mdb(mdb_del(t->txn, dbi, &k, NULL));
}

static int copy_out(const MDB_val *v, void **ret_val, size_t *ret_len)
{
    void *copy = malloc(v->mv_size ? v->mv_size : 1);

    if (copy == NULL)
        return CMN_ENOMEM;
    memcpy(copy, v->mv_data, v->mv_size);
    *ret_val = copy;
    *ret_len = v->mv_size;
    return 0;
}

static int txn_get(cmn_store *s, MDB_txn *txn, const char *db, const void *key, size_t klen,
                   void **ret_val, size_t *ret_len)
{
    MDB_val k = {klen, (void *)key}, v;
    MDB_dbi dbi;
    int rc;

    if (key == NULL || ret_val == NULL || ret_len == NULL)
        return CMN_EINVAL;
    *ret_val = NULL;
    *ret_len = 0;
    rc = find_dbi(s, db, &dbi);
    if (rc == 0)
        rc = map_mdb(mdb_get(txn, dbi, &k, &v));
    return rc ? rc : copy_out(&v, ret_val, ret_len);
}

int cmn_txn_get(cmn_txn *t, const char *db, const void *key, size_t klen, void **ret_val,
                size_t *ret_len)
{
    if (t == NULL)
        return CMN_EINVAL;
    return txn_get(t->s, t->txn, db, key, klen, ret_val, ret_len);
}

int cmn_txn_commit(cmn_txn *t)
{
    int rc;

    if (t == NULL)
        return CMN_EINVAL;
    rc = map_mdb(mdb_txn_commit(t->txn));
    t->s->in_txn = 0;
    t->s->cur = NULL;
    if (rc == 0) {
        t->s->writes++;
        t->s->syncs += t->s->batch == NULL;
        t->s->batch_dirty |= t->s->batch != NULL;
    }
    free(t);
    return rc;
}

void cmn_txn_abort(cmn_txn *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->txn);
    t->s->in_txn = 0;
    t->s->cur = NULL;
    free(t);
}

/* --- single operations --- */

int cmn_store_put(cmn_store *s, const char *db, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc)
        return rc;
    rc = cmn_txn_put(t, db, key, klen, val, vlen);
    if (rc) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

int cmn_store_del(cmn_store *s, const char *db, const void *key, size_t klen)
{
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc)
        return rc;
    rc = cmn_txn_del(t, db, key, klen);
    if (rc) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

/* A transaction to read in: a read-only one of its own, or inside a batch the open
 * write transaction (so that reads see the batch's writes). */
static int read_begin(cmn_store *s, MDB_txn **ret)
{
    if (s->batch != NULL) {
        *ret = s->cur != NULL ? s->cur : s->batch;
        return 0;
    }
    return map_mdb(mdb_txn_begin(s->env, NULL, MDB_RDONLY, ret));
}

static void read_end(cmn_store *s, MDB_txn *txn)
{
    if (s->batch == NULL)
        mdb_txn_abort(txn);
}

int cmn_store_get(cmn_store *s, const char *db, const void *key, size_t klen, void **ret_val,
                  size_t *ret_len)
{
    MDB_txn *txn = NULL;
    int rc;

    if (s == NULL)
        return CMN_EINVAL;
    rc = read_begin(s, &txn);
    if (rc)
        return rc;
    rc = txn_get(s, txn, db, key, klen, ret_val, ret_len);
    read_end(s, txn);
    return rc;
}

int cmn_store_batch_begin(cmn_store *s)
{
    if (s == NULL || s->in_txn || s->batch != NULL)
        return CMN_ESTATE;
    s->batch_dirty = 0;
    return map_mdb(mdb_txn_begin(s->env, NULL, 0, &s->batch));
}

int cmn_store_batch_commit(cmn_store *s)
{
    MDB_txn *txn;
    int rc;

    if (s == NULL || s->in_txn || s->batch == NULL)
        return CMN_ESTATE;
    txn = s->batch;
    s->batch = NULL;
    if (!s->batch_dirty) {
        mdb_txn_abort(txn); /* nothing written: no sync */
        return 0;
    }
    s->batch_dirty = 0;
    rc = map_mdb(mdb_txn_commit(txn));
    s->syncs += rc == 0;
    return rc;
}

int cmn_store_batch_dirty(const cmn_store *s)
{
    return s != NULL && s->batch != NULL && s->batch_dirty;
}

uint64_t cmn_store_write_count(const cmn_store *s)
{
    return s != NULL ? s->writes : 0;
}

uint64_t cmn_store_sync_count(const cmn_store *s)
{
    return s != NULL ? s->syncs : 0;
}

void cmn_store_free_val(void *val, size_t len)
{
    cmn_free_secret(val, len);
}

static int iterate(MDB_cursor *cur, const void *prefix, size_t plen, cmn_store_iter_fn fn,
                   void *arg)
{
    MDB_val k = {plen, (void *)prefix}, v;
    int rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);

    while (rc == MDB_SUCCESS) {
        if (k.mv_size < plen || (plen > 0 && memcmp(k.mv_data, prefix, plen) != 0))
            return 0;
        rc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
        if (rc)
            return rc;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : map_mdb(rc);
}

typedef int (*walk_fn)(MDB_cursor *cur, const void *key, size_t klen, cmn_store_iter_fn fn,
                       void *arg);

/* walk with a cursor on db inside one read transaction. */
static int read_walk(cmn_store *s, const char *db, walk_fn walk, const void *key, size_t klen,
                     cmn_store_iter_fn fn, void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi dbi;
    int rc;

    if (fn == NULL || (key == NULL && klen != 0))
        return CMN_EINVAL;
    rc = find_dbi(s, db, &dbi);
    if (rc)
        return rc;
    rc = read_begin(s, &txn);
    if (rc)
        return rc;
    rc = map_mdb(mdb_cursor_open(txn, dbi, &cur));
    if (rc == 0)
        rc = walk(cur, key, klen, fn, arg);
    if (cur != NULL)
        mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}

int cmn_store_foreach(cmn_store *s, const char *db, const void *prefix, size_t plen,
                      cmn_store_iter_fn fn, void *arg)
{
    return read_walk(s, db, iterate, prefix, plen, fn, arg);
}

static int iterate_back(MDB_cursor *cur, const void *before, size_t blen, cmn_store_iter_fn fn,
                        void *arg)
{
    MDB_val k = {blen, (void *)before}, v;
    int rc = blen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND;

    /* SET_RANGE found the first key >= before: the one just before it comes first; none
     * (or no bound): the last key */
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return map_mdb(rc);
    rc = mdb_cursor_get(cur, &k, &v, rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
    while (rc == MDB_SUCCESS) {
        rc = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
        if (rc)
            return rc;
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    return rc == MDB_NOTFOUND ? 0 : map_mdb(rc);
}

int cmn_store_foreach_before(cmn_store *s, const char *db, const void *before, size_t blen,
                             cmn_store_iter_fn fn, void *arg)
{
    return read_walk(s, db, iterate_back, before, blen, fn, arg);
}

/* ---- cursors: edges, prefix deletes ------------------------------------------- */

static int has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
    return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

/* The key just past every key with the prefix: prefix with its last non-0xff byte + 1.
 * ret holds plen bytes; *ret_len 0 when there is none (all 0xff). */
static void past_prefix(const uint8_t *prefix, size_t plen, uint8_t *ret, size_t *ret_len)
{
    memcpy(ret, prefix, plen);
    while (plen > 0 && ret[plen - 1] == 0xff)
        plen--;
    if (plen > 0)
        ret[plen - 1]++;
    *ret_len = plen;
}

static int cursor_edge(MDB_cursor *cur, const void *prefix, size_t plen, int last, MDB_val *k,
                       MDB_val *v)
{
    uint8_t past[512];
    size_t pastlen = 0;
    int rc;

    if (!last) {
        *k = (MDB_val){plen, (void *)prefix};
        rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    } else {
        if (plen > sizeof(past))
            return CMN_EINVAL;
        past_prefix(prefix, plen, past, &pastlen);
        *k = (MDB_val){pastlen, past};
        rc = pastlen ? mdb_cursor_get(cur, k, v, MDB_SET_RANGE) : MDB_NOTFOUND;
        rc = mdb_cursor_get(cur, k, v, rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
    }
    if (rc != MDB_SUCCESS)
        return map_mdb(rc);
    return has_prefix(k, prefix, plen) ? 0 : CMN_ENOTFOUND;
}

static int txn_edge(cmn_store *s, MDB_txn *txn, const char *db, const void *prefix, size_t plen,
                    int last, void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_dbi dbi;
    void *kc = NULL;
    size_t kl = 0;
    int rc;

    if (prefix == NULL || plen == 0)
        return CMN_EINVAL;
    rc = find_dbi(s, db, &dbi);
    if (rc == 0)
        rc = map_mdb(mdb_cursor_open(txn, dbi, &cur));
    if (rc == 0)
        rc = cursor_edge(cur, prefix, plen, last, &k, &v);
    if (rc == 0 && ret_key != NULL)
        rc = copy_out(&k, &kc, &kl);
    if (rc == 0 && ret_val != NULL && (rc = copy_out(&v, ret_val, ret_vlen)) != 0)
        free(kc);
    if (rc == 0 && ret_key != NULL) {
        *ret_key = kc;
        *ret_klen = kl;
    }
    if (cur != NULL)
        mdb_cursor_close(cur);
    return rc;
}

int cmn_txn_edge(cmn_txn *t, const char *db, const void *prefix, size_t plen, int last,
                 void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen)
{
    if (t == NULL)
        return CMN_EINVAL;
    return txn_edge(t->s, t->txn, db, prefix, plen, last, ret_key, ret_klen, ret_val, ret_vlen);
}

int cmn_store_edge(cmn_store *s, const char *db, const void *prefix, size_t plen, int last,
                   void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen)
{
    MDB_txn *txn = NULL;
    int rc;

    if (s == NULL)
        return CMN_EINVAL;
    rc = read_begin(s, &txn);
    if (rc)
        return rc;
    rc = txn_edge(s, txn, db, prefix, plen, last, ret_key, ret_klen, ret_val, ret_vlen);
    read_end(s, txn);
    return rc;
}

int cmn_txn_del_prefix(cmn_txn *t, const char *db, const void *prefix, size_t plen, size_t *ret_n)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {plen, (void *)prefix}, v;
    MDB_dbi dbi;
    size_t n = 0;
    int rc;

    if (t == NULL || prefix == NULL || plen == 0)
        return CMN_EINVAL;
    rc = find_dbi(t->s, db, &dbi);
    if (rc == 0)
        rc = map_mdb(mdb_cursor_open(t->txn, dbi, &cur));
    if (rc)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && has_prefix(&k, prefix, plen)) {
        rc = mdb_cursor_del(cur, 0);
        if (rc == MDB_SUCCESS) {
            n++;
            k = (MDB_val){plen, (void *)prefix};
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        }
    }
    mdb_cursor_close(cur);
    if (ret_n != NULL)
        *ret_n = n;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? 0 : map_mdb(rc);
}

int cmn_txn_foreach(cmn_txn *t, const char *db, const void *prefix, size_t plen,
                    cmn_store_iter_fn fn, void *arg)
{
    MDB_cursor *cur = NULL;
    MDB_dbi dbi;
    int rc;

    if (t == NULL || fn == NULL || (prefix == NULL && plen != 0))
        return CMN_EINVAL;
    rc = find_dbi(t->s, db, &dbi);
    if (rc == 0)
        rc = map_mdb(mdb_cursor_open(t->txn, dbi, &cur));
    if (rc == 0)
        rc = iterate(cur, prefix, plen, fn, arg);
    if (cur != NULL)
        mdb_cursor_close(cur);
    return rc;
}

uint32_t cmn_store_schema(const cmn_store *s)
{
    return s != NULL ? s->schema : 0;
}

int cmn_txn_set_schema(cmn_txn *t, uint32_t schema)
{
    return t != NULL ? put_schema(t->txn, schema, 0) : CMN_EINVAL;
}

/* ---- protobuf records ---------------------------------------------------------- */

static int pack(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);

    if (buf == NULL)
        return CMN_ENOMEM;
    protobuf_c_message_pack(m, buf);
    *ret = buf;
    *ret_len = len;
    return 0;
}

int cmn_txn_put_msg(cmn_txn *t, const char *db, const void *key, size_t klen,
                    const ProtobufCMessage *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = pack(m, &buf, &len);

    if (rc == 0)
        rc = cmn_txn_put(t, db, key, klen, buf, len);
    cmn_free_secret(buf, len);
    return rc;
}

int cmn_store_put_msg(cmn_store *s, const char *db, const void *key, size_t klen,
                      const ProtobufCMessage *m)
{
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc == 0)
        rc = cmn_txn_put_msg(t, db, key, klen, m);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

/* rc: the get's result; unpacks val (len bytes) with d, then wipes and frees val. */
static int unpack(int rc, const ProtobufCMessageDescriptor *d, void *val, size_t len,
                  ProtobufCMessage **ret)
{
    if (rc == 0 && (*ret = protobuf_c_message_unpack(d, NULL, len, val)) == NULL)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    return rc;
}

int cmn_txn_get_msg(cmn_txn *t, const char *db, const void *key, size_t klen,
                    const ProtobufCMessageDescriptor *d, ProtobufCMessage **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    *ret = NULL;
    rc = cmn_txn_get(t, db, key, klen, &val, &len); /* before val/len are passed on */
    return unpack(rc, d, val, len, ret);
}

int cmn_store_get_msg(cmn_store *s, const char *db, const void *key, size_t klen,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    *ret = NULL;
    rc = cmn_store_get(s, db, key, klen, &val, &len);
    return unpack(rc, d, val, len, ret);
}
