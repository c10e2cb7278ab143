/* Binding of the request's From to the security association (TS-0003 7.2.1), as
 * docs/internals.md fixes it. Pure: the caller supplies the facts. */
#ifndef TEP_CSE_BINDING_H
#define TEP_CSE_BINDING_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool secure;                  /* request arrived over CoAPS */
    const char *bound_id;         /* AE-ID bound to the DTLS session (NULL: none) */
    const char *from;             /* From option, NULL when absent */
    bool ae_create;               /* CREATE of an AE */
    const char *admin_originator; /* configured admin originator */
    bool from_enrolled;           /* From is an AE-ID of an enrolment (plain CoAP rule) */
    bool bound_admin;             /* CoAPS: the session authenticated with the admin PSK */
    bool transit;                 /* CoAPS: the session is bound to a CSE registered with
                                     this one, and From is an originator it may forward
                                     for (cse_csr_transit_from_ok) */
} cse_binding_in;

typedef struct {
    char originator[256]; /* the originator to act for ("" = let the CSE assign) */
    bool rq_authn;        /* authenticated by the security association */
    bool is_admin;        /* the admin originator, honoured */
    char assign_prefix;   /* AE create asking for a CSE-assigned AE-ID: 'C' or 'S' */
    const char *reason;   /* why it was refused (for the log), static */
} cse_binding_out;

/* Returns 0 (request may go on) or the RSC: 4000 missing From, 4106 From does not match
 * the bound identity, 4107 an enrolled AE-ID over plain CoAP. A request another CSE
 * forwarded (transit) acts for its From, not authenticated by this CSE (TS-0003 7.1.2:
 * an originator registered elsewhere is authenticated only with ESPrim). */
unsigned cse_binding_check(const cse_binding_in *in, cse_binding_out *ret);

/* The AE-ID an originator names on this CSE, whatever its spelling (TS-0001 7.2):
 * "Cabc", SP-relative "/<cse-id>/Cabc" or absolute "//<SP-ID>/<cse-id>/Cabc" (any SP-ID:
 * the caller uses it to refuse, so it errs on the safe side) all give "Cabc". cse_id is
 * SP-relative ("/tep-cse"). A pointer into from; from itself for other forms. */
const char *cse_binding_local_id(const char *cse_id, const char *from);

#endif
