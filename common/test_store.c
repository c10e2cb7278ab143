/* cmn_store: durable records, transactions, prefix iteration, and the refusals a
 * daemon relies on to never damage a store it does not understand. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "cmn_err.h"
#include "cmn_store.h"
#include "tep.pb-c.h"
#include "tst.h"

static const char *const dbs[] = {"enrolees", "events"};
static char dir[64];

static int setup(void **state)
{
    (void)state;
    if (tst_tmpdir("store", dir, sizeof(dir) - 3) != 0)
        return -1;
    strcat(dir, "/db"); /* not existing yet: cmn_store_open creates it */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dir[strlen(dir) - 3] = '\0'; /* the temporary directory above "/db" */
    return tst_rmtree(dir);
}

static cmn_store *open_ok(uint32_t schema)
{
    cmn_store *s = NULL;

    assert_int_equal(cmn_store_open(dir, dbs, 2, schema, 0, &s), 0);
    assert_non_null(s);
    return s;
}

static void assert_get(cmn_store *s, const char *db, const char *key, const char *expect)
{
    void *val = NULL;
    size_t len = 0;

    assert_int_equal(cmn_store_get(s, db, key, strlen(key), &val, &len), 0);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(val, expect, len);
    cmn_store_free_val(val, len);
}

static void test_put_get_del_persist(void **state)
{
    cmn_store *s = open_ok(1);
    struct stat st;
    void *val = (void *)1;
    size_t len = 1;
    (void)state;

    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(cmn_store_put(s, "enrolees", "device01", 8, "rec-1", 5), 0);
    assert_int_equal(cmn_store_put(s, "enrolees", "device01", 8, "rec-2", 5), 0); /* replace */
    assert_int_equal(cmn_store_put(s, "events", "device01", 8, "", 0), 0);
    assert_get(s, "enrolees", "device01", "rec-2");
    assert_get(s, "events", "device01", "");
    assert_int_equal(cmn_store_get(s, "enrolees", "nobody", 6, &val, &len), CMN_ENOTFOUND);
    assert_null(val);
    assert_int_equal(len, 0);
    cmn_store_close(s);

    s = open_ok(1);
    assert_get(s, "enrolees", "device01", "rec-2");
    assert_int_equal(cmn_store_del(s, "enrolees", "device01", 8), 0);
    assert_int_equal(cmn_store_del(s, "enrolees", "device01", 8), CMN_ENOTFOUND);
    assert_int_equal(cmn_store_get(s, "enrolees", "device01", 8, &val, &len), CMN_ENOTFOUND);
    cmn_store_close(s);
    cmn_store_close(NULL);
}

/* Protobuf records: a put/get round trip, in and out of a transaction; bytes that do
 * not unpack are CMN_ECORRUPT (never a half-filled record); a missing key CMN_ENOTFOUND
 * with *ret NULL. */
static void test_msg_records(void **state)
{
    cmn_store *s = open_ok(1);
    Tep__Enrolee in = TEP__ENROLEE__INIT, *out = NULL;
    cmn_txn *t = NULL;
    (void)state;

    in.kpm_id = "device01";
    in.enrolee_id = "Cdevice01";
    in.expires = 4102444800;
    assert_int_equal(cmn_store_put_msg(s, "enrolees", "device01", 8, &in.base), 0);
    assert_int_equal(cmn_store_get_msg(s, "enrolees", "device01", 8, &tep__enrolee__descriptor,
                                       (ProtobufCMessage **)&out),
                     0);
    assert_string_equal(out->enrolee_id, "Cdevice01");
    assert_int_equal(out->expires, 4102444800);
    tep__enrolee__free_unpacked(out, NULL);

    in.enrolee_id = "Cdevice02";
    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_put_msg(t, "enrolees", "device02", 8, &in.base), 0);
    assert_int_equal(cmn_txn_get_msg(t, "enrolees", "device02", 8, &tep__enrolee__descriptor,
                                     (ProtobufCMessage **)&out),
                     0);
    assert_string_equal(out->enrolee_id, "Cdevice02");
    tep__enrolee__free_unpacked(out, NULL);
    assert_int_equal(cmn_txn_commit(t), 0);

    out = (Tep__Enrolee *)1;
    assert_int_equal(cmn_store_get_msg(s, "enrolees", "nobody", 6, &tep__enrolee__descriptor,
                                       (ProtobufCMessage **)&out),
                     CMN_ENOTFOUND);
    assert_null(out);
    /* field 1, length-delimited, length 9 with only 1 byte after it */
    assert_int_equal(cmn_store_put(s, "enrolees", "broken", 6, "\x0a\x09x", 3), 0);
    assert_int_equal(cmn_store_get_msg(s, "enrolees", "broken", 6, &tep__enrolee__descriptor,
                                       (ProtobufCMessage **)&out),
                     CMN_ECORRUPT);
    assert_null(out);
    cmn_store_close(s);
}

static void test_bad_arguments(void **state)
{
    static const char *const with_meta[] = {"meta"};
    cmn_store *s = NULL;
    char big[600];
    (void)state;

    assert_int_equal(cmn_store_open(dir, with_meta, 1, 1, 0, &s), CMN_EINVAL);
    assert_null(s);
    s = open_ok(1);
    assert_int_equal(cmn_store_put(s, "nosuchdb", "k", 1, "v", 1), CMN_EINVAL);
    assert_int_equal(cmn_store_put(s, "meta", "schema", 6, "v", 1), CMN_EINVAL);
    assert_int_equal(cmn_store_put(s, "events", "", 0, "v", 1), CMN_EINVAL);
    memset(big, 'k', sizeof(big));
    assert_int_equal(cmn_store_put(s, "events", big, sizeof(big), "v", 1), CMN_EINVAL);
    cmn_store_close(s);
}

static void test_transactions(void **state)
{
    cmn_store *s = open_ok(1);
    cmn_txn *t = NULL, *t2 = (cmn_txn *)1;
    void *val = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_put(t, "enrolees", "a", 1, "A", 1), 0);
    assert_int_equal(cmn_txn_put(t, "events", "1", 1, "E", 1), 0);
    assert_int_equal(cmn_txn_get(t, "enrolees", "a", 1, &val, &len), 0); /* sees its own put */
    assert_memory_equal(val, "A", 1);
    cmn_store_free_val(val, len);
    /* another writer in the same thread would deadlock: refused instead */
    assert_int_equal(cmn_store_txn_begin(s, &t2), CMN_ESTATE);
    assert_null(t2);
    assert_int_equal(cmn_store_put(s, "events", "2", 1, "E", 1), CMN_ESTATE);
    /* readers outside the transaction do not see it before the commit */
    assert_int_equal(cmn_store_get(s, "enrolees", "a", 1, &val, &len), CMN_ENOTFOUND);
    assert_int_equal(cmn_txn_commit(t), 0);
    assert_get(s, "enrolees", "a", "A");
    assert_get(s, "events", "1", "E");

    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_put(t, "enrolees", "b", 1, "B", 1), 0);
    assert_int_equal(cmn_txn_del(t, "enrolees", "a", 1), 0);
    cmn_txn_abort(t);
    cmn_txn_abort(NULL);
    assert_get(s, "enrolees", "a", "A");
    assert_int_equal(cmn_store_get(s, "enrolees", "b", 1, &val, &len), CMN_ENOTFOUND);
    cmn_store_close(s);
}

struct seen {
    char keys[8][16];
    int n;
    int stop_at;
};

static int collect(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct seen *seen = arg;

    (void)val;
    (void)vlen;
    if (seen->n == seen->stop_at)
        return 42;
    snprintf(seen->keys[seen->n++], 16, "%.*s", (int)klen, (const char *)key);
    return 0;
}

static void test_foreach_prefix(void **state)
{
    cmn_store *s = open_ok(1);
    const char *keys[] = {"ae/2", "acp/1", "ae/1", "aex", "b"};
    struct seen seen = {.stop_at = -1};
    (void)state;

    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cmn_store_put(s, "enrolees", keys[i], strlen(keys[i]), "v", 1), 0);
    assert_int_equal(cmn_store_foreach(s, "enrolees", "ae/", 3, collect, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.keys[0], "ae/1");
    assert_string_equal(seen.keys[1], "ae/2");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach(s, "enrolees", NULL, 0, collect, &seen), 0);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.keys[0], "acp/1");
    assert_string_equal(seen.keys[4], "b");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = 1;
    assert_int_equal(cmn_store_foreach(s, "enrolees", NULL, 0, collect, &seen), 42);
    assert_int_equal(seen.n, 1);

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach(s, "events", "zz", 2, collect, &seen), 0);
    assert_int_equal(seen.n, 0);
    cmn_store_close(s);
}

/* Backwards from a bound: every key before it, newest first; none (blen 0) = from the
 * last key; stopping early as foreach does. */
static void test_foreach_before(void **state)
{
    cmn_store *s = open_ok(1);
    const char *keys[] = {"b", "d", "a", "c"};
    struct seen seen = {.stop_at = -1};
    (void)state;

    assert_int_equal(cmn_store_foreach_before(s, "events", NULL, 0, collect, &seen), 0);
    assert_int_equal(seen.n, 0); /* an empty database */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cmn_store_put(s, "events", keys[i], 1, "v", 1), 0);
    assert_int_equal(cmn_store_foreach_before(s, "events", NULL, 0, collect, &seen), 0);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.keys[0], "d");
    assert_string_equal(seen.keys[3], "a");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach_before(s, "events", "c", 1, collect, &seen), 0);
    assert_int_equal(seen.n, 2); /* "c" itself is not before "c" */
    assert_string_equal(seen.keys[0], "b");
    assert_string_equal(seen.keys[1], "a");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach_before(s, "events", "bb", 2, collect, &seen), 0);
    assert_int_equal(seen.n, 2); /* a bound between keys */
    assert_string_equal(seen.keys[0], "b");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach_before(s, "events", "z", 1, collect, &seen), 0);
    assert_int_equal(seen.n, 4); /* a bound past every key */
    assert_string_equal(seen.keys[0], "d");

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = -1;
    assert_int_equal(cmn_store_foreach_before(s, "events", "a", 1, collect, &seen), 0);
    assert_int_equal(seen.n, 0); /* nothing before the first key */

    memset(&seen, 0, sizeof(seen));
    seen.stop_at = 1;
    assert_int_equal(cmn_store_foreach_before(s, "events", NULL, 0, collect, &seen), 42);
    assert_int_equal(seen.n, 1);
    assert_int_equal(cmn_store_foreach_before(s, "events", NULL, 1, collect, &seen), CMN_EINVAL);
    cmn_store_close(s);
}

struct u64_order {
    uint64_t got[5];
    int n;
};

static int by_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    struct u64_order *order = arg;

    (void)val;
    (void)vlen;
    if (klen != 8 || order->n >= 5)
        return -1;
    order->got[order->n++] = cmn_store_key_u64(key);
    return 0;
}

static void put_s(cmn_store *s, const char *k, size_t klen, const char *v)
{
    assert_int_equal(cmn_store_put(s, "events", k, klen, v, strlen(v)), 0);
}

static void assert_edge(cmn_store *s, cmn_txn *t, const void *prefix, size_t plen, int last,
                        const char *want)
{
    void *val = NULL;
    size_t vlen = 0;
    int rc = t != NULL ? cmn_txn_edge(t, "events", prefix, plen, last, NULL, NULL, &val, &vlen)
                       : cmn_store_edge(s, "events", prefix, plen, last, NULL, NULL, &val, &vlen);

    if (want == NULL) {
        assert_int_equal(rc, CMN_ENOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(vlen, strlen(want));
    assert_memory_equal(val, want, vlen);
    cmn_store_free_val(val, vlen);
}

/* The first and last key under a prefix, from a cursor: also when the prefix ends in
 * 0xff bytes or is the last one in the database, and never a neighbour's key. */
static void test_edges_and_prefix_delete(void **state)
{
    cmn_store *s = open_ok(1);
    cmn_txn *t = NULL;
    size_t n = 0;

    (void)state;
    put_s(s, "a\0\x01", 3, "a1");
    put_s(s, "a\0\x07", 3, "a7");
    put_s(s, "a2\0\x01", 4, "a2-1");
    put_s(s, "b\xff\x01", 3, "bff1");
    put_s(s, "b\xff\xff", 3, "bffff");
    assert_edge(s, NULL, "a", 2, 0, "a1");
    assert_edge(s, NULL, "a", 2, 1, "a7");
    assert_edge(s, NULL, "a2", 3, 1, "a2-1");
    assert_edge(s, NULL, "b\xff", 2, 0, "bff1");
    assert_edge(s, NULL, "b\xff", 2, 1, "bffff");
    assert_edge(s, NULL, "c", 2, 1, NULL);
    assert_edge(s, NULL, "0", 2, 0, NULL);
    assert_edge(s, NULL, "a3", 3, 0, NULL);
    assert_int_equal(cmn_store_edge(s, "events", "", 0, 0, NULL, NULL, NULL, NULL), CMN_EINVAL);
    /* inside a write transaction: its own writes count, and a prefix delete is exact */
    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_put(t, "events", "a\0\x09", 3, "a9", 2), 0);
    assert_edge(s, t, "a", 2, 1, "a9");
    assert_int_equal(cmn_txn_del_prefix(t, "events", "a", 2, &n), 0);
    assert_int_equal(n, 3);
    assert_edge(s, t, "a", 2, 0, NULL);
    assert_edge(s, t, "a2", 3, 0, "a2-1");
    assert_int_equal(cmn_txn_commit(t), 0);
    assert_edge(s, NULL, "a", 2, 1, NULL);
    assert_edge(s, NULL, "b\xff", 2, 1, "bffff");
    cmn_store_close(s);
}

/* The schema a store held when opened, and a migration raising it. */
static void test_schema_migration(void **state)
{
    cmn_store *s = open_ok(1);
    cmn_txn *t = NULL;

    (void)state;
    assert_int_equal(cmn_store_schema(s), 1);
    cmn_store_close(s);
    s = open_ok(3);
    assert_int_equal(cmn_store_schema(s), 1); /* older: the caller migrates */
    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_set_schema(t, 3), 0);
    assert_int_equal(cmn_txn_commit(t), 0);
    cmn_store_close(s);
    s = open_ok(3);
    assert_int_equal(cmn_store_schema(s), 3);
    cmn_store_close(s);
    assert_int_equal(cmn_store_open(dir, dbs, 2, 2, 0, &s), CMN_ESCHEMA);
}

static int has(cmn_store *s, const char *key)
{
    void *v = NULL;
    size_t n = 0;
    int rc = cmn_store_get(s, "events", key, strlen(key), &v, &n);

    cmn_store_free_val(v, n);
    return rc == 0;
}

/* Group commit: writes in a batch are seen by reads, durable only with the batch
 * commit (one sync for all), lost with the store closed before it; a nested abort drops
 * only its own writes. */
static void test_batch_group_commit(void **state)
{
    cmn_store *s = open_ok(1);
    cmn_txn *t = NULL;
    uint64_t w0, s0;

    (void)state;
    w0 = cmn_store_write_count(s);
    s0 = cmn_store_sync_count(s);
    assert_int_equal(cmn_store_batch_begin(s), 0);
    assert_int_equal(cmn_store_batch_begin(s), CMN_ESTATE);
    assert_false(cmn_store_batch_dirty(s));
    assert_int_equal(cmn_store_put(s, "events", "k1", 2, "v1", 2), 0);
    assert_int_equal(cmn_store_put(s, "events", "k2", 2, "v2", 2), 0);
    assert_true(cmn_store_batch_dirty(s));
    assert_true(has(s, "k1") && has(s, "k2"));
    assert_int_equal(cmn_store_txn_begin(s, &t), 0);
    assert_int_equal(cmn_txn_put(t, "events", "k3", 2, "v3", 2), 0);
    cmn_txn_abort(t);
    assert_false(has(s, "k3"));
    assert_int_equal(cmn_store_write_count(s) - w0, 2);
    assert_int_equal(cmn_store_sync_count(s), s0); /* nothing durable yet */
    assert_int_equal(cmn_store_batch_commit(s), 0);
    assert_int_equal(cmn_store_sync_count(s) - s0, 1); /* two writes, one sync */
    assert_int_equal(cmn_store_batch_commit(s), CMN_ESTATE);
    /* an empty batch syncs nothing */
    assert_int_equal(cmn_store_batch_begin(s), 0);
    assert_int_equal(cmn_store_batch_commit(s), 0);
    assert_int_equal(cmn_store_sync_count(s) - s0, 1);
    /* a batch never committed is lost */
    assert_int_equal(cmn_store_batch_begin(s), 0);
    assert_int_equal(cmn_store_put(s, "events", "k4", 2, "v4", 2), 0);
    cmn_store_close(s);
    s = open_ok(1);
    assert_true(has(s, "k1") && has(s, "k2"));
    assert_false(has(s, "k4"));
    /* outside a batch every write is its own durable commit */
    s0 = cmn_store_sync_count(s);
    assert_int_equal(cmn_store_put(s, "events", "k5", 2, "v5", 2), 0);
    assert_int_equal(cmn_store_sync_count(s) - s0, 1);
    cmn_store_close(s);
}

static void test_u64_keys_sort_numerically(void **state)
{
    cmn_store *s = open_ok(1);
    uint64_t nums[] = {256, 1, UINT64_MAX, 255, 65536};
    struct u64_order order = {{0}, 0};
    uint8_t k[8];
    (void)state;

    cmn_store_u64_key(0x0102030405060708ULL, k);
    assert_memory_equal(k, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(cmn_store_key_u64(k) == 0x0102030405060708ULL);
    for (size_t i = 0; i < 5; i++) {
        cmn_store_u64_key(nums[i], k);
        assert_int_equal(cmn_store_put(s, "events", k, 8, "e", 1), 0);
    }
    assert_int_equal(cmn_store_foreach(s, "events", NULL, 0, by_key, &order), 0);
    assert_int_equal(order.n, 5);
    assert_true(order.got[0] == 1 && order.got[1] == 255 && order.got[2] == 256 &&
                order.got[3] == 65536 && order.got[4] == UINT64_MAX);
    cmn_store_close(s);
}

/* Reads the whole data file, to prove a refused store was not written to. */
static char *slurp(size_t *ret_len)
{
    char p[128];
    FILE *f;
    char *buf;
    long n;

    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

static void test_newer_schema_refused_untouched(void **state)
{
    cmn_store *s = open_ok(3);
    size_t l1, l2;
    char *before, *after;
    (void)state;

    assert_int_equal(cmn_store_put(s, "enrolees", "k", 1, "v", 1), 0);
    cmn_store_close(s);
    before = slurp(&l1);
    s = (cmn_store *)1;
    assert_int_equal(cmn_store_open(dir, dbs, 2, 2, 0, &s), CMN_ESCHEMA);
    assert_null(s);
    after = slurp(&l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(before, after, l1);
    free(before);
    free(after);

    s = open_ok(4); /* an older store opens with a newer program */
    assert_get(s, "enrolees", "k", "v");
    cmn_store_close(s);
    s = open_ok(3); /* and the stored schema was not bumped by that */
    cmn_store_close(s);
}

static void test_garbage_file_is_corrupt(void **state)
{
    char p[128];
    FILE *f;
    char junk[8192];
    cmn_store *s = NULL;
    size_t len;
    char *after;
    (void)state;

    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    f = fopen(p, "wb");
    assert_non_null(f);
    memset(junk, 'J', sizeof(junk));
    fwrite(junk, 1, sizeof(junk), f);
    fclose(f);
    assert_int_equal(cmn_store_open(dir, dbs, 2, 1, 0, &s), CMN_ECORRUPT);
    assert_null(s);
    after = slurp(&len);
    assert_int_equal(len, sizeof(junk));
    assert_memory_equal(after, junk, len);
    free(after);
}

/* An LMDB environment that holds data but no "meta" is somebody else's. */
static void test_foreign_env_is_corrupt(void **state)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {3, "foo"}, v = {3, "bar"};
    cmn_store *s = NULL;
    (void)state;

    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    assert_int_equal(cmn_store_open(dir, dbs, 2, 1, 0, &s), CMN_ECORRUPT);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_del_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msg_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_u64_keys_sort_numerically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edges_and_prefix_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_env_is_corrupt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
