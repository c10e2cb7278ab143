/* Applying the enroller's events to tep-cse's credentials (see cse_sync.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cse_sync.h"

static int unpack_cred(const void *val, size_t len, Tep__Credential **ret)
{
    *ret = tep__credential__unpack(NULL, len, val);
    return *ret != NULL ? 0 : CMN_ECORRUPT;
}

void cse_cred_free(Tep__Credential *c)
{
    if (c == NULL)
        return;
    if (c->key.data != NULL)
        cmn_wipe(c->key.data, c->key.len);
    tep__credential__free_unpacked(c, NULL);
}

static int txn_put_cred(cmn_txn *t, const Tep__Credential *c)
{
    return cmn_txn_put_msg(t, CSE_DB_CREDENTIALS, c->key_id, strlen(c->key_id), &c->base);
}

static int put_with_indexes(cmn_txn *t, const Tep__Credential *c)
{
    int rc = txn_put_cred(t, c);

    if (rc == 0 && c->enrolee_id[0] != '\0' && !c->revoked)
        rc = cmn_txn_put(t, CSE_DB_ENROLEES, c->enrolee_id, strlen(c->enrolee_id), c->key_id,
                         strlen(c->key_id));
    if (rc == 0 && c->ke_id[0] != '\0')
        rc = cmn_txn_put(t, CSE_DB_KEIDS, c->ke_id, strlen(c->ke_id), c->key_id, strlen(c->key_id));
    return rc;
}

/* A usage-constrained key from MEF Key Registration (KEY_REGISTERED): stored under its
 * Key Identifier and indexed under its KeID in CSE_DB_KEY_KEIDS ("<KeID>\0<key_id>"),
 * never in the AE-ID's and KeID's one-entry indexes, which stay its enrolment's own
 * credential's (the Kpsa, at the registrar): a REVOKED of that KeID revokes them all. */
static int put_key_cred(cmn_txn *t, const Tep__Credential *c)
{
    char k[2 * CMN_KEY_ID_MAX + 2];
    size_t kl = strlen(c->ke_id), il = strlen(c->key_id);
    int rc = txn_put_cred(t, c);

    if (rc == 0 && kl > 0 && kl + 1 + il <= sizeof(k)) {
        memcpy(k, c->ke_id, kl);
        k[kl] = '\0';
        memcpy(k + kl + 1, c->key_id, il);
        rc = cmn_txn_put(t, CSE_DB_KEY_KEIDS, k, kl + 1 + il, "", 0);
    }
    return rc;
}

typedef struct {
    size_t plen, n;
    char ids[64][CMN_KEY_ID_MAX];
} key_ids;

static int collect_key_id(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    key_ids *ki = arg;
    size_t il = klen - ki->plen;

    (void)val;
    (void)vlen;
    if (ki->n == sizeof(ki->ids) / sizeof(ki->ids[0]) || il == 0 || il >= CMN_KEY_ID_MAX)
        return ki->n == sizeof(ki->ids) / sizeof(ki->ids[0]) ? CMN_EAGAIN : 0;
    memcpy(ki->ids[ki->n], (const char *)key + ki->plen, il);
    ki->ids[ki->n++][il] = '\0';
    return 0;
}

/* Every MEF key registered under ke_id revoked (its index entries gone with it). */
static int revoke_keys_of(cmn_txn *t, const char *ke_id)
{
    char prefix[CMN_KEY_ID_MAX + 1];
    size_t plen = strlen(ke_id) + 1;
    key_ids *ki;
    int rc = 0;

    if (plen > sizeof(prefix))
        return 0;
    memcpy(prefix, ke_id, plen); /* with its NUL */
    if ((ki = calloc(1, sizeof(*ki))) == NULL)
        return CMN_ENOMEM;
    do { /* in rounds of 64: the entries of a round are deleted before the next */
        ki->plen = plen;
        ki->n = 0;
        rc = cmn_txn_foreach(t, CSE_DB_KEY_KEIDS, prefix, plen, collect_key_id, ki);
        if (rc == CMN_EAGAIN)
            rc = 0;
        for (size_t i = 0; rc == 0 && i < ki->n; i++) {
            Tep__Credential *c = NULL;
            char k[2 * CMN_KEY_ID_MAX + 2];
            size_t il = strlen(ki->ids[i]);
            void *val = NULL;
            size_t vlen = 0;

            rc = cmn_txn_get(t, CSE_DB_CREDENTIALS, ki->ids[i], il, &val, &vlen);
            if (rc == 0)
                rc = unpack_cred(val, vlen, &c);
            if (val != NULL)
                cmn_store_free_val(val, vlen);
            if (rc == 0 && !c->revoked) {
                c->revoked = true;
                rc = txn_put_cred(t, c);
            }
            cse_cred_free(c);
            if (rc == CMN_ENOTFOUND)
                rc = 0;
            memcpy(k, prefix, plen);
            memcpy(k + plen, ki->ids[i], il);
            if (rc == 0 && (rc = cmn_txn_del(t, CSE_DB_KEY_KEIDS, k, plen + il)) == CMN_ENOTFOUND)
                rc = 0;
        }
    } while (rc == 0 && ki->n == sizeof(ki->ids) / sizeof(ki->ids[0]));
    free(ki);
    return rc;
}

/* REVOKED without a credential: find ours through the KeID and mark it. */
static int revoke_by_keid(cmn_txn *t, const char *ke_id)
{
    Tep__Credential *c = NULL;
    void *kid = NULL, *val = NULL;
    size_t klen = 0, vlen = 0;
    int rc = cmn_txn_get(t, CSE_DB_KEIDS, ke_id, strlen(ke_id), &kid, &klen);

    if (rc == CMN_ENOTFOUND)
        return 0; /* not one of ours */
    if (rc != 0)
        return rc;
    rc = cmn_txn_get(t, CSE_DB_CREDENTIALS, kid, klen, &val, &vlen);
    if (rc == 0)
        rc = unpack_cred(val, vlen, &c);
    if (rc == 0) {
        c->revoked = true;
        rc = txn_put_cred(t, c);
    }
    cse_cred_free(c);
    cmn_store_free_val(val, vlen);
    cmn_store_free_val(kid, klen);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

/* "cert:<serial>" for a well-formed serial (1..40 lower-case hex digits). */
static int cert_key(const char *serial, char *ret, size_t retlen)
{
    size_t n = serial != NULL ? strlen(serial) : 0;

    if (n == 0 || n >= CMN_CA_SERIAL_MAX || strspn(serial, "0123456789abcdef") != n)
        return CMN_EINVAL;
    if ((size_t)snprintf(ret, retlen, CSE_CERT_KEY_PREFIX "%s", serial) >= retlen)
        return CMN_ERANGE;
    return 0;
}

/* CERT_REVOKED: the serial kept as a revoked, keyless credential (see cse_sync.h). */
static int revoke_cert(cmn_txn *t, const Tep__Event *ev)
{
    Tep__Credential c = TEP__CREDENTIAL__INIT;
    char key_id[CMN_KEY_ID_MAX];

    if (cert_key(ev->cert_serial, key_id, sizeof(key_id)) != 0)
        return CMN_ENOTFOUND; /* nothing we could ever match: skipped */
    c.key_id = key_id;
    c.ke_id = ev->ke_id;
    c.enrolee_id = ev->enrolee_id;
    c.revoked = true;
    return txn_put_cred(t, &c);
}

/* A CSE enrolee's enrolment target (SyncItem.cse_target): kept while it is enrolled. */
static int apply_cse_target(cmn_txn *txn, const Tep__SyncItem *item)
{
    const Tep__Event *ev = item->event;
    const char *id = ev->enrolee_id, *t = item->cse_target;
    int rc;

    if (t == NULL || t[0] == '\0' || id == NULL || id[0] != '/' || id[1] == '/' ||
        strlen(id) >= CSE_TARGET_ID_MAX || strlen(t) >= CSE_TARGET_ID_MAX)
        return 0;
    if (ev->kind == TEP__EVENT__KIND__ENROLLED)
        return cmn_txn_put(txn, CSE_DB_CSE_TARGETS, id, strlen(id), t, strlen(t));
    if (ev->kind != TEP__EVENT__KIND__REVOKED)
        return 0;
    rc = cmn_txn_del(txn, CSE_DB_CSE_TARGETS, id, strlen(id));
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

/* SyncItem.ae_target: an AE's enrolment for another CSE. ENROLLED records it (replacing
 * an older one: a certificate of that one is no longer the current enrolment's); REVOKED
 * marks it revoked when it is the recorded KeID. */
static int apply_ae_target(cmn_txn *txn, const Tep__SyncItem *item)
{
    const Tep__Event *ev = item->event;
    const char *id = ev->enrolee_id, *t = item->ae_target;
    Tep__TransitEnrolment te = TEP__TRANSIT_ENROLMENT__INIT, *old = NULL;
    int rc;

    if (t == NULL || t[0] != '/' || id == NULL || id[0] == '\0' || id[0] == '/' ||
        strlen(id) >= CSE_TARGET_ID_MAX || strlen(t) >= CSE_TARGET_ID_MAX || ev->ke_id == NULL)
        return 0;
    if (ev->kind == TEP__EVENT__KIND__ENROLLED) {
        te.ke_id = ev->ke_id;
        te.registrar = (char *)t;
        te.expires = item->ae_expires;
        return cmn_txn_put_msg(txn, CSE_DB_TRANSIT, id, strlen(id), &te.base);
    }
    if (ev->kind != TEP__EVENT__KIND__REVOKED)
        return 0;
    rc = cmn_txn_get_msg(txn, CSE_DB_TRANSIT, id, strlen(id), &tep__transit_enrolment__descriptor,
                         (ProtobufCMessage **)&old);
    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc == 0 && strcmp(old->ke_id, ev->ke_id) == 0 && !old->revoked) {
        old->revoked = true;
        rc = cmn_txn_put_msg(txn, CSE_DB_TRANSIT, id, strlen(id), &old->base);
    }
    tep__transit_enrolment__free_unpacked(old, NULL);
    return rc;
}

int cse_transit_get(cmn_store *st, const char *ae_id, Tep__TransitEnrolment **ret)
{
    *ret = NULL;
    return cmn_store_get_msg(st, CSE_DB_TRANSIT, ae_id, strlen(ae_id),
                             &tep__transit_enrolment__descriptor, (ProtobufCMessage **)ret);
}

int cse_sync_apply(cmn_txn *txn, const Tep__SyncItem *item, void *arg)
{
    cse_sync_stats *stats = arg;
    const Tep__Event *ev = item->event;
    Tep__Credential c;
    int rc;

    if (ev == NULL)
        return 0;
    if (ev->kind == TEP__EVENT__KIND__CERT_REVOKED) {
        rc = revoke_cert(txn, ev);
        if (rc == 0 && stats != NULL)
            stats->revocations++;
        if (rc == CMN_ENOTFOUND)
            rc = 0;
    } else if (ev->kind == TEP__EVENT__KIND__KEY_DEREGISTERED && item->credential == NULL) {
        rc = 0; /* a usage-constrained key of another target: nothing of ours */
    } else if (ev->kind == TEP__EVENT__KIND__REVOKED ||
               ev->kind == TEP__EVENT__KIND__KEY_DEREGISTERED) {
        if (item->credential != NULL) {
            c = *item->credential;
            c.revoked = true;
            rc = txn_put_cred(txn, &c);
        } else {
            rc = revoke_by_keid(txn, ev->ke_id);
        }
        /* TS-0003 10.7: the enrolment's MEF keys go with it, wherever they are indexed */
        if (rc == 0 && ev->kind == TEP__EVENT__KIND__REVOKED && ev->ke_id != NULL)
            rc = revoke_keys_of(txn, ev->ke_id);
        if (rc == 0 && stats != NULL)
            stats->revocations++;
    } else if (ev->kind == TEP__EVENT__KIND__KEY_REGISTERED) {
        rc = item->credential != NULL ? put_key_cred(txn, item->credential) : 0;
    } else {
        rc = item->credential != NULL ? put_with_indexes(txn, item->credential) : 0;
    }
    if (rc == 0)
        rc = apply_cse_target(txn, item);
    if (rc == 0)
        rc = apply_ae_target(txn, item);
    if (rc == 0 && stats != NULL)
        stats->applied++;
    return rc;
}

/* A MAF key (SUID 32, 33) is not the enroller's: it stays over a reset. */
static bool is_maf_kc(const void *val, size_t vlen)
{
    Tep__Credential *c = NULL;
    bool kc = unpack_cred(val, vlen, &c) == 0 && CSE_MAF_SUID(c->suid);

    cse_cred_free(c);
    return kc;
}

int cse_sync_reset(cmn_store *st, cmn_txn *txn, void *arg)
{
    cse_sync_stats *stats = arg;
    size_t n = 0;
    int rc = cmn_sync_clear_db(st, txn, CSE_DB_CREDENTIALS, is_maf_kc, &n);

    if (rc == 0)
        rc = cmn_sync_clear_db(st, txn, CSE_DB_ENROLEES, NULL, NULL);
    if (rc == 0)
        rc = cmn_sync_clear_db(st, txn, CSE_DB_KEIDS, NULL, NULL);
    if (rc == 0)
        rc = cmn_sync_clear_db(st, txn, CSE_DB_CSE_TARGETS, NULL, NULL);
    if (rc == 0)
        rc = cmn_sync_clear_db(st, txn, CSE_DB_TRANSIT, NULL, NULL);
    if (rc == 0)
        rc = cmn_sync_clear_db(st, txn, CSE_DB_KEY_KEIDS, NULL, NULL);
    if (rc == 0 && stats != NULL)
        stats->revocations++; /* the hook closes sessions of credentials now gone */
    if (rc == 0)
        CMN_INFO("sync", "event=credentials_cleared count=%zu", n);
    return rc;
}

int cse_cred_get(cmn_store *st, const char *key_id, Tep__Credential **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    *ret = NULL;
    rc = cmn_store_get(st, CSE_DB_CREDENTIALS, key_id, strlen(key_id), &val, &len);
    if (rc != 0)
        return rc;
    rc = unpack_cred(val, len, ret);
    cmn_store_free_val(val, len);
    return rc;
}

int cse_cred_usable(const Tep__Credential *c, int64_t now)
{
    if (c->revoked)
        return CMN_EDENIED;
    if (c->expires != 0 && c->expires <= now)
        return CMN_EEXPIRED;
    return 0;
}

int cse_cert_revoked(cmn_store *st, const char *serial)
{
    char key_id[CMN_KEY_ID_MAX];
    Tep__Credential *c = NULL;
    int rc = cert_key(serial, key_id, sizeof(key_id));

    if (rc == 0)
        rc = cse_cred_get(st, key_id, &c);
    if (rc == 0)
        rc = c->revoked ? CMN_EDENIED : 0;
    cse_cred_free(c);
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

/* The credential (Kpsa) the enroller published for the enrolment of ae_id. */
int cse_cred_get_by_enrolee(cmn_store *st, const char *ae_id, Tep__Credential **ret)
{
    char key_id[CMN_KEY_ID_MAX];
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(st, CSE_DB_ENROLEES, ae_id, strlen(ae_id), &val, &len);

    if (rc == 0 && len >= sizeof(key_id))
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(key_id, val, len);
        key_id[len] = '\0';
        rc = cse_cred_get(st, key_id, ret);
    }
    cmn_store_free_val(val, len);
    return rc;
}

bool cse_cred_is_enrolled(cmn_store *st, const char *ae_id)
{
    void *val = NULL;
    size_t len = 0;

    if (cmn_store_get(st, CSE_DB_ENROLEES, ae_id, strlen(ae_id), &val, &len) != 0)
        return false;
    cmn_store_free_val(val, len);
    return true;
}

static int count_fn(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    (*(uint64_t *)arg)++;
    return 0;
}

int cse_cred_count(cmn_store *st, uint64_t *ret)
{
    *ret = 0;
    return cmn_store_foreach(st, CSE_DB_CREDENTIALS, NULL, 0, count_fn, ret);
}

int cse_cse_target(cmn_store *st, const char *cse_id, char *ret, size_t len)
{
    void *val = NULL;
    size_t n = 0;
    int rc = cmn_store_get(st, CSE_DB_CSE_TARGETS, cse_id, strlen(cse_id), &val, &n);

    if (rc == 0 && n >= len)
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(ret, val, n);
        ret[n] = '\0';
    }
    cmn_store_free_val(val, n);
    return rc;
}
