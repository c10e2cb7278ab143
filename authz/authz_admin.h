/* tep-authz's admin socket (tepctl): STATUS answers key/value pairs. */
#ifndef TEP_AUTHZ_ADMIN_H
#define TEP_AUTHZ_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_dtls_guard.h"
#include "tep.pb-c.h"

#define AUTHZ_STATUS_MAX 56
#define AUTHZ_STATUS_VALUE_MAX 32

typedef struct {
    uint64_t decisions;         /* answered since start */
    uint64_t denials;           /* of which Deny */
    uint64_t audit_seq;         /* newest audit record */
    uint64_t audit_oldest;      /* oldest audit record kept (0: none) */
    uint64_t audit_records;     /* records kept (<data_dir>/audit) */
    uint64_t audit_max_records; /* retention: newest records kept */
    int64_t audit_max_age;      /* retention: seconds (0: no age bound) */
    uint64_t audit_failures;    /* decisions that could not be recorded (permits denied) */
    uint64_t rate_limited;      /* decisions refused 5103 over their originator's rate */
    uint64_t decide_messages;   /* messages received on decide (a batch is one) */
    uint64_t decide_batches;    /* of which DecisionBatchRequests */
    uint64_t last_seq;          /* last applied enroller event */
    const char *authz_role;     /* [authz] role: "all" (the writer) or "pdp" (a replica) */
    uint64_t policy_seq;        /* writer: newest policy log event; pdp: last applied */
    int64_t policy_age_ms;      /* pdp: ms since the writer's policy log answered (-1: never) */
    uint64_t das_forwarded;     /* pdp: DasRequests forwarded to the writer */
    size_t credentials;         /* active (not revoked) MAF credentials */
    const char *token_issuer;   /* iss of our tokens (NULL: tokens off) */
    const char *token_pub;      /* its ES256 public key, 130 hex digits (borrowed) */
    size_t grants;              /* dynamic-authorization grants loaded */
    size_t maf_keys;            /* MAF-registered keys (Kc) not yet expired */
    bool has_dtls;              /* the MAF's CoAPS endpoint is on: */
    cmn_dtls_stats dtls;        /* its DTLS flood guard's counters */
} authz_stats;

/* An AdminResponse and the storage its fields point into (no allocation). */
typedef struct {
    Tep__AdminResponse resp;
    Tep__KeyValue kv[AUTHZ_STATUS_MAX];
    Tep__KeyValue *kvp[AUTHZ_STATUS_MAX];
    char values[AUTHZ_STATUS_MAX][AUTHZ_STATUS_VALUE_MAX];
} authz_admin_reply;

/* Fills ret for rq: STATUS -> role, version, ready, decisions, denials, audit_seq,
 * last_seq, credentials, maf_keys, token_issuer, token_pub (the token signing key, X9.63 hex),
 * grants; AUDIT_QUERY, TOKEN_REVOKE, MAF_KEY_LIST and MAF_KEY_REVOKE are the daemon's (they
 * need the store); any other op -> err CMN_EINVAL "unsupported operation". ret
 * must not move while ret->resp is in use. */
void authz_admin_answer(const Tep__AdminRequest *rq, const authz_stats *st, authz_admin_reply *ret);

#endif
