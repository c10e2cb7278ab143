/* Routing of requests addressed to another CSE (see cse_route.h). */
#include <stdio.h>
#include <string.h>

#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_remotecse.h"
#include "cse_route.h"

#define SUB "route"

bool cse_route_addressed_csi(const char *path, char *ret, size_t len)
{
    const char *p = NULL, *end;

    if (strncmp(path, "~/", 2) == 0)
        p = path + 2;
    else if (strncmp(path, "_/", 2) == 0 && (p = strchr(path + 2, '/')) != NULL)
        p++;
    if (p == NULL || *p == '\0' || *p == '/')
        return false;
    end = strchr(p, '/');
    return (size_t)snprintf(ret, len, "/%.*s", end != NULL ? (int)(end - p) : (int)strlen(p), p) <
           len;
}

/* Did the request come from this MN-CSE's registrar? Over CoAPS its session says so;
 * over plain CoAP (no authenticated peer) its From does: the registrar's own CSE-ID or
 * an originator under it. */
static bool from_registrar(const cse_ctx *c)
{
    const char *reg = c->node->registrar_csi;
    const char *from = c->req->from;
    size_t n = reg != NULL ? strlen(reg) : 0;

    if (reg == NULL)
        return false;
    if (c->req->secure)
        return c->req->bound_id != NULL && strcmp(c->req->bound_id, reg) == 0;
    return from != NULL && strncmp(from, reg, n) == 0 && (from[n] == '\0' || from[n] == '/');
}

/* TS-0004 7.3.2.6: a CSE-relative From becomes SP-relative ("/<own CSE-ID>/<From>"). */
static bool forwarded_from(const cse_ctx *c, cse_rsp *rsp)
{
    const char *o = c->who.originator[0] != '\0' ? c->who.originator : c->req->from;
    int n;

    if (o != NULL && o[0] == '/')
        n = snprintf(rsp->fwd_from, sizeof(rsp->fwd_from), "%s", o);
    else
        n = snprintf(rsp->fwd_from, sizeof(rsp->fwd_from), "%s/%s", c->node->cse_id,
                     o != NULL ? o : "");
    return n > 0 && (size_t)n < sizeof(rsp->fwd_from);
}

unsigned cse_route_check(cse_ctx *c, cse_rsp *rsp)
{
    char csi[128], shown[128];
    int rc;

    if (!cse_route_addressed_csi(c->req->path, csi, sizeof(csi)) ||
        strcmp(csi, c->node->cse_id) == 0)
        return 0;
    if (c->req->op == CMN_OP_CREATE && (c->req->ty == CMN_TY_AE || c->req->ty == CMN_TY_CSR)) {
        snprintf(rsp->reason, sizeof(rsp->reason), "registration_not_forwarded");
        return CMN_RSC_OPERATION_NOT_ALLOWED;
    }
    rc = cse_csr_next_hop(c->node->store, c->node->cse_name, csi, rsp->fwd_hop, rsp->fwd_poa,
                          sizeof(rsp->fwd_hop) < sizeof(rsp->fwd_poa) ? sizeof(rsp->fwd_hop)
                                                                      : sizeof(rsp->fwd_poa));
    if (rc != 0 && c->node->registrar_csi != NULL && !from_registrar(c)) {
        /* no registree leads there: up to the registrar (TS-0001 8.2.1.1) */
        snprintf(rsp->fwd_hop, sizeof(rsp->fwd_hop), "%s", c->node->registrar_csi);
        snprintf(rsp->fwd_poa, sizeof(rsp->fwd_poa), "%s", c->node->registrar_poa);
        rc = 0;
    }
    if (rc != 0) {
        snprintf(rsp->reason, sizeof(rsp->reason), "no_route_to_cse");
        CMN_INFO(SUB, "event=not_forwarded reason=no_route_to_cse csi=%s rsc=4004",
                 cmn_log_value(csi, shown, sizeof(shown)));
        return CMN_RSC_NOT_FOUND;
    }
    snprintf(rsp->fwd_csi, sizeof(rsp->fwd_csi), "%s", csi);
    if (!forwarded_from(c, rsp)) {
        snprintf(rsp->reason, sizeof(rsp->reason), "from_too_long");
        return CMN_RSC_BAD_REQUEST;
    }
    /* This CSE's own CSE-ID is authenticated by its security association at the next
     * hop: never lent to a client (a plain-CoAP From "/<own CSE-ID>" would act there as
     * this CSE, e.g. update or delete its <remoteCSE>). TS-0003 7.2.1. */
    if (strcmp(rsp->fwd_from, c->node->cse_id) == 0) {
        snprintf(rsp->reason, sizeof(rsp->reason), "from_is_this_cse");
        CMN_WARN(SUB, "event=not_forwarded reason=from_is_this_cse csi=%s rsc=4106",
                 cmn_log_value(csi, shown, sizeof(shown)));
        return CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED;
    }
    rsp->forward = true;
    return 0;
}
