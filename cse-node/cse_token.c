/* Tokens at tep-cse (see cse_token.h). */
#include "cse_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define CACHE_MAX 256
/* A Local-Token-ID: "lt" and 128 random bits in hex, so that nobody guesses another
 * holder's (the holder is checked too). */
#define LTI_RANDOM_BYTES 16
#define LTI_MAX (2 + 2 * LTI_RANDOM_BYTES + 1)
#define ID_MAX 256

struct cse_token_entry {
    bool used;
    char lti[LTI_MAX];
    char holder[CMN_TOKEN_ID_MAX];
    cmn_token *tok; /* owned */
    uint64_t stamp; /* for eviction: oldest first */
};

struct cse_tokens {
    char sp_id[ID_MAX];
    char cse_id[ID_MAX];
    char abs_cse_id[2 * ID_MAX];
    cmn_token_issuer issuer;
    char issuer_id[ID_MAX];
    cse_token_entry cache[CACHE_MAX];
    uint64_t clock;
};

/* ---- request parameters ------------------------------------------------------------ */

static int add_values(const char **list, size_t *n, char *v)
{
    char *save = NULL;

    for (char *item = strtok_r(v, "+", &save); item != NULL; item = strtok_r(NULL, "+", &save)) {
        if (*n >= CSE_TOKEN_PARAMS_MAX)
            return CMN_EINVAL;
        list[(*n)++] = item;
    }
    return 0;
}

static int add_param(cse_token_params *p, char *kv)
{
    char *eq = strchr(kv, '=');

    if (eq == NULL)
        return 0;
    *eq = '\0';
    if (eq[1] == '\0' && (strcmp(kv, "tkns") == 0 || strcmp(kv, "tids") == 0 ||
                          strcmp(kv, "ltids") == 0 || strcmp(kv, "rids") == 0))
        return CMN_EINVAL;
    if (strcmp(kv, "tkns") == 0)
        return add_values(p->tkns, &p->n_tkns, eq + 1);
    if (strcmp(kv, "tids") == 0)
        return add_values(p->tids, &p->n_tids, eq + 1);
    if (strcmp(kv, "ltids") == 0)
        return add_values(p->ltids, &p->n_ltids, eq + 1);
    if (strcmp(kv, "rids") == 0)
        return add_values(p->rids, &p->n_rids, eq + 1);
    return 0; /* other parameters are the request dispatch's */
}

int cse_token_params_parse(const char *query, cse_token_params *ret)
{
    char *save = NULL;
    int rc = 0;

    memset(ret, 0, sizeof(*ret));
    if (query == NULL || query[0] == '\0')
        return 0;
    if ((ret->buf = strdup(query)) == NULL)
        return CMN_ENOMEM;
    for (char *kv = strtok_r(ret->buf, "&", &save); kv != NULL && rc == 0;
         kv = strtok_r(NULL, "&", &save))
        rc = add_param(ret, kv);
    if (rc != 0)
        cse_token_params_free(ret);
    return rc;
}

void cse_token_params_free(cse_token_params *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

bool cse_token_params_any(const cse_token_params *p)
{
    return p->n_tkns + p->n_tids + p->n_ltids > 0;
}

/* ---- set-up ------------------------------------------------------------------------ */

static int read_key(const char *path, uint8_t pub[CMN_ES256_PUB_LEN])
{
    char hex[2 * CMN_ES256_PUB_LEN + 2] = "";
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return CMN_EIO;
    n = fread(hex, 1, sizeof(hex) - 1, f);
    fclose(f);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
        hex[--n] = '\0';
    if (n != 2 * CMN_ES256_PUB_LEN || cmn_hex_decode(hex, pub, CMN_ES256_PUB_LEN) != 0)
        return CMN_EINVAL;
    return cmn_es256_check_pub(pub);
}

int cse_tokens_new(const cse_tokens_cfg *cfg, cse_tokens **ret)
{
    cse_tokens *t = calloc(1, sizeof(*t));
    int rc;

    *ret = NULL;
    if (t == NULL)
        return CMN_ENOMEM;
    snprintf(t->sp_id, sizeof(t->sp_id), "%s", cfg->sp_id);
    snprintf(t->cse_id, sizeof(t->cse_id), "%s", cfg->cse_id);
    snprintf(t->abs_cse_id, sizeof(t->abs_cse_id), "//%s%s", cfg->sp_id, cfg->cse_id);
    snprintf(t->issuer_id, sizeof(t->issuer_id), "%s", cfg->issuer);
    t->issuer.id = t->issuer_id;
    rc = read_key(cfg->issuer_key, t->issuer.pub);
    if (rc != 0) {
        free(t);
        return rc;
    }
    *ret = t;
    return 0;
}

void cse_tokens_free(cse_tokens *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < CACHE_MAX; i++)
        cmn_token_free(t->cache[i].tok);
    free(t);
}

void cse_tokens_absolute(const cse_tokens *t, const char *originator, char *ret, size_t len)
{
    if (originator[0] == '/' && originator[1] == '/')
        snprintf(ret, len, "%s", originator);
    else if (originator[0] == '/')
        snprintf(ret, len, "//%s%s", t->sp_id, originator);
    else
        snprintf(ret, len, "//%s%s/%s", t->sp_id, t->cse_id, originator);
}

/* ---- cache ------------------------------------------------------------------------- */

static cse_token_entry *find_tkid(cse_tokens *t, const char *tkid, const char *holder)
{
    for (size_t i = 0; i < CACHE_MAX; i++) {
        cse_token_entry *e = &t->cache[i];
        if (e->used && strcmp(e->tok->tkid, tkid) == 0 && strcmp(e->holder, holder) == 0)
            return e;
    }
    return NULL;
}

/* A free slot, else the expired or oldest entry (its Local-Token-ID is forgotten). */
static cse_token_entry *slot(cse_tokens *t, int64_t now)
{
    cse_token_entry *best = &t->cache[0];

    for (size_t i = 0; i < CACHE_MAX; i++) {
        cse_token_entry *e = &t->cache[i];
        if (!e->used || e->tok->not_after < now)
            return e;
        if (e->stamp < best->stamp)
            best = e;
    }
    return best;
}

static const cse_token_entry *cache_put(cse_tokens *t, cmn_token *tok, const char *holder,
                                        int64_t now)
{
    cse_token_entry *e = find_tkid(t, tok->tkid, holder);
    uint8_t rnd[LTI_RANDOM_BYTES];

    if (e != NULL) { /* presented again: keep its Local-Token-ID */
        cmn_token_free(tok);
        e->stamp = ++t->clock;
        return e;
    }
    if (cmn_random(rnd, sizeof(rnd)) != 0) {
        cmn_token_free(tok);
        return NULL;
    }
    e = slot(t, now);
    cmn_token_free(e->tok);
    memset(e, 0, sizeof(*e));
    e->used = true;
    e->tok = tok;
    e->stamp = ++t->clock;
    snprintf(e->holder, sizeof(e->holder), "%s", holder);
    memcpy(e->lti, "lt", 2);
    cmn_hex_encode(rnd, sizeof(rnd), e->lti + 2);
    return e;
}

int cse_tokens_accept(cse_tokens *t, const char *jwt, const char *originator, int64_t now,
                      const cse_token_entry **ret_entry, cmn_token_status *ret_st)
{
    char holder[CMN_TOKEN_ID_MAX];
    const char *own[2] = {t->abs_cse_id, t->cse_id};
    cmn_token_check chk = {.issuers = &t->issuer,
                           .n_issuers = 1,
                           .holder = holder,
                           .audience = own,
                           .n_audience = 2,
                           .now = now};
    cmn_token *tok = NULL;
    int rc;

    *ret_entry = NULL;
    cse_tokens_absolute(t, originator, holder, sizeof(holder));
    rc = cmn_token_verify(jwt, &chk, &tok, ret_st);
    if (rc != 0)
        return rc;
    *ret_entry = cache_put(t, tok, holder, now);
    return *ret_entry != NULL ? 0 : CMN_ECRYPTO;
}

const cse_token_entry *cse_tokens_by_lti(cse_tokens *t, const char *lti, const char *originator,
                                         int64_t now)
{
    char holder[CMN_TOKEN_ID_MAX];

    cse_tokens_absolute(t, originator, holder, sizeof(holder));
    for (size_t i = 0; i < CACHE_MAX; i++) {
        cse_token_entry *e = &t->cache[i];
        if (e->used && strcmp(e->lti, lti) == 0 && strcmp(e->holder, holder) == 0 &&
            e->tok->not_before <= now && now <= e->tok->not_after) {
            e->stamp = ++t->clock;
            return e;
        }
    }
    return NULL;
}

const char *cse_token_entry_lti(const cse_token_entry *e)
{
    return e->lti;
}

const char *cse_token_entry_tkid(const cse_token_entry *e)
{
    return e->tok->tkid;
}

/* ---- permissions ------------------------------------------------------------------- */

static bool names_target(json_t *ris, const char *target)
{
    size_t i;
    json_t *v;

    json_array_foreach(ris, i, v)
        if (cmn_token_ris_match(json_string_value(v), target))
            return true;
    return false;
}

/* pv with every acr's acor replaced by [originator]; NULL when pv has no acr list. */
static char *holder_pv(json_t *pv, const char *originator)
{
    json_t *acrs = json_object_get(pv, "acr"), *copy = json_deep_copy(pv), *acr;
    char *s = NULL;
    size_t i;

    if (!json_is_array(acrs) || copy == NULL)
        goto out;
    json_array_foreach(json_object_get(copy, "acr"), i, acr)
        if (!json_is_object(acr) ||
            json_object_set_new(acr, "acor", json_pack("[s]", originator)) != 0)
            goto out;
    s = json_dumps(copy, JSON_COMPACT);
out:
    json_decref(copy);
    return s;
}

static int add_roles(json_t *rids, cse_token_grants *g)
{
    size_t i;
    json_t *v;

    json_array_foreach(rids, i, v) {
        if (!json_is_string(v))
            continue;
        if (g->n_roles >= CSE_TOKEN_ROLES_MAX)
            return CMN_ERANGE;
        if ((g->roles[g->n_roles] = strdup(json_string_value(v))) == NULL)
            return CMN_ENOMEM;
        g->n_roles++;
    }
    return 0;
}

static int add_permission(json_t *pm, const char *tkid, const char *originator, const char *target,
                          cse_token_grants *g)
{
    json_t *pv = json_object_get(pm, "pv");
    char *acp;

    if (!names_target(json_object_get(pm, "ris"), target))
        return 0;
    if (json_is_object(pv)) {
        if (g->n >= CSE_TOKEN_GRANTS_MAX)
            return CMN_ERANGE;
        if ((acp = holder_pv(pv, originator)) == NULL)
            return 0; /* not a setOfAcrs: contributes nothing */
        g->acp[g->n] = acp;
        g->ids[g->n] = strdup(tkid);
        if (g->ids[g->n++] == NULL)
            return CMN_ENOMEM;
    }
    return add_roles(json_object_get(pm, "rids"), g);
}

int cse_tokens_apply(const cse_token_entry *e, const char *originator, const char *target,
                     cse_token_grants *g)
{
    json_t *pms = json_object_get(e->tok->permissions, "pm"), *pm;
    size_t i;
    int rc;

    json_array_foreach(pms, i, pm)
        if ((rc = add_permission(pm, e->tok->tkid, originator, target, g)) != 0)
            return rc;
    return 0;
}

void cse_token_grants_clear(cse_token_grants *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->acp[i]);
        free(g->ids[i]);
    }
    for (size_t i = 0; i < g->n_roles; i++)
        free(g->roles[i]);
    memset(g, 0, sizeof(*g));
}
