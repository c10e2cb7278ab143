/* tep-authz's CoAPS endpoint (see authz_coaps.h). */
#include "authz_coaps.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "authz_creds.h"
#include "authz_maf.h"
#include "authz_maf_e2e.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_dtls_guard.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cmn_ca.h"
#include "cmn_pki.h"

#define SUB "maf"
#define SUID_MAF 21
#define AE_ID_MAX 256

struct authz_coaps {
    coap_context_t *ctx;
    cmn_store *store;
    authz_tokens *tokens;
    char maf_id[256];         /* MAF-FQDN: suffix of every Key Identifier */
    cmn_bus_sock *key_events; /* PUB for KeyEvent, borrowed; NULL: none */
    coap_dtls_spsk_t spsk;    /* kept: cmn_pki_setup() sets it again */
    uint8_t unused_psk[CMN_KEY_LEN];
    cmn_dtls_guard *guard;
};

#define SERIAL_MAX 64

/* Per DTLS session (coap_session_set_app_data); wiped when the session goes. A Km
 * session (key_id = KmID, key = Km) or a certificate session (is_cert: key_id empty, the
 * client certificate's serial and end; the client is its SAN). */
typedef struct {
    char key_id[CMN_KEY_ID_MAX];
    char enrolee_id[AE_ID_MAX];
    int64_t expires; /* the enrolment's expiry (certificate: and the certificate's end) */
    uint8_t key[CMN_KEY_LEN];
    coap_bin_const_t psk;
    bool is_cert;
    char cert_serial[SERIAL_MAX];
    int64_t not_after;
} km_binding;

static void binding_free(km_binding *b)
{
    if (b != NULL)
        cmn_free_secret(b, sizeof(*b));
}

/* ---- PSK ------------------------------------------------------------------------- */

static int usable(const Tep__Credential *c, int64_t now)
{
    if (c->revoked)
        return CMN_EDENIED;
    if (c->expires != 0 && c->expires <= now)
        return CMN_EEXPIRED;
    if (c->suid != SUID_MAF || c->key.len != CMN_KEY_LEN || c->enrolee_id == NULL ||
        c->enrolee_id[0] == '\0' || strlen(c->enrolee_id) >= AE_ID_MAX)
        return CMN_ECORRUPT;
    return 0;
}

static int lookup(cmn_store *st, const char *id, km_binding **ret)
{
    void *val = NULL;
    size_t len = 0;
    Tep__Credential *c = NULL;
    km_binding *b;
    int rc = cmn_store_get(st, AUTHZ_CREDS_DB, id, strlen(id), &val, &len);

    if (rc == 0 && (c = tep__credential__unpack(NULL, len, val)) == NULL)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    if (rc == 0)
        rc = usable(c, (int64_t)time(NULL));
    if (rc == 0 && (b = calloc(1, sizeof(*b))) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0) {
        snprintf(b->key_id, sizeof(b->key_id), "%s", id);
        snprintf(b->enrolee_id, sizeof(b->enrolee_id), "%s", c->enrolee_id);
        memcpy(b->key, c->key.data, CMN_KEY_LEN);
        b->expires = c->expires;
        b->psk = (coap_bin_const_t){CMN_KEY_LEN, b->key};
        *ret = b;
    }
    if (c != NULL) {
        cmn_wipe(c->key.data, c->key.len);
        tep__credential__free_unpacked(c, NULL);
    }
    return rc;
}

static bool identity_text(const coap_bin_const_t *identity, char *ret, size_t len)
{
    if (identity == NULL || identity->length == 0 || identity->length >= len ||
        memchr(identity->s, '\0', identity->length) != NULL)
        return false;
    memcpy(ret, identity->s, identity->length);
    ret[identity->length] = '\0';
    for (size_t i = 0; ret[i] != '\0'; i++)
        if (ret[i] <= ' ' || ret[i] >= 0x7f || ret[i] == '"')
            return false;
    return true;
}

static const coap_bin_const_t *validate_id(coap_bin_const_t *identity, coap_session_t *session,
                                           void *arg)
{
    authz_coaps *c = arg;
    char id[CMN_KEY_ID_MAX];
    km_binding *b = NULL;
    int rc = CMN_ERANGE;

    if (identity_text(identity, id, sizeof(id)))
        rc = lookup(c->store, id, &b);
    if (rc != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=\"%s\" identity=%s", cmn_strerror(rc),
                 rc == CMN_ERANGE ? "(unprintable)" : id);
        return NULL;
    }
    binding_free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, b);
    CMN_INFO(SUB, "event=session_bound identity=%s enrolee_id=%s", id, b->enrolee_id);
    return &b->psk;
}

/* ---- certificate MAF Handshake (TS-0003 8.8.2.2) ------------------------------------ */

/* Fit for a log line and a store key: printable, no spaces or quotes. */
static bool printable(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s <= ' ' || *s >= 0x7f || *s == '"')
            return false;
    return true;
}

/* A certificate client is served while its certificate is valid and not revoked on its
 * own, and the MAF knows a live Km of the enrolment it was issued under (its serial
 * names the KeID, cmn_ca_serial_bound_to): revoking, expiring or replacing the
 * enrolment ends it (10.7). */
static int cert_usable(cmn_store *st, const char *serial, const char *enrolee_id, int64_t not_after,
                       int64_t now, int64_t *ret_expires)
{
    int64_t km_expires = 0;
    char ke_id[CMN_KEY_ID_MAX];
    int rc;

    if (now >= not_after)
        return CMN_EEXPIRED;
    if (authz_maf_cert_revoked(st, serial))
        return CMN_EDENIED;
    rc = authz_maf_enrolee_km(st, enrolee_id, now, &km_expires, ke_id, sizeof(ke_id));
    if (rc == 0 && !cmn_ca_serial_bound_to(serial, ke_id))
        return CMN_ESTATE; /* issued under another (revoked, replaced) enrolment */
    if (rc == 0 && ret_expires != NULL)
        *ret_expires = km_expires != 0 && km_expires < not_after ? km_expires : not_after;
    return rc;
}

/* OpenSSL has checked the chain to ca_file before libcoap calls this (validated); at
 * depth 0 the client certificate's subjectAltName "onem2m:<id>" is the session's client. */
static int validate_cert(const char *cn, const uint8_t *der, size_t der_len,
                         coap_session_t *session, unsigned depth, int validated, void *arg)
{
    authz_coaps *c = arg;
    cmn_cert_info info;
    km_binding *b;
    const char *id;
    int64_t expires = 0;
    int rc;

    (void)cn;
    if (!validated) {
        CMN_WARN(SUB, "event=handshake_refused reason=cert_chain depth=%u", depth);
        return 0;
    }
    if (depth > 0)
        return 1;
    if (cmn_pki_peer_id(der, der_len, &info, &id) != 0 || strlen(id) >= AE_ID_MAX ||
        strlen(info.serial) >= SERIAL_MAX || !printable(id) || !printable(info.serial)) {
        CMN_WARN(SUB, "event=handshake_refused reason=cert_no_onem2m_san");
        return 0;
    }
    rc = cert_usable(c->store, info.serial, id, info.not_after, (int64_t)time(NULL), &expires);
    if (rc != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=\"%s\" identity=cert:%s enrolee_id=%s",
                 rc == CMN_ENOTFOUND ? "no live enrolment"
                 : rc == CMN_EDENIED ? "certificate revoked"
                 : rc == CMN_ESTATE  ? "certificate not of the current enrolment"
                                     : cmn_strerror(rc),
                 info.serial, id);
        return 0;
    }
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return 0;
    b->is_cert = true;
    snprintf(b->enrolee_id, sizeof(b->enrolee_id), "%s", id);
    snprintf(b->cert_serial, sizeof(b->cert_serial), "%s", info.serial);
    b->not_after = info.not_after;
    b->expires = expires;
    binding_free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, b);
    CMN_INFO(SUB, "event=session_bound identity=cert:%s enrolee_id=%s", info.serial, id);
    return 1;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    if (event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_DTLS_ERROR ||
        event == COAP_EVENT_SESSION_CLOSED || event == COAP_EVENT_SERVER_SESSION_DEL) {
        binding_free(coap_session_get_app_data(session));
        coap_session_set_app_data(session, NULL);
    }
    return 0;
}

/* The Km binding of the session, checked again against the store (a Km revoked since
 * the handshake no longer gets tokens or keys). NULL when unbound. */
static const km_binding *bound(authz_coaps *c, coap_session_t *session)
{
    km_binding *b = coap_session_get_app_data(session), *fresh = NULL;
    const coap_bin_const_t *identity;
    char id[CMN_KEY_ID_MAX];

    if (b != NULL && b->is_cert)
        return cert_usable(c->store, b->cert_serial, b->enrolee_id, b->not_after,
                           (int64_t)time(NULL), NULL) == 0
                   ? b
                   : NULL;
    if (b != NULL && lookup(c->store, b->key_id, &fresh) == 0) {
        binding_free(fresh);
        return b;
    }
    if (b != NULL)
        return NULL;
    /* The callback ran on another session object: bind from the identity libcoap kept. */
    identity = coap_session_get_psk_identity(session);
    if (!identity_text(identity, id, sizeof(id)) || lookup(c->store, id, &fresh) != 0)
        return NULL;
    coap_session_set_app_data(session, fresh);
    return fresh;
}

static const char *bound_ae(authz_coaps *c, coap_session_t *session)
{
    const km_binding *b = bound(c, session);

    return b != NULL ? b->enrolee_id : NULL;
}

/* ---- POST /token -------------------------------------------------------------------- */

/* Answer bodies may hold a key (an end-to-end key retrieved by its target): wiped. */
static void release_body(coap_session_t *session, void *app_ptr)
{
    (void)session;
    if (app_ptr != NULL)
        cmn_wipe(app_ptr, strlen(app_ptr));
    free(app_ptr);
}

static void token_handler(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                          const coap_string_t *query, coap_pdu_t *response)
{
    authz_coaps *c = coap_get_app_data(coap_session_get_context(session));
    const uint8_t *data = NULL;
    size_t len = 0, offset = 0, total = 0;
    authz_token_answer a = {0};
    const char *ae = bound_ae(c, session);

    (void)query;
    if (ae == NULL) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_UNAUTHORIZED);
        CMN_WARN(SUB, "event=token_refused reason=\"no bound Km\"");
        return;
    }
    if (!coap_get_data_large(request, &len, &data, &offset, &total) || offset != 0 || len != total)
        data = NULL;
    authz_tokens_request(c->tokens, ae, (const char *)data, data != NULL ? len : 0,
                         (int64_t)time(NULL), &a);
    coap_pdu_set_code(response, COAP_RESPONSE_CODE(a.code));
    if (a.code == 201)
        CMN_INFO(SUB, "event=token_issued holder=%s tkid=%s", ae, a.tkid);
    else
        CMN_WARN(SUB, "event=token_refused holder=%s code=%u reason=\"%s\"", ae, a.code, a.reason);
    if (a.body != NULL &&
        coap_add_data_large_response(res, session, request, response, NULL,
                                     COAP_MEDIATYPE_APPLICATION_JSON, -1, 0, strlen(a.body),
                                     (const uint8_t *)a.body, release_body, a.body))
        a.body = NULL;
    free(a.body);
}

/* ---- MAF Client and Key Registration (TS-0003 8.8.2.3, 8.8.2.5) --------------------- */

static void maf_reply(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                      coap_pdu_t *response, authz_maf_answer *a)
{
    coap_pdu_set_code(response, COAP_RESPONSE_CODE(a->code));
    if (a->body != NULL &&
        coap_add_data_large_response(res, session, request, response, NULL,
                                     COAP_MEDIATYPE_APPLICATION_JSON, -1, 0, strlen(a->body),
                                     (const uint8_t *)a->body, release_body, a->body))
        a->body = NULL;
    release_body(session, a->body);
    a->body = NULL;
}

/* The request body (NULL when absent or not whole) and the session's Km binding. */
static const km_binding *maf_request(authz_coaps *c, coap_session_t *session,
                                     const coap_pdu_t *request, const char **ret_body,
                                     size_t *ret_len, authz_maf_session *ret_s)
{
    const km_binding *b = bound(c, session);
    const uint8_t *data = NULL;
    size_t len = 0, offset = 0, total = 0;

    if (!coap_get_data_large(request, &len, &data, &offset, &total) || offset != 0 || len != total)
        data = NULL;
    *ret_body = (const char *)data;
    *ret_len = data != NULL ? len : 0;
    if (b != NULL)
        *ret_s = (authz_maf_session){b->key_id, b->enrolee_id, b->expires,
                                     b->is_cert ? b->cert_serial : NULL};
    return b;
}

/* Publishes what a successful answer changed (committed already): the key itself, then
 * every key a client de-registration revoked or a client update shortened. A lost event
 * is logged (a target fetches an unknown key on sight; a revoked key it holds lives to
 * the source's revocation or its expiry). */
static void publish_answer(authz_coaps *c, const authz_maf_answer *a)
{
    if (c->key_events == NULL || a->code >= 300)
        return;
    if (a->key_id[0] != '\0' &&
        authz_maf_publish(c->key_events, c->store, a->key_id, "tep-authz") != 0)
        CMN_WARN(SUB, "event=maf_key_event_failed key_id=%s", a->key_id);
    for (size_t i = 0; i < a->n_gone; i++)
        if (authz_maf_publish(c->key_events, c->store, a->gone[i], "tep-authz") != 0)
            CMN_WARN(SUB, "event=maf_key_event_failed key_id=%s", a->gone[i]);
}

static void client_handler(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                           const coap_string_t *query, coap_pdu_t *response)
{
    authz_coaps *c = coap_get_app_data(coap_session_get_context(session));
    authz_maf_answer a = {.code = 401, .reason = "no bound Km"};
    authz_maf_session s = {0};
    const char *body;
    size_t len;

    (void)query;
    if (maf_request(c, session, request, &body, &len, &s) != NULL)
        authz_maf_client_register(c->store, c->maf_id, &s, body, len, (int64_t)time(NULL), &a);
    if (a.code == 201 && s.cert_serial != NULL)
        CMN_INFO(SUB, "event=maf_client_registered client=%s cert=%s", s.enrolee_id, s.cert_serial);
    else if (a.code == 201)
        CMN_INFO(SUB, "event=maf_client_registered client=%s km_id=%s", s.enrolee_id, s.km_id);
    else
        CMN_WARN(SUB, "event=maf_client_refused code=%u reason=\"%s\"", a.code, a.reason);
    maf_reply(res, session, request, response, &a);
}

static void key_handler(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                        const coap_string_t *query, coap_pdu_t *response)
{
    authz_coaps *c = coap_get_app_data(coap_session_get_context(session));
    authz_maf_answer a = {.code = 401, .reason = "no bound Km"};
    uint8_t exp[CMN_EXPORTER_LEN] = {0};
    authz_maf_session s = {0};
    const char *body;
    size_t len;
    bool ok;

    (void)query;
    ok = maf_request(c, session, request, &body, &len, &s) != NULL;

    /* Kc/KcID: the exporter of this very session, as the client computes it (10.3.1). */
    if (ok && cmn_tls_export(session, CMN_LABEL_CONNECTION, exp, sizeof(exp)) != 0)
        a = (authz_maf_answer){.code = 500, .reason = "exporter"};
    else if (ok)
        authz_maf_key_register(c->store, c->maf_id, &s, exp, body, len, (int64_t)time(NULL), &a);
    cmn_wipe(exp, sizeof(exp));
    publish_answer(c, &a); /* targets fetch on sight when it is lost */
    if (a.code == 201)
        CMN_INFO(SUB, "event=maf_key_registered source=%s key_id=%s suid=%d", s.enrolee_id,
                 a.key_id, AUTHZ_MAF_SUID_KC);
    else
        CMN_WARN(SUB, "event=maf_key_refused code=%u reason=\"%s\"", a.code, a.reason);
    maf_reply(res, session, request, response, &a);
}

/* The Uri-Path "maf/<kind>/<id>" (authz_maf_item_path). */
static bool item_path(const coap_pdu_t *request, char *kind, size_t klen, char *id, size_t ilen)
{
    coap_string_t *path = coap_get_uri_path(request);
    bool ok = path != NULL &&
              authz_maf_item_path((const char *)path->s, path->length, kind, klen, id, ilen);

    coap_delete_string(path);
    return ok;
}

static void log_item(const char *what, const authz_maf_session *s, const char *id,
                     const authz_maf_answer *a)
{
    if (a->code >= 300) {
        CMN_WARN(SUB, "event=maf_%s_refused client=%s id=%s code=%u reason=\"%s\"", what,
                 s->enrolee_id != NULL ? s->enrolee_id : "-", id, a->code, a->reason);
        return;
    }
    if (a->key_id[0] != '\0')
        CMN_INFO(SUB, "event=maf_%s source=%s key_id=%s", what, s->enrolee_id, a->key_id);
    else
        CMN_INFO(SUB, "event=maf_%s client=%s reg_id=%s %s=%zu", what, s->enrolee_id, id,
                 a->code == 202 ? "keys_revoked" : "keys_shortened", a->n_gone);
    for (size_t i = 0; i < a->n_gone; i++)
        CMN_INFO(SUB, "event=%s key_id=%s source=%s",
                 a->code == 202 ? "maf_key_deregistered" : "maf_key_updated", a->gone[i],
                 s->enrolee_id);
}

/* PUT / DELETE /maf/clients/<mafClientRegID> and /maf/keys/<relativeKeyID> (TS-0003
 * 8.8.2.5, 8.8.2.6, 8.8.2.9, 8.8.2.10), in a MAF Handshake session. */
static void item_handler(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
                         const coap_string_t *query, coap_pdu_t *response)
{
    authz_coaps *c = coap_get_app_data(coap_session_get_context(session));
    authz_maf_answer a = {.code = 401, .reason = "no bound Km"};
    authz_maf_session s = {0};
    bool put = coap_pdu_get_code(request) == COAP_REQUEST_CODE_PUT;
    bool get = coap_pdu_get_code(request) == COAP_REQUEST_CODE_GET;
    char kind[16] = "", id[80] = "-";
    const char *body, *what = "request";
    int64_t now = (int64_t)time(NULL);
    size_t len;

    (void)query;
    if (!item_path(request, kind, sizeof(kind), id, sizeof(id)) ||
        (strcmp(kind, "clients") != 0 && strcmp(kind, "keys") != 0) ||
        (get && strcmp(kind, "keys") != 0)) { /* GET: end-to-end keys only */
        a = (authz_maf_answer){.code = 404, .reason = "no such resource"};
        snprintf(id, sizeof(id), "-");
    } else {
        bool keys = strcmp(kind, "keys") == 0;

        what = keys ? (get   ? "key_retrieval"
                       : put ? "key_update"
                             : "key_deregistration")
                    : (put ? "client_update" : "client_deregistration");
        if (maf_request(c, session, request, &body, &len, &s) == NULL)
            ;
        else if (keys && get)
            authz_maf_e2e_retrieve(c->store, c->maf_id, &s, id, now, &a);
        else if (keys && put)
            authz_maf_key_update(c->store, c->maf_id, &s, id, body, len, now, &a);
        else if (keys)
            authz_maf_key_deregister(c->store, c->maf_id, &s, id, now, &a);
        else if (put)
            authz_maf_client_update(c->store, c->maf_id, &s, id, body, len, now, &a);
        else
            authz_maf_client_deregister(c->store, &s, id, now, &a);
    }
    if (get && a.code == 205 && a.suid == AUTHZ_MAF_SUID_KC) /* a SAEF Kc to its target CSE */
        CMN_INFO(SUB, "event=maf_key_retrieved over=coaps key_id=%s target=%s suid=%u", a.key_id,
                 s.enrolee_id, a.suid);
    else if (get && a.code == 205)
        CMN_INFO(SUB, "event=maf_e2e_key_retrieved target=%s key_id=%s", s.enrolee_id, a.key_id);
    if (get && a.code == 205) { /* a key to its target: nothing to publish */
        maf_reply(res, session, request, response, &a); /* takes the body, wipes it */
        authz_maf_answer_clear(&a);
        return;
    }
    if (a.code < 300)
        what = a.code == 202
                   ? (strcmp(kind, "keys") == 0 ? "key_deregistered" : "client_deregistered")
                   : (strcmp(kind, "keys") == 0 ? "key_updated" : "client_updated");
    publish_answer(c, &a);
    log_item(what, &s, id, &a);
    maf_reply(res, session, request, response, &a);
    a.body = NULL; /* maf_reply took it */
    authz_maf_answer_clear(&a);
}

static int add_items(coap_context_t *ctx)
{
    coap_resource_t *r = coap_resource_unknown_init2(item_handler, 0);

    if (r == NULL)
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_DELETE, item_handler);
    coap_register_request_handler(r, COAP_REQUEST_GET, item_handler); /* e2e key retrieval */
    coap_add_resource(ctx, r);
    return 0;
}

static int add_post(coap_context_t *ctx, const char *path, coap_method_handler_t h)
{
    coap_resource_t *r = coap_resource_init(coap_make_str_const(path), 0);

    if (r == NULL)
        return CMN_ECOAP;
    coap_register_request_handler(r, COAP_REQUEST_POST, h);
    coap_add_resource(ctx, r);
    return 0;
}

/* ---- set-up ----------------------------------------------------------------------- */

static int setup(authz_coaps *c, const char *listen, const char *psk_hint, const cmn_pki_files *pki)
{
    coap_dtls_spsk_t *spsk = &c->spsk;
    coap_address_t addr;
    bool pki_on = false;
    int rc;

    if (!coap_dtls_is_supported() || (c->ctx = coap_new_context(NULL)) == NULL)
        return CMN_ECOAP;
    coap_set_app_data(c->ctx, c);
    /* oneM2M clients send their options (critical, TS-0008) to the MAF too. */
    if (cmn_coap_register_options(c->ctx) != 0)
        return CMN_ECOAP;
    coap_context_set_block_mode(c->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    memset(spsk, 0, sizeof(*spsk));
    spsk->version = COAP_DTLS_SPSK_SETUP_VERSION;
    spsk->validate_id_call_back = validate_id;
    spsk->id_call_back_arg = c;
    spsk->psk_info.hint = (coap_bin_const_t){strlen(psk_hint), (const uint8_t *)psk_hint};
    if (!coap_context_set_psk2(c->ctx, spsk))
        return CMN_ECOAP;
    if (pki != NULL && (rc = cmn_pki_check(SUB, "authz", pki, c->maf_id, &pki_on)) != 0)
        return CMN_ECONFIG;
    if (pki_on && (rc = cmn_pki_setup(c->ctx, spsk, c->unused_psk, pki, validate_cert, c)) != 0)
        return rc;
    if (pki_on)
        CMN_INFO(SUB, "event=pki_on cert_file=%s ca_file=%s", pki->cert_file, pki->ca_file);
    coap_register_event_handler(c->ctx, on_event);
    if (add_post(c->ctx, "token", token_handler) != 0 ||
        add_post(c->ctx, "maf/clients", client_handler) != 0 ||
        add_post(c->ctx, "maf/keys", key_handler) != 0 || add_items(c->ctx) != 0)
        return CMN_ECOAP;
    if (cmn_coap_parse_listen(listen, &addr) != 0 || !cmn_coap_port_free(&addr) ||
        coap_new_endpoint(c->ctx, &addr, COAP_PROTO_DTLS) == NULL)
        return CMN_EIO;
    return 0;
}

int authz_coaps_new(const char *listen, const char *psk_hint, const char *maf_id,
                    const cmn_pki_files *pki, cmn_store *store, authz_tokens *tokens,
                    authz_coaps **ret)
{
    authz_coaps *c = calloc(1, sizeof(*c));
    int rc;

    *ret = NULL;
    if (c == NULL)
        return CMN_ENOMEM;
    c->store = store;
    c->tokens = tokens;
    if (snprintf(c->maf_id, sizeof(c->maf_id), "%s", maf_id) >= (int)sizeof(c->maf_id)) {
        free(c);
        return CMN_ERANGE;
    }
    rc = setup(c, listen, psk_hint, pki);
    if (rc != 0) {
        authz_coaps_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

void authz_coaps_free(authz_coaps *c)
{
    if (c == NULL)
        return;
    cmn_dtls_guard_free(c->guard);
    if (c->ctx != NULL)
        coap_free_context(c->ctx);
    cmn_free_secret(c, sizeof(*c));
}

void authz_coaps_set_body_limits(authz_coaps *c, const cmn_body_limits *lim)
{
    cmn_coap_set_body_limits(c->ctx, lim);
}

int authz_coaps_set_dtls_limits(authz_coaps *c, const cmn_dtls_limits *lim)
{
    cmn_dtls_guard_free(c->guard);
    c->guard = NULL;
    return cmn_dtls_guard_new(c->ctx, lim, on_event, &c->guard);
}

void authz_coaps_dtls_stats(const authz_coaps *c, cmn_dtls_stats *ret)
{
    if (c->guard != NULL)
        cmn_dtls_guard_stats(c->guard, ret);
    else
        memset(ret, 0, sizeof(*ret));
}

void authz_coaps_set_key_events(authz_coaps *c, cmn_bus_sock *pub)
{
    c->key_events = pub;
}

int authz_coaps_fd(const authz_coaps *c)
{
    return coap_context_get_coap_fd(c->ctx);
}

unsigned authz_coaps_process(authz_coaps *c)
{
    coap_tick_t now;
    unsigned next;
    char line[320];

    coap_io_process(c->ctx, COAP_IO_NO_WAIT);
    if (cmn_dtls_guard_poll(c->guard, line, sizeof(line)))
        CMN_WARN(SUB, "%s", line);
    coap_ticks(&now);
    next = coap_io_prepare_epoll(c->ctx, now);
    return next == 0 ? 1000 : next;
}
