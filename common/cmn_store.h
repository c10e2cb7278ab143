/* The LMDB store behind a small interface: one environment per daemon, one named
 * database per record kind, values are protobuf bytes. Every write call commits
 * (durably: no MDB_NOSYNC) before it returns 0. A store whose "meta/schema" is newer
 * than the caller's, or that LMDB cannot read, is refused (CMN_ESCHEMA / CMN_ECORRUPT)
 * and never overwritten. */
#ifndef TEP_CMN_STORE_H
#define TEP_CMN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

typedef struct cmn_store cmn_store;
typedef struct cmn_txn cmn_txn;

/* Opens (creating if absent) the environment in directory dir (created 0700) with the
 * named databases dbs[0..ndb-1] plus an internal "meta". schema: the caller's schema
 * version, written on creation. map_size 0 means 256 MiB. */
int cmn_store_open(const char *dir, const char *const *dbs, unsigned ndb, uint32_t schema,
                   size_t map_size, cmn_store **ret_store);
void cmn_store_close(cmn_store *s); /* NULL is fine */

/* Single-operation helpers, each its own committed transaction. */
int cmn_store_put(cmn_store *s, const char *db, const void *key, size_t klen, const void *val,
                  size_t vlen);
/* ret_val is malloc'd, owned by the caller: free with cmn_store_free_val (wipes it). */
int cmn_store_get(cmn_store *s, const char *db, const void *key, size_t klen, void **ret_val,
                  size_t *ret_len);
int cmn_store_del(cmn_store *s, const char *db, const void *key, size_t klen);
void cmn_store_free_val(void *val, size_t len);

/* Calls fn for every record whose key starts with prefix (plen 0: all), in key order,
 * inside one read transaction. fn returns 0 to go on, anything else stops and is
 * returned. Pointers are valid only during the call. */
typedef int (*cmn_store_iter_fn)(const void *key, size_t klen, const void *val, size_t vlen,
                                 void *arg);
int cmn_store_foreach(cmn_store *s, const char *db, const void *prefix, size_t plen,
                      cmn_store_iter_fn fn, void *arg);

/* Calls fn for every record whose key sorts before `before` (blen 0: every record),
 * newest key first (descending order), inside one read transaction; fn as for
 * cmn_store_foreach. A log read backwards from a cursor, one page at a time. */
int cmn_store_foreach_before(cmn_store *s, const char *db, const void *before, size_t blen,
                             cmn_store_iter_fn fn, void *arg);

/* Write transactions spanning several puts (e.g. record + event log + counter). */
int cmn_store_txn_begin(cmn_store *s, cmn_txn **ret_txn);
int cmn_txn_put(cmn_txn *t, const char *db, const void *key, size_t klen, const void *val,
                size_t vlen);
int cmn_txn_del(cmn_txn *t, const char *db, const void *key, size_t klen);
/* Reads inside the write transaction see its own puts; ret_val as cmn_store_get. */
int cmn_txn_get(cmn_txn *t, const char *db, const void *key, size_t klen, void **ret_val,
                size_t *ret_len);
int cmn_txn_commit(cmn_txn *t); /* frees t, durable on 0 */
void cmn_txn_abort(cmn_txn *t); /* frees t; NULL is fine */

/* Protobuf records. The packed bytes are wiped when freed (records may hold keys).
 * The getters unpack with d (e.g. &tep__credential__descriptor): CMN_ECORRUPT when the
 * bytes do not unpack; *ret is freed with protobuf_c_message_free_unpacked(*ret, NULL)
 * (or the type's own *_free_unpacked). */
int cmn_txn_put_msg(cmn_txn *t, const char *db, const void *key, size_t klen,
                    const ProtobufCMessage *m);
int cmn_store_put_msg(cmn_store *s, const char *db, const void *key, size_t klen,
                      const ProtobufCMessage *m);
int cmn_txn_get_msg(cmn_txn *t, const char *db, const void *key, size_t klen,
                    const ProtobufCMessageDescriptor *d, ProtobufCMessage **ret);
int cmn_store_get_msg(cmn_store *s, const char *db, const void *key, size_t klen,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **ret);

/* The first (last = 0) or last record whose key starts with prefix (plen > 0), through a
 * cursor: O(log n) whatever the number of records under the prefix (age indexes).
 * ret_key/ret_val are malloc'd copies owned by the caller (cmn_store_free_val); either may
 * be NULL when not wanted. CMN_ENOTFOUND when no key has the prefix. */
int cmn_store_edge(cmn_store *s, const char *db, const void *prefix, size_t plen, int last,
                   void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen);
int cmn_txn_edge(cmn_txn *t, const char *db, const void *prefix, size_t plen, int last,
                 void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen);
/* Deletes every record whose key starts with prefix (plen > 0); *ret_n (may be NULL):
 * how many. */
int cmn_txn_del_prefix(cmn_txn *t, const char *db, const void *prefix, size_t plen, size_t *ret_n);
/* Calls fn for every record whose key starts with prefix, inside the write transaction
 * (it sees the transaction's own writes). fn must not write to db. */
int cmn_txn_foreach(cmn_txn *t, const char *db, const void *prefix, size_t plen,
                    cmn_store_iter_fn fn, void *arg);

/* The schema version the store held when it was opened (the caller's on creation): a
 * caller whose schema is newer migrates, then records its own with cmn_txn_set_schema in
 * the migrating transaction. */
uint32_t cmn_store_schema(const cmn_store *s);
int cmn_txn_set_schema(cmn_txn *t, uint32_t schema);

/* Group commit. While a batch is open every write transaction is nested in it: its
 * cmn_txn_commit returns 0 once its writes are in the batch, NOT yet durable; reads
 * (cmn_store_get, _foreach, _edge) see the batch. cmn_store_batch_commit makes all of
 * them durable with one synchronous commit (none written: nothing to sync) and closes
 * the batch; on failure every write of the batch is lost. A caller acknowledges a write
 * only after the batch commit that holds it. */
int cmn_store_batch_begin(cmn_store *s);
int cmn_store_batch_commit(cmn_store *s);
/* True while a batch is open and holds writes not yet durable. */
int cmn_store_batch_dirty(const cmn_store *s);
/* Write transactions committed since the store was opened (in a batch or not): a caller
 * compares two readings to tell whether something wrote. */
uint64_t cmn_store_write_count(const cmn_store *s);
/* Durable (synchronous) commits made since the store was opened. */
uint64_t cmn_store_sync_count(const cmn_store *s);

/* Big-endian uint64 keys, so that LMDB's key order is numeric order (event logs). */
void cmn_store_u64_key(uint64_t v, uint8_t ret_key[8]);
uint64_t cmn_store_key_u64(const uint8_t key[8]);

#endif
