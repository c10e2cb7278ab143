/* The provisioned-symmetric-key SAEF at the CSE (TS-0003 8.2.2.1): DTLS-PSK with
 * psk_identity = KpsaID, psk = Kpsa, read from the local "credentials" db only (never
 * the network). Each accepted session is bound to the credential's enrolee (AE-ID). */
#ifndef TEP_CSE_SAEF_H
#define TEP_CSE_SAEF_H

#include <coap3/coap.h>
#include <stdint.h>

#include "cmn_store.h"

/* Sets the PSK server callbacks and the session event handler on ctx. st is borrowed
 * and must outlive ctx. */
int cse_saef_setup(coap_context_t *ctx, cmn_store *st, const char *psk_hint);

/* The AE-ID bound to a DTLS session, checked against the store on every request (a
 * credential revoked or expired since the handshake unbinds it). NULL: not bound. */
const char *cse_saef_bound_id(cmn_store *st, coap_session_t *session, int64_t now);

#endif
