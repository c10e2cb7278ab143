/* The MN-CSE's registration to its registrar (see cse_registree.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_clock.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_registree.h"
#include "cse_esprim.h"
#include "cse_remotecse.h"
#include "cse_resource.h"
#include "cse_saef.h"
#include "tae_device.h" /* libtepae: the enrolment's Kpsa, derived in the SDK */

#define SUB "registree"
#define ANSWER_WAIT_MS 5000
#define RETRY_MS 1000

typedef enum { STEP_CREATE, STEP_UPDATE, STEP_CHECK, STEP_REGISTRAR, STEP_DELETE } step;

struct cse_registree {
    const cse_config *cfg;
    cse_node *node;
    coap_context_t *ctx;
    cse_client *cl;
    coap_session_t *s;
    bool dtls;
    char kpsa_id[CMN_KEY_ID_MAX];
    uint8_t kpsa[CMN_KEY_LEN];
    char sni[256];
    char rn[128];    /* the <remoteCSE>'s name at the registrar */
    char rname[128]; /* the registrar's CSEBase name */
    char poa[300];   /* own poa announced */
    bool registered;
    bool leaving; /* de-registration asked (cse_registree_leave) */
    bool left;    /* de-registered: nothing more until rejoined */
    bool waiting; /* an exchange on its way */
    bool stale;   /* the session failed: released at the next turn, outside
                               libcoap's callbacks (a NACK handler runs on it) */
    uint32_t xid;
    step step;
    int64_t next_ms;
    char *dcse_sent; /* the descendantCSEs last announced (JSON text) */
    uint64_t n_registrations;
};

/* ---- start-up: the MN-CSE's own enrolment (libtepae) -------------------------------- */

static int load_kpsa(cse_registree *r)
{
    tep_device *dev = NULL;
    int rc = tep_device_load(r->cfg->registrar_prov, r->cfg->registrar_state, &dev);

    if (rc == 0 && !tep_device_is_enrolled(dev)) {
        CMN_INFO(SUB, "event=enrolling enrolee_kpm_id=%s", tep_device_kpm_id(dev));
        rc = tep_enrol(dev);
    }
    if (rc == 0 && strcmp(dev->enr.registrar_cse_id, r->cfg->registrar_cse_id) != 0) {
        CMN_ERR(SUB, "event=enrolment_mismatch enrolment_registrar=%s registrar=%s",
                dev->enr.registrar_cse_id, r->cfg->registrar_cse_id);
        rc = CMN_ECONFIG;
    }
    if (rc == 0 && strcmp(dev->enr.enrolee_id, r->cfg->cse_id) != 0)
        CMN_WARN(SUB,
                 "event=enrolee_id_not_cse_id enrolee_id=%s cse_id=%s "
                 "msg=\"the registrar binds the session to the Enrolee-ID\"",
                 dev->enr.enrolee_id, r->cfg->cse_id);
    if (rc == 0) {
        memcpy(r->kpsa, dev->enr.kpsa, CMN_KEY_LEN);
        snprintf(r->kpsa_id, sizeof(r->kpsa_id), "%s", dev->enr.kpsa_id);
        CMN_INFO(SUB, "event=enrolment_loaded enrolee_id=%s kpsa_id=%s", dev->enr.enrolee_id,
                 r->kpsa_id);
    } else {
        CMN_ERR(SUB, "event=enrolment_failed provisioning=%s err=%s", r->cfg->registrar_prov,
                cmn_strerror(rc));
    }
    tep_device_free(dev);
    return rc;
}

/* ---- the session ------------------------------------------------------------------- */

/* "coap[s]://HOST:PORT" (validated by the configuration) -> address. */
static int address_of(const char *poa, coap_address_t *ret)
{
    const char *hp = strstr(poa, "://");

    return hp != NULL ? cmn_coap_parse_listen(hp + 3, ret) : CMN_EINVAL;
}

static void drop_session(cse_registree *r)
{
    if (r->s == NULL)
        return;
    cse_client_session_gone(r->cl, r->s);
    cse_saef_unbind_peer(r->s);
    coap_session_release(r->s);
    r->s = NULL;
}

static int connect_registrar(cse_registree *r)
{
    coap_address_t a;
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};

    if (address_of(r->cfg->registrar_poa, &a) != 0)
        return CMN_EINVAL;
    if (r->dtls) {
        setup.client_sni = r->sni;
        setup.psk_info.identity.s = (const uint8_t *)r->kpsa_id;
        setup.psk_info.identity.length = strlen(r->kpsa_id);
        setup.psk_info.key.s = r->kpsa;
        setup.psk_info.key.length = CMN_KEY_LEN;
        r->s = coap_new_client_session_psk2(r->ctx, NULL, &a, COAP_PROTO_DTLS, &setup);
    } else {
        r->s = coap_new_client_session(r->ctx, NULL, &a, COAP_PROTO_UDP);
    }
    if (r->s == NULL)
        return CMN_ECOAP;
    /* requests the registrar sends back on it are its own (cse_saef.h) */
    return cse_saef_bind_peer(r->s, r->cfg->registrar_cse_id);
}

coap_session_t *cse_registree_session(void *arg)
{
    cse_registree *r = arg;

    if (r == NULL || r->s == NULL || coap_session_get_state(r->s) != COAP_SESSION_STATE_ESTABLISHED)
        return NULL;
    return r->s;
}

/* ---- the exchanges ------------------------------------------------------------------ */

static void answered(void *arg, const coap_pdu_t *answer);

static char *csr_body(cse_registree *r, bool create)
{
    json_t *dcse = cse_csr_descendants(r->node);
    json_t *a =
        json_pack("{s:[s], s:b, s:[s,s,s]}", "poa", r->poa, "rr", true, "srv", "2a", "3", "4");
    char cb[300];
    char *text;

    if (a == NULL || dcse == NULL) {
        json_decref(a);
        json_decref(dcse);
        return NULL;
    }
    free(r->dcse_sent);
    r->dcse_sent = json_dumps(dcse, JSON_COMPACT);
    json_object_set_new(a, "dcse", dcse);
    /* TS-0003 8.4.2 A: the Receiver's <remoteCSE> says so. Over a security association
     * only: a plain CoAP registrar may be another implementation (the ACME CSE refuses
     * the attribute with 4000, integration 143), and ESPrim needs the SA's keys anyway */
    if (r->node->esprim != NULL && r->dtls)
        json_object_set_new(a, "esi", cse_esprim_esi(r->node->esprim, (int64_t)time(NULL)));
    if (create) {
        snprintf(cb, sizeof(cb), "%s/%s", r->node->cse_id, r->node->cse_name);
        json_object_set_new(a, "rn", json_string(r->rn));
        json_object_set_new(a, "csi", json_string(r->node->cse_id));
        json_object_set_new(a, "cb", json_string(cb));
        json_object_set_new(a, "cst", json_integer(CMN_CST_MN));
    }
    a = json_pack("{s:o}", "m2m:csr", a); /* a is the wrapper's now */
    text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static void send_step(cse_registree *r, step st)
{
    char path[300], rqi[48];
    char *body = NULL;
    cse_client_req q = {.from = r->node->cse_id, .rqi = rqi, .timeout_ms = ANSWER_WAIT_MS};

    snprintf(rqi, sizeof(rqi), "reg-%llu-%d", (unsigned long long)cmn_mono_ms(), (int)st);
    switch (st) {
    case STEP_CREATE:
        q.code = COAP_REQUEST_CODE_POST;
        q.ty = CMN_TY_CSR;
        snprintf(path, sizeof(path), "%s", r->rname);
        body = csr_body(r, true);
        break;
    case STEP_UPDATE:
        q.code = COAP_REQUEST_CODE_PUT;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        body = csr_body(r, false);
        break;
    case STEP_CHECK:
        q.code = COAP_REQUEST_CODE_GET;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        break;
    case STEP_REGISTRAR:
        q.code = COAP_REQUEST_CODE_GET;
        snprintf(path, sizeof(path), "%s", r->rname);
        break;
    case STEP_DELETE:
        q.code = COAP_REQUEST_CODE_DELETE;
        snprintf(path, sizeof(path), "%s/%s", r->rname, r->rn);
        break;
    }
    q.path = path;
    q.body = body;
    q.body_len = body != NULL ? strlen(body) : 0;
    r->step = st;
    r->xid = cse_client_request(r->cl, r->s, &q, answered, r);
    r->waiting = r->xid != 0;
    free(body);
    if (!r->waiting)
        r->next_ms = cmn_mono_ms() + RETRY_MS;
}

/* The registrar as a <remoteCSE> here (TS-0004 7.4.4.2.1 Originator: "create a
 * <remoteCSE> resource locally"), from its CSEBase; written again when it is there. */
static void store_registrar(cse_registree *r, const char *body)
{
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    json_t *cb = json_object_get(root, "m2m:cb");
    const char *csi = r->node->registrar_csi;
    char path[CSE_PATH_MAX], cbaddr[300];
    Tep__Resource *base = NULL, *old = NULL, *made = NULL;
    json_t *a;
    unsigned rsc;

    snprintf(cbaddr, sizeof(cbaddr), "%s/%s", csi, r->rname);
    json_t *srv = json_is_array(json_object_get(cb, "srv"))
                      ? json_incref(json_object_get(cb, "srv"))
                      : json_pack("[s]", "3");

    a = json_pack("{s:s, s:s, s:i, s:[s], s:b, s:o}", "csi", csi, "cb", cbaddr, "cst",
                  (int)json_integer_value(json_object_get(cb, "cst")) > 0
                      ? (int)json_integer_value(json_object_get(cb, "cst"))
                      : CMN_CST_IN,
                  "poa", r->cfg->registrar_poa, "rr", true, "srv", srv);
    if (a != NULL && json_is_object(json_object_get(cb, "esi"))) /* its e2eSecInfo, as shown */
        json_object_set(a, "esi", json_object_get(cb, "esi"));
    snprintf(path, sizeof(path), "%s/%s", r->node->cse_name, csi + 1);
    if (a == NULL || cse_res_get(r->node->store, r->node->cse_name, &base) != 0) {
        rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    } else if (cse_res_get(r->node->store, path, &old) == 0) {
        json_object_del(a, "csi");
        json_object_del(a, "cb");
        json_object_del(a, "cst");
        rsc = cse_res_update(r->node->store, old, a, (int64_t)time(NULL), &made);
    } else {
        cse_res_create_in in = {.ty = CMN_TY_CSR,
                                .attrs = a,
                                .originator = csi,
                                .ae_id = "",
                                .now = (int64_t)time(NULL)};
        json_object_set_new(a, "rn", json_string(csi + 1));
        rsc = cse_res_create(r->node->store, base, &in, &made);
    }
    CMN_INFO(SUB, "event=registrar_represented path=%s rsc=%u", path, rsc);
    cse_res_free(made);
    cse_res_free(old);
    cse_res_free(base);
    json_decref(a);
    json_decref(root);
}

/* De-registered: the registrar's representation here goes too (TS-0004 7.4.4.2.4). */
static void drop_registrar(cse_registree *r)
{
    char path[CSE_PATH_MAX];
    Tep__Resource *old = NULL;

    snprintf(path, sizeof(path), "%s/%s", r->node->cse_name, r->node->registrar_csi + 1);
    if (cse_res_get(r->node->store, path, &old) == 0)
        cse_res_delete(r->node->store, old, (int64_t)time(NULL));
    cse_res_free(old);
}

static bool dcse_changed(cse_registree *r, const char *body)
{
    json_t *dcse = cse_csr_descendants(r->node);
    char *now = dcse != NULL ? json_dumps(dcse, JSON_COMPACT) : NULL;
    json_t *root = body != NULL ? json_loads(body, 0, NULL) : NULL;
    json_t *there = json_object_get(json_object_get(root, "m2m:csr"), "dcse");
    bool changed = now == NULL || !json_equal(there != NULL ? there : json_array(), dcse);

    free(now);
    json_decref(dcse);
    json_decref(root);
    return changed;
}

static void registered(cse_registree *r, const char *how)
{
    if (!r->registered) {
        r->n_registrations++;
        CMN_INFO(SUB, "event=registered registrar=%s how=%s rn=%s", r->node->registrar_csi, how,
                 r->rn);
    }
    r->registered = true;
    r->node->csr_changed = false;
}

static void answered(void *arg, const coap_pdu_t *answer)
{
    cse_registree *r = arg;
    cse_rsp a;
    int64_t now = cmn_mono_ms();

    r->waiting = false;
    r->xid = 0;
    if (answer == NULL) { /* the registrar restarted or is away: a new session next time */
        CMN_WARN(SUB, "event=registrar_not_answering step=%d", (int)r->step);
        r->registered = r->step == STEP_DELETE ? r->registered : false;
        r->stale = true;
        r->next_ms = now + RETRY_MS;
        return;
    }
    cse_client_read_answer(answer, &a);
    r->next_ms = now; /* the next step at once, unless said otherwise below */
    switch (r->step) {
    case STEP_CREATE:
        if (a.rsc == CMN_RSC_CREATED) {
            registered(r, "create");
            send_step(r, STEP_REGISTRAR);
        } else if (a.rsc == CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED ||
                   a.rsc == CMN_RSC_CONFLICT) {
            send_step(r, STEP_UPDATE); /* there from before this start */
        } else {
            CMN_WARN(SUB, "event=registration_refused rsc=%u", a.rsc);
            r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        }
        break;
    case STEP_UPDATE:
        if (a.rsc == CMN_RSC_UPDATED) {
            registered(r, "update");
            send_step(r, STEP_REGISTRAR);
        } else {
            CMN_WARN(SUB, "event=registration_update_refused rsc=%u", a.rsc);
            r->registered = false;
            r->next_ms = now + RETRY_MS;
        }
        break;
    case STEP_CHECK:
        if (a.rsc == CMN_RSC_OK && (r->node->csr_changed || dcse_changed(r, a.body))) {
            send_step(r, STEP_UPDATE);
        } else if (a.rsc == CMN_RSC_OK) {
            r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        } else {
            CMN_WARN(SUB, "event=registration_lost rsc=%u", a.rsc);
            r->registered = false; /* deleted there, or its store is new: again */
        }
        break;
    case STEP_DELETE:
        if (a.rsc == CMN_RSC_DELETED || a.rsc == CMN_RSC_NOT_FOUND) {
            r->registered = false;
            r->leaving = false;
            r->left = true;
            drop_registrar(r);
            CMN_INFO(SUB, "event=deregistered registrar=%s rsc=%u", r->node->registrar_csi, a.rsc);
        } else {
            CMN_WARN(SUB, "event=deregistration_refused rsc=%u", a.rsc);
            r->next_ms = now + RETRY_MS;
        }
        break;
    case STEP_REGISTRAR: /* its CSEBase may be closed to us (4103): what we know then */
        store_registrar(r, a.rsc == CMN_RSC_OK ? a.body : NULL);
        r->next_ms = now + (int64_t)r->cfg->registrar_check_s * 1000;
        break;
    }
    cse_rsp_clear(&a);
}

void cse_registree_process(cse_registree *r, int64_t now_ms)
{
    if (r == NULL || r->waiting || r->left)
        return;
    if (r->stale) {
        r->stale = false;
        drop_session(r);
    }
    if (r->s != NULL && coap_session_get_state(r->s) == COAP_SESSION_STATE_NONE) {
        CMN_WARN(SUB, "event=registrar_session_closed");
        drop_session(r); /* closed by the registrar (e.g. revoked) or failed */
        r->registered = false;
    }
    if (now_ms < r->next_ms && !(r->registered && r->node->csr_changed))
        return;
    if (r->s == NULL && connect_registrar(r) != 0) {
        r->next_ms = now_ms + RETRY_MS;
        return;
    }
    send_step(r, r->leaving ? STEP_DELETE : r->registered ? STEP_CHECK : STEP_CREATE);
}

int cse_registree_leave(cse_registree *r)
{
    if (r == NULL)
        return CMN_EINVAL;
    r->leaving = true;
    r->next_ms = 0; /* at the next turn (after an exchange on its way) */
    CMN_INFO(SUB, "event=deregistration_asked registrar=%s", r->node->registrar_csi);
    return 0;
}

int cse_registree_rejoin(cse_registree *r)
{
    if (r == NULL)
        return CMN_EINVAL;
    r->leaving = r->left = false;
    r->registered = false;
    r->next_ms = 0;
    CMN_INFO(SUB, "event=registration_asked registrar=%s", r->node->registrar_csi);
    return 0;
}

/* ---- life ------------------------------------------------------------------------- */

static void own_poa(cse_registree *r)
{
    const char *cfg = r->cfg->poa;

    if (cfg[0] != '\0')
        snprintf(r->poa, sizeof(r->poa), "%s", cfg);
    else if (r->dtls || r->cfg->coap_listen[0] == '\0')
        snprintf(r->poa, sizeof(r->poa), "coaps://%s/", r->cfg->coaps_listen);
    else /* the root's '/': the ACME CSE appends "~/..." to a poa as it is */
        snprintf(r->poa, sizeof(r->poa), "coap://%s/", r->cfg->coap_listen);
}

int cse_registree_new(const cse_config *cfg, cse_node *node, coap_context_t *ctx, cse_client *cl,
                      cse_registree **ret)
{
    cse_registree *r = calloc(1, sizeof(*r));
    coap_uri_t u;
    int rc = 0;

    *ret = NULL;
    if (r == NULL)
        return CMN_ENOMEM;
    r->cfg = cfg;
    r->node = node;
    r->ctx = ctx;
    r->cl = cl;
    r->dtls = strncmp(cfg->registrar_poa, "coaps://", 8) == 0;
    snprintf(r->rn, sizeof(r->rn), "%s", cfg->cse_id + 1);
    snprintf(r->rname, sizeof(r->rname), "%s",
             cfg->registrar_name[0] != '\0' ? cfg->registrar_name : cfg->registrar_cse_id + 1);
    if (coap_split_uri((const uint8_t *)cfg->registrar_poa, strlen(cfg->registrar_poa), &u) == 0)
        snprintf(r->sni, sizeof(r->sni), "%.*s", (int)u.host.length, (const char *)u.host.s);
    own_poa(r);
    if (r->dtls)
        rc = load_kpsa(r);
    if (rc != 0) {
        cse_registree_free(r);
        return rc;
    }
    node->csr_changed = false;
    CMN_INFO(SUB, "event=registree registrar=%s poa=%s over=%s own_poa=%s", cfg->registrar_cse_id,
             cfg->registrar_poa, r->dtls ? "dtls_psk_kpsa" : "plain_coap", r->poa);
    *ret = r;
    return 0;
}

void cse_registree_free(cse_registree *r)
{
    if (r == NULL)
        return;
    if (r->xid != 0)
        cse_client_forget(r->cl, r->xid);
    drop_session(r);
    free(r->dcse_sent);
    cmn_wipe(r->kpsa, sizeof(r->kpsa));
    free(r);
}

bool cse_registree_registered(const cse_registree *r)
{
    return r != NULL && r->registered;
}

uint64_t cse_registree_count(const cse_registree *r)
{
    return r != NULL ? r->n_registrations : 0;
}
