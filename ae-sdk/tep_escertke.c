/* libtepae: ESCertKE as the Initiating End-Point with the registrar CSE (TS-0003 8.7;
 * TS-0001 11.4.3; TS-0004 7.5.1.2.12): the four ESCertKE Messages of a TLS 1.2 handshake
 * (common/cmn_escertke.c) in two NOTIFYs to the CSEBase, m2m:seci sit 6. The device's
 * certificate, key and trust anchor are those of tep_enrol_cert(). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_escertke.h"
#include "cmn_pki.h"
#include "tae_device.h"
#include "tae_e2e.h"

#define PATH_MAX_ 4096

/* One NOTIFY with msg; the answer's message into *ret. */
static int exchange(tep_conn *conn, const char *to, const uint8_t *msg, size_t len, uint8_t **ret,
                    size_t *ret_len)
{
    char *body = cmn_escertke_seci(msg, len);
    tep_response *rsp = NULL;
    json_t *root = NULL;
    int rc;

    *ret = NULL;
    if (body == NULL)
        return CMN_ENOMEM;
    rc = tep_request(conn, TEP_OP_NOTIFY, to, 0, body, NULL, &rsp);
    free(body);
    if (rc < 0)
        return rc;
    if (rsp->rsc != 2000) {
        rc = rsp->rsc == 4103 ? CMN_EDENIED : CMN_EPROTO;
    } else {
        root = json_loadb(rsp->body, rsp->body_len, JSON_REJECT_DUPLICATES, NULL);
        rc = cmn_escertke_eckm(json_object_get(root, "m2m:seci"), ret, ret_len) == 0 ? 0
                                                                                     : CMN_EPROTO;
    }
    json_decref(root);
    tep_response_free(rsp);
    return rc;
}

static int load(const tep_device *dev, const char *which, const char *kind, uint8_t *der,
                size_t *len)
{
    char path[PATH_MAX_];
    int rc = tep_device_cert_path(dev, which, path, sizeof(path));

    return rc ? rc : cmn_pki_read_pem(path, kind, der, len);
}

int tep_escertke(tep_conn *conn, const tep_device *dev, tep_e2e_key **ret_key)
{
    return tep_escertke_cse(conn, dev, NULL, ret_key);
}

/* The handshake with the Terminating End-Point peer_id (a CSE-ID, or an AE-ID) through
 * NOTIFYs to the path to; its certificate must name peer_id, End-Point-B = peer_id. */
static int escertke_with(tep_conn *conn, const tep_device *dev, const char *to, const char *peer_id,
                         tep_e2e_key **ret_key);

int tep_escertke_ae(tep_conn *conn, const tep_device *dev, const char *ae_path,
                    tep_e2e_key **ret_key)
{
    const char *ae = ae_path != NULL ? strrchr(ae_path, '/') : NULL;

    if (ret_key == NULL || conn == NULL || dev == NULL)
        return CMN_EINVAL;
    *ret_key = NULL;
    if (ae == NULL || ae[1] == '\0' || strlen(ae_path) >= CMN_CA_ID_MAX)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    return escertke_with(conn, dev, ae_path, ae + 1, ret_key);
}

int tep_escertke_cse(tep_conn *conn, const tep_device *dev, const char *cse_id,
                     tep_e2e_key **ret_key)
{
    char to[CMN_CA_ID_MAX + 4];

    if (ret_key == NULL || conn == NULL || dev == NULL)
        return CMN_EINVAL;
    *ret_key = NULL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (cse_id == NULL)
        cse_id = dev->enr.registrar_cse_id;
    /* the registrar's CSEBase by its name; another CSE's SP-relative: ~<CSE-ID>/- */
    if (cse_id[0] != '/' || strlen(cse_id) >= CMN_CA_ID_MAX)
        return CMN_EINVAL;
    if (strcmp(cse_id, dev->enr.registrar_cse_id) == 0)
        snprintf(to, sizeof(to), "%s", cse_id + 1);
    else
        snprintf(to, sizeof(to), "~%s/-", cse_id);
    return escertke_with(conn, dev, to, cse_id, ret_key);
}

static int escertke_with(tep_conn *conn, const tep_device *dev, const char *to, const char *peer_id,
                         tep_e2e_key **ret_key)
{
    uint8_t ca[CMN_CA_CERT_DER_MAX], crt[CMN_CA_CERT_DER_MAX], key[CMN_CA_KEY_DER_MAX];
    size_t ca_len = sizeof(ca), crt_len = sizeof(crt), key_len = sizeof(key);
    uint8_t *out = NULL, *in = NULL, rel[CMN_REL_ID_LEN], pair[CMN_KEY_LEN];
    size_t out_len = 0, in_len = 0;
    char peer[CMN_CA_ID_MAX], kid[2 * CMN_REL_ID_LEN + 1];
    cmn_escertke *k = NULL;
    bool done = false;
    int rc;

    if (load(dev, "crt", "CERTIFICATE", crt, &crt_len) != 0 ||
        load(dev, "key", "EC PRIVATE KEY", key, &key_len) != 0 ||
        load(dev, "ca", "CERTIFICATE", ca, &ca_len) != 0) {
        cmn_wipe(key, sizeof(key));
        return CMN_ESTATE; /* no certificate: tep_enrol_cert() first */
    }
    rc = cmn_escertke_new(true, ca, ca_len, crt, crt_len, key, key_len, &k);
    cmn_wipe(key, sizeof(key));
    /* Message 1 -> 2, Message 3 -> 4 */
    if (rc == 0)
        rc = cmn_escertke_step(k, NULL, 0, &out, &out_len, &done);
    for (int round = 0; rc == 0 && round < 2; round++) {
        rc = exchange(conn, to, out, out_len, &in, &in_len);
        free(out);
        out = NULL;
        if (rc == 0)
            rc = cmn_escertke_step(k, in, in_len, &out, &out_len, &done);
        free(in);
        in = NULL;
        if (rc == CMN_EDENIED || rc == CMN_ESTATE)
            rc = CMN_EDENIED;
    }
    if (rc == 0 && (!done || out != NULL))
        rc = CMN_EPROTO;
    /* the Terminating End-Point must be the CSE (or AE) named in its certificate */
    if (rc == 0 && (cmn_escertke_peer_id(k, peer, sizeof(peer)) != 0 || strcmp(peer, peer_id) != 0))
        rc = CMN_EDENIED;
    if (rc == 0)
        rc = cmn_escertke_key(k, rel, pair);
    if (rc == 0) {
        cmn_hex_encode(rel, sizeof(rel), kid);
        rc = tae_e2e_key_new(pair, kid, peer_id, ret_key);
    }
    cmn_wipe(pair, sizeof(pair));
    free(out);
    cmn_escertke_free(k);
    return rc;
}
