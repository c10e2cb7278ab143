/* oneM2M tokens as ES256 JWTs (see cmn_token.h). */
#include "cmn_token.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_glob.h"

#define TOKEN_VERSION "1"

const char *cmn_token_status_name(cmn_token_status st)
{
    static const char *const names[] = {
        "valid",   "malformed",     "bad alg", "unknown issuer", "bad signature",
        "revoked", "not yet valid", "expired", "wrong audience", "wrong holder",
    };

    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* ---- issue ------------------------------------------------------------------------ */

static json_t *claims_json(const cmn_token_claims *c)
{
    json_t *aud = json_array();
    json_t *p = json_object();

    if (aud == NULL || p == NULL)
        goto fail;
    for (size_t i = 0; i < c->n_audience; i++)
        if (json_array_append_new(aud, json_string(c->audience[i])) != 0)
            goto fail;
    if (json_object_set_new(p, "tkvr", json_string(TOKEN_VERSION)) != 0 ||
        json_object_set_new(p, "jti", json_string(c->tkid)) != 0 ||
        json_object_set_new(p, "iss", json_string(c->issuer)) != 0 ||
        json_object_set_new(p, "azp", json_string(c->holder)) != 0 ||
        json_object_set_new(p, "nbf", json_integer(c->not_before)) != 0 ||
        json_object_set_new(p, "exp", json_integer(c->not_after)) != 0 ||
        json_object_set(p, "aud", aud) != 0)
        goto fail;
    if (c->name != NULL && json_object_set_new(p, "tknm", json_string(c->name)) != 0)
        goto fail;
    if (c->permissions != NULL && json_object_set(p, "tkps", c->permissions) != 0)
        goto fail;
    json_decref(aud);
    return p;
fail:
    json_decref(aud);
    json_decref(p);
    return NULL;
}

int cmn_token_issue(const cmn_token_claims *claims, const uint8_t priv[CMN_ES256_PRIV_LEN],
                    const uint8_t pub[CMN_ES256_PUB_LEN], char **ret)
{
    json_t *hdr, *payload;
    int rc;

    *ret = NULL;
    if (claims->tkid == NULL || claims->issuer == NULL || claims->holder == NULL)
        return CMN_EINVAL;
    hdr = json_pack("{s:s,s:s}", "alg", "ES256", "typ", "JWT");
    payload = claims_json(claims);
    rc = hdr != NULL && payload != NULL ? cmn_jws_sign_es256(hdr, payload, priv, pub, ret)
                                        : CMN_ENOMEM;
    json_decref(hdr);
    json_decref(payload);
    return rc;
}

/* ---- verify ----------------------------------------------------------------------- */

static bool header_ok(const cmn_jws *j)
{
    const char *alg = cmn_jws_alg(j);
    json_t *typ = json_object_get(j->header, "typ");

    if (alg == NULL || strcmp(alg, "ES256") != 0)
        return false;
    if (json_object_get(j->header, "crit") != NULL) /* no extension is understood */
        return false;
    return typ == NULL || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0);
}

static const cmn_token_issuer *find_issuer(const cmn_token_check *chk, const char *iss)
{
    for (size_t i = 0; iss != NULL && i < chk->n_issuers; i++)
        if (strcmp(chk->issuers[i].id, iss) == 0)
            return &chk->issuers[i];
    return NULL;
}

/* Claims every token must carry: jti, azp (strings), nbf, exp (integers), aud. */
static bool claims_present(json_t *p)
{
    const char *jti = json_string_value(json_object_get(p, "jti"));
    const char *azp = json_string_value(json_object_get(p, "azp"));
    json_t *aud = json_object_get(p, "aud");
    json_t *tkps = json_object_get(p, "tkps");

    return jti != NULL && strlen(jti) < CMN_TOKEN_ID_MAX && azp != NULL &&
           strlen(azp) < CMN_TOKEN_ID_MAX && json_is_integer(json_object_get(p, "nbf")) &&
           json_is_integer(json_object_get(p, "exp")) &&
           (json_is_string(aud) || json_is_array(aud)) && (tkps == NULL || json_is_object(tkps));
}

static bool aud_one(const char *entry, const cmn_token_check *chk)
{
    for (size_t i = 0; entry != NULL && i < chk->n_audience; i++)
        if (cmn_glob_match(entry, chk->audience[i], CMN_GLOB_SEGMENT))
            return true;
    return false;
}

/* aud is a string or an array of strings (RFC 7519 4.1.3); wildcards per 7.3.2.3. */
static bool audience_ok(json_t *aud, const cmn_token_check *chk)
{
    size_t i;
    json_t *v;

    if (json_is_string(aud))
        return aud_one(json_string_value(aud), chk);
    json_array_foreach(aud, i, v)
        if (aud_one(json_string_value(v), chk))
            return true;
    return false;
}

static cmn_token_status check_claims(json_t *p, const cmn_token_check *chk)
{
    const char *jti = json_string_value(json_object_get(p, "jti"));

    if (chk->revoked != NULL && chk->revoked(jti, chk->revoked_arg))
        return CMN_TOKEN_REVOKED;
    if (chk->now < json_integer_value(json_object_get(p, "nbf")))
        return CMN_TOKEN_NOT_YET_VALID;
    if (chk->now > json_integer_value(json_object_get(p, "exp")))
        return CMN_TOKEN_EXPIRED;
    if (!audience_ok(json_object_get(p, "aud"), chk))
        return CMN_TOKEN_WRONG_AUDIENCE;
    if (chk->holder == NULL ||
        strcmp(json_string_value(json_object_get(p, "azp")), chk->holder) != 0)
        return CMN_TOKEN_WRONG_HOLDER;
    return CMN_TOKEN_VALID;
}

static cmn_token_status check_jws(const cmn_jws *j, const cmn_token_check *chk)
{
    const cmn_token_issuer *iss;

    if (!header_ok(j))
        return CMN_TOKEN_BAD_ALG;
    if (!claims_present(j->payload) || !json_is_string(json_object_get(j->payload, "iss")))
        return CMN_TOKEN_MALFORMED;
    iss = find_issuer(chk, json_string_value(json_object_get(j->payload, "iss")));
    if (iss == NULL)
        return CMN_TOKEN_UNKNOWN_ISSUER;
    if (cmn_jws_verify_es256(j, iss->pub) != 0)
        return CMN_TOKEN_BAD_SIGNATURE;
    return check_claims(j->payload, chk);
}

static int make_token(json_t *p, cmn_token **ret)
{
    cmn_token *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return CMN_ENOMEM;
    snprintf(t->tkid, sizeof(t->tkid), "%s", json_string_value(json_object_get(p, "jti")));
    snprintf(t->issuer, sizeof(t->issuer), "%s", json_string_value(json_object_get(p, "iss")));
    snprintf(t->holder, sizeof(t->holder), "%s", json_string_value(json_object_get(p, "azp")));
    t->not_before = json_integer_value(json_object_get(p, "nbf"));
    t->not_after = json_integer_value(json_object_get(p, "exp"));
    t->permissions = json_incref(json_object_get(p, "tkps"));
    *ret = t;
    return 0;
}

int cmn_token_verify(const char *compact, const cmn_token_check *chk, cmn_token **ret,
                     cmn_token_status *ret_st)
{
    cmn_jws *j = NULL;
    int rc;

    *ret = NULL;
    *ret_st = CMN_TOKEN_MALFORMED;
    if (compact == NULL || chk == NULL)
        return CMN_EINVAL;
    rc = cmn_jws_decode(compact, &j);
    if (rc == CMN_ENOMEM)
        return rc;
    if (rc == 0)
        *ret_st = check_jws(j, chk);
    rc = *ret_st == CMN_TOKEN_VALID ? make_token(j->payload, ret) : CMN_EDENIED;
    cmn_jws_free(j);
    return rc;
}

void cmn_token_free(cmn_token *t)
{
    if (t == NULL)
        return;
    json_decref(t->permissions);
    free(t);
}

bool cmn_token_ris_match(const char *pattern, const char *target)
{
    return cmn_glob_match(pattern, target, CMN_GLOB_SEGMENT);
}
