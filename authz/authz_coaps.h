/* tep-authz's CoAPS endpoint ([authz] coaps_listen): DTLS-PSK with psk_identity = KmID
 * and psk = Km (TS-0003 8.8, SUID 21; the credentials cmn_sync brings from the
 * enroller), and POST /token, the indirect flow of dynamic authorization (TS-0003
 * 7.3.2.3; request/answer JSON in docs/internals.md), POST /maf/clients and
 * POST /maf/keys (MAF Client and Key Registration, TS-0003 8.8, authz_maf.h), PUT and
 * DELETE /maf/clients/<regID> and /maf/keys/<relativeKeyID> (their update and
 * de-registration); maf_id is
 * the MAF-FQDN of the Key Identifiers). The requester's AE-ID is the
 * Enrolee-ID of its Km: the token's holder is never taken from the request. */
#ifndef TEP_AUTHZ_COAPS_H
#define TEP_AUTHZ_COAPS_H

#include <stdint.h>

#include "authz_tokens.h"
#include "cmn_bus.h"
#include "cmn_coap.h"
#include "cmn_dtls_guard.h"
#include "cmn_pki.h"
#include "cmn_store.h"

typedef struct authz_coaps authz_coaps;

/* listen "host:port" (must not be ""); store and tokens are borrowed. pki (NULL or all
 * empty: PSK only): the certificate MAF Handshake (TS-0003 8.8.2.2) beside PSK, the
 * MAF's certificate issued by ca_file to onem2m:<maf_id>, client certificates chained to
 * ca_file; the client is the certificate's SAN onem2m:<id>, served while the MAF knows a
 * live Km of that enrolment from sync and the certificate is valid. CMN_EIO when it
 * cannot bind, CMN_ECONFIG / CMN_EINVAL for the PKI files (logged), CMN_ECOAP when
 * libcoap cannot be set up. */
int authz_coaps_new(const char *listen, const char *psk_hint, const char *maf_id,
                    const cmn_pki_files *pki, cmn_store *store, authz_tokens *tokens,
                    authz_coaps **ret);
void authz_coaps_free(authz_coaps *c); /* NULL is fine */
/* A PUB (borrowed) on which each registered key is announced (authz_maf_publish). */
void authz_coaps_set_key_events(authz_coaps *c, cmn_bus_sock *pub);
/* The DTLS flood limits ([dtls], cmn_dtls_guard.h); counters for tepctl status (all
 * zero before the limits are set). */
int authz_coaps_set_dtls_limits(authz_coaps *c, const cmn_dtls_limits *lim);
/* [authz] max_body, block1_*: what a request to the MAF may carry (cmn_coap.h). */
void authz_coaps_set_body_limits(authz_coaps *c, const cmn_body_limits *lim);
void authz_coaps_dtls_stats(const authz_coaps *c, cmn_dtls_stats *ret);
int authz_coaps_fd(const authz_coaps *c);
/* Does pending work; returns the longest wait (ms) before it must run again. */
unsigned authz_coaps_process(authz_coaps *c);

#endif
