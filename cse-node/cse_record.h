/* One resource of tep-cse's tree as it lies in LMDB: its record in db "resources" (key:
 * the structured CSE-relative path, "tep-cse/ae1/cnt"; value tep.Resource) and its
 * entries in the indexes, "ri_index" (ri -> path), "children" ("<parent path>\0<rn>" ->
 * big-endian u32 ty) and "subscriptions". The leaf under the tree operations
 * (cse_resource.h) and the containers' age index (cse_container.h), which both write
 * records inside their transactions. */
#ifndef TEP_CSE_RECORD_H
#define TEP_CSE_RECORD_H

#include <stddef.h>

#include "cmn_store.h"
#include "tep.pb-c.h"

#define CSE_DB_RESOURCES "resources"
#define CSE_DB_RI_INDEX "ri_index"
/* subscription path -> the path of the resource it watches (its parent) */
#define CSE_DB_SUBS "subscriptions"
#define CSE_DB_CHILDREN "children"
#define CSE_DB_CIN_AGE "cin_age" /* see cse_container.h */
#define CSE_PATH_MAX 1024

/* Reads the resource at path; *ret owned by the caller (cse_res_free). CMN_ENOTFOUND. */
int cse_res_get(cmn_store *st, const char *path, Tep__Resource **ret);
void cse_res_free(Tep__Resource *r); /* NULL is fine */
/* A record's bytes as read from "resources"; *ret as cse_res_get. CMN_ECORRUPT. */
int cse_res_unpack(const void *val, size_t len, Tep__Resource **ret);

/* Inside a write transaction (cse_resource.c, cse_container.c): read, write (record, ri,
 * child and subscription indexes) and drop one leaf resource (record, ri and child
 * index). */
int cse_res_txn_get(cmn_txn *t, const char *path, Tep__Resource **ret);
int cse_res_txn_put(cmn_txn *t, const Tep__Resource *r);
int cse_res_txn_drop(cmn_txn *t, const char *path, const char *ri);

#endif
