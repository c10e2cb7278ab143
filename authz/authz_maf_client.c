/* MAF Client Registration, Registration Update and De-Registration (TS-0003 8.8.2.3,
 * 8.8.2.5, 8.8.2.6; authz_maf.h). */
#include "authz_maf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

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

static int new_reg_id(char ret[2 * AUTHZ_MAF_REG_ID_BYTES + 1])
{
    uint8_t rnd[AUTHZ_MAF_REG_ID_BYTES];
    int rc = cmn_random(rnd, sizeof(rnd));

    if (rc == 0)
        cmn_hex_encode(rnd, sizeof(rnd), ret);
    return rc;
}

void authz_maf_client_register(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                               const char *body, size_t len, int64_t now, authz_maf_answer *ret)
{
    Tep__MafClient c = TEP__MAF_CLIENT__INIT;
    char reg_id[2 * AUTHZ_MAF_REG_ID_BYTES + 1], kbuf[CMN_KEY_ID_MAX + 8], *labels = NULL;
    json_t *o = authz_maf_parse_body(body, len);
    const char *fqdn = json_string_value(json_object_get(o, "mafFQDN"));
    const char *key = authz_maf_client_key(s, kbuf, sizeof(kbuf));

    memset(ret, 0, sizeof(*ret));
    if (o == NULL ||
        authz_maf_expiry(o, now, AUTHZ_MAF_CLIENT_LT_MAX, AUTHZ_MAF_CLIENT_LT_MAX, s->expires,
                         &c.expires) != 0 ||
        authz_maf_parse_labels(o, &labels) != 0)
        authz_maf_reply(ret, AUTHZ_MAF_BAD_REQUEST, "malformed client registration");
    else if (json_object_get(o, "mafFQDN") != NULL && (fqdn == NULL || strcmp(fqdn, maf_fqdn)))
        authz_maf_reply(ret, AUTHZ_MAF_BAD_REQUEST, "mafFQDN names another MAF");
    else if (new_reg_id(reg_id) != 0)
        authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "no random");
    json_decref(o);
    if (ret->code == 0) {
        c.reg_id = reg_id;
        c.km_id = (char *)s->km_id;
        c.enrolee_id = (char *)s->enrolee_id;
        c.registered = now;
        if (authz_maf_put_with_labels(st, AUTHZ_MAF_CLIENTS_DB, key, &c.base, 'c', reg_id,
                                      labels != NULL ? labels : "[]") != 0)
            authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "store failure");
        else if ((ret->body = client_body(&c, labels)) == NULL)
            authz_maf_reply(ret, AUTHZ_MAF_INTERNAL, "no memory");
        else
            authz_maf_reply(ret, AUTHZ_MAF_CREATED, "client registered");
    }
    free(labels);
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

/* The session's own client registration named reg_id: 0 with *ret_client, or the
 * refusal (404 nobody's, 403 someone else's or expired when live is asked for) with
 * *ret_why. */
static unsigned own_client(cmn_store *st, const authz_maf_session *s, const char *reg_id, bool live,
                           int64_t now, Tep__MafClient **ret_client, const char **ret_why)
{
    char kbuf[CMN_KEY_ID_MAX + 8];
    reg_search rs = {reg_id, false};
    Tep__MafClient *c = NULL;
    unsigned code = 0;

    *ret_client = NULL;
    if (reg_id == NULL || strlen(reg_id) != 2 * AUTHZ_MAF_REG_ID_BYTES ||
        strspn(reg_id, "0123456789abcdef") != 2 * AUTHZ_MAF_REG_ID_BYTES) {
        *ret_why = "malformed mafClientRegID";
        code = AUTHZ_MAF_BAD_REQUEST;
        goto out;
    }
    if (authz_maf_get_client(st, authz_maf_client_key(s, kbuf, sizeof(kbuf)), &c) == 0 &&
        strcmp(c->reg_id, reg_id) == 0 && strcmp(c->enrolee_id, s->enrolee_id) == 0) {
        if (live && c->expires != 0 && c->expires <= now) {
            *ret_why = "client registration expired";
            code = AUTHZ_MAF_FORBIDDEN;
            goto out;
        }
        *ret_client = c;
        c = NULL;
        goto out;
    }
    if (cmn_store_foreach(st, AUTHZ_MAF_CLIENTS_DB, NULL, 0, match_reg, &rs) != 0) {
        *ret_why = "store failure";
        code = AUTHZ_MAF_INTERNAL;
    } else {
        *ret_why = rs.found ? "not this client's registration" : "unknown client registration";
        code = rs.found ? AUTHZ_MAF_FORBIDDEN : AUTHZ_MAF_NOT_FOUND;
    }
out:
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    return code;
}

void authz_maf_client_update(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                             const char *reg_id, const char *body, size_t len, int64_t now,
                             authz_maf_answer *ret)
{
    static const char *const allowed[] = {"expirationTime", "labels", "mafFQDN", NULL};
    Tep__MafClient *c = NULL;
    json_t *o = authz_maf_parse_body(body, len);
    char kbuf[CMN_KEY_ID_MAX + 8], *labels = NULL, **keys = NULL;
    const char *ckey;
    size_t n_keys = 0;
    const char *why = "malformed client registration update";
    unsigned code = 0;
    int64_t expires = 0;
    cmn_txn *t = NULL;

    memset(ret, 0, sizeof(*ret));
    if (!authz_maf_update_members_ok(o, allowed) || authz_maf_parse_labels(o, &labels) != 0 ||
        !authz_maf_fqdn_ok(o, maf_fqdn) ||
        authz_maf_expiry(o, now, AUTHZ_MAF_CLIENT_LT_MAX, AUTHZ_MAF_CLIENT_LT_MAX, s->expires,
                         &expires) != 0)
        code = AUTHZ_MAF_BAD_REQUEST;
    else
        code = own_client(st, s, reg_id, true, now, &c, &why);
    if (code != 0)
        goto refused;
    if (json_object_get(o, "expirationTime") != NULL)
        c->expires = expires;
    /* keys never outlive their client registration */
    if (authz_maf_client_keys(st, s, now, &keys, &n_keys) != 0 || cmn_store_txn_begin(st, &t) != 0)
        goto failed;
    for (size_t i = 0; i < n_keys; i++) {
        Tep__MafKey *k = NULL;

        if (authz_maf_txn_get_key(t, keys[i], &k) != 0)
            goto failed;
        if (c->expires != 0 && (k->expires == 0 || k->expires > c->expires) &&
            authz_maf_txn_change_key(t, keys[i], now, c->expires) != 0) {
            authz_maf_key_free(k);
            goto failed;
        }
        if (c->expires != 0 && (k->expires == 0 || k->expires > c->expires)) {
            ret->gone = ret->gone != NULL ? ret->gone : calloc(n_keys, sizeof(char *));
            if (ret->gone == NULL || (ret->gone[ret->n_gone] = strdup(keys[i])) == NULL) {
                authz_maf_key_free(k);
                goto failed;
            }
            ret->n_gone++;
        }
        authz_maf_key_free(k);
    }
    ckey = authz_maf_client_key(s, kbuf, sizeof(kbuf));
    if (cmn_txn_put_msg(t, AUTHZ_MAF_CLIENTS_DB, ckey, strlen(ckey), &c->base) != 0)
        goto failed;
    if (labels != NULL) {
        char lk[CMN_KEY_ID_MAX + 64];

        authz_maf_labels_key('c', c->reg_id, lk, sizeof(lk));
        if (cmn_txn_put(t, AUTHZ_MAF_LABELS_DB, lk, strlen(lk), labels, strlen(labels)) != 0)
            goto failed;
    }
    if (cmn_txn_commit(t) != 0) {
        t = NULL;
        goto failed;
    }
    t = NULL;
    if ((ret->body = authz_maf_update_body(o, c->expires, NULL, 0, labels)) == NULL)
        goto failed;
    authz_maf_reply(ret, AUTHZ_MAF_CHANGED, "client registration updated");
    goto out;
failed:
    cmn_txn_abort(t);
    code = AUTHZ_MAF_INTERNAL;
    why = "store failure";
refused:
    authz_maf_answer_clear(ret);
    authz_maf_reply(ret, code, why);
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
    const char *ck = authz_maf_client_key(s, kbuf, sizeof(kbuf));
    const char *why = NULL;
    unsigned code;
    cmn_txn *t = NULL;
    int rc = 0;

    memset(ret, 0, sizeof(*ret));
    if ((code = own_client(st, s, reg_id, false, now, &c, &why)) != 0)
        goto out;
    authz_maf_labels_key('c', c->reg_id, lk, sizeof(lk));
    rc = authz_maf_client_keys(st, s, now, &ret->gone, &ret->n_gone);
    if (rc == 0)
        rc = cmn_store_txn_begin(st, &t);
    for (size_t i = 0; rc == 0 && i < ret->n_gone; i++)
        rc = authz_maf_txn_change_key(t, ret->gone[i], now, 0);
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
    code = rc == 0 ? AUTHZ_MAF_DELETED : AUTHZ_MAF_INTERNAL;
    why = rc == 0 ? "client de-registered" : "store failure";
out:
    cmn_txn_abort(t);
    if (c != NULL)
        tep__maf_client__free_unpacked(c, NULL);
    if (code != AUTHZ_MAF_DELETED)
        authz_maf_answer_clear(ret);
    authz_maf_reply(ret, code, why);
}
