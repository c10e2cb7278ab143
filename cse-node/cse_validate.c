/* CREATE attribute validation (TS-0004 6.3.5, short names of TS-0004 8.2.3). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmn_acp.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_validate.h"

typedef enum { A_STR, A_BOOL, A_UINT, A_POSUINT, A_STRLIST, A_NONEMPTY_STRLIST, A_ANY, A_PRIVS,
               A_NULL, A_ENC, A_NCT, A_CSY, A_PATTERNS, A_APP_PATTERNS } attr_kind;

/* When an attribute may be written: on CREATE (C), on UPDATE (U), or both. */
enum { W_C = 1, W_U = 2, W_CU = 3 };

typedef struct {
    const char *name;
    attr_kind kind;
    bool mandatory;  /* on CREATE */
    int when;
} attr_rule;

/* Universal/common attributes (TS-0004 9.6.1.3): rn only at CREATE; cr is set to null by
 * the client at CREATE to ask for the creator. */
static const attr_rule common_rules[] = {
    { "rn", A_STR, false, W_C }, { "et", A_STR, false, W_CU }, { "lbl", A_STRLIST, false, W_CU },
    { "acpi", A_STRLIST, false, W_CU }, { "cr", A_NULL, false, W_C }, { NULL, 0, false, 0 },
};
static const attr_rule ae_rules[] = {
    { "api", A_STR, true, W_C }, { "apn", A_STR, false, W_CU }, { "rr", A_BOOL, false, W_CU },
    { "poa", A_STRLIST, false, W_CU }, { "srv", A_STRLIST, false, W_CU },
    { "nl", A_STR, false, W_CU }, { "csz", A_STRLIST, false, W_CU }, { NULL, 0, false, 0 },
};
static const attr_rule cnt_rules[] = {
    { "mni", A_UINT, false, W_CU }, { "mbs", A_UINT, false, W_CU },
    { "mia", A_UINT, false, W_CU }, { NULL, 0, false, 0 },
};
static const attr_rule cin_rules[] = {
    { "con", A_ANY, true, W_C }, { "cnf", A_STR, false, W_C }, { NULL, 0, false, 0 },
};
static const attr_rule acp_rules[] = {
    { "pv", A_PRIVS, true, W_CU }, { "pvs", A_PRIVS, true, W_CU }, { NULL, 0, false, 0 },
};
/* subscription (TS-0004 7.4.8): nu mandatory; enc = {"net":[1..]} (event types 1..4) */
static const attr_rule sub_rules[] = {
    { "nu", A_NONEMPTY_STRLIST, true, W_CU }, { "enc", A_ENC, false, W_CU },
    { "exc", A_UINT, false, W_CU }, { "nct", A_NCT, false, W_CU }, { "su", A_STR, false, W_CU },
    { "ln", A_BOOL, false, W_CU }, { "nec", A_UINT, false, W_CU }, { NULL, 0, false, 0 },
};
/* group (TS-0004 7.4.13): mid and mnm mandatory, mt the member type (0 = mixed) */
static const attr_rule grp_rules[] = {
    { "mid", A_STRLIST, true, W_CU }, { "mnm", A_POSUINT, true, W_CU },
    { "mt", A_UINT, false, W_C }, { "gn", A_STR, false, W_CU }, { "csy", A_CSY, false, W_C },
    { "macp", A_STRLIST, false, W_CU }, { NULL, 0, false, 0 },
};

/* serviceSubscribedAppRule (TS-0004 7.4.29, TS-0001 9.6.29): lists of patterns ('*'
 * wildcards); aai entries start with '*', 'R' or 'N' (TS-0004 7.4.29.2.1: else 4000). */
static const attr_rule asar_rules[] = {
    { "apci", A_PATTERNS, false, W_CU }, { "aai", A_APP_PATTERNS, false, W_CU },
    { "aae", A_PATTERNS, false, W_CU }, { "ari", A_PATTERNS, false, W_CU },
    { NULL, 0, false, 0 },
};

static const attr_rule *rules_for(unsigned ty)
{
    switch (ty) {
    case CMN_TY_AE: return ae_rules;
    case CMN_TY_CNT: return cnt_rules;
    case CMN_TY_CIN: return cin_rules;
    case CMN_TY_ACP: return acp_rules;
    case CMN_TY_SUB: return sub_rules;
    case CMN_TY_GRP: return grp_rules;
    case CMN_TY_SASR: return asar_rules;
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

/* acip {"ipv4": [CIDR...], "ipv6": [CIDR...]}: every entry a CIDR (or one address) of
 * its list's family, as the evaluator parses it. */
static bool acip_ok(json_t *acip)
{
    const char *key;
    json_t *list, *e;
    size_t i;

    if (!json_is_object(acip))
        return false;
    json_object_foreach(acip, key, list) {
        int family = strcmp(key, "ipv4") == 0 ? 4 : strcmp(key, "ipv6") == 0 ? 6 : 0;
        if (family == 0 || !is_str_list(list))
            return false;
        json_array_foreach(list, i, e) {
            if (cmn_acp_cidr_match(json_string_value(e), family,
                                   family == 4 ? "0.0.0.0" : "::") < 0)
                return false;
        }
    }
    return true;
}

/* aclr: exactly one of accc (country codes) and accr ([lat, lon, radius m]). */
static bool aclr_ok(json_t *aclr)
{
    json_t *accc = json_object_get(aclr, "accc"), *accr = json_object_get(aclr, "accr");
    double lat, lon, r;

    if (!json_is_object(aclr) || (accc == NULL) == (accr == NULL) || json_object_size(aclr) != 1)
        return false;
    if (accc != NULL)
        return is_str_list(accc);
    if (!json_is_array(accr) || json_array_size(accr) != 3)
        return false;
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_number(json_array_get(accr, i)))
            return false;
    }
    lat = json_number_value(json_array_get(accr, 0));
    lon = json_number_value(json_array_get(accr, 1));
    r = json_number_value(json_array_get(accr, 2));
    return lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0 && r >= 0.0;
}

/* acco: a list of {actw, acip, aclr}; each actw entry a valid 7-field scheduleEntry
 * (TS-0004 7.4.9.1). A malformed context would never permit (the evaluator counts it
 * FALSE): it is refused when the policy is written instead (4000). */
static bool acco_ok(json_t *acco)
{
    json_t *ctx, *e, *v;
    const char *key;
    size_t i, j;

    if (!json_is_array(acco))
        return false;
    json_array_foreach(acco, i, ctx) {
        if (!json_is_object(ctx))
            return false;
        json_object_foreach(ctx, key, v) {
            if (strcmp(key, "actw") == 0) {
                if (!is_str_list(v))
                    return false;
                json_array_foreach(v, j, e) {
                    if (cmn_acp_schedule_match(json_string_value(e), 0) < 0)
                        return false;
                }
            } else if (strcmp(key, "acip") == 0) {
                if (!acip_ok(v))
                    return false;
            } else if (strcmp(key, "aclr") == 0) {
                if (!aclr_ok(v))
                    return false;
            } else {
                return false;
            }
        }
    }
    return true;
}

/* One access-control rule: acor (list of strings), acop (1..63), optional acaf/acod of
 * the right JSON shape (their semantics are the evaluator's), acco well-formed. */
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
    if (acco != NULL && !acco_ok(acco))
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

/* eventNotificationCriteria: an object; net (notificationEventType) a list of 1..4
 * (update, delete, create of a direct child, delete of a direct child). */
static bool enc_ok(json_t *v)
{
    json_t *net = json_object_get(v, "net");
    json_t *e;
    size_t i;

    if (!json_is_object(v))
        return false;
    if (net == NULL)
        return true;
    if (!json_is_array(net))
        return false;
    json_array_foreach(net, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 4)
            return false;
    }
    return true;
}

/* A list of non-empty patterns; app: each starts with '*', 'R' or 'N'. */
static bool patterns_ok(json_t *v, bool app)
{
    json_t *e;
    size_t i;

    if (!is_str_list(v))
        return false;
    json_array_foreach(v, i, e) {
        const char *p = json_string_value(e);
        if (p[0] == '\0' || (app && p[0] != '*' && p[0] != 'R' && p[0] != 'N'))
            return false;
    }
    return true;
}

static bool kind_ok(const attr_rule *r, json_t *v)
{
    switch (r->kind) {
    case A_STR: return json_is_string(v);
    case A_BOOL: return json_is_boolean(v);
    case A_UINT: return is_uint(v);
    case A_POSUINT: return is_uint(v) && json_integer_value(v) > 0;
    case A_STRLIST: return is_str_list(v);
    case A_NONEMPTY_STRLIST: return is_str_list(v) && json_array_size(v) > 0;
    case A_ENC: return enc_ok(v);
    case A_NCT: return is_uint(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 3;
    case A_CSY: return is_uint(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 3;
    case A_NULL: return json_is_null(v);
    case A_PATTERNS: return patterns_ok(v, false);
    case A_APP_PATTERNS: return patterns_ok(v, true);
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

static unsigned check_attr(const attr_rule *rules, int when, const char *key, json_t *v,
                           char *reason, size_t rlen)
{
    const attr_rule *r = find_rule(common_rules, key);

    /* tep keeps app rules to the admin: no policy may open them to others. */
    if (rules == asar_rules && strcmp(key, "acpi") == 0) {
        snprintf(reason, rlen, "acpi_not_allowed:asar");
        return CMN_RSC_BAD_REQUEST;
    }
    /* TS-0001 9.6.2, 9.6.7: an <accessControlPolicy> and a <contentInstance> have no
     * accessControlPolicyIDs (their own pvs, their parent's policies decide). */
    if ((rules == acp_rules || rules == cin_rules) && strcmp(key, "acpi") == 0) {
        snprintf(reason, rlen, "acpi_not_an_attribute_of:%s", rules == acp_rules ? "acp" : "cin");
        return CMN_RSC_BAD_REQUEST;
    }

    if (r == NULL)
        r = find_rule(rules, key);
    if (r == NULL || (r->when & when) == 0) {
        snprintf(reason, rlen, "unknown_or_readonly_attribute:%.40s", key);
        return CMN_RSC_BAD_REQUEST;
    }
    /* UPDATE: null deletes an optional attribute (TS-0004 7.3.3.3) */
    if (when == W_U && json_is_null(v) && !r->mandatory)
        return 0;
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
        rsc = check_attr(rules, W_C, key, v, ret_reason, rlen);
        if (rsc != 0)
            return rsc;
    }
    if (!rn_ok(json_object_get(attrs, "rn"))) {
        snprintf(ret_reason, rlen, "bad_value:rn");
        return CMN_RSC_BAD_REQUEST;
    }
    return check_mandatory(rules, attrs, ret_reason, rlen);
}

unsigned cse_validate_update(unsigned ty, json_t *attrs, char *ret_reason, size_t rlen)
{
    const attr_rule *rules = rules_for(ty);
    const char *key;
    json_t *v;
    unsigned rsc;

    ret_reason[0] = '\0';
    if (rules == NULL || ty == CMN_TY_CIN) {
        snprintf(ret_reason, rlen, "type_not_updatable:%u", ty);
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    }
    if (!json_is_object(attrs) || json_object_size(attrs) == 0) {
        snprintf(ret_reason, rlen, "no_attributes");
        return CMN_RSC_BAD_REQUEST;
    }
    json_object_foreach(attrs, key, v) {
        rsc = check_attr(rules, W_U, key, v, ret_reason, rlen);
        if (rsc != 0)
            return rsc;
    }
    return 0;
}
