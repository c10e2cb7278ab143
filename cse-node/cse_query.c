/* Uri-Query parameters of a oneM2M request (see cse_query.h). */
#include "cse_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_json.h"

#define QUERY_MAX 2048

static int parse_long(const char *v, long min, long max, long *ret)
{
    char *end = NULL;
    long n;

    if (v[0] == '\0' || v[0] == '+' || v[0] == '-' || v[0] == ' ')
        return CMN_EINVAL;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return CMN_EINVAL;
    *ret = n;
    return 0;
}

/* ty=3+4 and lbl=a+b: '+'-separated values, each added. */
static int add_list(const char *key, const char *v, cse_query *q)
{
    char buf[256];
    char *save = NULL, *tok;
    long n;

    if (strlen(v) >= sizeof(buf) || v[0] == '\0')
        return CMN_EINVAL;
    strcpy(buf, v);
    for (tok = strtok_r(buf, "+", &save); tok != NULL; tok = strtok_r(NULL, "+", &save)) {
        if (key[0] == 't') {
            if (q->n_ty >= CSE_QUERY_MAX_TY || parse_long(tok, 1, 65535, &n) != 0)
                return CMN_EINVAL;
            q->ty[q->n_ty++] = (unsigned)n;
        } else {
            if (q->n_lbl >= CSE_QUERY_MAX_LBL || strlen(tok) >= sizeof(q->lbl[0]))
                return CMN_EINVAL;
            strcpy(q->lbl[q->n_lbl++], tok);
        }
    }
    q->has_fc = true;
    return 0;
}

static int set_time(const char *v, int64_t *ret, cse_query *q)
{
    q->has_fc = true;
    return cmn_json_parse_timestamp(v, ret) == 0 ? 0 : CMN_EINVAL;
}

static int set_num(const char *v, long min, long max, long *ret, bool fc, cse_query *q)
{
    q->has_fc |= fc;
    return parse_long(v, min, max, ret);
}

static int set_tag(const char *v, int64_t *ret, cse_query *q)
{
    long n;

    q->has_fc = true;
    if (parse_long(v, 0, 0x7fffffffL, &n) != 0)
        return CMN_EINVAL;
    *ret = n;
    return 0;
}

static int set_small(const char *v, long min, long max, int *ret)
{
    long n;

    if (parse_long(v, min, max, &n) != 0)
        return CMN_EINVAL;
    *ret = (int)n;
    return 0;
}

static int one_param(const char *k, const char *v, cse_query *q)
{
    if (strcmp(k, "rcn") == 0)
        return set_small(v, 0, 11, &q->rcn);
    if (strcmp(k, "drt") == 0)
        return set_small(v, 1, 2, &q->drt);
    if (strcmp(k, "fu") == 0)
        return set_small(v, 1, 3, &q->fu);
    if (strcmp(k, "ty") == 0 || strcmp(k, "lbl") == 0)
        return add_list(k, v, q);
    if (strcmp(k, "cra") == 0)
        return set_time(v, &q->cra, q);
    if (strcmp(k, "crb") == 0)
        return set_time(v, &q->crb, q);
    if (strcmp(k, "ms") == 0)
        return set_time(v, &q->ms, q);
    if (strcmp(k, "us") == 0)
        return set_time(v, &q->us, q);
    if (strcmp(k, "sts") == 0)
        return set_tag(v, &q->sts, q);
    if (strcmp(k, "stb") == 0)
        return set_tag(v, &q->stb, q);
    if (strcmp(k, "lim") == 0)
        return set_num(v, 0, 0x7fffffffL, &q->lim, true, q);
    if (strcmp(k, "lvl") == 0)
        return set_num(v, 1, 0x7fffffffL, &q->lvl, true, q);
    if (strcmp(k, "ofst") == 0)
        return set_num(v, 1, 0x7fffffffL, &q->ofst, true, q);
    return 0; /* other parameters (rt, rp, da, tkns, ...) are not acted on here */
}

static void defaults(cse_query *q)
{
    memset(q, 0, sizeof(*q));
    q->rcn = -1;
    q->drt = 1;
    q->fu = 2;
    q->sts = q->stb = -1;
    q->cra = q->crb = q->ms = q->us = CSE_QUERY_NO_TIME;
    q->lim = q->lvl = q->ofst = -1;
}

int cse_query_parse(const char *s, cse_query *ret, char *ret_reason, size_t rlen)
{
    char buf[QUERY_MAX];
    char *save = NULL, *tok, *eq;

    defaults(ret);
    ret_reason[0] = '\0';
    if (s == NULL || s[0] == '\0')
        return 0;
    if (strlen(s) >= sizeof(buf)) {
        snprintf(ret_reason, rlen, "query_too_long");
        return CMN_EINVAL;
    }
    strcpy(buf, s);
    for (tok = strtok_r(buf, "&", &save); tok != NULL; tok = strtok_r(NULL, "&", &save)) {
        eq = strchr(tok, '=');
        if (eq == NULL)
            continue; /* an empty or value-less Uri-Query is tolerated */
        *eq = '\0';
        if (one_param(tok, eq + 1, ret) != 0) {
            snprintf(ret_reason, rlen, "bad_query_parameter:%.32s", tok);
            return CMN_EINVAL;
        }
    }
    return 0;
}
