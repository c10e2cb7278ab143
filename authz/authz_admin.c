/* tep-authz's admin answers (see authz_admin.h). */
#include "authz_admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmn_err.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

/* Appends key = value; value must outlive the reply (a literal or r->values[i]). */
static void add_str(authz_admin_reply *r, const char *key, const char *value)
{
    size_t i = r->resp.n_status;

    if (i >= AUTHZ_STATUS_MAX)
        return;
    tep__key_value__init(&r->kv[i]);
    r->kv[i].key = (char *)key; /* protobuf-c never writes through these */
    r->kv[i].value = (char *)value;
    r->kvp[i] = &r->kv[i];
    r->resp.n_status = i + 1;
}

static void add_u64(authz_admin_reply *r, const char *key, uint64_t v)
{
    size_t i = r->resp.n_status;

    if (i >= AUTHZ_STATUS_MAX)
        return;
    snprintf(r->values[i], sizeof(r->values[i]), "%" PRIu64, v);
    add_str(r, key, r->values[i]);
}

void authz_admin_answer(const Tep__AdminRequest *rq, const authz_stats *st, authz_admin_reply *ret)
{
    memset(ret, 0, sizeof(*ret));
    tep__admin_response__init(&ret->resp);
    ret->resp.status = ret->kvp;
    if (rq->op != TEP__ADMIN_REQUEST__OP__STATUS) {
        ret->resp.err = CMN_EINVAL;
        ret->resp.message = "unsupported operation";
        return;
    }
    add_str(ret, "role", "authz");
    add_str(ret, "version", TEP_VERSION);
    add_str(ret, "ready", "true"); /* as the enroller and tep-cse say it */
    add_u64(ret, "decisions", st->decisions);
    add_u64(ret, "denials", st->denials);
    add_u64(ret, "audit_seq", st->audit_seq);
    add_u64(ret, "audit_records", st->audit_records);
    add_u64(ret, "audit_oldest", st->audit_oldest);
    add_u64(ret, "audit_max_records", st->audit_max_records);
    add_u64(ret, "audit_max_age", (uint64_t)st->audit_max_age);
    add_u64(ret, "audit_failures", st->audit_failures);
    add_u64(ret, "rate_limited", st->rate_limited);
    add_u64(ret, "decide_messages", st->decide_messages);
    add_u64(ret, "decide_batches", st->decide_batches);
    add_u64(ret, "last_seq", st->last_seq);
    add_u64(ret, "credentials", st->credentials);
    add_u64(ret, "grants", st->grants);
    add_u64(ret, "maf_keys", st->maf_keys);
    add_str(ret, "authz_role", st->authz_role != NULL ? st->authz_role : "all");
    add_u64(ret, "policy_seq", st->policy_seq);
    if (st->authz_role != NULL && strcmp(st->authz_role, "pdp") == 0) {
        size_t k = ret->resp.n_status;

        if (k < AUTHZ_STATUS_MAX) {
            snprintf(ret->values[k], sizeof(ret->values[k]), "%lld", (long long)st->policy_age_ms);
            add_str(ret, "policy_age_ms", ret->values[k]);
        }
        add_u64(ret, "das_forwarded", st->das_forwarded);
    }
    if (st->has_dtls) {
        const char *keys[CMN_DTLS_STATUS_N];
        char vals[CMN_DTLS_STATUS_N][24];

        cmn_dtls_stats_kv(&st->dtls, keys, vals);
        for (size_t i = 0; i < CMN_DTLS_STATUS_N; i++) {
            size_t k = ret->resp.n_status;

            if (k >= AUTHZ_STATUS_MAX)
                break;
            memcpy(ret->values[k], vals[i], sizeof(vals[i])); /* 24 <= 32 bytes */
            add_str(ret, keys[i], ret->values[k]);
        }
    }
    if (st->token_issuer != NULL && st->token_pub != NULL) {
        add_str(ret, "token_issuer", st->token_issuer);
        add_str(ret, "token_pub", st->token_pub);
    }
}
