/* The MAF-based SAEF at the target (TS-0003 8.2.2.3, 8.8.2.6): an AE opens DTLS-PSK to
 * tep-cse with psk_identity = hex(KcID)@MAF-FQDN. The PSK callback reads the local store
 * only; when it does not know such an identity it refuses the handshake (it never waits)
 * and queues the identity (cse_saef_take_wanted); the loop hands it to cse_maf_want()
 * and cse_maf_process() sends MAF Key Retrieval
 * (KeyRequest{key_id, target_id = own CSE-ID}) on tep-authz's "keys" ROUTER and stores
 * the answer as Credential{key_id, Kc, suid 32, enrolee_id = the source AE-ID, expires}
 * in the credentials database, where the client's retried handshake finds it like a Kpsa.
 * With tep-authz's "maf_events" PUB configured, a KeyEvent naming this CSE among its
 * targets starts the same retrieval at once, usually before entity A's handshake.
 * A KeyEvent with revoked (key de-registered or revoked at the MAF) revokes the stored
 * Kc; one without it for a Kc stored here fetches it again (expiry or targets changed),
 * and an answer CMN_EDENIED (not a target any more) or CMN_ENOTFOUND revokes it. A
 * revoked Kc keeps its record (revoked, key bytes dropped): handshakes with it are
 * refused as revoked, it is never fetched or stored again, and the live DTLS sessions
 * bound to it are closed in the same loop turn: cse_maf_take_revoked() reports them and the
 * loop calls cse_saef_close_revoked(). cse_maf knows nothing of cse_saef. KeyEvents
 * published while the SUB is disconnected (tep-authz restarting) are lost: each time the
 * SUB (re)connects, and after the keys DEALER is rebuilt, every stored live Kc is
 * fetched again (resync, log event=maf_keys_resync count=N trigger=...). */
#ifndef TEP_CSE_MAF_H
#define TEP_CSE_MAF_H

#include <stdbool.h>
#include <stdint.h>

#include "cmn_bus.h"
#include "cmn_store.h"
#include "cse_sync.h" /* CSE_MAF_SUID_KC */

#define CSE_MAF_PENDING_MAX 32 /* retrievals in flight */
#define CSE_MAF_DEADLINE_MS                                                                        \
    2000                             /* an unanswered retrieval is dropped (and may be asked
                                  * again) and the DEALER rebuilt (Lazy Pirate) */
#define CSE_MAF_SWEEP_MS 500         /* revoked sources: how often stored Kc are checked */
#define CSE_MAF_SWEEP_MAX 64         /* Kc collected per store read in a sweep */
#define CSE_MAF_RESYNC_GAP_MS 5000   /* resyncs after DEALER rebuilds: at most one per gap */
#define CSE_MAF_RESYNC_SETTLE_MS 100 /* the SUB (re)connected: its resync this much later */
#define CSE_MAF_NEG_MAX 64           /* CoAPS: refused identities remembered */
#define CSE_MAF_NEG_MS 5000          /* CoAPS: a refused identity is not asked for this long */
#define CSE_MAF_RECHECK_AHEAD 2      /* CoAPS: recheck keys queued at once (the rest free) */

typedef struct cse_maf cse_maf;

/* DEALER to keys_ep (tep-authz's [bus] keys) and, unless events_ep is "", SUB to it
 * (tep-authz's [bus] maf_events). bus and st are borrowed, cse_id copied. */
int cse_maf_new(cmn_bus *bus, const char *keys_ep, const char *events_ep, const char *cse_id,
                cmn_store *st, cse_maf **ret);
/* MAF Key Retrieval over CoAPS instead of the bus ([maf] retrieval = coaps; TS-0003
 * 8.8.2.8, docs/internals.md "MAF Key Retrieval over CoAPS at tep-cse"): a worker thread
 * runs libtepae's tep_maf_retrieve_kc() in a MAF Handshake with the CSE's own enrolment
 * (prov/state, Enrolee-ID = cse_id), one key at a time; the loop hands it keys and takes
 * its results (stored, refused, revoked exactly as the bus's answers), never waiting.
 * The keys asked for by a handshake go first; a refused one (not a key stored here) is
 * not asked for again for CSE_MAF_NEG_MS. Without KeyEvents, every stored live Kc is
 * fetched again every recheck_s: 4.04 revokes it (deregistered), 4.03 (not_target);
 * other failures leave it to its expiry. may_enrol: the worker enrols when the state
 * file has none (or it expired); false when another part (the MN-CSE's registree) owns
 * that enrolment. timeout_ms bounds each exchange. Strings copied. */
typedef struct {
    const char *prov;
    const char *state;
    const char *maf_uri; /* "" = the enrolment's MAF point of access (mpoa) */
    bool may_enrol;
    long recheck_s;
    long timeout_ms;
} cse_maf_coaps_cfg;
int cse_maf_new_coaps(const cse_maf_coaps_cfg *cfg, const char *cse_id, cmn_store *st,
                      cse_maf **ret);
void cse_maf_free(cse_maf *m); /* NULL is fine; waits for a CoAPS retrieval on its way */
/* One fd for poll(): an epoll set of the DEALER's, the SUB's and its monitor's fds. It stays
 * the same when the DEALER is rebuilt. */
int cse_maf_fd(const cse_maf *m);

/* Whether id has the shape of a MAF Key Identifier: 32 hex digits "@" an FQDN. */
bool cse_maf_is_key_id(const char *id);
/* Asks for key_id at the next cse_maf_process() (the loop, with the identities the PSK
 * callback did not know). No I/O; does nothing when m is NULL, the id is not a Key
 * Identifier, it is already asked for, or the queue is full. */
void cse_maf_want(cse_maf *m, const char *key_id);
/* Takes KeyEvents and answers (storing, updating or revoking Kc), forgets retrievals
 * past their deadline and then rebuilds the DEALER (a fresh socket: a late answer to
 * the old one is never taken; retrievals in flight on it are sent again) and starts a
 * resync (every stored live Kc fetched again: KeyEvents may have been lost; at most one
 * per CSE_MAF_RESYNC_GAP_MS), starts one CSE_MAF_RESYNC_SETTLE_MS after the maf_events
 * SUB (re)connected (cmn_bus_monitor: at start and after tep-authz came back), queues the resync's next keys as retrieval slots free,
 * sends what is asked for and runs the source sweep every CSE_MAF_SWEEP_MS. Never blocks.
 * Returns how many keys were stored. */
unsigned cse_maf_process(cse_maf *m, int64_t now_ms);
/* How many stored Kc cse_maf_process() revoked since the last call (KeyEvents, answers,
 * the source sweep): the loop then closes the sessions bound to them
 * (cse_saef_close_revoked), in the same turn. */
size_t cse_maf_take_revoked(cse_maf *m);

/* Marks revoked every stored Kc whose source enrolment (Credential.ke_id) this CSE
 * knows as revoked or expired (its Kpsa, through the KeID index of cse_sync.h): a
 * revoked enrolment ends its connection keys too (TS-0003 10.7). All stored Kc are
 * checked, CSE_MAF_SWEEP_MAX per store read. The caller closes the sessions bound to
 * them with cse_saef_close_revoked(). Returns how many were revoked. Run by
 * cse_maf_process() every CSE_MAF_SWEEP_MS (expiry of the source) and by tep-cse right
 * after a sync batch that applied a revocation. */
size_t cse_maf_revoke_stale(cmn_store *st, int64_t now);

/* Stores a retrieved credential (checked: SUID 32 or 33, 32-byte key, its key_id, an
 * enrolee). Exposed for tests. */
int cse_maf_store(cmn_store *st, const char *key_id, const Tep__Credential *c);

#endif
