/* tep-cse as a CoAP client: notifications and verification requests (see cse_client.h).
 * Every request token is 8 random bytes. A verification remembers each request it sent
 * (token and client session): an answer counts only for the request whose token it
 * carries, only when it comes on that request's session (the nu's address), and only
 * once, so a subscriber cannot answer for another notification target (issue 10).
 * A coaps:// target is reached over SA2 (TS-0003 8.2.1): tep-cse as DTLS client with the
 * credential of the AE's own security association (cse_saef_association); a target
 * that does not hold it fails the handshake, and nothing is sent in the clear instead.
 * A coap:// target only where [cse] notify_plain allows it. */
#include "cse_client.h"

#include <arpa/inet.h>
#include <netdb.h>
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
#include "cmn_pki.h"
#include "cse_binding.h"
#include "cse_remotecse.h"
#include "cse_saef.h"
#include "cse_target.h"

#define SUB "client"
/* Client sessions kept (plain and DTLS together); beyond, the oldest is released. */
#define MAX_PEERS 32
/* Requests (notifications, verification requests) sent on one session and not answered
 * yet: libcoap sends one at a time (NSTART 1) and queues the others; beyond this many
 * a new notification to that target is dropped (logged reason=target_backlog). */
#define PEER_PENDING_MAX 32
/* Verifications at once, all originators together; each originator may hold at most
 * node->verify_per_originator of them ([cse] verify_per_originator). */
#define MAX_VERIFY 64

typedef struct {
    coap_address_t addr;
    coap_session_t *s;
    char key_id[CMN_KEY_ID_MAX]; /* DTLS: the psk_identity (or "cert:..."), "" plain */
    char ae_id[256];             /* DTLS: whose association (SA2), for the log */
    bool dead;                   /* DTLS failed or closed: a new session next time */
    uint8_t pending[PEER_PENDING_MAX][8];
    size_t n_pending;
} peer;

typedef struct {
    uint8_t token[8];
    coap_session_t *s; /* compared, never used: the session it was sent on */
    bool answered;
} sent_request;

typedef struct {
    uint32_t id; /* 0 = free slot */
    unsigned outstanding;
    cse_client_done_fn done;
    void *arg;
    char originator[256]; /* whose subscription: the quota counts by it */
    sent_request sent[CSE_VERIFY_MAX];
    size_t n_sent;
} verification;

/* A request to another CSE waiting for its answer (cse_client_request). */
#define MAX_EXCHANGES 512
typedef struct {
    uint32_t id; /* 0 = free slot */
    uint8_t token[8];
    coap_session_t *s; /* compared, never used after sending */
    cse_client_answer_fn fn;
    void *arg;
    int64_t deadline_ms;
} exchange;

struct cse_client {
    coap_context_t *ctx;
    cse_node *node;
    peer *peers[MAX_PEERS];
    size_t n_peers;
    char *cert_file, *key_file, *ca_file; /* SA2 with certificates: the CSE's own */
    /* SA2 with certificates runs in a libcoap context of its own: libcoap 4.3.1 keeps one
     * PKI setup per context (coap_dtls_context_set_pki), and a client setup in the
     * server's context would replace the certificate SAEF's checks of AE certificates */
    coap_context_t *pki_ctx;
    int64_t next_sa2_check_ms; /* SA2 sessions of unusable associations closed (tick) */
    cmn_body_limits body;      /* applied to pki_ctx too (max_body 0: none set) */
    verification v[MAX_VERIFY];
    uint32_t next_id;
    uint32_t counter; /* RQI of the requests sent */
    exchange x[MAX_EXCHANGES];
};

/* The one client of the process's one libcoap context: the response handler finds it
 * here, since server sessions carry their SAEF binding as app data. */
static cse_client *the_client;

/* ---- targets ----------------------------------------------------------------------- */

/* The AE's first coaps:// pointOfAccess, else its first coap:// one. */
static int poa_of(const Tep__Resource *ae, char *ret, size_t len)
{
    json_t *a = json_loads(ae->json, 0, NULL);
    json_t *e;
    size_t i;
    int rc = CMN_ENOTFOUND;

    for (int secure = 1; secure >= 0 && rc != 0; secure--) {
        json_array_foreach(json_object_get(a, "poa"), i, e) {
            const char *v = json_string_value(e);

            if (v != NULL && strncmp(v, secure ? "coaps://" : "coap://", secure ? 8 : 7) == 0) {
                snprintf(ret, len, "%s", v);
                rc = strlen(v) < len ? 0 : CMN_ERANGE;
                break;
            }
        }
    }
    json_decref(a);
    return rc;
}

static void ae_id_of(const Tep__Resource *ae, char *ret, size_t len)
{
    json_t *a = json_loads(ae->json, 0, NULL);
    const char *aei = json_string_value(json_object_get(a, "aei"));

    snprintf(ret, len, "%s", aei != NULL ? aei : ae->ri);
    json_decref(a);
}

int cse_client_target(cmn_store *st, const char *cse_id, const char *nu, const char *owner,
                      cse_client_dest *ret)
{
    char path[CSE_PATH_MAX];
    Tep__Resource *r = NULL;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (strncmp(nu, "coap://", 7) == 0 || strncmp(nu, "coaps://", 8) == 0) {
        if (strlen(nu) >= sizeof(ret->uri))
            return CMN_ERANGE;
        snprintf(ret->uri, sizeof(ret->uri), "%s", nu);
        /* a URI given directly: the SA2 of whoever gave it */
        if (nu[4] == 's' && owner != NULL)
            snprintf(ret->ae_id, sizeof(ret->ae_id), "%s", cse_binding_local_id(cse_id, owner));
        return 0;
    }
    if (cse_res_resolve(st, cse_id, nu, path) != 0 || cse_res_get(st, path, &r) != 0)
        return CMN_ENOTFOUND;
    rc = r->ty == CMN_TY_AE ? poa_of(r, ret->uri, sizeof(ret->uri)) : CMN_ENOTFOUND;
    if (rc == 0 && strncmp(ret->uri, "coaps://", 8) == 0)
        ae_id_of(r, ret->ae_id, sizeof(ret->ae_id)); /* the AE's own SA2 */
    cse_res_free(r);
    return rc;
}

/* ---- sessions ---------------------------------------------------------------------- */

static peer *peer_of(const cse_client *cl, const coap_session_t *s)
{
    for (size_t i = 0; s != NULL && i < cl->n_peers; i++) {
        if (cl->peers[i]->s == s)
            return cl->peers[i];
    }
    return NULL;
}

static void peer_drop(cse_client *cl, size_t i)
{
    peer *p = cl->peers[i];

    coap_session_set_app_data(p->s, NULL);
    coap_session_release(p->s);
    free(p);
    memmove(&cl->peers[i], &cl->peers[i + 1], (cl->n_peers - i - 1) * sizeof(peer *));
    cl->n_peers--;
}

/* SA2 with certificates: the CSE's own certificate and key as DTLS client; the AE's
 * certificate must chain to ca_file and name the AE-ID of the peer (subjectAltName
 * "onem2m:<AE-ID>"). */
static int check_ae_cert(const char *cn, const uint8_t *der, size_t der_len,
                         coap_session_t *session, unsigned depth, int validated, void *arg)
{
    cse_client *cl = arg;
    const peer *p = peer_of(cl, session);
    cmn_cert_info info;
    const char *id;

    (void)cn;
    if (!validated || p == NULL)
        return 0;
    if (depth > 0)
        return 1;
    if (cmn_pki_peer_id(der, der_len, &info, &id) != 0 || strcmp(id, p->ae_id) != 0) {
        CMN_WARN(SUB, "event=sa2_refused reason=cert_names_another_id ae_id=%s", p->ae_id);
        return 0;
    }
    return 1;
}

static coap_session_t *pki_session(cse_client *cl, const coap_address_t *a)
{
    coap_dtls_pki_t setup = {.version = COAP_DTLS_PKI_SETUP_VERSION};

    if (cl->pki_ctx == NULL)
        return NULL;
    setup.verify_peer_cert = 1;
    setup.check_common_ca = 1;
    setup.cert_chain_validation = 1;
    setup.cert_chain_verify_depth = 2;
    setup.validate_cn_call_back = check_ae_cert;
    setup.cn_call_back_arg = cl;
    setup.pki_key.key_type = COAP_PKI_KEY_PEM;
    setup.pki_key.key.pem.public_cert = cl->cert_file;
    setup.pki_key.key.pem.private_key = cl->key_file;
    setup.pki_key.key.pem.ca_file = cl->ca_file;
    return coap_new_client_session_pki(cl->pki_ctx, NULL, a, COAP_PROTO_DTLS, &setup);
}

/* The session to a (plain when cred is NULL, else DTLS with cred), made when there is
 * none alive. */
static peer *session_for(cse_client *cl, const coap_address_t *a, const cse_saef_cred *cred,
                         const char *ae_id)
{
    const char *key_id = cred != NULL ? cred->key_id : "";
    coap_session_t *s = NULL;
    peer *p;

    for (size_t i = 0; i < cl->n_peers; i++) {
        p = cl->peers[i];
        if (!coap_address_equals(&p->addr, a) || strcmp(p->key_id, key_id) != 0 ||
            strcmp(p->ae_id, ae_id) != 0)
            continue;
        if (!p->dead && coap_session_get_state(p->s) != COAP_SESSION_STATE_NONE)
            return p;
        peer_drop(cl, i); /* failed or closed: a new handshake */
        break;
    }
    if (cl->n_peers == MAX_PEERS) /* forget the oldest */
        peer_drop(cl, 0);
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    if (cred == NULL) {
        s = coap_new_client_session(cl->ctx, NULL, a, COAP_PROTO_UDP);
    } else if (!cred->is_cert) {
        coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};

        setup.psk_info.identity.s = (const uint8_t *)cred->key_id;
        setup.psk_info.identity.length = strlen(cred->key_id);
        setup.psk_info.key.s = cred->key;
        setup.psk_info.key.length = CMN_KEY_LEN;
        s = coap_new_client_session_psk2(cl->ctx, NULL, a, COAP_PROTO_DTLS, &setup);
    } else {
        s = pki_session(cl, a);
    }
    if (s == NULL) {
        free(p);
        return NULL;
    }
    coap_session_set_app_data(s, cl);
    p->addr = *a;
    p->s = s;
    snprintf(p->key_id, sizeof(p->key_id), "%s", key_id);
    snprintf(p->ae_id, sizeof(p->ae_id), "%s", ae_id);
    cl->peers[cl->n_peers++] = p;
    return p;
}

static void pending_done(cse_client *cl, coap_session_t *s, coap_bin_const_t token)
{
    peer *p = peer_of(cl, s);

    for (size_t i = 0; p != NULL && token.length == 8 && i < p->n_pending; i++) {
        if (memcmp(p->pending[i], token.s, 8) == 0) {
            memmove(p->pending[i], p->pending[i + 1], (p->n_pending - i - 1) * 8);
            p->n_pending--;
            return;
        }
    }
}

int cse_client_on_event(coap_session_t *session, const coap_event_t event)
{
    cse_client *cl = the_client;
    peer *p = cl != NULL ? peer_of(cl, session) : NULL;
    char v[128];

    if (p == NULL || p->key_id[0] == '\0')
        return 0;
    switch (event) {
    case COAP_EVENT_DTLS_CONNECTED:
        CMN_INFO(SUB, "event=sa2_established ae_id=%s identity=%s", p->ae_id,
                 cmn_log_value(p->key_id, v, sizeof(v)));
        break;
    case COAP_EVENT_DTLS_ERROR: /* the handshake failed: not the AE's key (or no peer) */
        if (!p->dead)
            CMN_WARN(SUB, "event=sa2_failed reason=dtls_error ae_id=%s identity=%s", p->ae_id,
                     cmn_log_value(p->key_id, v, sizeof(v)));
        p->dead = true; /* released at its next use */
        break;
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_SESSION_CLOSED:
        if (!p->dead)
            CMN_INFO(SUB, "event=sa2_closed ae_id=%s identity=%s", p->ae_id,
                     cmn_log_value(p->key_id, v, sizeof(v)));
        p->dead = true;
        break;
    default:
        break;
    }
    return 0;
}

/* Plain CoAP to a: [cse] notify_plain. */
static bool plain_allowed(const cse_node *node, const coap_address_t *a)
{
    const struct sockaddr *sa = &a->addr.sa;

    if (node->notify_plain == CSE_NOTIFY_PLAIN_ANY)
        return true;
    if (node->notify_plain != CSE_NOTIFY_PLAIN_LOOPBACK)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(a->addr.sin.sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *in6 = &a->addr.sin6.sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(in6) || (IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127);
    }
    return false;
}

/* A plain-CoAP target from outside (a nu, an AE's or a registree's poa): not this host's
 * loopback or link-local services unless [cse] local_targets, never this CSE itself. */
static bool target_allowed(cse_client *cl, const coap_address_t *a, const char *uri)
{
    const char *why = NULL;
    char v[128];

    if (cse_targets_allowed(cl->node->targets, &a->addr.sa, &why))
        return true;
    CMN_WARN(SUB, "event=target_refused reason=%s target=%s", why,
             cmn_log_value(uri, v, sizeof(v)));
    return false;
}

/* ---- sending ----------------------------------------------------------------------- */

static int add_path(coap_optlist_t **chain, const coap_uri_t *u)
{
    const uint8_t *p = u->path.s, *end = u->path.s + u->path.length, *slash;

    while (p < end) {
        size_t n;

        slash = memchr(p, '/', (size_t)(end - p));
        n = slash != NULL ? (size_t)(slash - p) : (size_t)(end - p);
        if (!coap_insert_optlist(chain, coap_new_optlist(COAP_OPTION_URI_PATH, n, p)))
            return CMN_ENOMEM;
        p += n + (slash != NULL);
    }
    return 0;
}

static int build_options(cse_client *cl, const coap_uri_t *u, coap_optlist_t **chain)
{
    char rqi[32];
    int rc = add_path(chain, u);

    snprintf(rqi, sizeof(rqi), "tep-cse-n%u", cl->counter);
    if (rc == 0 && u->query.length > 0 &&
        !coap_insert_optlist(chain,
                             coap_new_optlist(COAP_OPTION_URI_QUERY, u->query.length, u->query.s)))
        rc = CMN_ENOMEM;
    if (rc == 0)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_FR, cl->node->cse_id);
    if (rc == 0)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RQI, rqi);
    if (rc == 0)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RVI, "3");
    if (rc == 0)
        rc = cmn_coap_optlist_uint(chain, COAP_OPTION_CONTENT_FORMAT, CMN_CF_JSON);
    return rc;
}

/* The session towards nu: a registered CSE over its own association (its CSEBase,
 * SP-relative path in *u), a coaps:// target over SA2 with the credential of d.ae_id,
 * a coap:// one where notify_plain allows it. uri is *u's storage. */
static int target_session(cse_client *cl, const char *nu, const char *owner, char *uri, size_t len,
                          coap_uri_t *u, peer **ret_p, coap_session_t **ret_s)
{
    char cb[300], v[128];
    cse_client_dest d;
    cse_saef_cred cred;
    coap_address_t a;
    bool secure;
    int rc;

    /* A registered CSE with a security association: over it (its CSEBase, SP-relative),
     * never in the clear (issue 14 item 5) */
    if (cse_csr_is_cse_id(nu) && (*ret_s = cse_saef_session_of(nu)) != NULL &&
        cse_csr_base(cl->node->store, cl->node->cse_name, nu, cb, sizeof(cb)) == 0 &&
        snprintf(uri, len, "~%s", cb) < (int)len) {
        u->path.s = (const uint8_t *)uri;
        u->path.length = strlen(uri);
        return 0;
    }
    if (cse_client_target(cl->node->store, cl->node->cse_id, nu, owner, &d) != 0 ||
        snprintf(uri, len, "%s", d.uri) >= (int)len ||
        coap_split_uri((const uint8_t *)uri, strlen(uri), u) != 0 ||
        cmn_coap_uri_address(u, true, &a) != 0)
        return CMN_ENOTFOUND;
    /* not this host's local services, never this CSE itself (cse_target.h), DTLS too */
    if (!target_allowed(cl, &a, uri))
        return CMN_EDENIED;
    secure = strncmp(uri, "coaps://", 8) == 0;
    if (!secure && !plain_allowed(cl->node, &a)) {
        CMN_WARN(SUB, "event=notification_refused reason=plain_coap_not_allowed nu=%s",
                 cmn_log_value(nu, v, sizeof(v)));
        return CMN_EDENIED;
    }
    if (secure && d.ae_id[0] == '\0') {
        CMN_WARN(SUB, "event=notification_refused reason=no_security_association nu=%s",
                 cmn_log_value(nu, v, sizeof(v)));
        return CMN_EDENIED;
    }
    if (secure &&
        (rc = cse_saef_association(cl->node->store, d.ae_id, (int64_t)time(NULL), &cred)) != 0) {
        CMN_WARN(SUB, "event=notification_refused reason=no_usable_association ae_id=%s err=%s",
                 cmn_log_value(d.ae_id, v, sizeof(v)), cmn_strerror(rc));
        return CMN_EDENIED;
    }
    if (secure && cred.is_cert && cl->cert_file == NULL) {
        CMN_WARN(SUB, "event=notification_refused reason=no_cse_certificate ae_id=%s",
                 cmn_log_value(d.ae_id, v, sizeof(v)));
        return CMN_EDENIED;
    }
    *ret_p = session_for(cl, &a, secure ? &cred : NULL, secure ? d.ae_id : "");
    if (secure)
        cmn_wipe(&cred, sizeof(cred));
    *ret_s = *ret_p != NULL ? (*ret_p)->s : NULL;
    return *ret_s != NULL ? 0 : CMN_ECOAP;
}

int cse_client_target_allowed(const cse_node *node, const char *nu, const char *owner,
                              const char **ret_reason)
{
    char uri[512], v[128];
    coap_uri_t u;
    coap_address_t a;
    cse_client_dest d;
    cse_saef_cred cred;
    const char *why = NULL;
    int rc;

    *ret_reason = NULL;
    if (cse_csr_is_cse_id(nu) || cse_client_target(node->store, node->cse_id, nu, owner, &d) != 0 ||
        snprintf(uri, sizeof(uri), "%s", d.uri) >= (int)sizeof(uri) ||
        coap_split_uri((const uint8_t *)uri, strlen(uri), &u) != 0 ||
        cmn_coap_uri_address(&u, true, &a) != 0)
        return 0; /* not this check's business: sending it fails */
    if (!cse_targets_allowed(node->targets, &a.addr.sa, &why)) {
        CMN_WARN(SUB, "event=target_refused reason=%s target=%s", why,
                 cmn_log_value(uri, v, sizeof(v)));
        *ret_reason = strcmp(why, "own_port") == 0 ? "target_refused_own_port"
                                                   : "target_refused_local_address";
        return CMN_EDENIED;
    }
    if (strncmp(uri, "coaps://", 8) != 0) {
        *ret_reason = plain_allowed(node, &a) ? NULL : "plain_coap_target_not_allowed";
        return *ret_reason == NULL ? 0 : CMN_EDENIED;
    }
    if (d.ae_id[0] == '\0') {
        *ret_reason = "no_security_association";
        return CMN_EDENIED;
    }
    rc = cse_saef_association(node->store, d.ae_id, (int64_t)time(NULL), &cred);
    cmn_wipe(&cred, sizeof(cred));
    if (rc != 0)
        *ret_reason = "no_usable_security_association";
    return rc != 0 ? CMN_EDENIED : 0;
}

/* Sends body to nu (owner: whose subscription) with a fresh random token; ret_token/
 * ret_s (may be NULL) get the token and the session it went on. */
static int send_one(cse_client *cl, const char *nu, const char *owner, const char *body,
                    uint8_t ret_token[8], coap_session_t **ret_s)
{
    char uri[512], v[128];
    coap_uri_t u = {0};
    coap_session_t *s = NULL;
    peer *p = NULL;
    coap_pdu_t *pdu;
    coap_optlist_t *chain = NULL;
    uint8_t token[8];
    int rc = target_session(cl, nu, owner, uri, sizeof(uri), &u, &p, &s);

    if (rc != 0)
        return rc;
    if (p != NULL && p->n_pending >= PEER_PENDING_MAX) {
        CMN_WARN(SUB, "event=notification_refused reason=target_backlog nu=%s pending=%zu",
                 cmn_log_value(nu, v, sizeof(v)), p->n_pending);
        return CMN_EAGAIN;
    }
    if (cmn_random(token, sizeof(token)) != 0)
        return CMN_ECRYPTO;
    if ((pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(s),
                             coap_session_max_pdu_size(s))) == NULL)
        return CMN_ECOAP;
    cl->counter++;
    coap_add_token(pdu, sizeof(token), token);
    rc = build_options(cl, &u, &chain);
    if (rc == 0 && (!coap_add_optlist_pdu(pdu, &chain) ||
                    !coap_add_data(pdu, strlen(body), (const uint8_t *)body)))
        rc = CMN_ECOAP;
    coap_delete_optlist(chain);
    if (rc != 0) {
        coap_delete_pdu(pdu);
        return rc;
    }
    if (coap_send(s, pdu) == COAP_INVALID_MID)
        return CMN_ECOAP;
    if (p != NULL)
        memcpy(p->pending[p->n_pending++], token, sizeof(token));
    if (ret_token != NULL)
        memcpy(ret_token, token, sizeof(token));
    if (ret_s != NULL)
        *ret_s = s;
    return 0;
}

coap_session_t *cse_client_ae_session(cse_client *cl, const char *ae, char *path, size_t plen,
                                      bool *refused)
{
    char uri[512];
    coap_uri_t u = {0};
    coap_session_t *s = NULL;
    peer *p = NULL;
    int rc = target_session(cl, ae, NULL, uri, sizeof(uri), &u, &p, &s);

    *refused = rc == CMN_EDENIED;
    if (rc != 0 || u.path.length >= plen)
        return NULL;
    memcpy(path, u.path.s, u.path.length);
    path[u.path.length] = '\0';
    return s;
}

void cse_client_notify(cse_client *cl, const char *nu, const char *owner, const char *body)
{
    char v[128];
    int rc = send_one(cl, nu, owner, body, NULL, NULL);

    if (rc != 0)
        CMN_WARN(SUB, "event=notification_not_sent nu=%s err=%s", cmn_log_value(nu, v, sizeof(v)),
                 cmn_strerror(rc));
}

/* ---- verification ------------------------------------------------------------------ */

static verification *find(cse_client *cl, uint32_t id)
{
    for (size_t i = 0; id != 0 && i < MAX_VERIFY; i++) {
        if (cl->v[i].id == id)
            return &cl->v[i];
    }
    return NULL;
}

static void finish(verification *v, bool ok)
{
    cse_client_done_fn done = v->done;
    void *arg = v->arg;

    memset(v, 0, sizeof(*v));
    done(arg, ok);
}

static size_t held_by(const cse_client *cl, const char *originator)
{
    size_t n = 0;

    for (size_t i = 0; i < MAX_VERIFY; i++)
        n += cl->v[i].id != 0 && strcmp(cl->v[i].originator, originator) == 0;
    return n;
}

uint32_t cse_client_verify(cse_client *cl, const char *originator, char *const *nu, size_t n,
                           const char *body, cse_client_done_fn done, void *arg)
{
    verification *v = NULL;
    unsigned quota = cl->node->verify_per_originator > 0 ? cl->node->verify_per_originator
                                                         : CSE_VERIFY_PER_ORIGINATOR_DEFAULT;
    char o[128];

    if (n == 0 || n > CSE_VERIFY_MAX) {
        done(arg, n == 0);
        return 0;
    }
    if (held_by(cl, originator) >= quota) {
        CMN_WARN(SUB, "event=verification_refused reason=originator_quota originator=%s quota=%u",
                 cmn_log_value(originator, o, sizeof(o)), quota);
        done(arg, false);
        return 0;
    }
    for (size_t i = 0; v == NULL && i < MAX_VERIFY; i++)
        v = cl->v[i].id == 0 ? &cl->v[i] : NULL;
    if (v == NULL) {
        CMN_WARN(SUB, "event=verification_refused reason=all_slots_busy slots=%d", MAX_VERIFY);
        done(arg, false);
        return 0;
    }
    if (++cl->next_id == 0)
        cl->next_id = 1;
    *v = (verification){.id = cl->next_id, .done = done, .arg = arg};
    snprintf(v->originator, sizeof(v->originator), "%s", originator);
    for (size_t i = 0; i < n; i++) {
        sent_request *sr = &v->sent[v->n_sent];

        if (send_one(cl, nu[i], originator, body, sr->token, &sr->s) != 0) {
            finish(v, false);
            return 0;
        }
        v->n_sent++;
        v->outstanding++;
    }
    return v->id;
}

void cse_client_cancel(cse_client *cl, uint32_t id)
{
    verification *v = find(cl, id);

    if (v != NULL)
        memset(v, 0, sizeof(*v));
}

/* The request of a verification that token names, sent on session s and not answered
 * yet; NULL for anything else (a stranger's token, another session, a second answer). */
static sent_request *sent_for(cse_client *cl, coap_session_t *s, coap_bin_const_t token,
                              verification **ret_v)
{
    if (token.length != sizeof(((sent_request *)0)->token))
        return NULL;
    for (size_t i = 0; i < MAX_VERIFY; i++) {
        verification *v = &cl->v[i];

        for (size_t j = 0; v->id != 0 && j < v->n_sent; j++) {
            sent_request *sr = &v->sent[j];

            if (!sr->answered && sr->s == s && memcmp(sr->token, token.s, token.length) == 0) {
                *ret_v = v;
                return sr;
            }
        }
    }
    return NULL;
}

static void answered(cse_client *cl, coap_session_t *s, coap_bin_const_t token, bool ok)
{
    verification *v = NULL;
    sent_request *sr = sent_for(cl, s, token, &v);

    if (sr == NULL)
        return;
    sr->answered = true;
    if (!ok)
        finish(v, false);
    else if (--v->outstanding == 0)
        finish(v, true);
}

/* 2.xx and, when present, an RSC of 2xxx. */
static bool success(const coap_pdu_t *rsp)
{
    uint32_t rsc = 0;

    if (COAP_RESPONSE_CLASS(coap_pdu_get_code(rsp)) != 2)
        return false;
    return cmn_coap_opt_uint(rsp, CMN_OPT_RSC, &rsc) != 0 || (rsc >= 2000 && rsc < 3000);
}

static exchange *exchange_for(cse_client *cl, coap_session_t *s, coap_bin_const_t token)
{
    if (token.length != sizeof(((exchange *)0)->token))
        return NULL;
    for (size_t i = 0; i < MAX_EXCHANGES; i++) {
        exchange *x = &cl->x[i];

        if (x->id != 0 && x->s == s && memcmp(x->token, token.s, token.length) == 0)
            return x;
    }
    return NULL;
}

/* Calls the exchange's fn once (answer NULL: none came) and frees its slot first, so fn
 * may send again. */
static void exchange_done(exchange *x, const coap_pdu_t *answer)
{
    cse_client_answer_fn fn = x->fn;
    void *arg = x->arg;

    memset(x, 0, sizeof(*x));
    fn(arg, answer);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    cse_client *cl = the_client;
    exchange *x = cl != NULL ? exchange_for(cl, s, coap_pdu_get_token(received)) : NULL;

    if (cl != NULL)
        pending_done(cl, s, coap_pdu_get_token(received));

    if (x != NULL)
        exchange_done(x, received);
    else if (cl != NULL)
        answered(cl, s, coap_pdu_get_token(received), success(received));
    return COAP_RESPONSE_OK;
}

/* Set while an answer fn runs with NULL because the answer outgrew max_body. */
static bool too_large;

bool cse_client_answer_too_large(void)
{
    return too_large;
}

static void on_nack(coap_session_t *s, const coap_pdu_t *sent, const coap_nack_reason_t reason,
                    const coap_mid_t mid)
{
    cse_client *cl = the_client;
    exchange *x = cl != NULL && sent != NULL ? exchange_for(cl, s, coap_pdu_get_token(sent)) : NULL;
    const peer *p;

    if (x != NULL) {
        CMN_WARN(SUB, "event=request_failed reason=%d", (int)reason);
        too_large = reason == COAP_NACK_BAD_RESPONSE; /* patches/README.md item 9 */
        exchange_done(x, NULL);
        too_large = false;
        return;
    }
    if (cl == NULL || coap_session_get_type(s) != COAP_SESSION_TYPE_CLIENT)
        return; /* a server session: a separate response that was not acknowledged */
    if (sent != NULL) {
        pending_done(cl, s, coap_pdu_get_token(sent));
        answered(cl, s, coap_pdu_get_token(sent), false);
    }
    p = peer_of(cl, s);
    CMN_WARN(SUB, "event=notification_failed reason=%s ae_id=%s",
             reason == COAP_NACK_TLS_FAILED         ? "dtls_failed"
             : reason == COAP_NACK_TOO_MANY_RETRIES ? "no_answer"
                                                    : "transport",
             p != NULL && p->ae_id[0] != '\0' ? p->ae_id : "-");
}

/* ---- requests to other CSEs ------------------------------------------------------- */

static int add_path_str(coap_optlist_t **chain, const char *path)
{
    coap_uri_t u = {0};

    u.path.s = (const uint8_t *)path;
    u.path.length = strlen(path);
    return add_path(chain, &u);
}

static int add_query(coap_optlist_t **chain, const char *query)
{
    const char *p = query, *amp;

    while (p != NULL && *p != '\0') {
        size_t n;

        amp = strchr(p, '&');
        n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (n > 0 && !coap_insert_optlist(
                         chain, coap_new_optlist(COAP_OPTION_URI_QUERY, n, (const uint8_t *)p)))
            return CMN_ENOMEM;
        p = amp != NULL ? amp + 1 : NULL;
    }
    return 0;
}

static int request_options(const cse_client_req *r, coap_optlist_t **chain)
{
    int rc = add_path_str(chain, r->path);

    if (rc == 0)
        rc = add_query(chain, r->query);
    if (rc == 0 && r->from != NULL && r->from[0] != '\0')
        rc = cmn_coap_optlist_str(chain, CMN_OPT_FR, r->from);
    if (rc == 0)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RQI, r->rqi != NULL ? r->rqi : "");
    if (rc == 0)
        rc = cmn_coap_optlist_str(chain, CMN_OPT_RVI, r->rvi != NULL ? r->rvi : "3");
    if (rc == 0 && r->ty != 0)
        rc = cmn_coap_optlist_uint(chain, CMN_OPT_TY, r->ty);
    if (rc == 0 && r->body != NULL && r->body_len > 0)
        rc = cmn_coap_optlist_uint(chain, COAP_OPTION_CONTENT_FORMAT, CMN_CF_JSON);
    if (rc == 0)
        rc = cmn_coap_optlist_uint(chain, COAP_OPTION_ACCEPT, CMN_CF_JSON);
    return rc;
}

uint32_t cse_client_request(cse_client *cl, coap_session_t *s, const cse_client_req *r,
                            cse_client_answer_fn fn, void *arg)
{
    exchange *x = NULL;
    coap_optlist_t *chain = NULL;
    coap_pdu_t *pdu;
    int rc;

    for (size_t i = 0; i < MAX_EXCHANGES && x == NULL; i++)
        x = cl->x[i].id == 0 ? &cl->x[i] : NULL;
    if (x == NULL || s == NULL || cmn_random(x->token, sizeof(x->token)) != 0 ||
        (pdu = coap_pdu_init(COAP_MESSAGE_CON, r->code, coap_new_message_id(s),
                             coap_session_max_pdu_size(s))) == NULL)
        return 0;
    coap_add_token(pdu, sizeof(x->token), x->token);
    rc = request_options(r, &chain);
    if (rc == 0 && !coap_add_optlist_pdu(pdu, &chain))
        rc = CMN_ECOAP;
    if (rc == 0 && r->body != NULL && r->body_len > 0 &&
        !coap_add_data(pdu, r->body_len, (const uint8_t *)r->body))
        rc = CMN_ECOAP;
    coap_delete_optlist(chain);
    if (rc != 0) {
        coap_delete_pdu(pdu);
        return 0;
    }
    if (coap_send(s, pdu) == COAP_INVALID_MID)
        return 0;
    if (++cl->next_id == 0)
        cl->next_id = 1;
    x->id = cl->next_id;
    x->s = s;
    x->fn = fn;
    x->arg = arg;
    x->deadline_ms = cmn_mono_ms() + (r->timeout_ms > 0 ? r->timeout_ms : 5000);
    return x->id;
}

void cse_client_forget(cse_client *cl, uint32_t id)
{
    for (size_t i = 0; id != 0 && i < MAX_EXCHANGES; i++) {
        if (cl->x[i].id == id)
            memset(&cl->x[i], 0, sizeof(cl->x[i]));
    }
}

/* TS-0003 10.7 for SA2: once a second, the DTLS sessions whose AE's association is no
 * longer usable (revoked, expired, replaced: another credential now) are closed. Nothing
 * would be sent on them anyway (target_session checks each time); this frees them. */
static void close_unusable_sa2(cse_client *cl, int64_t now)
{
    cse_saef_cred cred;
    char v[128];
    size_t i = 0;
    int rc;

    if (now < cl->next_sa2_check_ms)
        return;
    cl->next_sa2_check_ms = now + 1000;
    while (i < cl->n_peers) {
        peer *p = cl->peers[i];

        if (p->key_id[0] == '\0' || p->dead) {
            i++;
            continue;
        }
        rc = cse_saef_association(cl->node->store, p->ae_id, (int64_t)time(NULL), &cred);
        if (rc == 0 && strcmp(cred.key_id, p->key_id) == 0) {
            cmn_wipe(&cred, sizeof(cred));
            i++;
            continue;
        }
        cmn_wipe(&cred, sizeof(cred));
        CMN_INFO(SUB, "event=sa2_closed reason=association_%s ae_id=%s identity=%s",
                 rc == 0 ? "replaced" : "unusable", p->ae_id,
                 cmn_log_value(p->key_id, v, sizeof(v)));
        peer_drop(cl, i);
    }
}

void cse_client_tick(cse_client *cl)
{
    int64_t now = cmn_mono_ms();

    for (size_t i = 0; i < MAX_EXCHANGES; i++) {
        if (cl->x[i].id != 0 && now > cl->x[i].deadline_ms) {
            CMN_WARN(SUB, "event=request_failed reason=timeout");
            exchange_done(&cl->x[i], NULL);
        }
    }
    close_unusable_sa2(cl, now);
}

void cse_client_session_gone(cse_client *cl, coap_session_t *s)
{
    for (size_t i = 0; i < MAX_EXCHANGES; i++) {
        if (cl->x[i].id != 0 && cl->x[i].s == s)
            exchange_done(&cl->x[i], NULL);
    }
}

coap_session_t *cse_client_plain_session(cse_client *cl, const char *uri, bool *refused)
{
    coap_uri_t u;
    coap_address_t a;
    peer *p;

    *refused = false;
    if (strncmp(uri, "coap://", 7) != 0 ||
        coap_split_uri((const uint8_t *)uri, strlen(uri), &u) != 0 ||
        cmn_coap_uri_address(&u, true, &a) != 0) /* numeric only: never a DNS wait */
        return NULL;
    if (!target_allowed(cl, &a, uri)) {
        *refused = true;
        return NULL;
    }
    p = session_for(cl, &a, NULL, "");
    return p != NULL ? p->s : NULL;
}

void cse_client_read_answer(const coap_pdu_t *answer, cse_rsp *ret)
{
    uint32_t rsc = 0, cf = CMN_CF_JSON;
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t at = 0;

    memset(ret, 0, sizeof(*ret));
    ret->rsc =
        cmn_coap_opt_uint(answer, CMN_OPT_RSC, &rsc) == 0 ? rsc : CMN_RSC_INTERNAL_SERVER_ERROR;
    cmn_coap_opt_uint(answer, COAP_OPTION_CONTENT_FORMAT, &cf);
    ret->cf = cf == CMN_CF_RES_JSON ? CMN_CF_RES_JSON : CMN_CF_JSON;
    if (coap_get_data_large(answer, &len, &data, &off, &total) && len > 0 &&
        (ret->body = malloc(len + 1)) != NULL) {
        memcpy(ret->body, data, len);
        ret->body[len] = '\0';
    }
    coap_option_iterator_init(answer, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
        size_t n = coap_opt_length(opt);

        if (it.number != COAP_OPTION_LOCATION_PATH || at + n + 2 >= sizeof(ret->location))
            continue;
        if (at > 0)
            ret->location[at++] = '/';
        memcpy(ret->location + at, coap_opt_value(opt), n);
        at += n;
        ret->location[at] = '\0';
    }
}

int cse_client_new(coap_context_t *ctx, cse_node *node, cse_client **ret)
{
    cse_client *cl = calloc(1, sizeof(*cl));

    *ret = NULL;
    if (cl == NULL)
        return CMN_ENOMEM;
    cl->ctx = ctx;
    cl->node = node;
    the_client = cl;
    cse_saef_set_client_events(cse_client_on_event);
    coap_register_response_handler(ctx, on_response);
    coap_register_nack_handler(ctx, on_nack);
    *ret = cl;
    return 0;
}

int cse_client_attach(cse_client *cl, coap_context_t *ctx)
{
    if (cl == NULL || ctx == NULL)
        return CMN_EINVAL;
    coap_register_response_handler(ctx, on_response);
    coap_register_nack_handler(ctx, on_nack);
    return 0;
}

void cse_client_free(cse_client *cl)
{
    if (cl == NULL)
        return;
    while (cl->n_peers > 0)
        peer_drop(cl, cl->n_peers - 1);
    if (cl->pki_ctx != NULL)
        coap_free_context(cl->pki_ctx);
    free(cl->cert_file);
    free(cl->key_file);
    free(cl->ca_file);
    if (the_client == cl)
        the_client = NULL;
    free(cl);
}

int cse_client_set_pki(cse_client *cl, const char *cert_file, const char *key_file,
                       const char *ca_file)
{
    if (cert_file == NULL || cert_file[0] == '\0' || key_file == NULL || ca_file == NULL)
        return 0;
    if ((cl->cert_file = strdup(cert_file)) == NULL || (cl->key_file = strdup(key_file)) == NULL ||
        (cl->ca_file = strdup(ca_file)) == NULL)
        return CMN_ENOMEM;
    if ((cl->pki_ctx = coap_new_context(NULL)) == NULL ||
        cmn_coap_register_options(cl->pki_ctx) != 0)
        return CMN_ECOAP;
    coap_context_set_block_mode(cl->pki_ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    if (cl->body.max_body > 0) /* an AE's Block2 answer bounded as on the other contexts */
        cmn_coap_set_body_limits(cl->pki_ctx, &cl->body);
    coap_register_response_handler(cl->pki_ctx, on_response);
    coap_register_nack_handler(cl->pki_ctx, on_nack);
    coap_register_event_handler(cl->pki_ctx, cse_client_on_event);
    return 0;
}

void cse_client_set_body_limits(cse_client *cl, const cmn_body_limits *lim)
{
    cl->body = *lim;
    if (cl->pki_ctx != NULL)
        cmn_coap_set_body_limits(cl->pki_ctx, lim);
}

int cse_client_pki_fd(const cse_client *cl)
{
    return cl->pki_ctx != NULL ? coap_context_get_coap_fd(cl->pki_ctx) : -1;
}

unsigned cse_client_pki_process(cse_client *cl)
{
    coap_tick_t now;

    if (cl->pki_ctx == NULL)
        return 0;
    coap_io_process(cl->pki_ctx, COAP_IO_NO_WAIT);
    coap_ticks(&now);
    return coap_io_prepare_epoll(cl->pki_ctx, now);
}
