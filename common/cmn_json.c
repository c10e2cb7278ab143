/* oneM2M JSON helpers on jansson: the "m2m:<short name>" wrapper of a resource
 * representation (TS-0004 8.2.3, Table 8.2.3-5 resource type short names) and the
 * oneM2M timestamp "YYYYMMDDTHHMMSS" (TS-0004 6.3.3, ISO 8601 basic format, UTC). */
#include "cmn_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"

static const struct {
    unsigned ty;
    const char *key;
} ty_keys[] = {
    {CMN_TY_ACP, "m2m:acp"}, {CMN_TY_AE, "m2m:ae"},      {CMN_TY_CNT, "m2m:cnt"},
    {CMN_TY_CIN, "m2m:cin"}, {CMN_TY_CSEBASE, "m2m:cb"}, {CMN_TY_GRP, "m2m:grp"},
    {CMN_TY_CSR, "m2m:csr"}, {CMN_TY_SASR, "m2m:asar"},  {CMN_TY_SUB, "m2m:sub"},
    {CMN_TY_DAC, "m2m:dac"},
};

const char *cmn_json_ty_key(unsigned ty)
{
    for (size_t i = 0; i < sizeof(ty_keys) / sizeof(ty_keys[0]); i++) {
        if (ty_keys[i].ty == ty)
            return ty_keys[i].key;
    }
    return NULL;
}

int cmn_json_unwrap(json_t *root, unsigned ty, json_t **ret_obj)
{
    const char *key = cmn_json_ty_key(ty);
    json_t *obj;

    if (ret_obj == NULL)
        return CMN_EINVAL;
    *ret_obj = NULL;
    if (key == NULL || !json_is_object(root) || json_object_size(root) != 1)
        return CMN_EINVAL;
    obj = json_object_get(root, key);
    if (!json_is_object(obj))
        return CMN_EINVAL;
    *ret_obj = obj;
    return 0;
}

/* Years outside 0000..9999 do not fit the format: clamp to its ends. */
void cmn_json_timestamp(int64_t unix_secs, char ret[16])
{
    static const int64_t min_secs = -62167219200LL; /* 0000-01-01T00:00:00Z */
    static const int64_t max_secs = 253402300799LL; /* 9999-12-31T23:59:59Z */
    struct tm tm;
    time_t t;

    if (unix_secs < min_secs)
        unix_secs = min_secs;
    if (unix_secs > max_secs)
        unix_secs = max_secs;
    t = (time_t)unix_secs;
    gmtime_r(&t, &tm);
    if (strftime(ret, 16, "%Y%m%dT%H%M%S", &tm) != 15)
        snprintf(ret, 16, "00000101T000000");
}

static int digits(const char *s, size_t n, int *ret)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CMN_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

/* After the 15 characters: nothing, ",fraction" (ignored) and/or "Z". */
static int tail_valid(const char *s)
{
    if (*s == ',' || *s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z')
        s++;
    return *s == '\0';
}

int cmn_json_parse_timestamp(const char *s, int64_t *ret_unix_secs)
{
    int y, mo, d, h, mi, se;
    struct tm tm = {0}, back;
    time_t t;

    if (s == NULL || ret_unix_secs == NULL || strnlen(s, 15) < 15 || s[8] != 'T')
        return CMN_EINVAL;
    if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
        digits(s + 11, 2, &mi) || digits(s + 13, 2, &se) || !tail_valid(s + 15))
        return CMN_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    /* timegm normalises 20250230 to March 2nd: a round trip catches such dates */
    if (gmtime_r(&t, &back) == NULL || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
        back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != se)
        return CMN_EINVAL;
    *ret_unix_secs = (int64_t)t;
    return 0;
}
