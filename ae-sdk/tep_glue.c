/* libtepae CoAP glue: the connections to the registrar CSE and the MEF enrolment, on
 * the client of tae_client.c; the oneM2M requests and their conveniences. The protocol
 * decisions are in tae_core.c. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <coap3/coap.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "cmn_onem2m.h"
#include "tae_client.h"
#include "tae_device.h"
#include "tae_maf_client.h"

/* The CSE and MEF connections of this file end a request at once on a NACK. */
#define GLUE_FLAGS TAE_CLIENT_NACK_ENDS_WAIT

/* ---- opening sessions ------------------------------------------------------------- */

int tep_conn_plain(const char *uri, const char *originator, tep_conn **ret_conn)
{
    tep_conn *conn = NULL;
    int rc;

    if (uri == NULL || ret_conn == NULL)
        return CMN_EINVAL;
    if ((rc = tae_client_open(uri, NULL, TEP_DEFAULT_TIMEOUT_MS, GLUE_FLAGS, &conn)) < 0)
        return rc;
    if (originator != NULL && (conn->originator = strdup(originator)) == NULL) {
        tep_conn_free(conn);
        return CMN_ENOMEM;
    }
    *ret_conn = conn;
    return 0;
}

/* The registrar CSE learns a new Kpsa from the enroller's event stream, usually within
 * milliseconds of the enrolment answer; a device that connects at once can race it and
 * see its handshake refused (and so can its MAF handshake with Km). So, during the first TAE_FRESH_ENROLMENT_S after its
 * enrolment only, a refused handshake is retried with a growing pause, for at most
 * about TAE_FRESH_RETRY_MS in all. Later refusals are final at once. */
#define TAE_FRESH_ENROLMENT_S 10
#define TAE_FRESH_RETRY_MS 3000

int tae_glue_open_fresh(const tep_device *dev, const char *uri, const tae_psk_creds *creds,
                        unsigned flags, tep_conn **ret_conn)
{
    int pause_ms = 50, waited_ms = 0;
    int rc;

    for (;;) {
        struct timespec ts = {.tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000L};

        rc = tae_client_open(uri, creds, dev->timeout_ms, flags, ret_conn);
        if (rc != CMN_EDENIED || dev->enr.enrolled == 0 ||
            (int64_t)time(NULL) - dev->enr.enrolled > TAE_FRESH_ENROLMENT_S ||
            waited_ms >= TAE_FRESH_RETRY_MS)
            return rc;
        nanosleep(&ts, NULL);
        waited_ms += pause_ms;
        pause_ms *= 2;
    }
}

/* Binds a fresh connection to dev: requests default to From = its AE-ID. Frees conn
 * on error. */
static int bind_device(tep_conn *conn, tep_device *dev, tep_conn **ret_conn)
{
    conn->dev = dev;
    if ((conn->originator = strdup(dev->enr.enrolee_id)) == NULL) {
        tep_conn_free(conn);
        return CMN_ENOMEM;
    }
    *ret_conn = conn;
    return 0;
}

int tep_connect(tep_device *dev, tep_conn **ret_conn)
{
    char host[TAE_ID_MAX];
    tae_psk_creds creds;
    tep_conn *conn = NULL;
    int rc;

    if (dev == NULL || ret_conn == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    if ((rc = tae_core_uri_host(dev->enr.registrar_poa, host, sizeof(host))) < 0)
        return rc;
    creds = (tae_psk_creds){.identity = dev->enr.kpsa_id, .psk = dev->enr.kpsa, .sni = host};
    if ((rc = tae_glue_open_fresh(dev, dev->enr.registrar_poa, &creds, GLUE_FLAGS, &conn)) < 0)
        return rc;
    return bind_device(conn, dev, ret_conn);
}

int tae_glue_bind_device(tep_conn *conn, tep_device *dev, tep_conn **ret_conn)
{
    return bind_device(conn, dev, ret_conn);
}

int tae_glue_connect_psk(tep_device *dev, const char *uri, const char *identity,
                         const uint8_t psk[CMN_KEY_LEN], tep_conn **ret_conn)
{
    char host[TAE_ID_MAX];
    tae_psk_creds creds = {.identity = identity, .psk = psk, .sni = host};
    tep_conn *conn = NULL;
    int rc = tae_core_uri_host(uri, host, sizeof(host));

    if (rc < 0 || (rc = tae_client_open(uri, &creds, dev->timeout_ms, GLUE_FLAGS, &conn)) < 0)
        return rc;
    return bind_device(conn, dev, ret_conn);
}

static const coap_pdu_code_t op_codes[] = {
    [TEP_OP_CREATE] = COAP_REQUEST_CODE_POST, [TEP_OP_RETRIEVE] = COAP_REQUEST_CODE_GET,
    [TEP_OP_UPDATE] = COAP_REQUEST_CODE_PUT,  [TEP_OP_DELETE] = COAP_REQUEST_CODE_DELETE,
    [TEP_OP_NOTIFY] = COAP_REQUEST_CODE_POST, /* POST without TY (TS-0008 6.2.2) */
};

int tep_request(tep_conn *conn, int op, const char *path, unsigned ty, const char *json_body,
                const char *from, tep_response **ret_rsp)
{
    tae_exchange ex = {.path = path, .body = json_body, .ty = ty, .onem2m = true};

    if (conn == NULL || path == NULL || ret_rsp == NULL || op < TEP_OP_CREATE ||
        op > TEP_OP_NOTIFY || (op == TEP_OP_CREATE) != (ty != 0))
        return CMN_EINVAL;
    ex.code = op_codes[op];
    ex.from = from != NULL ? (from[0] ? from : NULL) : conn->originator;
    return tae_client_exchange(conn, &ex, ret_rsp);
}

/* ---- enrolment -------------------------------------------------------------------- */

static int enrol_exchange(tep_conn *mef, uint8_t exporter[CMN_EXPORTER_LEN], tep_response **ret)
{
    char *body = NULL;
    int rc = cmn_tls_export(mef->session, CMN_LABEL_BOOTSTRAP, exporter, CMN_EXPORTER_LEN);

    if (rc < 0)
        return rc;
    if ((rc = tae_core_enrol_request(false, false, false, &body)) < 0)
        return rc;
    rc = tae_client_post(mef, "enrol", body, ret);
    free(body);
    return rc;
}

static int enrol_result(tep_device *dev, const uint8_t exporter[CMN_EXPORTER_LEN],
                        const tep_response *rsp)
{
    tae_enrolment *enr;
    int rc;

    if (rsp->coap_code == 403)
        return CMN_EDENIED;
    if (rsp->coap_code != 201)
        return CMN_EPROTO;
    if ((enr = malloc(sizeof(*enr))) == NULL)
        return CMN_ENOMEM;
    rc = tae_core_enrolment_complete(exporter, dev->prov.mef_fqdn, (const uint8_t *)rsp->body,
                                     rsp->body_len, enr);
    if (rc == 0) {
        enr->enrolled = (int64_t)time(NULL);
        rc = tae_device_install(dev, enr);
    }
    cmn_free_secret(enr, sizeof(*enr));
    return rc;
}

int tep_enrol(tep_device *dev)
{
    uint8_t exporter[CMN_EXPORTER_LEN];
    tep_response *rsp = NULL;
    tep_conn *mef = NULL;
    tae_psk_creds creds;
    int rc;

    if (dev == NULL)
        return CMN_EINVAL;
    if (dev->prov.cert_only)
        return CMN_ESTATE; /* no Kpm: tep_enrol_with_cert() */
    if (dev->prov.gba)     /* TS-0003 8.3.2.3: Ke = Ks_NAF, KeID = B-TID */
        return tae_enrol_gba(dev);
    creds = (tae_psk_creds){
        .identity = dev->prov.kpm_id, .psk = dev->prov.kpm, .sni = dev->prov.mef_fqdn};
    if ((rc = tae_client_open(dev->prov.mef_uri, &creds, dev->timeout_ms, GLUE_FLAGS, &mef)) < 0)
        goto out;
    if ((rc = enrol_exchange(mef, exporter, &rsp)) < 0)
        goto out;
    rc = enrol_result(dev, exporter, rsp);
out:
    cmn_wipe(exporter, sizeof(exporter));
    tep_response_free(rsp);
    tep_conn_free(mef);
    return rc;
}

/* ---- oneM2M conveniences ---------------------------------------------------------- */

int tep_create(tep_conn *conn, const char *parent_path, unsigned ty, const char *json_body,
               tep_response **ret_rsp)
{
    if (ty == 0)
        return CMN_EINVAL;
    return tep_request(conn, TEP_OP_CREATE, parent_path, ty, json_body, NULL, ret_rsp);
}

int tep_retrieve(tep_conn *conn, const char *path, tep_response **ret_rsp)
{
    return tep_request(conn, TEP_OP_RETRIEVE, path, 0, NULL, NULL, ret_rsp);
}

int tep_delete(tep_conn *conn, const char *path, tep_response **ret_rsp)
{
    return tep_request(conn, TEP_OP_DELETE, path, 0, NULL, NULL, ret_rsp);
}

int tep_register_ae(tep_conn *conn, const char *app_id, const char *rn, tep_response **ret_rsp)
{
    tep_device *dev = conn != NULL ? conn->dev : NULL;
    char *body = NULL;
    int rc;

    if (dev == NULL || ret_rsp == NULL)
        return conn != NULL ? CMN_ESTATE : CMN_EINVAL;
    if (app_id == NULL)
        app_id = dev->enr.app_id[0] ? dev->enr.app_id : TEP_DEFAULT_APP_ID;
    if (rn == NULL)
        rn = dev->enr.enrolee_id;
    if ((rc = tae_core_ae_body(app_id, rn, &body)) < 0)
        return rc;
    rc = tep_request(conn, TEP_OP_CREATE, dev->cse_name, TEP_TY_AE, body, NULL, ret_rsp);
    free(body);
    if (rc == 0 && (*ret_rsp)->rsc == CMN_RSC_CREATED && (rc = tae_device_set_ae_rn(dev, rn)) < 0) {
        tep_response_free(*ret_rsp);
        *ret_rsp = NULL;
    }
    return rc;
}
