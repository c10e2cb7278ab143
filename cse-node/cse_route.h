/* Routing of requests addressed to another CSE (TS-0001 8.2.1.1, TS-0004 7.3.2.6):
 * which requests leave, to which next hop, with which From. Socket-free; the CoAP glue
 * (cse_coap.c) sends them and routes the answers back. docs/cse.md "Routing". */
#ifndef TEP_CSE_ROUTE_H
#define TEP_CSE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "cse_ctx.h"

/* The CSE-ID an SP-relative ("~/<csi>/...") or absolute ("_/<SP-ID>/<csi>/...") path
 * addresses, as "/<csi>" in ret (len bytes); false for a CSE-relative path. */
bool cse_route_addressed_csi(const char *path, char *ret, size_t len);

/* For a request whose originator is bound (c->who): 0 when this CSE hosts the target;
 * else the request is to be forwarded (rsp->forward, fwd_* filled, 0 returned) or
 * answered with the RSC returned: 4004 for a CSE-ID with no route (the IN-CSE, or an
 * MN-CSE asked by its registrar), 4005 for an AE or CSE registration addressed to
 * another CSE (never forwarded, TS-0004 7.3.2.6). */
unsigned cse_route_check(cse_ctx *c, cse_rsp *rsp);

#endif
