/* The MAF's shared rules (authz_maf_int.h): answers, request bodies, expiries, the
 * client and key records, labels, targets. Packed MafKey records and retrieved
 * credentials hold Kc: every buffer that held one is wiped when freed. */
#include "authz_maf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_kdf.h"

void authz_maf_reply(authz_maf_answer *ret, unsigned code, const char *reason)
{
    ret->code = code;
    ret->reason = reason;
    if (code >= AUTHZ_MAF_BAD_REQUEST) {
        json_t *o = json_pack("{s:s}", "error", reason);

        ret->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
}

json_t *authz_maf_parse_body(const char *body, size_t len)
{
    json_t *o;

    if (body == NULL || len == 0)
        return json_object(); /* every member is optional somewhere: {} */
    o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

int64_t authz_maf_min_nonzero(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* A requested expirationTime (absent: now + def), at most now + max and never after
 * the enrolment. CMN_EINVAL when present but not a future integer. */
int authz_maf_expiry(json_t *o, int64_t now, int64_t def, int64_t max, int64_t bound, int64_t *ret)
{
    json_t *v = json_object_get(o, "expirationTime");
    int64_t e = now + def;

    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) <= now)
            return CMN_EINVAL;
        e = json_integer_value(v);
    }
    *ret = authz_maf_min_nonzero(authz_maf_min_nonzero(e, now + max), bound);
    return 0;
}

int authz_maf_get_client(cmn_store *st, const char *km_id, Tep__MafClient **ret)
{
    return cmn_store_get_msg(st, AUTHZ_MAF_CLIENTS_DB, km_id, strlen(km_id),
                             &tep__maf_client__descriptor, (ProtobufCMessage **)ret);
}

void authz_maf_key_free(Tep__MafKey *k)
{
    if (k == NULL)
        return;
    cmn_wipe(k->kc.data, k->kc.len);
    tep__maf_key__free_unpacked(k, NULL);
}

int authz_maf_get_key(cmn_store *st, const char *key_id, Tep__MafKey **ret)
{
    return cmn_store_get_msg(st, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id),
                             &tep__maf_key__descriptor, (ProtobufCMessage **)ret);
}

bool authz_maf_has_cert(const authz_maf_session *s)
{
    return s->cert_serial != NULL && s->cert_serial[0] != '\0';
}

/* The maf_clients key of the session's client: its KmID, or "cert:<serial>". */
const char *authz_maf_client_key(const authz_maf_session *s, char *buf, size_t len)
{
    if (!authz_maf_has_cert(s))
        return s->km_id;
    snprintf(buf, len, AUTHZ_MAF_CERT_PREFIX "%s", s->cert_serial);
    return buf;
}

/* labels (optional): 0..AUTHZ_MAF_LABELS_MAX strings of 1..AUTHZ_MAF_LABEL_LEN_MAX
 * characters. *ret: the compact JSON to store (malloc'd), NULL when absent. */
int authz_maf_parse_labels(json_t *o, char **ret)
{
    json_t *list = json_object_get(o, "labels"), *v;
    size_t i;

    *ret = NULL;
    if (list == NULL)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > AUTHZ_MAF_LABELS_MAX)
        return CMN_EINVAL;
    json_array_foreach(list, i, v) {
        const char *t = json_string_value(v);

        if (t == NULL || t[0] == '\0' || strlen(t) > AUTHZ_MAF_LABEL_LEN_MAX)
            return CMN_EINVAL;
    }
    *ret = json_dumps(list, JSON_COMPACT);
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

void authz_maf_labels_key(char kind, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%c:%s", kind, id);
}

/* The record and its labels (NULL: keep the stored ones) in one transaction. */
int authz_maf_put_with_labels(cmn_store *st, const char *db, const char *key,
                              const ProtobufCMessage *m, char kind, const char *label_id,
                              const char *labels)
{
    char lk[CMN_KEY_ID_MAX + 64];
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(st, &t);

    authz_maf_labels_key(kind, label_id, lk, sizeof(lk));
    if (rc == 0)
        rc = cmn_txn_put_msg(t, db, key, strlen(key), m);
    if (rc == 0 && labels != NULL)
        rc = cmn_txn_put(t, AUTHZ_MAF_LABELS_DB, lk, strlen(lk), labels, strlen(labels));
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

void authz_maf_answer_clear(authz_maf_answer *a)
{
    free(a->body);
    for (size_t i = 0; i < a->n_gone; i++)
        free(a->gone[i]);
    free(a->gone);
    memset(a, 0, sizeof(*a));
}

/* targetIDs: 1..AUTHZ_MAF_TARGETS_MAX CSE-IDs ("/name") or, for the end-to-end SUIDs,
 * AE-IDs as the MEF assigned them ("C..."/"S...", the ID the target's MAF Handshake
 * authenticates; docs/keys.md item 14). check_key_request applies the SUID's rules. */
int authz_maf_parse_targets(json_t *o, const char **ret, size_t *ret_n)
{
    json_t *list = json_object_get(o, "targetIDs"), *v;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > AUTHZ_MAF_TARGETS_MAX)
        return CMN_EINVAL;
    json_array_foreach(list, i, v) {
        const char *t = json_string_value(v);

        if (t == NULL || !cmn_kdf_id_valid(t) || strlen(t) > 255 ||
            (t[0] != '/' && t[0] != 'C' && t[0] != 'S') || (t[0] == '/' && t[1] == '\0'))
            return CMN_EINVAL;
        ret[i] = t;
    }
    *ret_n = json_array_size(list);
    return 0;
}

/* SUID 32 (SAEF with a CSE) wants CSE-IDs; 33 (ESPrim) exactly one target (8.3.5.2.7);
 * 34/35 (ESData) one or more. */
bool authz_maf_targets_fit_suid(unsigned suid, const char *const *targets, size_t n)
{
    if (suid == AUTHZ_MAF_SUID_KC) {
        for (size_t i = 0; i < n; i++)
            if (targets[i][0] != '/')
                return false;
        return true;
    }
    return suid != AUTHZ_MAF_SUID_E2E_PRIM || n == 1;
}

/* mafFQDN, when present, names this MAF. */
bool authz_maf_fqdn_ok(json_t *o, const char *maf_fqdn)
{
    json_t *v = json_object_get(o, "mafFQDN");

    return v == NULL || (json_is_string(v) && strcmp(json_string_value(v), maf_fqdn) == 0);
}

/* The session's client registration exists and has not expired: 0 with its expiry, or
 * 403 with why. */
unsigned authz_maf_live_client(cmn_store *st, const authz_maf_session *s, int64_t now,
                               int64_t *ret_expires, const char **ret_why)
{
    Tep__MafClient *c = NULL;
    char kbuf[CMN_KEY_ID_MAX + 8];
    unsigned code = AUTHZ_MAF_FORBIDDEN;

    if (authz_maf_get_client(st, authz_maf_client_key(s, kbuf, sizeof(kbuf)), &c) != 0 ||
        strcmp(c->enrolee_id, s->enrolee_id) != 0) {
        *ret_why = "no client registration";
    } else if (c->expires != 0 && c->expires <= now) {
        *ret_why = "client registration expired";
    } else {
        *ret_expires = c->expires;
        code = 0;
    }
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    return code;
}

/* The key was registered by this session's client (the same credential). */
bool authz_maf_is_source(const Tep__MafKey *k, const authz_maf_session *s)
{
    const char *serial = authz_maf_has_cert(s) ? s->cert_serial : "";

    return strcmp(k->source_id, s->enrolee_id) == 0 && strcmp(k->km_id, s->km_id) == 0 &&
           strcmp(k->cert_serial, serial) == 0;
}

bool authz_maf_key_live(const Tep__MafKey *k, int64_t now)
{
    return k->revoked == 0 && (k->expires == 0 || k->expires > now);
}

int authz_maf_collect_keys(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    authz_maf_key_search *ks = arg;
    Tep__MafKey *k = tep__maf_key__unpack(NULL, vlen, val);
    char **grown;

    (void)key;
    (void)klen;
    if (k == NULL)
        return CMN_ECORRUPT;
    if ((ks->any_source ? strcmp(k->cert_serial, ks->s->cert_serial) == 0
                        : authz_maf_is_source(k, ks->s)) &&
        authz_maf_key_live(k, ks->now)) {
        grown = realloc(ks->ids, (ks->n + 1) * sizeof(*grown));
        if (grown == NULL || (grown[ks->n] = strdup(k->key_id)) == NULL) {
            ks->ids = grown != NULL ? grown : ks->ids;
            authz_maf_key_free(k);
            return CMN_ENOMEM;
        }
        ks->ids = grown;
        ks->n++;
    }
    authz_maf_key_free(k);
    return 0;
}

int authz_maf_client_keys(cmn_store *st, const authz_maf_session *s, int64_t now, char ***ret,
                          size_t *ret_n)
{
    authz_maf_key_search ks = {s, now, NULL, 0, 0, false};
    int rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, authz_maf_collect_keys, &ks);

    if (rc != 0) {
        for (size_t i = 0; i < ks.n; i++)
            free(ks.ids[i]);
        free(ks.ids);
        return rc;
    }
    *ret = ks.ids;
    *ret_n = ks.n;
    return 0;
}

int authz_maf_txn_get_key(cmn_txn *t, const char *key_id, Tep__MafKey **ret)
{
    return cmn_txn_get_msg(t, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), &tep__maf_key__descriptor,
                           (ProtobufCMessage **)ret);
}

/* In t: the key revoked (or, with new_expires > 0, shortened to it). */
int authz_maf_txn_change_key(cmn_txn *t, const char *key_id, int64_t now, int64_t new_expires)
{
    Tep__MafKey *k = NULL;
    int rc = authz_maf_txn_get_key(t, key_id, &k);

    if (rc != 0)
        return rc;
    if (new_expires > 0) {
        k->expires = new_expires;
    } else if (k->revoked == 0) {
        k->revoked = now;
        cmn_wipe(k->kc.data, k->kc.len); /* the audit keeps the metadata, never Kc */
        k->kc.len = 0;
    }
    rc = cmn_txn_put_msg(t, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), &k->base);
    authz_maf_key_free(k);
    return rc;
}

char *authz_maf_update_body(json_t *req, int64_t expires, char *const *targets, size_t n_targets,
                            const char *labels)
{
    json_t *o = json_object();
    char *s;

    if (o != NULL && json_object_get(req, "expirationTime") != NULL)
        json_object_set_new(o, "expirationTime", json_integer(expires));
    if (o != NULL && json_object_get(req, "targetIDs") != NULL) {
        json_t *t = json_array();

        for (size_t i = 0; t != NULL && i < n_targets; i++)
            json_array_append_new(t, json_string(targets[i]));
        json_object_set_new(o, "targetIDs", t);
    }
    if (o != NULL && labels != NULL)
        json_object_set_new(o, "labels", json_loads(labels, 0, NULL));
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* An update must ask for something (8.8.2.5, 8.8.2.9 NOTE) and nothing unknown. */
bool authz_maf_update_members_ok(json_t *o, const char *const *allowed)
{
    const char *name;
    json_t *v;

    if (o == NULL || json_object_size(o) == 0)
        return false;
    json_object_foreach(o, name, v) {
        size_t i = 0;

        (void)v;
        while (allowed[i] != NULL && strcmp(allowed[i], name) != 0)
            i++;
        if (allowed[i] == NULL)
            return false;
    }
    return true;
}

bool authz_maf_item_path(const char *path, size_t len, char *kind, size_t klen, char *id,
                         size_t ilen)
{
    return cmn_coap_item_path("maf/", path, len, kind, klen, id, ilen);
}
