/* The resource tree in LMDB (see cse_resource.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_onem2m.h"
#include "cse_container.h"
#include "cse_resource.h"

#define NEVER_EXPIRES "99991231T235959"

static bool exists(cmn_store *st, const char *db, const char *key)
{
    void *val = NULL;
    size_t len = 0;

    if (cmn_store_get(st, db, key, strlen(key), &val, &len) != 0)
        return false;
    cmn_store_free_val(val, len);
    return true;
}

/* ri -> path (ret holds CSE_PATH_MAX). */
static int ri_to_path(cmn_store *st, const char *ri, char *ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(st, CSE_DB_RI_INDEX, ri, strlen(ri), &val, &len);

    if (rc != 0)
        return rc;
    if (len >= CSE_PATH_MAX) {
        rc = CMN_ECORRUPT;
    } else {
        memcpy(ret, val, len);
        ret[len] = '\0';
    }
    cmn_store_free_val(val, len);
    return rc;
}

int cse_res_get_by_ri(cmn_store *st, const char *ri, Tep__Resource **ret)
{
    char path[CSE_PATH_MAX];
    int rc = ri_to_path(st, ri, path);

    *ret = NULL;
    return rc != 0 ? rc : cse_res_get(st, path, ret);
}

/* ---- addressing -------------------------------------------------------------------- */

/* "-" stands for the CSEBase's name at the start of a structured path (TS-0004 6.2.3). */
static int resolve_cse_relative(cmn_store *st, const char *cse_name, const char *p, char *ret)
{
    char alias[CSE_PATH_MAX];

    if (p[0] == '-' && (p[1] == '\0' || p[1] == '/') && cse_name != NULL) {
        if ((size_t)snprintf(alias, sizeof(alias), "%s%s", cse_name, p + 1) >= sizeof(alias))
            return CMN_ENOTFOUND;
        p = alias;
    }
    if (strlen(p) >= CSE_PATH_MAX)
        return CMN_ENOTFOUND;
    if (exists(st, CSE_DB_RESOURCES, p)) {
        strcpy(ret, p);
        return 0;
    }
    if (strchr(p, '/') == NULL && ri_to_path(st, p, ret) == 0)
        return 0;
    return CMN_ENOTFOUND;
}

/* The CSEBase's name: its ri is the CSE-ID without the leading '/'. */
static int base_name(cmn_store *st, const char *cse_id, char *ret)
{
    return ri_to_path(st, cse_id + 1, ret);
}

/* SP-relative "~/<cse-id>[/<CSE-relative>]" (rest points after the '~'). */
static int resolve_sp_relative(cmn_store *st, const char *cse_id, const char *rest, char *ret)
{
    size_t idl = strlen(cse_id);
    char name[CSE_PATH_MAX];

    if (strncmp(rest, cse_id, idl) != 0 || (rest[idl] != '\0' && rest[idl] != '/'))
        return CMN_ENOTFOUND;
    rest += idl;
    if (base_name(st, cse_id, name) != 0)
        return CMN_ENOTFOUND;
    if (*rest == '\0') {
        strcpy(ret, name);
        return 0;
    }
    return resolve_cse_relative(st, name, rest + 1, ret);
}

int cse_res_resolve(cmn_store *st, const char *cse_id, const char *uri_path, char *ret)
{
    const char *sp_end;
    char name[CSE_PATH_MAX];

    if (uri_path[0] == '\0')
        return CMN_ENOTFOUND;
    if (uri_path[0] == '~' && uri_path[1] == '/')
        return resolve_sp_relative(st, cse_id, uri_path + 1, ret);
    /* Absolute "_/<SP-ID>/<cse-id>/...": one SP here, so any SP-ID names this one. */
    if (uri_path[0] == '_' && uri_path[1] == '/') {
        sp_end = strchr(uri_path + 2, '/');
        return sp_end != NULL && sp_end > uri_path + 2
                   ? resolve_sp_relative(st, cse_id, sp_end, ret)
                   : CMN_ENOTFOUND;
    }
    if (base_name(st, cse_id, name) != 0)
        name[0] = '\0';
    return resolve_cse_relative(st, name[0] ? name : NULL, uri_path, ret);
}

/* ---- CSEBase ----------------------------------------------------------------------- */

/* r stored; old_et: the expirationTime it had before (its expiry entry goes when it
 * changed), 0 when new or none. */
static int put_new(cmn_store *st, const Tep__Resource *r, int64_t old_et)
{
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(st, &t);

    if (rc != 0)
        return rc;
    if (old_et != r->et)
        rc = cse_res_txn_unindex_expiry(t, old_et, r->path);
    if (rc == 0)
        rc = cse_res_txn_put(t, r);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

static json_t *common_attrs(const char *ri, const char *rn, const char *pi, unsigned ty,
                            int64_t now)
{
    char ts[16];

    cmn_json_timestamp(now, ts);
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ri", ri, "rn", rn, "pi", pi, "ty",
                     (json_int_t)ty, "ct", ts, "lt", ts);
}

int cse_res_ensure_csebase(cmn_store *st, const char *cse_id, const char *cse_name, int64_t now)
{
    Tep__Resource r = TEP__RESOURCE__INIT;
    json_t *a;
    int rc;

    if (exists(st, CSE_DB_RESOURCES, cse_name))
        return 0;
    a = common_attrs(cse_id + 1, cse_name, "", CMN_TY_CSEBASE, now);
    if (a == NULL)
        return CMN_ENOMEM;
    json_object_set_new(a, "csi", json_string(cse_id));
    json_object_set_new(a, "cst", json_integer(1)); /* IN-CSE */
    json_object_set_new(a, "srt", json_pack("[i,i,i,i,i]", 1, 2, 3, 4, 5));
    json_object_set_new(a, "srv", json_pack("[s,s,s]", "3", "4", "5"));
    r.ri = (char *)cse_id + 1;
    r.path = (char *)cse_name;
    r.ty = CMN_TY_CSEBASE;
    r.parent_path = "";
    r.creator = "";
    r.ct = r.lt = now;
    r.json = json_dumps(a, JSON_COMPACT);
    rc = r.json != NULL ? put_new(st, &r, 0) : CMN_ENOMEM;
    free(r.json);
    json_decref(a);
    return rc;
}

/* The CSEBase's policy (docs/access-control.md "The CSEBase's policy"): pv_json empty =
 * the CSEBase has no acpi (only the admin may create anything but an AE under it, read or
 * discover it); else the ACP <cse_name>/acp-csebase (pvs: the admin alone) holds pv_json
 * as its privileges and is the CSEBase's only acpi. Applied at every start: the
 * configuration wins over a runtime change of that ACP's pv. */
int cse_res_csebase_policy(cmn_store *st, const char *cse_name, const char *admin,
                           const char *pv_json, int64_t now)
{
    char path[CSE_PATH_MAX];
    Tep__Resource *base = NULL, *acp = NULL, *done = NULL;
    json_t *pv = NULL, *attrs = NULL;
    unsigned rsc = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", cse_name, CSE_RES_CSEBASE_ACP);
    if ((rc = cse_res_get(st, cse_name, &base)) != 0)
        return rc;
    rc = cse_res_get(st, path, &acp);
    if (rc == 0 && acp->ty != CMN_TY_ACP) { /* the name taken by another resource (an AE) */
        rsc = pv_json == NULL || pv_json[0] == '\0' ? CMN_RSC_UPDATED : 0;
        goto out;
    }
    if (pv_json == NULL || pv_json[0] == '\0') {
        attrs = json_pack("{s:n}", "acpi");
        rsc = base->n_acpi > 0 ? cse_res_update(st, base, attrs, now, &done) : CMN_RSC_UPDATED;
        if (rsc == CMN_RSC_UPDATED && rc == 0)
            rsc = cse_res_delete(st, acp, now) == CMN_RSC_DELETED ? CMN_RSC_UPDATED : 0;
        goto out;
    }
    pv = json_loads(pv_json, 0, NULL);
    if (pv == NULL) {
        rsc = 0;
        goto out;
    }
    if (rc == 0) {
        attrs = json_pack("{s:O}", "pv", pv);
        rsc = cse_res_update(st, acp, attrs, now, &done);
    } else {
        cse_res_create_in in = {.ty = CMN_TY_ACP, .now = now, .originator = admin, .ae_id = ""};
        attrs = json_pack("{s:s, s:O, s:{s:[{s:[s], s:i}]}}", "rn", CSE_RES_CSEBASE_ACP, "pv", pv,
                          "pvs", "acr", "acor", admin, "acop", 63);
        in.attrs = attrs;
        rsc = attrs != NULL ? cse_res_create(st, base, &in, &done) : 0;
        rsc = rsc == CMN_RSC_CREATED ? CMN_RSC_UPDATED : rsc;
    }
    if (rsc == CMN_RSC_UPDATED) {
        json_decref(attrs);
        attrs = json_pack("{s:[s]}", "acpi", done->ri);
        cse_res_free(done);
        done = NULL;
        rsc = attrs != NULL ? cse_res_update(st, base, attrs, now, &done) : 0;
    }
out:
    json_decref(pv);
    json_decref(attrs);
    cse_res_free(done);
    cse_res_free(acp);
    cse_res_free(base);
    return rsc == CMN_RSC_UPDATED ? 0 : CMN_EINVAL;
}

/* ---- create ------------------------------------------------------------------------ */

static bool child_allowed(unsigned parent_ty, unsigned ty)
{
    switch (parent_ty) {
    case CMN_TY_CSEBASE:
        return ty == CMN_TY_AE || ty == CMN_TY_CNT || ty == CMN_TY_ACP || ty == CMN_TY_GRP ||
               ty == CMN_TY_SUB || ty == CMN_TY_SASR || ty == CMN_TY_CSR;
    case CMN_TY_CSR:
        return ty == CMN_TY_SUB;
    case CMN_TY_AE:
        return ty == CMN_TY_CNT || ty == CMN_TY_ACP || ty == CMN_TY_GRP || ty == CMN_TY_SUB;
    case CMN_TY_CNT:
        return ty == CMN_TY_CNT || ty == CMN_TY_CIN || ty == CMN_TY_SUB;
    case CMN_TY_GRP:
        return ty == CMN_TY_SUB;
    case CMN_TY_ACP:
        return ty == CMN_TY_SUB;
    case CMN_TY_SASR:
        return ty == CMN_TY_SUB;
    default:
        return false;
    }
}

/* Unstructured ids sort in creation order (the oldest/latest contentInstance of a
 * container is the smallest/largest ri): creation second, a per-process counter, then
 * randomness so that ids never repeat across restarts. */
static int new_id(const char *prefix, int64_t now, char *ret, size_t len)
{
    static uint32_t counter;
    uint8_t rnd[3];
    char hex[7];
    int rc = cmn_random(rnd, sizeof(rnd));

    if (rc != 0)
        return rc;
    cmn_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(ret, len, "%s%010llx%06x%s", prefix, (unsigned long long)now,
             (unsigned)(counter++ & 0xffffff), hex);
    return 0;
}

static const char *ty_prefix(unsigned ty)
{
    switch (ty) {
    case CMN_TY_ACP:
        return "acp";
    case CMN_TY_AE:
        return "ae";
    case CMN_TY_CNT:
        return "cnt";
    case CMN_TY_CIN:
        return "cin";
    case CMN_TY_SUB:
        return "sub";
    case CMN_TY_GRP:
        return "grp";
    case CMN_TY_SASR:
        return "asar";
    case CMN_TY_CSR:
        return "csr";
    default:
        return "r";
    }
}

/* Every acpi entry must name an existing accessControlPolicy (by ri). */
static bool acpi_ok(cmn_store *st, json_t *acpi)
{
    Tep__Resource *acp = NULL;
    json_t *e;
    size_t i;
    bool ok;

    json_array_foreach(acpi, i, e) {
        if (cse_res_get_by_ri(st, json_string_value(e), &acp) != 0)
            return false;
        ok = acp->ty == CMN_TY_ACP;
        cse_res_free(acp);
        acp = NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* et: the requested expiration time or "never" (0). */
static int parse_et(json_t *attrs, int64_t now, int64_t *ret)
{
    json_t *et = json_object_get(attrs, "et");

    *ret = 0;
    if (et == NULL)
        return 0;
    if (cmn_json_parse_timestamp(json_string_value(et), ret) != 0 || *ret <= now)
        return CMN_EINVAL;
    return 0;
}

static size_t content_size(json_t *con)
{
    char *s;
    size_t n;

    if (json_is_string(con))
        return json_string_length(con);
    s = json_dumps(con, JSON_COMPACT | JSON_ENCODE_ANY);
    n = s != NULL ? strlen(s) : 0;
    free(s);
    return n;
}

static void add_type_attrs(json_t *a, const cse_res_create_in *in)
{
    switch (in->ty) {
    case CMN_TY_AE:
        json_object_set_new(a, "aei", json_string(in->ae_id));
        if (json_object_get(a, "rr") == NULL)
            json_object_set_new(a, "rr", json_false());
        break;
    case CMN_TY_CNT:
        json_object_set_new(a, "cni", json_integer(0));
        json_object_set_new(a, "cbs", json_integer(0));
        json_object_set_new(a, "st", json_integer(0));
        break;
    case CMN_TY_CIN:
        json_object_set_new(a, "cs",
                            json_integer((json_int_t)content_size(json_object_get(a, "con"))));
        json_object_set_new(a, "st", json_integer(0));
        break;
    case CMN_TY_SUB:
        if (json_object_get(a, "enc") == NULL)
            json_object_set_new(a, "enc", json_pack("{s:[i]}", "net", 1));
        if (json_object_get(a, "nct") == NULL)
            json_object_set_new(a, "nct", json_integer(1));
        break;
    case CMN_TY_GRP:
        if (json_object_get(a, "mt") == NULL)
            json_object_set_new(a, "mt", json_integer(0));
        json_object_set_new(a, "cnm",
                            json_integer((json_int_t)json_array_size(json_object_get(a, "mid"))));
        json_object_set_new(a, "mtv", json_true());
        break;
    default:
        break;
    }
}

typedef struct {
    char ri[64];
    char rn[256];
    char path[CSE_PATH_MAX];
    int64_t et;
} new_names;

static unsigned pick_names(cmn_store *st, const Tep__Resource *parent, const cse_res_create_in *in,
                           new_names *n)
{
    json_t *rn = json_object_get(in->attrs, "rn");

    if (in->ty == CMN_TY_AE)
        snprintf(n->ri, sizeof(n->ri), "%s", in->ae_id);
    else if (new_id(ty_prefix(in->ty), in->now, n->ri, sizeof(n->ri)) != 0)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    if (rn != NULL)
        snprintf(n->rn, sizeof(n->rn), "%s", json_string_value(rn));
    else if (in->ty == CMN_TY_AE)
        snprintf(n->rn, sizeof(n->rn), "%s", in->ae_id);
    else
        snprintf(n->rn, sizeof(n->rn), "%s", n->ri);
    if ((size_t)snprintf(n->path, sizeof(n->path), "%s/%s", parent->path, n->rn) >= sizeof(n->path))
        return CMN_RSC_BAD_REQUEST;
    if (in->ty == CMN_TY_AE && exists(st, CSE_DB_RI_INDEX, n->ri))
        return CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED;
    if (exists(st, CSE_DB_RESOURCES, n->path))
        return CMN_RSC_CONFLICT;
    return 0;
}

/* The full attribute object of the new resource. */
static json_t *build_attrs(const Tep__Resource *parent, const cse_res_create_in *in,
                           const new_names *n)
{
    json_t *a = json_deep_copy(in->attrs);
    json_t *c = common_attrs(n->ri, n->rn, parent->ri, in->ty, in->now);
    char ts[16];
    bool want_cr = json_object_get(in->attrs, "cr") != NULL;

    if (a == NULL || c == NULL || json_object_update(a, c) != 0) {
        json_decref(a);
        json_decref(c);
        return NULL;
    }
    json_decref(c);
    json_object_del(a, "cr");
    if (want_cr)
        json_object_set_new(a, "cr", json_string(in->originator));
    if (n->et == 0) {
        json_object_set_new(a, "et", json_string(NEVER_EXPIRES));
    } else {
        cmn_json_timestamp(n->et, ts);
        json_object_set_new(a, "et", json_string(ts));
    }
    add_type_attrs(a, in);
    return a;
}

static void fill_acpi(Tep__Resource *r, json_t *acpi, char **buf, size_t max)
{
    json_t *e;
    size_t i;

    r->n_acpi = 0;
    r->acpi = buf;
    json_array_foreach(acpi, i, e) {
        if (i >= max)
            break;
        buf[r->n_acpi++] = (char *)json_string_value(e);
    }
}

/* A contentInstance is indexed by age, and its container counts it and evicts what its
 * limits no longer allow: all in the transaction that stores it. */
static int store_new(cmn_store *st, Tep__Resource *r, json_t *a, unsigned ty)
{
    long cs = (long)json_integer_value(json_object_get(a, "cs"));
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(st, &t);

    if (rc != 0)
        return rc;
    if (ty == CMN_TY_CIN)
        rc = cse_cnt_txn_index(t, r, cs);
    if (rc == 0)
        rc = cse_res_txn_put(t, r);
    if (rc == 0 && ty == CMN_TY_CIN)
        rc = cse_cnt_txn_settle(t, r->parent_path, 1, cs, r->ct, NULL);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

#define ACPI_MAX 32

/* acpi and a group's macp: at most ACPI_MAX entries, each an existing ACP. */
static bool acp_lists_ok(cmn_store *st, json_t *attrs)
{
    json_t *acpi = json_object_get(attrs, "acpi"), *macp = json_object_get(attrs, "macp");

    return json_array_size(acpi) <= ACPI_MAX && acpi_ok(st, acpi) &&
           json_array_size(macp) <= ACPI_MAX && acpi_ok(st, macp);
}

unsigned cse_res_create(cmn_store *st, const Tep__Resource *parent, const cse_res_create_in *in,
                        Tep__Resource **ret_new)
{
    Tep__Resource r = TEP__RESOURCE__INIT;
    json_t *acpi = json_object_get(in->attrs, "acpi");
    char *acpi_buf[ACPI_MAX];
    new_names n;
    json_t *a = NULL;
    unsigned rsc;

    *ret_new = NULL;
    if (!child_allowed(parent->ty, in->ty))
        return CMN_RSC_INVALID_CHILD_RESOURCE_TYPE;
    if (!acp_lists_ok(st, in->attrs))
        return CMN_RSC_BAD_REQUEST;
    if (parse_et(in->attrs, in->now, &n.et) != 0)
        return CMN_RSC_BAD_REQUEST;
    rsc = pick_names(st, parent, in, &n);
    if (rsc != 0)
        return rsc;
    a = build_attrs(parent, in, &n);
    if (a == NULL)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    r.ri = n.ri;
    r.path = n.path;
    r.ty = in->ty;
    r.parent_path = parent->path;
    r.creator = (char *)in->originator;
    r.ct = r.lt = in->now;
    r.et = n.et;
    fill_acpi(&r, acpi, acpi_buf, ACPI_MAX);
    r.json = json_dumps(a, JSON_COMPACT);
    rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    if (r.json != NULL && store_new(st, &r, a, in->ty) == 0 &&
        cse_res_get(st, n.path, ret_new) == 0)
        rsc = CMN_RSC_CREATED;
    free(r.json);
    json_decref(a);
    return rsc;
}

/* ---- delete ------------------------------------------------------------------------ */

typedef struct {
    char **paths;
    char **ris;
    unsigned *tys;
    int64_t *ets;
    size_t n, cap;
} victims;

static int victims_add(victims *v, const char *path, size_t plen, const char *ri, unsigned ty,
                       int64_t et)
{
    char **np, **nr;
    unsigned *ns;
    int64_t *ne;

    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        np = realloc(v->paths, v->cap * sizeof(char *));
        if (np == NULL)
            return CMN_ENOMEM;
        v->paths = np;
        nr = realloc(v->ris, v->cap * sizeof(char *));
        if (nr == NULL)
            return CMN_ENOMEM;
        v->ris = nr;
        ns = realloc(v->tys, v->cap * sizeof(unsigned));
        if (ns == NULL)
            return CMN_ENOMEM;
        v->tys = ns;
        ne = realloc(v->ets, v->cap * sizeof(int64_t));
        if (ne == NULL)
            return CMN_ENOMEM;
        v->ets = ne;
    }
    v->tys[v->n] = ty;
    v->ets[v->n] = et;
    v->paths[v->n] = strndup(path, plen);
    v->ris[v->n] = strdup(ri);
    if (v->paths[v->n] == NULL || v->ris[v->n] == NULL) {
        free(v->paths[v->n]);
        free(v->ris[v->n]);
        return CMN_ENOMEM;
    }
    v->n++;
    return 0;
}

static void victims_free(victims *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->paths[i]);
        free(v->ris[i]);
    }
    free(v->paths);
    free(v->ris);
    free(v->tys);
    free(v->ets);
}

static int collect_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    Tep__Resource *r = NULL;
    int rc = cse_res_unpack(val, vlen, &r);

    if (rc != 0)
        return rc;
    rc = victims_add(arg, key, klen, r->ri, r->ty, r->et);
    cse_res_free(r);
    return rc;
}

/* One deleted resource: its record and its entries in every index. */
static int delete_one(cmn_txn *t, const char *path, const char *ri, unsigned ty, int64_t et)
{
    int rc = cse_res_txn_drop(t, path, ri, et);

    if (rc == 0 && ty == CMN_TY_SUB &&
        (rc = cmn_txn_del(t, CSE_DB_SUBS, path, strlen(path))) == CMN_ENOTFOUND)
        rc = 0;
    if (rc == 0 && ty == CMN_TY_CNT) /* its whole age index */
        rc = cmn_txn_del_prefix(t, CSE_DB_CIN_AGE, path, strlen(path) + 1, NULL);
    return rc;
}

static int delete_all(cmn_store *st, const Tep__Resource *r, const victims *v, int64_t now)
{
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(st, &t);
    json_t *a = NULL;

    for (size_t i = 0; rc == 0 && i < v->n; i++)
        rc = delete_one(t, v->paths[i], v->ris[i], v->tys[i], v->ets[i]);
    if (rc == 0 && r->ty == CMN_TY_CIN) {
        a = json_loads(r->json, 0, NULL);
        rc = cse_cnt_txn_unindex(t, r);
        if (rc == 0)
            rc = cse_cnt_txn_settle(t, r->parent_path, -1,
                                    -(long)json_integer_value(json_object_get(a, "cs")), now, NULL);
        json_decref(a);
    }
    if (t == NULL)
        return rc;
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

unsigned cse_res_delete(cmn_store *st, const Tep__Resource *r, int64_t now)
{
    victims v = {0};
    char prefix[CSE_PATH_MAX + 1];
    int rc;

    if (r->ty == CMN_TY_CSEBASE)
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    snprintf(prefix, sizeof(prefix), "%s/", r->path);
    rc = victims_add(&v, r->path, strlen(r->path), r->ri, r->ty, r->et);
    if (rc == 0)
        rc = cmn_store_foreach(st, CSE_DB_RESOURCES, prefix, strlen(prefix), collect_fn, &v);
    if (rc == 0)
        rc = delete_all(st, r, &v, now);
    victims_free(&v);
    return rc == 0 ? CMN_RSC_DELETED : CMN_RSC_INTERNAL_SERVER_ERROR;
}

/* ---- render, count, owner ---------------------------------------------------------- */

char *cse_res_render(const Tep__Resource *r)
{
    const char *key = cmn_json_ty_key(r->ty);
    json_t *a, *w;
    char *s = NULL;

    if (key != NULL && r->ty != CMN_TY_CSEBASE && r->json != NULL && r->json[0] == '{') {
        /* the stored attributes are compact JSON already (json_dumps): wrapped as they
         * are, not parsed and printed again */
        size_t n = strlen(key) + strlen(r->json) + 6;
        if ((s = malloc(n)) != NULL)
            snprintf(s, n, "{\"%s\":%s}", key, r->json);
        return s;
    }
    a = json_loads(r->json, 0, NULL);
    if (key == NULL || a == NULL) {
        json_decref(a);
        return NULL;
    }
    if (r->ty == CMN_TY_CSEBASE) { /* currentTime (TS-0004 Table 7.4.3.1-3), now */
        char ts[16];

        cmn_json_timestamp((int64_t)time(NULL), ts);
        json_object_set_new(a, "ctm", json_string(ts));
    }
    w = json_pack("{s:o}", key, a);
    if (w != NULL)
        s = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    return s;
}

static int count_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(uint64_t *)arg)++;
    return 0;
}

int cse_res_count(cmn_store *st, uint64_t *ret)
{
    *ret = 0;
    return cmn_store_foreach(st, CSE_DB_RESOURCES, NULL, 0, count_fn, ret);
}

int cse_res_owner_ae(cmn_store *st, const char *path, char *ret, size_t len)
{
    char p[CSE_PATH_MAX];
    Tep__Resource *r = NULL;
    char *slash;
    int rc;

    ret[0] = '\0';
    snprintf(p, sizeof(p), "%s", path);
    for (;;) {
        rc = cse_res_get(st, p, &r);
        if (rc == 0 && r->ty == CMN_TY_AE)
            snprintf(ret, len, "%s", r->ri);
        cse_res_free(r);
        r = NULL;
        if (rc != 0 && rc != CMN_ENOTFOUND)
            return rc;
        if (ret[0] != '\0')
            return 0;
        slash = strrchr(p, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
}

/* ---- update ------------------------------------------------------------------------ */

/* Merges the update into the stored attributes: null deletes, anything else replaces. */
static void merge_update(json_t *a, json_t *attrs, unsigned ty, int64_t now)
{
    const char *key;
    json_t *v;
    char ts[16];

    json_object_foreach(attrs, key, v) {
        if (json_is_null(v))
            json_object_del(a, key);
        else
            json_object_set(a, key, v);
    }
    if (json_is_null(json_object_get(attrs, "et")))
        json_object_set_new(a, "et", json_string(NEVER_EXPIRES));
    cmn_json_timestamp(now, ts);
    json_object_set_new(a, "lt", json_string(ts));
    if (ty == CMN_TY_CNT)
        json_object_set_new(a, "st",
                            json_integer(json_integer_value(json_object_get(a, "st")) + 1));
    if (ty == CMN_TY_GRP)
        json_object_set_new(a, "cnm",
                            json_integer((json_int_t)json_array_size(json_object_get(a, "mid"))));
}

static int put_updated(cmn_store *st, const Tep__Resource *old, json_t *a, int64_t et, int64_t now)
{
    Tep__Resource r = *old;
    json_t *acpi = json_object_get(a, "acpi");
    char *acpi_buf[ACPI_MAX];
    int rc;

    r.lt = now;
    r.et = et;
    fill_acpi(&r, acpi, acpi_buf, ACPI_MAX);
    r.json = json_dumps(a, JSON_COMPACT);
    rc = r.json != NULL ? put_new(st, &r, old->et) : CMN_ENOMEM;
    free(r.json);
    return rc;
}

unsigned cse_res_update(cmn_store *st, const Tep__Resource *r, json_t *attrs, int64_t now,
                        Tep__Resource **ret_new)
{
    json_t *a = NULL;
    int64_t et = r->et;
    unsigned rsc = CMN_RSC_BAD_REQUEST;

    *ret_new = NULL;
    if (!acp_lists_ok(st, attrs))
        return CMN_RSC_BAD_REQUEST;
    if (json_is_null(json_object_get(attrs, "et")))
        et = 0;
    else if (json_object_get(attrs, "et") != NULL && parse_et(attrs, now, &et) != 0)
        return CMN_RSC_BAD_REQUEST;
    a = json_loads(r->json, 0, NULL);
    if (a == NULL)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    merge_update(a, attrs, r->ty, now);
    rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    if (put_updated(st, r, a, et, now) == 0 && cse_res_get(st, r->path, ret_new) == 0)
        rsc = CMN_RSC_UPDATED;
    json_decref(a);
    return rsc;
}

/* ---- children and expiry ----------------------------------------------------------- */

/* The whole subtree: a prefix walk of "resources" (direct children: child_fn). */
typedef struct {
    cse_res_visit_fn fn;
    void *arg;
} walk_ctx;

static int walk_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    walk_ctx *w = arg;
    Tep__Resource *r = NULL;
    int rc;

    rc = cse_res_unpack(val, vlen, &r);
    if (rc != 0)
        return rc;
    rc = w->fn(r, w->arg);
    cse_res_free(r);
    return rc;
}

typedef struct {
    cmn_store *st;
    cse_res_visit_fn fn;
    void *arg;
} child_ctx;

/* One entry "<parent>\0<rn>" of the child index: the child's record. */
static int child_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    child_ctx *c = arg;
    char path[CSE_PATH_MAX];
    Tep__Resource *r = NULL;
    int rc;

    if (klen >= sizeof(path))
        return CMN_ECORRUPT;
    memcpy(path, key, klen);
    path[klen] = '\0';
    path[strlen(path)] = '/';
    rc = cse_res_get(c->st, path, &r);
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = c->fn(r, c->arg);
    cse_res_free(r);
    return rc;
}

int cse_res_walk(cmn_store *st, const char *path, bool direct_only, cse_res_visit_fn fn, void *arg)
{
    char prefix[CSE_PATH_MAX + 1];
    walk_ctx w = {fn, arg};
    child_ctx c = {st, fn, arg};
    size_t plen;

    if ((size_t)snprintf(prefix, sizeof(prefix), "%s/", path) >= sizeof(prefix))
        return CMN_ERANGE;
    plen = strlen(prefix);
    if (direct_only) { /* "<path>\0": the child index, in rn (= path) order */
        prefix[plen - 1] = '\0';
        return cmn_store_foreach(st, CSE_DB_CHILDREN, prefix, plen, child_fn, &c);
    }
    return cmn_store_foreach(st, CSE_DB_RESOURCES, prefix, plen, walk_fn, &w);
}

bool cse_res_expired(const Tep__Resource *r, int64_t now)
{
    return r->et != 0 && r->et <= now;
}

/* expiry_fn's "past now": ends the walk of the index, not an error. */
#define EXPIRY_LATER 1

typedef struct {
    int64_t now;
    victims v; /* path and et of each entry due (ri and ty unknown: "" and 0) */
} expiry_ctx;

/* One entry of the expiry index, in et order: due ones collected, the first later one
 * ends the walk. */
static int expiry_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    expiry_ctx *e = arg;
    int64_t et = cse_res_expiry_key_et(key, klen);

    (void)val;
    (void)vlen;
    if (et < 0)
        return CMN_ECORRUPT;
    if (et > e->now)
        return EXPIRY_LATER;
    return victims_add(&e->v, (const char *)key + 8, klen - 8, "", 0, et);
}

/* Entries whose resource is gone or has another et now: dropped. */
static int expiry_drop_stale(cmn_store *st, const victims *stale)
{
    cmn_txn *t = NULL;
    int rc = stale->n > 0 ? cmn_store_txn_begin(st, &t) : 0;

    for (size_t i = 0; rc == 0 && i < stale->n; i++)
        rc = cse_res_txn_unindex_expiry(t, stale->ets[i], stale->paths[i]);
    if (t == NULL)
        return rc;
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

int cse_res_expire(cmn_store *st, int64_t now, size_t *ret_n)
{
    expiry_ctx e = {.now = now};
    victims stale = {0};
    Tep__Resource *r = NULL;
    int rc = cmn_store_foreach(st, CSE_DB_EXPIRY, NULL, 0, expiry_fn, &e);

    *ret_n = 0;
    if (rc == EXPIRY_LATER)
        rc = 0;
    /* A resource deleted with an ancestor that expired first is not found again. */
    for (size_t i = 0; rc == 0 && i < e.v.n; i++) {
        int got = cse_res_get(st, e.v.paths[i], &r);
        if (got == 0 && r->et == e.v.ets[i]) {
            if (cse_res_delete(st, r, now) == CMN_RSC_DELETED)
                (*ret_n)++;
        } else if (got == 0 || got == CMN_ENOTFOUND) {
            rc = victims_add(&stale, e.v.paths[i], strlen(e.v.paths[i]), "", 0, e.v.ets[i]);
        }
        cse_res_free(r);
        r = NULL;
    }
    if (rc == 0)
        rc = expiry_drop_stale(st, &stale);
    victims_free(&stale);
    victims_free(&e.v);
    return rc;
}

/* ---- subscriptions index ----------------------------------------------------------- */

typedef struct {
    cmn_store *st;
    const char *parent;
    size_t plen;
    cse_res_visit_fn fn;
    void *arg;
} subs_ctx;

static int subs_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    subs_ctx *s = arg;
    char path[CSE_PATH_MAX];
    Tep__Resource *r = NULL;
    int rc;

    if (vlen != s->plen || memcmp(val, s->parent, vlen) != 0 || klen >= sizeof(path))
        return 0;
    memcpy(path, key, klen);
    path[klen] = '\0';
    if (cse_res_get(s->st, path, &r) != 0)
        return 0;
    rc = s->fn(r, s->arg);
    cse_res_free(r);
    return rc;
}

int cse_res_subs_of(cmn_store *st, const char *parent_path, cse_res_visit_fn fn, void *arg)
{
    subs_ctx s = {st, parent_path, strlen(parent_path), fn, arg};

    return cmn_store_foreach(st, CSE_DB_SUBS, NULL, 0, subs_fn, &s);
}
