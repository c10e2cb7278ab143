/* MAF Key Retrieval by a target authenticated by its own MAF Handshake (TS-0003 8.8.2.8,
 * 8.6.1.2 "Credential Provisioning"): GET maf/keys/<relativeKeyID> in the target's
 * session (Km or certificate). Keys registered with SUID 33/34/35 (end-to-end) go to a
 * session whose client is one of the key's targetIDs; a SAEF Kc (SUID 32) goes to its
 * target CSE's session (client = that CSE-ID), the second way beside the bus's keys
 * socket (docs/internals.md "Authenticated credential hand-off"). */
#ifndef TEP_AUTHZ_MAF_E2E_H
#define TEP_AUTHZ_MAF_E2E_H

#include "authz_maf.h"

/* Answers 205 (2.05) with {"keyValue" (64 hex digits: Kc),"keyID","suid","expirationTime",
 * "sourceID"}, 404 for an unknown, expired, de-registered key or one whose
 * source is gone, 403 when the client is not a target (or an AE asks for a SAEF Kc),
 * 400 for a malformed relativeKeyID. ret->body holds Kc: wipe it before freeing. */
void authz_maf_e2e_retrieve(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const char *rel_id, int64_t now, authz_maf_answer *ret);

#endif
