/* ESCertKE at tep-cse as the Terminating End-Point (TS-0003 8.7; TS-0001 11.4.3; TS-0004
 * 7.5.1.2.12): a NOTIFY to the CSEBase whose content is {"m2m:seci":{"sit":6,"eckm":..}}
 * carries ESCertKE Message 1 (a TLS ClientHello: a new handshake for the outer From and
 * the carrier it came over, the bound ID of its security association or its IP address,
 * replacing that pair's unfinished one; handshakes in progress are bounded per carrier
 * and for plain CoAP altogether) or Message 3 (correlated by From and carrier); the answer
 * (2000) carries Message 2 or 4 the same way. tep-cse's side uses its certificate SAEF
 * files ([cse] cert_file, key_file, ca_file); the initiator's certificate must chain to
 * ca_file and name the outer From (as a local ID) in its SAN. When Message 3 completes
 * the handshake, pairwiseE2EKey (cmn_escertke.h) is kept (in memory and in the store) for
 * CSE_ESCERTKE_KEY_LT seconds under kid = hex(pairwiseE2EKeyID), owned by the
 * initiator's ID: ESPrim (cse_esprim.c) takes it as a pair key (End-Point-B = this
 * CSE-ID). Refusals: docs/internals.md "ESCertKE". */
#ifndef TEP_CSE_ESCERTKE_H
#define TEP_CSE_ESCERTKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cmn_kdf.h"
#include "cse_request.h"

#define CSE_ESCERTKE_KEY_LT 3600 /* seconds an established pairwiseE2EKey is used */
#define CSE_ESCERTKE_HS_LT 30    /* seconds between Message 1 and Message 3 */

typedef struct cse_escertke cse_escertke;

/* From the PEM files; *ret NULL (and 0) when cert_file is empty (no certificate: off). */
int cse_escertke_new(const char *cert_file, const char *key_file, const char *ca_file,
                     cse_escertke **ret);
void cse_escertke_free(cse_escertke *e); /* NULL is fine; wipes */
/* The established keys still live, from st (CSE_ESPRIM_DB, "k" + kid: each key is written
 * there when established and deleted when its slot is reused), so that they outlive a
 * restart; expired records are deleted. e NULL: nothing. */
int cse_escertke_load(cse_escertke *e, cmn_store *st, int64_t now);

/* The m2m:seci object of a request's content (new reference; NULL when the content is
 * not exactly {"m2m:seci":{...}}), and whether path names this CSE's CSEBase (its name,
 * "-", its CSE-ID, SP-relative): shared with ESPrim (cse_esprim.c). */
json_t *cse_escertke_seci(const cse_req *req);
bool cse_escertke_to_csebase(const cse_node *node, const char *path);
/* Whether req is an ESCertKE message for this CSE (NOTIFY to the CSEBase, m2m:seci sit 6). */
bool cse_escertke_claims(const cse_node *node, const cse_req *req);
void cse_escertke_handle(cse_node *node, const cse_req *req, cse_rsp *rsp);

/* tep-cse's certificate as standard base64 of its DER (malloc'd; NULL on failure). */
char *cse_escertke_cert_b64(const cse_escertke *e);

/* The live pairwiseE2EKey named kid and its owner (the initiator's ID, into owner);
 * CMN_EDENIED when the owner's certificate is no longer usable (cse_saef_cert_usable:
 * revoked, its enrolment revoked or replaced), CMN_ENOTFOUND when unknown or expired. */
int cse_escertke_key(const cse_escertke *e, cmn_store *st, const char *kid, int64_t now,
                     uint8_t ret_key[CMN_KEY_LEN], char *owner, size_t owner_len);

#endif
