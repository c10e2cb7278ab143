/* The MN-CSE's registration to its registrar CSE (TS-0001 10.2.2.6-10.2.2.10, TS-0004
 * 7.4.4.2; docs/cse.md "CSE registration"): the Mcc security association with the MN-CSE
 * as Entity A (TS-0003 8.2.2: DTLS-PSK with the Kpsa of its own enrolment, CSE-ID as
 * Enrolee-ID; DTLS with its tep CA certificate; DTLS-PSK with a Kc from the MAF), or
 * plain CoAP where configured;
 * the <remoteCSE> CREATE at the registrar (UPDATE when it is there already, e.g. after a
 * restart of this side), the local <remoteCSE> of the registrar from its CSEBase, the
 * descendantCSEs kept up to date, and a periodic check that redoes the registration when
 * the registrar lost it (its store reset) or the session (its restart). Never blocks
 * after start-up: every exchange is a cse_client request. */
#ifndef TEP_CSE_REGISTREE_H
#define TEP_CSE_REGISTREE_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmn_kdf.h"
#include "cse_client.h"
#include "cse_config.h"
#include "cse_request.h"

typedef struct cse_registree cse_registree;

/* For [cse] type = MN. Over coaps:// the MN-CSE's credential for the SAEF ([registrar]
 * credential: kpsa, cert or maf) is obtained through libtepae from [registrar]
 * provisioning/state by a worker thread, never by the loop: the first enrolment (the
 * state file has none), the certificate (cert; renewed [registrar] renew_margin_s before
 * its notAfter), a Kc from the MAF (maf, again before it expires, and when the
 * registrar refuses the current one: at most one per [registrar] kc_retry_s), a new
 * enrolment when the provisioning file is replaced; a failure is logged and retried
 * (1 s doubling to 30 s), an enrolment whose registrar is not [registrar] cse_id is
 * logged (event=enrolment_mismatch) and not retried until a new provisioning file. Meanwhile the CSE serves its own clients. ctx is the client context
 * (cse_coap_client_context); cfg, node, ctx and cl are borrowed and must outlive it. */
int cse_registree_new(const cse_config *cfg, cse_node *node, coap_context_t *ctx, cse_client *cl,
                      cse_registree **ret);
void cse_registree_free(cse_registree *r); /* NULL is fine; releases the session */

/* The work of one loop turn: (re)connect, register, check, update descendantCSEs. */
void cse_registree_process(cse_registree *r, int64_t now_ms);
/* The session to the registrar when it is up (the uplink of cse_coap_set_uplink). */
coap_session_t *cse_registree_session(void *r);
/* De-registration by the MN-CSE (TS-0001 10.2.2.10; `tepctl cse deregister`): its
 * <remoteCSE> at the registrar is deleted (DELETE, From its CSE-ID), then the local one of
 * the registrar, and it stays unregistered (no checks) until cse_registree_rejoin
 * (`tepctl cse register`) or a restart. CMN_EINVAL for NULL (an IN-CSE). */
int cse_registree_leave(cse_registree *r);
int cse_registree_rejoin(cse_registree *r);
/* For tepctl status: registered now, and the registrations made since the start. */
bool cse_registree_registered(const cse_registree *r);
uint64_t cse_registree_count(const cse_registree *r);

/* For tepctl status: the credential for the registrar and the registration's state. */
typedef struct {
    const char *credential;  /* kpsa, cert, maf, plain_coap; "-" for NULL (an IN-CSE) */
    char id[CMN_KEY_ID_MAX]; /* KpsaID, the Kc's Key Identifier, the certificate's serial */
    int64_t expires;         /* Unix s: the certificate's notAfter, the Kc's or the
                               enrolment's expiry; 0 while there is no credential */
    const char *state;       /* registered, connecting, credential_refused (handshakes
                               refused), obtaining_credential, enrolment_refused,
                               enrolment_failed, credential_failed, enrolment_mismatch,
                               deregistered */
    const char *error;       /* the worker's last failure (e.g. cert_renewal_refused), NULL */
} cse_registree_status;
void cse_registree_info(const cse_registree *r, cse_registree_status *ret);

/* SIGHUP: the provisioning file is read again and, when it is not the one the
 * enrolment was made with (re-provisioned, TS-0003 8.3.1.2), the MN-CSE enrols with it
 * (as it does by itself when the file changes: it is looked at every second). A
 * revoked MN-CSE never re-enrols with the file it was revoked with. CMN_EINVAL for
 * NULL or plain CoAP. */
int cse_registree_reload(cse_registree *r);

#endif
