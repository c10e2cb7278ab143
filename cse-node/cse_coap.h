/* The CoAP binding of tep-cse (TS-0008): libcoap server with a plain CoAP and a DTLS
 * endpoint, one handler for every path, oneM2M options in and out. */
#ifndef TEP_CSE_COAP_H
#define TEP_CSE_COAP_H

#include "cse_request.h"

typedef struct cse_coap cse_coap;

/* node is borrowed (must outlive the server). coap_listen may be "" (off).
 * CMN_ECOAP: libcoap is not the patched one or DTLS is missing (start-up error);
 * CMN_EIO: an endpoint could not be bound (bind error). */
int cse_coap_new(cse_node *node, const char *coap_listen, const char *coaps_listen,
                 const char *psk_hint, cse_coap **ret);
/* The certificate SAEF on the CoAPS endpoint besides PSK (cse_saef_setup_pki()): PEM
 * files, all "" = off. CMN_EINVAL: some empty; CMN_ECOAP: libcoap refused them. */
int cse_coap_set_pki(cse_coap *c, const char *cert_file, const char *key_file,
                     const char *ca_file);
void cse_coap_free(cse_coap *c); /* NULL is fine; closes every session */
/* The fd to poll (libcoap's epoll fd), and the work to do when it is readable or
 * when the returned timeout (ms, for the next poll) runs out. */
int cse_coap_fd(const cse_coap *c);
unsigned cse_coap_process(cse_coap *c);

#endif
