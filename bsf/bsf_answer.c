/* tep-bsf's Zn and admin answers (see bsf_answer.h). */
#include "bsf_answer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsf_db.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_gba.h"
#include "cmn_log.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

#define STATUS_N 9
#define LIST_MAX 10000

void bsf_answer_zn(const bsf_config *cfg, cmn_store *store, const Tep__ZnRequest *rq, int64_t now,
                   Tep__ZnResponse *resp, uint8_t ks_naf_buf[32])
{
    Tep__GbaBootstrap *b = NULL;
    int rc;

    tep__zn_response__init(resp);
    if (!bsf_config_naf_allowed(cfg, rq->naf_fqdn)) {
        resp->err = CMN_EDENIED; /* not a NAF this BSF serves */
        CMN_INFO("zn", "event=zn_refused reason=naf_not_served");
        return;
    }
    rc = bsf_db_btid_get(store, rq->btid, &b);
    if (rc == 0 && b->expires <= now)
        rc = CMN_EEXPIRED;
    if (rc == 0)
        rc = cmn_gba_ks_naf(b->ks.data, b->rand.data, b->impi, rq->naf_fqdn, cmn_gba_ua_dtls_psk,
                            ks_naf_buf);
    if (rc == 0) {
        resp->ks_naf = (ProtobufCBinaryData){CMN_GBA_KS_NAF_LEN, ks_naf_buf};
        resp->impi = b->impi; /* until bsf_answer_zn_done */
        b->impi = NULL;
        resp->created = b->created;
        resp->expires = b->expires;
    }
    if (rc != 0) {
        cmn_wipe(ks_naf_buf, 32);
        resp->ks_naf = (ProtobufCBinaryData){0, NULL};
        resp->err = rc;
    }
    bsf_db_btid_free(b);
    CMN_INFO("zn", "event=zn btid=%s naf=%s err=\"%s\"", rc == CMN_ENOTFOUND ? "-" : rq->btid,
             rq->naf_fqdn, rc ? cmn_strerror(rc) : "");
}

void bsf_answer_zn_done(Tep__ZnResponse *resp)
{
    if (resp->impi != NULL && resp->impi != protobuf_c_empty_string)
        free(resp->impi);
    tep__zn_response__init(resp);
}

/* ---- admin -------------------------------------------------------------------------- */

typedef struct {
    Tep__AdminResponse *resp;
    int64_t now;
} list_ctx;

static int add_subscriber(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    list_ctx *c = arg;
    Tep__GbaSubscriber *s = tep__gba_subscriber__unpack(NULL, vlen, val);
    Tep__AdminResponse *r = c->resp;

    (void)key, (void)klen;
    if (s == NULL)
        return 0;
    cmn_wipe(s->k.data, s->k.len), cmn_wipe(s->opc.data, s->opc.len);
    s->k.len = s->opc.len = 0; /* never K or OPc on the bus back */
    if (r->n_gba_subscribers >= LIST_MAX) {
        tep__gba_subscriber__free_unpacked(s, NULL);
        return 1;
    }
    r->gba_subscribers[r->n_gba_subscribers++] = s;
    return 0;
}

static int add_btid(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    list_ctx *c = arg;
    Tep__GbaBootstrap *b = tep__gba_bootstrap__unpack(NULL, vlen, val);
    Tep__AdminResponse *r = c->resp;

    (void)key, (void)klen;
    if (b == NULL)
        return 0;
    cmn_wipe(b->ks.data, b->ks.len);
    b->ks.len = 0;
    b->rand.len = 0;
    if (r->n_gba_btids >= LIST_MAX) {
        tep__gba_bootstrap__free_unpacked(b, NULL);
        return 1;
    }
    r->gba_btids[r->n_gba_btids++] = b;
    return 0;
}

static void status(const bsf_config *cfg, const bsf_ub_stats *st, Tep__AdminResponse *resp)
{
    static const char *const keys[STATUS_N] = {"role",       "version", "ready",
                                               "bsf_name",   "ub",      "challenges",
                                               "bootstraps", "refused", "resyncs"};
    Tep__KeyValue **kvp = calloc(STATUS_N, sizeof(*kvp));
    char num[4][24];
    const char *vals[] = {"bsf",  TEP_VERSION, "true", cfg->bsf_name, cfg->ub_listen,
                          num[0], num[1],      num[2], num[3]};

    snprintf(num[0], sizeof(num[0]), "%" PRIu64, st->challenges);
    snprintf(num[1], sizeof(num[1]), "%" PRIu64, st->bootstraps);
    snprintf(num[2], sizeof(num[2]), "%" PRIu64, st->refused);
    snprintf(num[3], sizeof(num[3]), "%" PRIu64, st->resyncs);
    if (kvp == NULL) {
        resp->err = CMN_ENOMEM;
        return;
    }
    resp->status = kvp;
    for (size_t i = 0; i < STATUS_N; i++) {
        Tep__KeyValue *kv = malloc(sizeof(*kv));
        char *k = strdup(keys[i]), *v = strdup(vals[i]);

        if (kv == NULL || k == NULL || v == NULL) {
            free(kv), free(k), free(v);
            resp->err = CMN_ENOMEM;
            break;
        }
        tep__key_value__init(kv);
        kv->key = k;
        kv->value = v;
        kvp[resp->n_status++] = kv;
    }
}

void bsf_answer_admin(const bsf_config *cfg, cmn_store *store, const bsf_ub_stats *st, int64_t now,
                      const Tep__Envelope *in, Tep__Envelope *out, Tep__AdminResponse *resp)
{
    const Tep__AdminRequest *rq = in->admin_req;
    list_ctx c = {resp, now};
    int rc = 0;

    tep__admin_response__init(resp);
    out->body_case = TEP__ENVELOPE__BODY_ADMIN_RESP;
    out->admin_resp = resp;
    switch (rq->op) {
    case TEP__ADMIN_REQUEST__OP__STATUS:
        status(cfg, st, resp);
        return;
    case TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_ADD:
        rc = rq->gba_subscriber != NULL ? bsf_db_subscriber_add(store, rq->gba_subscriber, now)
                                        : CMN_EINVAL;
        if (rc == 0)
            CMN_INFO("admin", "event=subscriber_added sqn=%" PRIu64, rq->gba_subscriber->sqn);
        break;
    case TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_LIST:
        resp->gba_subscribers = calloc(LIST_MAX, sizeof(*resp->gba_subscribers));
        rc = resp->gba_subscribers != NULL
                 ? cmn_store_foreach(store, BSF_SUBSCRIBERS_DB, NULL, 0, add_subscriber, &c)
                 : CMN_ENOMEM;
        rc = rc == 1 ? 0 : rc;
        break;
    case TEP__ADMIN_REQUEST__OP__GBA_BTID_LIST:
        resp->gba_btids = calloc(LIST_MAX, sizeof(*resp->gba_btids));
        rc = resp->gba_btids != NULL ? cmn_store_foreach(store, BSF_BTIDS_DB, NULL, 0, add_btid, &c)
                                     : CMN_ENOMEM;
        rc = rc == 1 ? 0 : rc;
        break;
    default:
        rc = CMN_EINVAL;
        break;
    }
    resp->err = rc;
    if (rc != 0) /* a static string: protobuf-c never writes through it */
        resp->message = (char *)(rq->op > TEP__ADMIN_REQUEST__OP__GBA_BTID_LIST ||
                                         rq->op < TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_ADD
                                     ? "unsupported operation"
                                     : cmn_strerror(rc));
}

void bsf_answer_admin_done(Tep__AdminResponse *resp)
{
    for (size_t i = 0; i < resp->n_status; i++) {
        free(resp->status[i]->key);
        free(resp->status[i]->value);
        free(resp->status[i]);
    }
    free(resp->status);
    for (size_t i = 0; i < resp->n_gba_subscribers; i++)
        tep__gba_subscriber__free_unpacked(resp->gba_subscribers[i], NULL);
    free(resp->gba_subscribers);
    for (size_t i = 0; i < resp->n_gba_btids; i++)
        tep__gba_bootstrap__free_unpacked(resp->gba_btids[i], NULL);
    free(resp->gba_btids);
    tep__admin_response__init(resp);
}
