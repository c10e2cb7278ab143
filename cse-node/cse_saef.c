/* PSK callback and session binding (see cse_saef.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_pki.h"
#include "cse_client.h"
#include "cse_saef.h"
#include "cse_sync.h"

#define SUB "saef"

/* Owned by the session (coap_session_set_app_data); freed on close/delete events.
 * Every binding is also on the list below, so that a revocation can find the live
 * sessions of a credential (cse_saef_close_revoked). */
typedef struct saef_binding {
    struct saef_binding *next;
    coap_session_t *session; /* the session whose app data this is */
    char key_id[CMN_KEY_ID_MAX];
    char enrolee_id[256];
    char app_id[256];         /* App-ID of the enrolment ("" = none) */
    uint8_t key[CMN_KEY_LEN]; /* handed to libcoap from the callback, wiped on free */
    coap_bin_const_t psk;
    bool is_admin;     /* the admin credential (not in the store) */
    bool is_cert;      /* certificate SAEF: enrolee_id from the SAN */
    bool is_peer;      /* this MN-CSE's own session to its registrar (Kpsa) */
    int64_t not_after; /* certificate SAEF: the certificate's end */
} saef_binding;

/* One libcoap context per tep-cse process: the bindings of its DTLS sessions. */
static saef_binding *bindings;

/* Key Identifiers the PSK callback did not know, until the loop takes them. */
static struct {
    char ids[CSE_SAEF_WANTED_MAX][CMN_KEY_ID_MAX];
    size_t n;
} wanted;

/* Queues id (a Key Identifier, once; dropped when the queue is full: the client retries). */
static void want(const char *id)
{
    if (!cmn_kdf_is_key_id(id))
        return;
    for (size_t i = 0; i < wanted.n; i++) {
        if (strcmp(wanted.ids[i], id) == 0)
            return;
    }
    if (wanted.n < CSE_SAEF_WANTED_MAX)
        snprintf(wanted.ids[wanted.n++], CMN_KEY_ID_MAX, "%s", id);
}

void cse_saef_want(const char *id)
{
    want(id);
}

size_t cse_saef_take_wanted(char (*ret)[CMN_KEY_ID_MAX], size_t max)
{
    size_t n = wanted.n < max ? wanted.n : max;

    for (size_t i = 0; i < n; i++)
        snprintf(ret[i], CMN_KEY_ID_MAX, "%s", wanted.ids[i]);
    memmove(wanted.ids, wanted.ids + n, (wanted.n - n) * sizeof(wanted.ids[0]));
    wanted.n -= n;
    return n;
}

/* The admin credential ([cse] admin_psk_identity / admin_psk_file), if configured. */
static struct {
    bool set;
    char identity[CMN_KEY_ID_MAX];
    char originator[256];
    uint8_t key[CMN_KEY_LEN];
} admin;

int cse_saef_set_admin(const char *identity, const uint8_t key[CMN_KEY_LEN], const char *originator)
{
    if (identity[0] == '\0' || strlen(identity) >= sizeof(admin.identity) ||
        strlen(originator) >= sizeof(admin.originator))
        return CMN_EINVAL;
    snprintf(admin.identity, sizeof(admin.identity), "%s", identity);
    snprintf(admin.originator, sizeof(admin.originator), "%s", originator);
    memcpy(admin.key, key, CMN_KEY_LEN);
    admin.set = true;
    return 0;
}

void cse_saef_clear_admin(void)
{
    cmn_wipe(&admin, sizeof(admin));
}

static saef_binding *admin_binding(void)
{
    saef_binding *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    snprintf(b->key_id, sizeof(b->key_id), "%s", admin.identity);
    snprintf(b->enrolee_id, sizeof(b->enrolee_id), "%s", admin.originator);
    memcpy(b->key, admin.key, CMN_KEY_LEN);
    b->psk.s = b->key;
    b->psk.length = CMN_KEY_LEN;
    b->is_admin = true;
    return b;
}

static void binding_link(saef_binding *b, coap_session_t *session)
{
    b->session = session;
    b->next = bindings;
    bindings = b;
}

static void binding_free(saef_binding *b)
{
    if (b == NULL)
        return;
    for (saef_binding **pp = &bindings; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    }
    cmn_free_secret(b, sizeof(*b));
}

static const char *refuse_reason(int rc)
{
    switch (rc) {
    case CMN_ENOTFOUND:
        return "unknown_identity";
    case CMN_EDENIED:
        return "revoked";
    case CMN_EEXPIRED:
        return "expired";
    case CMN_ERANGE:
        return "bad_identity";
    case CMN_ESTATE:
        return "not_a_saef_key";
    default:
        return "store_error";
    }
}

static int lookup(cmn_store *st, const char *id, saef_binding **ret)
{
    Tep__Credential *c = NULL;
    saef_binding *b = NULL;
    int rc;

    if (admin.set && strcmp(id, admin.identity) == 0) {
        *ret = admin_binding();
        return *ret != NULL ? 0 : CMN_ENOMEM;
    }
    rc = cse_cred_get(st, id, &c);

    if (rc == 0)
        rc = cse_cred_usable(c, (int64_t)time(NULL));
    if (rc == 0 && !CSE_SUID_IS_PSK(c->suid))
        rc = CMN_ESTATE; /* an ESPrim or ESData key is no DTLS PSK (key separation) */
    if (rc == 0 && (c->key.len != CMN_KEY_LEN || strlen(c->enrolee_id) >= sizeof(b->enrolee_id) ||
                    strlen(c->app_id) >= sizeof(b->app_id)))
        rc = CMN_ECORRUPT;
    if (rc == 0 && (b = calloc(1, sizeof(*b))) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0) {
        snprintf(b->key_id, sizeof(b->key_id), "%s", id);
        snprintf(b->enrolee_id, sizeof(b->enrolee_id), "%s", c->enrolee_id);
        snprintf(b->app_id, sizeof(b->app_id), "%s", c->app_id);
        memcpy(b->key, c->key.data, CMN_KEY_LEN);
        b->psk.s = b->key;
        b->psk.length = CMN_KEY_LEN;
        *ret = b;
    }
    cse_cred_free(c);
    return rc;
}

/* SA2 (cse_saef_association): the credential of each AE's newest session, remembered
 * beyond the session's end; at most RECENT_MAX AEs, the least recently bound forgotten
 * first (they fall back to their enrolment's Kpsa). */
#define RECENT_MAX 1024
static struct {
    char ae_id[256];
    char key_id[CMN_KEY_ID_MAX]; /* psk_identity, or "cert:<serial>" */
    bool is_cert;
    int64_t not_after;
    uint64_t seq; /* 0 = free */
} recent[RECENT_MAX];
static uint64_t recent_seq;

static void remember(const saef_binding *b)
{
    size_t at = 0;

    if (b->is_admin || b->is_peer)
        return;
    for (size_t i = 0; i < RECENT_MAX; i++) {
        if (recent[i].seq != 0 && strcmp(recent[i].ae_id, b->enrolee_id) == 0) {
            at = i;
            break;
        }
        if (recent[i].seq < recent[at].seq)
            at = i;
    }
    snprintf(recent[at].ae_id, sizeof(recent[at].ae_id), "%s", b->enrolee_id);
    snprintf(recent[at].key_id, sizeof(recent[at].key_id), "%s", b->key_id);
    recent[at].is_cert = b->is_cert;
    recent[at].not_after = b->not_after;
    recent[at].seq = ++recent_seq;
}

static const coap_bin_const_t *validate_id(coap_bin_const_t *identity, coap_session_t *session,
                                           void *arg)
{
    char id[CMN_KEY_ID_MAX], shown[CMN_KEY_ID_MAX];
    saef_binding *b = NULL;
    int rc = CMN_ERANGE;

    if (identity->length > 0 && identity->length < sizeof(id) &&
        memchr(identity->s, '\0', identity->length) == NULL) {
        memcpy(id, identity->s, identity->length);
        id[identity->length] = '\0';
        rc = lookup(arg, id, &b);
    } else {
        snprintf(id, sizeof(id), "(%zu bytes)", identity->length);
    }
    if (rc != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=%s identity=%s", refuse_reason(rc),
                 cmn_log_value(id, shown, sizeof(shown)));
        if (rc == CMN_ENOTFOUND)
            want(id); /* a Kc identity: the loop asks the MAF; the client retries */
        return NULL;
    }
    binding_free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, b);
    binding_link(b, session);
    remember(b);
    CMN_INFO(SUB, "event=session_bound identity=%s enrolee_id=%s",
             cmn_log_value(id, shown, sizeof(shown)), b->enrolee_id);
    return &b->psk;
}

/* The handler of client sessions' events (cse_client_on_event, set by the binding). */
static coap_event_handler_t client_events;

void cse_saef_set_client_events(coap_event_handler_t fn)
{
    client_events = fn;
}

int cse_saef_on_event(coap_session_t *session, const coap_event_t event)
{
    /* client sessions (notifications) carry cse_client's app data, not a binding */
    if (coap_session_get_type(session) != COAP_SESSION_TYPE_SERVER)
        return client_events != NULL ? client_events(session, event) : 0;
    switch (event) {
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_DTLS_ERROR:
    case COAP_EVENT_SESSION_CLOSED:
    case COAP_EVENT_SERVER_SESSION_DEL:
        binding_free(coap_session_get_app_data(session));
        coap_session_set_app_data(session, NULL);
        break;
    default:
        break;
    }
    return 0;
}

/* The PSK setup handed to libcoap, kept for cse_saef_setup_pki(). */
static coap_dtls_spsk_t setup;
/* With PKI on, cmn_pki_setup() gives the context this random default PSK (libcoap
 * 4.3.1 only looks for PSK suites when there is one): never used, validate_id() picks
 * every key. */
static uint8_t unused_psk[CMN_KEY_LEN];

int cse_saef_setup(coap_context_t *ctx, cmn_store *st, const char *psk_hint)
{
    memset(&setup, 0, sizeof(setup));
    setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
    setup.validate_id_call_back = validate_id;
    setup.id_call_back_arg = st;
    setup.psk_info.hint.s = (const uint8_t *)psk_hint;
    setup.psk_info.hint.length = strlen(psk_hint);
    if (!coap_context_set_psk2(ctx, &setup))
        return CMN_ECOAP;
    coap_register_event_handler(ctx, cse_saef_on_event);
    return 0;
}

/* A certificate binding lasts while the certificate is valid, has not been revoked on
 * its own (CERT_REVOKED) and the enrolment it was issued under (its serial names the
 * KeID, cmn_ca_serial_bound_to) is the AE-ID's current, usable one (TS-0003 10.7:
 * revoking, expiring or replacing the enrolment ends it). *ret_reason: why not, for the log. */
int cse_saef_cert_usable(cmn_store *st, const char *serial, const char *ae_id, int64_t not_after,
                         int64_t now, const char **ret_reason)
{
    Tep__Credential *c = NULL;
    int rc = now < not_after ? cse_cert_revoked(st, serial) : CMN_EEXPIRED;

    if (rc == CMN_EDENIED) {
        *ret_reason = "cert_revoked";
        return rc;
    }
    if (rc == 0)
        rc = cse_cred_get_by_enrolee(st, ae_id, &c);
    if (rc == 0)
        rc = cse_cred_usable(c, now);
    if (rc == 0 && !cmn_ca_serial_bound_to(serial, c->ke_id)) {
        cse_cred_free(c); /* issued under another (revoked, replaced) enrolment */
        *ret_reason = "cert_not_of_current_enrolment";
        return CMN_EDENIED;
    }
    cse_cred_free(c);
    *ret_reason = refuse_reason(rc);
    return rc;
}

/* The serial of a certificate binding ("cert:<serial>"). */
static const char *binding_serial(const saef_binding *b)
{
    return b->key_id + strlen(CSE_CERT_KEY_PREFIX);
}

/* Certificate SAEF (TS-0003 8.2.2.2): OpenSSL has checked the chain to ca_file before
 * libcoap calls this (validated); at depth 0 the end-entity certificate's
 * subjectAltName "onem2m:<id>" becomes the session's bound identity. */
static int validate_cert(const char *cn, const uint8_t *der, size_t der_len,
                         coap_session_t *session, unsigned depth, int validated, void *arg)
{
    cmn_cert_info info;
    saef_binding *b;
    const char *id, *why;
    char shown[CMN_KEY_ID_MAX];
    int rc;

    (void)cn;
    (void)arg;
    if (!validated) {
        CMN_WARN(SUB, "event=handshake_refused reason=cert_chain depth=%u", depth);
        return 0;
    }
    if (depth > 0)
        return 1;
    if (cmn_pki_peer_id(der, der_len, &info, &id) != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=cert_no_onem2m_san");
        return 0;
    }
    if ((rc = cse_saef_cert_usable(setup.id_call_back_arg, info.serial, id, info.not_after,
                                   time(NULL), &why)) != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=%s identity=cert:%s enrolee_id=%s", why,
                 info.serial, cmn_log_value(id, shown, sizeof(shown)));
        return 0;
    }
    if (strlen(id) >= sizeof(b->enrolee_id) || (b = calloc(1, sizeof(*b))) == NULL)
        return 0;
    snprintf(b->key_id, sizeof(b->key_id), CSE_CERT_KEY_PREFIX "%s", info.serial);
    memcpy(b->enrolee_id, id, strlen(id) + 1);
    b->not_after = info.not_after;
    b->is_cert = true;
    binding_free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, b);
    binding_link(b, session);
    remember(b);
    CMN_INFO(SUB, "event=session_bound identity=cert:%s enrolee_id=%s", info.serial,
             cmn_log_value(id, shown, sizeof(shown)));
    return 1;
}

int cse_saef_setup_pki(coap_context_t *ctx, const char *cert_file, const char *key_file,
                       const char *ca_file)
{
    const cmn_pki_files f = {cert_file, key_file, ca_file};
    bool on = false;
    int rc = cmn_pki_check(SUB, "cse", &f, NULL, &on);

    if (rc != 0 || !on)
        return rc;
    if ((rc = cmn_pki_setup(ctx, &setup, unused_psk, &f, validate_cert, NULL)) != 0)
        return rc;
    CMN_INFO(SUB, "event=pki_on cert_file=%s ca_file=%s", cert_file, ca_file);
    return 0;
}

/* Whether a (non-admin) binding's credential or certificate is still usable at now. */
static int binding_usable(cmn_store *st, const saef_binding *b, int64_t now,
                          const char **ret_reason)
{
    Tep__Credential *c = NULL;
    int rc;

    if (b->is_cert)
        return cse_saef_cert_usable(st, binding_serial(b), b->enrolee_id, b->not_after, now,
                                    ret_reason);
    rc = cse_cred_get(st, b->key_id, &c);
    if (rc == 0)
        rc = cse_cred_usable(c, now);
    cse_cred_free(c);
    *ret_reason = refuse_reason(rc);
    return rc;
}

/* A DTLS session whose binding is not there (the callback ran on another session
 * object): bind it now from the identity libcoap kept. */
static saef_binding *bind_late(cmn_store *st, coap_session_t *session)
{
    const coap_bin_const_t *identity = coap_session_get_psk_identity(session);
    char id[CMN_KEY_ID_MAX];
    saef_binding *b = NULL;

    if (identity == NULL || identity->length == 0 || identity->length >= sizeof(id) ||
        memchr(identity->s, '\0', identity->length) != NULL)
        return NULL;
    memcpy(id, identity->s, identity->length);
    id[identity->length] = '\0';
    if (lookup(st, id, &b) != 0)
        return NULL;
    coap_session_set_app_data(session, b);
    binding_link(b, session);
    return b;
}

const char *cse_saef_bound_id(cmn_store *st, coap_session_t *session, int64_t now)
{
    saef_binding *b = coap_session_get_app_data(session);
    char shown[CMN_KEY_ID_MAX];
    const char *why;

    if (b == NULL)
        b = bind_late(st, session);
    if (b == NULL)
        return NULL;
    if (b->is_admin)
        return admin.set ? b->enrolee_id : NULL;
    if (b->is_peer)
        return b->enrolee_id;
    if (binding_usable(st, b, now, &why) != 0) {
        CMN_WARN(SUB, "event=session_unbound reason=%s identity=%s", why,
                 cmn_log_value(b->key_id, shown, sizeof(shown)));
        binding_free(b);
        coap_session_set_app_data(session, NULL);
        return NULL;
    }
    return b->enrolee_id;
}

int cse_saef_bind_peer(coap_session_t *session, const char *cse_id)
{
    saef_binding *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return CMN_ENOMEM;
    snprintf(b->key_id, sizeof(b->key_id), "peer:%s", cse_id);
    snprintf(b->enrolee_id, sizeof(b->enrolee_id), "%s", cse_id);
    b->is_peer = true;
    binding_free(coap_session_get_app_data(session));
    coap_session_set_app_data(session, b);
    binding_link(b, session);
    return 0;
}

void cse_saef_unbind_peer(coap_session_t *session)
{
    saef_binding *b = coap_session_get_app_data(session);

    if (b != NULL && b->is_peer) {
        binding_free(b);
        coap_session_set_app_data(session, NULL);
    }
}

coap_session_t *cse_saef_session_of(const char *id)
{
    for (saef_binding *b = bindings; b != NULL; b = b->next) {
        if (!b->is_admin && !b->is_peer && strcmp(b->enrolee_id, id) == 0 &&
            coap_session_get_state(b->session) == COAP_SESSION_STATE_ESTABLISHED)
            return b->session;
    }
    return NULL;
}

bool cse_saef_bound_is_admin(coap_session_t *session)
{
    const saef_binding *b = coap_session_get_app_data(session);

    return b != NULL && b->is_admin && admin.set;
}

const char *cse_saef_bound_app_id(coap_session_t *session)
{
    const saef_binding *b = coap_session_get_app_data(session);

    return b != NULL ? b->app_id : NULL;
}

/* Sessions whose credential is no longer usable (revoked, expired, gone), with their
 * identity and why, for the log. */
static size_t unusable_sessions(cmn_store *st, int64_t now, coap_session_t **ret, size_t max,
                                char (*ids)[CMN_KEY_ID_MAX], const char **reasons)
{
    size_t n = 0;

    for (saef_binding *b = bindings; b != NULL && n < max; b = b->next) {
        const char *why;
        int rc;

        if (b->is_admin || b->is_peer)
            continue;
        rc = binding_usable(st, b, now, &why);
        if (rc == CMN_EDENIED || rc == CMN_EEXPIRED || rc == CMN_ENOTFOUND) {
            snprintf(ids[n], CMN_KEY_ID_MAX, "%s", b->key_id);
            /* "cert_revoked" for a certificate revoked on its own, "credential_expired"
             * for a credential past its expiry, else "credential_revoked" */
            reasons[n] = strcmp(why, "cert_revoked") == 0 ? why
                         : rc == CMN_EEXPIRED             ? "credential_expired"
                                                          : "credential_revoked";
            ret[n++] = b->session;
        }
    }
    return n;
}

size_t cse_saef_close_revoked(cmn_store *st, int64_t now)
{
    coap_session_t *dead[CSE_SAEF_CLOSE_MAX];
    char ids[CSE_SAEF_CLOSE_MAX][CMN_KEY_ID_MAX], shown[CMN_KEY_ID_MAX];
    const char *reasons[CSE_SAEF_CLOSE_MAX];
    size_t n = unusable_sessions(st, now, dead, CSE_SAEF_CLOSE_MAX, ids, reasons);

    for (size_t i = 0; i < n; i++) {
        /* close_notify to the peer, the DTLS state freed, queued messages dropped; the
         * DTLS_CLOSED event frees the binding. Later datagrams on it are dropped. */
        coap_session_disconnected(dead[i], COAP_NACK_TLS_FAILED);
        CMN_INFO(SUB, "event=session_closed reason=%s identity=%s", reasons[i],
                 cmn_log_value(ids[i], shown, sizeof(shown)));
    }
    return n;
}

int cse_saef_association(cmn_store *st, const char *ae_id, int64_t now, cse_saef_cred *ret)
{
    Tep__Credential *c = NULL;
    const char *why;
    int rc = CMN_ENOTFOUND;

    memset(ret, 0, sizeof(*ret));
    for (size_t i = 0; i < RECENT_MAX; i++) {
        if (recent[i].seq == 0 || strcmp(recent[i].ae_id, ae_id) != 0)
            continue;
        if (recent[i].is_cert) {
            rc = cse_saef_cert_usable(st, recent[i].key_id + strlen(CSE_CERT_KEY_PREFIX), ae_id,
                                      recent[i].not_after, now, &why);
            if (rc == 0) {
                ret->is_cert = true;
                snprintf(ret->key_id, sizeof(ret->key_id), "%s", recent[i].key_id);
            }
            return rc;
        }
        rc = cse_cred_get(st, recent[i].key_id, &c);
        if (rc == 0 && strcmp(c->enrolee_id, ae_id) != 0)
            rc = CMN_EDENIED; /* the identity now names another enrolee */
        break;
    }
    if (c == NULL && (rc = cse_cred_get_by_enrolee(st, ae_id, &c)) != 0)
        return rc;
    if (rc == 0)
        rc = cse_cred_usable(c, now);
    if (rc == 0 && (c->suid == CSE_MAF_SUID_ESPRIM || c->key.len != CMN_KEY_LEN ||
                    strlen(c->key_id) >= sizeof(ret->key_id)))
        rc = CMN_EDENIED; /* an ESPrim key is no DTLS PSK (key separation) */
    if (rc == 0) {
        snprintf(ret->key_id, sizeof(ret->key_id), "%s", c->key_id);
        memcpy(ret->key, c->key.data, CMN_KEY_LEN);
    }
    cse_cred_free(c);
    return rc;
}
