/* The provisioned-symmetric-key SAEF at the CSE (TS-0003 8.2.2.1): DTLS-PSK with
 * psk_identity = KpsaID, psk = Kpsa, read from the local "credentials" db only (never
 * the network). Each accepted session is bound to the credential's enrolee (AE-ID). */
#ifndef TEP_CSE_SAEF_H
#define TEP_CSE_SAEF_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_kdf.h"
#include "cmn_store.h"

/* Sets the PSK server callbacks and the session event handler on ctx. st is borrowed
 * and must outlive ctx. */
int cse_saef_setup(coap_context_t *ctx, cmn_store *st, const char *psk_hint);
/* MAF-based SAEF (cse_maf.h): the Key Identifiers (cmn_kdf_is_key_id) the PSK callback
 * refused as unknown since the last call, each once, at most CSE_SAEF_WANTED_MAX (more are
 * dropped: the client's retried handshake queues its identity again). Copies up to max
 * into ret, oldest first, and forgets them; returns how many. The loop hands them to
 * cse_maf_want() after each cse_coap_process(). */
#define CSE_SAEF_WANTED_MAX 32
size_t cse_saef_take_wanted(char (*ret)[CMN_KEY_ID_MAX], size_t max);
/* Queues a Key Identifier as the PSK callback does: ESPrim (cse_esprim.c) met it as an
 * unknown kid, the loop fetches it from the MAF. */
void cse_saef_want(const char *id);

/* That event handler (the DTLS flood guard chains to it, cmn_dtls_guard.h). */
int cse_saef_on_event(coap_session_t *session, const coap_event_t event);
/* Client sessions' events go to fn (the binding's cse_client_on_event): the service layer
 * does not call up into the binding. */
void cse_saef_set_client_events(coap_event_handler_t fn);

/* The certificate SAEF (TS-0003 8.2.2.2, docs/internals.md "Certificate SAEF"):
 * ECDHE-ECDSA DTLS with the CSE's own certificate and key (PEM files), client
 * certificates required and checked to ca_file (the tep CA); the session is bound to
 * the identifier of the client certificate's subjectAltName "onem2m:<id>". All three
 * empty: PKI off (0). Some empty: CMN_EINVAL. CMN_ECONFIG: a file unreadable or not
 * PEM, or cert_file not issued by ca_file (logged). The checks and libcoap's set-up are
 * common/cmn_pki's, shared with tep-authz. Call after cse_saef_setup(). */
int cse_saef_setup_pki(coap_context_t *ctx, const char *cert_file, const char *key_file,
                       const char *ca_file);

/* The AE-ID bound to a DTLS session, checked against the store on every request (a
 * credential revoked or expired since the handshake unbinds it). NULL: not bound. */
const char *cse_saef_bound_id(cmn_store *st, coap_session_t *session, int64_t now);

/* The admin credential over CoAPS (docs/internals.md "admin over CoAPS"): a session
 * that authenticates with identity/key is bound to originator and marked admin. The
 * key is copied (wiped by cse_saef_clear_admin). CMN_EINVAL for an empty identity. */
int cse_saef_set_admin(const char *identity, const uint8_t key[CMN_KEY_LEN],
                       const char *originator);
void cse_saef_clear_admin(void);
/* The MN-CSE's client session to its registrar (cse_registree.h): bound to the
 * registrar's CSE-ID, which the DTLS-PSK handshake with the MN-CSE's Kpsa
 * authenticated (only the registrar holds it). Requests the registrar sends back on it
 * are bound to that CSE-ID. The binding is the session's (freed on close). */
int cse_saef_bind_peer(coap_session_t *session, const char *cse_id);
void cse_saef_unbind_peer(coap_session_t *session); /* before releasing that session */
/* A live DTLS session a peer opened to this CSE, bound to id (a registered CSE's
 * CSE-ID): requests forwarded to that CSE go back over it. NULL when none. */
coap_session_t *cse_saef_session_of(const char *id);

/* SA2 (TS-0003 8.2.1): the credential tep-cse uses as DTLS client towards an AE's own
 * point of access (notifications, verification requests): the one the AE's newest
 * session to this CSE (SA1) authenticated with while this process runs (Kpsa, Kc or a
 * MEF Kuc: its psk_identity and key; a certificate: is_cert), else the Kpsa of the AE's
 * current enrolment. CMN_ENOTFOUND: none (an AE that never had an association: plain
 * CoAP, admin); CMN_EDENIED / CMN_EEXPIRED: it is no longer usable. ret->key is wiped by
 * the caller (cmn_wipe). */
typedef struct {
    bool is_cert;                /* certificate SA: the CSE's own certificate, the AE's
                                     must name ae_id */
    char key_id[CMN_KEY_ID_MAX]; /* PSK: the psk_identity */
    uint8_t key[CMN_KEY_LEN];
} cse_saef_cred;
int cse_saef_association(cmn_store *st, const char *ae_id, int64_t now, cse_saef_cred *ret);
/* Events of client sessions (tep-cse's own DTLS clients) go to cse_client_on_event. */

/* True when the session authenticated with the admin credential. */
bool cse_saef_bound_is_admin(coap_session_t *session);

/* The App-ID of the enrolment bound to the session ("" none, NULL not bound). */
const char *cse_saef_bound_app_id(coap_session_t *session);

/* TS-0003 10.7: closes every live DTLS session whose credential is no longer usable
 * (revoked by an applied event, expired, or gone; for a certificate session: the
 * certificate revoked on its own (log reason=cert_revoked), expired, or its enrolee's
 * enrolment no longer usable): libcoap 4.3.1's public
 * coap_session_disconnected() sends the peer a close_notify alert, frees the DTLS
 * state and drops the session's queued messages; datagrams that still arrive on it are
 * dropped unread (no DTLS state), so the peer's next request gets no answer but its
 * own DTLS layer has already failed the session on the alert. At most
 * CSE_SAEF_CLOSE_MAX per call. Call it from the event loop, outside libcoap callbacks,
 * after each sync turn. Returns how many sessions were closed. */
#define CSE_SAEF_CLOSE_MAX 64
size_t cse_saef_close_revoked(cmn_store *st, int64_t now);

/* Whether a tep CA certificate (serial, the AE-ID its SAN names, its not_after) may
 * still authenticate: valid, not revoked on its own, issued under the AE-ID's current
 * usable enrolment (TS-0003 10.7). 0, else CMN_E* with *ret_reason for the log. Used by
 * the certificate SAEF and by ESCertKE (cse_escertke.c). */
int cse_saef_cert_usable(cmn_store *st, const char *serial, const char *ae_id, int64_t not_after,
                         int64_t now, const char **ret_reason);

#endif
