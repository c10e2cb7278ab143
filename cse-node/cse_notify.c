/* Subscriptions and notifications (TS-0004 7.4.8, 7.5.1): which subscriptions an event
 * reaches, the m2m:sgn bodies, and the verification request of a new notificationURI.
 * Sending is the CoAP glue's (cse_node.notify; verification through cse_rsp). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_json.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_client.h"
#include "cse_ctx.h"

#define SUB "notify"

static bool wants(json_t *sub, int net)
{
    json_t *nets = json_object_get(json_object_get(sub, "enc"), "net");
    json_t *e;
    size_t i;

    if (!json_is_array(nets) || json_array_size(nets) == 0)
        return net == 1; /* default: update of the subscribed-to resource */
    json_array_foreach(nets, i, e) {
        if (json_integer_value(e) == net)
            return true;
    }
    return false;
}

/* nct 1/2: the resource; 3: its ID only. */
static json_t *representation(const Tep__Resource *subject, json_t *sub)
{
    json_t *a;

    if (json_integer_value(json_object_get(sub, "nct")) == 3)
        return json_string(subject->path);
    a = json_loads(subject->json, 0, NULL);
    return a != NULL ? json_pack("{s:o}", cmn_json_ty_key(subject->ty), a) : NULL;
}

static char *sgn_body(const Tep__Resource *s, json_t *sub, const Tep__Resource *subject, int net)
{
    json_t *rep = representation(subject, sub);
    json_t *sgn;
    char *out;

    if (rep == NULL)
        return NULL;
    sgn = json_pack("{s:{s:{s:o, s:i}, s:s}}", "m2m:sgn", "nev", "rep", rep, "net", (json_int_t)net,
                    "sur", s->path);
    out = sgn != NULL ? json_dumps(sgn, JSON_COMPACT) : NULL;
    json_decref(sgn);
    return out;
}

#define COUNTED_MAX 32

typedef struct {
    cse_node *node;
    int net;
    const Tep__Resource *subject;
    int64_t now;
    char *counted[COUNTED_MAX]; /* subscriptions with an exc to count down */
    size_t n_counted;
} event_ctx;

static int event_fn(const Tep__Resource *s, void *arg)
{
    event_ctx *e = arg;
    json_t *sub, *nu;
    char *body;
    size_t i;

    if (s->ty != CMN_TY_SUB || cse_res_expired(s, e->now))
        return 0;
    sub = json_loads(s->json, 0, NULL);
    if (sub != NULL && wants(sub, e->net) &&
        (body = sgn_body(s, sub, e->subject, e->net)) != NULL) {
        json_array_foreach(json_object_get(sub, "nu"), i, nu)
            e->node->notify(e->node->notify_arg, json_string_value(nu), s->creator, body);
        CMN_INFO(SUB, "event=notification sub=%s net=%d targets=%zu", s->path, e->net,
                 json_array_size(json_object_get(sub, "nu")));
        free(body);
        if (json_is_integer(json_object_get(sub, "exc")) && e->n_counted < COUNTED_MAX)
            e->counted[e->n_counted++] = strdup(s->path);
    }
    json_decref(sub);
    return 0;
}

void cse_notify_deleted(cse_node *node, const Tep__Resource *sub)
{
    json_t *a = json_loads(sub->json, 0, NULL);
    const char *su = json_string_value(json_object_get(a, "su"));
    json_t *sgn;
    char *body;

    if (node->notify != NULL && su != NULL) {
        sgn = json_pack("{s:{s:b, s:s}}", "m2m:sgn", "sud", 1, "sur", sub->path);
        body = sgn != NULL ? json_dumps(sgn, JSON_COMPACT) : NULL;
        if (body != NULL)
            node->notify(node->notify_arg, su, sub->creator, body);
        free(body);
        json_decref(sgn);
    }
    json_decref(a);
}

/* expirationCounter (exc): one less per notification; at 0 the subscription goes. */
static void count_down(cse_node *node, const char *path, int64_t now)
{
    Tep__Resource *r = NULL, *updated = NULL;
    json_t *a = NULL, *upd = NULL;
    json_int_t exc;

    if (cse_res_get(node->store, path, &r) != 0 || (a = json_loads(r->json, 0, NULL)) == NULL)
        goto out;
    exc = json_integer_value(json_object_get(a, "exc"));
    if (exc <= 1) {
        cse_notify_deleted(node, r);
        cse_res_delete(node->store, r, now);
        CMN_INFO(SUB, "event=subscription_expired sub=%s reason=exc", path);
        goto out;
    }
    upd = json_pack("{s:I}", "exc", exc - 1);
    if (upd != NULL)
        cse_res_update(node->store, r, upd, now, &updated);
out:
    cse_res_free(updated);
    cse_res_free(r);
    json_decref(upd);
    json_decref(a);
}

void cse_notify_event(cse_node *node, const char *watched, int net, const Tep__Resource *subject,
                      int64_t now)
{
    event_ctx e = {.node = node, .net = net, .subject = subject, .now = now};

    if (node->notify == NULL || watched == NULL || watched[0] == '\0')
        return;
    if (subject->ty == CMN_TY_SUB && net >= 3)
        return; /* a subscription coming or going is not an event of its parent */
    cse_res_subs_of(node->store, watched, event_fn, &e);
    for (size_t i = 0; i < e.n_counted; i++) {
        if (e.counted[i] != NULL && net != 2) /* on net 2 the subscription goes anyway */
            count_down(node, e.counted[i], now);
        free(e.counted[i]);
    }
}

/* ---- verification ------------------------------------------------------------------ */

static unsigned fill_verify(cse_ctx *c, const char *sur, json_t *nus, cse_rsp *rsp)
{
    json_t *v =
        json_pack("{s:{s:b, s:s, s:s}}", "m2m:sgn", "vrq", 1, "sur", sur, "cr", c->who.originator);
    json_t *nu;
    const char *why;
    size_t i;

    /* the quota's key: one originator however it is spelled */
    snprintf(rsp->verify_cr, sizeof(rsp->verify_cr), "%s",
             cse_binding_local_id(c->node->cse_id, c->who.originator));
    rsp->verify_body = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (rsp->verify_body == NULL)
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    json_array_foreach(nus, i, nu) {
        const char *s = json_string_value(nu);

        if (strcmp(s, c->who.originator) == 0)
            continue;
        /* a target the CSE may not send to: the verification cannot be initiated
         * (TS-0004 7.4.8.2.1 Recv-6.4 a) */
        why = "no_target_check";
        if (c->node->target_allowed == NULL ||
            c->node->target_allowed(c->node, s, c->who.originator, &why) != 0) {
            snprintf(rsp->reason, sizeof(rsp->reason), "%s", why);
            return CMN_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED;
        }
        if (rsp->n_verify >= CSE_VERIFY_MAX) { /* an unverified target would be flooded */
            snprintf(rsp->reason, sizeof(rsp->reason), "more_than_%d_targets_to_verify",
                     CSE_VERIFY_MAX);
            return CMN_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED;
        }
        rsp->verify_nu[rsp->n_verify] = strdup(s);
        if (rsp->verify_nu[rsp->n_verify] == NULL)
            return CMN_RSC_INTERNAL_SERVER_ERROR;
        rsp->n_verify++;
    }
    return 0;
}

static bool needs_verification(cse_ctx *c, json_t *nus)
{
    json_t *nu;
    size_t i;

    json_array_foreach(nus, i, nu) {
        if (strcmp(json_string_value(nu), c->who.originator) != 0)
            return true;
    }
    return false;
}

unsigned cse_notify_verify(cse_ctx *c, const char *sur, json_t *attrs, cse_rsp *rsp)
{
    json_t *nus = json_object_get(attrs, "nu");
    unsigned rsc;

    if (!needs_verification(c, nus) || c->req->verified > 0)
        return 0;
    if (c->req->verified < 0 || c->node->notify == NULL) {
        snprintf(rsp->reason, sizeof(rsp->reason), "notification_target_did_not_verify");
        return CMN_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED;
    }
    rsc = fill_verify(c, sur, nus, rsp);
    return rsc != 0 ? rsc : CSE_RSC_PENDING;
}
