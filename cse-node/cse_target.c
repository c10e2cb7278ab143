/* Plain-CoAP targets tep-cse may send to (see cse_target.h). */
#include "cse_target.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"

static void mapped(const struct in_addr *v4, uint8_t out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, &v4->s_addr, 4);
}

/* sa as 16 bytes (IPv4 mapped) and its port; false for another family. */
static bool as16(const struct sockaddr *sa, uint8_t out[16], uint16_t *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        mapped(&in->sin_addr, out);
        *port = ntohs(in->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        memcpy(out, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

static bool in_prefix(const uint8_t a[16], const uint8_t p[16], unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, p, whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ p[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool is_v4(const uint8_t a[16])
{
    static const uint8_t pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a, pre, 12) == 0;
}

/* Loopback, unspecified, link-local, multicast or broadcast. */
static bool is_local(const uint8_t a[16])
{
    static const uint8_t zero[16] = {0};
    const uint8_t *v4 = a + 12;

    if (is_v4(a))
        return v4[0] == 127 || v4[0] == 0 || (v4[0] == 169 && v4[1] == 254) ||
               (v4[0] & 0xf0) == 0xe0 ||
               (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255);
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) /* :: and ::1 */
        return true;
    return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

static int parse_one(const char *tok, cse_target_prefix *p)
{
    char addr[64];
    const char *slash = strchr(tok, '/');
    size_t n = slash != NULL ? (size_t)(slash - tok) : strlen(tok);
    struct in_addr v4;
    struct in6_addr v6;
    unsigned max;
    char *end;
    long bits;

    if (n == 0 || n >= sizeof(addr))
        return CMN_ECONFIG;
    memcpy(addr, tok, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET, addr, &v4) == 1) {
        mapped(&v4, p->addr);
        max = 32;
    } else if (inet_pton(AF_INET6, addr, &v6) == 1) {
        memcpy(p->addr, &v6, 16);
        max = 128;
    } else {
        return CMN_ECONFIG;
    }
    bits = max;
    if (slash != NULL) {
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > (long)max)
            return CMN_ECONFIG;
    }
    p->bits = (unsigned)bits + (max == 32 ? 96 : 0);
    return 0;
}

int cse_targets_parse(const char *list, cse_targets *ret, char *err, size_t errlen)
{
    char buf[1024], *save = NULL, *tok;

    memset(ret, 0, sizeof(*ret));
    if (list == NULL || list[0] == '\0')
        return 0;
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "too long");
        return CMN_ECONFIG;
    }
    snprintf(buf, sizeof(buf), "%s", list);
    for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
        if (ret->n_allow == CSE_TARGET_PREFIX_MAX) {
            snprintf(err, errlen, "more than %d prefixes", CSE_TARGET_PREFIX_MAX);
            return CMN_ECONFIG;
        }
        if (parse_one(tok, &ret->allow[ret->n_allow]) != 0) {
            snprintf(err, errlen, "not an address or ADDRESS/BITS: \"%s\"", tok);
            return CMN_ECONFIG;
        }
        ret->n_allow++;
    }
    return 0;
}

int cse_targets_valid(const char *v, char *err, size_t errlen)
{
    cse_targets t;

    return cse_targets_parse(v, &t, err, errlen);
}

static uint16_t port_of(const char *listen)
{
    const char *colon = listen != NULL ? strrchr(listen, ':') : NULL;
    long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;

    return port > 0 && port < 65536 ? (uint16_t)port : 0;
}

void cse_targets_set_own(cse_targets *t, const char *coap_listen, const char *coaps_listen)
{
    struct ifaddrs *ifs = NULL, *i;
    uint16_t port;

    t->own_port[0] = port_of(coap_listen);
    t->own_port[1] = port_of(coaps_listen);
    if (getifaddrs(&ifs) != 0)
        return;
    for (i = ifs; i != NULL && t->n_own < CSE_TARGET_OWN_MAX; i = i->ifa_next) {
        if (i->ifa_addr != NULL && as16(i->ifa_addr, t->own_addr[t->n_own], &port))
            t->n_own++;
    }
    freeifaddrs(ifs);
}

static bool is_own(const cse_targets *t, const uint8_t a[16], uint16_t port)
{
    if (port == 0 || (port != t->own_port[0] && port != t->own_port[1]))
        return false;
    if (is_local(a))
        return true;
    for (size_t i = 0; i < t->n_own; i++) {
        if (memcmp(t->own_addr[i], a, 16) == 0)
            return true;
    }
    return false;
}

bool cse_targets_allowed(const cse_targets *t, const struct sockaddr *sa, const char **why)
{
    uint8_t a[16];
    uint16_t port = 0;

    if (t == NULL)
        return true;
    if (!as16(sa, a, &port)) {
        if (why != NULL)
            *why = "local_address";
        return false;
    }
    if (is_own(t, a, port)) {
        if (why != NULL)
            *why = "own_port";
        return false;
    }
    if (!is_local(a))
        return true;
    for (size_t i = 0; i < t->n_allow; i++) {
        if (in_prefix(a, t->allow[i].addr, t->allow[i].bits))
            return true;
    }
    if (why != NULL)
        *why = "local_address";
    return false;
}
