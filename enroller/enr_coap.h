/* tep-enroller's CoAPS side (TS-0003 8.3.2.1, docs/internals.md "Enrolment over CoAPS"):
 * a libcoap context with one DTLS-PSK endpoint. The PSK identity is the KpmID, looked
 * up in the store at handshake time (unknown, revoked or expired: refused); the SNI
 * must be the MEF-FQDN. POST /enrol exports Ke, records the enrolment (commit first),
 * answers 2.01 and hands the committed events to the caller, who publishes them once
 * enr_coap_process() returns (so after the answer went out). POST /cert, in the same
 * kind of session, has ca (borrowed) issue a certificate for the session's enrolment. */
#ifndef TEP_ENR_COAP_H
#define TEP_ENR_COAP_H

#include "cmn_store.h"
#include "enr_ca.h"
#include "enr_config.h"
#include "enr_db.h"

typedef struct enr_coap enr_coap;

/* Receives events committed during enr_coap_process() (ev valid only during the call). */
typedef void (*enr_events_fn)(const enr_events *ev, void *arg);

/* cfg and store are borrowed and must outlive the object. CMN_EIO when the listen
 * address cannot be bound, CMN_ECONFIG when it does not resolve, CMN_ECOAP otherwise. */
int enr_coap_new(const enr_config *cfg, cmn_store *store, enr_ca *ca, enr_events_fn on_events,
                 void *arg, enr_coap **ret);
/* GBA enrolees (TS-0003 8.3.2.3): B-TID handshakes served with gba's NAF keys. */
struct enr_gba;
void enr_coap_set_gba(enr_coap *c, struct enr_gba *gba);
void enr_coap_free(enr_coap *c); /* closes every session; NULL is fine */
/* The fd to poll for reading (libcoap's epoll fd). */
int enr_coap_fd(const enr_coap *c);
/* Does all pending CoAP work without waiting. Returns the ms until libcoap next needs
 * a call (0: nothing scheduled), or CMN_ECOAP. */
int enr_coap_process(enr_coap *c);
/* SIGHUP: reloads the manufacturer trust anchors from list and their CRLs from crls
 * (enr_trust.h). On error the current ones stay (logged `event=reload_refused`). An
 * anchor removed, or a device certificate revoked, enrols nobody from the next
 * handshake on. */
int enr_coap_reload_trust(enr_coap *c, const char *list, const char *crls);
/* The DTLS flood guard's counters (cfg->dtls limits, cmn_dtls_guard.h). */
void enr_coap_dtls_stats(const enr_coap *c, cmn_dtls_stats *ret);

#endif
