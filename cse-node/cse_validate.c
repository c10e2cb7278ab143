/* CREATE attribute validation (TS-0004 6.3.5, short names of TS-0004 8.2.3). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmn_acp.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_validate.h"

typedef enum {
    A_STR,
    A_BOOL,
    A_UINT,
    A_POSUINT,
    A_STRLIST,
    A_NONEMPTY_STRLIST,
    A_ANY,
    A_PRIVS,
    A_NULL,
    A_ENC,
    A_NCT,
    A_CSY,
    A_PATTERNS,
    A_APP_PATTERNS,
    A_API,
    A_POA,
    A_CSZ,
    A_SRV,
    A_CNF,
    A_ID,
    A_TIME,
    A_ESI
} attr_kind;

/* When an attribute may be written: on CREATE (C), on UPDATE (U), or both. */
enum { W_C = 1, W_U = 2, W_CU = 3 };

typedef struct {
    const char *name;
    attr_kind kind;
    bool mandatory; /* on CREATE */
    int when;
    int release; /* the release that added it: a request of an older RVI may not send it */
} attr_rule;

/* Universal/common attributes (TS-0004 7.4.x.1-2 of each type): rn only at CREATE;
 * creator (cr) only where the type's table has it (container, contentInstance,
 * subscription, group: O at CREATE, NP at UPDATE), set to null by the client to ask for
 * the creator. */
static const attr_rule common_rules[] = {
    {"rn", A_STR, false, W_C, 0},
    {"et", A_STR, false, W_CU, 0},
    {"lbl", A_STRLIST, false, W_CU, 0},
    {"acpi", A_STRLIST, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};
static const attr_rule creator_rule[] = {{"cr", A_NULL, false, W_C, 0}, {NULL, 0, false, 0, 0}};
/* custodian (Release 4, TS-0001 9.6.1.3): takes the creator's place in the default access
 * policy; on the types that have a creator or are policies. */
static const attr_rule custodian_rule[] = {{"cstn", A_ID, false, W_CU, 4}, {NULL, 0, false, 0, 0}};
/* AE (TS-0004 Table 7.4.5.1-3): App-ID, requestReachability and supportedReleaseVersions
 * mandatory at CREATE; App-ID not updatable. */
static const attr_rule ae_rules[] = {
    {"api", A_API, true, W_C, 0},   {"apn", A_STR, false, W_CU, 0}, {"rr", A_BOOL, true, W_CU, 0},
    {"poa", A_POA, false, W_CU, 0}, {"srv", A_SRV, true, W_CU, 0},  {"nl", A_STR, false, W_CU, 0},
    {"or", A_STR, false, W_CU, 0},  {"csz", A_CSZ, false, W_CU, 0}, {"esi", A_ESI, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};
/* remoteCSE (TS-0004 Table 7.4.4.1-3): CSEBase, requestReachability and
 * supportedReleaseVersions mandatory at CREATE; cseType, CSE-ID and CSEBase not
 * updatable. */
static const attr_rule csr_rules[] = {
    {"cst", A_UINT, false, W_C, 0}, {"poa", A_POA, false, W_CU, 0},
    {"cb", A_STR, true, W_C, 0},    {"csi", A_STR, false, W_C, 0},
    {"rr", A_BOOL, true, W_CU, 0},  {"nl", A_STR, false, W_CU, 0},
    {"csz", A_CSZ, false, W_CU, 0}, {"dcse", A_STRLIST, false, W_CU, 0},
    {"srv", A_SRV, true, W_CU, 0},  {"spi", A_STR, false, W_CU, 0},
    {"esi", A_ESI, false, W_CU, 0}, {NULL, 0, false, 0, 0},
};
static const attr_rule cnt_rules[] = {
    {"mni", A_UINT, false, W_CU, 0}, {"mbs", A_UINT, false, W_CU, 0},
    {"mia", A_UINT, false, W_CU, 0}, {"or", A_STR, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};
/* contentInstance: dataGenerationTime and deletionCnt are Release 4 */
static const attr_rule cin_rules[] = {
    {"con", A_ANY, true, W_C, 0},       {"cnf", A_CNF, false, W_C, 0},
    {"or", A_STR, false, W_C, 0},       {"dgt", A_TIME, false, W_C, 4},
    {"dcnt", A_POSUINT, false, W_C, 4}, {NULL, 0, false, 0, 0},
};
static const attr_rule acp_rules[] = {
    {"pv", A_PRIVS, true, W_CU, 0},
    {"pvs", A_PRIVS, true, W_CU, 0},
    {NULL, 0, false, 0, 0},
};
/* subscription (TS-0004 7.4.8): nu mandatory; enc = {"net":[1..]} (event types 1..4) */
static const attr_rule sub_rules[] = {
    {"nu", A_NONEMPTY_STRLIST, true, W_CU, 0},
    {"enc", A_ENC, false, W_CU, 0},
    {"exc", A_UINT, false, W_CU, 0},
    {"nct", A_NCT, false, W_CU, 0},
    {"su", A_STR, false, W_CU, 0},
    {"ln", A_BOOL, false, W_CU, 0},
    {"nec", A_UINT, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};
/* group (TS-0004 7.4.13): mid and mnm mandatory, mt the member type (0 = mixed) */
static const attr_rule grp_rules[] = {
    {"mid", A_STRLIST, true, W_CU, 0},
    {"mnm", A_POSUINT, true, W_CU, 0},
    {"mt", A_UINT, false, W_C, 0},
    {"gn", A_STR, false, W_CU, 0},
    {"csy", A_CSY, false, W_C, 0},
    {"macp", A_STRLIST, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};

/* serviceSubscribedAppRule (TS-0004 7.4.29, TS-0001 9.6.29): lists of patterns ('*'
 * wildcards); aai entries start with '*', 'R' or 'N' (TS-0004 7.4.29.2.1: else 4000). */
static const attr_rule asar_rules[] = {
    {"apci", A_PATTERNS, false, W_CU, 0},
    {"aai", A_APP_PATTERNS, false, W_CU, 0},
    {"aae", A_PATTERNS, false, W_CU, 0},
    {"ari", A_PATTERNS, false, W_CU, 0},
    {NULL, 0, false, 0, 0},
};

static const attr_rule *rules_for(unsigned ty)
{
    switch (ty) {
    case CMN_TY_AE:
        return ae_rules;
    case CMN_TY_CSR:
        return csr_rules;
    case CMN_TY_CNT:
        return cnt_rules;
    case CMN_TY_CIN:
        return cin_rules;
    case CMN_TY_ACP:
        return acp_rules;
    case CMN_TY_SUB:
        return sub_rules;
    case CMN_TY_GRP:
        return grp_rules;
    case CMN_TY_SASR:
        return asar_rules;
    default:
        return NULL;
    }
}

/* A string attribute value: at most CSE_VALIDATE_STR_MAX bytes (tep's bound). */
static bool is_str(json_t *v)
{
    return json_is_string(v) && json_string_length(v) <= CSE_VALIDATE_STR_MAX;
}

/* A list of strings: at most CSE_VALIDATE_LIST_MAX of them, each bounded. */
static bool is_str_list(json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) > CSE_VALIDATE_LIST_MAX)
        return false;
    json_array_foreach(v, i, e) {
        if (!is_str(e))
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
            if (cmn_acp_cidr_match(json_string_value(e), family, family == 4 ? "0.0.0.0" : "::") <
                0)
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

/* m2m:ID (custodian): a non-empty string of printable characters, no space. */
static bool id_ok(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 255)
        return false;
    for (; *s != '\0'; s++) {
        if (*s <= ' ' || *s > '~')
            return false;
    }
    return true;
}

/* App-ID (TS-0001 7.2, Table 7.2-1): starts with 'R' (registered; 'r' is still permitted
 * in Release 3) or 'N' (non-registered), and has more than that letter. */
static bool api_ok(json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL && (s[0] == 'R' || s[0] == 'r' || s[0] == 'N') && s[1] != '\0' &&
           strlen(s) <= 255;
}

/* m2m:poaList (TS-0004 Table 6.3.3-1): at least one pointOfAccess, each an absolute URI
 * "scheme://authority[...]" (RFC 3986 scheme: ALPHA *(ALPHA / DIGIT / "+" / "-" / "."))
 * of printable characters. */
static bool poa_ok(json_t *v)
{
    json_t *e;
    size_t i;

    if (!is_str_list(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach(v, i, e) {
        const char *s = json_string_value(e);
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

        if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) ||
            strncmp(s + n, "://", 3) != 0 || s[n + 3] == '\0' || s[n + 3] == '/' || !id_ok(s))
            return false;
    }
    return true;
}

/* One of a fixed set of strings. */
static bool one_of(const char *s, const char *const *set)
{
    for (; s != NULL && *set != NULL; set++) {
        if (strcmp(s, *set) == 0)
            return true;
    }
    return false;
}

/* A non-empty list whose members are all in set, no duplicates needed to be refused. */
static bool list_of(json_t *v, const char *const *set)
{
    json_t *e;
    size_t i;

    if (!is_str_list(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach(v, i, e) {
        if (!one_of(json_string_value(e), set))
            return false;
    }
    return true;
}

/* m2m:serializations: xml, json, cbor (TS-0004 Table 6.3.3-1); tep also takes the media
 * types that clients send for them, oneM2M's own included (the ACME CSE announces
 * application/vnd.onem2m-res+json when it registers). */
static const char *const csz_set[] = {"xml",
                                      "json",
                                      "cbor",
                                      "application/xml",
                                      "application/json",
                                      "application/cbor",
                                      "application/vnd.onem2m-res+xml",
                                      "application/vnd.onem2m-res+json",
                                      "application/vnd.onem2m-res+cbor",
                                      NULL};
/* m2m:supportedReleaseVersions: 1, 2, 2a, 3 in this release; 4 and 5 from later ones. */
static const char *const srv_set[] = {"1", "2", "2a", "3", "4", "5", NULL};

static bool digits(const char *s, size_t n)
{
    if (n == 0 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* m2m:contentInfo (TS-0004 Table 6.3.3-1): "type/subtype:encodingType[:contentSecurity]",
 * the media type's two tokens of RFC 6838 restricted-name characters, the numbers
 * decimal. */
static bool cnf_ok(json_t *v)
{
    static const char tok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "!#$&-^_.+";
    const char *s = json_string_value(v);
    const char *p, *c2;
    size_t n;

    if (s == NULL || strlen(s) > 255)
        return false;
    n = strspn(s, tok);
    if (n == 0 || s[n] != '/')
        return false;
    p = s + n + 1;
    n = strspn(p, tok);
    if (n == 0 || p[n] != ':')
        return false;
    p += n + 1;
    c2 = strchr(p, ':');
    if (c2 == NULL)
        return digits(p, strlen(p));
    return digits(p, (size_t)(c2 - p)) && digits(c2 + 1, strlen(c2 + 1));
}

/* m2m:timestamp: YYYYMMDDTHHMMSS with optional ,ffffff fraction. */
static bool time_ok(json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s != NULL ? strlen(s) : 0;

    if (n < 15 || s[8] != 'T' || !digits(s, 3) || !digits(s + 3, 3) || !digits(s + 6, 2) ||
        !digits(s + 9, 3) || !digits(s + 12, 3))
        return false;
    return n == 15 || (s[15] == ',' && n <= 22 && strspn(s + 16, "0123456789") == n - 16 && n > 16);
}

/* A list of integers each in [lo, hi], each also accepted by ok (NULL: any), non-empty. */
static bool int_list(json_t *v, json_int_t lo, json_int_t hi, bool (*ok)(json_int_t))
{
    json_t *e;
    size_t i;

    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < lo || json_integer_value(e) > hi ||
            (ok != NULL && !ok(json_integer_value(e))))
            return false;
    }
    return true;
}

/* m2m:suid (TS-0004 6.3.4.2.39) */
static bool suid_ok(json_int_t s)
{
    return (s >= 10 && s <= 15) || (s >= 21 && s <= 25) || (s >= 32 && s <= 35) ||
           (s >= 40 && s <= 45);
}

/* m2m:e2eSecInfo (TS-0004 6.3.5.52): esf (SUIDs), escert, esro (6.3.5.51); nothing else. */
static bool esi_ok(json_t *v)
{
    json_t *esro = json_object_get(v, "esro");
    const char *k;
    json_t *m;

    if (!json_is_object(v) || !int_list(json_object_get(v, "esf"), 10, 45, suid_ok))
        return false;
    json_object_foreach(v, k, m) {
        if (strcmp(k, "esf") != 0 && strcmp(k, "escert") != 0 && strcmp(k, "esro") != 0)
            return false;
    }
    if (json_object_get(v, "escert") != NULL && !is_str_list(json_object_get(v, "escert")))
        return false;
    return esro == NULL ||
           (json_is_object(esro) && is_str(json_object_get(esro, "esri")) &&
            is_str(json_object_get(esro, "esrv")) && time_ok(json_object_get(esro, "esrx")) &&
            int_list(json_object_get(esro, "esks"), 1, 1, NULL) &&
            int_list(json_object_get(esro, "espa"), 10, 12, NULL));
}

static bool kind_ok(const attr_rule *r, json_t *v)
{
    switch (r->kind) {
    case A_STR:
        return is_str(v);
    case A_BOOL:
        return json_is_boolean(v);
    case A_UINT:
        return is_uint(v);
    case A_POSUINT:
        return is_uint(v) && json_integer_value(v) > 0;
    case A_STRLIST:
        return is_str_list(v);
    case A_NONEMPTY_STRLIST:
        return is_str_list(v) && json_array_size(v) > 0;
    case A_ENC:
        return enc_ok(v);
    case A_NCT:
        return is_uint(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 3;
    case A_CSY:
        return is_uint(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 3;
    case A_NULL:
        return json_is_null(v);
    case A_PATTERNS:
        return patterns_ok(v, false);
    case A_APP_PATTERNS:
        return patterns_ok(v, true);
    case A_ANY:
        return !json_is_null(v);
    case A_API:
        return api_ok(v);
    case A_POA:
        return poa_ok(v);
    case A_CSZ:
        return list_of(v, csz_set);
    case A_SRV:
        return list_of(v, srv_set);
    case A_CNF:
        return cnf_ok(v);
    case A_ID:
        return id_ok(json_string_value(v));
    case A_TIME:
        return time_ok(v);
    case A_ESI:
        return esi_ok(v);
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

static bool has_creator(unsigned ty)
{
    return ty == CMN_TY_CNT || ty == CMN_TY_CIN || ty == CMN_TY_SUB || ty == CMN_TY_GRP;
}

static bool has_custodian(unsigned ty)
{
    return ty == CMN_TY_CNT || ty == CMN_TY_ACP || ty == CMN_TY_SUB || ty == CMN_TY_GRP;
}

/* The rule of attribute key for type ty: universal/common, creator and custodian where
 * the type has them, then its own. */
static const attr_rule *rule_of(unsigned ty, const char *key)
{
    const attr_rule *r = find_rule(common_rules, key);

    if (r == NULL && has_creator(ty))
        r = find_rule(creator_rule, key);
    if (r == NULL && has_custodian(ty))
        r = find_rule(custodian_rule, key);
    return r != NULL ? r : find_rule(rules_for(ty), key);
}

static unsigned check_attr(unsigned ty, int release, int when, const char *key, json_t *v,
                           char *reason, size_t rlen)
{
    const attr_rule *r;

    /* tep keeps app rules to the admin: no policy may open them to others. */
    if (ty == CMN_TY_SASR && strcmp(key, "acpi") == 0) {
        snprintf(reason, rlen, "acpi_not_allowed:asar");
        return CMN_RSC_BAD_REQUEST;
    }
    /* TS-0001 9.6.2, 9.6.7: an <accessControlPolicy> and a <contentInstance> have no
     * accessControlPolicyIDs (their own pvs, their parent's policies decide). */
    if ((ty == CMN_TY_ACP || ty == CMN_TY_CIN) && strcmp(key, "acpi") == 0) {
        snprintf(reason, rlen, "acpi_not_an_attribute_of:%s", ty == CMN_TY_ACP ? "acp" : "cin");
        return CMN_RSC_BAD_REQUEST;
    }
    r = rule_of(ty, key);
    if (r == NULL || (r->when & when) == 0) {
        snprintf(reason, rlen, "unknown_or_readonly_attribute:%.40s", key);
        return CMN_RSC_BAD_REQUEST;
    }
    /* an attribute of a later release than the request's RVI: the client did not ask
     * for that release's semantics (TS-0004 6.4.1: the RVI the primitive complies with) */
    if (r->release > release) {
        snprintf(reason, rlen, "attribute_needs_release_%d:%.40s", r->release, key);
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

static unsigned check_mandatory(const attr_rule *rules, json_t *attrs, char *reason, size_t rlen)
{
    for (; rules->name != NULL; rules++) {
        if (rules->mandatory && json_object_get(attrs, rules->name) == NULL) {
            snprintf(reason, rlen, "missing:%s", rules->name);
            return CMN_RSC_BAD_REQUEST;
        }
    }
    return 0;
}

bool cse_validate_rn(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    /* TS-0004 6.2.4: resource-name = 1*unreserved, unreserved = (ALPHA / DIGIT)
     * *(ALPHA / DIGIT / "-" / "." / "_"): it starts with a letter or digit. */
    if (n == 0 || n > CSE_VALIDATE_RN_MAX)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
          (s[0] >= '0' && s[0] <= '9')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") == n;
}

int cse_validate_release(const char *rvi)
{
    if (rvi == NULL || rvi[0] < '1' || rvi[0] > '9')
        return 1; /* absent: a client of before RVI (Release 1 and 2) */
    return rvi[0] - '0';
}

unsigned cse_validate_create(unsigned ty, int release, json_t *attrs, char *ret_reason, size_t rlen)
{
    const attr_rule *rules = rules_for(ty);
    const char *key;
    json_t *v, *rn;
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
        rsc = check_attr(ty, release, W_C, key, v, ret_reason, rlen);
        if (rsc != 0)
            return rsc;
    }
    rn = json_object_get(attrs, "rn");
    if (rn != NULL && !cse_validate_rn(json_string_value(rn))) {
        snprintf(ret_reason, rlen, "bad_value:rn");
        return CMN_RSC_BAD_REQUEST;
    }
    return check_mandatory(rules, attrs, ret_reason, rlen);
}

unsigned cse_validate_update(unsigned ty, int release, json_t *attrs, char *ret_reason, size_t rlen)
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
    /* An empty object is a valid UPDATE: it changes nothing but lastModifiedTime. */
    if (!json_is_object(attrs)) {
        snprintf(ret_reason, rlen, "not_an_object");
        return CMN_RSC_BAD_REQUEST;
    }
    json_object_foreach(attrs, key, v) {
        rsc = check_attr(ty, release, W_U, key, v, ret_reason, rlen);
        if (rsc != 0)
            return rsc;
    }
    return 0;
}
