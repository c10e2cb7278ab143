/* container limits, the age index and virtual children (see cse_container.h). */
#include "cse_container.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_onem2m.h"
#include "cse_record.h"

/* One decoded index entry; ri and path point into the value. */
typedef struct {
    int64_t ct;
    long cs;
    const char *ri;
    const char *path;
} age_entry;

size_t cse_cnt_age_key(const char *cnt_path, uint64_t age, uint8_t *ret)
{
    size_t n = strlen(cnt_path) + 1;

    memcpy(ret, cnt_path, n); /* with its '\0': "a/c" never prefixes "a/c2" */
    cmn_store_u64_key(age, ret + n);
    return n + 8;
}

static int decode(const uint8_t *v, size_t len, age_entry *ret)
{
    const char *nul;

    if (len < 18 || v[len - 1] != '\0')
        return CMN_ECORRUPT;
    ret->ct = (int64_t)cmn_store_key_u64(v);
    ret->cs = (long)cmn_store_key_u64(v + 8);
    ret->ri = (const char *)v + 16;
    nul = memchr(ret->ri, '\0', len - 16);
    if (nul == NULL || nul == (const char *)v + len - 1)
        return CMN_ECORRUPT;
    ret->path = nul + 1;
    return 0;
}

/* The entry at one end of the container's index; *ret_val holds it (caller frees). */
static int edge(cmn_store *st, cmn_txn *t, const char *cnt_path, bool last, age_entry *ret,
                void **ret_key, size_t *ret_klen, void **ret_val, size_t *ret_vlen)
{
    size_t plen = strlen(cnt_path) + 1;
    int rc = t != NULL ? cmn_txn_edge(t, CSE_DB_CIN_AGE, cnt_path, plen, last, ret_key, ret_klen,
                                      ret_val, ret_vlen)
                       : cmn_store_edge(st, CSE_DB_CIN_AGE, cnt_path, plen, last, ret_key, ret_klen,
                                        ret_val, ret_vlen);

    if (rc == 0 && (rc = decode(*ret_val, *ret_vlen, ret)) != 0) {
        free(*ret_val);
        if (ret_key != NULL)
            free(*ret_key);
    }
    return rc;
}

int cse_cnt_edge(cmn_store *st, const char *cnt_path, bool oldest, Tep__Resource **ret)
{
    age_entry e;
    void *val = NULL;
    size_t vlen = 0;
    int rc = edge(st, NULL, cnt_path, !oldest, &e, NULL, NULL, &val, &vlen);

    *ret = NULL;
    if (rc == 0) {
        rc = cse_res_get(st, e.path, ret);
        free(val);
    }
    return rc;
}

int cse_cnt_txn_index(cmn_txn *t, Tep__Resource *cin, long cs)
{
    size_t klen = 0, vlen = 0, plen = strlen(cin->parent_path), ril = strlen(cin->ri);
    size_t pathl = strlen(cin->path);
    void *key = NULL, *val = NULL;
    uint8_t *k = malloc(plen + 9), *v = malloc(16 + ril + 1 + pathl + 1);
    int rc = k != NULL && v != NULL ? 0 : CMN_ENOMEM;

    if (rc == 0)
        rc = cmn_txn_edge(t, CSE_DB_CIN_AGE, cin->parent_path, plen + 1, 1, &key, &klen, &val,
                          &vlen);
    if (rc == 0 && klen == plen + 9) { /* after the latest */
        cin->age = cmn_store_key_u64((const uint8_t *)key + plen + 1) + 1;
    } else if (rc == CMN_ENOTFOUND) { /* the first */
        cin->age = 1;
        rc = 0;
    } else if (rc == 0) {
        rc = CMN_ECORRUPT;
    }
    if (rc == 0) {
        cmn_store_u64_key((uint64_t)cin->ct, v);
        cmn_store_u64_key((uint64_t)cs, v + 8);
        memcpy(v + 16, cin->ri, ril + 1);
        memcpy(v + 16 + ril + 1, cin->path, pathl + 1);
        rc = cmn_txn_put(t, CSE_DB_CIN_AGE, k, cse_cnt_age_key(cin->parent_path, cin->age, k), v,
                         16 + ril + 1 + pathl + 1);
    }
    free(key);
    free(val);
    free(k);
    free(v);
    return rc;
}

int cse_cnt_txn_unindex(cmn_txn *t, const Tep__Resource *cin)
{
    uint8_t *k = malloc(strlen(cin->parent_path) + 9);
    int rc;

    if (k == NULL)
        return CMN_ENOMEM;
    rc = cmn_txn_del(t, CSE_DB_CIN_AGE, k, cse_cnt_age_key(cin->parent_path, cin->age, k));
    free(k);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

typedef struct {
    long mni, mbs, mia; /* -1: no limit */
    long cni, cbs;
} cnt_state;

static long attr_long(json_t *a, const char *name, long dflt)
{
    json_t *v = json_object_get(a, name);

    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static void read_state(json_t *a, cnt_state *s)
{
    s->mni = attr_long(a, "mni", -1);
    s->mbs = attr_long(a, "mbs", -1);
    s->mia = attr_long(a, "mia", -1);
    s->cni = attr_long(a, "cni", 0);
    s->cbs = attr_long(a, "cbs", 0);
}

static bool over(const cnt_state *s, const age_entry *oldest, int64_t now)
{
    if (s->mni >= 0 && s->cni > s->mni)
        return true;
    if (s->mbs >= 0 && s->cbs > s->mbs)
        return true;
    return s->mia >= 0 && oldest->ct + s->mia <= now;
}

/* Evicts from the oldest end while the limits are exceeded; *ret_n: how many. */
static int evict(cmn_txn *t, const char *cnt_path, cnt_state *s, int64_t now, size_t *ret_n)
{
    age_entry e;
    void *key = NULL, *val = NULL;
    size_t klen = 0, vlen = 0;
    int rc;

    *ret_n = 0;
    for (;;) {
        rc = edge(NULL, t, cnt_path, false, &e, &key, &klen, &val, &vlen);
        if (rc == CMN_ENOTFOUND)
            return 0;
        if (rc != 0)
            return rc;
        if (over(s, &e, now)) {
            rc = cse_res_txn_drop(t, e.path, e.ri, -1);
            if (rc == 0 || rc == CMN_ENOTFOUND)
                rc = cmn_txn_del(t, CSE_DB_CIN_AGE, key, klen);
            s->cni--;
            s->cbs -= e.cs;
            (*ret_n)++;
        } else {
            rc = 1; /* within the limits */
        }
        free(key);
        free(val);
        if (rc != 0)
            return rc == 1 ? 0 : rc;
    }
}

int cse_cnt_txn_settle(cmn_txn *t, const char *cnt_path, long dn, long dbytes, int64_t now,
                       size_t *ret_evicted)
{
    Tep__Resource *p = NULL;
    json_t *a = NULL;
    cnt_state s;
    size_t n = 0;
    char ts[16];
    char *old;
    int rc = cse_res_txn_get(t, cnt_path, &p);

    if (rc != 0)
        return rc;
    a = json_loads(p->json, 0, NULL);
    if (a == NULL) {
        rc = CMN_ECORRUPT;
        goto out;
    }
    read_state(a, &s);
    s.cni += dn;
    s.cbs += dbytes;
    rc = evict(t, cnt_path, &s, now, &n);
    if (rc != 0 || (dn == 0 && dbytes == 0 && n == 0))
        goto out;
    cmn_json_timestamp(now, ts);
    json_object_set_new(a, "cni", json_integer(s.cni));
    json_object_set_new(a, "cbs", json_integer(s.cbs));
    json_object_set_new(a, "st", json_integer(attr_long(a, "st", 0) + (dn != 0) + (long)n));
    json_object_set_new(a, "lt", json_string(ts));
    old = p->json;
    p->json = json_dumps(a, JSON_COMPACT);
    p->lt = now;
    rc = p->json != NULL ? cse_res_txn_put(t, p) : CMN_ENOMEM;
    free(p->json);
    p->json = old;
out:
    if (ret_evicted != NULL)
        *ret_evicted = n;
    json_decref(a);
    cse_res_free(p);
    return rc;
}

int cse_cnt_enforce_age(cmn_store *st, const Tep__Resource *cnt, int64_t now)
{
    if (cnt->json == NULL || strstr(cnt->json, "\"mia\"") == NULL)
        return 0; /* the stored text names every key */
    return cse_cnt_enforce(st, cnt, now);
}

int cse_cnt_enforce(cmn_store *st, const Tep__Resource *cnt, int64_t now)
{
    json_t *a = json_loads(cnt->json, 0, NULL);
    cnt_state s;
    age_entry e;
    void *val = NULL;
    size_t vlen = 0;
    cmn_txn *t = NULL;
    bool need;
    int rc;

    if (a == NULL)
        return CMN_ECORRUPT;
    read_state(a, &s);
    json_decref(a);
    if (s.mni < 0 && s.mbs < 0 && s.mia < 0)
        return 0;
    rc = edge(st, NULL, cnt->path, false, &e, NULL, NULL, &val, &vlen);
    if (rc != 0)
        return rc == CMN_ENOTFOUND ? 0 : rc;
    need = over(&s, &e, now);
    free(val);
    if (!need)
        return 0;
    rc = cmn_store_txn_begin(st, &t);
    if (rc == 0)
        rc = cse_cnt_txn_settle(t, cnt->path, 0, 0, now, NULL);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}
