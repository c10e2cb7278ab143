/* <remoteCSE>: the registrar side of CSE registration and the routing table (see
 * cse_remotecse.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_binding.h"
#include "cse_remotecse.h"
#include "cse_resource.h"
#include "cse_saef.h"
#include "cse_sync.h"

#define SUB "csr"

bool cse_csr_is_cse_id(const char *id)
{
    size_t n;

    if (id == NULL || id[0] != '/' || id[1] == '\0' || id[1] == '/')
        return false;
    /* printable ASCII without space and the URI delimiters: it becomes a path segment
     * and a JSON string (a byte that is not UTF-8 would not) */
    for (n = 1; id[n] != '\0'; n++) {
        if (id[n] <= ' ' || id[n] >= 0x7f || strchr("/?#%\"\\", id[n]) != NULL)
            return false;
    }
    return n < 128;
}

/* ---- the <remoteCSE> resources under the CSEBase ----------------------------------- */

typedef bool (*csr_fn)(const Tep__Resource *r, json_t *attrs, void *arg);

typedef struct {
    csr_fn fn;
    void *arg;
} walk_ctx;

static int visit(const Tep__Resource *r, void *arg)
{
    walk_ctx *w = arg;
    json_t *a;
    bool stop;

    if (r->ty != CMN_TY_CSR || (a = json_loads(r->json, 0, NULL)) == NULL)
        return 0;
    /* one without a CSE-ID (never so when created here) leads nowhere */
    if (!cse_csr_is_cse_id(json_string_value(json_object_get(a, "csi")))) {
        json_decref(a);
        return 0;
    }
    stop = w->fn(r, a, w->arg);
    json_decref(a);
    return stop ? 1 : 0;
}

/* Calls fn for each <remoteCSE> (attrs parsed) until it returns true. */
static int each_csr(cmn_store *st, const char *cse_name, csr_fn fn, void *arg)
{
    walk_ctx w = {fn, arg};
    int rc = cse_res_walk(st, cse_name, true, visit, &w);

    return rc == 1 ? 0 : rc;
}

static bool in_list(json_t *list, const char *id)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), id) == 0)
            return true;
    }
    return false;
}

static const char *csi_of(json_t *a)
{
    const char *csi = json_string_value(json_object_get(a, "csi"));

    return csi != NULL ? csi : "";
}

/* ---- registration (registrar side) -------------------------------------------------- */

typedef struct {
    const char *csi;
    bool found;
} find_ctx;

static bool same_csi(const Tep__Resource *r, json_t *a, void *arg)
{
    find_ctx *f = arg;

    f->found = strcmp(csi_of(a), f->csi) == 0;
    return f->found;
}

static bool registered(cmn_store *st, const char *cse_name, const char *csi)
{
    find_ctx f = {csi, false};

    return each_csr(st, cse_name, same_csi, &f) == 0 && f.found;
}

static unsigned refuse(cse_rsp *rsp, unsigned rsc, const char *reason, const char *from)
{
    char shown[128];

    snprintf(rsp->reason, sizeof(rsp->reason), "%s", reason);
    CMN_WARN(SUB, "event=cse_registration_refused reason=%s from=%s rsc=%u", reason,
             cmn_log_value(from, shown, sizeof(shown)), rsc);
    return rsc;
}

/* "//<SP-ID>/<name>" of this SP is the SP-relative "/<name>" (TS-0001 7.2). */
static const char *sp_relative(const cse_node *node, const char *id)
{
    size_t n = node->sp_id != NULL ? strlen(node->sp_id) : 0;

    if (id != NULL && n > 0 && strncmp(id, "//", 2) == 0 && strncmp(id + 2, node->sp_id, n) == 0 &&
        id[2 + n] == '/')
        return id + 2 + n;
    return id;
}

unsigned cse_csr_check_create(cse_ctx *c, json_t *attrs, cse_rsp *rsp)
{
    const char *from = c->who.originator;
    const char *csi = sp_relative(c->node, json_string_value(json_object_get(attrs, "csi")));
    unsigned rsc;

    if (c->target->ty != CMN_TY_CSEBASE)
        return CMN_RSC_INVALID_CHILD_RESOURCE_TYPE;
    if (!cse_csr_is_cse_id(from))
        return refuse(rsp, CMN_RSC_OPERATION_NOT_ALLOWED, "originator_not_a_cse", from);
    if (csi != NULL && strcmp(csi, from) != 0)
        return refuse(rsp, CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED, "csi_is_not_the_originator", from);
    if (strcmp(from, c->node->cse_id) == 0 ||
        (c->node->registrar_csi != NULL && strcmp(from, c->node->registrar_csi) == 0))
        return refuse(rsp, CMN_RSC_OPERATION_NOT_ALLOWED, "registration_loop", from);
    if (registered(c->node->store, c->node->cse_name, from))
        return refuse(rsp, CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED, "cse_already_registered",
                      from);
    if ((rsc = cse_csr_check_attrs(c, from, attrs, rsp)) != 0)
        return rsc;
    json_object_set_new(attrs, "csi", json_string(from));
    /* always named after its CSE-ID: a registree naming its <remoteCSE> after another
     * CSE ("rn": "mn1") would take that CSE's name and its registration would get 4105 */
    json_object_set_new(attrs, "rn", json_string(from + 1));
    c->node->csr_changed = true;
    return 0;
}

/* ---- routing ------------------------------------------------------------------------ */

typedef struct {
    const char *csi;
    char *ret_csi, *ret_poa;
    size_t len;
    bool by_dcse, found;
} hop_ctx;

static bool leads_to(const Tep__Resource *r, json_t *a, void *arg)
{
    hop_ctx *h = arg;
    json_t *poa = json_object_get(a, "poa");

    if (h->by_dcse ? !in_list(json_object_get(a, "dcse"), h->csi) : strcmp(csi_of(a), h->csi) != 0)
        return false;
    snprintf(h->ret_csi, h->len, "%s", csi_of(a));
    snprintf(h->ret_poa, h->len, "%s",
             json_string_value(json_array_get(poa, 0)) != NULL
                 ? json_string_value(json_array_get(poa, 0))
                 : "");
    h->found = true;
    return true;
}

/* A CSE registered here under its own csi wins over any registree's dcse naming it: a
 * dcse entry cannot take the route (or the originators) of a registered CSE. */
int cse_csr_next_hop(cmn_store *st, const char *cse_name, const char *csi, char *ret_csi,
                     char *ret_poa, size_t len)
{
    hop_ctx h = {csi, ret_csi, ret_poa, len, false, false};
    int rc = each_csr(st, cse_name, leads_to, &h);

    if (rc == 0 && !h.found) {
        h.by_dcse = true;
        rc = each_csr(st, cse_name, leads_to, &h);
    }
    if (rc != 0)
        return rc;
    return h.found ? 0 : CMN_ENOTFOUND;
}

typedef struct {
    const char *self, *id;
    bool taken;
} claim_ctx;

static bool claimed(const Tep__Resource *r, json_t *a, void *arg)
{
    claim_ctx *k = arg;

    if (strcmp(csi_of(a), k->self) == 0)
        return false;
    k->taken = strcmp(csi_of(a), k->id) == 0 || in_list(json_object_get(a, "dcse"), k->id);
    return k->taken;
}

/* Whether the enrolment-target chain of the CSE id (CSE_DB_CSE_TARGETS) leads to self
 * through CSEs of dcse only: id registers (over the security association its Kpsa is
 * for) to self, or to a CSE of dcse that does. A CSE this CSE knows no enrolment of, or
 * one enrolled for a registrar elsewhere, is not behind self. */
static bool behind(cmn_store *st, const char *self, json_t *dcse, const char *id)
{
    char cur[CSE_TARGET_ID_MAX], t[CSE_TARGET_ID_MAX];
    size_t steps;

    snprintf(cur, sizeof(cur), "%s", id);
    for (steps = 0; steps <= json_array_size(dcse); steps++) {
        if (cse_cse_target(st, cur, t, sizeof(t)) != 0)
            return false;
        if (strcmp(t, self) == 0)
            return true;
        if (!in_list(dcse, t))
            return false;
        memcpy(cur, t, sizeof(cur));
    }
    return false; /* a cycle among the entries */
}

unsigned cse_csr_check_attrs(cse_ctx *c, const char *self, json_t *attrs, cse_rsp *rsp)
{
    const char *reg = c->node->registrar_csi;
    json_t *dcse = json_object_get(attrs, "dcse"), *e;
    size_t i;

    if (json_array_size(json_object_get(attrs, "poa")) > CSE_CSR_POA_MAX)
        return refuse(rsp, CMN_RSC_BAD_REQUEST, "too_many_poa", self);
    if (json_array_size(dcse) > CSE_CSR_DCSE_MAX)
        return refuse(rsp, CMN_RSC_BAD_REQUEST, "too_many_dcse", self);
    json_array_foreach(dcse, i, e) {
        const char *id = json_string_value(e);
        claim_ctx k = {self, id, false};

        if (!cse_csr_is_cse_id(id) || strlen(id) >= CSE_CSR_ID_MAX)
            return refuse(rsp, CMN_RSC_BAD_REQUEST, "dcse_not_a_cse_id", self);
        if (strcmp(id, self) == 0 || strcmp(id, c->node->cse_id) == 0 ||
            (reg != NULL && strcmp(id, reg) == 0))
            return refuse(rsp, CMN_RSC_BAD_REQUEST, "dcse_loop", self);
        if (each_csr(c->node->store, c->node->cse_name, claimed, &k) != 0)
            return CMN_RSC_INTERNAL_SERVER_ERROR;
        if (k.taken) /* registered here, or behind another registree already */
            return refuse(rsp, CMN_RSC_BAD_REQUEST, "dcse_names_another_cse", self);
        if (!behind(c->node->store, self, dcse, id))
            return refuse(rsp, CMN_RSC_BAD_REQUEST, "dcse_not_behind_registree", self);
    }
    return 0;
}

bool cse_csr_is_peer(const cse_node *node, const char *csi)
{
    if (!cse_csr_is_cse_id(csi))
        return false;
    if (node->registrar_csi != NULL && strcmp(csi, node->registrar_csi) == 0)
        return true;
    return registered(node->store, node->cse_name, csi);
}

typedef struct {
    const char *csi;
    char *ret;
    size_t len;
    bool found;
} base_ctx;

static bool base_of(const Tep__Resource *r, json_t *a, void *arg)
{
    base_ctx *b = arg;
    const char *cb = json_string_value(json_object_get(a, "cb"));

    if (strcmp(csi_of(a), b->csi) != 0)
        return false;
    b->found = cb != NULL && cb[0] == '/' && (size_t)snprintf(b->ret, b->len, "%s", cb) < b->len;
    return true;
}

int cse_csr_base(cmn_store *st, const char *cse_name, const char *csi, char *ret, size_t len)
{
    base_ctx b = {csi, ret, len, false};
    int rc = each_csr(st, cse_name, base_of, &b);

    return rc != 0 ? rc : b.found ? 0 : CMN_ENOTFOUND;
}

bool cse_csr_transit_from_ok(const cse_node *node, const char *peer, const char *from)
{
    char cse[CSE_CSR_ID_MAX], hop[CSE_CSR_ID_MAX], poa[CSE_CSR_ID_MAX];
    const char *end = from != NULL ? strchr(from + (from[0] == '/'), '/') : NULL;
    bool local = from == NULL || from[0] != '/' || from[1] == '/' ||
                 strcmp(from, node->cse_id) == 0 ||
                 cse_binding_local_id(node->cse_id, from) != from;
    bool registrar = node->registrar_csi != NULL && strcmp(peer, node->registrar_csi) == 0;
    size_t n;
    int rc;

    if (local || !cse_csr_is_cse_id(peer))
        return false;
    /* the CSE the originator belongs to: "/X" of "/X" or "/X/<rest>" */
    n = end != NULL ? (size_t)(end - from) : strlen(from);
    if (n >= sizeof(cse) || (end != NULL && end[1] == '\0'))
        return false;
    memcpy(cse, from, n);
    cse[n] = '\0';
    if (!cse_csr_is_cse_id(cse))
        return false;
    /* only the peer the route to that CSE leads to may speak for it; the registrar for
     * any CSE no registree leads to */
    rc = cse_csr_next_hop(node->store, node->cse_name, cse, hop, poa, sizeof(hop));
    if (rc == CMN_ENOTFOUND)
        return registrar;
    return rc == 0 && strcmp(hop, peer) == 0;
}

typedef struct {
    const cse_node *node;
    json_t *list;
} desc_ctx;

static bool add_descendants(const Tep__Resource *r, json_t *a, void *arg)
{
    desc_ctx *d = arg;
    const char *reg = d->node->registrar_csi;
    char t[CSE_TARGET_ID_MAX];
    json_t *e;
    size_t i;

    if (reg != NULL && strcmp(csi_of(a), reg) == 0)
        return false;
    /* only a registree enrolled for this CSE: the registrar believes no other (a CSE
     * registered over plain CoAP without an enrolment is reachable from here only) */
    if (cse_cse_target(d->node->store, csi_of(a), t, sizeof(t)) != 0 ||
        strcmp(t, d->node->cse_id) != 0)
        return false;
    if (csi_of(a)[0] != '\0' && !in_list(d->list, csi_of(a)))
        json_array_append_new(d->list, json_string(csi_of(a)));
    json_array_foreach(json_object_get(a, "dcse"), i, e) {
        if (json_is_string(e) && !in_list(d->list, json_string_value(e)))
            json_array_append(d->list, e);
    }
    return false;
}

json_t *cse_csr_descendants(const cse_node *node)
{
    desc_ctx d = {node, json_array()};

    if (d.list != NULL && each_csr(node->store, node->cse_name, add_descendants, &d) != 0) {
        json_decref(d.list);
        return NULL;
    }
    return d.list;
}

int cse_csr_set_own_type(cmn_store *st, const char *cse_name, int cst, const char *const *poa,
                         size_t n)
{
    Tep__Resource *base = NULL, *done = NULL;
    json_t *a = json_pack("{s:i, s:[]}", "cst", cst, "poa");
    unsigned rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    int rc = a != NULL ? cse_res_get(st, cse_name, &base) : CMN_ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (poa[i] != NULL && poa[i][0] != '\0')
            json_array_append_new(json_object_get(a, "poa"), json_string(poa[i]));
    }
    if (rc == 0 && json_array_size(json_object_get(a, "poa")) == 0)
        json_object_set_new(a, "poa", json_null()); /* none: the attribute goes */
    if (rc == 0)
        rsc = cse_res_update(st, base, a, (int64_t)time(NULL), &done);
    cse_res_free(done);
    cse_res_free(base);
    json_decref(a);
    return rc != 0 ? rc : rsc == CMN_RSC_UPDATED ? 0 : CMN_ESTORE;
}

typedef struct {
    const cse_node *node;
    char *ret;
    size_t len, at;
} list_ctx;

static bool list_one(const Tep__Resource *r, json_t *a, void *arg)
{
    list_ctx *l = arg;
    const char *csi = csi_of(a);
    int n;

    if (csi[0] == '\0' ||
        (l->node->registrar_csi != NULL && strcmp(csi, l->node->registrar_csi) == 0))
        return false;
    n = snprintf(l->ret + l->at, l->len - l->at, "%s%s%s", l->at > 0 ? "," : "", csi,
                 cse_saef_session_of(csi) != NULL ? ":sa" : "");
    if (n < 0 || (size_t)n >= l->len - l->at)
        return true; /* full */
    l->at += (size_t)n;
    return false;
}

void cse_csr_list(const cse_node *node, char *ret, size_t len)
{
    list_ctx l = {node, ret, len, 0};

    ret[0] = '\0';
    each_csr(node->store, node->cse_name, list_one, &l);
}
