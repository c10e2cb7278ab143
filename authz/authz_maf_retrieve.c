/* MAF Key Retrieval (TS-0003 8.8.2.8) by a target over the bus, and the certificate
 * MAF Handshake's binding to a live Km (authz_maf.h). Retrieved credentials hold Kc:
 * wiped when freed. */
#include "authz_maf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_creds.h"
#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

/* A usable Km: SUID 21, neither revoked nor expired. */
static bool km_live(const Tep__Credential *c, int64_t now)
{
    return c->suid == AUTHZ_MAF_SUID_KM && !c->revoked && (c->expires == 0 || c->expires > now);
}

typedef struct {
    const char *enrolee_id;
    int64_t now;
    bool found;
    int64_t expires;
    char ke_id[CMN_KEY_ID_MAX];
} km_search;

static int match_km(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    km_search *ks = arg;
    Tep__Credential *c = tep__credential__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (c == NULL)
        return 0; /* not ours to judge: the Km PSK look-up reports it */
    if (c->enrolee_id != NULL && strcmp(c->enrolee_id, ks->enrolee_id) == 0 &&
        km_live(c, ks->now) && (!ks->found || c->expires == 0 || c->expires > ks->expires)) {
        ks->found = true;
        ks->expires = c->expires;
        snprintf(ks->ke_id, sizeof(ks->ke_id), "%s", c->ke_id != NULL ? c->ke_id : "");
    }
    cmn_wipe(c->key.data, c->key.len);
    tep__credential__free_unpacked(c, NULL);
    return 0;
}

int authz_maf_enrolee_km(cmn_store *st, const char *enrolee_id, int64_t now, int64_t *ret_expires,
                         char *ret_ke_id, size_t len_ke_id)
{
    km_search ks = {enrolee_id, now, false, 0, ""};
    int rc = cmn_store_foreach(st, AUTHZ_CREDS_DB, NULL, 0, match_km, &ks);

    if (rc != 0)
        return rc;
    if (!ks.found)
        return CMN_ENOTFOUND;
    if (ret_expires != NULL)
        *ret_expires = ks.expires;
    if (ret_ke_id != NULL)
        snprintf(ret_ke_id, len_ke_id, "%s", ks.ke_id);
    return 0;
}

/* The source's Km credential (its enrolment) must still be live: revoking or expiring
 * an enrolment ends the keys registered with it (10.7). A key registered in a
 * certificate session (no km_id) lives while its source has a live Km. */
static bool source_live(cmn_store *st, const Tep__MafKey *k, int64_t now, char *ret_ke_id,
                        size_t len_ke_id)
{
    Tep__Credential *c = NULL;
    bool live = false;

    if (k->km_id[0] == '\0')
        return !authz_maf_cert_revoked(st, k->cert_serial) &&
               authz_maf_enrolee_km(st, k->source_id, now, NULL, ret_ke_id, len_ke_id) == 0 &&
               cmn_ca_serial_bound_to(k->cert_serial, ret_ke_id);
    if (cmn_store_get_msg(st, AUTHZ_CREDS_DB, k->km_id, strlen(k->km_id),
                          &tep__credential__descriptor, (ProtobufCMessage **)&c) == 0)
        live = !c->revoked && (c->expires == 0 || c->expires > now);
    if (live)
        snprintf(ret_ke_id, len_ke_id, "%s", c->ke_id);
    if (c != NULL) {
        cmn_wipe(c->key.data, c->key.len);
        tep__credential__free_unpacked(c, NULL);
    }
    return live;
}

static bool is_target(const Tep__MafKey *k, const char *target_id)
{
    for (size_t i = 0; i < k->n_targets; i++)
        if (strcmp(k->targets[i], target_id) == 0)
            return true;
    return false;
}

static int to_credential(const Tep__MafKey *k, const char *ke_id, Tep__Credential **ret)
{
    Tep__Credential *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return CMN_ENOMEM;
    tep__credential__init(c);
    c->key_id = strdup(k->key_id);
    c->enrolee_id = strdup(k->source_id);
    c->key.data = malloc(CMN_KEY_LEN);
    c->key.len = CMN_KEY_LEN;
    c->suid = k->suid;
    c->expires = k->expires;
    c->ke_id = strdup(ke_id); /* the source's enrolment: targets revoke Kc with it */
    c->app_id = strdup("");
    if (c->key_id == NULL || c->enrolee_id == NULL || c->key.data == NULL || c->ke_id == NULL ||
        c->app_id == NULL) {
        authz_maf_credential_free(c);
        return CMN_ENOMEM;
    }
    memcpy(c->key.data, k->kc.data, CMN_KEY_LEN);
    *ret = c;
    return 0;
}

int authz_maf_retrieve(cmn_store *st, const char *key_id, const char *target_id, int64_t now,
                       Tep__Credential **ret)
{
    Tep__MafKey *k = NULL;
    char ke_id[CMN_KEY_ID_MAX] = "";
    int rc;

    *ret = NULL;
    if (key_id == NULL || target_id == NULL || key_id[0] == '\0')
        return CMN_EINVAL;
    rc = authz_maf_get_key(st, key_id, &k);
    if (rc == 0 && k->revoked != 0)
        rc = CMN_ENOTFOUND; /* de-registered or revoked: the record stays for the audit */
    if (rc == 0 && (k->kc.len != CMN_KEY_LEN || k->source_id == NULL))
        rc = CMN_ECORRUPT;
    if (rc == 0 &&
        ((k->expires != 0 && k->expires <= now) || !source_live(st, k, now, ke_id, sizeof(ke_id))))
        rc = CMN_ENOTFOUND; /* an expired or revoked key is no key */
    if (rc == 0 && !is_target(k, target_id))
        rc = CMN_EDENIED;
    if (rc == 0)
        rc = to_credential(k, ke_id, ret);
    authz_maf_key_free(k);
    return rc;
}

void authz_maf_credential_free(Tep__Credential *c)
{
    if (c == NULL)
        return;
    if (c->key.data != NULL)
        cmn_wipe(c->key.data, c->key.len);
    free(c->key.data);
    free(c->key_id);
    free(c->enrolee_id);
    free(c->ke_id);
    free(c->app_id);
    free(c);
}
