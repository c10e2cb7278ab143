/* The MAF-based SAEF, entity A's side (TS-0003 8.2.2.3, 8.8): in one DTLS-PSK Km session
 * to the MAF, MAF Client Registration (POST /maf/clients) and MAF Key Registration
 * (POST /maf/keys, SUID 32, targetIDs = [B]); both sides export
 * EXPORTER-oneM2M-Connection from that session: KcID = first 16 bytes, Kc = last 32
 * (cmn_kdf.h), Key Identifier = hex(KcID)@MAF-FQDN. Then DTLS-PSK to B with them.
 * JSON: docs/internals.md "MAF". */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_e2e.h"
#include "cmn_exporter.h"
#include "cmn_kdf.h"
#include "tae_device.h"
#include "tae_e2e.h"
#include "tae_maf_client.h"

#define SUID_KC 32
#define SUID_E2E_PRIM 33 /* ESPrim; 34 ESData encryption; 35 ESData signature */
#define SUID_E2E_SIG 35
#define SUID_MEF_PRIM 23 /* the same from MEF Key Registration (Kuc, tep_mef.c) */
#define SUID_MEF_SIG 25
/* An end-to-end SUID: from the MAF (33-35) or the MEF (23-25). */
#define SUID_IS_E2E(s)                                                                             \
    (((s) >= SUID_E2E_PRIM && (s) <= SUID_E2E_SIG) || ((s) >= SUID_MEF_PRIM && (s) <= SUID_MEF_SIG))
#define KC_RETRY_MS 1500
#define REG_ID_MAX 64
#define CERT_PATH_MAX 4096

struct tep_kc {
    char key_id[CMN_KEY_ID_MAX];
    int64_t expires;
    char reg_id[REG_ID_MAX]; /* the MAF Client Registration it was registered under */
    bool cert;               /* registered in a certificate MAF Handshake */
    unsigned suid;           /* 32 SAEF; 33-35 end-to-end (tep_maf_register_e2e_key) */
    char target[256];        /* the one target it was registered for */
    char source[256];        /* retrieved by its target: the source's AE-ID or CSE-ID */
    uint8_t kc[CMN_KEY_LEN];
};

static int code_err(unsigned code)
{
    if (code == 401 || code == 403)
        return CMN_EDENIED;
    if (code == 404)
        return CMN_ENOTFOUND;
    return code == 400 ? CMN_EINVAL : CMN_EPROTO;
}

/* The certificate MAF Handshake (TS-0003 8.8.2.2): ECDHE-ECDSA with the key and
 * certificate of tep_enrol_cert(); the MAF's certificate must chain to the stored trust
 * anchor and name the MAF-ID in its subjectAltName ("onem2m:<MAF-ID>"). */
static int maf_client_open_cert(tae_maf_client *m, const tep_device *dev, const char *maf_uri)
{
    char crt[CERT_PATH_MAX], key[CERT_PATH_MAX], ca[CERT_PATH_MAX];
    tae_pki_creds creds = {.cert_file = crt,
                           .key_file = key,
                           .ca_file = ca,
                           .peer_id = dev->enr.maf_id,
                           .sni = dev->enr.maf_id};
    int rc;

    if ((rc = tep_device_cert_path(dev, "crt", crt, sizeof(crt))) < 0 ||
        (rc = tep_device_cert_path(dev, "key", key, sizeof(key))) < 0 ||
        (rc = tep_device_cert_path(dev, "ca", ca, sizeof(ca))) < 0)
        return rc;
    if (access(crt, R_OK) != 0 || access(key, R_OK) != 0 || access(ca, R_OK) != 0)
        return CMN_ESTATE; /* no certificate yet: tep_enrol_cert() first */
    m->identity[0] = '\0'; /* no KmID: the MAF knows the client by its certificate */
    return tae_client_open_pki(maf_uri, &creds, dev->timeout_ms, 0, &m->conn);
}

/* The checks every MAF procedure makes; *uri: maf_uri or the enrolment's mpoa. */
static int maf_ready(const tep_device *dev, const char *maf_uri, const char **uri)
{
    if (!dev->enrolled || dev->enr.maf_id[0] == '\0')
        return CMN_ESTATE;
    if (maf_uri == NULL && (maf_uri = dev->enr.maf_poa)[0] == '\0')
        return CMN_ESTATE;
    if (dev->enr.expires != 0 && dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    *uri = maf_uri;
    return 0;
}

static int maf_open(tae_maf_client *m, tep_device *dev, const char *maf_uri, bool cert)
{
    return cert ? maf_client_open_cert(m, dev, maf_uri) : tae_maf_client_open(m, dev, maf_uri);
}

/* One request in the session; the answer replaces m->rsp. */
static int maf_call(tae_maf_client *m, coap_pdu_code_t code, const char *path, const char *json)
{
    tae_exchange ex = {.code = code, .path = path, .body = json};

    tep_response_free(m->rsp);
    m->rsp = NULL;
    return tae_client_exchange(m->conn, &ex, &m->rsp);
}

/* MAF Client Registration: a Km client must be named by its KmID as assignedSymmKeyID;
 * the mafClientRegID is kept in kc (update and de-registration name it). */
static int register_client(tae_maf_client *m, const char *maf_id, tep_kc *kc)
{
    json_t *rq = json_pack("{s:s}", "mafFQDN", maf_id), *o = NULL;
    char *body = rq != NULL ? json_dumps(rq, JSON_COMPACT) : NULL;
    const char *asid;
    int rc = body != NULL ? tae_maf_client_post(m, "maf/clients", body) : CMN_ENOMEM;

    if (rc == 0 && m->rsp->coap_code != 201)
        rc = code_err(m->rsp->coap_code);
    if (rc == 0 && (o = json_loads(m->rsp->body, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        rc = CMN_EPROTO;
    asid = json_string_value(json_object_get(o, "assignedSymmKeyID"));
    if (rc == 0 && m->identity[0] != '\0' && (asid == NULL || strcmp(asid, m->identity) != 0))
        rc = CMN_EPROTO;
    if (rc == 0 && (!json_is_string(json_object_get(o, "mafClientRegID")) ||
                    snprintf(kc->reg_id, sizeof(kc->reg_id), "%s",
                             json_string_value(json_object_get(o, "mafClientRegID"))) >=
                        (int)sizeof(kc->reg_id)))
        rc = CMN_EPROTO;
    json_decref(o);
    json_decref(rq);
    free(body);
    return rc;
}

static char *key_request(unsigned suid, const char *target_id, int64_t lifetime)
{
    json_t *o = json_pack("{s:i,s:[s]}", "suid", (int)suid, "targetIDs", target_id);
    char *s;

    if (o != NULL && lifetime > 0)
        json_object_set_new(o, "expirationTime", json_integer((int64_t)time(NULL) + lifetime));
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Kc and its Key Identifier from this session's exporter; the answer must agree. */
static int derive_kc(tae_maf_client *m, const char *maf_id, tep_kc *kc)
{
    uint8_t exp[CMN_EXPORTER_LEN], rel_id[CMN_REL_ID_LEN];
    json_t *o = json_loads(m->rsp->body, JSON_REJECT_DUPLICATES, NULL);
    const char *key_id = json_string_value(json_object_get(o, "keyID"));
    int rc = cmn_tls_export(m->conn->session, CMN_LABEL_CONNECTION, exp, sizeof(exp));

    if (rc == 0) {
        cmn_kdf_split_exporter(exp, rel_id, kc->kc);
        rc = cmn_kdf_key_id(rel_id, maf_id, kc->key_id, sizeof(kc->key_id));
    }
    kc->expires = json_integer_value(json_object_get(o, "expirationTime"));
    if (rc == 0 && (key_id == NULL || strcmp(key_id, kc->key_id) != 0 || kc->expires <= 0))
        rc = CMN_EPROTO;
    cmn_wipe(exp, sizeof(exp));
    json_decref(o);
    return rc;
}

static int register_key(tae_maf_client *m, const char *maf_id, const char *target_id,
                        int64_t lifetime, tep_kc *kc)
{
    char *body = key_request(kc->suid, target_id, lifetime);
    int rc = body != NULL ? tae_maf_client_post(m, "maf/keys", body) : CMN_ENOMEM;

    if (rc == 0 && m->rsp->coap_code != 201)
        rc = code_err(m->rsp->coap_code);
    if (rc == 0)
        rc = derive_kc(m, maf_id, kc);
    free(body);
    return rc;
}

static int register_key_with(tep_device *dev, const char *maf_uri, unsigned suid,
                             const char *target_id, int64_t lifetime, bool cert, tep_kc **ret_kc)
{
    tae_maf_client m = {0};
    tep_kc *kc = NULL;
    int rc;

    if (ret_kc != NULL)
        *ret_kc = NULL;
    if (dev == NULL || target_id == NULL || lifetime < 0 || ret_kc == NULL ||
        strlen(target_id) >= sizeof(kc->target) ||
        (target_id[0] != '/' && (suid == SUID_KC || (target_id[0] != 'C' && target_id[0] != 'S'))))
        return CMN_EINVAL;
    if ((rc = maf_ready(dev, maf_uri, &maf_uri)) != 0)
        return rc;
    if ((kc = calloc(1, sizeof(*kc))) == NULL)
        return CMN_ENOMEM;
    kc->cert = cert;
    kc->suid = suid;
    snprintf(kc->target, sizeof(kc->target), "%s", target_id);
    rc = maf_open(&m, dev, maf_uri, cert);
    if (rc == 0)
        rc = register_client(&m, dev->enr.maf_id, kc);
    if (rc == 0)
        rc = register_key(&m, dev->enr.maf_id, target_id, lifetime, kc);
    tae_maf_client_close(&m);
    if (rc != 0) {
        tep_kc_free(kc);
        return rc;
    }
    *ret_kc = kc;
    return 0;
}

int tep_maf_register_key(tep_device *dev, const char *maf_uri, const char *target_id,
                         int64_t lifetime, tep_kc **ret_kc)
{
    return register_key_with(dev, maf_uri, SUID_KC, target_id, lifetime, false, ret_kc);
}

int tep_maf_register_key_cert(tep_device *dev, const char *maf_uri, const char *target_id,
                              int64_t lifetime, tep_kc **ret_kc)
{
    return register_key_with(dev, maf_uri, SUID_KC, target_id, lifetime, true, ret_kc);
}

/* ---- update and de-registration (TS-0003 8.8.2.6, 8.8.2.9, 8.8.2.10) --------------- */

/* "maf/keys/<relativeKeyID>": the part of the Key Identifier before '@'. */
static int key_path(const tep_kc *kc, char *buf, size_t len)
{
    const char *at = strchr(kc->key_id, '@');

    if (at == NULL ||
        snprintf(buf, len, "maf/keys/%.*s", (int)(at - kc->key_id), kc->key_id) >= (int)len)
        return CMN_EINVAL;
    return 0;
}

/* One procedure in a fresh MAF Handshake session of the kind kc was registered in. */
static int kc_procedure(tep_device *dev, const char *maf_uri, const tep_kc *kc,
                        coap_pdu_code_t code, const char *path, const char *json, unsigned expect,
                        json_t **ret_answer)
{
    tae_maf_client m = {0};
    int rc = maf_ready(dev, maf_uri, &maf_uri);

    if (rc == 0)
        rc = maf_open(&m, dev, maf_uri, kc->cert);
    if (rc == 0)
        rc = maf_call(&m, code, path, json);
    if (rc == 0 && m.rsp->coap_code != expect)
        rc = code_err(m.rsp->coap_code);
    if (rc == 0 && ret_answer != NULL &&
        (*ret_answer = json_loads(m.rsp->body != NULL ? m.rsp->body : "", JSON_REJECT_DUPLICATES,
                                  NULL)) == NULL)
        rc = CMN_EPROTO;
    tae_maf_client_close(&m);
    return rc;
}

int tep_maf_update_key(tep_device *dev, const char *maf_uri, tep_kc *kc, int64_t lifetime,
                       const char *target_id)
{
    char path[CMN_KEY_ID_MAX + 16], *body = NULL;
    json_t *rq, *o = NULL;
    int rc;

    if (dev == NULL || kc == NULL || lifetime < 0 || (lifetime == 0 && target_id == NULL) ||
        (target_id != NULL && target_id[0] != '/') || key_path(kc, path, sizeof(path)) != 0)
        return CMN_EINVAL;
    rq = json_pack("{s:s}", "mafFQDN", dev->enr.maf_id);
    if (rq != NULL && lifetime > 0)
        json_object_set_new(rq, "expirationTime", json_integer((int64_t)time(NULL) + lifetime));
    if (rq != NULL && target_id != NULL)
        json_object_set_new(rq, "targetIDs", json_pack("[s]", target_id));
    body = rq != NULL ? json_dumps(rq, JSON_COMPACT) : NULL;
    rc = body != NULL ? kc_procedure(dev, maf_uri, kc, COAP_REQUEST_CODE_PUT, path, body, 204, &o)
                      : CMN_ENOMEM;
    if (rc == 0 && lifetime > 0) {
        json_int_t e = json_integer_value(json_object_get(o, "expirationTime"));

        if (e <= 0)
            rc = CMN_EPROTO;
        else
            kc->expires = e; /* the MAF may shorten what was asked for */
    }
    json_decref(o);
    json_decref(rq);
    free(body);
    return rc;
}

int tep_maf_deregister_key(tep_device *dev, const char *maf_uri, const tep_kc *kc)
{
    char path[CMN_KEY_ID_MAX + 16];

    if (dev == NULL || kc == NULL || key_path(kc, path, sizeof(path)) != 0)
        return CMN_EINVAL;
    return kc_procedure(dev, maf_uri, kc, COAP_REQUEST_CODE_DELETE, path, NULL, 202, NULL);
}

int tep_maf_deregister_client(tep_device *dev, const char *maf_uri, const tep_kc *kc)
{
    char path[REG_ID_MAX + 16];

    if (dev == NULL || kc == NULL || kc->reg_id[0] == '\0')
        return CMN_EINVAL;
    snprintf(path, sizeof(path), "maf/clients/%s", kc->reg_id);
    return kc_procedure(dev, maf_uri, kc, COAP_REQUEST_CODE_DELETE, path, NULL, 202, NULL);
}

const char *tep_kc_client_reg_id(const tep_kc *kc)
{
    return kc != NULL ? kc->reg_id : NULL;
}

const char *tep_kc_key_id(const tep_kc *kc)
{
    return kc != NULL ? kc->key_id : NULL;
}

int tep_kc_psk(const tep_kc *kc, char *identity, size_t id_len, uint8_t key[TEP_PSK_LEN])
{
    if (kc == NULL || identity == NULL || key == NULL)
        return CMN_EINVAL;
    if (kc->expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    if (snprintf(identity, id_len, "%s", kc->key_id) >= (int)id_len)
        return CMN_ERANGE;
    memcpy(key, kc->kc, TEP_PSK_LEN);
    return 0;
}

int64_t tep_kc_expires(const tep_kc *kc)
{
    return kc != NULL ? kc->expires : 0;
}

int tae_kc_new(const char *key_id, const uint8_t key[CMN_KEY_LEN], int64_t expires,
               const char *reg_id, unsigned suid, const char *target, tep_kc **ret)
{
    tep_kc *kc = calloc(1, sizeof(*kc));

    *ret = NULL;
    if (kc == NULL)
        return CMN_ENOMEM;
    if ((size_t)snprintf(kc->key_id, sizeof(kc->key_id), "%s", key_id) >= sizeof(kc->key_id) ||
        (size_t)snprintf(kc->reg_id, sizeof(kc->reg_id), "%s", reg_id) >= sizeof(kc->reg_id) ||
        (size_t)snprintf(kc->target, sizeof(kc->target), "%s", target) >= sizeof(kc->target)) {
        tep_kc_free(kc);
        return CMN_ERANGE;
    }
    memcpy(kc->kc, key, CMN_KEY_LEN);
    kc->expires = expires;
    kc->suid = suid;
    *ret = kc;
    return 0;
}

void tae_kc_set_expires(tep_kc *kc, int64_t expires)
{
    kc->expires = expires;
}

unsigned tae_kc_suid(const tep_kc *kc)
{
    return kc->suid;
}

const char *tae_kc_target(const tep_kc *kc)
{
    return kc->target;
}

void tep_kc_free(tep_kc *kc)
{
    if (kc != NULL)
        cmn_free_secret(kc, sizeof(*kc));
}

/* The target retrieves Kc from the MAF on the first handshake it cannot answer, so a
 * refusal is retried with a growing pause, for at most about KC_RETRY_MS. */
int tep_connect_kc(tep_device *dev, const tep_kc *kc, const char *uri, tep_conn **ret_conn)
{
    int pause_ms = 50, waited_ms = 0;
    int rc;

    if (dev == NULL || kc == NULL || ret_conn == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    /* no expiry check here: the target is the judge (a refusal is TEP_EDENIED) */
    if (uri == NULL)
        uri = dev->enr.registrar_poa;
    for (;;) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = pause_ms * 1000000L};

        rc = tae_glue_connect_psk(dev, uri, kc->key_id, kc->kc, ret_conn);
        if (rc != CMN_EDENIED || waited_ms >= KC_RETRY_MS)
            return rc;
        nanosleep(&ts, NULL);
        waited_ms += pause_ms;
        pause_ms = pause_ms * 2 > 500 ? 500 : pause_ms * 2;
    }
}

/* ---- end-to-end keys through the MAF (TS-0003 8.6, 8.8.2.7/8.8.2.8; SUIDs 33-35) -------- */

int tep_maf_register_e2e_key(tep_device *dev, const char *maf_uri, unsigned suid,
                             const char *target_id, int64_t lifetime, tep_kc **ret_kc)
{
    if (suid < SUID_E2E_PRIM || suid > SUID_E2E_SIG) {
        if (ret_kc != NULL)
            *ret_kc = NULL;
        return CMN_EINVAL;
    }
    return register_key_with(dev, maf_uri, suid, target_id, lifetime, false, ret_kc);
}

int tep_e2e_key_from_kc(const tep_kc *kc, tep_e2e_key **ret_key)
{
    if (ret_key == NULL)
        return CMN_EINVAL;
    *ret_key = NULL;
    if (kc == NULL || !SUID_IS_E2E(kc->suid))
        return CMN_EINVAL;
    return tae_e2e_key_new(kc->kc, kc->key_id, kc->target, ret_key);
}

/* The answer of GET maf/keys/<rel>: Kc for key_id, an end-to-end SUID. */
static int e2e_from_answer(const tep_response *rsp, const char *key_id, const char *b_id,
                           tep_e2e_key **ret_key)
{
    json_t *o = json_loads(rsp->body, JSON_REJECT_DUPLICATES, NULL);
    const char *hex = json_string_value(json_object_get(o, "keyValue"));
    const char *id = json_string_value(json_object_get(o, "keyID"));
    json_int_t suid = json_integer_value(json_object_get(o, "suid"));
    uint8_t kc[CMN_KEY_LEN];
    int rc = CMN_EPROTO;

    if (hex != NULL && strlen(hex) == 2 * CMN_KEY_LEN && id != NULL &&
        strcasecmp(id, key_id) == 0 && suid >= SUID_E2E_PRIM && suid <= SUID_E2E_SIG &&
        cmn_hex_decode(hex, kc, sizeof(kc)) == 0)
        rc = tae_e2e_key_new(kc, key_id, b_id, ret_key);
    cmn_wipe(kc, sizeof(kc));
    if (hex != NULL)
        cmn_wipe((char *)hex, strlen(hex));
    json_decref(o);
    return rc;
}

int tep_maf_retrieve_e2e_key(tep_device *dev, const char *maf_uri, const char *key_id,
                             tep_e2e_key **ret_key)
{
    tae_maf_client m = {0};
    char path[CMN_KEY_ID_MAX + 16];
    const char *at = key_id != NULL ? strchr(key_id, '@') : NULL;
    int rc;

    if (ret_key != NULL)
        *ret_key = NULL;
    if (dev == NULL || ret_key == NULL || at == NULL || at - key_id != 2 * CMN_REL_ID_LEN)
        return CMN_EINVAL;
    if ((rc = maf_ready(dev, maf_uri, &maf_uri)) != 0)
        return rc;
    snprintf(path, sizeof(path), "maf/keys/%.*s", (int)(at - key_id), key_id);
    rc = maf_open(&m, dev, maf_uri, false);
    if (rc == 0)
        rc = maf_call(&m, COAP_REQUEST_CODE_GET, path, NULL);
    if (rc == 0 && m.rsp->coap_code != 205)
        rc = code_err(m.rsp->coap_code);
    if (rc == 0) /* B: this device, as the MAF authenticated it (docs/keys.md item 14) */
        rc = e2e_from_answer(m.rsp, key_id, dev->enr.enrolee_id, ret_key);
    if (m.rsp != NULL && m.rsp->body != NULL)
        cmn_wipe(m.rsp->body, m.rsp->body_len);
    tae_maf_client_close(&m);
    return rc;
}

/* The answer of GET maf/keys/<rel> for a SAEF Kc: {"keyValue","keyID","suid":32,
 * "expirationTime","sourceID"}, keyID the one asked for. */
static int kc_from_answer(const tep_response *rsp, const char *key_id, const char *target,
                          tep_kc **ret_kc)
{
    json_t *o = json_loads(rsp->body != NULL ? rsp->body : "", JSON_REJECT_DUPLICATES, NULL);
    const char *hex = json_string_value(json_object_get(o, "keyValue"));
    const char *id = json_string_value(json_object_get(o, "keyID"));
    const char *source = json_string_value(json_object_get(o, "sourceID"));
    json_int_t suid = json_integer_value(json_object_get(o, "suid"));
    json_int_t expires = json_integer_value(json_object_get(o, "expirationTime"));
    uint8_t kc[CMN_KEY_LEN];
    tep_kc *k = NULL;
    int rc = CMN_EPROTO;

    if (hex != NULL && strlen(hex) == 2 * CMN_KEY_LEN && id != NULL &&
        strcasecmp(id, key_id) == 0 && suid == SUID_KC && expires > 0 && source != NULL &&
        source[0] != '\0' && strlen(source) < sizeof(k->source) &&
        cmn_hex_decode(hex, kc, sizeof(kc)) == 0)
        rc = tae_kc_new(key_id, kc, expires, "", SUID_KC, target, &k);
    if (rc == 0)
        snprintf(k->source, sizeof(k->source), "%s", source);
    cmn_wipe(kc, sizeof(kc));
    if (hex != NULL)
        cmn_wipe((char *)hex, strlen(hex));
    json_decref(o);
    if (rc == 0)
        *ret_kc = k;
    return rc;
}

int tep_maf_retrieve_kc(tep_device *dev, const char *maf_uri, const char *key_id, tep_kc **ret_kc)
{
    tae_maf_client m = {0};
    char path[CMN_KEY_ID_MAX + 16];
    const char *at = key_id != NULL ? strchr(key_id, '@') : NULL;
    int rc;

    if (ret_kc != NULL)
        *ret_kc = NULL;
    if (dev == NULL || ret_kc == NULL || at == NULL || at - key_id != 2 * CMN_REL_ID_LEN ||
        strlen(key_id) >= CMN_KEY_ID_MAX)
        return CMN_EINVAL;
    if ((rc = maf_ready(dev, maf_uri, &maf_uri)) != 0)
        return rc;
    /* the Key Identifier must name this device's MAF: another MAF's key is not asked for */
    if (strcasecmp(at + 1, dev->enr.maf_id) != 0)
        return CMN_EINVAL;
    snprintf(path, sizeof(path), "maf/keys/%.*s", (int)(at - key_id), key_id);
    rc = maf_open(&m, dev, maf_uri, false);
    if (rc == 0)
        rc = maf_call(&m, COAP_REQUEST_CODE_GET, path, NULL);
    if (rc == 0 && m.rsp->coap_code != 205)
        rc = code_err(m.rsp->coap_code);
    if (rc == 0) /* the target: this device, as the MAF authenticated it */
        rc = kc_from_answer(m.rsp, key_id, dev->enr.enrolee_id, ret_kc);
    if (m.rsp != NULL && m.rsp->body != NULL)
        cmn_wipe(m.rsp->body, m.rsp->body_len);
    tae_maf_client_close(&m);
    return rc;
}

const char *tep_kc_source_id(const tep_kc *kc)
{
    return kc != NULL ? kc->source : NULL;
}

int tep_esprim_new_kc(const tep_kc *kc, const char *receiver_rand_json, int64_t lifetime,
                      tep_esprim **ret)
{
    cmn_e2e_keys k;
    int rc;

    if (ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (kc == NULL || (kc->suid != SUID_E2E_PRIM && kc->suid != SUID_MEF_PRIM))
        return CMN_EINVAL;
    rc = cmn_e2e_keys_from_pair(kc->kc, kc->target, &k); /* B = the Receiver */
    if (rc == 0)
        rc = tae_esprim_new(k.msg_conf, kc->key_id, receiver_rand_json, lifetime, ret);
    cmn_wipe(&k, sizeof(k));
    return rc;
}

int tae_kc_psk(const tep_kc *kc, const char **ret_id, const uint8_t **ret_key)
{
    if (kc == NULL || (kc->suid >= SUID_E2E_PRIM && kc->suid <= SUID_E2E_SIG))
        return CMN_EINVAL;
    *ret_id = kc->key_id;
    *ret_key = kc->kc;
    return 0;
}
