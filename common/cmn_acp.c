/* The reference access decision algorithm of TS-0003 7.1.5.
 *
 *   res_acrs   = res_acr(1) OR ... OR res_acr(K)            over every acr of every pv
 *   res_acr(k) = res_authn AND res_origs AND res_ops AND res_ctxts AND res_objd
 *
 * Permit-overrides: the first acr that evaluates TRUE permits and evaluation stops. An
 * acr that cannot be evaluated (malformed JSON, a context this version does not check)
 * counts as FALSE; when nothing permits, the result is Deny and the rule text says why,
 * naming the first indeterminate acr if there was one (TS-0003 7.1.4: indeterminate is
 * Deny). The evaluator is pure: no I/O, no clock, no allocation. */
#include "cmn_acp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmn_err.h"
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

/* Glob within one path segment (no '/' on either side): '*' matches any run. Classic
 * single-backtrack matcher, linear in practice. */
static bool segment_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < plen && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

/* TS-0003 7.1.3: "The scope of a '*' is terminated by a following '/' character". Both
 * sides are split at '/'; they match when they have the same number of segments and
 * each pattern segment matches its counterpart. */
bool cmn_acp_acor_match(const char *pattern, const char *originator)
{
    if (pattern == NULL || originator == NULL)
        return false;
    if (strcmp(pattern, "all") == 0)
        return true;
    if (originator[0] == '\0')
        return false;
    for (;;) {
        const char *pe = strchr(pattern, '/');
        const char *oe = strchr(originator, '/');
        size_t plen = pe ? (size_t)(pe - pattern) : strlen(pattern);
        size_t olen = oe ? (size_t)(oe - originator) : strlen(originator);

        if (!segment_match(pattern, plen, originator, olen))
            return false;
        if (pe == NULL || oe == NULL)
            return pe == NULL && oe == NULL;
        pattern = pe + 1;
        originator = oe + 1;
    }
}

/* Role-IDs match exactly (wildcards are not applicable to Role IDs, TS-0003 7.1.3). */
static bool role_match(const char *entry, const cmn_acp_request *rq)
{
    for (size_t i = 0; i < rq->n_roles; i++) {
        if (rq->role_ids[i] != NULL && strcmp(rq->role_ids[i], entry) == 0)
            return true;
    }
    return false;
}

/* res_origs. acor has been checked to be an array of strings. */
static bool origs_match(const json_t *acor, const cmn_acp_request *rq)
{
    size_t i;
    const json_t *v;

    json_array_foreach(acor, i, v) {
        const char *entry = json_string_value(v);

        if (cmn_acp_acor_match(entry, rq->originator) || role_match(entry, rq))
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

/* Structure of one acod element: chty (mandatory) an integer array, ty an integer. */
static const char *acod_malformed(const json_t *od)
{
    const json_t *ty;

    if (!json_is_object(od))
        return "acod entry not an object";
    if (!is_int_array(json_object_get(od, "chty")))
        return "acod chty not an integer array";
    ty = json_object_get(od, "ty");
    if (ty != NULL && !json_is_integer(ty))
        return "acod ty not an integer";
    return NULL;
}

/* res_objdetails(k, m) for one well-formed acod element. spty cannot be checked (the
 * request does not carry the new resource's definition), so it never matches. */
static bool objdetail_match(const json_t *od, const cmn_acp_request *rq)
{
    const json_t *ty = json_object_get(od, "ty");

    if (json_object_get(od, "spty") != NULL)
        return false;
    if (ty != NULL && json_integer_value(ty) != (json_int_t)rq->target_ty)
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
    if (!json_is_integer(acop) || json_integer_value(acop) < 0)
        return "acop not a non-negative integer";
    acaf = json_object_get(acr, "acaf");
    if (acaf != NULL && !json_is_boolean(acaf))
        return "acaf not a boolean";
    acco = json_object_get(acr, "acco");
    if (acco != NULL && !json_is_array(acco))
        return "acco not an array";
    return acod_list_malformed(json_object_get(acr, "acod"));
}

static acr_outcome acr_evaluate(const json_t *acr, const cmn_acp_request *rq,
                                const char **ret_why)
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
    /* res_ctxts: time windows (actw), IP ranges (acip) and location regions (aclr) are
     * completed by the access-control issue. Until then an acr with contexts cannot be
     * decided, which TS-0003 7.1.4 makes a Deny; an empty acco means no contexts. */
    if (json_array_size(acco) > 0) {
        *ret_why = "acco not evaluated";
        return ACR_INDETERMINATE;
    }
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

int cmn_acp_evaluate(const cmn_acp_request *rq, json_t *const *privs, size_t n,
                     cmn_acp_result *ret)
{
    acp_eval ev = {.rq = rq};

    if (ret != NULL) {
        ret->permit = false;
        snprintf(ret->rule, sizeof(ret->rule), "%s", "bad request");
    }
    if (rq == NULL || ret == NULL || (privs == NULL && n > 0) || rq->originator == NULL ||
        !op_is_one_bit(rq->op) || (rq->role_ids == NULL && rq->n_roles > 0))
        return CMN_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (pv_permits(&ev, privs[i], i, ret)) {
            ret->permit = true;
            return 0;
        }
    }
    if (!ev.have_reason)
        set_reason(&ev, "%s", n == 0 ? "no policy" : "no matching acr");
    memcpy(ret->rule, ev.reason, sizeof(ret->rule));
    return 0;
}
