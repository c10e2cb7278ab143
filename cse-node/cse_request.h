/* oneM2M request handling of tep-cse, free of sockets: the CoAP glue (cse_coap.c) turns
 * a PDU into a cse_req, and a cse_rsp back into a PDU; tests call it directly. */
#ifndef TEP_CSE_REQUEST_H
#define TEP_CSE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cmn_store.h"
#include "cse_apprule.h"
#include "cse_dynauth.h"
#include "cse_pep.h"
#include "cse_resource.h"

typedef struct cse_node {
    cmn_store *store;
    cse_pep *pep;
    cse_dynauth *dynauth;          /* dynamic authorization on top of pep; NULL: none */
    const cse_apprules *app_rules; /* the AE-registration policy (cse_apprule.h); NULL:
                                     no rules (the App-ID is checked all the same) */
    const char *cse_id;            /* "/tep-cse" */
    const char *cse_name;          /* "tep-cse" */
    const char *sp_id;             /* "tep.local": with cse_id, the access decision compares
                                     originators in absolute form (NULL: as given) */
    const char *admin_originator;
    /* Notifications (subscription, TS-0004 7.5.1): sends body (m2m:sgn JSON) to one
     * notificationURI (a URI, or an AE-ID/path whose poa is used); NULL = none sent. */
    void (*notify)(void *arg, const char *nu, const char *owner, const char *body);
    void *notify_arg;
    /* May this CSE send to notification target nu for owner (cse_client_target_allowed,
     * set by the binding)? 0, or CMN_EDENIED with *ret_reason; NULL: every target refused. */
    int (*target_allowed)(const struct cse_node *node, const char *nu, const char *owner,
                          const char **ret_reason);
    /* plain coap:// notification targets ([cse] notify_plain): CSE_NOTIFY_PLAIN_* */
    int notify_plain;
    /* Subscription verifications one originator may have on their way at once
     * ([cse] verify_per_originator; 0 = CSE_VERIFY_PER_ORIGINATOR_DEFAULT). */
    unsigned verify_per_originator;
    /* Sub-requests one request to a <group>/fopt may make, nested fan-outs included
     * ([cse] fanout_max; 0 = CSE_FANOUT_MAX_DEFAULT): more is 6010, nothing sent. */
    unsigned fanout_max;
    /* CSE registration and routing (cse_remotecse.h, cse_route.h) */
    bool is_mn;                          /* [cse] type = MN */
    const char *registrar_csi;           /* MN: its registrar's CSE-ID, else NULL */
    const char *registrar_poa;           /* MN: its registrar's address ([registrar] poa) */
    bool csr_changed;                    /* a <remoteCSE> was created or deleted here (the MN
                                     tells its registrar its new descendantCSEs) */
    struct cse_esprim *esprim;           /* ESPrim as the Target (cse_esprim.h); NULL: off */
    struct cse_escertke *escertke;       /* ESCertKE as the Terminating End-Point; NULL: off */
    const struct cse_targets_s *targets; /* where plain CoAP may go (cse_target.h); NULL:
                                           anywhere (the unit tests) */
} cse_node;

#define CSE_FANOUT_MAX_DEFAULT 1024
/* [cse] notify_plain: loopback addresses only (the default), none, or any address. */
enum { CSE_NOTIFY_PLAIN_LOOPBACK = 0, CSE_NOTIFY_PLAIN_OFF = 1, CSE_NOTIFY_PLAIN_ANY = 2 };

/* The member answers of a write fan-out that were final in an earlier pass of the same
 * (parked) request, so that no member is written twice when the request is handled
 * again (cse_group.c). Owned by whoever parks the request. */
typedef struct cse_fanout_memo cse_fanout_memo; /* cse_fanout_memo_free: cse_ctx.h */
typedef struct cse_fanout_run cse_fanout_run;

/* One pass per request (issue 12): what the first pass of a parked request loaded, its
 * target and the facts of the decisions it asked, kept for the pass that resumes it once
 * the answers are in, so that pass does not read and rebuild them again. Valid only while
 * nothing was written to the store in between (its write count is unchanged): otherwise
 * the resumed pass reads everything afresh, as before. Owned by whoever parks the
 * request. */
typedef struct cse_pass_memo cse_pass_memo; /* cse_pass_memo_free: cse_ctx.h */

#define CSE_VERIFY_PER_ORIGINATOR_DEFAULT 4

typedef struct {
    int op;            /* CMN_OP_* (NOTIFY for POST without TY) */
    const char *path;  /* Uri-Path joined, no leading '/' */
    const char *from;  /* NULL when absent */
    uint32_t ty;       /* TY option, 0 when absent */
    uint32_t cf;       /* Content-Format, 0 when absent */
    const char *query; /* Uri-Query joined with '&', may be NULL */
    bool has_accept;   /* Accept option present */
    uint32_t accept;   /* its value */
    const char *rqi;   /* Request Identifier (group fan-out echoes it), may be NULL */
    const char *rvi;   /* Release Version Indicator, NULL when absent */
    const char *rqet;  /* Request Expiration Timestamp (absRelTimestamp), may be NULL */
    const char *rset;  /* Result Expiration Timestamp, may be NULL */
    const char *oet;   /* Operation Execution Time, may be NULL */
    const char *body;  /* may be NULL */
    size_t body_len;
    bool secure;                   /* over CoAPS */
    const char *bound_id;          /* AE-ID bound to the DTLS session, NULL if none */
    bool bound_admin;              /* the session authenticated with the admin credential */
    const char *peer_ip;           /* may be NULL */
    int64_t now;                   /* Unix seconds */
    int verified;                  /* subscription verification (TS-0004 7.4.8.2.1) of this
                               request: 0 not done yet, 1 passed, -1 failed */
    const char *sub_rn;            /* on the retried request: the name given on the first pass */
    int fanout_depth;              /* > 0: sent by a group's fanOutPoint (nesting level) */
    cse_fanout_memo **fanout_memo; /* a slot that outlives the passes of this request
                               (*slot NULL at first, then cse_fanout_memo_free); NULL:
                               a write fan-out asks its decisions blocking */
    cse_fanout_run *fanout_run;    /* internal: the fan-out this sub-request belongs to */
    cse_pass_memo **pass_memo;     /* a slot that outlives the passes of this request (*slot
                               NULL at first, then cse_pass_memo_free); NULL: none kept */
    char *ati;                     /* out (may be NULL): Assigned Token IDs (option 327,
                               "lti:tkid+..."), ati_len bytes, "" when none */
    size_t ati_len;
} cse_req;

#define CSE_VERIFY_MAX 8

typedef struct {
    unsigned rsc;
    char *body;                  /* malloc'd JSON or NULL: cse_rsp_clear() */
    char location[CSE_PATH_MAX]; /* CREATE: structured path of the new resource */
    uint32_t cf;                 /* Content-Format of body (50 unless Accept asked 10001) */
    char reason[96];             /* why a request was refused, for m2m:dbg ("" = none) */
    /* rsc 0: the request waits for a subscription verification: send verify_body to each
     * verify_nu, then handle the same request again with verified set. */
    char *verify_body;
    char *verify_nu[CSE_VERIFY_MAX];
    size_t n_verify;
    char verify_rn[64];  /* the subscription name chosen (pass it as sub_rn) */
    char verify_cr[256]; /* whose subscription (the verification quota) */
    /* Remote decisions were asked without waiting (cse_pep_waiting): rsc and body are
     * provisional (nothing was changed); handle the same request again, with the same
     * pending and time, once they are answered. */
    bool deciding;
    /* rsc 0, forward set: the target is hosted on another CSE (cse_route.h); send the
     * request to the next hop fwd_hop (a CSE-ID; its poa fwd_poa, "" when none) with
     * From = fwd_from, and answer with what comes back. */
    bool forward;
    char fwd_hop[128];
    char fwd_poa[256];
    char fwd_from[256];
    char fwd_csi[128]; /* the CSE-ID the request is addressed to */
    /* forward to an AE instead (fwd_hop: its resource path): a NOTIFY carrying an
     * m2m:seci (ESPrim/ESCertKE with the AE as End-Point B), sent to the AE's
     * pointOfAccess (path fwd_path there) and its answer relayed (cse_ops_notify) */
    bool fwd_ae;
    char fwd_path[256];
} cse_rsp;

/* Handles one request; always fills rsp (never fails: errors are RSCs; rsc 0 means
 * "verify first" or, with forward, "send it on", deciding "decisions on their way", see
 * cse_rsp). */
void cse_request_handle(cse_node *node, const cse_req *req, cse_rsp *rsp);

/* Frees what rsp holds (body, verification), for whoever handed it to
 * cse_request_handle: the binding and a group's fan-out alike, so it lives here. */
static inline void cse_rsp_clear(cse_rsp *rsp)
{
    free(rsp->body);
    rsp->body = NULL;
    free(rsp->verify_body);
    rsp->verify_body = NULL;
    for (size_t i = 0; i < rsp->n_verify; i++)
        free(rsp->verify_nu[i]);
    rsp->n_verify = 0;
}

#endif
