/* The oneM2M operations on a resolved target (TS-0004 7.3.3 / 7.4): CREATE, RETRIEVE
 * (with discovery and the result-content variants), UPDATE, DELETE and NOTIFY. The
 * caller (cse_request.c) has bound the originator and loaded the target. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_container.h"
#include "cse_ctx.h"
#include "cse_discovery.h"
#include "cse_remotecse.h"
#include "cse_sync.h"
#include "cse_validate.h"

#define SUB "req"

/* ---- result content ---------------------------------------------------------------- */

/* rcn allowed per operation (TS-0004 6.3.4.2.11 / 8.1.2): default when absent. */
static unsigned rcn_for(cse_ctx *c, int dflt, unsigned allowed_mask, int *ret, cse_rsp *rsp)
{
    *ret = c->q.rcn < 0 ? dflt : c->q.rcn;
    if ((allowed_mask & (1u << *ret)) != 0)
        return 0;
    snprintf(rsp->reason, sizeof(rsp->reason), "rcn_%d_not_valid_for_operation", *ret);
    return CMN_RSC_BAD_REQUEST;
}

static char *dump(json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    return s;
}

static json_t *attrs_of(const Tep__Resource *r)
{
    return json_loads(r->json, 0, NULL);
}

/* rcn 0..3 of CREATE (and 0/1 of UPDATE, DELETE). */
static char *created_body(const Tep__Resource *r, int rcn)
{
    const char *key = cmn_json_ty_key(r->ty);
    json_t *a;

    switch (rcn) {
    case CSE_RCN_NOTHING:
        return NULL;
    case CSE_RCN_HIER_ADDR:
        return dump(json_pack("{s:s}", "m2m:uri", r->path));
    case CSE_RCN_HIER_ADDR_ATTRS:
        a = attrs_of(r);
        return a != NULL ? dump(json_pack("{s:{s:o, s:s}}", "m2m:rce", key, a, "uri", r->path))
                         : NULL;
    default:
        return cse_res_render(r);
    }
}

/* ---- create ------------------------------------------------------------------------ */

/* AE-ID of a new AE: the bound/given one, or CSE-assigned "C..."/"S..." (TS-0001 7.2). */
static unsigned ae_id_for(cse_ctx *c, char *ret, size_t len)
{
    uint8_t rnd[8];
    char hex[17];

    if (c->who.originator[0] != '\0') {
        snprintf(ret, len, "%s", c->who.originator);
        return 0;
    }
    if (cmn_random(rnd, sizeof(rnd)) != 0)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    cmn_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(ret, len, "%c%s", c->who.assign_prefix == 'S' ? 'S' : 'C', hex);
    snprintf(c->who.originator, sizeof(c->who.originator), "%s", ret);
    return 0;
}

/* An AE's rn is the last segment of its structured address, the same namespace as the
 * AE-IDs (an AE registered without rn is addressed "<cse>/<AE-ID>"). An rn equal to
 * another AE's AE-ID, registered here or enrolled (known from the enroller's events)
 * and not registered yet, would take that AE's address and make its registration fail
 * with 4105 for ever (issue 10): the squatter gets 4105 CONFLICT itself (TS-0004 7.3.3.2:
 * a name that is taken). */
static unsigned ae_rn_free(cse_ctx *c, json_t *attrs, const char *ae_id, cse_rsp *rsp)
{
    const char *rn = json_string_value(json_object_get(attrs, "rn"));
    Tep__Resource *r = NULL;
    bool taken;

    if (rn == NULL || strcmp(rn, ae_id) == 0)
        return 0;
    taken = cse_cred_is_enrolled(c->node->store, rn);
    if (!taken && cse_res_get_by_ri(c->node->store, rn, &r) == 0)
        taken = r->ty == CMN_TY_AE;
    cse_res_free(r);
    if (!taken)
        return 0;
    snprintf(rsp->reason, sizeof(rsp->reason), "rn_is_another_ae_id");
    CMN_WARN(SUB, "event=ae_rn_refused reason=rn_is_another_ae_id");
    return CMN_RSC_CONFLICT;
}

/* contentInstance: bigger than the container's mbs is NOT_ACCEPTABLE (TS-0004 7.4.7). */
static unsigned cin_fits(const Tep__Resource *cnt, json_t *attrs, cse_rsp *rsp)
{
    json_t *a = attrs_of(cnt);
    json_t *mbs = json_object_get(a, "mbs");
    json_t *con = json_object_get(attrs, "con");
    size_t cs = json_is_string(con) ? json_string_length(con) : 0;
    unsigned rsc = 0;

    if (json_is_integer(mbs) && (json_int_t)cs > json_integer_value(mbs)) {
        snprintf(rsp->reason, sizeof(rsp->reason), "content_larger_than_mbs");
        rsc = CMN_RSC_NOT_ACCEPTABLE;
    }
    json_decref(a);
    return rsc;
}

static unsigned pre_create(cse_ctx *c, json_t *attrs, cse_rsp *rsp)
{
    unsigned rsc = 0;

    /* AE and CSE registration are not decided by the parent's policies (TS-0004
     * 7.4.4.2.1, 7.4.5.2.1: the credential and From are checked instead) */
    if (c->req->ty == CMN_TY_CSR)
        return cse_csr_check_create(c, attrs, rsp);
    if (c->req->ty != CMN_TY_AE && (rsc = cse_ctx_access(c, c->target, CMN_ACOP_CREATE)) != 0)
        return rsc;
    /* Subscribing also needs Retrieve on the subscribed-to resource (TS-0004 7.4.8.2.1
     * Recv-6.3, TS-0001 9.6.8): Create alone would read every change by notification. */
    if (c->req->ty == CMN_TY_SUB && (rsc = cse_ctx_access(c, c->target, CMN_ACOP_RETRIEVE)) != 0)
        return rsc;
    if (c->req->ty == CMN_TY_CIN && c->target->ty == CMN_TY_CNT)
        rsc = cin_fits(c->target, attrs, rsp);
    if (rsc == 0 && c->req->ty == CMN_TY_GRP)
        rsc = cse_group_check_members(c, attrs, NULL);
    return rsc;
}

static void post_create(cse_ctx *c, const Tep__Resource *made)
{
    /* A contentInstance's container evicted what its limits no longer allow in the
     * transaction that stored it (cse_res_create). */
    cse_notify_event(c->node, c->target->path, 3, made, c->req->now);
}

/* The subscription's name is fixed before verification, so that the verification
 * request names it (sur) and the retried request creates the same one. */
static unsigned verify_new_sub(cse_ctx *c, json_t *attrs, cse_rsp *rsp)
{
    char sur[CSE_PATH_MAX];
    const char *rn = json_string_value(json_object_get(attrs, "rn"));
    uint8_t rnd[6];
    char hex[13];

    if (rn == NULL && c->req->sub_rn != NULL) {
        json_object_set_new(attrs, "rn", json_string(c->req->sub_rn));
    } else if (rn == NULL) {
        if (cmn_random(rnd, sizeof(rnd)) != 0)
            return CMN_RSC_INTERNAL_SERVER_ERROR;
        cmn_hex_encode(rnd, sizeof(rnd), hex);
        json_object_set_new(attrs, "rn", json_pack("s+", "sub", hex));
    }
    rn = json_string_value(json_object_get(attrs, "rn"));
    snprintf(rsp->verify_rn, sizeof(rsp->verify_rn), "%s", rn);
    snprintf(sur, sizeof(sur), "%s/%s", c->target->path, rn);
    return cse_notify_verify(c, sur, attrs, rsp);
}

static unsigned do_create(cse_ctx *c, json_t *attrs, int rcn, cse_rsp *rsp)
{
    cse_res_create_in in = {.ty = c->req->ty, .attrs = attrs, .now = c->req->now};
    Tep__Resource *made = NULL;
    char ae_id[256] = "";
    unsigned rsc = pre_create(c, attrs, rsp);

    if (rsc == 0 && in.ty == CMN_TY_AE)
        rsc = ae_id_for(c, ae_id, sizeof(ae_id));
    if (rsc == 0 && in.ty == CMN_TY_AE)
        rsc = ae_rn_free(c, attrs, ae_id, rsp);
    if (rsc == 0 && in.ty == CMN_TY_AE) /* serviceSubscribedAppRule: 4126 */
        rsc = cse_apprules_check_registration(c->node->app_rules, c->node->store, ae_id,
                                              json_string_value(json_object_get(attrs, "api")));
    if (rsc == 0 && in.ty == CMN_TY_SUB)
        rsc = verify_new_sub(c, attrs, rsp);
    if (rsc == 0) {
        in.originator = c->who.originator;
        in.ae_id = ae_id;
        rsc = cse_res_create(c->node->store, c->target, &in, &made);
    }
    if (rsc == CMN_RSC_CREATED) {
        rsp->body = created_body(made, rcn);
        snprintf(rsp->location, sizeof(rsp->location), "%s", made->path);
        post_create(c, made);
    }
    cse_res_free(made);
    return rsc;
}

unsigned cse_ops_create(cse_ctx *c, cse_rsp *rsp)
{
    json_t *root = NULL, *attrs = NULL;
    int rcn;
    unsigned rsc = rcn_for(c, CSE_RCN_ATTRS, 0xf, &rcn, rsp);

    if (rsc == 0)
        rsc = cse_ctx_body(c, c->req->ty, &root, &attrs);
    if (rsc == 0 && (rsc = cse_validate_create(c->req->ty, cse_validate_release(c->req->rvi), attrs,
                                               rsp->reason, sizeof(rsp->reason))) != 0)
        CMN_INFO(SUB, "event=bad_request reason=%s", rsp->reason);
    if (rsc == 0)
        rsc = do_create(c, attrs, rcn, rsp);
    json_decref(root);
    return rsc;
}

/* ---- retrieve ---------------------------------------------------------------------- */

typedef struct {
    cse_ctx *c;
    uint32_t acop;
} allow_ctx;

static cse_disc_verdict allow_fn(const Tep__Resource *r, void *arg)
{
    allow_ctx *a = arg;

    if (cse_ctx_access(a->c, r, a->acop) == 0)
        return CSE_DISC_ALLOW;
    return a->c->open ? CSE_DISC_OPEN : CSE_DISC_DENY;
}

static unsigned discover(cse_ctx *c, cse_rsp *rsp)
{
    allow_ctx a = {c, CMN_ACOP_DISCOVERY};
    json_t *uril = NULL;
    unsigned rsc = cse_ctx_access(c, c->target, CMN_ACOP_DISCOVERY);

    if (rsc != 0)
        return rsc;
    if (cse_disc_find(c->node->store, c->target, &c->q, false, CSE_DISC_IDS, c->req->now, allow_fn,
                      &a, &uril) != 0)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    rsp->body = dump(json_pack("{s:o}", "m2m:uril", uril));
    return rsp->body != NULL ? CMN_RSC_OK : CMN_RSC_INTERNAL_SERVER_ERROR;
}

/* Children as {"m2m:cnt": [...], "m2m:cin": [...]} members of obj. */
static int add_children(json_t *obj, json_t *list)
{
    json_t *item, *arr;
    const char *key;
    json_t *v;
    size_t i;

    json_array_foreach(list, i, item) {
        json_object_foreach(item, key, v) {
            arr = json_object_get(obj, key);
            if (arr == NULL) {
                arr = json_array();
                if (arr == NULL || json_object_set_new(obj, key, arr) != 0)
                    return CMN_ENOMEM;
            }
            json_array_append(arr, v);
        }
    }
    return 0;
}

static json_t *with_children(cse_ctx *c, int rcn, json_t *kids)
{
    json_t *a = rcn == CSE_RCN_CHILDREN ? json_object() : attrs_of(c->target);

    if (a == NULL)
        return NULL;
    if (rcn == CSE_RCN_ATTRS_CHILD_REFS)
        json_object_set(a, "ch", kids);
    else
        add_children(a, kids);
    return json_pack("{s:o}", cmn_json_ty_key(c->target->ty), a);
}

static unsigned retrieve_children(cse_ctx *c, int rcn, cse_rsp *rsp)
{
    allow_ctx a = {c, CMN_ACOP_RETRIEVE};
    cse_disc_form form = rcn == CSE_RCN_ATTRS_CHILD_REFS || rcn == CSE_RCN_CHILD_REFS
                             ? CSE_DISC_REFS
                             : CSE_DISC_RESOURCES;
    json_t *kids = NULL, *out;

    if (cse_disc_find(c->node->store, c->target, &c->q, true, form, c->req->now, allow_fn, &a,
                      &kids) != 0)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    if (rcn == CSE_RCN_CHILD_REFS)
        out = json_pack("{s:{s:O}}", "m2m:rrl", "rrf", kids);
    else
        out = with_children(c, rcn, kids);
    json_decref(kids);
    rsp->body = dump(out);
    return rsp->body != NULL ? CMN_RSC_OK : CMN_RSC_INTERNAL_SERVER_ERROR;
}

/* deletionCnt (Release 4, contentInstance): the instance goes after it has been
 * retrieved dcnt times; each retrieval counts it down (the answer shows the count
 * before). */
static void count_retrieval(cse_ctx *c)
{
    json_t *a, *dcnt, *upd;
    Tep__Resource *updated = NULL;

    if (strstr(c->target->json, "\"dcnt\"") == NULL)
        return; /* no deletionCnt: nothing to parse (the stored text names every key) */
    a = attrs_of(c->target);
    dcnt = json_object_get(a, "dcnt");

    if (json_is_integer(dcnt) && json_integer_value(dcnt) <= 1) {
        if (cse_res_delete(c->node->store, c->target, c->req->now) == CMN_RSC_DELETED) {
            CMN_INFO(SUB, "event=deletion_cnt_reached path=%s", c->target->path);
            cse_notify_event(c->node, c->target->parent_path, 4, c->target, c->req->now);
        }
    } else if (json_is_integer(dcnt)) {
        upd = json_pack("{s:I}", "dcnt", json_integer_value(dcnt) - 1);
        if (upd != NULL)
            cse_res_update(c->node->store, c->target, upd, c->req->now, &updated);
        cse_res_free(updated);
        json_decref(upd);
    }
    json_decref(a);
}

unsigned cse_ops_retrieve(cse_ctx *c, cse_rsp *rsp)
{
    const unsigned allowed = 1u << 1 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8;
    int rcn;
    unsigned rsc;

    if (c->q.fu == 1)
        return discover(c, rsp);
    if ((rsc = rcn_for(c, CSE_RCN_ATTRS, allowed, &rcn, rsp)) != 0)
        return rsc;
    /* a registered CSE (or the registrar) reads this CSEBase's attributes (TS-0004
     * 7.4.4.2.1: the registree "may issue a RETRIEVE request to the registrar <CSEBase>") */
    if (!(c->target->ty == CMN_TY_CSEBASE && rcn == CSE_RCN_ATTRS &&
          cse_csr_is_peer(c->node, c->who.originator)) &&
        (rsc = cse_ctx_access(c, c->target, CMN_ACOP_RETRIEVE)) != 0)
        return rsc;
    if (c->target->ty == CMN_TY_CNT)
        cse_cnt_enforce_age(c->node->store, c->target, c->req->now);
    if (rcn != CSE_RCN_ATTRS)
        return retrieve_children(c, rcn, rsp);
    rsp->body = cse_res_render(c->target);
    if (rsp->body == NULL)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    if (c->target->ty == CMN_TY_CIN)
        count_retrieval(c);
    return CMN_RSC_OK;
}

/* ---- update ------------------------------------------------------------------------ */

/* TS-0001 9.6.1.3.2: acpi is changed alone, with Update in the selfPrivileges (pvs) of
 * the ACPs it references now; any other attribute with Update in their privileges (pv). */
static unsigned update_access(cse_ctx *c, json_t *attrs, cse_rsp *rsp)
{
    if (json_object_get(attrs, "acpi") == NULL)
        return cse_ctx_access(c, c->target, CMN_ACOP_UPDATE);
    if (json_object_size(attrs) != 1) {
        snprintf(rsp->reason, sizeof(rsp->reason), "acpi_must_be_the_only_attribute");
        CMN_INFO(SUB, "event=bad_request reason=%s", rsp->reason);
        return CMN_RSC_BAD_REQUEST;
    }
    return cse_ctx_access_scope(c, c->target, CMN_ACOP_UPDATE, CSE_PEP_ACPI);
}

/* A registree's new dcse and poa are bounded and checked as at registration. */
static unsigned csr_update_check(cse_ctx *c, json_t *attrs, cse_rsp *rsp)
{
    json_t *cur = json_loads(c->target->json, 0, NULL);
    const char *csi = json_string_value(json_object_get(cur, "csi"));
    unsigned rsc =
        csi != NULL ? cse_csr_check_attrs(c, csi, attrs, rsp) : CMN_RSC_INTERNAL_SERVER_ERROR;

    json_decref(cur);
    return rsc;
}

static unsigned do_update(cse_ctx *c, json_t *attrs, int rcn, cse_rsp *rsp)
{
    Tep__Resource *updated = NULL;
    unsigned rsc = update_access(c, attrs, rsp);

    if (rsc == 0 && c->target->ty == CMN_TY_GRP && json_object_get(attrs, "mid") != NULL)
        rsc = cse_group_check_members(c, attrs, c->target);
    if (rsc == 0 && c->target->ty == CMN_TY_SUB && json_object_get(attrs, "nu") != NULL)
        rsc = cse_notify_verify(c, c->target->path, attrs, rsp);
    if (rsc == 0 && c->target->ty == CMN_TY_CSR)
        rsc = csr_update_check(c, attrs, rsp);
    if (rsc == 0)
        rsc = cse_res_update(c->node->store, c->target, attrs, c->req->now, &updated);
    if (rsc != CMN_RSC_UPDATED)
        return rsc;
    if (updated->ty == CMN_TY_CNT)
        cse_cnt_enforce(c->node->store, updated, c->req->now);
    c->node->csr_changed |= updated->ty == CMN_TY_CSR; /* descendantCSEs may have changed */
    rsp->body = created_body(updated, rcn);
    cse_notify_event(c->node, updated->path, 1, updated, c->req->now);
    cse_res_free(updated);
    return rsc;
}

unsigned cse_ops_update(cse_ctx *c, cse_rsp *rsp)
{
    json_t *root = NULL, *attrs = NULL;
    int rcn;
    unsigned rsc = rcn_for(c, CSE_RCN_ATTRS, 0x3, &rcn, rsp);

    if (rsc == 0 && c->req->ty != 0 && c->req->ty != c->target->ty) {
        snprintf(rsp->reason, sizeof(rsp->reason), "ty_does_not_match_target");
        rsc = CMN_RSC_BAD_REQUEST;
    }
    /* TS-0004 7.4.3.2.3: the CSEBase is not updated via the API, whatever the body */
    if (rsc == 0 && c->target->ty == CMN_TY_CSEBASE) {
        snprintf(rsp->reason, sizeof(rsp->reason), "csebase_cannot_be_updated");
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    }
    /* no body at all: the empty resource, an UPDATE that refreshes lt only */
    if (rsc == 0 && (c->req->body == NULL || c->req->body_len == 0))
        attrs = root = json_object();
    else if (rsc == 0)
        rsc = cse_ctx_body(c, c->target->ty, &root, &attrs);
    if (rsc == 0 && attrs == NULL)
        rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    if (rsc == 0 && (rsc = cse_validate_update(c->target->ty, cse_validate_release(c->req->rvi),
                                               attrs, rsp->reason, sizeof(rsp->reason))) != 0)
        CMN_INFO(SUB, "event=bad_request reason=%s", rsp->reason);
    if (rsc == 0)
        rsc = do_update(c, attrs, rcn, rsp);
    json_decref(root);
    return rsc;
}

/* ---- delete ------------------------------------------------------------------------ */

unsigned cse_ops_delete(cse_ctx *c, cse_rsp *rsp)
{
    int rcn;
    unsigned rsc = rcn_for(c, CSE_RCN_NOTHING, 0x3, &rcn, rsp);

    /* TS-0004 7.4.3.2.4: the CSEBase cannot be deleted, by anyone */
    if (rsc == 0 && c->target->ty == CMN_TY_CSEBASE) {
        snprintf(rsp->reason, sizeof(rsp->reason), "csebase_cannot_be_deleted");
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    }
    if (rsc == 0)
        rsc = cse_ctx_access(c, c->target, CMN_ACOP_DELETE);
    if (rsc != 0)
        return rsc;
    cse_notify_event(c->node, c->target->path, 2, c->target, c->req->now);
    if (c->target->ty == CMN_TY_SUB)
        cse_notify_deleted(c->node, c->target);
    rsc = cse_res_delete(c->node->store, c->target, c->req->now);
    if (rsc == CMN_RSC_DELETED) {
        c->node->csr_changed |= c->target->ty == CMN_TY_CSR; /* de-registration */
        rsp->body = created_body(c->target, rcn);
        cse_notify_event(c->node, c->target->parent_path, 4, c->target, c->req->now);
    }
    return rsc;
}

/* ---- notify ------------------------------------------------------------------------ */

/* The body is {"m2m:seci":{"sit":3|5|6,...}}: an ESPrim or ESCertKE exchange. */
static bool is_seci(const cse_req *req)
{
    json_t *root = req->body != NULL
                       ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL)
                       : NULL;
    json_int_t sit = json_integer_value(json_object_get(json_object_get(root, "m2m:seci"), "sit"));
    bool yes = json_object_size(root) == 1 && (sit == 3 || sit == 5 || sit == 6);

    json_decref(root);
    return yes;
}

/* A NOTIFY addressed to a resource of this CSE (TS-0004 7.3.3.10): to an AE it is
 * forwarded to the AE's pointOfAccess (one carrying an m2m:seci, ESPrim or ESCertKE with
 * the AE as End-Point B, is relayed: the AE's answer is the answer); to anything else it
 * is accepted and logged. */
unsigned cse_ops_notify(cse_ctx *c, cse_rsp *rsp)
{
    /* a CSE registered with this one (or its registrar) notifies this CSE itself over
     * their security association (issue 14 item 5) */
    bool peer = c->target->ty == CMN_TY_CSEBASE && c->who.rq_authn &&
                cse_csr_is_peer(c->node, c->who.originator);
    unsigned rsc = peer ? 0 : cse_ctx_access(c, c->target, CMN_ACOP_NOTIFY);
    char *body;

    (void)rsp;
    if (rsc != 0)
        return rsc;
    if (c->req->body == NULL || c->req->body_len == 0)
        return CMN_RSC_BAD_REQUEST;
    if (c->target->ty == CMN_TY_AE && is_seci(c->req)) {
        rsp->forward = true;
        rsp->fwd_ae = true;
        snprintf(rsp->fwd_hop, sizeof(rsp->fwd_hop), "%s", c->target->path);
        snprintf(rsp->fwd_from, sizeof(rsp->fwd_from), "%s", c->who.originator);
        return 0;
    }
    if (c->target->ty == CMN_TY_AE && c->node->notify != NULL) {
        body = strndup(c->req->body, c->req->body_len);
        if (body == NULL)
            return CMN_RSC_INTERNAL_SERVER_ERROR;
        c->node->notify(c->node->notify_arg, c->target->ri, c->who.originator, body);
        free(body);
    }
    CMN_INFO(SUB, "event=notify_received target=%s bytes=%zu", c->target->path, c->req->body_len);
    return CMN_RSC_OK;
}
