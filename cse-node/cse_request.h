/* oneM2M request handling of tep-cse, free of sockets: the CoAP glue (cse_coap.c) turns
 * a PDU into a cse_req, and a cse_rsp back into a PDU; tests call it directly. */
#ifndef TEP_CSE_REQUEST_H
#define TEP_CSE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_store.h"
#include "cse_pep.h"
#include "cse_resource.h"

typedef struct {
    cmn_store *store;
    cse_pep *pep;
    const char *cse_id;           /* "/tep-cse" */
    const char *cse_name;         /* "tep-cse" */
    const char *admin_originator;
} cse_node;

typedef struct {
    int op;                 /* CMN_OP_* (NOTIFY for POST without TY) */
    const char *path;       /* Uri-Path joined, no leading '/' */
    const char *from;       /* NULL when absent */
    uint32_t ty;            /* TY option, 0 when absent */
    uint32_t cf;            /* Content-Format, 0 when absent */
    const char *body;       /* may be NULL */
    size_t body_len;
    bool secure;            /* over CoAPS */
    const char *bound_id;   /* AE-ID bound to the DTLS session, NULL if none */
    const char *peer_ip;    /* may be NULL */
    int64_t now;            /* Unix seconds */
} cse_req;

typedef struct {
    unsigned rsc;
    char *body;                     /* malloc'd JSON or NULL: cse_rsp_clear() */
    char location[CSE_PATH_MAX];    /* CREATE: structured path of the new resource */
} cse_rsp;

/* Handles one request; always fills rsp (never fails: errors are RSCs). */
void cse_request_handle(cse_node *node, const cse_req *req, cse_rsp *rsp);
void cse_rsp_clear(cse_rsp *rsp);



/* Copies a peer-supplied value for a log line: printable ASCII without spaces, quotes or
 * '=', others become '?', truncated to len-1. NULL becomes "-". Returns ret. */
const char *cse_log_value(const char *in, char *ret, size_t len);
#endif
