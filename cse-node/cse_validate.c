/* CREATE attribute validation (TS-0004 6.3.5, short names of TS-0004 8.2.3). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_validate.h"

typedef enum { A_STR, A_BOOL, A_UINT, A_STRLIST, A_ANY, A_PRIVS, A_NULL } attr_kind;

typedef struct {
    const char *name;
    attr_kind kind;
    bool mandatory;
} attr_rule;

/* Writable on CREATE for every type (TS-0004 9.6.1.3 universal/common attributes). */
static const attr_rule common_rules[] = {
    { "rn", A_STR, false }, { "et", A_STR, false }, { "lbl", A_STRLIST, false },
    { "acpi", A_STRLIST, false }, { "cr", A_NULL, false }, { NULL, 0, false },
};
static const attr_rule ae_rules[] = {
    { "api", A_STR, true }, { "apn", A_STR, false }, { "rr", A_BOOL, false },
    { "poa", A_STRLIST, false }, { "srv", A_STRLIST, false }, { "nl", A_STR, false },
    { "csz", A_STRLIST, false }, { NULL, 0, false },
};
static const attr_rule cnt_rules[] = {
    { "mni", A_UINT, false }, { "mbs", A_UINT, false }, { "mia", A_UINT, false },
    { NULL, 0, false },
};
static const attr_rule cin_rules[] = {
    { "con", A_ANY, true }, { "cnf", A_STR, false }, { NULL, 0, false },
};
static const attr_rule acp_rules[] = {
    { "pv", A_PRIVS, true }, { "pvs", A_PRIVS, true }, { NULL, 0, false },
};

static const attr_rule *rules_for(unsigned ty)
{
    switch (ty) {
    case CMN_TY_AE: return ae_rules;
    case CMN_TY_CNT: return cnt_rules;
    case CMN_TY_CIN: return cin_rules;
    case CMN_TY_ACP: return acp_rules;
    default: return NULL;
    }
}

static bool is_str_list(json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return false;
    }
    return true;
}

static bool is_uint(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* One access-control rule: acor (list of strings), acop (1..63), optional acco/acaf/acod
 * of the right JSON shape (their semantics are the evaluator's). */
static int validate_acr(json_t *r)
{
    json_t *acop = json_object_get(r, "acop");
    json_t *acaf = json_object_get(r, "acaf");
    json_t *acco = json_object_get(r, "acco");
    json_t *acod = json_object_get(r, "acod");

    if (!json_is_object(r) || !is_str_list(json_object_get(r, "acor")))
        return CMN_EINVAL;
    if (!json_is_integer(acop) || json_integer_value(acop) < 1 || json_integer_value(acop) > 63)
        return CMN_EINVAL;
    if (acaf != NULL && !json_is_boolean(acaf))
        return CMN_EINVAL;
    if (acco != NULL && !json_is_array(acco))
        return CMN_EINVAL;
    if (acod != NULL && !json_is_array(acod))
        return CMN_EINVAL;
    return 0;
}

int cse_validate_privileges(json_t *pv, size_t min_acr)
{
    json_t *acr = json_object_get(pv, "acr");
    json_t *r;
    size_t i;

    if (!json_is_object(pv) || json_object_size(pv) != 1 || !json_is_array(acr))
        return CMN_EINVAL;
    if (json_array_size(acr) < min_acr)
        return CMN_EINVAL;
    json_array_foreach(acr, i, r) {
        if (validate_acr(r) != 0)
            return CMN_EINVAL;
    }
    return 0;
}

static bool kind_ok(const attr_rule *r, json_t *v)
{
    switch (r->kind) {
    case A_STR: return json_is_string(v);
    case A_BOOL: return json_is_boolean(v);
    case A_UINT: return is_uint(v);
    case A_STRLIST: return is_str_list(v);
    case A_NULL: return json_is_null(v);
    case A_ANY: return !json_is_null(v);
    case A_PRIVS:
        /* TS-0004: selfPrivileges must hold at least one rule (BAD_REQUEST otherwise). */
        return cse_validate_privileges(v, strcmp(r->name, "pvs") == 0 ? 1 : 0) == 0;
    }
    return false;
}

static const attr_rule *find_rule(const attr_rule *rules, const char *name)
{
    for (; rules->name != NULL; rules++) {
        if (strcmp(rules->name, name) == 0)
            return rules;
    }
    return NULL;
}

static unsigned check_attr(const attr_rule *rules, const char *key, json_t *v, char *reason,
                           size_t rlen)
{
    const attr_rule *r = find_rule(common_rules, key);

    if (r == NULL)
        r = find_rule(rules, key);
    if (r == NULL) {
        snprintf(reason, rlen, "unknown_or_readonly_attribute:%.40s", key);
        return CMN_RSC_BAD_REQUEST;
    }
    if (!kind_ok(r, v)) {
        snprintf(reason, rlen, "bad_value:%.40s", key);
        return CMN_RSC_BAD_REQUEST;
    }
    return 0;
}

static unsigned check_mandatory(const attr_rule *rules, json_t *attrs, char *reason,
                                size_t rlen)
{
    for (; rules->name != NULL; rules++) {
        if (rules->mandatory && json_object_get(attrs, rules->name) == NULL) {
            snprintf(reason, rlen, "missing:%s", rules->name);
            return CMN_RSC_BAD_REQUEST;
        }
    }
    return 0;
}

static bool rn_ok(json_t *rn)
{
    const char *s;

    if (rn == NULL)
        return true;
    s = json_string_value(rn);
    return s != NULL && s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0 && strlen(s) <= 255;
}

unsigned cse_validate_create(unsigned ty, json_t *attrs, char *ret_reason, size_t rlen)
{
    const attr_rule *rules = rules_for(ty);
    const char *key;
    json_t *v;
    unsigned rsc;

    ret_reason[0] = '\0';
    if (rules == NULL) {
        snprintf(ret_reason, rlen, "unsupported_type:%u", ty);
        return CMN_RSC_INVALID_CHILD_RESOURCE_TYPE;
    }
    if (!json_is_object(attrs)) {
        snprintf(ret_reason, rlen, "not_an_object");
        return CMN_RSC_BAD_REQUEST;
    }
    json_object_foreach(attrs, key, v) {
        rsc = check_attr(rules, key, v, ret_reason, rlen);
        if (rsc != 0)
            return rsc;
    }
    if (!rn_ok(json_object_get(attrs, "rn"))) {
        snprintf(ret_reason, rlen, "bad_value:rn");
        return CMN_RSC_BAD_REQUEST;
    }
    return check_mandatory(rules, attrs, ret_reason, rlen);
}
