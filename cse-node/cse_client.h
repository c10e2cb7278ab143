/* tep-cse as a CoAP client (TS-0008): the NOTIFY requests of subscriptions, and the
 * verification requests a new subscription waits for. Targets given by IP address
 * (coaps://192.0.2.7:5684/n, coap://127.0.0.1:5690/path), directly or as an AE's
 * pointOfAccess: a coaps:// target over SA2 (TS-0003 8.2.1, tep-cse as DTLS client with
 * the credential of the AE's own association, docs/cse.md "Notifications over DTLS"),
 * a coap:// target only where [cse] notify_plain allows. Never blocks: answers arrive
 * through libcoap's response and NACK handlers. */
#ifndef TEP_CSE_CLIENT_H
#define TEP_CSE_CLIENT_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_coap.h"
#include "cse_request.h"

typedef struct cse_client cse_client;

/* Registers the response and NACK handlers on ctx. node is borrowed. */
int cse_client_new(coap_context_t *ctx, cse_node *node, cse_client **ret);
void cse_client_free(cse_client *cl); /* NULL is fine; releases its sessions */
/* The same handlers on another context (cse_coap_client_context): answers to requests
 * sent on its sessions reach cl. */
int cse_client_attach(cse_client *cl, coap_context_t *ctx);

/* SA2 with certificates: the CSE's own certificate, key and trust anchor ([cse]
 * cert_file, key_file, ca_file; copied). Without them an AE whose association is a
 * certificate gets no notification over DTLS (logged reason=no_cse_certificate). */
int cse_client_set_pki(cse_client *cl, const char *cert_file, const char *key_file,
                       const char *ca_file);
/* [cse] max_body and the rest for that context as for the others (item 9 of
 * patches/README.md bounds the Block2 answers of an AE there), now or when it is made. */
void cse_client_set_body_limits(cse_client *cl, const cmn_body_limits *lim);
/* Those sessions live in a libcoap context of their own (made by cse_client_set_pki):
 * its fd to poll (-1: none), and one turn of it (answers, handshakes, retransmissions)
 * returning the ms until its next timer (0: none). */
int cse_client_pki_fd(const cse_client *cl);
unsigned cse_client_pki_process(cse_client *cl);

/* A NOTIFY (POST without TY, Content-Format 50) of body to nu; owner: the originator
 * the target belongs to (the subscription's creator; whose SA2 a coaps:// URI given as
 * is uses). Failures are logged. */
void cse_client_notify(cse_client *cl, const char *nu, const char *owner, const char *body);

/* Sends body to each of nu[0..n) (n <= CSE_VERIFY_MAX) and calls done(arg, ok) once,
 * when every target answered 2xxx (ok) or one failed. An answer counts once, for the
 * request it names by its (random) token, and only from the session that request went
 * on. originator: whose subscription; one originator holds at most
 * node->verify_per_originator verifications at once (more: done(arg, false) at once, as
 * when every slot is busy). Returns an id for cse_client_cancel, 0 when done was
 * already called (nothing sent, or every target unusable). */
typedef void (*cse_client_done_fn)(void *arg, bool ok);
uint32_t cse_client_verify(cse_client *cl, const char *originator, char *const *nu, size_t n,
                           const char *body, cse_client_done_fn done, void *arg);
/* Forgets a verification: done will not be called. */
void cse_client_cancel(cse_client *cl, uint32_t id);

/* Where a notification target leads. */
typedef struct {
    char uri[512];   /* coaps://... or coap://... */
    char ae_id[256]; /* coaps://: the AE whose security association (SA2) carries it;
                        "" for coap:// (and for a coaps:// URI without an owner) */
} cse_client_dest;
/* Resolves nu: a coap:// or coaps:// URI as is (a coaps:// one is owner's, in its
 * local form: the originator who gave it), else the AE it names (AE-ID or path) at its
 * first coaps:// pointOfAccess (that AE's own association), else its first coap://
 * one. CMN_ENOTFOUND when there is none, CMN_ERANGE when too long. */
int cse_client_target(cmn_store *st, const char *cse_id, const char *nu, const char *owner,
                      cse_client_dest *ret);
/* Whether nu may be sent to at all (no I/O): not a local service nor this CSE
 * (node->targets, cse_target.h; logged event=target_refused as on sending); a coap://
 * target only where node->notify_plain allows its address; a coaps:// one only with a
 * usable security association of the AE it belongs to. CMN_EDENIED with *ret_reason
 * ("target_refused_local_address", "target_refused_own_port",
 * "plain_coap_target_not_allowed", "no_security_association",
 * "no_usable_security_association"); 0 otherwise, also for a target that does not
 * resolve (sending to it fails). */
int cse_client_target_allowed(const cse_node *node, const char *nu, const char *owner,
                              const char **ret_reason);
/* libcoap events of client sessions (cse_saef_on_event passes them on): a DTLS session
 * of SA2 that failed or closed is replaced at its next use. */
int cse_client_on_event(coap_session_t *session, const coap_event_t event);

/* ---- requests to other CSEs (forwarding, CSE registration) ------------------------ */

/* One oneM2M request this CSE sends on (TS-0008): strings borrowed for the call. */
typedef struct {
    coap_pdu_code_t code; /* COAP_REQUEST_CODE_GET/POST/PUT/DELETE */
    const char *path;     /* Uri-Path, '/'-separated, no leading '/' */
    const char *query;    /* Uri-Query, '&'-separated, NULL = none */
    const char *from;     /* From (279) */
    const char *rqi;      /* RQI (283) */
    const char *rvi;      /* RVI (271), NULL = "3" */
    uint32_t ty;          /* TY (267), 0 = none */
    const char *body;     /* JSON, may be NULL */
    size_t body_len;
    int timeout_ms; /* no answer by then: fn(arg, NULL) */
} cse_client_req;

/* Called once with the answer, or with NULL (no answer in time, NACK, session gone). */
typedef void (*cse_client_answer_fn)(void *arg, const coap_pdu_t *answer);

/* Sends r on session s (a client session, or a server session a peer CSE opened: the
 * request goes back over its security association), with a random token; the answer
 * counts only on s with that token. Returns an id for cse_client_forget, 0 when nothing
 * was sent (fn is not called). */
uint32_t cse_client_request(cse_client *cl, coap_session_t *s, const cse_client_req *r,
                            cse_client_answer_fn fn, void *arg);
/* Within a cse_client_answer_fn called with NULL: whether the answer came but was
 * abandoned for outgrowing [cse] max_body during Block2 reassembly (patches/README.md
 * item 9). */
bool cse_client_answer_too_large(void);
/* fn will not be called for id. */
void cse_client_forget(cse_client *cl, uint32_t id);
/* Requests forgotten (done session gone) or past their timeout get fn(arg, NULL). */
void cse_client_tick(cse_client *cl);
/* The session to the AE ae (its resource path or AE-ID) at its pointOfAccess, as for a
 * notification (SA2 for a coaps:// one, plain CoAP where notify_plain allows), and the
 * Uri-Path there in path (plen bytes); NULL when there is none (*refused: not allowed). */
coap_session_t *cse_client_ae_session(cse_client *cl, const char *ae, char *path, size_t plen,
                                      bool *refused);
/* A plain CoAP client session to a coap://IP:port URI (kept by cl), NULL otherwise;
 * *refused: NULL because the address is not a target tep-cse may send to (cse_target.h). */
coap_session_t *cse_client_plain_session(cse_client *cl, const char *uri, bool *refused);
/* Whether s is still alive: not on the exchanges' side, for the registree. Forgets the
 * requests on s (fn(arg, NULL)), for a session about to be released. */
void cse_client_session_gone(cse_client *cl, coap_session_t *s);

/* An answer as a cse_rsp: rsc (RSC option; 5000 without one), body and Content-Format,
 * Location-Path joined into location. */
void cse_client_read_answer(const coap_pdu_t *answer, cse_rsp *ret);

#endif
