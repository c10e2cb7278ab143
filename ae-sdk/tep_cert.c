/* libtepae: certificate enrolment (TS-0003 8.3.6; docs/internals.md "Certificate
 * enrolment"). One MEF session does both exchanges, because the MEF issues a
 * certificate only to the enrolment of the session asking: POST /enrol (cei=true),
 * then POST /cert with a CSR made here. The session is the SDK's one CoAP client
 * (tae_client.c). */
#include <fcntl.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"
#include "cmn_exporter.h"
#include "tae_client.h"
#include "tae_device.h"

#define CERT_PATH_MAX 4096

/* ---- files ------------------------------------------------------------------------ */

int tep_device_cert_path(const tep_device *dev, const char *which, char *buf, size_t len)
{
    if (dev == NULL || which == NULL || buf == NULL ||
        (strcmp(which, "key") && strcmp(which, "crt") && strcmp(which, "ca")))
        return CMN_EINVAL;
    if ((size_t)snprintf(buf, len, "%s.%s.pem", dev->state_path, which) >= len)
        return CMN_ERANGE;
    return 0;
}

static int save_pem(const tep_device *dev, const char *which, const char *pem)
{
    char path[CERT_PATH_MAX];
    int rc = tep_device_cert_path(dev, which, path, sizeof(path));

    return rc ? rc : cmn_file_write_atomic(path, pem, strlen(pem), 0600, 0);
}

/* ---- the certificate exchange ----------------------------------------------------- */

/* A fresh key and the CSR's request body {"csr": PEM}. key_pem (CMN_CA_PEM_MAX) gets
 * the key; the caller wipes it. */
static int make_request(const char *id, char *key_pem, char **ret_body)
{
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX];
    size_t klen = sizeof(key), clen = sizeof(csr);
    char csr_pem[CMN_CA_PEM_MAX];
    json_t *j = NULL;
    int rc = cmn_ca_key_new(key, &klen);

    if (rc == 0)
        rc = cmn_ca_make_csr(key, klen, id, csr, &clen);
    if (rc == 0)
        rc = cmn_ca_to_pem(key, klen, "EC PRIVATE KEY", key_pem, CMN_CA_PEM_MAX);
    if (rc == 0)
        rc = cmn_ca_to_pem(csr, clen, "CERTIFICATE REQUEST", csr_pem, sizeof(csr_pem));
    if (rc == 0 && (j = json_pack("{s:s}", "csr", csr_pem)) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0 && (*ret_body = json_dumps(j, JSON_COMPACT)) == NULL)
        rc = CMN_ENOMEM;
    json_decref(j);
    cmn_wipe(key, sizeof(key));
    return rc;
}

/* The certificate must chain to the trust anchor that came with it and name id. */
static int check_cert(const char *crt_pem, const char *ca_pem, const char *id)
{
    uint8_t crt[CMN_CA_CERT_DER_MAX], ca[CMN_CA_CERT_DER_MAX];
    size_t clen = sizeof(crt), alen = sizeof(ca);
    char want[CMN_CA_ID_MAX + 8];
    cmn_cert_info info;

    if (cmn_ca_from_pem(crt_pem, strlen(crt_pem), "CERTIFICATE", crt, &clen) != 0 ||
        cmn_ca_from_pem(ca_pem, strlen(ca_pem), "CERTIFICATE", ca, &alen) != 0 ||
        cmn_ca_cert_info(crt, clen, &info) != 0 || cmn_ca_san_uri(id, want, sizeof(want)) != 0)
        return CMN_EPROTO;
    if (strcmp(info.san_uri, want) != 0 || cmn_ca_verify(ca, alen, crt, clen) != 0)
        return CMN_EPROTO;
    return 0;
}

static int store_answer(const tep_device *dev, const tep_response *rsp, const char *id,
                        const char *key_pem)
{
    json_t *root = json_loadb(rsp->body, rsp->body_len, 0, NULL);
    const char *crt = json_string_value(json_object_get(root, "crt"));
    const char *ca = json_string_value(json_array_get(json_object_get(root, "tas"), 0));
    int rc = crt != NULL && ca != NULL ? check_cert(crt, ca, id) : CMN_EPROTO;

    if (rc == 0)
        rc = save_pem(dev, "key", key_pem);
    if (rc == 0)
        rc = save_pem(dev, "crt", crt);
    if (rc == 0)
        rc = save_pem(dev, "ca", ca);
    json_decref(root);
    return rc;
}

static int answer_error(unsigned code)
{
    if (code == 403)
        return CMN_EDENIED;
    return code == 201 ? 0 : CMN_EPROTO;
}

static int cert_exchange(const tep_device *dev, tep_conn *mef, const char *id)
{
    char key_pem[CMN_CA_PEM_MAX], *body = NULL;
    tep_response *rsp = NULL;
    int rc = make_request(id, key_pem, &body);

    if (rc == 0)
        rc = tae_client_post(mef, "cert", body, &rsp);
    if (rc == 0)
        rc = answer_error(rsp->coap_code);
    if (rc == 0)
        rc = store_answer(dev, rsp, id, key_pem);
    tep_response_free(rsp);
    free(body);
    cmn_wipe(key_pem, sizeof(key_pem));
    return rc;
}

/* POST /enrol (cei: certificate enrolment follows); installs the new enrolment (the
 * MEF has replaced the previous one by now). */
static int enrol_exchange(tep_device *dev, tep_conn *mef, bool cei)
{
    uint8_t exporter[CMN_EXPORTER_LEN];
    tae_enrolment *enr = calloc(1, sizeof(*enr));
    tep_response *rsp = NULL;
    char *body = NULL;
    int rc = enr != NULL
                 ? cmn_tls_export(mef->session, CMN_LABEL_BOOTSTRAP, exporter, sizeof(exporter))
                 : CMN_ENOMEM;

    if (rc == 0)
        rc = tae_core_enrol_request(cei, false, false, &body);
    if (rc == 0)
        rc = tae_client_post(mef, "enrol", body, &rsp);
    if (rc == 0)
        rc = answer_error(rsp->coap_code);
    if (rc == 0)
        rc = tae_core_enrolment_complete(exporter, dev->prov.mef_fqdn, (const uint8_t *)rsp->body,
                                         rsp->body_len, enr);
    if (rc == 0) {
        enr->enrolled = (int64_t)time(NULL); /* as tep_enrol() records it */
        rc = tae_device_install(dev, enr);
    }
    tep_response_free(rsp);
    free(body);
    cmn_wipe(exporter, sizeof(exporter));
    cmn_free_secret(enr, sizeof(*enr));
    return rc;
}

int tep_enrol_cert(tep_device *dev)
{
    return tep_enrol_cert_as(dev, NULL);
}

int tep_enrol_cert_as(tep_device *dev, const char *csr_id)
{
    tae_psk_creds creds;
    tep_conn *mef = NULL;
    int rc;

    if (dev == NULL || (csr_id != NULL && !csr_id[0]))
        return CMN_EINVAL;
    if (dev->prov.cert_only)
        return CMN_ESTATE; /* no Kpm: tep_enrol_with_cert() */
    creds = (tae_psk_creds){
        .identity = dev->prov.kpm_id, .psk = dev->prov.kpm, .sni = dev->prov.mef_fqdn};
    rc = tae_client_open(dev->prov.mef_uri, &creds, dev->timeout_ms, 0, &mef);
    if (rc == 0)
        rc = enrol_exchange(dev, mef, true);
    if (rc == 0)
        rc = cert_exchange(dev, mef, csr_id != NULL ? csr_id : dev->enr.enrolee_id);
    tep_conn_free(mef);
    return rc;
}

/* ---- the certificate-based RSPF (TS-0003 8.3.2.2, 8.3.1.2) --------------------------- */

/* The certificate MEF Handshake: ECDHE-ECDSA to the MEF with cert/key, the MEF's
 * certificate checked to mef_ca and to SAN onem2m:<MEF-FQDN>, SNI the MEF-FQDN. */
static int open_mef_cert(const tep_device *dev, const char *cert, const char *key,
                         const char *mef_ca, tep_conn **ret)
{
    tae_pki_creds creds = {.cert_file = cert,
                           .key_file = key,
                           .ca_file = mef_ca,
                           .peer_id = dev->prov.mef_fqdn,
                           .sni = dev->prov.mef_fqdn};

    if (access(cert, R_OK) != 0 || access(key, R_OK) != 0 || access(mef_ca, R_OK) != 0)
        return CMN_ENOTFOUND;
    return tae_client_open_pki(dev->prov.mef_uri, &creds, dev->timeout_ms, 0, ret);
}

int tep_enrol_with_cert(tep_device *dev, const char *cert_file, const char *key_file,
                        const char *mef_ca_file, int want_cert)
{
    tep_conn *mef = NULL;
    int rc;

    if (dev == NULL || cert_file == NULL || key_file == NULL || mef_ca_file == NULL)
        return CMN_EINVAL;
    rc = open_mef_cert(dev, cert_file, key_file, mef_ca_file, &mef);
    if (rc == 0)
        rc = enrol_exchange(dev, mef, want_cert != 0);
    if (rc == 0 && want_cert)
        rc = cert_exchange(dev, mef, dev->enr.enrolee_id);
    tep_conn_free(mef);
    return rc;
}

int tep_cert_renew(tep_device *dev)
{
    char crt[CERT_PATH_MAX], key[CERT_PATH_MAX], ca[CERT_PATH_MAX];
    tep_conn *mef = NULL;
    int rc;

    if (dev == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if ((rc = tep_device_cert_path(dev, "crt", crt, sizeof(crt))) < 0 ||
        (rc = tep_device_cert_path(dev, "key", key, sizeof(key))) < 0 ||
        (rc = tep_device_cert_path(dev, "ca", ca, sizeof(ca))) < 0)
        return rc;
    rc = open_mef_cert(dev, crt, key, ca, &mef);
    if (rc == CMN_ENOTFOUND)
        rc = CMN_ESTATE; /* no tep certificate yet */
    if (rc == 0)
        rc = cert_exchange(dev, mef, dev->enr.enrolee_id);
    tep_conn_free(mef);
    return rc;
}

/* The certificate SAEF (TS-0003 8.2.2.2): the files of tep_enrol_cert(), the registrar
 * CSE's certificate checked to the trust anchor and to SAN onem2m:<registrar CSE-ID>. */
int tep_connect_cert(tep_device *dev, tep_conn **ret_conn)
{
    char crt[CERT_PATH_MAX], key[CERT_PATH_MAX], ca[CERT_PATH_MAX], host[TAE_ID_MAX];
    tae_pki_creds creds = {.cert_file = crt, .key_file = key, .ca_file = ca, .sni = host};
    tep_conn *conn = NULL;
    int rc;

    if (dev == NULL || ret_conn == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    creds.peer_id = dev->enr.registrar_cse_id;
    if ((rc = tep_device_cert_path(dev, "crt", crt, sizeof(crt))) < 0 ||
        (rc = tep_device_cert_path(dev, "key", key, sizeof(key))) < 0 ||
        (rc = tep_device_cert_path(dev, "ca", ca, sizeof(ca))) < 0 ||
        (rc = tae_core_uri_host(dev->enr.registrar_poa, host, sizeof(host))) < 0)
        return rc;
    if (access(crt, R_OK) != 0 || access(key, R_OK) != 0 || access(ca, R_OK) != 0)
        return CMN_ESTATE; /* no certificate yet: tep_enrol_cert() first */
    rc = tae_client_open_pki(dev->enr.registrar_poa, &creds, dev->timeout_ms,
                             TAE_CLIENT_NACK_ENDS_WAIT, &conn);
    if (rc < 0)
        return rc;
    return tae_glue_bind_device(conn, dev, ret_conn);
}
