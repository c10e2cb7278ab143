/* Where tep-cse may send a request in plain CoAP on behalf of a client (issue: SSRF): a
 * notification to a nu or an AE's poa, a subscription verification, a request forwarded
 * to a registered CSE's coap:// poa. These addresses come from outside (an AE's or a
 * registree's attributes), so a client could aim tep-cse at services that trust the
 * host itself. Refused: the loopback, unspecified, link-local, multicast and broadcast
 * addresses (IPv4, IPv6, IPv4-mapped), unless inside a prefix of [cse] local_targets;
 * and, always, this CSE's own listening ports (coap_listen, coaps_listen) on any address
 * of this host. docs/cse.md "Outgoing requests". */
#ifndef TEP_CSE_TARGET_H
#define TEP_CSE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CSE_TARGET_PREFIX_MAX 16
#define CSE_TARGET_OWN_MAX 64

typedef struct {
    uint8_t addr[16]; /* IPv4 as IPv4-mapped IPv6 */
    unsigned bits;    /* prefix length over the 128 bits */
} cse_target_prefix;

typedef struct cse_targets_s {
    cse_target_prefix allow[CSE_TARGET_PREFIX_MAX];
    size_t n_allow;
    uint16_t own_port[2];                     /* coap_listen, coaps_listen (0: none) */
    uint8_t own_addr[CSE_TARGET_OWN_MAX][16]; /* this host's addresses (getifaddrs) */
    size_t n_own;
} cse_targets;

/* Parses [cse] local_targets: address prefixes separated by commas or spaces
 * ("127.0.0.0/8, ::1/128"; an address alone is /32 or /128); "" = none. 0, or
 * CMN_ECONFIG with err. */
int cse_targets_parse(const char *list, cse_targets *ret, char *err, size_t errlen);
/* cmn_cfg validator of the same. */
int cse_targets_valid(const char *v, char *err, size_t errlen);
/* Adds this CSE's own listening ports ("host:port" or "", each) and this host's
 * interface addresses. */
void cse_targets_set_own(cse_targets *t, const char *coap_listen, const char *coaps_listen);
/* Whether a plain-CoAP request may go to sa; *why (may be NULL) gets "local_address" or
 * "own_port" when not. t NULL: everything may. */
bool cse_targets_allowed(const cse_targets *t, const struct sockaddr *sa, const char **why);

#endif
