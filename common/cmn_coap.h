/* CoAP helpers for the oneM2M binding (TS-0008): option numbers, their registration
 * with libcoap (needs tep's patched libcoap, see patches/README.md), and reading and
 * writing them on a PDU. */
#ifndef TEP_CMN_COAP_H
#define TEP_CMN_COAP_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_config.h"

/* TS-0008 V3.9.0 Table 6.2.2.4.0-1 (current numbers, not the legacy 256..) */
enum {
    CMN_OPT_OT = 259,
    CMN_OPT_RTURI = 263,
    CMN_OPT_TY = 267,
    CMN_OPT_RVI = 271,
    CMN_OPT_ASRI = 275,
    CMN_OPT_FR = 279,
    CMN_OPT_RQI = 283,
    CMN_OPT_RQET = 291,
    CMN_OPT_RSET = 295,
    CMN_OPT_OET = 299,
    CMN_OPT_EC = 303,
    CMN_OPT_RSC = 307,
    CMN_OPT_GID = 311,
    CMN_OPT_CTO = 319,
    CMN_OPT_CTS = 323,
    CMN_OPT_ATI = 327,
    CMN_OPT_VSI = 331,
    CMN_OPT_GTM = 335,
    CMN_OPT_AUS = 339,
};

/* Content formats (TS-0008 Table 6.2.2.2-1) */
enum {
    CMN_CF_JSON = 50,
    CMN_CF_CBOR = 60,
    CMN_CF_RES_JSON = 10001,
    CMN_CF_NTFY_JSON = 10003,
    CMN_CF_PREQ_JSON = 10007,
    CMN_CF_PRSP_JSON = 10009
};

/* Registers every oneM2M option with ctx so libcoap lets them through (client or
 * server). Returns CMN_ECOAP if libcoap is the unpatched one (the filter is full). */
int cmn_coap_register_options(coap_context_t *ctx);

/* Copies a string option into buf (NUL-terminated). CMN_ENOTFOUND when absent,
 * CMN_ERANGE when it does not fit. */
int cmn_coap_opt_str(const coap_pdu_t *pdu, uint16_t num, char *buf, size_t len);
/* Reads a uint option (0..4 bytes). CMN_ENOTFOUND when absent. */
int cmn_coap_opt_uint(const coap_pdu_t *pdu, uint16_t num, uint32_t *ret);

/* Uri-Path of a request joined with '/', without leading slash ("cse/ae1/cnt"). */
int cmn_coap_uri_path(const coap_pdu_t *pdu, char *buf, size_t len);

/* One pass over a request's options instead of one per option read: ret[i] gets the
 * first option numbered nums[i] (NULL when absent), and the Uri-Path is joined into
 * path as cmn_coap_uri_path does (*ret_path_rc its result). Then the _of readers take
 * an option found, with cmn_coap_opt_str/_uint's results (NULL: CMN_ENOTFOUND). */
void cmn_coap_opts_scan(const coap_pdu_t *pdu, const uint16_t *nums, size_t n,
                        const coap_opt_t **ret, char *path, size_t plen, int *ret_path_rc);
int cmn_coap_opt_str_of(const coap_opt_t *opt, char *buf, size_t len);
int cmn_coap_opt_uint_of(const coap_opt_t *opt, uint32_t *ret);
/* A Uri-Path of len bytes (not NUL-terminated) "<prefix><kind>/<id>" (prefix e.g.
 * "maf/"), kind and id each one non-empty printable segment (no '"') shorter than klen /
 * ilen: both written NUL-terminated; on failure neither is touched. */
bool cmn_coap_item_path(const char *prefix, const char *path, size_t len, char *kind, size_t klen,
                        char *id, size_t ilen);

/* A listen address "host:port" or "[v6]:port" with a numeric host (no DNS wait) ->
 * address. CMN_EINVAL otherwise. */
int cmn_coap_parse_listen(const char *hostport, coap_address_t *ret);

/* The one address resolution of tep: host (no brackets) and port (a number, or a
 * service name) -> the first UDP address getaddrinfo() gives. numeric_only: the host
 * must be a numeric address (never a DNS wait: daemons); otherwise a name is resolved,
 * for address families configured on this host (AI_ADDRCONFIG). CMN_EINVAL: empty host,
 * or not numeric with numeric_only; CMN_ENOTFOUND: the name or port does not resolve. */
int cmn_coap_resolve(const char *host, const char *port, bool numeric_only, coap_address_t *ret);
/* The same for the host and port of a URI split by coap_split_uri(). CMN_EINVAL also for
 * a host over 255 bytes. */
int cmn_coap_uri_address(const coap_uri_t *uri, bool numeric_only, coap_address_t *ret);

/* What a request may carry (RFC 7959 Block1, applied by tep's libcoap during
 * reassembly, see patches/README.md item 8): a body over max_body is refused with 4.13
 * Request Entity Too Large and Size1 = max_body as soon as Size1 announces more or a
 * block ends beyond it, and its partial body is freed; a new transfer over
 * block1_per_session in progress on its session, or block1_total in all, is 5.03. */
typedef struct {
    long max_body;           /* bytes */
    long block1_per_session; /* Block1 transfers in progress per session */
    long block1_total;       /* Block1 transfers in progress in all */
} cmn_body_limits;

/* The rows of a daemon's configuration table for its cmn_body_limits (type: its config
 * struct, member: the field), in section sect, max_body defaulting to def. */
#define CMN_BODY_CFG_ITEMS(sect, type, member, def)                                                \
    CMN_CFG_INT_ITEM(type, sect, "max_body", def, member.max_body, 1024, 16777216,                 \
                     "largest request body in bytes (a Block1 transfer over it is refused with "   \
                     "4.13 and Size1 during reassembly)"),                                         \
        CMN_CFG_INT_ITEM(type, sect, "block1_per_session", "4", member.block1_per_session, 1, 64,  \
                         "Block1 request transfers in progress per session; more: 5.03"),          \
        CMN_CFG_INT_ITEM(type, sect, "block1_total", "256", member.block1_total, 1, 100000,        \
                         "Block1 request transfers in progress in all; more: 5.03")

/* Applies lim to ctx (a server context). */
void cmn_coap_set_body_limits(coap_context_t *ctx, const cmn_body_limits *lim);
/* libcoap binds with SO_REUSEADDR, so a second daemon on the same port would bind too
 * and steal datagrams: a plain bind first tells whether the port is really free. */
bool cmn_coap_port_free(const coap_address_t *addr);

/* Appends option num to an optlist chain (coap_insert_optlist), for building PDUs. */
int cmn_coap_optlist_str(coap_optlist_t **chain, uint16_t num, const char *s);
int cmn_coap_optlist_uint(coap_optlist_t **chain, uint16_t num, uint32_t v);

#endif
