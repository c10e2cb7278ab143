/* End-to-end security of primitives at tep-cse as the Target (TS-0003 8.4; TS-0004 7.6.2,
 * 7.5.1.2.11): a NOTIFY to the CSEBase whose content is an m2m:seci with
 *  - sit 3 (receiverESPrimRandObject request): answered sit 4 with a fresh, non-shared
 *    receiverESPrimRandObject;
 *  - sit 5 (ESPrim object, a JWE "dir" compact): decrypted with the sessionESPrimKey of
 *    10.3.8 from the pairwiseESPrimKey of the kid, the inner request primitive handled
 *    as if it came over a security association bound to the key's enrolee (rq_authn
 *    true, TS-0003 7.1.2/7.2.2), and its response answered as an ESPrim object (sit 5).
 * The pairwiseESPrimKey of a kid that is a KpsaID is Ke2e_msg_conf of that Kpsa with
 * End-Point-B = this CSE-ID (TS-0003 8.6.2, SUID 23; docs/keys.md items 14, 16). The
 * CSEBase advertises it in e2eSecInfo (esf [23], esro the shared receiver rand object).
 * Errors are the RSCs of TS-0004 Table 7.6.2-1 (docs/internals.md "ESPrim"). State: the
 * receiver rand secret and its epoch in the store (CSE_ESPRIM_DB; receiver rand objects
 * are derived from it and their ID, nothing is kept per object), the originator rand
 * objects and the replay memory in memory, bounded, written to the store at a clean stop
 * (cse_esprim_save) and read back at the next start; after a crash the secret and epoch
 * are new, so nothing given or answered before can be used again. */
#ifndef TEP_CSE_ESPRIM_H
#define TEP_CSE_ESPRIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cse_request.h"

#define CSE_ESPRIM_SUID 23        /* RSPF-provisioned ESPrim key (from Kpsa) */
#define CSE_ESPRIM_SUID_CERT 43   /* a certificate for ESPrim: ESCertKE (TS-0004 6.3.4.2.39) */
#define CSE_ESPRIM_SHARED_LT 3600 /* seconds a shared receiver rand object lives */
#define CSE_ESPRIM_UNIQUE_LT 600  /* ... and one given out on request (sit 3) */

#define CSE_ESPRIM_DB "esprim" /* its records in tep-cse's store */

typedef struct cse_esprim cse_esprim;

/* Loads (or, the first time, makes) the state from st's CSE_ESPRIM_DB, which st must
 * have been opened with; st is borrowed for the object's life. */
int cse_esprim_new(cmn_store *st, int64_t now, cse_esprim **ret);
void cse_esprim_free(cse_esprim *e); /* NULL is fine; wipes the cached keys */
/* At a clean stop: the live originator rand objects and replay memory into the store,
 * with the marker that lets the next cse_esprim_new take them (and the secret) back. */
int cse_esprim_save(cse_esprim *e, int64_t now);

/* The e2eSecInfo of the CSEBase (a new JSON object) with the current shared receiver
 * rand object (made when there is none yet; renewed by cse_esprim_handle, which then
 * writes it to the CSEBase). An MN-CSE also sends it in its <remoteCSE> at its registrar. */
json_t *cse_esprim_esi(cse_esprim *e, int64_t now);
/* With ESCertKE on (cse_escertke.h), e2eSecInfo also lists SUID 43 and carries tep-cse's
 * certificate in escert (TS-0001 11.4.3: "an indication shall be present"). ck borrowed. */
struct cse_escertke;
void cse_esprim_set_escertke(cse_esprim *e, const struct cse_escertke *ck);
/* Writes it into the CSEBase resource (at start, and whenever the shared object is
 * renewed). */
int cse_esprim_publish(cse_esprim *e, cmn_store *st, const char *cse_name, int64_t now);

/* Whether req is an ESPrim exchange for this CSE (NOTIFY to the CSEBase with m2m:seci
 * sit 3 or 5): then cse_esprim_handle() answers it. */
bool cse_esprim_claims(const cse_node *node, const cse_req *req);
/* The decrypted inner request goes to handle: request dispatch (cse_request_handle),
 * which calls this and hands itself down (no call upward, docs/internals.md "Layers"). */
typedef void (*cse_esprim_dispatch_fn)(cse_node *node, const cse_req *req, cse_rsp *rsp);
void cse_esprim_handle(cse_node *node, const cse_req *req, cse_rsp *rsp,
                       cse_esprim_dispatch_fn handle);

#endif
