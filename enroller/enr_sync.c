/* Building SyncResponses from the event log and the enrolments. */
#include "enr_sync.h"

#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "enr_db.h"
#include "enr_mef.h"

/* One item with everything it points to. item must stay first (freed through it). */
typedef struct {
    Tep__SyncItem item;
    Tep__Credential cred;
    Tep__Event *event;         /* unpacked from the log */
    Tep__Enrolment *enrolment; /* unpacked; cred strings point into it */
    Tep__MefKey *mef_key;      /* KEY_* events: the registered key */
    char key_id[CMN_KEY_ID_MAX];
    uint8_t key[CMN_KEY_LEN];
} sync_slot;

static void slot_free(sync_slot *slot)
{
    if (slot == NULL)
        return;
    if (slot->event != NULL)
        tep__event__free_unpacked(slot->event, NULL);
    enr_enrolment_free(slot->enrolment);
    if (slot->mef_key != NULL)
        tep__mef_key__free_unpacked(slot->mef_key, NULL);
    cmn_free_secret(slot, sizeof(*slot));
}

/* Derives the key target is entitled to from enrolment en into slot. CMN_ENOTFOUND
 * when the target gets nothing. */
static int derive_for_target(sync_slot *slot, const Tep__Enrolment *en, const char *target,
                             const char *mef_fqdn)
{
    int rc;

    if (en->ke.len != CMN_KEY_LEN)
        return CMN_ECORRUPT;
    if (target[0] != '\0' && strcmp(target, en->registrar_cse_id) == 0) {
        rc = cmn_kdf_kpsa(en->ke.data, en->registrar_cse_id, slot->key);
        if (rc == 0)
            rc = cmn_kdf_kpsa_id(slot->key, mef_fqdn, slot->key_id, sizeof(slot->key_id));
        slot->cred.suid = ENR_SUID_KPSA;
        return rc;
    }
    if (target[0] != '\0' && strcmp(target, en->maf_id) == 0) {
        rc = cmn_kdf_km(en->ke.data, en->maf_id, slot->key);
        if (rc == 0)
            rc = cmn_kdf_km_id(slot->key, en->maf_id, slot->key_id, sizeof(slot->key_id));
        slot->cred.suid = ENR_SUID_MAF;
        return rc;
    }
    return CMN_ENOTFOUND;
}

static int fill_credential(sync_slot *slot, const char *target, const char *mef_fqdn)
{
    Tep__Enrolment *en = slot->enrolment;
    bool revoked = en->revoked || slot->event->kind == TEP__EVENT__KIND__REVOKED;
    int rc = derive_for_target(slot, en, target, mef_fqdn);

    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    slot->cred.key_id = slot->key_id;
    if (!revoked) {
        slot->cred.key.data = slot->key;
        slot->cred.key.len = CMN_KEY_LEN;
    }
    slot->cred.ke_id = en->ke_id;
    slot->cred.enrolee_id = en->enrolee_id;
    slot->cred.app_id = en->app_id;
    slot->cred.expires = en->expires;
    slot->cred.revoked = revoked;
    slot->item.credential = &slot->cred;
    return 0;
}

/* A KEY_* event (MEF Key Registration, enr_mef.h): Kuc of the source's enrolment for
 * the key's one target, handed to that target only (SAEF and ESPrim keys); revoked once the key is
 * de-registered or the enrolment revoked. */
static int fill_mef_key(sync_slot *slot, cmn_store *s, const char *target, const char *mef_fqdn)
{
    Tep__Enrolment *en = slot->enrolment;
    Tep__MefKey *k;
    int rc = enr_mef_key_get(s, slot->event->key_id, &slot->mef_key);

    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    k = slot->mef_key;
    if (target[0] == '\0' || strcmp(target, k->target_id) != 0)
        return 0;
    if (k->suid != ENR_MEF_SUID_SAEF && k->suid != ENR_MEF_SUID_ESPRIM)
        return 0; /* an ESData key goes to its target by MEF Key Retrieval only */
    if (en->ke.len != CMN_KEY_LEN)
        return CMN_ECORRUPT;
    rc = cmn_kdf_kuc(en->ke.data, k->suid, k->target_id, slot->key);
    if (rc == 0)
        rc = cmn_kdf_kuc_id(slot->key, mef_fqdn, slot->key_id, sizeof(slot->key_id));
    if (rc != 0)
        return rc;
    slot->cred.key_id = slot->key_id;
    slot->cred.revoked =
        k->revoked || en->revoked || slot->event->kind == TEP__EVENT__KIND__KEY_DEREGISTERED;
    if (!slot->cred.revoked) {
        slot->cred.key.data = slot->key;
        slot->cred.key.len = CMN_KEY_LEN;
    }
    slot->cred.suid = k->suid;
    slot->cred.ke_id = en->ke_id;
    slot->cred.enrolee_id = en->enrolee_id;
    slot->cred.app_id = en->app_id;
    slot->cred.expires = k->expires;
    slot->item.credential = &slot->cred;
    return 0;
}

static bool is_key_event(const Tep__Event *ev)
{
    return ev->kind == TEP__EVENT__KIND__KEY_REGISTERED ||
           ev->kind == TEP__EVENT__KIND__KEY_DEREGISTERED;
}

static int make_slot(cmn_store *s, uint64_t seq, const Tep__SyncRequest *req, const char *mef_fqdn,
                     sync_slot **ret)
{
    sync_slot *slot = calloc(1, sizeof(*slot));
    int rc;

    if (slot == NULL)
        return CMN_ENOMEM;
    tep__sync_item__init(&slot->item);
    tep__credential__init(&slot->cred);
    rc = enr_db_event_get(s, seq, &slot->event);
    if (rc == CMN_ENOTFOUND)
        rc = CMN_ECORRUPT; /* the log is dense up to last_seq */
    if (rc != 0)
        goto out;
    slot->item.event = slot->event;
    if (slot->event->kind == TEP__EVENT__KIND__CERT_REVOKED)
        goto out; /* the serial is for every target; no credential goes with it */
    rc = enr_db_enrolment_get(s, slot->event->ke_id, &slot->enrolment);
    if (rc == CMN_ENOTFOUND) {
        rc = 0; /* nothing to hand out for it */
        goto out;
    }
    if (rc == 0 && is_key_event(slot->event))
        rc = fill_mef_key(slot, s, req->target_id, mef_fqdn);
    else if (rc == 0)
        rc = fill_credential(slot, req->target_id, mef_fqdn);
    /* a CSE's enrolment target, to every target: what its registrar's registrar checks
     * a descendantCSEs entry against (tep.proto SyncItem.cse_target) */
    if (rc == 0 && !is_key_event(slot->event) && slot->enrolment->enrolee_id[0] == '/' &&
        slot->enrolment->enrolee_id[1] != '/')
        slot->item.cse_target = slot->enrolment->registrar_cse_id;
    /* an AE's enrolment for another CSE, keyless, to the other CSEs: what a CSE that
     * the AE reaches through its registrar checks (tep.proto SyncItem.ae_target) */
    if (rc == 0 && !is_key_event(slot->event) && slot->enrolment->enrolee_id[0] != '/' &&
        req->target_id[0] == '/' &&
        strcmp(req->target_id, slot->enrolment->registrar_cse_id) != 0) {
        slot->item.ae_target = slot->enrolment->registrar_cse_id;
        slot->item.ae_expires = slot->enrolment->expires;
    }
out:
    if (rc != 0) {
        slot_free(slot);
        slot = NULL;
    }
    *ret = slot;
    return rc;
}

int enr_sync_answer(cmn_store *s, const char *mef_fqdn, const Tep__SyncRequest *req,
                    Tep__SyncResponse *resp)
{
    uint32_t max = req->max == 0 ? ENR_SYNC_DEFAULT_MAX : req->max;
    uint64_t last = 0, n = 0;
    char epoch[ENR_EPOCH_LEN + 1];
    int rc = enr_db_last_seq(s, &last);

    if (rc == 0)
        rc = enr_db_epoch(s, epoch);
    if (rc != 0)
        return rc;
    resp->epoch = strdup(epoch);
    if (resp->epoch == NULL) {
        resp->epoch = (char *)protobuf_c_empty_string;
        return CMN_ENOMEM;
    }
    if (max > ENR_SYNC_MAX)
        max = ENR_SYNC_MAX;
    if (req->after_seq < last)
        n = last - req->after_seq < max ? last - req->after_seq : max;
    resp->last_seq = last;
    resp->more = req->after_seq + n < last;
    if (n == 0)
        return 0;
    resp->items = calloc(n, sizeof(*resp->items));
    if (resp->items == NULL) {
        enr_sync_clear(resp);
        return CMN_ENOMEM;
    }
    for (uint64_t i = 0; i < n; i++) {
        sync_slot *slot = NULL;
        rc = make_slot(s, req->after_seq + 1 + i, req, mef_fqdn, &slot);
        if (rc != 0) {
            enr_sync_clear(resp);
            return rc;
        }
        resp->items[resp->n_items++] = &slot->item;
    }
    return 0;
}

void enr_sync_clear(Tep__SyncResponse *resp)
{
    if (resp == NULL)
        return;
    for (size_t i = 0; i < resp->n_items; i++)
        slot_free((sync_slot *)resp->items[i]);
    free(resp->items);
    resp->items = NULL;
    resp->n_items = 0;
    if (resp->epoch != protobuf_c_empty_string)
        free(resp->epoch);
    resp->epoch = (char *)protobuf_c_empty_string;
}
