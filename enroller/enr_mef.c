/* MEF Client Registration and MEF Key Registration of usage-constrained keys (see
 * enr_mef.h). */
#include "enr_mef.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_log.h"

#define REG_ID_BYTES 16
#define LABELS_MAX 8
#define KEYS_PER_CLIENT_MAX 64

/* ---- answers ---------------------------------------------------------------------- */

static void fail(enr_mef_answer *ret, unsigned code, const char *reason)
{
    json_t *o = json_pack("{s:s}", "error", reason);

    ret->code = code;
    ret->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
}

static void fail_rc(enr_mef_answer *ret, int rc, const char *what)
{
    if (rc == CMN_ENOTFOUND)
        fail(ret, 404, what);
    else if (rc == CMN_EDENIED || rc == CMN_EEXPIRED)
        fail(ret, 403, rc == CMN_EEXPIRED ? "expired" : "no live enrolment");
    else if (rc == CMN_EINVAL)
        fail(ret, 400, what);
    else
        fail(ret, 500, "store error");
}

static void reply(enr_mef_answer *ret, unsigned code, json_t *o)
{
    ret->code = code;
    ret->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (ret->body == NULL)
        fail(ret, 500, "out of memory");
    json_decref(o);
}

/* ---- request bodies --------------------------------------------------------------- */

static json_t *parse(const uint8_t *body, size_t len)
{
    json_t *o = len == 0 ? json_object()
                         : json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);

    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Labels: an array of at most LABELS_MAX non-empty strings, kept as they are. */
static int get_labels(json_t *o, json_t **ret)
{
    json_t *l = json_object_get(o, "labels"), *v;
    size_t i;

    *ret = NULL;
    if (l == NULL)
        return 0;
    if (!json_is_array(l) || json_array_size(l) > LABELS_MAX)
        return CMN_EINVAL;
    json_array_foreach(l, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 255)
            return CMN_EINVAL;
    }
    *ret = l;
    return 0;
}

/* expirationTime: absent -> def; else an integer after now, cut to max. */
static int get_expiry(json_t *o, int64_t now, int64_t def, int64_t max, int64_t *ret)
{
    json_t *v = json_object_get(o, "expirationTime");

    *ret = def;
    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) <= now))
        return CMN_EINVAL;
    if (v != NULL)
        *ret = json_integer_value(v);
    if (*ret > max)
        *ret = max;
    return 0;
}

static int64_t min3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a < b ? a : b;
    return c != 0 && c < m ? c : m;
}

/* ---- records ---------------------------------------------------------------------- */

/* The session enrolee's current enrolment, live at now. */
static int live_enrolment(cmn_txn *t, const enr_mef_ctx *x, Tep__Enrolment **ret)
{
    char ke_id[CMN_KEY_ID_MAX];
    int rc = enr_db_txn_current_ke_id(t, x->kpm_id, ke_id);

    *ret = NULL;
    if (rc == CMN_ENOTFOUND)
        return CMN_EDENIED; /* never enrolled */
    if (rc == 0)
        rc = cmn_txn_get_msg(t, ENR_DB_ENROLMENTS, ke_id, strlen(ke_id),
                             &tep__enrolment__descriptor, (ProtobufCMessage **)ret);
    if (rc == 0 && (*ret)->revoked)
        rc = CMN_EDENIED;
    else if (rc == 0 && (*ret)->expires != 0 && (*ret)->expires <= x->now)
        rc = CMN_EEXPIRED;
    return rc;
}

/* The client registration reg_id of this session's enrolee (another's is "not found"). */
static int own_client(cmn_txn *t, const enr_mef_ctx *x, const char *reg_id, Tep__MefClient **ret)
{
    int rc = cmn_txn_get_msg(t, ENR_DB_MEF_CLIENTS, reg_id, strlen(reg_id),
                             &tep__mef_client__descriptor, (ProtobufCMessage **)ret);

    if (rc == 0 && strcmp((*ret)->kpm_id, x->kpm_id) != 0)
        rc = CMN_ENOTFOUND;
    if (rc == 0 && (*ret)->expires <= x->now)
        rc = CMN_EEXPIRED;
    return rc;
}

static void set_labels(Tep__MefClient *c, json_t *labels, const char **buf)
{
    size_t i;
    json_t *v;

    c->n_labels = 0;
    c->labels = (char **)buf;
    json_array_foreach(labels, i, v)
        buf[c->n_labels++] = json_string_value(v);
}

static json_t *client_json(const Tep__MefClient *c)
{
    json_t *o =
        json_pack("{s:s,s:I,s:s,s:s}", "mefClientRegID", c->reg_id, "expirationTime",
                  (json_int_t)c->expires, "mefClientID", c->enrolee_id, "adminFQDN", c->admin_fqdn);
    json_t *l = json_array();

    for (size_t i = 0; l != NULL && i < c->n_labels; i++)
        json_array_append_new(l, json_string(c->labels[i]));
    if (o != NULL && l != NULL && c->n_labels > 0)
        json_object_set(o, "labels", l);
    json_decref(l);
    return o;
}

static int commit(cmn_txn **t)
{
    int rc = cmn_txn_commit(*t);

    *t = NULL;
    return rc;
}

/* ---- MEF Client Registration, Update, De-Registration ----------------------------- */

static int client_room(cmn_txn *t, const enr_mef_ctx *x, enr_events *out);

void enr_mef_client_register(const enr_mef_ctx *x, const uint8_t *body, size_t len,
                             enr_mef_answer *ret)
{
    Tep__MefClient c = TEP__MEF_CLIENT__INIT;
    Tep__Enrolment *en = NULL;
    json_t *o = parse(body, len), *labels = NULL;
    const char *fqdn = json_string_value(json_object_get(o, "mefFQDN"));
    const char *admin = json_string_value(json_object_get(o, "adminFQDN"));
    const char *lbuf[LABELS_MAX];
    uint8_t rnd[REG_ID_BYTES];
    char reg_id[2 * REG_ID_BYTES + 1];
    cmn_txn *t = NULL;
    int64_t exp;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (o == NULL ||
        (json_object_get(o, "mefFQDN") != NULL &&
         (fqdn == NULL || strcmp(fqdn, x->cfg->mef_fqdn))) ||
        (json_object_get(o, "adminFQDN") != NULL && (admin == NULL || !cmn_kdf_id_valid(admin))) ||
        get_labels(o, &labels) != 0) {
        fail(ret, 400, "bad request");
        goto out;
    }
    if ((rc = cmn_store_txn_begin(x->store, &t)) == 0)
        rc = live_enrolment(t, x, &en);
    if (rc == 0)
        rc = client_room(t, x, &ret->events);
    if (rc == 0)
        rc = get_expiry(o, x->now, x->now + ENR_MEF_CLIENT_MAX_S,
                        min3(x->now + ENR_MEF_CLIENT_MAX_S, INT64_MAX, en->expires), &exp);
    if (rc == 0 && (rc = cmn_random(rnd, sizeof(rnd))) == 0) {
        cmn_hex_encode(rnd, sizeof(rnd), reg_id);
        c.reg_id = reg_id;
        c.kpm_id = (char *)x->kpm_id;
        c.enrolee_id = en->enrolee_id;
        c.admin_fqdn = (char *)(admin != NULL ? admin : x->cfg->mef_fqdn);
        c.expires = exp;
        c.created = x->now;
        set_labels(&c, labels, lbuf);
        rc = cmn_txn_put_msg(t, ENR_DB_MEF_CLIENTS, reg_id, strlen(reg_id), &c.base);
    }
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0) {
        memset(&ret->events, 0, sizeof(ret->events));
        fail_rc(ret, rc, "bad expirationTime");
    } else {
        reply(ret, 201, client_json(&c));
    }
out:
    cmn_txn_abort(t);
    enr_enrolment_free(en);
    json_decref(o);
}

void enr_mef_client_update(const enr_mef_ctx *x, const char *reg_id, const uint8_t *body,
                           size_t len, enr_mef_answer *ret)
{
    Tep__MefClient *c = NULL;
    Tep__Enrolment *en = NULL;
    json_t *o = parse(body, len), *labels = NULL;
    const char *lbuf[LABELS_MAX];
    char **old_labels = NULL;
    size_t old_n = 0;
    cmn_txn *t = NULL;
    int64_t exp;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (o == NULL || get_labels(o, &labels) != 0) {
        fail(ret, 400, "bad request");
        goto out;
    }
    if ((rc = cmn_store_txn_begin(x->store, &t)) == 0)
        rc = own_client(t, x, reg_id, &c);
    if (rc == 0)
        rc = live_enrolment(t, x, &en);
    if (rc == 0)
        rc = get_expiry(o, x->now, c->expires,
                        min3(x->now + ENR_MEF_CLIENT_MAX_S, INT64_MAX, en->expires), &exp);
    if (rc == 0) {
        c->expires = exp;
        if (labels != NULL) { /* set_labels points into o; the unpacked ones are put back below */
            old_labels = c->labels;
            old_n = c->n_labels;
            set_labels(c, labels, lbuf);
        }
        rc = cmn_txn_put_msg(t, ENR_DB_MEF_CLIENTS, reg_id, strlen(reg_id), &c->base);
    }
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0)
        fail_rc(ret, rc,
                rc == CMN_ENOTFOUND ? "no such client registration" : "bad expirationTime");
    else
        reply(ret, 204, client_json(c));
    if (old_labels != NULL) {
        c->labels = old_labels;
        c->n_labels = old_n;
    }
out:
    cmn_txn_abort(t);
    enr_enrolment_free(en);
    if (c != NULL)
        tep__mef_client__free_unpacked(c, NULL);
    json_decref(o);
}

/* ---- keys ------------------------------------------------------------------------- */

int enr_mef_key_get(cmn_store *s, const char *key_id, Tep__MefKey **ret)
{
    return cmn_store_get_msg(s, ENR_DB_MEF_KEYS, key_id, strlen(key_id), &tep__mef_key__descriptor,
                             (ProtobufCMessage **)ret);
}

/* Marks k revoked and logs its KEY_DEREGISTERED (nothing when it already is). */
static int txn_revoke_key(cmn_txn *t, Tep__MefKey *k, int64_t now, enr_events *out)
{
    Tep__Event ev = TEP__EVENT__INIT;
    int rc;

    if (k->revoked)
        return 0;
    k->revoked = true;
    rc = cmn_txn_put_msg(t, ENR_DB_MEF_KEYS, k->key_id, strlen(k->key_id), &k->base);
    ev.kind = TEP__EVENT__KIND__KEY_DEREGISTERED;
    ev.ke_id = k->ke_id;
    ev.enrolee_id = k->enrolee_id;
    ev.kpm_id = k->kpm_id;
    ev.key_id = k->key_id;
    ev.time = now;
    return rc != 0 ? rc : enr_db_txn_log_event(t, &ev, out);
}

typedef struct {
    const char *reg_id;
    size_t n;
    Tep__MefKey *keys[KEYS_PER_CLIENT_MAX];
} client_keys;

static int collect_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    client_keys *ck = arg;
    Tep__MefKey *k = tep__mef_key__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (k == NULL)
        return CMN_ECORRUPT;
    if (strcmp(k->reg_id, ck->reg_id) != 0 || k->revoked || ck->n == KEYS_PER_CLIENT_MAX) {
        tep__mef_key__free_unpacked(k, NULL);
        return 0;
    }
    ck->keys[ck->n++] = k;
    return 0;
}

/* Revokes the keys of client registration reg_id and deletes it, in t. */
static int txn_drop_client(cmn_txn *t, const char *reg_id, int64_t now, enr_events *out)
{
    client_keys ck = {.reg_id = reg_id};
    int rc = cmn_txn_foreach(t, ENR_DB_MEF_KEYS, NULL, 0, collect_key, &ck);

    for (size_t i = 0; rc == 0 && i < ck.n; i++)
        rc = txn_revoke_key(t, ck.keys[i], now, out);
    for (size_t i = 0; i < ck.n; i++)
        tep__mef_key__free_unpacked(ck.keys[i], NULL);
    return rc != 0 ? rc : cmn_txn_del(t, ENR_DB_MEF_CLIENTS, reg_id, strlen(reg_id));
}

typedef struct {
    const char *kpm_id;
    size_t n;
    int64_t oldest_created;
    char oldest[80];
} client_count;

static int count_client(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    client_count *cc = arg;
    Tep__MefClient *c = tep__mef_client__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (c == NULL)
        return CMN_ECORRUPT;
    if (strcmp(c->kpm_id, cc->kpm_id) == 0) {
        if (cc->n++ == 0 || c->created < cc->oldest_created) {
            cc->oldest_created = c->created;
            snprintf(cc->oldest, sizeof(cc->oldest), "%s", c->reg_id);
        }
    }
    tep__mef_client__free_unpacked(c, NULL);
    return 0;
}

/* Room for one more client registration of the session enrolee: it holds at most
 * ENR_MEF_CLIENTS_MAX (expired ones count until de-registered), each a record in the
 * enroller's store that registering in a loop would pile up for everyone; at the cap its
 * oldest registration goes, its keys de-registered (the enrolee is never locked out). */
static int client_room(cmn_txn *t, const enr_mef_ctx *x, enr_events *out)
{
    client_count cc = {x->kpm_id, 0, 0, ""};
    int rc = cmn_txn_foreach(t, ENR_DB_MEF_CLIENTS, NULL, 0, count_client, &cc);

    if (rc != 0 || cc.n < ENR_MEF_CLIENTS_MAX)
        return rc;
    CMN_WARN("mef", "event=mef_client_replaced reason=too_many_clients max=%d",
             ENR_MEF_CLIENTS_MAX);
    return txn_drop_client(t, cc.oldest, x->now, out);
}

void enr_mef_client_deregister(const enr_mef_ctx *x, const char *reg_id, enr_mef_answer *ret)
{
    Tep__MefClient *c = NULL;
    cmn_txn *t = NULL;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if ((rc = cmn_store_txn_begin(x->store, &t)) == 0)
        rc = own_client(t, x, reg_id, &c);
    if (rc == CMN_EEXPIRED)
        rc = 0; /* an expired registration may still be removed */
    if (rc == 0)
        rc = txn_drop_client(t, reg_id, x->now, &ret->events);
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0) {
        memset(&ret->events, 0, sizeof(ret->events));
        fail_rc(ret, rc, "no such client registration");
    } else {
        ret->code = 202;
    }
    cmn_txn_abort(t);
    if (c != NULL)
        tep__mef_client__free_unpacked(c, NULL);
}

/* A target of an ESData key (SUID 24/25): an AE-ID as the MEF assigned it ("C..."/"S...",
 * what a MEF Handshake authenticates) or a CSE-ID "/name". */
static bool esdata_target_ok(const char *t)
{
    return strlen(t) <= 255 && (t[0] == 'C' || t[0] == 'S' || (t[0] == '/' && t[1] != '\0'));
}

/* suid 22..25 and exactly one target (8.3.5.2.7: one for SAEF and ESPrim; tep also for
 * ESData, the target entering Kuc, docs/keys.md item 22). SUIDs 22 (SAEF) and 23 (ESPrim)
 * name an Enrolment Target of this enroller, which gets the key over sync, or (23) an
 * AE-ID, the ESPrim Receiver; 24/25 (ESData) an AE-ID or CSE-ID; an AE or a CSE that is
 * no Enrolment Target fetches the key by MEF Key Retrieval. */
static const char *key_request(const enr_mef_ctx *x, json_t *o, unsigned *suid, const char **target,
                               unsigned *ret_code)
{
    json_t *s = json_object_get(o, "suid"), *l = json_object_get(o, "targetIDs");

    *ret_code = 400;
    if (!json_is_integer(s) || json_integer_value(s) < 22 || json_integer_value(s) > 25)
        return "suid must be 22..25 (RSPF-provisioned keys)";
    *suid = (unsigned)json_integer_value(s);
    if (!json_is_array(l) || json_array_size(l) != 1 ||
        (*target = json_string_value(json_array_get(l, 0))) == NULL || !cmn_kdf_id_valid(*target))
        return "targetIDs must hold exactly one identifier";
    if (json_string_value(json_object_get(o, "mefClientRegID")) == NULL)
        return "mefClientRegID missing";
    if (*suid >= ENR_MEF_SUID_ESDATA_ENC && !esdata_target_ok(*target))
        return "an ESData key's target is an AE-ID or a CSE-ID";
    *ret_code = 403;
    /* an ESPrim key (23) may name an AE as the Receiver, which fetches it (Key Retrieval) */
    if (*suid < ENR_MEF_SUID_ESDATA_ENC && enr_config_target_poa(x->cfg, *target) == NULL &&
        !(*suid == ENR_MEF_SUID_ESPRIM && ((*target)[0] == 'C' || (*target)[0] == 'S')))
        return "not an enrolment target of this MEF";
    return NULL;
}

static json_t *key_json(const Tep__MefKey *k)
{
    const char *at = strchr(k->key_id, '@');
    json_t *rel =
        json_stringn(k->key_id, at != NULL ? (size_t)(at - k->key_id) : strlen(k->key_id));

    return json_pack("{s:o,s:s,s:I,s:s,s:i,s:[s]}", "relativeKeyID", rel, "keyID", k->key_id,
                     "expirationTime", (json_int_t)k->expires, "sourceMefClientID", k->enrolee_id,
                     "suid", (int)k->suid, "targetIDs", k->target_id);
}

/* Kuc of en for (suid, target) and its Key Identifier. */
static int derive(const enr_mef_ctx *x, const Tep__Enrolment *en, unsigned suid, const char *target,
                  char key_id[CMN_KEY_ID_MAX])
{
    uint8_t kuc[CMN_KEY_LEN];
    int rc = en->ke.len == CMN_KEY_LEN ? cmn_kdf_kuc(en->ke.data, suid, target, kuc) : CMN_ECORRUPT;

    if (rc == 0)
        rc = cmn_kdf_kuc_id(kuc, x->cfg->mef_fqdn, key_id, CMN_KEY_ID_MAX);
    cmn_wipe(kuc, sizeof(kuc));
    return rc;
}

static int put_key(cmn_txn *t, const enr_mef_ctx *x, Tep__MefKey *k, enr_events *out)
{
    Tep__Event ev = TEP__EVENT__INIT;
    int rc = cmn_txn_put_msg(t, ENR_DB_MEF_KEYS, k->key_id, strlen(k->key_id), &k->base);

    ev.kind = TEP__EVENT__KIND__KEY_REGISTERED;
    ev.ke_id = k->ke_id;
    ev.enrolee_id = k->enrolee_id;
    ev.kpm_id = k->kpm_id;
    ev.key_id = k->key_id;
    ev.time = x->now;
    return rc != 0 ? rc : enr_db_txn_log_event(t, &ev, out);
}

void enr_mef_key_register(const enr_mef_ctx *x, const uint8_t *body, size_t len,
                          enr_mef_answer *ret)
{
    Tep__MefKey k = TEP__MEF_KEY__INIT;
    Tep__MefClient *c = NULL;
    Tep__Enrolment *en = NULL;
    json_t *o = parse(body, len);
    const char *why = "bad request", *target = NULL;
    char key_id[CMN_KEY_ID_MAX];
    cmn_txn *t = NULL;
    unsigned suid = 0, code = 400;
    int64_t exp;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (o == NULL) {
        fail(ret, 400, why);
        goto out;
    }
    if ((why = key_request(x, o, &suid, &target, &code)) != NULL) {
        fail(ret, code, why);
        goto out;
    }
    if ((rc = cmn_store_txn_begin(x->store, &t)) == 0)
        rc = own_client(t, x, json_string_value(json_object_get(o, "mefClientRegID")), &c);
    if (rc == CMN_ENOTFOUND)
        rc = CMN_EDENIED; /* 8.3.5.2.7: the source registered first */
    if (rc == 0)
        rc = live_enrolment(t, x, &en);
    if (rc == 0)
        rc = get_expiry(o, x->now, x->now + ENR_MEF_KEY_DEFAULT_S,
                        min3(x->now + ENR_MEF_KEY_MAX_S, c->expires, en->expires), &exp);
    if (rc == 0)
        rc = derive(x, en, suid, target, key_id);
    if (rc == 0) {
        k.key_id = key_id;
        k.reg_id = c->reg_id;
        k.kpm_id = (char *)x->kpm_id;
        k.ke_id = en->ke_id;
        k.enrolee_id = en->enrolee_id;
        k.suid = suid;
        k.target_id = (char *)target;
        k.expires = exp;
        k.created = x->now;
        rc = put_key(t, x, &k, &ret->events);
    }
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0) {
        memset(&ret->events, 0, sizeof(ret->events));
        fail_rc(ret, rc, "bad expirationTime");
    } else {
        reply(ret, 201, key_json(&k));
    }
out:
    cmn_txn_abort(t);
    enr_enrolment_free(en);
    if (c != NULL)
        tep__mef_client__free_unpacked(c, NULL);
    json_decref(o);
}

/* The key relativeKeyID rel_id of this session's enrolee, not revoked. */
static int own_key(cmn_txn **t, const enr_mef_ctx *x, const char *rel_id, Tep__MefKey **ret)
{
    char key_id[CMN_KEY_ID_MAX];
    int rc;

    *ret = NULL;
    if ((size_t)snprintf(key_id, sizeof(key_id), "%s@%s", rel_id, x->cfg->mef_fqdn) >=
            sizeof(key_id) ||
        !cmn_kdf_is_key_id(key_id))
        return CMN_ENOTFOUND;
    if ((rc = cmn_store_txn_begin(x->store, t)) == 0)
        rc = cmn_txn_get_msg(*t, ENR_DB_MEF_KEYS, key_id, strlen(key_id), &tep__mef_key__descriptor,
                             (ProtobufCMessage **)ret);
    if (rc == 0 && strcmp((*ret)->kpm_id, x->kpm_id) != 0)
        rc = CMN_ENOTFOUND; /* only its source changes a key */
    return rc;
}

void enr_mef_key_update(const enr_mef_ctx *x, const char *rel_id, const uint8_t *body, size_t len,
                        enr_mef_answer *ret)
{
    Tep__MefClient *c = NULL;
    Tep__Enrolment *en = NULL;
    Tep__MefKey *k = NULL;
    json_t *o = parse(body, len);
    cmn_txn *t = NULL;
    int64_t exp;
    int rc;

    memset(ret, 0, sizeof(*ret));
    if (o == NULL || json_object_get(o, "expirationTime") == NULL ||
        json_object_get(o, "targetIDs") != NULL) {
        fail(ret, 400, "expirationTime only (a key has its one target)");
        goto out;
    }
    rc = own_key(&t, x, rel_id, &k);
    if (rc == 0 && k->revoked)
        rc = CMN_ENOTFOUND;
    if (rc == 0 && (rc = own_client(t, x, k->reg_id, &c)) == CMN_ENOTFOUND)
        rc = CMN_EDENIED; /* its client registration is gone */
    if (rc == 0)
        rc = live_enrolment(t, x, &en);
    if (rc == 0 && strcmp(en->ke_id, k->ke_id) != 0)
        rc = CMN_EDENIED; /* made under an enrolment that is no longer current */
    if (rc == 0)
        rc = get_expiry(o, x->now, k->expires,
                        min3(x->now + ENR_MEF_KEY_MAX_S, c->expires, en->expires), &exp);
    if (rc == 0) {
        k->expires = exp;
        rc = put_key(t, x, k, &ret->events);
    }
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0) {
        memset(&ret->events, 0, sizeof(ret->events));
        fail_rc(ret, rc, rc == CMN_ENOTFOUND ? "no such key" : "bad expirationTime");
    } else {
        reply(ret, 204, key_json(k));
    }
out:
    cmn_txn_abort(t);
    enr_enrolment_free(en);
    if (c != NULL)
        tep__mef_client__free_unpacked(c, NULL);
    if (k != NULL)
        tep__mef_key__free_unpacked(k, NULL);
    json_decref(o);
}

void enr_mef_key_deregister(const enr_mef_ctx *x, const char *rel_id, enr_mef_answer *ret)
{
    Tep__MefKey *k = NULL;
    cmn_txn *t = NULL;
    int rc;

    memset(ret, 0, sizeof(*ret));
    rc = own_key(&t, x, rel_id, &k);
    if (rc == 0)
        rc = txn_revoke_key(t, k, x->now, &ret->events);
    if (rc == 0)
        rc = commit(&t);
    if (rc != 0) {
        memset(&ret->events, 0, sizeof(ret->events));
        fail_rc(ret, rc, "no such key");
    } else {
        ret->code = 202;
    }
    cmn_txn_abort(t);
    if (k != NULL)
        tep__mef_key__free_unpacked(k, NULL);
}

/* ---- MEF Key Retrieval (8.3.5.2.8) ------------------------------------------------- */

/* The answer's JSON; Kuc is spliced in as text so that no JSON value holding it is
 * freed unwiped (only the returned body holds it). */
static char *retrieved_body(const Tep__MefKey *k, const char *admin, const uint8_t kuc[CMN_KEY_LEN])
{
    json_t *o = json_pack("{s:s,s:i,s:I,s:s,s:s,s:[s]}", "keyID", k->key_id, "suid", (int)k->suid,
                          "expirationTime", (json_int_t)k->expires, "sourceMefClientID",
                          k->enrolee_id, "adminFQDN", admin, "targetIDs", k->target_id);
    char *meta = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL, *s = NULL;
    size_t n = meta != NULL ? strlen(meta) + 2 * CMN_KEY_LEN + 16 : 0;

    json_decref(o);
    if (meta != NULL && meta[0] == '{' && (s = malloc(n)) != NULL) {
        memcpy(s, "{\"keyValue\":\"", 13);
        cmn_hex_encode(kuc, CMN_KEY_LEN, s + 13);
        snprintf(s + 13 + 2 * CMN_KEY_LEN, n - 13 - 2 * CMN_KEY_LEN, "\",%s", meta + 1);
    }
    free(meta);
    return s;
}

/* The key the source registered, still valid: not de-registered, not expired, its
 * source's enrolment neither revoked nor expired nor replaced (the key ends with the
 * enrolment it comes from, 10.7). Kuc into kuc. */
static int live_key(cmn_txn *t, const enr_mef_ctx *x, const Tep__MefKey *k,
                    uint8_t kuc[CMN_KEY_LEN])
{
    Tep__Enrolment *src = NULL;
    char cur[CMN_KEY_ID_MAX], key_id[CMN_KEY_ID_MAX];
    int rc;

    if (k->revoked || k->expires <= x->now)
        return CMN_ENOTFOUND;
    rc = cmn_txn_get_msg(t, ENR_DB_ENROLMENTS, k->ke_id, strlen(k->ke_id),
                         &tep__enrolment__descriptor, (ProtobufCMessage **)&src);
    if (rc == 0 && (src->revoked || (src->expires != 0 && src->expires <= x->now)))
        rc = CMN_ENOTFOUND;
    if (rc == 0 && (rc = enr_db_txn_current_ke_id(t, src->kpm_id, cur)) == 0 &&
        strcmp(cur, k->ke_id) != 0)
        rc = CMN_ENOTFOUND; /* re-enrolled: a new Ke, the old keys are gone */
    if (rc == 0)
        rc = src->ke.len == CMN_KEY_LEN ? cmn_kdf_kuc(src->ke.data, k->suid, k->target_id, kuc)
                                        : CMN_ECORRUPT;
    if (rc == 0 && (rc = cmn_kdf_kuc_id(kuc, x->cfg->mef_fqdn, key_id, sizeof(key_id))) == 0 &&
        strcmp(key_id, k->key_id) != 0)
        rc = CMN_ECORRUPT;
    enr_enrolment_free(src);
    return rc;
}

void enr_mef_key_retrieve(const enr_mef_ctx *x, const char *rel_id, enr_mef_answer *ret)
{
    Tep__Enrolment *me = NULL;
    Tep__MefClient *c = NULL;
    Tep__MefKey *k = NULL;
    char key_id[CMN_KEY_ID_MAX];
    uint8_t kuc[CMN_KEY_LEN];
    cmn_txn *t = NULL;
    int rc = CMN_ENOTFOUND;

    memset(ret, 0, sizeof(*ret));
    if ((size_t)snprintf(key_id, sizeof(key_id), "%s@%s", rel_id, x->cfg->mef_fqdn) <
            sizeof(key_id) &&
        cmn_kdf_is_key_id(key_id) && (rc = cmn_store_txn_begin(x->store, &t)) == 0)
        rc = live_enrolment(t, x, &me); /* the target's own MEF session, enrolment live */
    if (rc == 0)
        rc = cmn_txn_get_msg(t, ENR_DB_MEF_KEYS, key_id, strlen(key_id), &tep__mef_key__descriptor,
                             (ProtobufCMessage **)&k);
    if (rc == 0 && strcmp(k->target_id, me->enrolee_id) != 0)
        rc = CMN_EDENIED; /* 8.3.5.2.8: only an authorized Target MEF Client */
    if (rc == 0)
        rc = live_key(t, x, k, kuc);
    if (rc == 0 && cmn_txn_get_msg(t, ENR_DB_MEF_CLIENTS, k->reg_id, strlen(k->reg_id),
                                   &tep__mef_client__descriptor, (ProtobufCMessage **)&c) != 0)
        c = NULL;
    if (rc == 0 &&
        (ret->body = retrieved_body(k, c != NULL ? c->admin_fqdn : x->cfg->mef_fqdn, kuc)) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0)
        ret->code = 205;
    else if (rc == CMN_EDENIED && me != NULL)
        fail(ret, 403, "not a target of the key");
    else if (rc == CMN_ENOTFOUND && me != NULL)
        fail(ret, 404, "no such key");
    else
        fail_rc(ret, rc, "no such key");
    cmn_wipe(kuc, sizeof(kuc));
    cmn_txn_abort(t);
    enr_enrolment_free(me);
    if (c != NULL)
        tep__mef_client__free_unpacked(c, NULL);
    if (k != NULL)
        tep__mef_key__free_unpacked(k, NULL);
}
