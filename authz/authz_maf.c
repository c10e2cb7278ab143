/* The MAF's registrations and key retrieval (see authz_maf.h). Packed MafKey records
 * and retrieved credentials hold Kc: every buffer that held one is wiped when freed. */
#include "authz_maf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_creds.h"
#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_coap.h"
#include "cmn_err.h"
#include "cmn_log.h"

#define REG_ID_BYTES 8

/* ---- helpers ------------------------------------------------------------------------ */

static void answer(authz_maf_answer *ret, unsigned code, const char *reason)
{
    ret->code = code;
    ret->reason = reason;
    if (code >= 400) {
        json_t *o = json_pack("{s:s}", "error", reason);

        ret->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
}

static json_t *parse_body(const char *body, size_t len)
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

static int64_t min_nonzero(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

/* A requested expirationTime (absent: now + def), at most now + max and never after
 * the enrolment. CMN_EINVAL when present but not a future integer. */
static int expiry(json_t *o, int64_t now, int64_t def, int64_t max, int64_t bound,
                  int64_t *ret)
{
    json_t *v = json_object_get(o, "expirationTime");
    int64_t e = now + def;

    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) <= now)
            return CMN_EINVAL;
        e = json_integer_value(v);
    }
    *ret = min_nonzero(min_nonzero(e, now + max), bound);
    return 0;
}

static int get_client(cmn_store *st, const char *km_id, Tep__MafClient **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(st, AUTHZ_MAF_CLIENTS_DB, km_id, strlen(km_id), &val, &len);

    if (rc == 0 && (*ret = tep__maf_client__unpack(NULL, len, val)) == NULL)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    return rc;
}

static void free_key(Tep__MafKey *k)
{
    if (k == NULL)
        return;
    cmn_wipe(k->kc.data, k->kc.len);
    tep__maf_key__free_unpacked(k, NULL);
}

static int get_key(cmn_store *st, const char *key_id, Tep__MafKey **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(st, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), &val, &len);

    if (rc == 0 && (*ret = tep__maf_key__unpack(NULL, len, val)) == NULL)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    return rc;
}

static bool has_cert(const authz_maf_session *s)
{
    return s->cert_serial != NULL && s->cert_serial[0] != '\0';
}

/* The maf_clients key of the session's client: its KmID, or "cert:<serial>". */
static const char *client_key(const authz_maf_session *s, char *buf, size_t len)
{
    if (!has_cert(s))
        return s->km_id;
    snprintf(buf, len, AUTHZ_MAF_CERT_PREFIX "%s", s->cert_serial);
    return buf;
}

/* labels (optional): 0..AUTHZ_MAF_LABELS_MAX strings of 1..AUTHZ_MAF_LABEL_LEN_MAX
 * characters. *ret: the compact JSON to store (malloc'd), NULL when absent. */
static int parse_labels(json_t *o, char **ret)
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

static void labels_key(char kind, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%c:%s", kind, id);
}

/* The record and its labels (NULL: keep the stored ones) in one transaction. */
static int put_with_labels(cmn_store *st, const char *db, const char *key,
                           const ProtobufCMessage *m, char kind, const char *label_id,
                           const char *labels)
{
    char lk[CMN_KEY_ID_MAX + 64];
    cmn_txn *t = NULL;
    int rc = cmn_store_txn_begin(st, &t);

    labels_key(kind, label_id, lk, sizeof(lk));
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

/* ---- MAF Client Registration (8.8.2.3) ---------------------------------------------- */

/* assignedSymmKeyID only for a Km client: a certificate client has no symmetric key. */
static char *client_body(const Tep__MafClient *c, const char *labels)
{
    json_t *o = json_pack("{s:s,s:I}", "mafClientRegID", c->reg_id, "expirationTime",
                          (json_int_t)c->expires);
    char *s;

    if (o != NULL && c->km_id[0] != '\0')
        json_object_set_new(o, "assignedSymmKeyID", json_string(c->km_id));
    if (o != NULL && labels != NULL)
        json_object_set_new(o, "labels", json_loads(labels, 0, NULL));
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

static int new_reg_id(char ret[2 * REG_ID_BYTES + 1])
{
    uint8_t rnd[REG_ID_BYTES];
    int rc = cmn_random(rnd, sizeof(rnd));

    if (rc == 0)
        cmn_hex_encode(rnd, sizeof(rnd), ret);
    return rc;
}

void authz_maf_client_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                               const char *body, size_t len, int64_t now, authz_maf_answer *ret)
{
    Tep__MafClient c = TEP__MAF_CLIENT__INIT;
    char reg_id[2 * REG_ID_BYTES + 1], kbuf[CMN_KEY_ID_MAX + 8], *labels = NULL;
    json_t *o = parse_body(body, len);
    const char *fqdn = json_string_value(json_object_get(o, "mafFQDN"));
    const char *key = client_key(s, kbuf, sizeof(kbuf));

    memset(ret, 0, sizeof(*ret));
    if (o == NULL || expiry(o, now, AUTHZ_MAF_CLIENT_LT_MAX, AUTHZ_MAF_CLIENT_LT_MAX,
                            s->expires, &c.expires) != 0 || parse_labels(o, &labels) != 0)
        answer(ret, 400, "malformed client registration");
    else if (json_object_get(o, "mafFQDN") != NULL && (fqdn == NULL || strcmp(fqdn, maf_fqdn)))
        answer(ret, 400, "mafFQDN names another MAF");
    else if (new_reg_id(reg_id) != 0)
        answer(ret, 500, "no random");
    json_decref(o);
    if (ret->code == 0) {
        c.reg_id = reg_id;
        c.km_id = (char *)s->km_id;
        c.enrolee_id = (char *)s->enrolee_id;
        c.registered = now;
        if (put_with_labels(st, AUTHZ_MAF_CLIENTS_DB, key, &c.base, 'c', reg_id,
                            labels != NULL ? labels : "[]") != 0)
            answer(ret, 500, "store failure");
        else if ((ret->body = client_body(&c, labels)) == NULL)
            answer(ret, 500, "no memory");
        else
            answer(ret, 201, "client registered");
    }
    free(labels);
}

/* ---- MAF Key Registration (8.8.2.7) ------------------------------------------------- */

/* targetIDs: 1..AUTHZ_MAF_TARGETS_MAX CSE-IDs ("/name") or, for the end-to-end SUIDs,
 * AE-IDs as the MEF assigned them ("C..."/"S...", the ID the target's MAF Handshake
 * authenticates; docs/keys.md item 14). check_key_request applies the SUID's rules. */
static int parse_targets(json_t *o, const char **ret, size_t *ret_n)
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
static bool targets_fit_suid(unsigned suid, const char *const *targets, size_t n)
{
    if (suid == AUTHZ_MAF_SUID_KC) {
        for (size_t i = 0; i < n; i++)
            if (targets[i][0] != '/')
                return false;
        return true;
    }
    return suid != AUTHZ_MAF_SUID_E2E_PRIM || n == 1;
}

static char *key_body(const Tep__MafKey *k, const char *rel_hex)
{
    json_t *t = json_array();
    json_t *o;
    char *s;

    for (size_t i = 0; t != NULL && i < k->n_targets; i++)
        json_array_append_new(t, json_string(k->targets[i]));
    o = json_pack("{s:s,s:s,s:I,s:i,s:o}", "relativeKeyID", rel_hex, "keyID", k->key_id,
                  "expirationTime", (json_int_t)k->expires, "suid", (int)k->suid, "targetIDs",
                  t);
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* mafFQDN, when present, names this MAF. */
static bool fqdn_ok(json_t *o, const char *maf_fqdn)
{
    json_t *v = json_object_get(o, "mafFQDN");

    return v == NULL || (json_is_string(v) && strcmp(json_string_value(v), maf_fqdn) == 0);
}

/* The session's client registration exists and has not expired: 0 with its expiry, or
 * 403 with why. */
static unsigned live_client(cmn_store *st, const authz_maf_session *s, int64_t now,
                            int64_t *ret_expires, const char **why)
{
    Tep__MafClient *c = NULL;
    char kbuf[CMN_KEY_ID_MAX + 8];
    unsigned code = 403;

    if (get_client(st, client_key(s, kbuf, sizeof(kbuf)), &c) != 0 ||
        strcmp(c->enrolee_id, s->enrolee_id) != 0) {
        *why = "no client registration";
    } else if (c->expires != 0 && c->expires <= now) {
        *why = "client registration expired";
    } else {
        *ret_expires = c->expires;
        code = 0;
    }
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    return code;
}

/* Checks the request; fills k's targets, suid and expires (bounded by the client).
 * Returns 0, or the CoAP code of the refusal with *ret_why. */
static unsigned check_key_request(cmn_store *st, const authz_maf_session *s, json_t *o,
                                  int64_t now, Tep__MafKey *k, const char **targets,
                                  const char **ret_why)
{
    json_t *suid = json_object_get(o, "suid");
    int64_t client_expires = 0;
    unsigned code;

    *ret_why = "malformed key registration";
    if (o == NULL || parse_targets(o, targets, &k->n_targets) != 0 ||
        expiry(o, now, AUTHZ_MAF_KEY_LT, AUTHZ_MAF_KEY_LT_MAX, s->expires, &k->expires) != 0)
        return 400;
    k->suid = AUTHZ_MAF_SUID_KC;
    if (suid != NULL && (!json_is_integer(suid) || json_integer_value(suid) < AUTHZ_MAF_SUID_KC ||
                         json_integer_value(suid) > AUTHZ_MAF_SUID_E2E_SIG)) {
        *ret_why = "unsupported suid";
        return 400;
    }
    if (suid != NULL)
        k->suid = (uint32_t)json_integer_value(suid);
    if (!targets_fit_suid(k->suid, targets, k->n_targets)) {
        *ret_why = "targetIDs do not fit the suid";
        return 400;
    }
    code = live_client(st, s, now, &client_expires, ret_why);
    if (code == 0)
        k->expires = min_nonzero(k->expires, client_expires);
    return code;
}

void authz_maf_key_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const uint8_t exporter[CMN_EXPORTER_LEN], const char *body,
                            size_t len, int64_t now, authz_maf_answer *ret)
{
    Tep__MafKey k = TEP__MAF_KEY__INIT;
    const char *targets[AUTHZ_MAF_TARGETS_MAX];
    uint8_t rel_id[CMN_REL_ID_LEN], kc[CMN_KEY_LEN];
    char rel_hex[2 * CMN_REL_ID_LEN + 1], *labels = NULL;
    json_t *o = parse_body(body, len);
    const char *why = NULL;
    unsigned refused = check_key_request(st, s, o, now, &k, targets, &why);

    if (refused == 0 && parse_labels(o, &labels) != 0) {
        refused = 400;
        why = "malformed key registration";
    }

    memset(ret, 0, sizeof(*ret));
    cmn_kdf_split_exporter(exporter, rel_id, kc);
    cmn_hex_encode(rel_id, sizeof(rel_id), rel_hex);
    if (refused != 0)
        answer(ret, refused, why);
    else if (cmn_kdf_key_id(rel_id, maf_fqdn, ret->key_id, sizeof(ret->key_id)) != 0)
        answer(ret, 500, "key identifier too long");
    if (ret->code != 0)
        goto out;
    k.key_id = ret->key_id;
    k.kc = (ProtobufCBinaryData){ CMN_KEY_LEN, kc };
    k.source_id = (char *)s->enrolee_id;
    k.km_id = (char *)s->km_id;
    k.cert_serial = has_cert(s) ? (char *)s->cert_serial : "";
    k.targets = (char **)targets;
    k.created = now;
    if (put_with_labels(st, AUTHZ_MAF_KEYS_DB, k.key_id, &k.base, 'k', k.key_id,
                        labels != NULL ? labels : "[]") != 0)
        answer(ret, 500, "store failure");
    else if ((ret->body = key_body(&k, rel_hex)) == NULL)
        answer(ret, 500, "no memory");
    else
        answer(ret, 201, "key registered");
out:
    cmn_wipe(kc, sizeof(kc));
    free(labels);
    json_decref(o);
}

/* ---- MAF Client Registration Update and De-Registration (8.8.2.5, 8.8.2.6) ----------- */

typedef struct {
    const char *reg_id;
    bool found;
} reg_search;

static int match_reg(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    reg_search *rs = arg;
    Tep__MafClient *c = tep__maf_client__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (c == NULL)
        return CMN_ECORRUPT;
    rs->found = rs->found || strcmp(c->reg_id, rs->reg_id) == 0;
    tep__maf_client__free_unpacked(c, NULL);
    return 0;
}

/* The session's own client registration named reg_id: 0 with *ret, or the refusal (404
 * nobody's, 403 someone else's or expired when live is asked for). */
static unsigned own_client(cmn_store *st, const authz_maf_session *s, const char *reg_id,
                           bool live, int64_t now, Tep__MafClient **ret, const char **why)
{
    char kbuf[CMN_KEY_ID_MAX + 8];
    reg_search rs = { reg_id, false };
    Tep__MafClient *c = NULL;

    *ret = NULL;
    if (reg_id == NULL || strlen(reg_id) != 2 * REG_ID_BYTES ||
        strspn(reg_id, "0123456789abcdef") != 2 * REG_ID_BYTES) {
        *why = "malformed mafClientRegID";
        return 400;
    }
    if (get_client(st, client_key(s, kbuf, sizeof(kbuf)), &c) == 0 &&
        strcmp(c->reg_id, reg_id) == 0 && strcmp(c->enrolee_id, s->enrolee_id) == 0) {
        if (live && c->expires != 0 && c->expires <= now) {
            tep__maf_client__free_unpacked(c, NULL);
            *why = "client registration expired";
            return 403;
        }
        *ret = c;
        return 0;
    }
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    if (cmn_store_foreach(st, AUTHZ_MAF_CLIENTS_DB, NULL, 0, match_reg, &rs) != 0) {
        *why = "store failure";
        return 500;
    }
    *why = rs.found ? "not this client's registration" : "unknown client registration";
    return rs.found ? 403 : 404;
}

/* The key was registered by this session's client (the same credential). */
static bool is_source(const Tep__MafKey *k, const authz_maf_session *s)
{
    const char *serial = has_cert(s) ? s->cert_serial : "";

    return strcmp(k->source_id, s->enrolee_id) == 0 && strcmp(k->km_id, s->km_id) == 0 &&
           strcmp(k->cert_serial, serial) == 0;
}

static bool key_live(const Tep__MafKey *k, int64_t now)
{
    return k->revoked == 0 && (k->expires == 0 || k->expires > now);
}

/* Collects the live keys of one client (same source and credential). */
typedef struct {
    const authz_maf_session *s;
    int64_t now;
    char **ids;
    size_t n;
    int err;
    bool any_source; /* only the credential counts (a revoked certificate's keys) */
} key_search;

static int collect_keys(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    key_search *ks = arg;
    Tep__MafKey *k = tep__maf_key__unpack(NULL, vlen, val);
    char **grown;

    (void)key;
    (void)klen;
    if (k == NULL)
        return CMN_ECORRUPT;
    if ((ks->any_source ? strcmp(k->cert_serial, ks->s->cert_serial) == 0 : is_source(k, ks->s)) &&
        key_live(k, ks->now)) {
        grown = realloc(ks->ids, (ks->n + 1) * sizeof(*grown));
        if (grown == NULL || (grown[ks->n] = strdup(k->key_id)) == NULL) {
            ks->ids = grown != NULL ? grown : ks->ids;
            free_key(k);
            return CMN_ENOMEM;
        }
        ks->ids = grown;
        ks->n++;
    }
    free_key(k);
    return 0;
}

static int client_keys(cmn_store *st, const authz_maf_session *s, int64_t now, char ***ret,
                       size_t *ret_n)
{
    key_search ks = { s, now, NULL, 0, 0, false };
    int rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, collect_keys, &ks);

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

static int txn_get_key(cmn_txn *t, const char *key_id, Tep__MafKey **ret)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_txn_get(t, AUTHZ_MAF_KEYS_DB, key_id, strlen(key_id), &val, &len);

    if (rc == 0 && (*ret = tep__maf_key__unpack(NULL, len, val)) == NULL)
        rc = CMN_ECORRUPT;
    cmn_store_free_val(val, len);
    return rc;
}

/* In t: the key revoked (or, with new_expires > 0, shortened to it). */
static int txn_change_key(cmn_txn *t, const char *key_id, int64_t now, int64_t new_expires)
{
    Tep__MafKey *k = NULL;
    int rc = txn_get_key(t, key_id, &k);

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
    free_key(k);
    return rc;
}

static char *update_body(json_t *req, int64_t expires, char *const *targets, size_t n_targets,
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
static bool update_members_ok(json_t *o, const char *const *allowed)
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

void authz_maf_client_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                             const char *reg_id, const char *body, size_t len, int64_t now,
                             authz_maf_answer *ret)
{
    static const char *const allowed[] = { "expirationTime", "labels", "mafFQDN", NULL };
    Tep__MafClient *c = NULL;
    json_t *o = parse_body(body, len);
    char kbuf[CMN_KEY_ID_MAX + 8], *labels = NULL, **keys = NULL;
    const char *ckey;
    size_t n_keys = 0;
    const char *why = "malformed client registration update";
    unsigned code = 0;
    int64_t expires = 0;
    cmn_txn *t = NULL;

    memset(ret, 0, sizeof(*ret));
    if (!update_members_ok(o, allowed) || parse_labels(o, &labels) != 0 ||
        !fqdn_ok(o, maf_fqdn) ||
        expiry(o, now, AUTHZ_MAF_CLIENT_LT_MAX, AUTHZ_MAF_CLIENT_LT_MAX, s->expires,
               &expires) != 0)
        code = 400;
    else
        code = own_client(st, s, reg_id, true, now, &c, &why);
    if (code != 0)
        goto refused;
    if (json_object_get(o, "expirationTime") != NULL)
        c->expires = expires;
    /* keys never outlive their client registration */
    if (client_keys(st, s, now, &keys, &n_keys) != 0 || cmn_store_txn_begin(st, &t) != 0)
        goto failed;
    for (size_t i = 0; i < n_keys; i++) {
        Tep__MafKey *k = NULL;

        if (txn_get_key(t, keys[i], &k) != 0)
            goto failed;
        if (c->expires != 0 && (k->expires == 0 || k->expires > c->expires) &&
            txn_change_key(t, keys[i], now, c->expires) != 0) {
            free_key(k);
            goto failed;
        }
        if (c->expires != 0 && (k->expires == 0 || k->expires > c->expires)) {
            ret->gone = ret->gone != NULL ? ret->gone : calloc(n_keys, sizeof(char *));
            if (ret->gone == NULL || (ret->gone[ret->n_gone] = strdup(keys[i])) == NULL) {
                free_key(k);
                goto failed;
            }
            ret->n_gone++;
        }
        free_key(k);
    }
    ckey = client_key(s, kbuf, sizeof(kbuf));
    if (cmn_txn_put_msg(t, AUTHZ_MAF_CLIENTS_DB, ckey, strlen(ckey), &c->base) != 0)
        goto failed;
    if (labels != NULL) {
        char lk[CMN_KEY_ID_MAX + 64];

        labels_key('c', c->reg_id, lk, sizeof(lk));
        if (cmn_txn_put(t, AUTHZ_MAF_LABELS_DB, lk, strlen(lk), labels, strlen(labels)) != 0)
            goto failed;
    }
    if (cmn_txn_commit(t) != 0) {
        t = NULL;
        goto failed;
    }
    t = NULL;
    if ((ret->body = update_body(o, c->expires, NULL, 0, labels)) == NULL)
        goto failed;
    answer(ret, 204, "client registration updated");
    goto out;
failed:
    cmn_txn_abort(t);
    code = 500;
    why = "store failure";
refused:
    authz_maf_answer_clear(ret);
    answer(ret, code, why);
out:
    for (size_t i = 0; i < n_keys; i++)
        free(keys[i]);
    free(keys);
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    free(labels);
    json_decref(o);
}

void authz_maf_client_deregister(cmn_store *st, const authz_maf_session *s, const char *reg_id,
                                 int64_t now, authz_maf_answer *ret)
{
    Tep__MafClient *c = NULL;
    char kbuf[CMN_KEY_ID_MAX + 8], lk[CMN_KEY_ID_MAX + 64];
    const char *ck = client_key(s, kbuf, sizeof(kbuf));
    const char *why = NULL;
    unsigned code = own_client(st, s, reg_id, false, now, &c, &why);
    cmn_txn *t = NULL;
    int rc = 0;

    memset(ret, 0, sizeof(*ret));
    if (code != 0) {
        answer(ret, code, why);
        return;
    }
    labels_key('c', c->reg_id, lk, sizeof(lk));
    rc = client_keys(st, s, now, &ret->gone, &ret->n_gone);
    if (rc == 0)
        rc = cmn_store_txn_begin(st, &t);
    for (size_t i = 0; rc == 0 && i < ret->n_gone; i++)
        rc = txn_change_key(t, ret->gone[i], now, 0);
    if (rc == 0)
        rc = cmn_txn_del(t, AUTHZ_MAF_CLIENTS_DB, ck, strlen(ck));
    if (rc == 0) {
        rc = cmn_txn_del(t, AUTHZ_MAF_LABELS_DB, lk, strlen(lk));
        rc = rc == CMN_ENOTFOUND ? 0 : rc;
    }
    if (rc == 0) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    cmn_txn_abort(t);
    tep__maf_client__free_unpacked(c, NULL);
    if (rc != 0) {
        authz_maf_answer_clear(ret);
        answer(ret, 500, "store failure");
        return;
    }
    answer(ret, 202, "client de-registered");
}

/* ---- MAF Key Registration Update and De-Registration (8.8.2.9, 8.8.2.10) ------------ */

/* The source's live key named by rel_id (32 lower-case hex digits): 0 with *ret. */
static unsigned own_key(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                        const char *rel_id, int64_t now, Tep__MafKey **ret, const char **why)
{
    uint8_t rel[CMN_REL_ID_LEN];
    char key_id[CMN_KEY_ID_MAX];
    int rc;

    *ret = NULL;
    *why = "malformed relativeKeyID";
    if (rel_id == NULL || strlen(rel_id) != 2 * CMN_REL_ID_LEN ||
        strspn(rel_id, "0123456789abcdef") != 2 * CMN_REL_ID_LEN ||
        cmn_hex_decode(rel_id, rel, sizeof(rel)) != 0 ||
        cmn_kdf_key_id(rel, maf_fqdn, key_id, sizeof(key_id)) != 0)
        return 400;
    rc = get_key(st, key_id, ret);
    if (rc != 0) {
        *why = rc == CMN_ENOTFOUND ? "unknown key" : "store failure";
        return rc == CMN_ENOTFOUND ? 404 : 500;
    }
    if (!is_source(*ret, s)) {
        *why = "not the source of the key";
    } else if ((*ret)->revoked != 0) {
        *why = "key de-registered";
        free_key(*ret);
        *ret = NULL;
        return 404;
    } else if ((*ret)->expires != 0 && (*ret)->expires <= now) {
        *why = "key registration expired";
    } else {
        return 0;
    }
    free_key(*ret);
    *ret = NULL;
    return 403;
}

void authz_maf_key_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                          const char *rel_id, const char *body, size_t len, int64_t now,
                          authz_maf_answer *ret)
{
    static const char *const allowed[] = { "expirationTime", "targetIDs", "labels", "mafFQDN",
                                           NULL };
    Tep__MafKey *k = NULL;
    const char *targets[AUTHZ_MAF_TARGETS_MAX];
    char **old_targets = NULL, *labels = NULL;
    size_t old_n = 0, n_targets = 0;
    json_t *o = parse_body(body, len);
    const char *why = "malformed key registration update";
    int64_t expires = 0, client_expires = 0;
    bool new_targets = json_object_get(o, "targetIDs") != NULL;
    unsigned code = 0;

    memset(ret, 0, sizeof(*ret));
    if (!update_members_ok(o, allowed) || parse_labels(o, &labels) != 0 ||
        !fqdn_ok(o, maf_fqdn) || (new_targets && parse_targets(o, targets, &n_targets) != 0) ||
        expiry(o, now, AUTHZ_MAF_KEY_LT, AUTHZ_MAF_KEY_LT_MAX, s->expires, &expires) != 0)
        code = 400;
    if (code == 0)
        code = live_client(st, s, now, &client_expires, &why);
    if (code == 0)
        code = own_key(st, maf_fqdn, s, rel_id, now, &k, &why);
    if (code == 0 && new_targets && !targets_fit_suid(k->suid, targets, n_targets)) {
        code = 400;
        why = "targetIDs do not fit the suid";
    }
    if (code != 0) {
        answer(ret, code, why);
        goto out;
    }
    snprintf(ret->key_id, sizeof(ret->key_id), "%s", k->key_id);
    if (json_object_get(o, "expirationTime") != NULL)
        k->expires = min_nonzero(expires, client_expires);
    if (new_targets) {
        old_targets = k->targets;
        old_n = k->n_targets;
        k->targets = (char **)targets;
        k->n_targets = n_targets;
    }
    if (put_with_labels(st, AUTHZ_MAF_KEYS_DB, k->key_id, &k->base, 'k', k->key_id, labels) != 0)
        goto failed;
    if ((ret->body = update_body(o, k->expires, k->targets, k->n_targets, labels)) == NULL)
        goto failed;
    answer(ret, 204, "key registration updated");
    goto out;
failed:
    authz_maf_answer_clear(ret);
    answer(ret, 500, "store failure");
out:
    if (k != NULL && old_targets != NULL) {
        k->targets = old_targets; /* the unpacked ones, freed with k */
        k->n_targets = old_n;
    }
    free_key(k);
    free(labels);
    json_decref(o);
}

void authz_maf_key_deregister(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                              const char *rel_id, int64_t now, authz_maf_answer *ret)
{
    Tep__MafKey *k = NULL;
    const char *why = NULL;
    unsigned code = own_key(st, maf_fqdn, s, rel_id, now, &k, &why);

    memset(ret, 0, sizeof(*ret));
    if (code != 0) {
        answer(ret, code, why);
        return;
    }
    snprintf(ret->key_id, sizeof(ret->key_id), "%s", k->key_id);
    free_key(k);
    if (authz_maf_revoke(st, ret->key_id, now) != 0)
        answer(ret, 500, "store failure");
    else
        answer(ret, 202, "key de-registered");
}

int authz_maf_revoke(cmn_store *st, const char *key_id, int64_t now)
{
    cmn_txn *t = NULL;
    int rc;

    if (key_id == NULL || key_id[0] == '\0')
        return CMN_EINVAL;
    rc = cmn_store_txn_begin(st, &t);
    if (rc == 0)
        rc = txn_change_key(t, key_id, now, 0);
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
        CMN_WARN("sync", "event=sync_item_skipped seq=%llu reason=\"CERT_REVOKED without "
                         "serial\"", (unsigned long long)ev->seq);
        return 0;
    }
    cmn_store_u64_key((uint64_t)ev->time, when);
    rc = cmn_txn_put(txn, AUTHZ_MAF_REVOKED_CERTS_DB, serial, strlen(serial), when,
                     sizeof(when));
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
    key_search ks = { NULL, now, NULL, 0, 0, true };
    authz_maf_session s = { "", "", 0, serial };
    cmn_txn *t = NULL;
    int rc;

    ks.s = &s;
    rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, collect_keys, &ks);
    if (rc == 0 && ks.n > 0)
        rc = cmn_store_txn_begin(st, &t);
    for (size_t i = 0; rc == 0 && i < ks.n; i++)
        rc = txn_change_key(t, ks.ids[i], now, 0);
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

/* ---- MAF_KEY_LIST -------------------------------------------------------------------- */

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
        free_key(k);
        return CMN_ENOMEM;
    }
    l->keys = grown;
    l->keys[l->n++] = k;
    return 0;
}

int authz_maf_list(cmn_store *st, Tep__MafKey ***ret, size_t *ret_n)
{
    key_list l = { NULL, 0 };
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
        free_key(keys[i]);
    free(keys);
}

/* ---- MAF Key Retrieval (8.8.2.8) ---------------------------------------------------- */

/* A usable Km: SUID 21, neither revoked nor expired. */
static bool km_live(const Tep__Credential *c, int64_t now)
{
    return c->suid == AUTHZ_MAF_SUID_KM && !c->revoked && (c->expires == 0 || c->expires > now);
}

typedef struct {
    const char *enrolee_id;
    int64_t now;
    bool found;
    int64_t expires;
    char ke_id[CMN_KEY_ID_MAX];
} km_search;

static int match_km(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    km_search *ks = arg;
    Tep__Credential *c = tep__credential__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (c == NULL)
        return 0; /* not ours to judge: the Km PSK look-up reports it */
    if (c->enrolee_id != NULL && strcmp(c->enrolee_id, ks->enrolee_id) == 0 &&
        km_live(c, ks->now) && (!ks->found || c->expires == 0 || c->expires > ks->expires)) {
        ks->found = true;
        ks->expires = c->expires;
        snprintf(ks->ke_id, sizeof(ks->ke_id), "%s", c->ke_id != NULL ? c->ke_id : "");
    }
    cmn_wipe(c->key.data, c->key.len);
    tep__credential__free_unpacked(c, NULL);
    return 0;
}

int authz_maf_enrolee_km(cmn_store *st, const char *enrolee_id, int64_t now,
                         int64_t *ret_expires, char *ret_ke_id, size_t len_ke_id)
{
    km_search ks = { enrolee_id, now, false, 0, "" };
    int rc = cmn_store_foreach(st, AUTHZ_CREDS_DB, NULL, 0, match_km, &ks);

    if (rc != 0)
        return rc;
    if (!ks.found)
        return CMN_ENOTFOUND;
    if (ret_expires != NULL)
        *ret_expires = ks.expires;
    if (ret_ke_id != NULL)
        snprintf(ret_ke_id, len_ke_id, "%s", ks.ke_id);
    return 0;
}

/* The source's Km credential (its enrolment) must still be live: revoking or expiring
 * an enrolment ends the keys registered with it (10.7). A key registered in a
 * certificate session (no km_id) lives while its source has a live Km. */
static bool source_live(cmn_store *st, const Tep__MafKey *k, int64_t now, char *ret_ke_id,
                        size_t len_ke_id)
{
    void *val = NULL;
    size_t len = 0;
    Tep__Credential *c = NULL;
    bool live = false;

    if (k->km_id[0] == '\0')
        return !authz_maf_cert_revoked(st, k->cert_serial) &&
               authz_maf_enrolee_km(st, k->source_id, now, NULL, ret_ke_id, len_ke_id) == 0 &&
               cmn_ca_serial_bound_to(k->cert_serial, ret_ke_id);
    if (cmn_store_get(st, AUTHZ_CREDS_DB, k->km_id, strlen(k->km_id), &val, &len) == 0 &&
        (c = tep__credential__unpack(NULL, len, val)) != NULL)
        live = !c->revoked && (c->expires == 0 || c->expires > now);
    if (live)
        snprintf(ret_ke_id, len_ke_id, "%s", c->ke_id);
    cmn_store_free_val(val, len);
    if (c != NULL) {
        cmn_wipe(c->key.data, c->key.len);
        tep__credential__free_unpacked(c, NULL);
    }
    return live;
}

static bool is_target(const Tep__MafKey *k, const char *target_id)
{
    for (size_t i = 0; i < k->n_targets; i++)
        if (strcmp(k->targets[i], target_id) == 0)
            return true;
    return false;
}

static int to_credential(const Tep__MafKey *k, const char *ke_id, Tep__Credential **ret)
{
    Tep__Credential *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return CMN_ENOMEM;
    tep__credential__init(c);
    c->key_id = strdup(k->key_id);
    c->enrolee_id = strdup(k->source_id);
    c->key.data = malloc(CMN_KEY_LEN);
    c->key.len = CMN_KEY_LEN;
    c->suid = k->suid;
    c->expires = k->expires;
    c->ke_id = strdup(ke_id); /* the source's enrolment: targets revoke Kc with it */
    c->app_id = strdup("");
    if (c->key_id == NULL || c->enrolee_id == NULL || c->key.data == NULL ||
        c->ke_id == NULL || c->app_id == NULL) {
        authz_maf_credential_free(c);
        return CMN_ENOMEM;
    }
    memcpy(c->key.data, k->kc.data, CMN_KEY_LEN);
    *ret = c;
    return 0;
}

int authz_maf_retrieve(cmn_store *st, const char *key_id, const char *target_id, int64_t now,
                       Tep__Credential **ret)
{
    Tep__MafKey *k = NULL;
    char ke_id[CMN_KEY_ID_MAX] = "";
    int rc;

    *ret = NULL;
    if (key_id == NULL || target_id == NULL || key_id[0] == '\0')
        return CMN_EINVAL;
    rc = get_key(st, key_id, &k);
    if (rc == 0 && k->revoked != 0)
        rc = CMN_ENOTFOUND; /* de-registered or revoked: the record stays for the audit */
    if (rc == 0 && (k->kc.len != CMN_KEY_LEN || k->source_id == NULL))
        rc = CMN_ECORRUPT;
    if (rc == 0 && ((k->expires != 0 && k->expires <= now) || !source_live(st, k, now, ke_id, sizeof(ke_id))))
        rc = CMN_ENOTFOUND; /* an expired or revoked key is no key */
    if (rc == 0 && !is_target(k, target_id))
        rc = CMN_EDENIED;
    if (rc == 0)
        rc = to_credential(k, ke_id, ret);
    free_key(k);
    return rc;
}

void authz_maf_credential_free(Tep__Credential *c)
{
    if (c == NULL)
        return;
    if (c->key.data != NULL)
        cmn_wipe(c->key.data, c->key.len);
    free(c->key.data);
    free(c->key_id);
    free(c->enrolee_id);
    free(c->ke_id);
    free(c->app_id);
    free(c);
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
    int rc = get_key(st, key_id, &k);

    if (rc != 0)
        return rc;
    ev.key_id = k->key_id;
    ev.n_target_ids = k->n_targets;
    ev.target_ids = k->targets;
    ev.expires = k->expires;
    ev.revoked = k->revoked != 0;
    rc = send_event(pub, &ev, sender);
    free_key(k);
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
    if (key_live(k, ctx[0]))
        ctx[1]++;
    free_key(k);
    return 0;
}

int authz_maf_count_keys(cmn_store *st, int64_t now, size_t *ret)
{
    int64_t ctx[2] = { now, 0 };
    int rc = cmn_store_foreach(st, AUTHZ_MAF_KEYS_DB, NULL, 0, count_live, ctx);

    *ret = (size_t)ctx[1];
    return rc;
}

bool authz_maf_item_path(const char *path, size_t len, char *kind, size_t klen, char *id,
                         size_t ilen)
{
    return cmn_coap_item_path("maf/", path, len, kind, klen, id, ilen);
}
