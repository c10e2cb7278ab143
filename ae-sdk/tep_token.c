/* Dynamic authorization, indirect flow (TS-0003 7.3.2.3): the AE asks the MAF/DAS
 * (tep-authz) for a token over DTLS-PSK with its Km (psk_identity KmID, SUID 21; both
 * derived from Ke and the MAF-ID of the enrolment, TS-0003 10.3), POST /token with the
 * JSON of docs/internals.md "Dynamic authorization". The MAF client (tae_maf_client.h)
 * runs on the SDK's one CoAP client (tae_client.c). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "tae_client.h"
#include "tae_device.h"
#include "tae_maf_client.h"

/* ---- the MAF client ------------------------------------------------------------------ */

void tae_maf_client_close(tae_maf_client *m)
{
    tep_conn_free(m->conn); /* wipes Km */
    tep_response_free(m->rsp);
    memset(m, 0, sizeof(*m));
}

/* Km = HMAC(Ke, label || MAF-ID); KmID from Km (cmn_kdf.h). */
int tae_maf_client_open(tae_maf_client *m, const tep_device *dev, const char *maf_uri)
{
    uint8_t km[CMN_KEY_LEN];
    tae_psk_creds creds = {.identity = m->identity, .psk = km, .sni = dev->enr.maf_id};
    int rc = cmn_kdf_km(dev->enr.ke, dev->enr.maf_id, km);

    if (rc == 0)
        rc = cmn_kdf_km_id(km, dev->enr.maf_id, m->identity, sizeof(m->identity));
    if (rc == 0)
        rc = tae_glue_open_fresh(dev, maf_uri, &creds, 0, &m->conn);
    cmn_wipe(km, sizeof(km));
    return rc;
}

int tae_maf_client_post(tae_maf_client *m, const char *path, const char *json)
{
    tep_response_free(m->rsp);
    m->rsp = NULL;
    return tae_client_post(m->conn, path, json, &m->rsp);
}

/* ---- the request and its answer ------------------------------------------------------ */

static char *ask_body(const tep_device *dev, const char *const *ris, size_t n_ris, unsigned acop,
                      int64_t lifetime)
{
    json_t *list = json_array(), *o;
    char *s = NULL;

    for (size_t i = 0; list != NULL && i < n_ris; i++)
        json_array_append_new(list, json_string(ris[i]));
    o = json_pack("{s:s,s:o,s:i}", "aud", dev->enr.registrar_cse_id, "ris", list, "acop",
                  (json_int_t)acop);
    if (o != NULL && lifetime > 0)
        json_object_set_new(o, "lt", json_integer(lifetime));
    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *dup_member(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? strdup(v) : NULL;
}

static int parse_answer(const tae_maf_client *m, tep_token **ret)
{
    unsigned code = m->rsp->coap_code;
    json_t *o;
    tep_token *t;

    if (code == 403 || code == 401)
        return CMN_EDENIED;
    if (code == 400)
        return CMN_EINVAL;
    if (code != 201 || (o = json_loads(m->rsp->body, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return CMN_EPROTO;
    t = calloc(1, sizeof(*t));
    if (t != NULL) {
        t->id = dup_member(o, "tkid");
        t->jws = dup_member(o, "tkn");
        t->holder = dup_member(o, "azp");
        t->expires = json_integer_value(json_object_get(o, "exp"));
    }
    json_decref(o);
    if (t == NULL || t->id == NULL || t->jws == NULL || t->holder == NULL || t->expires <= 0) {
        tep_token_free(t);
        return t == NULL ? CMN_ENOMEM : CMN_EPROTO;
    }
    *ret = t;
    return 0;
}

int tep_token_request(tep_device *dev, const char *maf_uri, const char *const *ris, size_t n_ris,
                      unsigned acop, int64_t lifetime, tep_token **ret_token)
{
    tae_maf_client m = {0};
    char *body = NULL;
    int rc;

    if (ret_token != NULL)
        *ret_token = NULL;
    if (dev == NULL || ris == NULL || n_ris == 0 || acop == 0 || acop > 63 || ret_token == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled || dev->enr.maf_id[0] == '\0')
        return CMN_ESTATE;
    if (maf_uri == NULL && (maf_uri = dev->enr.maf_poa)[0] == '\0')
        return CMN_ESTATE; /* no URI given and none in the enrolment (mpoa) */
    if (dev->enr.expires != 0 && dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    if ((body = ask_body(dev, ris, n_ris, acop, lifetime)) == NULL)
        return CMN_ENOMEM;
    rc = tae_maf_client_open(&m, dev, maf_uri);
    if (rc == 0)
        rc = tae_maf_client_post(&m, "token", body);
    if (rc == 0)
        rc = parse_answer(&m, ret_token);
    tae_maf_client_close(&m);
    free(body);
    return rc;
}

void tep_token_free(tep_token *t)
{
    if (t == NULL)
        return;
    free(t->id);
    if (t->jws != NULL)
        cmn_free_secret(t->jws, strlen(t->jws)); /* a bearer credential of sorts */
    free(t->holder);
    free(t);
}
