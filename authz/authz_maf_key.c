/* MAF Key Registration, Registration Update and De-Registration (TS-0003 8.8.2.7,
 * 8.8.2.9, 8.8.2.10), key revocation (by the enrolment, the client or the certificate,
 * 10.7), the KeyEvents that tell the targets, and the key list (authz_maf.h). */
#include "authz_maf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_creds.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"

/* ---- MAF Key Registration (8.8.2.7) ------------------------------------------------- */

static char *key_body(const Tep__MafKey *k, const char *rel_hex)
{
    json_t *t = json_array();
    json_t *o;
    char *s;

    for (size_t i = 0; t != NULL && i < k->n_targets; i++)
        json_array_append_new(t, json_string(k->targets[i]));
    o = json_pack("{s:s,s:s,s:I,s:i,s:o}", "relativeKeyID", rel_hex, "keyID", k->key_id,
                  "expirationTime", (json_int_t)k->expires, "suid", (int)k->suid, "targetIDs", t);
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Checks the request; fills k's targets, suid and expires (bounded by the client).
 * Returns 0, or the CoAP code of the refusal with *ret_why. */
static unsigned check_key_request(cmn_store *st, const authz_maf_session *s, json_t *o, int64_t now,
                                  Tep__MafKey *k, const char **targets, const char **ret_why)
{
    json_t *suid = json_object_get(o, "suid");
    int64_t client_expires = 0;
    unsigned code;

    *ret_why = "malformed key registration";
    if (o == NULL || authz_maf_parse_targets(o, targets, &k->n_targets) != 0 ||
        authz_maf_expiry(o, now, AUTHZ_MAF_KEY_LT, AUTHZ_MAF_KEY_LT_MAX, s->expires, &k->expires) !=
            0)
        return AUTHZ_MAF_BAD_REQUEST;
    k->suid = AUTHZ_MAF_SUID_KC;
    if (suid != NULL && (!json_is_integer(suid) || json_integer_value(suid) < AUTHZ_MAF_SUID_KC ||
                         json_integer_value(suid) > AUTHZ_MAF_SUID_E2E_SIG)) {
        *ret_why = "unsupported suid";
        return AUTHZ_MAF_BAD_REQUEST;
    }
    if (suid != NULL)
        k->suid = (uint32_t)json_integer_value(suid);
    if (!authz_maf_targets_fit_suid(k->suid, targets, k->n_targets)) {
        *ret_why = "targetIDs do not fit the suid";
        return AUTHZ_MAF_BAD_REQUEST;
    }
    code = authz_maf_live_client(st, s, now, &client_expires, ret_why);
    if (code == 0)
        k->expires = authz_maf_min_nonzero(k->expires, client_expires);
    return code;
}

void authz_maf_key_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const uint8_t exporter[CMN_EXPORTER_LEN], const char *body, size_t len,
                            int64_t now, authz_maf_answer *ret)
{
    Tep__MafKey k = TEP__MAF_KEY__INIT;
    const char *targets[AUTHZ_MAF_TARGETS_MAX];
    uint8_t rel_id[CMN_REL_ID_LEN], kc[CMN_KEY_LEN];
    char rel_hex[2 * CMN_REL_ID_LEN + 1], *labels = NULL;
    json_t *o = authz_maf_parse_body(body, len);
    const char *why = NULL;
    unsigned refused = check_key_request(st, s, o, now, &k, targets, &why);

    if (refused == 0 && authz_maf_parse_labels(o, &labels) != 0) {
        refused = AUTHZ_MAF_BAD_REQUEST;
        why = "malformed key registration";
    }

    memset(ret, 0, sizeof(*ret));
    cmn_kdf_split_exporter(exporter, rel_id, kc);
    cmn_hex_encode(rel_id, sizeof(rel_id), rel_hex);
    if (refused != 0)
        authz_maf_reply(ret, refused, why);
    else if (cmn_kdf_key_id(rel_id, maf_fqdn, ret->key_id, sizeof(ret->key_id)) != 0)
        authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "key identifier too long");
    if (ret->code != 0)
        goto out;
    k.key_id = ret->key_id;
    k.kc = (ProtobufCBinaryData){CMN_KEY_LEN, kc};
    k.source_id = (char *)s->enrolee_id;
    k.km_id = (char *)s->km_id;
    k.cert_serial = authz_maf_has_cert(s) ? (char *)s->cert_serial : "";
    k.targets = (char **)targets;
    k.created = now;
    if (authz_maf_put_with_labels(st, AUTHZ_MAF_KEYS_DB, k.key_id, &k.base, 'k', k.key_id,
                                  labels != NULL ? labels : "[]") != 0)
        authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "store failure");
    else if ((ret->body = key_body(&k, rel_hex)) == NULL)
        authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "no memory");
    else
        authz_maf_reply(ret, AUTHZ_MAF_CREATED, "key registered");
out:
    cmn_wipe(kc, sizeof(kc));
    free(labels);
    json_decref(o);
}

/* ---- MAF Key Registration Update and De-Registration (8.8.2.9, 8.8.2.10) ------------ */

/* The source's live key named by rel_id (32 lower-case hex digits): 0 with *ret_key,
 * or the refusal with *ret_why. */
static unsigned own_key(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                        const char *rel_id, int64_t now, Tep__MafKey **ret_key,
                        const char **ret_why)
{
    uint8_t rel[CMN_REL_ID_LEN];
    char key_id[CMN_KEY_ID_MAX];
    Tep__MafKey *k = NULL;
    unsigned code = AUTHZ_MAF_FORBIDDEN;
    int rc;

    *ret_key = NULL;
    if (rel_id == NULL || strlen(rel_id) != 2 * CMN_REL_ID_LEN ||
        strspn(rel_id, "0123456789abcdef") != 2 * CMN_REL_ID_LEN ||
        cmn_hex_decode(rel_id, rel, sizeof(rel)) != 0 ||
        cmn_kdf_key_id(rel, maf_fqdn, key_id, sizeof(key_id)) != 0) {
        *ret_why = "malformed relativeKeyID";
        return AUTHZ_MAF_BAD_REQUEST;
    }
    if ((rc = authz_maf_get_key(st, key_id, &k)) != 0) {
        *ret_why = rc == CMN_ENOTFOUND ? "unknown key" : "store failure";
        return rc == CMN_ENOTFOUND ? AUTHZ_MAF_NOT_FOUND : AUTHZ_MAF_INTERNAL;
    }
    if (!authz_maf_is_source(k, s)) {
        *ret_why = "not the source of the key";
    } else if (k->revoked != 0) {
        *ret_why = "key de-registered";
        code = AUTHZ_MAF_NOT_FOUND;
    } else if (k->expires != 0 && k->expires <= now) {
        *ret_why = "key registration expired";
    } else {
        *ret_key = k;
        return 0;
    }
    authz_maf_key_free(k);
    return code;
}

void authz_maf_key_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                          const char *rel_id, const char *body, size_t len, int64_t now,
                          authz_maf_answer *ret)
{
    static const char *const allowed[] = {"expirationTime", "targetIDs", "labels", "mafFQDN", NULL};
    Tep__MafKey *k = NULL;
    const char *targets[AUTHZ_MAF_TARGETS_MAX];
    char **old_targets = NULL, *labels = NULL;
    size_t old_n = 0, n_targets = 0;
    json_t *o = authz_maf_parse_body(body, len);
    const char *why = "malformed key registration update";
    int64_t expires = 0, client_expires = 0;
    bool new_targets = json_object_get(o, "targetIDs") != NULL;
    unsigned code = 0;

    memset(ret, 0, sizeof(*ret));
    if (!authz_maf_update_members_ok(o, allowed) || authz_maf_parse_labels(o, &labels) != 0 ||
        !authz_maf_fqdn_ok(o, maf_fqdn) ||
        (new_targets && authz_maf_parse_targets(o, targets, &n_targets) != 0) ||
        authz_maf_expiry(o, now, AUTHZ_MAF_KEY_LT, AUTHZ_MAF_KEY_LT_MAX, s->expires, &expires) != 0)
        code = AUTHZ_MAF_BAD_REQUEST;
    if (code == 0)
        code = authz_maf_live_client(st, s, now, &client_expires, &why);
    if (code == 0)
        code = own_key(st, maf_fqdn, s, rel_id, now, &k, &why);
    if (code == 0 && new_targets && !authz_maf_targets_fit_suid(k->suid, targets, n_targets)) {
        code = AUTHZ_MAF_BAD_REQUEST;
        why = "targetIDs do not fit the suid";
    }
    if (code != 0) {
        authz_maf_reply(ret, code, why);
        goto out;
    }
    snprintf(ret->key_id, sizeof(ret->key_id), "%s", k->key_id);
    if (json_object_get(o, "expirationTime") != NULL)
        k->expires = authz_maf_min_nonzero(expires, client_expires);
    if (new_targets) {
        old_targets = k->targets;
        old_n = k->n_targets;
        k->targets = (char **)targets;
        k->n_targets = n_targets;
    }
    if (authz_maf_put_with_labels(st, AUTHZ_MAF_KEYS_DB, k->key_id, &k->base, 'k', k->key_id,
                                  labels) != 0)
        goto failed;
    if ((ret->body = authz_maf_update_body(o, k->expires, k->targets, k->n_targets, labels)) ==
        NULL)
        goto failed;
    authz_maf_reply(ret, AUTHZ_MAF_CHANGED, "key registration updated");
    goto out;
failed:
    authz_maf_answer_clear(ret);
    authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "store failure");
out:
    if (k != NULL && old_targets != NULL) {
        k->targets = old_targets; /* the unpacked ones, freed with k */
        k->n_targets = old_n;
    }
    authz_maf_key_free(k);
    free(labels);
    json_decref(o);
}

void authz_maf_key_deregister(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                              const char *rel_id, int64_t now, authz_maf_answer *ret)
{
    Tep__MafKey *k = NULL;
    const char *why = NULL;
    unsigned code;

    memset(ret, 0, sizeof(*ret));
    if ((code = own_key(st, maf_fqdn, s, rel_id, now, &k, &why)) != 0)
        goto out;
    snprintf(ret->key_id, sizeof(ret->key_id), "%s", k->key_id);
    if (authz_maf_revoke(st, ret->key_id, now) != 0) {
        code = AUTHZ_MAF_INTERNAL;
        why = "store failure";
    } else {
        code = AUTHZ_MAF_DELETED;
        why = "key de-registered";
    }
out:
    authz_maf_key_free(k);
    authz_maf_reply(ret, code, why);
}

int authz_maf_revoke(cmn_store *st, const char *key_id, int64_t now)
{
    cmn_txn *t = NULL;
    int rc;

    if (key_id == NULL || key_id[0] == '\0')
        return CMN_EINVAL;
    rc = cmn_store_txn_begin(st, &t);
    if (rc == 0)
        rc = authz_maf_txn_change_key(t, key_id, now, 0);
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

/* ---- certificates revoked on their own (10.7) ---------------------------------------- */

int authz_maf_apply_sync(cmn_txn *txn, const Tep__SyncItem *item, void *arg)
{
    const Tep__Event *ev = item != NULL ? item->event : NULL;
    const char *serial = ev != NULL ? ev->cert_serial : NULL;
    uint8_t when[8];
    int rc = authz_creds_apply(txn, item, arg);

    if (rc != 0 || ev == NULL || ev->kind != TEP__EVENT__KIND__CERT_REVOKED)
        return rc;
    if (serial == NULL || serial[0] == '\0' || strlen(serial) >= CMN_KEY_ID_MAX) {
        CMN_WARN("sync",
                 "event=sync_item_skipped seq=%llu reason=\"CERT_REVOKED without "
                 "serial\"",
                 (unsigned long long)ev->seq);
        return 0;
    }
    cmn_store_u64_key((uint64_t)ev->time, when);
    rc = cmn_txn_put(txn, AUTHZ_MAF_REVOKED_CERTS_DB, serial, strlen(serial), when, sizeof(when));
    if (rc == 0)
        CMN_INFO("sync", "event=cert_revoked serial=%s enrolee_id=%s", serial,
                 ev->enrolee_id != NULL ? ev->enrolee_id : "");
    if (rc == 0 && arg != NULL) {
        authz_maf_pending *p = arg;
        char **grown = realloc(p->serials, (p->n + 1) * sizeof(*grown));

        if (grown == NULL || (grown[p->n] = strdup(serial)) == NULL) {
            p->serials = grown != NULL ? grown : p->serials;
            return CMN_ENOMEM; /* the turn is retried */
        }
        p->serials = grown;
        p->n++;
    }
    return rc;
}

void authz_maf_pending_clear(authz_maf_pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->serials[i]);
    free(p->serials);
    p->serials = NULL;
    p->n = 0;
}

int authz_maf_revoke_cert(cmn_store *st, const char *serial, int64_t now, char ***ret,
                          size_t *ret_n)
{
    authz_maf_key_search ks = {NULL, now, NULL, 0, 0, true};
    authz_maf_session s = {"", "", 0, serial};
    cmn_txn *t = NULL;
    int rc;

    ks.s = &s;
    rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, authz_maf_collect_keys, &ks);
    if (rc == 0 && ks.n > 0)
        rc = cmn_store_txn_begin(st, &t);
    for (size_t i = 0; rc == 0 && i < ks.n; i++)
        rc = authz_maf_txn_change_key(t, ks.ids[i], now, 0);
    if (rc == 0 && t != NULL) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    cmn_txn_abort(t);
    if (rc != 0) {
        for (size_t i = 0; i < ks.n; i++)
            free(ks.ids[i]);
        free(ks.ids);
        ks.ids = NULL;
        ks.n = 0;
    }
    *ret = ks.ids;
    *ret_n = ks.n;
    return rc;
}

bool authz_maf_cert_revoked(cmn_store *st, const char *serial)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    if (serial == NULL || serial[0] == '\0')
        return false;
    rc = cmn_store_get(st, AUTHZ_MAF_REVOKED_CERTS_DB, serial, strlen(serial), &val, &len);
    cmn_store_free_val(val, len);
    return rc != CMN_ENOTFOUND; /* a store error counts as revoked: fail closed */
}

/* ---- MAF_KEY_LIST, KeyEvents, STATUS ------------------------------------------------ */

typedef struct {
    Tep__MafKey **keys;
    size_t n;
} key_list;

static int list_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    key_list *l = arg;
    Tep__MafKey *k = tep__maf_key__unpack(NULL, vlen, val);
    Tep__MafKey **grown;

    (void)key;
    (void)klen;
    if (k == NULL)
        return CMN_ECORRUPT;
    cmn_wipe(k->kc.data, k->kc.len); /* the list never carries Kc */
    k->kc.len = 0;
    if ((grown = realloc(l->keys, (l->n + 1) * sizeof(*grown))) == NULL) {
        authz_maf_key_free(k);
        return CMN_ENOMEM;
    }
    l->keys = grown;
    l->keys[l->n++] = k;
    return 0;
}

int authz_maf_list(cmn_store *st, Tep__MafKey ***ret, size_t *ret_n)
{
    key_list l = {NULL, 0};
    int rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, list_one, &l);

    if (rc != 0) {
        authz_maf_list_free(l.keys, l.n);
        l.keys = NULL;
        l.n = 0;
    }
    *ret = l.keys;
    *ret_n = l.n;
    return rc;
}

void authz_maf_list_free(Tep__MafKey **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        authz_maf_key_free(keys[i]);
    free(keys);
}

static int send_event(cmn_bus_sock *pub, Tep__KeyEvent *ev, const char *sender)
{
    Tep__Envelope env;

    cmn_bus_env_init(&env, sender, 0);
    env.body_case = TEP__ENVELOPE__BODY_KEY_EVENT;
    env.key_event = ev;
    return cmn_bus_send(pub, NULL, 0, &env);
}

int authz_maf_publish(cmn_bus_sock *pub, cmn_store *st, const char *key_id, const char *sender)
{
    Tep__MafKey *k = NULL;
    Tep__KeyEvent ev = TEP__KEY_EVENT__INIT;
    int rc = authz_maf_get_key(st, key_id, &k);

    if (rc != 0)
        return rc;
    ev.key_id = k->key_id;
    ev.n_target_ids = k->n_targets;
    ev.target_ids = k->targets;
    ev.expires = k->expires;
    ev.revoked = k->revoked != 0;
    rc = send_event(pub, &ev, sender);
    authz_maf_key_free(k);
    return rc;
}

static int count_live(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    int64_t *ctx = arg; /* [0] now, [1] count */
    Tep__MafKey *k = tep__maf_key__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (k == NULL)
        return CMN_ECORRUPT;
    if (authz_maf_key_live(k, ctx[0]))
        ctx[1]++;
    authz_maf_key_free(k);
    return 0;
}

int authz_maf_count_keys(cmn_store *st, int64_t now, size_t *ret)
{
    int64_t ctx[2] = {now, 0};
    int rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, count_live, ctx);

    *ret = (size_t)ctx[1];
    return rc;
}
