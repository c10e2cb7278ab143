/* tep-enroller's records in LMDB (cmn_store): enrolees, enrolments, the by_kpm index
 * and the event log, and the transactions that change them together. Each change that
 * produces events commits record + events + sequence counter in ONE transaction and
 * hands the events back, so the caller publishes only what is durable.
 *
 * Databases: "enrolees" (KpmID -> Enrolee), "enrolments" (KeID -> Enrolment),
 * "by_kpm" (KpmID -> KeID of the current enrolment), "events" (u64 seq, big-endian ->
 * Event), "counters" ("last_seq" -> u64 big-endian; "epoch" -> the store's epoch).
 * Schema 1.
 *
 * The epoch: 16 random bytes as 32 lower-case hex digits, made once when the store is
 * first opened (also a store from before epochs) and never changed. It names this event
 * log: a subscriber that sees another epoch in a sync answer knows the log it applied
 * is not this one (a fresh store) and starts over (cmn_sync.h). */
#ifndef TEP_ENR_DB_H
#define TEP_ENR_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_ca.h"
#include "cmn_kdf.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define ENR_SCHEMA 1
#define ENR_DB_ENROLEES "enrolees"
#define ENR_DB_ENROLMENTS "enrolments"
#define ENR_DB_BY_KPM "by_kpm"
#define ENR_DB_EVENTS "events"
#define ENR_DB_COUNTERS "counters"
#define ENR_DB_INSTANCES "instances"       /* "<KpmID>\0<KeID>" -> "": an application's instances */
#define ENR_DB_CA "ca"                     /* "key", "cert": the tep CA (enr_ca.h) */
#define ENR_DB_CERTS "certs"               /* serial -> IssuedCert */
#define ENR_DB_INSTANCE_IDS "instance_ids" /* an instance's AE-ID -> its KeID (collisions) */
#define ENR_DB_BY_CERT_ID "by_cert_id"   /* a certificate identity -> KpmID (the enrolee's name) */
#define ENR_DB_MEF_CLIENTS "mef_clients" /* MEFClientRegID -> MefClient (enr_mef.h) */
#define ENR_DB_MEF_KEYS "mef_keys"       /* Key Identifier -> MefKey (enr_mef.h) */

#define ENR_ID_MAX 256 /* KpmID, Enrolee-ID, App-ID, CSE-ID: bytes incl. NUL */

/* Events made by one committed change: a REVOKED and an ENROLLED for an enrolment,
 * one REVOKED per instance for an application, one CERT_REVOKED for a certificate. When a change makes more than
 * ENR_EVENTS_MAX, the last slot holds the newest: subscribers see the gap in the
 * sequence numbers and fetch the rest from sync, as after any lost event. */
#define ENR_EVENTS_MAX 8
typedef struct {
    size_t n;
    struct {
        uint64_t seq;
        Tep__Event__Kind kind;
        char ke_id[CMN_KEY_ID_MAX];
        char enrolee_id[ENR_ID_MAX];
        char cert_serial[CMN_CA_SERIAL_MAX]; /* CERT_REVOKED only, else "" */
    } ev[ENR_EVENTS_MAX];
} enr_events;

/* What an enrolment gives back for the enrolee's answer. */
typedef struct {
    char enrolee_id[ENR_ID_MAX];
    char app_id[ENR_ID_MAX];
    char registrar_cse_id[ENR_ID_MAX]; /* the enrolment target its Kpsa is derived for */
    int64_t expires;
    bool repeated; /* same session asked again: nothing new was recorded */
    enr_events events;
} enr_enrol_result;

typedef struct {
    const char *kpm_id;
    const char *ke_id;
    const uint8_t *ke;            /* CMN_KEY_LEN bytes */
    const char *registrar_cse_id; /* the default target: for an enrolee without target_cse_id */
    const char *maf_id;
    int64_t now;
} enr_enrol_input;

/* KpmID: 1..127 of [A-Za-z0-9._-]. Identifiers (Enrolee-ID, App-ID): 1..255
 * printable ASCII, no space. */
bool enr_valid_kpm_id(const char *s, size_t len);
bool enr_valid_identifier(const char *s);

#define ENR_EPOCH_LEN 32

/* Opens the store and gives it an epoch if it has none (see above). */
int enr_db_open(const char *dir, cmn_store **ret_store);
/* The store's epoch, NUL-terminated. CMN_ECORRUPT when malformed. */
int enr_db_epoch(cmn_store *s, char ret[ENR_EPOCH_LEN + 1]);

/* Unpacked records are owned by the caller; free with these (Kpm/Ke wiped). */
void enr_enrolee_free(Tep__Enrolee *e);
void enr_enrolment_free(Tep__Enrolment *e);

/* CMN_ENOTFOUND when absent. */
int enr_db_enrolee_get(cmn_store *s, const char *kpm_id, Tep__Enrolee **ret);
int enr_db_enrolment_get(cmn_store *s, const char *ke_id, Tep__Enrolment **ret);
int enr_db_event_get(cmn_store *s, uint64_t seq, Tep__Event **ret);
/* CMN_EEXIST if the KpmID is taken, or (e->cert_identity set) the certificate identity
 * is another enrolee's already; the by_cert_id entry is written in the same transaction. */
int enr_db_enrolee_add(cmn_store *s, const Tep__Enrolee *e);
/* The enrolee whose manufacturer certificate carries identity (TS-0003 8.3.2.2).
 * CMN_ENOTFOUND when none. */
int enr_db_enrolee_by_cert(cmn_store *s, const char *identity, Tep__Enrolee **ret);
/* Marks the enrolee revoked and revokes its current enrolment (REVOKED event), or for
 * an application credential every instance (one REVOKED event each), in one
 * transaction. Revoking a revoked enrolee is 0 with no event. */
int enr_db_enrolee_revoke(cmn_store *s, const char *kpm_id, enr_events *ret_events);
/* Records a new enrolment for in->kpm_id, revoking the previous one (see enr_db.c);
 * for an application credential, a new instance (earlier instances stay) whose
 * Enrolee-ID is enr_instance_id(stem, KeID).
 * CMN_ENOTFOUND unknown enrolee, CMN_EDENIED revoked, CMN_EEXPIRED expired. */
int enr_db_enrol(cmn_store *s, const enr_enrol_input *in, enr_enrol_result *ret);
/* The same, for a GBA enrolment (TS-0003 8.3.2.3): Ke = Ks_NAF lives no longer than its
 * B-TID, so the enrolment's expiry is ke_expires when that is earlier than the
 * enrolee's (0: the enrolee's, as enr_db_enrol). */
int enr_db_enrol_until(cmn_store *s, const enr_enrol_input *in, int64_t ke_expires,
                       enr_enrol_result *ret);

/* An application instance's AE-ID: "C" stem "-" the first 16 hex digits (64 bits) of its
 * KeID (random per enrolment session, known to both sides, not secret). CMN_EINVAL when
 * the KeID does not start with 16 hex digits. enr_db_enrol checks in the same
 * transaction that no earlier instance has that AE-ID (else CMN_EEXIST, nothing
 * recorded: the instance enrols again in a new session, so with a new KeID). */
#define ENR_INSTANCE_HEX 16
int enr_instance_id(const char *stem, const char *ke_id, char *ret, size_t retlen);
/* Revokes every application credential bound to app_id (and all their instances) in
 * one transaction. CMN_ENOTFOUND when none is. */
int enr_db_app_revoke(cmn_store *s, const char *app_id, enr_events *ret_events);

/* Revokes one issued certificate on its own (TS-0003 10.7; tepctl cert revoke): marks
 * the IssuedCert of serial (lower-case hex) revoked at now and appends its CERT_REVOKED
 * event (serial, and the Enrolee-ID, KeID and KpmID it was issued to) in one
 * transaction. *ret_revoked: when it was revoked (now, or the earlier time when it
 * already was: then 0 with no event). CMN_ENOTFOUND for an unknown serial. */
int enr_db_cert_revoke(cmn_store *s, const char *serial, int64_t now, enr_events *ret_events,
                       int64_t *ret_revoked);

/* Calls fn for every event after after_seq, in order; fn returns non-zero to stop
 * (returned as is). */
typedef int (*enr_event_fn)(const Tep__Event *e, void *arg);
int enr_db_event_foreach(cmn_store *s, uint64_t after_seq, enr_event_fn fn, void *arg);
/* Calls fn for every enrolment of kpm_id (each instance of an application, or the
 * current enrolment of a device). */
typedef int (*enr_enrolment_fn)(const Tep__Enrolment *e, void *arg);
int enr_db_enrolments_of(cmn_store *s, const char *kpm_id, enr_enrolment_fn fn, void *arg);

int enr_db_last_seq(cmn_store *s, uint64_t *ret_seq);
/* Appends ev (seq assigned here) to the log in t and to out, for changes made outside
 * this file in the same transaction (enr_mef.c). */
int enr_db_txn_log_event(cmn_txn *t, Tep__Event *ev, enr_events *out);
/* The KeID of kpm_id's current enrolment in t (CMN_ENOTFOUND when none). */
int enr_db_txn_current_ke_id(cmn_txn *t, const char *kpm_id, char ret[CMN_KEY_ID_MAX]);
int enr_db_count(cmn_store *s, const char *db, uint64_t *ret_n);

/* Calls fn for every enrolee in KpmID order (e valid only during the call). */
typedef int (*enr_enrolee_fn)(const Tep__Enrolee *e, void *arg);
int enr_db_enrolee_foreach(cmn_store *s, enr_enrolee_fn fn, void *arg);

#endif
