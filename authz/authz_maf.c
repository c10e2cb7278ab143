/* The MAF's registrations and key retrieval (see authz_maf.h). Packed MafKey records
 * and retrieved credentials hold Kc: every buffer that held one is wiped when freed. */
#include "authz_maf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_creds.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

#define REG_ID_BYTES 8

/* ---- helpers ------------------------------------------------------------------------ */

static void answer(authz_maf_answer *ret, unsigned code, const char *reason)
{
    ret->code = code;
    ret->reason = reason;
    if (code != 201) {
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

static int put_packed(cmn_store *st, const char *db, const char *key, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    int rc;

    if (buf == NULL)
        return CMN_ENOMEM;
    protobuf_c_message_pack(m, buf);
    rc = cmn_store_put(st, db, key, strlen(key), buf, len);
    cmn_free_secret(buf, len);
    return rc;
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

/* ---- MAF Client Registration (8.8.2.3) ---------------------------------------------- */

static char *client_body(const Tep__MafClient *c)
{
    json_t *o = json_pack("{s:s,s:I,s:s}", "mafClientRegID", c->reg_id, "expirationTime",
                          (json_int_t)c->expires, "assignedSymmKeyID", c->km_id);
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

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
    char reg_id[2 * REG_ID_BYTES + 1];
    json_t *o = parse_body(body, len);
    const char *fqdn = json_string_value(json_object_get(o, "mafFQDN"));

    memset(ret, 0, sizeof(*ret));
    if (o == NULL || expiry(o, now, AUTHZ_MAF_CLIENT_LT_MAX, AUTHZ_MAF_CLIENT_LT_MAX,
                            s->expires, &c.expires) != 0)
        answer(ret, 400, "malformed client registration");
    else if (json_object_get(o, "mafFQDN") != NULL && (fqdn == NULL || strcmp(fqdn, maf_fqdn)))
        answer(ret, 400, "mafFQDN names another MAF");
    else if (new_reg_id(reg_id) != 0)
        answer(ret, 500, "no random");
    json_decref(o);
    if (ret->code != 0)
        return;
    c.reg_id = reg_id;
    c.km_id = (char *)s->km_id;
    c.enrolee_id = (char *)s->enrolee_id;
    c.registered = now;
    if (put_packed(st, AUTHZ_MAF_CLIENTS_DB, s->km_id, &c.base) != 0)
        answer(ret, 500, "store failure");
    else if ((ret->body = client_body(&c)) == NULL)
        answer(ret, 500, "no memory");
    else
        answer(ret, 201, "client registered");
}

/* ---- MAF Key Registration (8.8.2.5) ------------------------------------------------- */

/* targetIDs: 1..AUTHZ_MAF_TARGETS_MAX CSE-IDs ("/name"). */
static int parse_targets(json_t *o, const char **ret, size_t *ret_n)
{
    json_t *list = json_object_get(o, "targetIDs"), *v;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > AUTHZ_MAF_TARGETS_MAX)
        return CMN_EINVAL;
    json_array_foreach(list, i, v) {
        const char *t = json_string_value(v);

        if (t == NULL || t[0] != '/' || t[1] == '\0' || strlen(t) > 255)
            return CMN_EINVAL;
        ret[i] = t;
    }
    *ret_n = json_array_size(list);
    return 0;
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

/* Checks the request; fills k's targets, suid and expires (bounded by the client).
 * Returns 0, or the CoAP code of the refusal with *ret_why. */
static unsigned check_key_request(cmn_store *st, const authz_maf_session *s, json_t *o,
                                  int64_t now, Tep__MafKey *k, const char **targets,
                                  const char **ret_why)
{
    Tep__MafClient *c = NULL;
    json_t *suid = json_object_get(o, "suid");
    unsigned code;

    *ret_why = "malformed key registration";
    if (o == NULL || parse_targets(o, targets, &k->n_targets) != 0 ||
        expiry(o, now, AUTHZ_MAF_KEY_LT, AUTHZ_MAF_KEY_LT_MAX, s->expires, &k->expires) != 0)
        return 400;
    if (suid != NULL && (!json_is_integer(suid) || json_integer_value(suid) != AUTHZ_MAF_SUID_KC)) {
        *ret_why = "unsupported suid";
        return 400;
    }
    code = 403;
    if (get_client(st, s->km_id, &c) != 0 || strcmp(c->enrolee_id, s->enrolee_id) != 0) {
        *ret_why = "no client registration";
    } else if (c->expires != 0 && c->expires <= now) {
        *ret_why = "client registration expired";
    } else {
        k->expires = min_nonzero(k->expires, c->expires);
        code = 0;
    }
    tep__maf_client__free_unpacked(c, NULL);
    return code;
}

void authz_maf_key_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const uint8_t exporter[CMN_EXPORTER_LEN], const char *body,
                            size_t len, int64_t now, authz_maf_answer *ret)
{
    Tep__MafKey k = TEP__MAF_KEY__INIT;
    const char *targets[AUTHZ_MAF_TARGETS_MAX];
    uint8_t rel_id[CMN_REL_ID_LEN], kc[CMN_KEY_LEN];
    char rel_hex[2 * CMN_REL_ID_LEN + 1];
    json_t *o = parse_body(body, len);
    const char *why = NULL;
    unsigned refused = check_key_request(st, s, o, now, &k, targets, &why);

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
    k.suid = AUTHZ_MAF_SUID_KC;
    k.source_id = (char *)s->enrolee_id;
    k.km_id = (char *)s->km_id;
    k.targets = (char **)targets;
    k.created = now;
    if (put_packed(st, AUTHZ_MAF_KEYS_DB, k.key_id, &k.base) != 0)
        answer(ret, 500, "store failure");
    else if ((ret->body = key_body(&k, rel_hex)) == NULL)
        answer(ret, 500, "no memory");
    else
        answer(ret, 201, "key registered");
out:
    cmn_wipe(kc, sizeof(kc));
    json_decref(o);
}

/* ---- MAF Key Retrieval (8.8.2.6) ---------------------------------------------------- */

/* The source's Km credential (its enrolment) must still be live: revoking or expiring
 * an enrolment ends the keys registered with it (10.7). */
static bool source_live(cmn_store *st, const char *km_id, int64_t now, char *ret_ke_id,
                        size_t len_ke_id)
{
    void *val = NULL;
    size_t len = 0;
    Tep__Credential *c = NULL;
    bool live = false;

    if (cmn_store_get(st, AUTHZ_CREDS_DB, km_id, strlen(km_id), &val, &len) == 0 &&
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
    if (rc == 0 && (k->kc.len != CMN_KEY_LEN || k->source_id == NULL))
        rc = CMN_ECORRUPT;
    if (rc == 0 && ((k->expires != 0 && k->expires <= now) || !source_live(st, k->km_id, now, ke_id, sizeof(ke_id))))
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

int authz_maf_publish(cmn_bus_sock *pub, cmn_store *st, const char *key_id, const char *sender)
{
    Tep__MafKey *k = NULL;
    Tep__KeyEvent ev = TEP__KEY_EVENT__INIT;
    Tep__Envelope env;
    int rc = get_key(st, key_id, &k);

    if (rc != 0)
        return rc;
    ev.key_id = k->key_id;
    ev.n_target_ids = k->n_targets;
    ev.target_ids = k->targets;
    ev.expires = k->expires;
    cmn_bus_env_init(&env, sender, 0);
    env.body_case = TEP__ENVELOPE__BODY_KEY_EVENT;
    env.key_event = &ev;
    rc = cmn_bus_send(pub, NULL, 0, &env);
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
    if (k->expires == 0 || k->expires > ctx[0])
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
