/* The state of one request inside tep-cse, shared by the request dispatch
 * (cse_request.c), the operations (cse_ops.c), groups (cse_group.c) and subscriptions
 * (cse_notify.c). Internal to cse-node. */
#ifndef TEP_CSE_CTX_H
#define TEP_CSE_CTX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cse_binding.h"
#include "cse_query.h"
#include "cse_request.h"

typedef struct {
    cse_node *node;
    const cse_req *req;
    /* Request dispatch (cse_request_handle), for the sub-requests of a group's fan-out:
     * the operations below dispatch never call it by name (no call upward). */
    void (*handle)(cse_node *node, const cse_req *req, cse_rsp *rsp);
    cse_binding_out who;
    cse_query q;
    Tep__Resource *target;
    bool fanout;                  /* target is a group's fanOutPoint */
    char fopt_rest[CSE_PATH_MAX]; /* the path after ".../fopt" ("" for the members) */
    bool open;                    /* the last cse_ctx_access's answer is provisional and
                                       may still permit (its decision on its way, or a
                                       permit known while others are): see cse_disc_verdict */
    json_t *body;                 /* the body as cse_ctx_json read it (owned), or NULL */
    json_error_t body_err;        /* ... why it is not JSON */
    bool body_read;
} cse_ctx;

/* The memos of a parked request (cse_request.h): NULL is fine. */
void cse_pass_memo_free(cse_pass_memo *m);
void cse_fanout_memo_free(cse_fanout_memo *m); /* cse_group.c */
/* Targets and facts taken from memos instead of the store, since the start (tests,
 * tepctl status). */
uint64_t cse_pass_memo_hits(void);
/* The dispatch's side of the pass memo (cse_request.c): a pass that ends waiting keeps
 * its target with the request (c->target is then NULL) and seals the memo with the
 * store's write count; the resumed pass takes the target back if nothing was written
 * since (true). */
void cse_ctx_memo_keep_target(cse_ctx *c);
void cse_ctx_memo_seal(cse_ctx *c);
bool cse_ctx_memo_take_target(cse_ctx *c);

/* The access decision for acop (CMN_ACOP_*) on res: 0 permitted, else 4103. */
unsigned cse_ctx_access(cse_ctx *c, const Tep__Resource *res, uint32_t acop);
/* The same with the policies of scope (cse_pep_scope: acpi update, group fan-out). */
unsigned cse_ctx_access_scope(cse_ctx *c, const Tep__Resource *res, uint32_t acop,
                              cse_pep_scope scope);
/* The access operation (CMN_ACOP_*) of the request: by op, DISCOVERY for fu=1. */
uint32_t cse_ctx_acop(const cse_ctx *c);
/* The "fopt/..." part of a Uri-Path (after "/fopt" ending a segment), NULL when none. */
const char *cse_ctx_find_fopt(const char *path);
/* The request body read as JSON (duplicate keys refused) once per pass: the AE
 * registration's App-ID check at bind time and the operation share it. NULL when empty
 * or not JSON. Owned by c (cse_request_handle releases it) until cse_ctx_body takes it. */
json_t *cse_ctx_json(cse_ctx *c);
/* The attribute object of the request body, wrapped as "m2m:<ty>" (*ret_root owns it). */
unsigned cse_ctx_body(cse_ctx *c, unsigned ty, json_t **ret_root, json_t **ret_attrs);

unsigned cse_ops_create(cse_ctx *c, cse_rsp *rsp);
unsigned cse_ops_retrieve(cse_ctx *c, cse_rsp *rsp);
unsigned cse_ops_update(cse_ctx *c, cse_rsp *rsp);
unsigned cse_ops_delete(cse_ctx *c, cse_rsp *rsp);
unsigned cse_ops_notify(cse_ctx *c, cse_rsp *rsp);

/* group (TS-0004 7.4.13): mid of a CREATE/UPDATE checked against the tree (members
 * exist, match mt, no more than mnm; duplicates removed in place): 0, 4000, 4110, 6010. */
unsigned cse_group_check_members(cse_ctx *c, json_t *attrs, const Tep__Resource *grp);
/* A request to <group>/fopt[/rest]: sent to every member (once per resolved path),
 * answers m2m:agr. A member's own fopt is followed up to CSE_FANOUT_MAX_DEPTH levels
 * (then 4000). All the sub-requests, nested included, are counted first: more than
 * node->fanout_max is 6010 and none is sent. A fan-out that writes asks the members'
 * decisions together first (remote mode: the request is parked until they are all
 * answered), then writes each member once: a member whose answer was final is not
 * handled again in a later pass (req->fanout_memo). */
#define CSE_FANOUT_MAX_DEPTH 2
#define CSE_GROUP_MAX_MEMBERS 1024
unsigned cse_group_fanout(cse_ctx *c, cse_rsp *rsp);

/* Subscription events (TS-0004 7.5.1): net 1 update, 2 delete of subject, 3 create of
 * a direct child, 4 delete of a direct child. subject is the resource the event is
 * about (the child for 3 and 4); the subscriptions are found under watched. */
void cse_notify_event(cse_node *node, const char *watched, int net, const Tep__Resource *subject,
                      int64_t now);
/* A subscription is going (DELETE, exc used up): {"m2m:sgn":{"sud":true,"sur"}} to its
 * subscriberURI (su), when it has one (TS-0004 7.4.8.2.4). */
void cse_notify_deleted(cse_node *node, const Tep__Resource *sub);

/* Verification of a subscription's nu (TS-0004 7.4.8.2.1) before it is created or its
 * nu updated: 0 when no nu needs it or it passed, 5204 when it failed, CSE_RSC_PENDING
 * with rsp's verify fields filled when it must be sent first. sur: the subscription. */
#define CSE_RSC_PENDING 1u
unsigned cse_notify_verify(cse_ctx *c, const char *sur, json_t *attrs, cse_rsp *rsp);

#endif
