/* The reference access decision algorithm of TS-0003 7.1.5.
 *
 *   res_acrs   = res_acr(1) OR ... OR res_acr(K)            over every acr of every pv
 *   res_acr(k) = res_authn AND res_origs AND res_ops AND res_ctxts AND res_objd
 *
 * Permit-overrides: the first acr that evaluates TRUE permits and evaluation stops. An
 * acr whose fields have the wrong type counts as FALSE; when nothing permits, the result
 * is Deny and the rule text says why, naming the first malformed acr if there was one
 * (TS-0003 7.1.4: indeterminate is Deny). Contexts (res_ctxts) are in cmn_acp_ctx.c;
 * originators are compared in absolute form (acp_id below). docs/access-control.md
 * states every choice. The evaluator is pure: no I/O, no clock, no allocation. */
#include "cmn_acp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_glob.h"
#include "cmn_onem2m.h"

/* Outcome of one acr. */
typedef enum { ACR_NO_MATCH, ACR_MATCH, ACR_INDETERMINATE } acr_outcome;

/* Evaluation state: the deny reason is the first indeterminate one seen. */
typedef struct {
    const cmn_acp_request *rq;
    char reason[sizeof(((cmn_acp_result *)0)->rule)];
    bool have_reason;
} acp_eval;

static void set_reason(acp_eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(acp_eval *ev, const char *fmt, ...)
{
    va_list ap;

    if (ev->have_reason)
        return;
    va_start(ap, fmt);
    vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
    va_end(ap);
    ev->have_reason = true;
}

/* ---- acor: originators ------------------------------------------------------------ */

/* An ID seen through its absolute form "//sp/cse/..." without copying: up to six
 * borrowed pieces read as one string (the evaluator does not allocate). */
typedef struct {
    const char *p[6];
    size_t n[6];
    size_t np, len;
} acp_id;

static void id_add(acp_id *id, const char *s, size_t n)
{
    id->p[id->np] = s;
    id->n[id->np++] = n;
    id->len += n;
}

static char id_at(const acp_id *id, size_t i)
{
    for (size_t k = 0; k < id->np; k++) {
        if (i < id->n[k])
            return id->p[k][i];
        i -= id->n[k];
    }
    return '\0';
}

/* Index of the next '/' at or after i, or len. */
static size_t id_next_slash(const acp_id *id, size_t i)
{
    while (i < id->len && id_at(id, i) != '/')
        i++;
    return i;
}

static bool normalising(const cmn_acp_request *rq)
{
    return rq != NULL && rq->cse_id != NULL && rq->cse_id[0] != '\0' && rq->sp_id != NULL &&
           rq->sp_id[0] != '\0';
}

/* "//x" stays; "/cse/x" becomes "//sp/cse/x"; "x" (CSE-relative) "//sp/<cse-id>/x",
 * but for an AE-ID-Stem starting with 'S', unique in the SP domain, whose SP-relative
 * form is "/Sx" (TS-0001 7.2, table 7.2-1): "Sx" becomes "//sp/Sx". */
static void id_make(acp_id *ret, const char *raw, const cmn_acp_request *rq)
{
    const char *sp;

    memset(ret, 0, sizeof(*ret));
    if (!normalising(rq) || strncmp(raw, "//", 2) == 0) {
        id_add(ret, raw, strlen(raw));
        return;
    }
    sp = strncmp(rq->sp_id, "//", 2) == 0 ? rq->sp_id + 2 : rq->sp_id;
    id_add(ret, "//", 2);
    id_add(ret, sp, strlen(sp));
    if (raw[0] == 'S') {
        id_add(ret, "/", 1);
    } else if (raw[0] != '/') {
        if (rq->cse_id[0] != '/')
            id_add(ret, "/", 1);
        id_add(ret, rq->cse_id, strlen(rq->cse_id));
        id_add(ret, "/", 1);
    }
    id_add(ret, raw, strlen(raw));
}

/* Longest segment of an acor entry or originator that can match (longer: no match). */
#define SEGMENT_MAX 512

static bool id_copy(const acp_id *id, size_t i, size_t e, char *buf)
{
    if (e - i > SEGMENT_MAX)
        return false;
    for (size_t k = i; k < e; k++)
        buf[k - i] = id_at(id, k);
    return true;
}

/* Glob within one path segment (no '/' on either side): '*' matches any run, in linear
 * time (cmn_glob) over pat[pi, pe) and org[si, se). */
static bool segment_match(const acp_id *pat, size_t pi, size_t pe, const acp_id *org, size_t si,
                          size_t se)
{
    char p[SEGMENT_MAX], o[SEGMENT_MAX];

    return id_copy(pat, pi, pe, p) && id_copy(org, si, se, o) &&
           cmn_glob_matchn(p, pe - pi, o, se - si, 0, NULL);
}

/* TS-0003 7.1.3: "The scope of a '*' is terminated by a following '/' character". Both
 * sides are split at '/'; they match when they have the same number of segments and
 * each pattern segment matches its counterpart. */
static bool id_match(const acp_id *pat, const acp_id *org)
{
    size_t pi = 0, oi = 0;

    for (;;) {
        size_t pe = id_next_slash(pat, pi), oe = id_next_slash(org, oi);

        if (!segment_match(pat, pi, pe, org, oi, oe))
            return false;
        if (pe == pat->len || oe == org->len)
            return pe == pat->len && oe == org->len;
        pi = pe + 1;
        oi = oe + 1;
    }
}

bool cmn_acp_acor_match(const char *pattern, const char *originator)
{
    acp_id p, o;

    if (pattern == NULL || originator == NULL)
        return false;
    if (strcmp(pattern, "all") == 0)
        return true;
    if (originator[0] == '\0')
        return false;
    id_make(&p, pattern, NULL);
    id_make(&o, originator, NULL);
    return id_match(&p, &o);
}

bool cmn_acp_same_originator(const char *a, const char *b, const char *cse_id, const char *sp_id)
{
    cmn_acp_request rq = {.cse_id = cse_id, .sp_id = sp_id};
    acp_id x, y;

    if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
        return false;
    id_make(&x, a, &rq);
    id_make(&y, b, &rq);
    if (x.len != y.len)
        return false;
    for (size_t i = 0; i < x.len; i++) {
        if (id_at(&x, i) != id_at(&y, i))
            return false;
    }
    return true;
}

/* An SP domain "//m2msp.org" (nothing after it) covers every ID of that SP, literally
 * (wildcards do not apply to SP domains). */
static bool sp_domain_match(const char *entry, const acp_id *org)
{
    size_t dlen = strlen(entry + 2), end;

    if (org->len < 2 || id_at(org, 0) != '/' || id_at(org, 1) != '/')
        return false;
    end = id_next_slash(org, 2);
    if (end - 2 != dlen)
        return false;
    for (size_t i = 0; i < dlen; i++) {
        if (id_at(org, 2 + i) != entry[2 + i])
            return false;
    }
    return true;
}

static bool list_contains(const char *const *list, size_t n, const char *entry)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] != NULL && strcmp(list[i], entry) == 0)
            return true;
    }
    return false;
}

/* One acor entry: "all"; a Role-ID or <group> resource ID the originator holds (exact,
 * no wildcards); an SP domain; a CSE-ID or AE-ID in any form, with '*' per segment. */
static bool entry_match(const char *entry, const acp_id *org, const cmn_acp_request *rq)
{
    acp_id pat;

    if (strcmp(entry, "all") == 0 || list_contains(rq->role_ids, rq->n_roles, entry) ||
        list_contains(rq->group_ids, rq->n_groups, entry))
        return true;
    if (rq->originator[0] == '\0')
        return false;
    if (strncmp(entry, "//", 2) == 0 && strchr(entry + 2, '/') == NULL)
        return sp_domain_match(entry, org);
    id_make(&pat, entry, rq);
    return id_match(&pat, org);
}

/* res_origs. acor has been checked to be an array of strings. */
static bool origs_match(const json_t *acor, const cmn_acp_request *rq)
{
    acp_id org;
    size_t i;
    const json_t *v;

    id_make(&org, rq->originator, rq);
    json_array_foreach(acor, i, v) {
        if (entry_match(json_string_value(v), &org, rq))
            return true;
    }
    return false;
}

/* ---- acod: object details (CREATE only) -------------------------------------------- */

static bool int_array_contains(const json_t *arr, json_int_t want)
{
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v) {
        if (json_integer_value(v) == want)
            return true;
    }
    return false;
}

static bool is_int_array(const json_t *arr)
{
    size_t i;
    const json_t *v;

    if (!json_is_array(arr))
        return false;
    json_array_foreach(arr, i, v) {
        if (!json_is_integer(v))
            return false;
    }
    return true;
}

/* Structure of one acod element: chty (mandatory) an integer array, ty an integer, spty
 * a string or an integer (containerDefinition / mgmtDefinition). */
static const char *acod_malformed(const json_t *od)
{
    const json_t *ty, *spty;

    if (!json_is_object(od))
        return "acod entry not an object";
    if (!is_int_array(json_object_get(od, "chty")))
        return "acod chty not an integer array";
    ty = json_object_get(od, "ty");
    if (ty != NULL && !json_is_integer(ty))
        return "acod ty not an integer";
    spty = json_object_get(od, "spty");
    if (spty != NULL && !json_is_string(spty) && !json_is_integer(spty))
        return "acod spty not a string or integer";
    return NULL;
}

/* spty against the target's specialization, an integer compared in decimal. */
static bool spty_match(const json_t *spty, const cmn_acp_request *rq)
{
    char num[24];

    if (rq->target_spty == NULL)
        return false;
    if (json_is_string(spty))
        return strcmp(json_string_value(spty), rq->target_spty) == 0;
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(spty));
    return strcmp(num, rq->target_spty) == 0;
}

/* res_objdetails(k, m) for one well-formed acod element: ty and spty, when present,
 * against the target (TS-0003 7.1.3), then chty against the type being created. */
static bool objdetail_match(const json_t *od, const cmn_acp_request *rq)
{
    const json_t *ty = json_object_get(od, "ty");
    const json_t *spty = json_object_get(od, "spty");

    if (ty != NULL && json_integer_value(ty) != (json_int_t)rq->target_ty)
        return false;
    if (spty != NULL && !spty_match(spty, rq))
        return false;
    return int_array_contains(json_object_get(od, "chty"), (json_int_t)rq->new_ty);
}

/* res_objd: TRUE for every operation but CREATE; for CREATE, OR over the acod
 * elements (absent or empty acod: the rule applies to all child types). */
static bool objd_match(const json_t *acod, const cmn_acp_request *rq)
{
    size_t i;
    const json_t *od;

    if (rq->op != CMN_ACOP_CREATE || acod == NULL || json_array_size(acod) == 0)
        return true;
    json_array_foreach(acod, i, od) {
        if (objdetail_match(od, rq))
            return true;
    }
    return false;
}

/* ---- one acr ------------------------------------------------------------------------ */

static const char *acor_malformed(const json_t *acor)
{
    size_t i;
    const json_t *v;

    if (!json_is_array(acor))
        return "acor not an array";
    json_array_foreach(acor, i, v) {
        if (!json_is_string(v))
            return "acor entry not a string";
    }
    return NULL;
}

static const char *acod_list_malformed(const json_t *acod)
{
    size_t i;
    const json_t *od;

    if (acod == NULL)
        return NULL;
    if (!json_is_array(acod))
        return "acod not an array";
    json_array_foreach(acod, i, od) {
        const char *why = acod_malformed(od);

        if (why != NULL)
            return why;
    }
    return NULL;
}

/* NULL when the acr can be evaluated, else why not. */
static const char *acr_malformed(const json_t *acr)
{
    const json_t *acop, *acaf, *acco;
    const char *why;

    if (!json_is_object(acr))
        return "acr entry not an object";
    if ((why = acor_malformed(json_object_get(acr, "acor"))) != NULL)
        return why;
    acop = json_object_get(acr, "acop");
    if (!json_is_integer(acop) || json_integer_value(acop) < 0 ||
        json_integer_value(acop) > CMN_ACOP_ALL)
        return "acop not an integer in 0..63";
    acaf = json_object_get(acr, "acaf");
    if (acaf != NULL && !json_is_boolean(acaf))
        return "acaf not a boolean";
    acco = json_object_get(acr, "acco");
    if (acco != NULL && !json_is_array(acco))
        return "acco not an array";
    return acod_list_malformed(json_object_get(acr, "acod"));
}

static acr_outcome acr_evaluate(const json_t *acr, const cmn_acp_request *rq, const char **ret_why)
{
    const json_t *acco = json_object_get(acr, "acco");

    *ret_why = acr_malformed(acr);
    if (*ret_why != NULL)
        return ACR_INDETERMINATE;
    if (json_is_true(json_object_get(acr, "acaf")) && !rq->rq_authn)
        return ACR_NO_MATCH; /* res_authn, Table 7.1.5-1 */
    if (((uint64_t)json_integer_value(json_object_get(acr, "acop")) & rq->op) == 0)
        return ACR_NO_MATCH; /* res_ops */
    if (!origs_match(json_object_get(acr, "acor"), rq))
        return ACR_NO_MATCH; /* res_origs */
    if (!objd_match(json_object_get(acr, "acod"), rq))
        return ACR_NO_MATCH; /* res_objd */
    if (!cmn_acp_contexts_match(acco, rq))
        return ACR_NO_MATCH; /* res_ctxts */
    return ACR_MATCH;
}

/* ---- one pv, every pv --------------------------------------------------------------- */

/* true when an acr of pv permits; fills ret->rule with "acp[i].acr[j]". */
static bool pv_permits(acp_eval *ev, const json_t *pv, size_t i, cmn_acp_result *ret)
{
    const json_t *acrs = json_is_object(pv) ? json_object_get(pv, "acr") : NULL;
    const json_t *acr;
    size_t j;

    if (!json_is_object(pv)) {
        set_reason(ev, "acp[%zu]: pv not an object", i);
        return false;
    }
    if (!json_is_array(acrs)) {
        set_reason(ev, "acp[%zu]: acr not an array", i);
        return false;
    }
    json_array_foreach(acrs, j, acr) {
        const char *why = NULL;
        acr_outcome o = acr_evaluate(acr, ev->rq, &why);

        if (o == ACR_MATCH) {
            snprintf(ret->rule, sizeof(ret->rule), "acp[%zu].acr[%zu]", i, j);
            return true;
        }
        if (o == ACR_INDETERMINATE)
            set_reason(ev, "acp[%zu].acr[%zu]: %s", i, j, why);
    }
    return false;
}

static bool op_is_one_bit(uint32_t op)
{
    return op != 0 && (op & (op - 1)) == 0 && op <= CMN_ACOP_DISCOVERY;
}

static bool request_valid(const cmn_acp_request *rq)
{
    return rq->originator != NULL && op_is_one_bit(rq->op) &&
           (rq->role_ids != NULL || rq->n_roles == 0) &&
           (rq->group_ids != NULL || rq->n_groups == 0);
}

/* The privileges of items[i]: the item itself, or its attr ("pv"/"pvs") when attr is
 * given, looking through an "m2m:acp" wrapper. */
static const json_t *privileges_of(const json_t *item, const char *attr)
{
    const json_t *wrapped;

    if (attr == NULL || !json_is_object(item))
        return attr == NULL ? item : NULL;
    wrapped = json_object_get(item, "m2m:acp");
    return json_object_get(wrapped != NULL ? wrapped : item, attr);
}

static int evaluate(const cmn_acp_request *rq, json_t *const *items, size_t n, const char *attr,
                    cmn_acp_result *ret)
{
    acp_eval ev = {.rq = rq};

    if (ret != NULL) {
        ret->permit = false;
        snprintf(ret->rule, sizeof(ret->rule), "%s", "bad request");
    }
    if (rq == NULL || ret == NULL || (items == NULL && n > 0) || !request_valid(rq))
        return CMN_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (pv_permits(&ev, privileges_of(items[i], attr), i, ret)) {
            ret->permit = true;
            return 0;
        }
    }
    if (!ev.have_reason)
        set_reason(&ev, "%s", n == 0 ? "no policy" : "no matching acr");
    memcpy(ret->rule, ev.reason, sizeof(ret->rule));
    return 0;
}

int cmn_acp_evaluate(const cmn_acp_request *rq, json_t *const *privs, size_t n, cmn_acp_result *ret)
{
    return evaluate(rq, privs, n, NULL, ret);
}

int cmn_acp_evaluate_acps(const cmn_acp_request *rq, json_t *const *acps, size_t n,
                          cmn_acp_result *ret)
{
    bool self = rq != NULL && rq->target_ty == CMN_TY_ACP;

    return evaluate(rq, acps, n, self ? "pvs" : "pv", ret);
}
