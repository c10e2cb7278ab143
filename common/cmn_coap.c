/* CoAP helpers for the oneM2M binding (TS-0008): option registration with libcoap and
 * reading/writing oneM2M options on PDUs. */
#include "cmn_coap.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmn_err.h"

/* TS-0008 V3.9.0 Table 6.2.2.4.0-1: every oneM2M option (all critical, unsafe). */
static const uint16_t onem2m_options[] = {
    CMN_OPT_OT,   CMN_OPT_RTURI, CMN_OPT_TY,  CMN_OPT_RVI, CMN_OPT_ASRI, CMN_OPT_FR,  CMN_OPT_RQI,
    CMN_OPT_RQET, CMN_OPT_RSET,  CMN_OPT_OET, CMN_OPT_EC,  CMN_OPT_RSC,  CMN_OPT_GID, CMN_OPT_CTO,
    CMN_OPT_CTS,  CMN_OPT_ATI,   CMN_OPT_VSI, CMN_OPT_GTM, CMN_OPT_AUS,
};
#define N_OPTIONS (sizeof(onem2m_options) / sizeof(onem2m_options[0]))

/* libcoap 4.3.1's coap_register_option() returns void and the context is opaque, so
 * the registration cannot be read back from ctx. It stores the number with
 * coap_option_filter_set() into ctx->known_options, a coap_opt_filter_t, and a fresh
 * context holds no option above 255 (libcoap registers none itself). So we replay the
 * same registrations into a fresh filter of the same type with the same library
 * function: if all of them fit there, they fit in ctx. Stock libcoap has 2 slots for
 * options above 255 and fails at the third; tep's patch raises that to 26.
 * (Options the caller registered itself above 255 before this call also take slots;
 * register the oneM2M options first.) */
int cmn_coap_register_options(coap_context_t *ctx)
{
    coap_opt_filter_t probe;
    if (ctx == NULL)
        return CMN_EINVAL;
    coap_option_filter_clear(&probe);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (coap_option_filter_set(&probe, onem2m_options[i]) != 1)
            return CMN_ECOAP;
    }
    for (size_t i = 0; i < N_OPTIONS; i++)
        coap_register_option(ctx, onem2m_options[i]);
    return 0;
}

int cmn_coap_opt_str(const coap_pdu_t *pdu, uint16_t num, char *buf, size_t len)
{
    coap_opt_iterator_t it;
    if (pdu == NULL || buf == NULL || len == 0)
        return CMN_EINVAL;
    return cmn_coap_opt_str_of(coap_check_option(pdu, num, &it), buf, len);
}

int cmn_coap_opt_str_of(const coap_opt_t *opt, char *buf, size_t len)
{
    size_t olen;

    if (buf == NULL || len == 0)
        return CMN_EINVAL;
    if (opt == NULL)
        return CMN_ENOTFOUND;
    olen = coap_opt_length(opt);
    if (olen >= len)
        return CMN_ERANGE;
    memcpy(buf, coap_opt_value(opt), olen);
    buf[olen] = '\0';
    if (memchr(buf, '\0', olen) != NULL)
        return CMN_EINVAL; /* an embedded NUL would silently truncate the value */
    return 0;
}

int cmn_coap_opt_uint(const coap_pdu_t *pdu, uint16_t num, uint32_t *ret)
{
    coap_opt_iterator_t it;
    if (pdu == NULL || ret == NULL)
        return CMN_EINVAL;
    return cmn_coap_opt_uint_of(coap_check_option(pdu, num, &it), ret);
}

int cmn_coap_opt_uint_of(const coap_opt_t *opt, uint32_t *ret)
{
    size_t olen;

    if (ret == NULL)
        return CMN_EINVAL;
    if (opt == NULL)
        return CMN_ENOTFOUND;
    olen = coap_opt_length(opt);
    if (olen > 4)
        return CMN_ERANGE;
    *ret = coap_decode_var_bytes(coap_opt_value(opt), olen);
    return 0;
}

/* Appends one segment (with a '/' before all but the first) at buf[*pos]. */
static int append_segment(char *buf, size_t len, size_t *pos, const uint8_t *seg, size_t slen)
{
    size_t need = (*pos ? 1 : 0) + slen;
    if (*pos + need >= len)
        return CMN_ERANGE;
    if (memchr(seg, '\0', slen) != NULL)
        return CMN_EINVAL;
    if (*pos)
        buf[(*pos)++] = '/';
    memcpy(buf + *pos, seg, slen);
    *pos += slen;
    buf[*pos] = '\0';
    return 0;
}

int cmn_coap_uri_path(const coap_pdu_t *pdu, char *buf, size_t len)
{
    coap_opt_iterator_t it;
    coap_opt_filter_t f;
    size_t pos;
    coap_opt_t *opt;
    if (pdu == NULL || buf == NULL || len == 0)
        return CMN_EINVAL;
    buf[0] = '\0';
    coap_option_filter_clear(&f);
    coap_option_filter_set(&f, COAP_OPTION_URI_PATH);
    coap_option_iterator_init(pdu, &it, &f);
    pos = 0;
    while ((opt = coap_option_next(&it)) != NULL) {
        int rc = append_segment(buf, len, &pos, coap_opt_value(opt), coap_opt_length(opt));
        if (rc)
            return rc;
    }
    return 0;
}

void cmn_coap_opts_scan(const coap_pdu_t *pdu, const uint16_t *nums, size_t n,
                        const coap_opt_t **ret, char *path, size_t plen, int *ret_path_rc)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;
    size_t pos = 0;

    for (size_t i = 0; i < n; i++)
        ret[i] = NULL;
    *ret_path_rc = plen > 0 ? 0 : CMN_EINVAL;
    if (plen > 0)
        path[0] = '\0';
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((opt = coap_option_next(&it)) != NULL) {
        if (it.number == COAP_OPTION_URI_PATH) {
            if (*ret_path_rc == 0)
                *ret_path_rc =
                    append_segment(path, plen, &pos, coap_opt_value(opt), coap_opt_length(opt));
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (nums[i] == it.number && ret[i] == NULL)
                ret[i] = opt;
        }
    }
}

static int optlist_add(coap_optlist_t **chain, uint16_t num, size_t len, const uint8_t *data)
{
    coap_optlist_t *node;

    if (chain == NULL)
        return CMN_EINVAL;
    node = coap_new_optlist(num, len, data);
    if (node == NULL)
        return CMN_ENOMEM;
    if (!coap_insert_optlist(chain, node))
        return CMN_ECOAP; /* only with a NULL node, excluded above */
    return 0;
}

int cmn_coap_optlist_str(coap_optlist_t **chain, uint16_t num, const char *s)
{
    if (s == NULL)
        return CMN_EINVAL;
    return optlist_add(chain, num, strlen(s), (const uint8_t *)s);
}

/* Minimal length encoding (RFC 7252 3.2): 0 is the empty option. */
int cmn_coap_optlist_uint(coap_optlist_t **chain, uint16_t num, uint32_t v)
{
    uint8_t buf[4];
    unsigned int n = coap_encode_var_safe(buf, sizeof(buf), v);
    return optlist_add(chain, num, n, buf);
}

int cmn_coap_resolve(const char *host, const char *port, bool numeric_only, coap_address_t *ret)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
                             .ai_flags = numeric_only ? AI_NUMERICHOST : AI_ADDRCONFIG};
    struct addrinfo *ai = NULL;
    int rc;

    if (host == NULL || host[0] == '\0')
        return CMN_EINVAL;
    if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0 || ai == NULL)
        return numeric_only && rc == EAI_NONAME ? CMN_EINVAL : CMN_ENOTFOUND;
    rc = CMN_EINVAL;
    if (ai->ai_addrlen <= sizeof(ret->addr)) {
        coap_address_init(ret);
        ret->size = ai->ai_addrlen;
        memcpy(&ret->addr, ai->ai_addr, ai->ai_addrlen);
        rc = 0;
    }
    freeaddrinfo(ai);
    return rc;
}

int cmn_coap_uri_address(const coap_uri_t *uri, bool numeric_only, coap_address_t *ret)
{
    char host[256], port[8];

    if (uri->host.length == 0 || uri->host.length >= sizeof(host))
        return CMN_EINVAL;
    memcpy(host, uri->host.s, uri->host.length);
    host[uri->host.length] = '\0';
    snprintf(port, sizeof(port), "%u", (unsigned)uri->port);
    return cmn_coap_resolve(host, port, numeric_only, ret);
}

int cmn_coap_parse_listen(const char *hp, coap_address_t *ret)
{
    char host[256];
    const char *colon = hp != NULL ? strrchr(hp, ':') : NULL;
    size_t hl;

    if (colon == NULL || (hl = (size_t)(colon - hp)) < 1 || hl >= sizeof(host))
        return CMN_EINVAL;
    if (hp[0] == '[' && hl >= 2 && colon[-1] == ']') {
        memcpy(host, hp + 1, hl - 2);
        host[hl - 2] = '\0';
    } else {
        memcpy(host, hp, hl);
        host[hl] = '\0';
    }
    return cmn_coap_resolve(host, colon + 1, true, ret) == 0 ? 0 : CMN_EINVAL;
}

bool cmn_coap_port_free(const coap_address_t *addr)
{
    int fd = socket(addr->addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && bind(fd, &addr->addr.sa, addr->size) == 0;

    if (fd >= 0)
        close(fd);
    return ok;
}

void cmn_coap_set_body_limits(coap_context_t *ctx, const cmn_body_limits *lim)
{
    coap_context_set_max_body(ctx, (size_t)lim->max_body, (unsigned)lim->block1_per_session,
                              (unsigned)lim->block1_total);
}

bool cmn_coap_item_path(const char *prefix, const char *path, size_t len, char *kind, size_t klen,
                        char *id, size_t ilen)
{
    size_t pl = prefix != NULL ? strlen(prefix) : 0;
    const char *slash;
    size_t kn, in;

    if (path == NULL || pl == 0 || len < pl || memcmp(path, prefix, pl) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (path[i] <= ' ' || path[i] >= 0x7f || path[i] == '"')
            return false;
    slash = memchr(path + pl, '/', len - pl);
    if (slash == NULL)
        return false;
    kn = (size_t)(slash - path) - pl;
    in = len - (size_t)(slash - path) - 1;
    if (kn == 0 || kn >= klen || in == 0 || in >= ilen || memchr(slash + 1, '/', in) != NULL)
        return false;
    memcpy(kind, path + pl, kn);
    kind[kn] = '\0';
    memcpy(id, slash + 1, in);
    id[in] = '\0';
    return true;
}
