/* One resource's record and its index entries (see cse_record.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_record.h"

int cse_res_unpack(const void *val, size_t len, Tep__Resource **ret)
{
    *ret = tep__resource__unpack(NULL, len, val);
    return *ret != NULL ? 0 : CMN_ECORRUPT;
}

int cse_res_get(cmn_store *st, const char *path, Tep__Resource **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    *ret = NULL;
    rc = cmn_store_get(st, CSE_DB_RESOURCES, path, strlen(path), &val, &len);
    if (rc != 0)
        return rc;
    rc = cse_res_unpack(val, len, ret);
    cmn_store_free_val(val, len);
    return rc;
}

void cse_res_free(Tep__Resource *r)
{
    if (r != NULL)
        tep__resource__free_unpacked(r, NULL);
}

/* The child index key of path ("<parent>\0<rn>", ret holds CSE_PATH_MAX): its length,
 * 0 for the CSEBase (no parent). */
static size_t child_key(const char *path, char *ret)
{
    const char *slash = strrchr(path, '/');
    size_t n = strlen(path);

    if (slash == NULL || n >= CSE_PATH_MAX)
        return 0;
    memcpy(ret, path, n);
    ret[slash - path] = '\0';
    return n;
}

#define EXPIRY_KEY_MAX (8 + CSE_PATH_MAX)

/* The expiry index key of (et, path) into ret (EXPIRY_KEY_MAX): its length, 0 when
 * none (no et, or a path too long to be stored). */
static size_t expiry_key(int64_t et, const char *path, uint8_t *ret)
{
    size_t n = strlen(path);

    if (et <= 0 || n >= CSE_PATH_MAX)
        return 0;
    for (int i = 0; i < 8; i++)
        ret[i] = (uint8_t)((uint64_t)et >> (56 - 8 * i));
    memcpy(ret + 8, path, n);
    return 8 + n;
}

int64_t cse_res_expiry_key_et(const void *key, size_t klen)
{
    const uint8_t *k = key;
    uint64_t et = 0;

    if (klen <= 8)
        return -1;
    for (int i = 0; i < 8; i++)
        et = et << 8 | k[i];
    return (int64_t)et;
}

int cse_res_txn_index_expiry(cmn_txn *t, const Tep__Resource *r)
{
    uint8_t ek[EXPIRY_KEY_MAX];
    size_t eklen = expiry_key(r->et, r->path, ek);

    return eklen > 0 ? cmn_txn_put(t, CSE_DB_EXPIRY, ek, eklen, "", 1) : 0;
}

static int del_quiet(cmn_txn *t, const char *db, const void *key, size_t klen);

int cse_res_txn_unindex_expiry(cmn_txn *t, int64_t et, const char *path)
{
    uint8_t ek[EXPIRY_KEY_MAX];
    size_t eklen = expiry_key(et, path, ek);

    return eklen > 0 ? del_quiet(t, CSE_DB_EXPIRY, ek, eklen) : 0;
}

static int txn_put_res(cmn_txn *t, const Tep__Resource *r)
{
    char ck[CSE_PATH_MAX];
    size_t cklen = child_key(r->path, ck);
    uint8_t ty[4] = {0, 0, (uint8_t)(r->ty >> 8), (uint8_t)r->ty};
    int rc = cmn_txn_put_msg(t, CSE_DB_RESOURCES, r->path, strlen(r->path), &r->base);

    if (rc == 0)
        rc = cmn_txn_put(t, CSE_DB_RI_INDEX, r->ri, strlen(r->ri), r->path, strlen(r->path));
    if (rc == 0 && cklen > 0)
        rc = cmn_txn_put(t, CSE_DB_CHILDREN, ck, cklen, ty, sizeof(ty));
    if (rc == 0 && r->ty == CMN_TY_SUB)
        rc = cmn_txn_put(t, CSE_DB_SUBS, r->path, strlen(r->path), r->parent_path,
                         strlen(r->parent_path));
    if (rc == 0)
        rc = cse_res_txn_index_expiry(t, r);
    return rc;
}

int cse_res_txn_put(cmn_txn *t, const Tep__Resource *r)
{
    return txn_put_res(t, r);
}

static int del_quiet(cmn_txn *t, const char *db, const void *key, size_t klen)
{
    int rc = cmn_txn_del(t, db, key, klen);

    return rc == CMN_ENOTFOUND ? 0 : rc;
}

static int txn_get_res(cmn_txn *t, const char *path, Tep__Resource **ret);

int cse_res_txn_drop(cmn_txn *t, const char *path, const char *ri, int64_t et)
{
    char ck[CSE_PATH_MAX];
    size_t cklen = child_key(path, ck);
    Tep__Resource *r = NULL;
    int rc;

    if (et < 0) { /* unknown: the record says */
        et = txn_get_res(t, path, &r) == 0 ? r->et : 0;
        cse_res_free(r);
    }
    rc = cmn_txn_del(t, CSE_DB_RESOURCES, path, strlen(path));
    if (rc == 0)
        rc = del_quiet(t, CSE_DB_RI_INDEX, ri, strlen(ri));
    if (rc == 0 && cklen > 0)
        rc = del_quiet(t, CSE_DB_CHILDREN, ck, cklen);
    if (rc == 0)
        rc = cse_res_txn_unindex_expiry(t, et, path);
    return rc;
}

static int txn_get_res(cmn_txn *t, const char *path, Tep__Resource **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(t, CSE_DB_RESOURCES, path, strlen(path), &val, &len);

    if (rc != 0)
        return rc;
    rc = cse_res_unpack(val, len, ret);
    cmn_store_free_val(val, len);
    return rc;
}

int cse_res_txn_get(cmn_txn *t, const char *path, Tep__Resource **ret)
{
    *ret = NULL;
    return txn_get_res(t, path, ret);
}
