/* The CoAP binding of tep-cse (TS-0008): libcoap server with a plain CoAP and a DTLS
 * endpoint, one handler for every path, oneM2M options in and out. */
#ifndef TEP_CSE_COAP_H
#define TEP_CSE_COAP_H

#include <coap3/coap.h>
#include <stdbool.h>

#include "cmn_coap.h"
#include "cmn_dtls_guard.h"
#include "cse_admit.h"
#include "cse_request.h"

typedef struct cse_coap cse_coap;

/* node is borrowed (must outlive the server). coap_listen may be "" (off).
 * CMN_ECOAP: libcoap is not the patched one or DTLS is missing (start-up error);
 * CMN_EIO: an endpoint could not be bound (bind error). */
int cse_coap_new(cse_node *node, const char *coap_listen, const char *coaps_listen,
                 const char *psk_hint, cse_coap **ret);
/* The certificate SAEF on the CoAPS endpoint besides PSK (cse_saef_setup_pki()): PEM
 * files, all "" = off. CMN_EINVAL: some empty; CMN_ECOAP: libcoap refused them. */
int cse_coap_set_pki(cse_coap *c, const char *cert_file, const char *key_file, const char *ca_file);
void cse_coap_free(cse_coap *c); /* NULL is fine; closes every session */
/* The DTLS flood limits ([dtls], cmn_dtls_guard.h) and their counters (all zero before
 * the limits are set). */
int cse_coap_set_dtls_limits(cse_coap *c, const cmn_dtls_limits *lim);
void cse_coap_dtls_stats(const cse_coap *c, cmn_dtls_stats *ret);
/* Admission of requests that wait for remote decisions (cse_admit.h); without it (local
 * mode) every request is admitted. Stats all zero when off. */
int cse_coap_set_admission(cse_coap *c, const cse_admit_limits *lim, int deadline_ms);
void cse_coap_admit_stats(const cse_coap *c, cse_admit_stats *ret);
/* How long the ACK of a parked confirmable request waits for its answer (ms, 0 = not at
 * all): an answer known by then goes out piggy-backed on the ACK, a later one as a
 * separate response after an empty ACK (RFC 7252 5.2.2; coap_async_delay_ack() of tep's
 * libcoap patch). Default 0 until set. */
void cse_coap_set_piggyback(cse_coap *c, int ms);
/* [cse] max_body, block1_*: what a request may carry (cmn_coap.h). */
void cse_coap_set_body_limits(cse_coap *c, const cmn_body_limits *lim);
/* Responses so far: piggy-backed on the request's ACK (or NON) and separate (after an
 * empty ACK), for tepctl status. */
void cse_coap_answer_stats(const cse_coap *c, uint64_t *piggybacked, uint64_t *separate);
/* The fd to poll (libcoap's epoll fd), and the work to do when it is readable or
 * when the returned timeout (ms, for the next poll) runs out. */
/* Forwarding (cse_route.h): fn gives the MN-CSE's session to its registrar (NULL when
 * not connected); requests whose next hop is the registrar go there. */
void cse_coap_set_uplink(cse_coap *c, coap_session_t *(*fn)(void *arg), void *arg);
/* The libcoap context and the CoAP client (borrowed), for the MN-CSE's registration. */
coap_context_t *cse_coap_context(cse_coap *c);
struct cse_client *cse_coap_client(cse_coap *c);
uint64_t cse_coap_forwarded(const cse_coap *c); /* requests sent on to another CSE */
int cse_coap_fd(const cse_coap *c);
/* The libcoap context for the client sessions of this CSE as Entity A of a SAEF (its
 * own credentials, certificate or PSK: libcoap 4.3.1 cannot hold a client's beside the
 * server's in one context), created at the first call; NULL when it cannot be. Its
 * sessions are served by the same handler and processed by cse_coap_process; its fd is
 * cse_coap_client_fd (-1 before). */
coap_context_t *cse_coap_client_context(cse_coap *c);
int cse_coap_client_fd(const cse_coap *c);
/* The fd of the notification client's own context for SA2 with certificates
 * (cse_client.h; apart from the context above: one PKI setup per libcoap context, and
 * the two would replace each other's certificate checks), -1 without [cse] cert_file. */
int cse_coap_notify_fd(const cse_coap *c);
unsigned cse_coap_process(cse_coap *c);

/* The request as the handler reads it before cse_request_handle(): oneM2M options
 * (RVI, RQET/RSET/OET included), Uri-Path, Uri-Query, method, body, CBOR decoded to JSON
 * with its Accept twin. For the fuzz target (fuzz/fuzz_cse_request.c), so that it feeds
 * the handler what the network would, not a copy of this reader. What depends on the
 * session (now, secure, bound_id, peer_ip) is the caller's to set. true: req is ready
 * for cse_request_handle(); false: rsp holds the answer the handler gives without
 * calling it (4000 bad option or undecodable CBOR; 5000 out of memory). req points into
 * *ret: cse_coap_in_free() after the request is handled (NULL is fine). */
typedef struct cse_coap_in cse_coap_in;
bool cse_coap_read(const coap_pdu_t *pdu, cse_req *req, cse_rsp *rsp, cse_coap_in **ret);
void cse_coap_in_free(cse_coap_in *in);

#endif
