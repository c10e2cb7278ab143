/* The MEF procedures of TS-0003 8.3.5.2 on the device's side (docs/internals.md "MEF
 * procedures"): in a MEF Handshake (DTLS-PSK with Kpm, or ECDHE-ECDSA with the tep
 * certificate of tep_enrol_cert()), MEF Client Registration and MEF Key Registration of
 * a usage-constrained key Kuc = HMAC(Ke, L_KUC || SUID || target) (10.3.7) for a target
 * other than the registrar; the key and its Key Identifier are computed here from Ke
 * and must match the MEF's answer. The result is a tep_kc for tep_connect_kc(). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "tae_client.h"
#include "tae_device.h"
#include "tae_e2e.h"
#include "tae_maf_client.h"

#define PATH_MAX_LEN 4096

/* A MEF session as this enrolee: its Kpm, else its tep certificate. */
static int mef_open(const tep_device *dev, tep_conn **ret)
{
    char crt[PATH_MAX_LEN], key[PATH_MAX_LEN], ca[PATH_MAX_LEN];
    tae_pki_creds pki = {.cert_file = crt,
                         .key_file = key,
                         .ca_file = ca,
                         .peer_id = dev->prov.mef_fqdn,
                         .sni = dev->prov.mef_fqdn};
    tae_psk_creds psk = {
        .identity = dev->prov.kpm_id, .psk = dev->prov.kpm, .sni = dev->prov.mef_fqdn};

    if (!dev->prov.cert_only)
        return tae_client_open(dev->prov.mef_uri, &psk, dev->timeout_ms, 0, ret);
    if (tep_device_cert_path(dev, "crt", crt, sizeof(crt)) < 0 ||
        tep_device_cert_path(dev, "key", key, sizeof(key)) < 0 ||
        tep_device_cert_path(dev, "ca", ca, sizeof(ca)) < 0)
        return CMN_ERANGE;
    if (access(crt, R_OK) != 0 || access(key, R_OK) != 0 || access(ca, R_OK) != 0)
        return CMN_ESTATE; /* a certificate enrolee without a tep certificate */
    return tae_client_open_pki(dev->prov.mef_uri, &pki, dev->timeout_ms, 0, ret);
}

static int code_err(unsigned code)
{
    if (code == 401 || code == 403)
        return CMN_EDENIED;
    if (code == 404)
        return CMN_ENOTFOUND;
    if (code == 400)
        return CMN_EINVAL;
    return code >= 200 && code < 300 ? 0 : CMN_EPROTO;
}

static int call(tep_conn *mef, coap_pdu_code_t code, const char *path, json_t *body, json_t **ret)
{
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    tae_exchange ex = {.code = code, .path = path, .body = text};
    tep_response *rsp = NULL;
    int rc = body != NULL && text == NULL ? CMN_ENOMEM : tae_client_exchange(mef, &ex, &rsp);

    if (rc == 0)
        rc = code_err(rsp->coap_code);
    if (rc == 0 && ret != NULL) {
        *ret = json_loadb(rsp->body, rsp->body_len, 0, NULL);
        rc = json_is_object(*ret) ? 0 : CMN_EPROTO;
    }
    tep_response_free(rsp);
    free(text);
    return rc;
}

/* Kuc for (suid, target) from the enrolment's Ke and its Key Identifier. */
static int derive(const tep_device *dev, unsigned suid, const char *target,
                  uint8_t kuc[CMN_KEY_LEN], char key_id[CMN_KEY_ID_MAX])
{
    int rc = cmn_kdf_kuc(dev->enr.ke, suid, target, kuc);

    return rc ? rc : cmn_kdf_kuc_id(kuc, dev->prov.mef_fqdn, key_id, CMN_KEY_ID_MAX);
}

static int ready(const tep_device *dev, unsigned suid, const char *target)
{
    if (dev == NULL || target == NULL || suid < 22 || suid > 25)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    return dev->enr.expires <= (int64_t)time(NULL) ? CMN_EEXPIRED : 0;
}

static int register_client(tep_conn *mef, const tep_device *dev, char *reg_id, size_t len)
{
    json_t *req = json_pack("{s:s}", "mefFQDN", dev->prov.mef_fqdn), *ans = NULL;
    int rc = req != NULL ? call(mef, COAP_REQUEST_CODE_POST, "mef/clients", req, &ans) : CMN_ENOMEM;
    const char *id = json_string_value(json_object_get(ans, "mefClientRegID"));

    if (rc == 0 && (id == NULL || (size_t)snprintf(reg_id, len, "%s", id) >= len))
        rc = CMN_EPROTO;
    json_decref(req);
    json_decref(ans);
    return rc;
}

static int register_key(tep_conn *mef, const char *reg_id, unsigned suid, const char *target,
                        int64_t lifetime, const char *want_id, int64_t *ret_exp)
{
    json_t *req = json_pack("{s:s,s:i,s:[s]}", "mefClientRegID", reg_id, "suid", (int)suid,
                            "targetIDs", target),
           *ans = NULL;
    int rc = req != NULL ? 0 : CMN_ENOMEM;

    if (rc == 0 && lifetime > 0)
        json_object_set_new(req, "expirationTime",
                            json_integer((json_int_t)(time(NULL) + lifetime)));
    if (rc == 0)
        rc = call(mef, COAP_REQUEST_CODE_POST, "mef/keys", req, &ans);
    if (rc == 0 && (!json_is_string(json_object_get(ans, "keyID")) ||
                    strcmp(json_string_value(json_object_get(ans, "keyID")), want_id) != 0 ||
                    !json_is_integer(json_object_get(ans, "expirationTime"))))
        rc = CMN_EPROTO; /* the MEF derived another key than ours */
    if (rc == 0)
        *ret_exp = json_integer_value(json_object_get(ans, "expirationTime"));
    json_decref(req);
    json_decref(ans);
    return rc;
}

int tep_mef_register_key(tep_device *dev, unsigned suid, const char *target_id, int64_t lifetime,
                         tep_kc **ret_kc)
{
    uint8_t kuc[CMN_KEY_LEN];
    char key_id[CMN_KEY_ID_MAX], reg_id[80];
    tep_conn *mef = NULL;
    int64_t exp = 0;
    int rc = ret_kc != NULL ? ready(dev, suid, target_id) : CMN_EINVAL;

    if (ret_kc != NULL)
        *ret_kc = NULL;
    if (rc == 0)
        rc = derive(dev, suid, target_id, kuc, key_id);
    if (rc == 0)
        rc = mef_open(dev, &mef);
    if (rc == 0)
        rc = register_client(mef, dev, reg_id, sizeof(reg_id));
    if (rc == 0)
        rc = register_key(mef, reg_id, suid, target_id, lifetime, key_id, &exp);
    if (rc == 0)
        rc = tae_kc_new(key_id, kuc, exp, reg_id, suid, target_id, ret_kc);
    tep_conn_free(mef);
    cmn_wipe(kuc, sizeof(kuc));
    return rc;
}

int tep_mef_key(tep_device *dev, unsigned suid, const char *target_id, tep_kc **ret_kc)
{
    uint8_t kuc[CMN_KEY_LEN];
    char key_id[CMN_KEY_ID_MAX];
    int rc = ret_kc != NULL ? ready(dev, suid, target_id) : CMN_EINVAL;

    if (ret_kc != NULL)
        *ret_kc = NULL;
    if (rc == 0)
        rc = derive(dev, suid, target_id, kuc, key_id);
    if (rc == 0)
        rc = tae_kc_new(key_id, kuc, dev->enr.expires, "", suid, target_id, ret_kc);
    cmn_wipe(kuc, sizeof(kuc));
    return rc;
}

/* "mef/keys/<relativeKeyID>" of kc. */
static int key_path(const tep_kc *kc, char *path, size_t len)
{
    const char *at = kc != NULL ? strchr(tep_kc_key_id(kc), '@') : NULL;

    if (at == NULL)
        return CMN_EINVAL;
    snprintf(path, len, "mef/keys/%.*s", (int)(at - tep_kc_key_id(kc)), tep_kc_key_id(kc));
    return 0;
}

int tep_mef_deregister_key(tep_device *dev, const tep_kc *kc)
{
    char path[CMN_KEY_ID_MAX + 16];
    tep_conn *mef = NULL;
    int rc = dev != NULL ? key_path(kc, path, sizeof(path)) : CMN_EINVAL;

    if (rc == 0)
        rc = mef_open(dev, &mef);
    if (rc == 0)
        rc = call(mef, COAP_REQUEST_CODE_DELETE, path, NULL, NULL);
    tep_conn_free(mef);
    return rc;
}

int tep_mef_update_key(tep_device *dev, tep_kc *kc, int64_t lifetime)
{
    char path[CMN_KEY_ID_MAX + 16];
    json_t *req = NULL, *ans = NULL;
    tep_conn *mef = NULL;
    int rc = dev != NULL && lifetime > 0 ? key_path(kc, path, sizeof(path)) : CMN_EINVAL;

    if (rc == 0 &&
        (req = json_pack("{s:I}", "expirationTime", (json_int_t)(time(NULL) + lifetime))) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0)
        rc = mef_open(dev, &mef);
    if (rc == 0)
        rc = call(mef, COAP_REQUEST_CODE_PUT, path, req, &ans);
    if (rc == 0 && !json_is_integer(json_object_get(ans, "expirationTime")))
        rc = CMN_EPROTO;
    if (rc == 0)
        tae_kc_set_expires(kc, json_integer_value(json_object_get(ans, "expirationTime")));
    tep_conn_free(mef);
    json_decref(req);
    json_decref(ans);
    return rc;
}

/* PUT (lifetime > 0: a new expirationTime) or DELETE mef/clients/<reg_id>. */
static int client_call(tep_device *dev, const char *reg_id, bool update, int64_t lifetime,
                       int64_t *ret_exp)
{
    char path[128];
    json_t *req = NULL, *ans = NULL;
    tep_conn *mef = NULL;
    int rc;

    if (dev == NULL || reg_id == NULL || !reg_id[0] || strchr(reg_id, '/') != NULL ||
        (update && lifetime <= 0))
        return CMN_EINVAL;
    if ((size_t)snprintf(path, sizeof(path), "mef/clients/%s", reg_id) >= sizeof(path))
        return CMN_ERANGE;
    if (update &&
        (req = json_pack("{s:I}", "expirationTime", (json_int_t)(time(NULL) + lifetime))) == NULL)
        return CMN_ENOMEM;
    rc = mef_open(dev, &mef);
    if (rc == 0)
        rc = call(mef, update ? COAP_REQUEST_CODE_PUT : COAP_REQUEST_CODE_DELETE, path, req,
                  update ? &ans : NULL);
    if (rc == 0 && update && ret_exp != NULL)
        *ret_exp = json_integer_value(json_object_get(ans, "expirationTime"));
    tep_conn_free(mef);
    json_decref(req);
    json_decref(ans);
    return rc;
}

int tep_mef_update_client(tep_device *dev, const char *reg_id, int64_t lifetime,
                          int64_t *ret_expires)
{
    return client_call(dev, reg_id, true, lifetime, ret_expires);
}

int tep_mef_deregister_client(tep_device *dev, const char *reg_id)
{
    return client_call(dev, reg_id, false, 0, NULL);
}

/* ---- MEF Key Retrieval (8.3.5.2.8): the target's side ------------------------------ */

/* The answer of GET mef/keys/<rel>: Kuc for key_id with an end-to-end SUID. */
static int e2e_from_answer(const tep_response *rsp, const char *key_id, const char *b_id,
                           tep_e2e_key **ret_key)
{
    json_t *o = json_loadb(rsp->body, rsp->body_len, JSON_REJECT_DUPLICATES, NULL);
    const char *hex = json_string_value(json_object_get(o, "keyValue"));
    const char *id = json_string_value(json_object_get(o, "keyID"));
    json_int_t suid = json_integer_value(json_object_get(o, "suid"));
    uint8_t kuc[CMN_KEY_LEN];
    int rc = CMN_EPROTO;

    if (hex != NULL && strlen(hex) == 2 * CMN_KEY_LEN && id != NULL && strcmp(id, key_id) == 0 &&
        suid >= 23 && suid <= 25 && cmn_hex_decode(hex, kuc, sizeof(kuc)) == 0)
        rc = tae_e2e_key_new(kuc, key_id, b_id, ret_key);
    cmn_wipe(kuc, sizeof(kuc));
    if (hex != NULL)
        cmn_wipe((char *)hex, strlen(hex));
    json_decref(o);
    return rc;
}

int tep_mef_retrieve_e2e_key(tep_device *dev, const char *key_id, tep_e2e_key **ret_key)
{
    const char *at = key_id != NULL ? strchr(key_id, '@') : NULL;
    tae_exchange ex = {.code = COAP_REQUEST_CODE_GET};
    char path[CMN_KEY_ID_MAX + 16];
    tep_response *rsp = NULL;
    tep_conn *mef = NULL;
    int rc;

    if (ret_key != NULL)
        *ret_key = NULL;
    if (dev == NULL || ret_key == NULL || at == NULL || at - key_id != 2 * CMN_REL_ID_LEN ||
        strcmp(at + 1, dev->prov.mef_fqdn) != 0)
        return CMN_EINVAL; /* not a Key Identifier of this device's MEF */
    if (!dev->enrolled)
        return CMN_ESTATE;
    snprintf(path, sizeof(path), "mef/keys/%.*s", (int)(at - key_id), key_id);
    ex.path = path;
    rc = mef_open(dev, &mef);
    if (rc == 0)
        rc = tae_client_exchange(mef, &ex, &rsp);
    if (rc == 0)
        rc = rsp->coap_code == 205 ? 0 : code_err(rsp->coap_code);
    if (rc == 0 && rsp->coap_code != 205)
        rc = CMN_EPROTO;
    if (rc == 0) /* B: this device, as the MEF authenticated it (docs/keys.md item 22) */
        rc = e2e_from_answer(rsp, key_id, dev->enr.enrolee_id, ret_key);
    if (rsp != NULL && rsp->body != NULL)
        cmn_wipe(rsp->body, rsp->body_len);
    tep_response_free(rsp);
    tep_conn_free(mef);
    return rc;
}
