/* accessControlContexts (TS-0003 7.1.3 table 7.1.3-3, 7.1.5):
 *
 *   res_ctxts(k)      = res_context(k, 1) OR ... OR res_context(k, M)   (no acco: TRUE)
 *   res_context(k, m) = res_time(k, m) AND res_ip(k, m) AND res_loc(k, m)
 *
 * A part that is absent is TRUE; a part that cannot be decided (malformed value, the
 * request lacks the peer address or location) is FALSE. actw is TS-0004 7.4.9.1's
 * scheduleEntry in UTC; acip is CIDR compared on address bits; aclr is a country code
 * list or a circle (Annex F). See docs/access-control.md. */
#include "cmn_acp.h"

#include <arpa/inet.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmn_err.h"

/* ---- actw: scheduleEntry ----------------------------------------------------------- */

typedef struct {
    int min, max;
} sched_range;

/* sec min hour dom month dow year; dow 0 = Sunday. */
static const sched_range sched_fields[7] = {
    {0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}, {2000, 9999},
};

/* A number is 1 to 4 decimal digits; advances *i. */
static bool sched_num(const char *s, size_t n, size_t *i, int *ret)
{
    size_t start = *i;
    int v = 0;

    while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < 4)
        v = v * 10 + (s[(*i)++] - '0');
    if (*i == start || (*i < n && s[*i] >= '0' && s[*i] <= '9'))
        return false;
    *ret = v;
    return true;
}

/* element = "*" ["/" step] | num | num "-" num ["/" step]. 1, 0, or -1 if malformed. */
static int sched_element(const char *s, size_t n, const sched_range *r, int v)
{
    size_t i = 0;
    int lo = r->min, hi = r->max, step = 1;
    bool stepable = true;

    if (n > 0 && s[0] == '*') {
        i = 1;
    } else {
        if (!sched_num(s, n, &i, &lo))
            return -1;
        hi = lo;
        stepable = i < n && s[i] == '-'; /* only a range (or '*') takes a step */
        if (stepable) {
            i++;
            if (!sched_num(s, n, &i, &hi))
                return -1;
        }
        if (lo < r->min || hi > r->max || lo > hi)
            return -1;
    }
    if (i < n && s[i] == '/') {
        i++;
        if (!stepable || !sched_num(s, n, &i, &step) || step < 1)
            return -1;
    }
    if (i != n)
        return -1;
    return v >= lo && v <= hi && (v - lo) % step == 0;
}

/* A field is a comma-separated list of elements; every element must be well formed. */
static int sched_field(const char *s, size_t n, const sched_range *r, int v)
{
    int any = 0;

    for (;;) {
        const char *comma = memchr(s, ',', n);
        size_t len = comma != NULL ? (size_t)(comma - s) : n;
        int m = sched_element(s, len, r, v);

        if (m < 0)
            return -1;
        any |= m;
        if (comma == NULL)
            return any;
        n -= len + 1;
        s = comma + 1;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int cmn_acp_schedule_match(const char *entry, int64_t now)
{
    time_t t = (time_t)now;
    struct tm tm;
    int vals[7], nf = 0, all = 1;
    const char *p = entry;

    if (entry == NULL || gmtime_r(&t, &tm) == NULL)
        return CMN_EINVAL;
    vals[0] = tm.tm_sec;
    vals[1] = tm.tm_min, vals[2] = tm.tm_hour, vals[3] = tm.tm_mday;
    vals[4] = tm.tm_mon + 1, vals[5] = tm.tm_wday, vals[6] = tm.tm_year + 1900;
    for (;;) {
        size_t len = 0;
        int m;

        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        while (p[len] != '\0' && !is_blank(p[len]))
            len++;
        if (nf == 7)
            return CMN_EINVAL;
        m = sched_field(p, len, &sched_fields[nf], vals[nf]);
        if (m < 0)
            return CMN_EINVAL;
        all &= m;
        nf++;
        p += len;
    }
    return nf == 7 ? all : CMN_EINVAL;
}

/* ---- acip: CIDR ---------------------------------------------------------------------- */

typedef struct {
    int family; /* 4 or 6 */
    unsigned char a[16];
} acp_addr;

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool parse_addr(const char *s, int family, acp_addr *ret)
{
    ret->family = family;
    return inet_pton(family == 4 ? AF_INET : AF_INET6, s, ret->a) == 1;
}

/* The peer as seen on the socket; an IPv4-mapped IPv6 address is the IPv4 one. */
static bool parse_peer(const char *s, acp_addr *ret)
{
    if (strchr(s, ':') == NULL)
        return parse_addr(s, 4, ret);
    if (!parse_addr(s, 6, ret))
        return false;
    if (memcmp(ret->a, v4mapped, sizeof(v4mapped)) == 0) {
        memmove(ret->a, ret->a + 12, 4);
        ret->family = 4;
    }
    return true;
}

/* "/" then 1 to 3 digits, at most max. */
static bool parse_prefix(const char *s, int max, int *ret)
{
    size_t n = strlen(s);
    int v = 0;

    if (n == 0 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return v <= max;
}

static bool prefix_equal(const unsigned char *x, const unsigned char *y, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));

    if (memcmp(x, y, (size_t)bytes) != 0)
        return false;
    return rest == 0 || ((x[bytes] ^ y[bytes]) & mask) == 0;
}

int cmn_acp_cidr_match(const char *entry, int family, const char *peer_ip)
{
    char buf[INET6_ADDRSTRLEN + 8];
    const char *slash;
    acp_addr net, peer;
    int max = family == 4 ? 32 : 128, bits = max;

    if (entry == NULL || peer_ip == NULL || (family != 4 && family != 6) ||
        strlen(entry) >= sizeof(buf))
        return CMN_EINVAL;
    memcpy(buf, entry, strlen(entry) + 1);
    slash = strchr(buf, '/');
    if (slash != NULL) {
        buf[slash - buf] = '\0';
        if (!parse_prefix(slash + 1, max, &bits))
            return CMN_EINVAL;
    }
    if (!parse_addr(buf, family, &net) || !parse_peer(peer_ip, &peer))
        return CMN_EINVAL;
    return peer.family == family && prefix_equal(net.a, peer.a, bits);
}

/* res_ip: the peer matches one entry of ipv4 or ipv6 (acip present: an address needed). */
static bool ip_match(const json_t *acip, const cmn_acp_request *rq)
{
    static const struct {
        const char *key;
        int family;
    } lists[] = {{"ipv4", 4}, {"ipv6", 6}};
    const json_t *v;
    size_t i;

    if (!json_is_object(acip) || rq->peer_ip == NULL)
        return false;
    for (size_t l = 0; l < 2; l++) {
        const json_t *list = json_object_get(acip, lists[l].key);

        if (list != NULL && !json_is_array(list))
            return false;
        json_array_foreach(list, i, v) {
            if (cmn_acp_cidr_match(json_string_value(v), lists[l].family, rq->peer_ip) == 1)
                return true;
        }
    }
    return false;
}

/* ---- aclr: location region ------------------------------------------------------------ */

double cmn_acp_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

    if (h > 1.0)
        h = 1.0;
    return 2.0 * r * asin(sqrt(h));
}

static bool country_match(const json_t *accc, const cmn_acp_request *rq)
{
    const json_t *v;
    size_t i;

    if (!json_is_array(accc) || rq->loc_country == NULL)
        return false;
    json_array_foreach(accc, i, v) {
        const char *cc = json_string_value(v);

        if (cc != NULL && strcasecmp(cc, rq->loc_country) == 0)
            return true;
    }
    return false;
}

/* accr = [lat, lon, radius_m]; the request's point must lie within (boundary included). */
static bool circle_match(const json_t *accr, const cmn_acp_request *rq)
{
    double lat, lon, radius;

    if (!json_is_array(accr) || json_array_size(accr) != 3 || !rq->has_loc_point)
        return false;
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_number(json_array_get(accr, i)))
            return false;
    }
    lat = json_number_value(json_array_get(accr, 0));
    lon = json_number_value(json_array_get(accr, 1));
    radius = json_number_value(json_array_get(accr, 2));
    if (fabs(lat) > 90.0 || fabs(lon) > 180.0 || !(radius >= 0.0) || fabs(rq->loc_lat) > 90.0 ||
        fabs(rq->loc_lon) > 180.0)
        return false;
    return cmn_acp_distance_m(lat, lon, rq->loc_lat, rq->loc_lon) <= radius;
}

/* res_loc: m2m:locationRegion is a choice of accc (countries) or accr (a circle). */
static bool loc_match(const json_t *aclr, const cmn_acp_request *rq)
{
    const json_t *accc, *accr;

    if (!json_is_object(aclr))
        return false;
    accc = json_object_get(aclr, "accc");
    accr = json_object_get(aclr, "accr");
    if ((accc == NULL) == (accr == NULL))
        return false;
    return accc != NULL ? country_match(accc, rq) : circle_match(accr, rq);
}

/* ---- acco ----------------------------------------------------------------------------- */

/* res_time: absent or empty actw is no time restriction. */
static bool time_match(const json_t *actw, const cmn_acp_request *rq)
{
    const json_t *v;
    size_t i;

    if (actw == NULL)
        return true;
    if (!json_is_array(actw))
        return false;
    if (json_array_size(actw) == 0)
        return true;
    json_array_foreach(actw, i, v) {
        if (cmn_acp_schedule_match(json_string_value(v), rq->now) == 1)
            return true;
    }
    return false;
}

static bool context_match(const json_t *ctx, const cmn_acp_request *rq)
{
    const json_t *acip, *aclr;

    if (!json_is_object(ctx))
        return false;
    acip = json_object_get(ctx, "acip");
    aclr = json_object_get(ctx, "aclr");
    return time_match(json_object_get(ctx, "actw"), rq) && (acip == NULL || ip_match(acip, rq)) &&
           (aclr == NULL || loc_match(aclr, rq));
}

bool cmn_acp_contexts_match(const json_t *acco, const cmn_acp_request *rq)
{
    const json_t *ctx;
    size_t i;

    if (acco == NULL || (json_is_array(acco) && json_array_size(acco) == 0))
        return true;
    if (!json_is_array(acco))
        return false;
    json_array_foreach(acco, i, ctx) {
        if (context_match(ctx, rq))
            return true;
    }
    return false;
}
