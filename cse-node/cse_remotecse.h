/* <remoteCSE> at this CSE (TS-0001 9.6.4, 10.2.2.6-10.2.2.10; TS-0004 7.4.4): the
 * registrar side of CSE registration, and the routing table the <remoteCSE> resources
 * make (TS-0004 7.3.2.6): each one's csi and descendantCSEs lead to it. Socket-free:
 * the request dispatch and the tests call it. docs/cse.md "CSE registration". */
#ifndef TEP_CSE_REMOTECSE_H
#define TEP_CSE_REMOTECSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cse_ctx.h"

/* A CSE-ID as From: SP-relative "/name", name 1..126 printable ASCII characters without
 * space, '/', '?', '#', '%', '"', '\'. */
bool cse_csr_is_cse_id(const char *id);

/* Registrar side of a CREATE of ty 16 under the CSEBase (TS-0004 7.4.4.2.1 Receiver),
 * after the originator is bound: From must be a CSE-ID (an AE-ID: 4005), csi, when
 * sent, equal to it (4106: a CSE claims another's CSE-ID), not this CSE's own nor its
 * registrar's (a registration loop, TS-0001 9.6.4 "shall not form a loop": 4005), not
 * registered here already (4117). Sets csi and rn (the CSE-ID without its '/', whatever
 * rn the registree sent). 0 or the RSC, with rsp->reason. */
unsigned cse_csr_check_create(cse_ctx *c, json_t *attrs, cse_rsp *rsp);

/* Bounds of what a registree announces in its <remoteCSE> (CREATE and UPDATE). */
#define CSE_CSR_DCSE_MAX 256
#define CSE_CSR_POA_MAX 8
#define CSE_CSR_ID_MAX 128

/* dcse and poa of the <remoteCSE> of the registree self (CREATE or UPDATE), 4000 with
 * rsp->reason otherwise: at most CSE_CSR_POA_MAX poa and CSE_CSR_DCSE_MAX dcse, each a
 * CSE-ID shorter than CSE_CSR_ID_MAX that is not self, this CSE nor its registrar
 * ("dcse_loop"), nor registered here or in another registree's dcse already
 * ("dcse_names_another_cse": a registree cannot take over the route to, or speak for
 * the originators of, another CSE), and whose enrolment target chain leads to self
 * through entries of the same dcse ("dcse_not_behind_registree": a CSE this CSE knows
 * no enrolment of, or one enrolled for another registrar, is not believed). */
unsigned cse_csr_check_attrs(cse_ctx *c, const char *self, json_t *attrs, cse_rsp *rsp);

/* The next hop towards the CSE csi (TS-0004 7.3.2.6): the <remoteCSE> directly under
 * the CSEBase whose csi is csi, else the first one one of whose dcse is. ret_csi / ret_poa (len bytes each)
 * get its csi and its first poa ("" when none). CMN_ENOTFOUND when none matches. */
int cse_csr_next_hop(cmn_store *st, const char *cse_name, const char *csi, char *ret_csi,
                     char *ret_poa, size_t len);

/* csi is this MN-CSE's registrar or a CSE registered here. */
bool cse_csr_is_peer(const cse_node *node, const char *csi);

/* The CSEBase address (cb, "/<csi>/<name>") of the registered CSE csi, in ret.
 * CMN_ENOTFOUND when it is not registered here or has no cb. */
int cse_csr_base(cmn_store *st, const char *cse_name, const char *csi, char *ret, size_t len);

/* Whether a request peer (the CSE-ID a DTLS session is bound to) forwards may name
 * the originator from (TS-0003 7.1.2, 7.2.1): from is "/X" or "/X/..." of another CSE X
 * and the route to X (cse_csr_next_hop) leads to peer; the registrar
 * (node->registrar_csi) may speak for a CSE no registree leads to. Never an originator
 * of this CSE. */
bool cse_csr_transit_from_ok(const cse_node *node, const char *peer, const char *from);

/* The descendantCSEs this CSE announces to its registrar: the csi and dcse of every
 * <remoteCSE> under the CSEBase but the registrar's own whose CSE is enrolled for this
 * CSE (cse_cse_target: the registrar checks the same chain), as a new JSON array. */
json_t *cse_csr_descendants(const cse_node *node);

/* For tepctl status: the CSEs registered here, "csi[:sa],..." (":sa" when a DTLS
 * session of theirs is up, cse_saef_session_of), the registrar's own representation
 * left out; "" when none. Truncated to len. */
void cse_csr_list(const cse_node *node, char *ret, size_t len);

/* The CSEBase says what this CSE is: cst (CMN_CST_*) and its pointOfAccess list (the
 * non-empty ones of poa[0..n)). Written at every start (the configuration wins). */
int cse_csr_set_own_type(cmn_store *st, const char *cse_name, int cst, const char *const *poa,
                         size_t n);

#endif
