/* MAF Key Retrieval by a target over CoAPS (see authz_maf_e2e.h). */
#include "authz_maf_e2e.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

static bool is_e2e(unsigned suid)
{
    return suid == AUTHZ_MAF_SUID_E2E_PRIM || suid == AUTHZ_MAF_SUID_E2E_ENC ||
           suid == AUTHZ_MAF_SUID_E2E_SIG;
}

/* The answer's JSON; Kc is spliced in as text so that no JSON value holding it is freed
 * unwiped (only the returned body holds it). */
static char *retrieved_body(const Tep__Credential *c)
{
    json_t *o = json_pack("{s:s,s:i,s:I,s:s}", "keyID", c->key_id, "suid", (int)c->suid,
                          "expirationTime", (json_int_t)c->expires, "sourceID", c->enrolee_id);
    char *meta = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL, *s = NULL;
    size_t n = meta != NULL ? strlen(meta) + 2 * CMN_KEY_LEN + 16 : 0;

    json_decref(o);
    if (meta != NULL && meta[0] == '{' && (s = malloc(n)) != NULL) {
        memcpy(s, "{\"keyValue\":\"", 13);
        cmn_hex_encode(c->key.data, CMN_KEY_LEN, s + 13);
        snprintf(s + 13 + 2 * CMN_KEY_LEN, n - 13 - 2 * CMN_KEY_LEN, "\",%s", meta + 1);
    }
    free(meta);
    return s;
}

void authz_maf_e2e_retrieve(cmn_store *st, const char *maf_fqdn, const authz_maf_session *s,
                            const char *rel_id, int64_t now, authz_maf_answer *ret)
{
    Tep__Credential *c = NULL;
    const char *target = s->enrolee_id;
    int rc;

    memset(ret, 0, sizeof(*ret));
    ret->code = AUTHZ_MAF_BAD_REQUEST;
    ret->reason = "malformed relativeKeyID";
    if (rel_id == NULL || strlen(rel_id) != 2 * CMN_REL_ID_LEN ||
        strspn(rel_id, "0123456789abcdef") != 2 * CMN_REL_ID_LEN ||
        snprintf(ret->key_id, sizeof(ret->key_id), "%s@%s", rel_id, maf_fqdn) >=
            (int)sizeof(ret->key_id))
        return;
    rc = authz_maf_retrieve(st, ret->key_id, target, now, &c);
    /* a SAEF Kc (SUID 32) is its target CSE's DTLS PSK: to that CSE's own MAF Handshake
     * session too (8.2.2.3 step "Entity B and the MAF ... MAF Key Retrieval", beside the
     * bus); its targetIDs are CSE-IDs, so only a CSE's session can match them */
    if (rc == 0 && !is_e2e(c->suid) && !(c->suid == AUTHZ_MAF_SUID_KC && target[0] == '/'))
        rc = CMN_EDENIED;
    if (rc == CMN_ENOTFOUND) {
        ret->code = AUTHZ_MAF_NOT_FOUND;
        ret->reason = "no such key";
    } else if (rc == CMN_EDENIED) {
        ret->code = AUTHZ_MAF_FORBIDDEN;
        ret->reason = "not a target of the key";
    } else if (rc != 0) {
        ret->code = AUTHZ_MAF_INTERNAL;
        ret->reason = "store failure";
    } else if ((ret->body = retrieved_body(c)) == NULL) {
        ret->code = AUTHZ_MAF_INTERNAL;
        ret->reason = "no memory";
    } else {
        ret->code = AUTHZ_MAF_CONTENT; /* 2.05 Content */
        ret->reason = "key retrieved";
        ret->suid = c->suid;
    }
    authz_maf_credential_free(c);
    if (ret->code != AUTHZ_MAF_CONTENT)
        ret->key_id[0] = '\0'; /* nothing to publish */
}
