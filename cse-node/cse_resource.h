/* The resource tree of tep-cse in LMDB: db "resources" (key: structured CSE-relative
 * path, "tep-cse/ae1/cnt") holding tep.Resource, db "ri_index" (ri -> path), db
 * "children" (the child index: "<parent path>\0<rn>" -> big-endian u32 ty, so that
 * listing a resource's children costs what they are, not its subtree) and the
 * containers' age index (cse_container.h).
 * Resource.json is the full attribute object as answered (without the m2m:xx wrapper);
 * Resource.creator is the originator that created it. No sockets here: the request
 * logic and the tests call it directly. */
#ifndef TEP_CSE_RESOURCE_H
#define TEP_CSE_RESOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_store.h"
#include "cse_record.h" /* the records, their databases, cse_res_get/cse_res_free */
#include "tep.pb-c.h"

/* Schema of tep-cse's store: 1 without the child and age indexes, 2 with them, 3 with the
 * expiry index too. */
#define CSE_SCHEMA 3
/* The databases of the resource tree, for cmn_store_open's list. */
#define CSE_RES_DBS                                                                                \
    CSE_DB_RESOURCES, CSE_DB_RI_INDEX, CSE_DB_SUBS, CSE_DB_CHILDREN, CSE_DB_CIN_AGE, CSE_DB_EXPIRY

/* A store opened at an older schema (cmn_store_schema < CSE_SCHEMA) is brought to
 * CSE_SCHEMA in one transaction: every resource with an expirationTime into the expiry
 * index; from schema 1 also every resource into the child index, every contentInstance
 * into its container's age index in (ct, ri) order, each container's cni/cbs recounted. *ret_n (may be NULL): the contentInstances indexed. 0 and nothing
 * written when the store is current. */
int cse_res_migrate(cmn_store *st, size_t *ret_n);

/* cse_res_get (cse_record.h) by resource identifier (ri_index). */
int cse_res_get_by_ri(cmn_store *st, const char *ri, Tep__Resource **ret);

/* Maps a request's Uri-Path to a stored structured path (ret holds CSE_PATH_MAX):
 * CSE-relative structured "cse_name/..." ("-/..." for the CSEBase's name) or
 * unstructured "<ri>", SP-relative "~/<cse-id>/<CSE-relative>", absolute
 * "_/<SP-ID>/<cse-id>/<CSE-relative>" (TS-0008 6.2.2.3; any SP-ID: tep is one SP).
 * CMN_ENOTFOUND when nothing matches. */
int cse_res_resolve(cmn_store *st, const char *cse_id, const char *uri_path, char *ret);

/* Creates the CSEBase (ty 5, rn = cse_name, csi = cse_id) if the tree is empty. */
int cse_res_ensure_csebase(cmn_store *st, const char *cse_id, const char *cse_name, int64_t now);

/* The CSEBase's policy, [cse] csebase_pv: pv_json ("" = none) becomes the privileges of
 * the ACP <cse_name>/acp-csebase (created by admin, pvs admin only), the CSEBase's only
 * acpi; "" removes both. 0 or a negative code. */
#define CSE_RES_CSEBASE_ACP "acp-csebase"
int cse_res_csebase_policy(cmn_store *st, const char *cse_name, const char *admin,
                           const char *pv_json, int64_t now);

typedef struct {
    unsigned ty;            /* type to create */
    json_t *attrs;          /* validated attributes (cse_validate_create), borrowed */
    const char *originator; /* creator */
    const char *ae_id;      /* AE create only: the AE-ID (aei, ri) */
    int64_t now;
} cse_res_create_in;

/* Creates a child of parent. Returns the RSC: 2001 with *ret_new (caller frees),
 * 4108 wrong child type, 4105 name taken, 4117 AE-ID already registered, 4000 bad
 * acpi/et, 5000 store failure. The parent container's cni/cbs/st follow a CIN. */
unsigned cse_res_create(cmn_store *st, const Tep__Resource *parent, const cse_res_create_in *in,
                        Tep__Resource **ret_new);

/* Deletes r and its whole subtree. Returns 2002, 4005 for the CSEBase, 5000. */
unsigned cse_res_delete(cmn_store *st, const Tep__Resource *r, int64_t now);

/* Applies an UPDATE (attrs validated by cse_validate_update; null deletes): lt, et, the
 * container's st, the group's cnm follow. Returns 2004 with *ret_new (caller frees),
 * 4000 bad acpi/et, 5000 store failure. */
unsigned cse_res_update(cmn_store *st, const Tep__Resource *r, json_t *attrs, int64_t now,
                        Tep__Resource **ret_new);

/* Calls fn for each descendant of path (direct children only when direct_only), in
 * path order; r is borrowed for the call. A non-zero return stops the walk and is
 * returned. */
typedef int (*cse_res_visit_fn)(const Tep__Resource *r, void *arg);
int cse_res_walk(cmn_store *st, const char *path, bool direct_only, cse_res_visit_fn fn, void *arg);

/* Calls fn for each subscription whose parent is parent_path (through CSE_DB_SUBS, so
 * the cost follows the number of subscriptions, not the size of the subtree). */
int cse_res_subs_of(cmn_store *st, const char *parent_path, cse_res_visit_fn fn, void *arg);

/* True when r has an expiration time and it has passed. */
bool cse_res_expired(const Tep__Resource *r, int64_t now);
/* Deletes every expired resource (with its subtree); *ret_n: how many. Reads the expiry
 * index up to now: the cost follows what expires, not the size of the tree. */
int cse_res_expire(cmn_store *st, int64_t now, size_t *ret_n);

/* {"m2m:<ty>": json} as a malloc'd string (caller frees), NULL on failure. */
char *cse_res_render(const Tep__Resource *r);

/* Number of stored resources (STATUS). */
int cse_res_count(cmn_store *st, uint64_t *ret);

/* The AE-ID of the closest ancestor AE of path (itself included) or "" : ret holds 256. */
int cse_res_owner_ae(cmn_store *st, const char *path, char *ret, size_t len);

#endif
