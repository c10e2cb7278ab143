/* Token issuing, the DAS answer and the revocation list (see authz_tokens.h). */
#include "authz_tokens.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"
#include "cmn_jws.h"
#include "cmn_token.h"

#define KEY_NAME "es256"
#define RIS_MAX 8
#define ID_MAX 256
#define NBF_AHEAD_MAX 86400

struct authz_tokens {
    cmn_store *store;
    authz_tokens_cfg cfg;
    const authz_grants *grants;
    uint8_t priv[CMN_ES256_PRIV_LEN];
    uint8_t pub[CMN_ES256_PUB_LEN];
    char pub_hex[2 * CMN_ES256_PUB_LEN + 1];
};

/* ---- signing key ------------------------------------------------------------------ */

static int load_key(authz_tokens *t)
{
    void *val = NULL;
    size_t len = 0;
    Tep__TokenSigningKey *k;
    int rc = cmn_store_get(t->store, AUTHZ_TOKEN_KEY_DB, KEY_NAME, strlen(KEY_NAME), &val, &len);

    if (rc != 0)
        return rc;
    k = tep__token_signing_key__unpack(NULL, len, val);
    cmn_store_free_val(val, len);
    rc = CMN_ECORRUPT;
    if (k != NULL && k->priv.len == CMN_ES256_PRIV_LEN && k->pub.len == CMN_ES256_PUB_LEN &&
        cmn_es256_check_pub(k->pub.data) == 0) {
        memcpy(t->priv, k->priv.data, CMN_ES256_PRIV_LEN);
        memcpy(t->pub, k->pub.data, CMN_ES256_PUB_LEN);
        rc = 0;
    }
    if (k != NULL) {
        cmn_wipe(k->priv.data, k->priv.len);
        tep__token_signing_key__free_unpacked(k, NULL);
    }
    return rc;
}

static int create_key(authz_tokens *t, int64_t now)
{
    Tep__TokenSigningKey k = TEP__TOKEN_SIGNING_KEY__INIT;
    uint8_t buf[160];
    size_t len;
    int rc = cmn_es256_keygen(t->priv, t->pub);

    if (rc != 0)
        return rc;
    k.priv = (ProtobufCBinaryData){CMN_ES256_PRIV_LEN, t->priv};
    k.pub = (ProtobufCBinaryData){CMN_ES256_PUB_LEN, t->pub};
    k.created = now;
    len = tep__token_signing_key__get_packed_size(&k);
    if (len > sizeof(buf))
        return CMN_ERANGE;
    tep__token_signing_key__pack(&k, buf);
    rc = cmn_store_put(t->store, AUTHZ_TOKEN_KEY_DB, KEY_NAME, strlen(KEY_NAME), buf, len);
    cmn_wipe(buf, sizeof(buf));
    return rc;
}

/* Written atomically, 0644: it is public. */
static int write_pub_file(const authz_tokens *t)
{
    char path[4096], line[256];
    int n = snprintf(line, sizeof(line), "%s\n", t->pub_hex);

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->cfg.data_dir, AUTHZ_TOKEN_PUB_FILE) >=
            sizeof(path) ||
        n < 0 || (size_t)n >= sizeof(line))
        return CMN_ERANGE;
    return cmn_file_write_atomic(path, line, (size_t)n, 0644, 0);
}

int authz_tokens_open(cmn_store *store, const authz_tokens_cfg *cfg, const authz_grants *grants,
                      authz_tokens **ret)
{
    authz_tokens *t = calloc(1, sizeof(*t));
    int rc;

    *ret = NULL;
    if (t == NULL)
        return CMN_ENOMEM;
    t->store = store;
    t->cfg = *cfg;
    t->grants = grants;
    rc = load_key(t);
    if (rc == CMN_ENOTFOUND)
        rc = create_key(t, (int64_t)time(NULL));
    if (rc == 0) {
        cmn_hex_encode(t->pub, CMN_ES256_PUB_LEN, t->pub_hex);
        rc = write_pub_file(t);
    }
    if (rc != 0) {
        authz_tokens_free(t);
        return rc;
    }
    *ret = t;
    return 0;
}

void authz_tokens_free(authz_tokens *t)
{
    if (t != NULL)
        cmn_free_secret(t, sizeof(*t));
}

void authz_tokens_set_grants(authz_tokens *t, const authz_grants *grants)
{
    t->grants = grants;
}

const char *authz_tokens_pub_hex(const authz_tokens *t)
{
    return t->pub_hex;
}

/* ---- POST /token ----------------------------------------------------------------- */

typedef struct {
    const char *aud; /* SP-relative CSE-ID "/tep-cse" */
    const char *ris[RIS_MAX];
    size_t n_ris;
    uint32_t acop;
    int64_t lt;  /* asked lifetime, 0 = the grant's */
    int64_t nbf; /* asked notBefore, 0 = now */
} token_ask;

static bool valid_cse_id(const char *s)
{
    return s != NULL && s[0] == '/' && s[1] != '\0' && strchr(s + 1, '/') == NULL &&
           strlen(s) < 128;
}

static const char *parse_ask(json_t *root, token_ask *a)
{
    json_t *ris = json_object_get(root, "ris"), *v;
    json_int_t acop = json_integer_value(json_object_get(root, "acop"));
    json_t *lt = json_object_get(root, "lt");
    size_t i;

    a->aud = json_string_value(json_object_get(root, "aud"));
    if (!valid_cse_id(a->aud))
        return "aud must be an SP-relative CSE-ID";
    if (!json_is_array(ris) || json_array_size(ris) == 0 || json_array_size(ris) > RIS_MAX)
        return "ris must be 1..8 target paths";
    json_array_foreach(ris, i, v) {
        a->ris[i] = json_string_value(v);
        if (a->ris[i] == NULL || a->ris[i][0] != '/' || strlen(a->ris[i]) > ID_MAX)
            return "ris entries must be structured paths";
        if (strstr(a->ris[i], "**") != NULL) /* means no more than '*': an attack's shape */
            return "ris entries may not hold a run of '*'";
    }
    a->n_ris = json_array_size(ris);
    if (acop < 1 || acop > 63)
        return "acop must be 1..63";
    a->acop = (uint32_t)acop;
    if (lt != NULL && (!json_is_integer(lt) || json_integer_value(lt) < 1))
        return "lt must be a positive integer";
    a->lt = lt != NULL ? json_integer_value(lt) : 0;
    a->nbf = json_integer_value(json_object_get(root, "nbf"));
    if (json_object_get(root, "nbf") != NULL &&
        (!json_is_integer(json_object_get(root, "nbf")) || a->nbf < 1))
        return "nbf must be a Unix time";
    return NULL;
}

/* Every ris must be covered by a grant; the lifetime is the shortest of them. */
static int granted_lifetime(const authz_tokens *t, const char *holder_ae, const token_ask *a,
                            int64_t *ret)
{
    int64_t lt = a->lt, g;

    for (size_t i = 0; i < a->n_ris; i++) {
        if (authz_grants_find(t->grants, holder_ae, a->ris[i], a->acop, &g) < 0)
            return CMN_EDENIED;
        if (lt == 0 || g < lt)
            lt = g;
    }
    *ret = lt;
    return 0;
}

static json_t *permissions(const token_ask *a, const char *holder)
{
    json_t *ris = json_array();

    for (size_t i = 0; ris != NULL && i < a->n_ris; i++)
        json_array_append_new(ris, json_string(a->ris[i]));
    return json_pack("{s:[{s:o,s:{s:[{s:[s],s:i}]}}]}", "pm", "ris", ris, "pv", "acr", "acor",
                     holder, "acop", (json_int_t)a->acop);
}

static int new_token_id(const authz_tokens *t, char *ret, size_t len)
{
    uint8_t rnd[12];
    char hex[sizeof(rnd) * 2 + 1];

    if (cmn_random(rnd, sizeof(rnd)) != 0)
        return CMN_ECRYPTO;
    cmn_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(ret, len, "%s@%s", hex, t->cfg.issuer);
    return 0;
}

static void sign_answer(authz_tokens *t, const token_ask *a, const char *holder, int64_t now,
                        int64_t lt, authz_token_answer *ret)
{
    char aud[ID_MAX];
    const char *auds[1] = {aud};
    json_t *tkps = permissions(a, holder);
    cmn_token_claims c = {.tkid = ret->tkid,
                          .issuer = t->cfg.issuer,
                          .holder = holder,
                          .not_before = now,
                          .not_after = now + lt,
                          .audience = auds,
                          .n_audience = 1,
                          .name = "tep",
                          .permissions = tkps};
    char *jwt = NULL;
    json_t *body;

    snprintf(aud, sizeof(aud), "//%s%s", t->cfg.sp_id, a->aud);
    ret->code = 500;
    ret->reason = "signing failed";
    if (tkps == NULL || new_token_id(t, ret->tkid, sizeof(ret->tkid)) != 0 ||
        cmn_token_issue(&c, t->priv, t->pub, &jwt) != 0)
        goto out;
    ret->reason = "store failed"; /* kept for tids look-ups before it is handed out */
    if (cmn_store_put(t->store, AUTHZ_ISSUED_DB, ret->tkid, strlen(ret->tkid), jwt, strlen(jwt)) !=
        0)
        goto out;
    body = json_pack("{s:s,s:s,s:s,s:I}", "tkn", jwt, "tkid", ret->tkid, "azp", holder, "exp",
                     (json_int_t)(now + lt));
    ret->body = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (ret->body != NULL) {
        ret->code = 201;
        ret->reason = "issued";
    }
out:
    free(jwt);
    json_decref(tkps);
}

static void refuse(authz_token_answer *ret, unsigned code, const char *reason)
{
    json_t *b = json_pack("{s:s}", "error", reason);

    ret->code = code;
    ret->reason = reason;
    ret->body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
}

void authz_tokens_request(authz_tokens *t, const char *holder_ae, const char *body, size_t len,
                          int64_t now, authz_token_answer *ret)
{
    json_t *root = body != NULL ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    token_ask a = {0};
    char holder[ID_MAX * 2];
    const char *why = NULL;
    int64_t lt = 0;

    memset(ret, 0, sizeof(*ret));
    if (!json_is_object(root))
        why = "body must be a JSON object";
    else
        why = parse_ask(root, &a);
    if (why != NULL) {
        refuse(ret, 400, why);
    } else if (granted_lifetime(t, holder_ae, &a, &lt) != 0) {
        refuse(ret, 403, "no grant");
    } else {
        snprintf(holder, sizeof(holder), "//%s%s/%s", t->cfg.sp_id, a.aud, holder_ae);
        if (a.nbf > now + NBF_AHEAD_MAX)
            refuse(ret, 400, "nbf too far ahead");
        else /* the token lives lt from its start */
            sign_answer(t, &a, holder, a.nbf > now ? a.nbf : now, lt, ret);
    }
    json_decref(root);
}

/* ---- DAS (direct flow) ------------------------------------------------------------ */

/* dreq with tids: the stored tokens with those IDs (not revoked) in dres.tkns. */
static int das_tokens(authz_tokens *t, const Tep__DasRequest *rq, Tep__DasResponse *ret)
{
    size_t found = 0;

    ret->tkns = calloc(rq->n_tids, sizeof(char *));
    if (ret->tkns == NULL)
        return CMN_ENOMEM;
    for (size_t i = 0; i < rq->n_tids; i++) {
        void *val = NULL;
        size_t len = 0;
        char *jwt;
        if (authz_tokens_is_revoked(t->store, rq->tids[i]) ||
            cmn_store_get(t->store, AUTHZ_ISSUED_DB, rq->tids[i], strlen(rq->tids[i]), &val,
                          &len) != 0)
            continue;
        jwt = strndup(val, len);
        cmn_store_free_val(val, len);
        if (jwt == NULL)
            return CMN_ENOMEM;
        ret->tkns[ret->n_tkns++] = jwt;
        found++;
    }
    ret->rule = strdup(found == rq->n_tids ? "das: tokens" : "das: token not found or revoked");
    return ret->rule != NULL ? 0 : CMN_ENOMEM;
}

int authz_tokens_das(authz_tokens *t, const Tep__DasRequest *rq, int64_t now, Tep__DasResponse *ret)
{
    int64_t lt = 0;
    int i;
    char rule[32];
    json_t *gp;

    tep__das_response__init(ret);
    if (rq->n_tids > 0)
        return das_tokens(t, rq, ret);
    i = authz_grants_find(t->grants, rq->orig, rq->trid, rq->op, &lt);
    if (i < 0) {
        ret->rule = strdup("das: no grant");
        return ret->rule != NULL ? 0 : CMN_ENOMEM;
    }
    if (rq->ppl > 0 && rq->ppl < lt)
        lt = rq->ppl;
    snprintf(rule, sizeof(rule), "das: grant[%d]", i);
    gp = json_pack("{s:[{s:[s],s:i}]}", "acr", "acor", rq->orig, "acop", (json_int_t)rq->op);
    ret->gp_json = gp != NULL ? json_dumps(gp, JSON_COMPACT) : NULL;
    json_decref(gp);
    ret->rule = strdup(rule);
    if (ret->gp_json == NULL || ret->rule == NULL)
        return CMN_ENOMEM;
    ret->granted = true;
    ret->pl = now + lt;
    return 0;
}

void authz_tokens_das_clear(Tep__DasResponse *ret)
{
    if (ret->gp_json != protobuf_c_empty_string)
        free(ret->gp_json);
    if (ret->rule != protobuf_c_empty_string)
        free(ret->rule);
    for (size_t i = 0; i < ret->n_tkns; i++)
        free(ret->tkns[i]);
    free(ret->tkns);
    ret->tkns = NULL;
    ret->n_tkns = 0;
    ret->gp_json = NULL;
    ret->rule = NULL;
}

/* ---- revocation ------------------------------------------------------------------- */

int authz_tokens_revoke_txn(cmn_txn *txn, const char *tkid, int64_t now)
{
    Tep__RevokedToken r = TEP__REVOKED_TOKEN__INIT;
    uint8_t buf[600];
    size_t len;

    if (tkid == NULL || tkid[0] == '\0' || strlen(tkid) > ID_MAX)
        return CMN_EINVAL;
    r.tkid = (char *)tkid;
    r.revoked = now;
    len = tep__revoked_token__get_packed_size(&r);
    if (len > sizeof(buf))
        return CMN_ERANGE;
    tep__revoked_token__pack(&r, buf);
    return cmn_txn_put(txn, AUTHZ_REVOKED_DB, tkid, strlen(tkid), buf, len);
}

int authz_tokens_revoke(cmn_store *store, const char *tkid, int64_t now)
{
    cmn_txn *txn = NULL;
    int rc;

    if (tkid == NULL || tkid[0] == '\0' || strlen(tkid) > ID_MAX)
        return CMN_EINVAL;
    if ((rc = cmn_store_txn_begin(store, &txn)) != 0)
        return rc;
    if ((rc = authz_tokens_revoke_txn(txn, tkid, now)) != 0) {
        cmn_txn_abort(txn);
        return rc;
    }
    return cmn_txn_commit(txn);
}

/* Fails closed: a store error counts as revoked. */
bool authz_tokens_is_revoked(cmn_store *store, const char *tkid)
{
    void *val = NULL;
    size_t len = 0;
    int rc;

    if (tkid == NULL || tkid[0] == '\0')
        return true;
    rc = cmn_store_get(store, AUTHZ_REVOKED_DB, tkid, strlen(tkid), &val, &len);
    cmn_store_free_val(val, len);
    return rc != CMN_ENOTFOUND;
}
