/* One resource of tep-cse's tree as it lies in LMDB: its record in db "resources" (key:
 * the structured CSE-relative path, "tep-cse/ae1/cnt"; value tep.Resource) and its
 * entries in the indexes, "ri_index" (ri -> path), "children" ("<parent path>\0<rn>" ->
 * big-endian u32 ty), "subscriptions" and "expiry". The leaf under the tree operations
 * (cse_resource.h) and the containers' age index (cse_container.h), which both write
 * records inside their transactions. */
#ifndef TEP_CSE_RECORD_H
#define TEP_CSE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_store.h"
#include "tep.pb-c.h"

#define CSE_DB_RESOURCES "resources"
#define CSE_DB_RI_INDEX "ri_index"
/* subscription path -> the path of the resource it watches (its parent) */
#define CSE_DB_SUBS "subscriptions"
#define CSE_DB_CHILDREN "children"
#define CSE_DB_CIN_AGE "cin_age" /* see cse_container.h */
/* resources by expirationTime: key = et (Unix seconds, 8 bytes big-endian, so keys sort
 * by time) then the path; a resource without et (never expires) has no entry */
#define CSE_DB_EXPIRY "expiry"
#define CSE_PATH_MAX 1024

/* Reads the resource at path; *ret owned by the caller (cse_res_free). CMN_ENOTFOUND. */
int cse_res_get(cmn_store *st, const char *path, Tep__Resource **ret);
void cse_res_free(Tep__Resource *r); /* NULL is fine */
/* A record's bytes as read from "resources"; *ret as cse_res_get. CMN_ECORRUPT. */
int cse_res_unpack(const void *val, size_t len, Tep__Resource **ret);

/* Inside a write transaction (cse_resource.c, cse_container.c): read, write (record, ri,
 * child, subscription and expiry indexes) and drop one leaf resource (record, ri, child
 * and expiry index; et: its expirationTime, 0 none, -1 unknown: read from the record). */
int cse_res_txn_get(cmn_txn *t, const char *path, Tep__Resource **ret);
int cse_res_txn_put(cmn_txn *t, const Tep__Resource *r);
int cse_res_txn_drop(cmn_txn *t, const char *path, const char *ri, int64_t et);
/* The expiry index alone: r's entry (none when r has no et; a migrating store), and the
 * entry of (et, path) removed (none is fine). */
int cse_res_txn_index_expiry(cmn_txn *t, const Tep__Resource *r);
int cse_res_txn_unindex_expiry(cmn_txn *t, int64_t et, const char *path);
/* The et of an expiry index key (the path follows its first 8 bytes); -1 when klen is
 * too short to be one. */
int64_t cse_res_expiry_key_et(const void *key, size_t klen);

#endif
