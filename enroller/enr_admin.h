/* The enroller's admin requests (tepctl): STATUS, ENROLEE_ADD/LIST/REVOKE,
 * APP_ADD/LIST/REVOKE, CERT_LIST, CERT_REVOKE, EVENT_LIST. I/O-free apart from the
 * store; the caller sends the answer and publishes the returned events (a revocation). */
#ifndef TEP_ENR_ADMIN_H
#define TEP_ENR_ADMIN_H

#include <stdint.h>

#include "cmn_dtls_guard.h"
#include "cmn_store.h"
#include "enr_db.h"
#include "tep.pb-c.h"

#define ENR_KPM_LEN 32

/* Answers req into resp (initialised with TEP__ADMIN_RESPONSE__INIT); resp->err is
 * the CMN_E* outcome, also returned. Everything in resp is owned by it: release with
 * enr_admin_clear() (wipes the Kpm of an ENROLEE_ADD answer). */
int enr_admin_handle(cmn_store *s, const Tep__AdminRequest *req, int64_t now,
                     Tep__AdminResponse *resp, enr_events *ret_events);
void enr_admin_clear(Tep__AdminResponse *resp);
/* Appends the DTLS flood guard's counters to a STATUS answer (cmn_dtls_stats_kv). */
int enr_admin_add_dtls_status(Tep__AdminResponse *resp, const cmn_dtls_stats *st);

#endif
