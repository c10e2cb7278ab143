/* tep-cse as a CoAP client (TS-0008): the NOTIFY requests of subscriptions, and the
 * verification requests a new subscription waits for. Plain CoAP targets given by IP
 * address (coap://127.0.0.1:5690/path), directly or as an AE's pointOfAccess. Never
 * blocks: answers arrive through libcoap's response and NACK handlers. */
#ifndef TEP_CSE_CLIENT_H
#define TEP_CSE_CLIENT_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cse_request.h"

typedef struct cse_client cse_client;

/* Registers the response and NACK handlers on ctx. node is borrowed. */
int cse_client_new(coap_context_t *ctx, cse_node *node, cse_client **ret);
void cse_client_free(cse_client *cl); /* NULL is fine; releases its sessions */

/* A NOTIFY (POST without TY, Content-Format 50) of body to nu; failures are logged. */
void cse_client_notify(cse_client *cl, const char *nu, const char *body);

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

/* Resolves nu to a coap:// URI (itself, or the first coap:// poa of the AE it names);
 * ret holds len bytes. CMN_ENOTFOUND when there is none. */
int cse_client_target(cmn_store *st, const char *cse_id, const char *nu, char *ret, size_t len);

#endif
