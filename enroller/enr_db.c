/* tep-enroller's records and the transactions that change them. */
#include "enr_db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

static const char *const enr_dbs[] = {ENR_DB_ENROLEES,   ENR_DB_ENROLMENTS,  ENR_DB_BY_KPM,
                                      ENR_DB_EVENTS,     ENR_DB_COUNTERS,    ENR_DB_INSTANCES,
                                      ENR_DB_CA,         ENR_DB_CERTS,       ENR_DB_INSTANCE_IDS,
                                      ENR_DB_BY_CERT_ID, ENR_DB_MEF_CLIENTS, ENR_DB_MEF_KEYS};
static const char last_seq_key[] = "last_seq";
static const char epoch_key[] = "epoch";

bool enr_valid_kpm_id(const char *s, size_t len)
{
    if (len == 0 || len >= 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

bool enr_valid_identifier(const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;

    if (len == 0 || len >= ENR_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return true;
}

/* The store's epoch (enr_db.h): kept as its 32 hex digits, without a NUL. */
static int epoch_read(cmn_store *s, cmn_txn *t, char ret[ENR_EPOCH_LEN + 1])
{
    void *val = NULL;
    size_t len = 0;
    int rc = t != NULL
                 ? cmn_txn_get(t, ENR_DB_COUNTERS, epoch_key, sizeof(epoch_key) - 1, &val, &len)
                 : cmn_store_get(s, ENR_DB_COUNTERS, epoch_key, sizeof(epoch_key) - 1, &val, &len);

    if (rc == 0 && len != ENR_EPOCH_LEN)
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(ret, val, ENR_EPOCH_LEN);
        ret[ENR_EPOCH_LEN] = '\0';
        if (strspn(ret, "0123456789abcdef") != ENR_EPOCH_LEN)
            rc = CMN_ECORRUPT;
    }
    cmn_store_free_val(val, len);
    return rc;
}

/* A store without an epoch (new, or from before epochs) gets one, once. */
static int epoch_ensure(cmn_store *s)
{
    char epoch[ENR_EPOCH_LEN + 1];
    uint8_t rnd[ENR_EPOCH_LEN / 2];
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc == 0)
        rc = epoch_read(s, t, epoch);
    if (rc != CMN_ENOTFOUND) {
        cmn_txn_abort(t);
        return rc;
    }
    rc = cmn_random(rnd, sizeof(rnd));
    if (rc == 0) {
        cmn_hex_encode(rnd, sizeof(rnd), epoch);
        rc =
            cmn_txn_put(t, ENR_DB_COUNTERS, epoch_key, sizeof(epoch_key) - 1, epoch, ENR_EPOCH_LEN);
    }
    if (rc == 0)
        return cmn_txn_commit(t);
    cmn_txn_abort(t);
    return rc;
}

int enr_db_open(const char *dir, cmn_store **ret_store)
{
    cmn_store *s = NULL;
    int rc = cmn_store_open(dir, enr_dbs, sizeof(enr_dbs) / sizeof(enr_dbs[0]), ENR_SCHEMA, 0, &s);

    if (rc == 0)
        rc = epoch_ensure(s);
    if (rc != 0) {
        cmn_store_close(s);
        return rc;
    }
    *ret_store = s;
    return 0;
}

int enr_db_epoch(cmn_store *s, char ret[ENR_EPOCH_LEN + 1])
{
    return epoch_read(s, NULL, ret);
}

void enr_enrolee_free(Tep__Enrolee *e)
{
    if (e == NULL)
        return;
    cmn_wipe(e->kpm.data, e->kpm.len);
    tep__enrolee__free_unpacked(e, NULL);
}

void enr_enrolment_free(Tep__Enrolment *e)
{
    if (e == NULL)
        return;
    cmn_wipe(e->ke.data, e->ke.len);
    tep__enrolment__free_unpacked(e, NULL);
}

/* ---- packing ------------------------------------------------------------------- */

static int unpack_enrolee(const void *val, size_t len, Tep__Enrolee **ret)
{
    *ret = tep__enrolee__unpack(NULL, len, val);
    return *ret != NULL ? 0 : CMN_ECORRUPT;
}

static int unpack_enrolment(const void *val, size_t len, Tep__Enrolment **ret)
{
    *ret = tep__enrolment__unpack(NULL, len, val);
    return *ret != NULL ? 0 : CMN_ECORRUPT;
}

static int txn_get_enrolee(cmn_txn *t, const char *kpm_id, Tep__Enrolee **ret)
{
    return cmn_txn_get_msg(t, ENR_DB_ENROLEES, kpm_id, strlen(kpm_id), &tep__enrolee__descriptor,
                           (ProtobufCMessage **)ret);
}

static int txn_get_enrolment(cmn_txn *t, const char *ke_id, Tep__Enrolment **ret)
{
    return cmn_txn_get_msg(t, ENR_DB_ENROLMENTS, ke_id, strlen(ke_id), &tep__enrolment__descriptor,
                           (ProtobufCMessage **)ret);
}

/* ---- event log ----------------------------------------------------------------- */

static int txn_next_seq(cmn_txn *t, uint64_t *ret_seq)
{
    void *val = NULL;
    size_t len = 0;
    uint64_t last = 0;
    uint8_t key[8];
    int rc = cmn_txn_get(t, ENR_DB_COUNTERS, last_seq_key, sizeof(last_seq_key) - 1, &val, &len);

    if (rc == 0 && len == 8)
        last = cmn_store_key_u64(val);
    else if (rc == 0)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    if (rc != 0 && rc != CMN_ENOTFOUND)
        return rc;
    cmn_store_u64_key(last + 1, key);
    rc = cmn_txn_put(t, ENR_DB_COUNTERS, last_seq_key, sizeof(last_seq_key) - 1, key, 8);
    if (rc == 0)
        *ret_seq = last + 1;
    return rc;
}

/* Gives ev (kind, ids and time filled in) the next sequence number, appends it to the
 * log and to out. */
static int txn_log_event(cmn_txn *t, Tep__Event *ev, enr_events *out)
{
    uint8_t key[8];
    size_t i;
    int rc = txn_next_seq(t, &ev->seq);

    if (rc != 0)
        return rc;
    cmn_store_u64_key(ev->seq, key);
    rc = cmn_txn_put_msg(t, ENR_DB_EVENTS, key, sizeof(key), &ev->base);
    if (rc != 0)
        return rc;
    i = out->n < ENR_EVENTS_MAX ? out->n++ : ENR_EVENTS_MAX - 1; /* see enr_db.h */
    out->ev[i].seq = ev->seq;
    out->ev[i].kind = ev->kind;
    snprintf(out->ev[i].ke_id, sizeof(out->ev[0].ke_id), "%s", ev->ke_id);
    snprintf(out->ev[i].enrolee_id, sizeof(out->ev[0].enrolee_id), "%s", ev->enrolee_id);
    snprintf(out->ev[i].cert_serial, sizeof(out->ev[0].cert_serial), "%s", ev->cert_serial);
    return 0;
}

static int txn_append_event(cmn_txn *t, Tep__Event__Kind kind, const Tep__Enrolment *en,
                            enr_events *out)
{
    Tep__Event ev = TEP__EVENT__INIT;

    ev.kind = kind;
    ev.ke_id = en->ke_id;
    ev.enrolee_id = en->enrolee_id;
    ev.kpm_id = en->kpm_id;
    ev.time = (int64_t)time(NULL);
    return txn_log_event(t, &ev, out);
}

int enr_db_txn_log_event(cmn_txn *t, Tep__Event *ev, enr_events *out)
{
    return txn_log_event(t, ev, out);
}

/* ---- revocation ---------------------------------------------------------------- */

/* KeID of kpm_id's current enrolment into ret (CMN_ENOTFOUND when none). */
static int txn_current_ke_id(cmn_txn *t, const char *kpm_id, char ret[CMN_KEY_ID_MAX])
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(t, ENR_DB_BY_KPM, kpm_id, strlen(kpm_id), &val, &len);

    if (rc == 0 && (len == 0 || len >= CMN_KEY_ID_MAX))
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(ret, val, len);
        ret[len] = '\0';
    }
    cmn_store_free_val(val, len);
    return rc;
}

int enr_db_txn_current_ke_id(cmn_txn *t, const char *kpm_id, char ret[CMN_KEY_ID_MAX])
{
    return txn_current_ke_id(t, kpm_id, ret);
}

/* Marks enrolment ke_id revoked and appends its REVOKED event (no-op if it already is). */
static int txn_revoke_enrolment(cmn_txn *t, const char *ke_id, enr_events *out)
{
    Tep__Enrolment *en = NULL;
    int rc = txn_get_enrolment(t, ke_id, &en);

    if (rc != 0)
        return rc == CMN_ENOTFOUND ? CMN_ECORRUPT : rc; /* by_kpm points at nothing */
    if (!en->revoked) {
        en->revoked = true;
        rc = cmn_txn_put_msg(t, ENR_DB_ENROLMENTS, ke_id, strlen(ke_id), &en->base);
        if (rc == 0)
            rc = txn_append_event(t, TEP__EVENT__KIND__REVOKED, en, out);
    }
    enr_enrolment_free(en);
    return rc;
}

static int txn_revoke_current(cmn_txn *t, const char *kpm_id, enr_events *out)
{
    char ke_id[CMN_KEY_ID_MAX];
    int rc = txn_current_ke_id(t, kpm_id, ke_id);

    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    return txn_revoke_enrolment(t, ke_id, out);
}

/* A list of KeIDs or KpmIDs gathered before a write transaction. */
typedef struct {
    size_t n;
    char (*id)[CMN_KEY_ID_MAX];
} id_list;

static int id_list_add(id_list *l, const char *id, size_t len)
{
    char(*arr)[CMN_KEY_ID_MAX] = realloc(l->id, (l->n + 1) * sizeof(*arr));

    if (arr == NULL)
        return CMN_ENOMEM;
    l->id = arr;
    if (len >= CMN_KEY_ID_MAX)
        return CMN_ECORRUPT;
    memcpy(l->id[l->n], id, len);
    l->id[l->n++][len] = '\0';
    return 0;
}

/* Instance index entry "<KpmID>\0<KeID>" -> the KeID part. */
static int instance_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    const char *k = key, *nul = memchr(k, '\0', klen);

    if (nul == NULL)
        return CMN_ECORRUPT;
    return id_list_add(arg, nul + 1, klen - (size_t)(nul + 1 - k));
}

static int instances_of(cmn_store *s, const char *kpm_id, id_list *ret)
{
    return cmn_store_foreach(s, ENR_DB_INSTANCES, kpm_id, strlen(kpm_id) + 1, instance_one, ret);
}

static int instance_key(const char *kpm_id, const char *ke_id, char *ret, size_t *ret_len)
{
    size_t a = strlen(kpm_id), b = strlen(ke_id);

    if (a + 1 + b > ENR_ID_MAX + CMN_KEY_ID_MAX)
        return CMN_ERANGE;
    memcpy(ret, kpm_id, a + 1);
    memcpy(ret + a + 1, ke_id, b);
    *ret_len = a + 1 + b;
    return 0;
}

/* Marks the enrolee revoked, with its current enrolment and the given instances. */
static int txn_revoke_enrolee(cmn_txn *t, const char *kpm_id, const id_list *inst, enr_events *out)
{
    Tep__Enrolee *e = NULL;
    int rc = txn_get_enrolee(t, kpm_id, &e);

    if (rc != 0 || e->state == TEP__ENROLEE__STATE__REVOKED)
        goto out;
    e->state = TEP__ENROLEE__STATE__REVOKED;
    rc = cmn_txn_put_msg(t, ENR_DB_ENROLEES, kpm_id, strlen(kpm_id), &e->base);
    if (rc == 0)
        rc = txn_revoke_current(t, kpm_id, out);
    for (size_t i = 0; rc == 0 && inst != NULL && i < inst->n; i++)
        rc = txn_revoke_enrolment(t, inst->id[i], out);
out:
    enr_enrolee_free(e);
    return rc;
}

/* Revokes each enrolee of kpm_ids (with their instances) in one transaction. */
static int revoke_all(cmn_store *s, const id_list *kpm_ids, enr_events *ret_events)
{
    id_list *inst = calloc(kpm_ids->n ? kpm_ids->n : 1, sizeof(*inst));
    cmn_txn *t = NULL;
    int rc = inst != NULL ? 0 : CMN_ENOMEM;

    memset(ret_events, 0, sizeof(*ret_events));
    for (size_t i = 0; rc == 0 && i < kpm_ids->n; i++)
        rc = instances_of(s, kpm_ids->id[i], &inst[i]);
    if (rc == 0)
        rc = cmn_store_txn_begin(s, &t);
    for (size_t i = 0; rc == 0 && i < kpm_ids->n; i++)
        rc = txn_revoke_enrolee(t, kpm_ids->id[i], &inst[i], ret_events);
    if (rc == 0) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    cmn_txn_abort(t);
    for (size_t i = 0; inst != NULL && i < kpm_ids->n; i++)
        free(inst[i].id);
    free(inst);
    if (rc != 0)
        memset(ret_events, 0, sizeof(*ret_events));
    return rc;
}

int enr_db_enrolee_revoke(cmn_store *s, const char *kpm_id, enr_events *ret_events)
{
    id_list one = {0};
    int rc = id_list_add(&one, kpm_id, strlen(kpm_id));

    if (rc == 0)
        rc = revoke_all(s, &one, ret_events);
    free(one.id);
    return rc;
}

typedef struct {
    const char *app_id;
    id_list ids;
} app_match;

static int app_one(const Tep__Enrolee *e, void *arg)
{
    app_match *m = arg;

    if (!e->application || strcmp(e->app_id, m->app_id) != 0 ||
        e->state != TEP__ENROLEE__STATE__ACTIVE)
        return 0;
    return id_list_add(&m->ids, e->kpm_id, strlen(e->kpm_id));
}

int enr_db_app_revoke(cmn_store *s, const char *app_id, enr_events *ret_events)
{
    app_match m = {app_id, {0}};
    int rc = enr_db_enrolee_foreach(s, app_one, &m);

    memset(ret_events, 0, sizeof(*ret_events));
    if (rc == 0 && m.ids.n == 0)
        rc = CMN_ENOTFOUND;
    if (rc == 0)
        rc = revoke_all(s, &m.ids, ret_events);
    free(m.ids.id);
    return rc;
}

/* ---- certificates ---------------------------------------------------------------- */

static int txn_get_cert(cmn_txn *t, const char *serial, Tep__IssuedCert **ret)
{
    return cmn_txn_get_msg(t, ENR_DB_CERTS, serial, strlen(serial), &tep__issued_cert__descriptor,
                           (ProtobufCMessage **)ret);
}

/* Marks c revoked at now and logs its CERT_REVOKED event. */
static int txn_revoke_cert(cmn_txn *t, Tep__IssuedCert *c, int64_t now, enr_events *out)
{
    Tep__Event ev = TEP__EVENT__INIT;
    int rc;

    c->revoked = now;
    rc = cmn_txn_put_msg(t, ENR_DB_CERTS, c->serial, strlen(c->serial), &c->base);
    if (rc != 0)
        return rc;
    ev.kind = TEP__EVENT__KIND__CERT_REVOKED;
    ev.ke_id = c->ke_id;
    ev.enrolee_id = c->enrolee_id;
    ev.kpm_id = c->kpm_id;
    ev.cert_serial = c->serial;
    ev.time = now;
    return txn_log_event(t, &ev, out);
}

int enr_db_cert_revoke(cmn_store *s, const char *serial, int64_t now, enr_events *ret_events,
                       int64_t *ret_revoked)
{
    Tep__IssuedCert *c = NULL;
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(s, &t);

    memset(ret_events, 0, sizeof(*ret_events));
    *ret_revoked = 0;
    if (rc != 0)
        return rc;
    rc = txn_get_cert(t, serial, &c);
    if (rc == 0 && c->revoked != 0) {
        *ret_revoked = c->revoked; /* already: nothing to write, no new event */
        goto out;
    }
    if (rc == 0)
        rc = txn_revoke_cert(t, c, now, ret_events);
    if (rc == 0) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    if (rc == 0)
        *ret_revoked = now;
out:
    cmn_txn_abort(t);
    tep__issued_cert__free_unpacked(c, NULL);
    if (rc != 0)
        memset(ret_events, 0, sizeof(*ret_events));
    return rc;
}

/* ---- enrolment ----------------------------------------------------------------- */

int enr_instance_id(const char *stem, const char *ke_id, char *ret, size_t retlen)
{
    if (stem == NULL || ke_id == NULL || strspn(ke_id, "0123456789abcdef") < ENR_INSTANCE_HEX ||
        stem[0] == '\0')
        return CMN_EINVAL;
    if ((size_t)snprintf(ret, retlen, "C%s-%.*s", stem, ENR_INSTANCE_HEX, ke_id) >= retlen)
        return CMN_ERANGE;
    return 0;
}

static int check_enrolee(const Tep__Enrolee *e, int64_t now)
{
    if (e->state != TEP__ENROLEE__STATE__ACTIVE)
        return CMN_EDENIED;
    if (e->expires != 0 && e->expires <= now)
        return CMN_EEXPIRED;
    return 0;
}

/* Records the enrolment (and its instance index entry) and its ENROLLED event. */
/* The enrolee's expiry, or the B-TID's when that is earlier (GBA: Ke = Ks_NAF). */
static int64_t enrolment_expiry(int64_t ke_expires, const Tep__Enrolee *e)
{
    if (ke_expires > 0 && (e->expires == 0 || ke_expires < e->expires))
        return ke_expires;
    return e->expires;
}

static int txn_put_enrolment(cmn_txn *t, const enr_enrol_input *in, int64_t ke_expires,
                             const Tep__Enrolee *e, const char *enrolee_id, enr_events *out)
{
    Tep__Enrolment en = TEP__ENROLMENT__INIT;
    char ikey[ENR_ID_MAX + CMN_KEY_ID_MAX];
    size_t ilen;
    int rc;

    en.ke_id = (char *)in->ke_id;
    en.ke.data = (uint8_t *)in->ke;
    en.ke.len = CMN_KEY_LEN;
    en.kpm_id = (char *)in->kpm_id;
    en.enrolee_id = (char *)enrolee_id;
    en.app_id = e->app_id;
    en.registrar_cse_id = e->target_cse_id[0] ? e->target_cse_id : (char *)in->registrar_cse_id;
    en.maf_id = (char *)in->maf_id;
    en.expires = enrolment_expiry(ke_expires, e);
    en.enrolled = in->now;
    rc = cmn_txn_put_msg(t, ENR_DB_ENROLMENTS, in->ke_id, strlen(in->ke_id), &en.base);
    if (rc == 0)
        rc = cmn_txn_put(t, ENR_DB_BY_KPM, in->kpm_id, strlen(in->kpm_id), in->ke_id,
                         strlen(in->ke_id));
    if (rc == 0 && e->application && (rc = instance_key(in->kpm_id, in->ke_id, ikey, &ilen)) == 0)
        rc = cmn_txn_put(t, ENR_DB_INSTANCES, ikey, ilen, "", 0);
    if (rc == 0 && e->application)
        rc = cmn_txn_put(t, ENR_DB_INSTANCE_IDS, enrolee_id, strlen(enrolee_id), in->ke_id,
                         strlen(in->ke_id));
    if (rc == 0)
        rc = txn_append_event(t, TEP__EVENT__KIND__ENROLLED, &en, out);
    return rc;
}

/* The same DTLS session (same exporter, same KeID) asking again: the same answer,
 * nothing recorded, unless that enrolment was revoked meanwhile. */
static int repeated_enrolment(const Tep__Enrolment *en, const char *kpm_id, enr_enrol_result *ret)
{
    ret->repeated = true;
    snprintf(ret->enrolee_id, sizeof(ret->enrolee_id), "%s", en->enrolee_id);
    snprintf(ret->registrar_cse_id, sizeof(ret->registrar_cse_id), "%s", en->registrar_cse_id);
    return en->revoked || strcmp(en->kpm_id, kpm_id) != 0 ? CMN_EDENIED : 0;
}

/* 0 when no instance holds the AE-ID id yet, CMN_EEXIST when one does. */
static int txn_instance_id_free(cmn_txn *t, const char *id)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(t, ENR_DB_INSTANCE_IDS, id, strlen(id), &val, &len);

    cmn_store_free_val(val, len);
    if (rc == 0)
        return CMN_EEXIST;
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

/* The write part of enr_db_enrol, inside t. */
static int txn_enrol(cmn_txn *t, const enr_enrol_input *in, int64_t ke_expires,
                     const Tep__Enrolee *e, enr_enrol_result *ret)
{
    Tep__Enrolment *en = NULL;
    char cur[CMN_KEY_ID_MAX];
    int rc = txn_get_enrolment(t, in->ke_id, &en);

    if (rc == 0) {
        rc = repeated_enrolment(en, in->kpm_id, ret);
        enr_enrolment_free(en);
        return rc;
    }
    if (rc != CMN_ENOTFOUND)
        return rc;
    if (!e->application) { /* a device has one enrolment: the new one replaces it */
        rc = txn_current_ke_id(t, in->kpm_id, cur);
        if (rc == 0)
            rc = txn_revoke_enrolment(t, cur, &ret->events);
        if (rc != 0 && rc != CMN_ENOTFOUND)
            return rc;
    }
    if (e->application) {
        rc = enr_instance_id(e->enrolee_id, in->ke_id, ret->enrolee_id, sizeof(ret->enrolee_id));
        if (rc == 0)
            rc = txn_instance_id_free(t, ret->enrolee_id);
    } else
        rc = snprintf(ret->enrolee_id, sizeof(ret->enrolee_id), "%s", e->enrolee_id) < 0;
    if (rc == 0)
        rc = txn_put_enrolment(t, in, ke_expires, e, ret->enrolee_id, &ret->events);
    if (rc == 0)
        snprintf(ret->registrar_cse_id, sizeof(ret->registrar_cse_id), "%s",
                 e->target_cse_id[0] ? e->target_cse_id : in->registrar_cse_id);
    return rc;
}

int enr_db_enrol(cmn_store *s, const enr_enrol_input *in, enr_enrol_result *ret)
{
    return enr_db_enrol_until(s, in, 0, ret);
}

int enr_db_enrol_until(cmn_store *s, const enr_enrol_input *in, int64_t ke_expires,
                       enr_enrol_result *ret)
{
    cmn_txn *t = NULL;
    Tep__Enrolee *e = NULL;
    int rc;

    memset(ret, 0, sizeof(*ret));
    rc = cmn_store_txn_begin(s, &t);
    if (rc != 0)
        return rc;
    rc = txn_get_enrolee(t, in->kpm_id, &e);
    if (rc == 0)
        rc = check_enrolee(e, in->now);
    if (rc == 0)
        rc = txn_enrol(t, in, ke_expires, e, ret);
    if (rc != 0)
        goto out;
    if (ret->repeated) {
        cmn_txn_abort(t);
    } else {
        rc = cmn_txn_commit(t);
    }
    t = NULL;
    snprintf(ret->app_id, sizeof(ret->app_id), "%s", e->app_id);
    ret->expires = enrolment_expiry(ke_expires, e);
out:
    cmn_txn_abort(t);
    enr_enrolee_free(e);
    if (rc != 0)
        memset(ret, 0, sizeof(*ret));
    return rc;
}

/* ---- enrolees ------------------------------------------------------------------ */

/* The by_cert_id entry of a certificate enrolee; CMN_EEXIST when the identity is taken. */
static int txn_put_cert_id(cmn_txn *t, const Tep__Enrolee *e)
{
    const char *id = e->cert_identity;
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(t, ENR_DB_BY_CERT_ID, id, strlen(id), &val, &len);

    cmn_store_free_val(val, len);
    if (rc == 0)
        return CMN_EEXIST;
    if (rc != CMN_ENOTFOUND)
        return rc;
    return cmn_txn_put(t, ENR_DB_BY_CERT_ID, id, strlen(id), e->kpm_id, strlen(e->kpm_id));
}

int enr_db_enrolee_by_cert(cmn_store *s, const char *identity, Tep__Enrolee **ret)
{
    char kpm_id[ENR_ID_MAX];
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(s, ENR_DB_BY_CERT_ID, identity, strlen(identity), &val, &len);

    if (rc == 0 && (len == 0 || len >= sizeof(kpm_id)))
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(kpm_id, val, len);
        kpm_id[len] = '\0';
    }
    cmn_store_free_val(val, len);
    return rc != 0 ? rc : enr_db_enrolee_get(s, kpm_id, ret);
}

int enr_db_enrolee_add(cmn_store *s, const Tep__Enrolee *e)
{
    cmn_txn *t = NULL;
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_txn_begin(s, &t);

    if (rc != 0)
        return rc;
    rc = cmn_txn_get(t, ENR_DB_ENROLEES, e->kpm_id, strlen(e->kpm_id), &val, &len);
    cmn_store_free_val(val, len);
    if (rc == 0)
        rc = CMN_EEXIST;
    else if (rc == CMN_ENOTFOUND)
        rc = cmn_txn_put_msg(t, ENR_DB_ENROLEES, e->kpm_id, strlen(e->kpm_id), &e->base);
    if (rc == 0 && e->cert_identity[0] != '\0')
        rc = txn_put_cert_id(t, e);
    if (rc == 0) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    cmn_txn_abort(t);
    return rc;
}

int enr_db_enrolee_get(cmn_store *s, const char *kpm_id, Tep__Enrolee **ret)
{
    return cmn_store_get_msg(s, ENR_DB_ENROLEES, kpm_id, strlen(kpm_id), &tep__enrolee__descriptor,
                             (ProtobufCMessage **)ret);
}

int enr_db_enrolment_get(cmn_store *s, const char *ke_id, Tep__Enrolment **ret)
{
    return cmn_store_get_msg(s, ENR_DB_ENROLMENTS, ke_id, strlen(ke_id),
                             &tep__enrolment__descriptor, (ProtobufCMessage **)ret);
}

int enr_db_event_get(cmn_store *s, uint64_t seq, Tep__Event **ret)
{
    uint8_t key[8];

    cmn_store_u64_key(seq, key);
    return cmn_store_get_msg(s, ENR_DB_EVENTS, key, sizeof(key), &tep__event__descriptor,
                             (ProtobufCMessage **)ret);
}

int enr_db_last_seq(cmn_store *s, uint64_t *ret_seq)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(s, ENR_DB_COUNTERS, last_seq_key, sizeof(last_seq_key) - 1, &val, &len);

    *ret_seq = 0;
    if (rc == 0 && len == 8)
        *ret_seq = cmn_store_key_u64(val);
    else if (rc == 0)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

static int count_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(uint64_t *)arg)++;
    return 0;
}

int enr_db_count(cmn_store *s, const char *db, uint64_t *ret_n)
{
    *ret_n = 0;
    return cmn_store_foreach(s, db, NULL, 0, count_one, ret_n);
}

typedef struct {
    enr_enrolee_fn fn;
    void *arg;
} enrolee_iter;

static int enrolee_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    enrolee_iter *it = arg;
    Tep__Enrolee *e = NULL;
    int rc = unpack_enrolee(val, vlen, &e);

    if (rc == 0)
        rc = it->fn(e, it->arg);
    enr_enrolee_free(e);
    return rc;
}

int enr_db_enrolee_foreach(cmn_store *s, enr_enrolee_fn fn, void *arg)
{
    enrolee_iter it = {fn, arg};

    return cmn_store_foreach(s, ENR_DB_ENROLEES, NULL, 0, enrolee_one, &it);
}

typedef struct {
    uint64_t after;
    enr_event_fn fn;
    void *arg;
} event_iter;

static int event_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    event_iter *it = arg;
    Tep__Event *e;
    int rc;

    if (klen != 8 || cmn_store_key_u64(key) <= it->after)
        return 0;
    e = tep__event__unpack(NULL, vlen, val);
    rc = e != NULL ? it->fn(e, it->arg) : CMN_ECORRUPT;
    tep__event__free_unpacked(e, NULL);
    return rc;
}

/* A full scan that skips the older keys: the audit listing is an operator's command,
 * not a hot path (sync reads events by key). */
int enr_db_event_foreach(cmn_store *s, uint64_t after_seq, enr_event_fn fn, void *arg)
{
    event_iter it = {after_seq, fn, arg};

    return cmn_store_foreach(s, ENR_DB_EVENTS, NULL, 0, event_one, &it);
}

typedef struct {
    const char *kpm_id;
    enr_enrolment_fn fn;
    void *arg;
} enrolment_iter;

static int enrolment_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    enrolment_iter *it = arg;
    Tep__Enrolment *e = NULL;
    int rc = unpack_enrolment(val, vlen, &e);

    if (rc == 0 && strcmp(e->kpm_id, it->kpm_id) == 0)
        rc = it->fn(e, it->arg);
    enr_enrolment_free(e);
    return rc;
}

int enr_db_enrolments_of(cmn_store *s, const char *kpm_id, enr_enrolment_fn fn, void *arg)
{
    enrolment_iter it = {kpm_id, fn, arg};

    return cmn_store_foreach(s, ENR_DB_ENROLMENTS, NULL, 0, enrolment_one, &it);
}
