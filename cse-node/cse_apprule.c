/* The AE-registration policy (see cse_apprule.h): the App-ID of the enrolment at bind
 * time, the application rules at create time. */
#include "cse_apprule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmn_err.h"
#include "cmn_glob.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_resource.h"
#include "cse_sync.h"

#define SUB "apprule"
#define SUB_APP_ID "saef" /* the App-ID check logs under the tag it always had */
#define LIST_MAX 32

typedef struct {
    char *apci[LIST_MAX], *aai[LIST_MAX], *aae[LIST_MAX];
    size_t n_apci, n_aai, n_aae;
} app_rule;

struct cse_apprules {
    app_rule *rules;
    size_t n;
    char *cse_name; /* NULL: the file's rules only */
};

bool cse_apprules_match(const char *p, const char *s)
{
    return cmn_glob_match(p, s, 0);
}

static void rule_clear(app_rule *r)
{
    for (size_t i = 0; i < r->n_apci; i++)
        free(r->apci[i]);
    for (size_t i = 0; i < r->n_aai; i++)
        free(r->aai[i]);
    for (size_t i = 0; i < r->n_aae; i++)
        free(r->aae[i]);
}

void cse_apprules_free(cse_apprules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        rule_clear(&r->rules[i]);
    free(r->rules);
    free(r->cse_name);
    free(r);
}

int cse_apprules_use_resources(cse_apprules *r, const char *cse_name)
{
    char *copy = strdup(cse_name);

    if (copy == NULL)
        return CMN_ENOMEM;
    free(r->cse_name);
    r->cse_name = copy;
    return 0;
}

size_t cse_apprules_count(const cse_apprules *r)
{
    return r != NULL ? r->n : 0;
}

static const char *parse_list(json_t *arr, char **out, size_t *n)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > LIST_MAX)
        return "apci, aai and aae must each be a list of 1..32 strings";
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return "apci, aai and aae must each be a list of 1..32 strings";
        if ((out[(*n)++] = strdup(json_string_value(v))) == NULL)
            return "out of memory";
    }
    return NULL;
}

static const char *parse_rule(json_t *o, app_rule *r)
{
    const char *why;

    if (!json_is_object(o))
        return "a rule must be an object";
    if ((why = parse_list(json_object_get(o, "apci"), r->apci, &r->n_apci)) != NULL ||
        (why = parse_list(json_object_get(o, "aai"), r->aai, &r->n_aai)) != NULL)
        return why;
    return parse_list(json_object_get(o, "aae"), r->aae, &r->n_aae);
}

static int parse_rules(json_t *root, cse_apprules *r, const char *path, char *err, size_t len)
{
    json_t *list = json_object_get(root, "rules"), *o;
    size_t i;

    if (!json_is_array(list)) {
        snprintf(err, len, "%s: expected {\"rules\": [...]}", path);
        return CMN_EINVAL;
    }
    if ((r->rules = calloc(json_array_size(list) + 1, sizeof(app_rule))) == NULL)
        return CMN_ENOMEM;
    json_array_foreach(list, i, o) {
        const char *why = parse_rule(o, &r->rules[i]);
        r->n = i + 1;
        if (why != NULL) {
            snprintf(err, len, "%s: rules[%zu]: %s", path, i, why);
            return CMN_EINVAL;
        }
    }
    return 0;
}

int cse_apprules_load(const char *path, cse_apprules **ret, char *err, size_t errlen)
{
    cse_apprules *r = calloc(1, sizeof(*r));
    json_error_t jerr;
    json_t *root;
    int rc = 0;

    *ret = NULL;
    if (r == NULL)
        return CMN_ENOMEM;
    if (path != NULL && path[0] != '\0') {
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL) {
            snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
            rc = CMN_EINVAL;
        } else {
            rc = parse_rules(root, r, path, err, errlen);
            json_decref(root);
        }
    }
    if (rc != 0) {
        cse_apprules_free(r);
        return rc;
    }
    *ret = r;
    return 0;
}

static bool any(char *const *list, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (cse_apprules_match(list[i], value))
            return true;
    return false;
}

bool cse_apprules_allow(const cse_apprules *r, const char *cred_id, const char *app_id,
                        const char *ae_stem, int *ret_rule)
{
    *ret_rule = -1;
    if (r == NULL || r->n == 0)
        return true;
    for (size_t i = 0; i < r->n; i++) {
        const app_rule *it = &r->rules[i];
        if (any(it->apci, it->n_apci, cred_id != NULL ? cred_id : "") &&
            any(it->aai, it->n_aai, app_id != NULL ? app_id : "") &&
            any(it->aae, it->n_aae, ae_stem != NULL ? ae_stem : "")) {
            *ret_rule = (int)i;
            return true;
        }
    }
    return false;
}

/* ---- at registration ---------------------------------------------------------------- */

/* "12-<KpsaID>" of the AE's credential (the "enrolees" index), "" when it has none. */
static void credential_id(cmn_store *st, const char *ae_id, char *ret, size_t len)
{
    void *val = NULL;
    size_t vlen = 0;

    ret[0] = '\0';
    if (cmn_store_get(st, CSE_DB_ENROLEES, ae_id, strlen(ae_id), &val, &vlen) == 0 &&
        vlen + 4 <= len)
        snprintf(ret, len, "12-%.*s", (int)vlen, (const char *)val);
    cmn_store_free_val(val, vlen);
}

/* ---- <serviceSubscribedAppRule> resources ------------------------------------------- */

typedef struct {
    const char *cred, *app, *stem; /* the registration's triple */
    int64_t now;
    size_t seen;  /* live rule resources */
    char ri[128]; /* the allowing one */
} asar_scan;

static bool json_any(json_t *list, const char *value)
{
    size_t i;
    json_t *p;

    json_array_foreach(list, i, p) {
        if (json_is_string(p) && cse_apprules_match(json_string_value(p), value))
            return true;
    }
    return false;
}

/* TS-0001 9.6.29: no apci = the rule for registrations without a security association. */
static bool asar_allows(json_t *a, const asar_scan *s)
{
    json_t *apci = json_object_get(a, "apci");
    bool cred_ok = json_is_array(apci) ? json_any(apci, s->cred) : s->cred[0] == '\0';

    return cred_ok && json_any(json_object_get(a, "aai"), s->app) &&
           json_any(json_object_get(a, "aae"), s->stem);
}

/* 1 stops the walk: a rule allows the triple. */
static int visit_asar(const Tep__Resource *r, void *arg)
{
    asar_scan *s = arg;
    json_t *a;
    bool ok;

    if (r->ty != CMN_TY_SASR || cse_res_expired(r, s->now))
        return 0;
    s->seen++;
    a = json_loads(r->json, 0, NULL);
    ok = a != NULL && asar_allows(a, s);
    json_decref(a);
    if (!ok)
        return 0;
    snprintf(s->ri, sizeof(s->ri), "%s", r->ri);
    return 1;
}

/* 0: allowed by a resource (its ri in s->ri) or none matched; <0: store error. */
static int scan_resources(const cse_apprules *r, cmn_store *st, asar_scan *s, bool *ret_ok)
{
    int rc;

    *ret_ok = false;
    if (r == NULL || r->cse_name == NULL)
        return 0;
    s->now = (int64_t)time(NULL);
    rc = cse_res_walk(st, r->cse_name, true, visit_asar, s);
    if (rc < 0)
        return rc;
    *ret_ok = rc == 1;
    return 0;
}

static unsigned refused(const char *cred, const char *app_id, const char *stem)
{
    char a[128], s[128];

    CMN_WARN(SUB, "event=app_rule_refused credential_id=%s app_id=%s ae_id_stem=%s rsc=4126",
             cred[0] ? cred : "-", cmn_log_value(app_id, a, sizeof(a)),
             cmn_log_value(stem, s, sizeof(s)));
    return CMN_RSC_APP_RULE_VALIDATION_FAILED;
}

unsigned cse_apprules_check_registration(const cse_apprules *r, cmn_store *st, const char *ae_id,
                                         const char *app_id)
{
    const char *slash = strrchr(ae_id, '/');
    const char *stem = slash != NULL ? slash + 1 : ae_id;
    char cred[CMN_KEY_ID_MAX + 8], s[128];
    asar_scan scan = {.cred = cred, .app = app_id != NULL ? app_id : "", .stem = stem};
    bool by_resource;
    int rule, rc;

    if (cse_apprules_count(r) == 0 && (r == NULL || r->cse_name == NULL))
        return 0;
    credential_id(st, ae_id, cred, sizeof(cred));
    if (cse_apprules_count(r) > 0 && cse_apprules_allow(r, cred, app_id, stem, &rule)) {
        CMN_INFO(SUB, "event=app_rule_ok ae_id=%s rule=file:%d", cmn_log_value(stem, s, sizeof(s)),
                 rule);
        return 0;
    }
    if ((rc = scan_resources(r, st, &scan, &by_resource)) != 0) {
        CMN_ERR(SUB, "event=app_rule_scan_failed err=\"%s\"", cmn_strerror(rc));
        return CMN_RSC_INTERNAL_SERVER_ERROR;
    }
    if (by_resource) {
        CMN_INFO(SUB, "event=app_rule_ok ae_id=%s rule=asar:%s", cmn_log_value(stem, s, sizeof(s)),
                 scan.ri);
        return 0;
    }
    if (cse_apprules_count(r) == 0 && scan.seen == 0)
        return 0; /* no rule at all */
    return refused(cred, app_id, stem);
}

int cse_apprules_setup(const cse_config *cfg, cse_apprules **ret)
{
    char err[512];
    int rc = cse_apprules_load(cfg->app_rules_file, ret, err, sizeof(err));

    if (rc != 0) {
        CMN_ERR(SUB, "event=app_rules_invalid reason=\"%s\"", err);
        return rc;
    }
    if ((rc = cse_apprules_use_resources(*ret, cfg->cse_name)) != 0) {
        CMN_ERR(SUB, "event=app_rules_invalid err=\"%s\"", cmn_strerror(rc));
        return rc;
    }
    CMN_INFO(SUB, "event=app_rules file_rules=%zu resources=\"children of %s, ty 19\"",
             cse_apprules_count(*ret), cfg->cse_name);
    return 0;
}

/* ---- the App-ID of the enrolment, at bind time (seed Z.2) --------------------------- */

/* An AE registering over a session whose enrolment carries an App-ID must register with
 * api equal to it: 0, or 4126. */
static unsigned app_id_matches(const char *bound_app_id, const char *api)
{
    if (bound_app_id == NULL || bound_app_id[0] == '\0')
        return 0; /* the enrolment carries no App-ID: nothing to hold the AE to */
    if (api == NULL || strcmp(api, bound_app_id) != 0)
        return CMN_RSC_APP_RULE_VALIDATION_FAILED;
    return 0;
}

/* The App-ID of the live credential bound to ae_id ("" when it has none). */
static int app_id_of(cmn_store *st, const char *ae_id, char *ret, size_t retlen)
{
    Tep__Credential *c = NULL;
    int rc = cse_cred_get_by_enrolee(st, ae_id, &c);

    if (rc == 0 && (size_t)snprintf(ret, retlen, "%s", c->app_id) >= retlen)
        rc = CMN_ERANGE;
    cse_cred_free(c);
    return rc;
}

unsigned cse_apprules_check_app_id(cmn_store *st, const char *bound_id, json_t *root,
                                   const char *body, size_t len)
{
    char app_id[256], shown_ae[128], shown_api[128];
    json_t *own = NULL;
    const char *api;
    unsigned rsc;

    if (bound_id == NULL || app_id_of(st, bound_id, app_id, sizeof(app_id)) != 0 ||
        app_id[0] == '\0')
        return 0;
    if (root == NULL && body != NULL) /* e.g. a duplicate key: read as JSON all the same */
        root = own = json_loadb(body, len, 0, NULL);
    if (root == NULL)
        return 0; /* not JSON: the request's validation answers 4000 */
    api = json_string_value(json_object_get(json_object_get(root, "m2m:ae"), "api"));
    rsc = app_id_matches(app_id, api);
    if (rsc != 0)
        CMN_WARN(SUB_APP_ID, "event=app_id_refused ae_id=%s app_id=%s api=%s rsc=%u",
                 cmn_log_value(bound_id, shown_ae, sizeof(shown_ae)), app_id,
                 api != NULL ? cmn_log_value(api, shown_api, sizeof(shown_api)) : "-", rsc);
    json_decref(own);
    return rsc;
}
