/* The provisioned-symmetric-key SAEF at the CSE (TS-0003 8.2.2.1): DTLS-PSK with
 * psk_identity = KpsaID, psk = Kpsa, read from the local "credentials" db only (never
 * the network). Each accepted session is bound to the credential's enrolee (AE-ID). */
#ifndef TEP_CSE_SAEF_H
#define TEP_CSE_SAEF_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_store.h"

/* Sets the PSK server callbacks and the session event handler on ctx. st is borrowed
 * and must outlive ctx. */
int cse_saef_setup(coap_context_t *ctx, cmn_store *st, const char *psk_hint);

/* The AE-ID bound to a DTLS session, checked against the store on every request (a
 * credential revoked or expired since the handshake unbinds it). NULL: not bound. */
const char *cse_saef_bound_id(cmn_store *st, coap_session_t *session, int64_t now);

/* The App-ID of the enrolment bound to the session ("" none, NULL not bound). */
const char *cse_saef_bound_app_id(coap_session_t *session);
/* Application enrolment (seed Z.2, docs/internals.md): an AE registering over a session
 * whose enrolment carries an App-ID must register with api equal to it. 0, or 4126
 * (CMN_RSC_APP_RULE_VALIDATION_FAILED). Pure. */
unsigned cse_saef_check_app_id(const char *bound_app_id, const char *api);

/* TS-0003 10.7: closes every live DTLS session whose credential is no longer usable
 * (revoked by an applied event, expired, or gone): libcoap 4.3.1's public
 * coap_session_disconnected() sends the peer a close_notify alert, frees the DTLS
 * state and drops the session's queued messages; datagrams that still arrive on it are
 * dropped unread (no DTLS state), so the peer's next request gets no answer but its
 * own DTLS layer has already failed the session on the alert. At most
 * CSE_SAEF_CLOSE_MAX per call. Call it from the event loop, outside libcoap callbacks,
 * after each sync turn. Returns how many sessions were closed. */
#define CSE_SAEF_CLOSE_MAX 64
size_t cse_saef_close_revoked(cmn_store *st, int64_t now);

#endif
