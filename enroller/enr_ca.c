/* The tep CA inside tep-enroller (see enr_ca.h). */
#include "enr_ca.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"
#include "enr_db.h"

static const char key_name[] = "key", cert_name[] = "cert";

struct enr_ca {
    uint8_t key[CMN_CA_KEY_DER_MAX];
    size_t key_len;
    uint8_t cert[CMN_CA_CERT_DER_MAX];
    size_t cert_len;
    int64_t not_after;
    char pem[CMN_CA_PEM_MAX];
};

/* ---- the CA's own material ---------------------------------------------------------- */

static int load_part(cmn_store *s, const char *name, uint8_t *buf, size_t cap, size_t *ret_len)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cmn_store_get(s, ENR_DB_CA, name, strlen(name), &val, &len);

    if (rc == 0 && (len == 0 || len > cap))
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(buf, val, len);
        *ret_len = len;
    }
    cmn_store_free_val(val, len);
    return rc;
}

/* Makes a key and root and commits both in one transaction. */
static int create(enr_ca *ca, cmn_store *s, const char *mef_fqdn, int64_t now)
{
    char name[300];
    cmn_txn *t = NULL;
    int rc;

    snprintf(name, sizeof(name), "tep CA %s", mef_fqdn);
    ca->key_len = sizeof(ca->key);
    ca->cert_len = sizeof(ca->cert);
    rc = cmn_ca_key_new(ca->key, &ca->key_len);
    if (rc == 0)
        rc = cmn_ca_make_root(ca->key, ca->key_len, name, now, now + ENR_CA_LIFETIME, ca->cert,
                              &ca->cert_len);
    if (rc == 0)
        rc = cmn_store_txn_begin(s, &t);
    if (rc == 0)
        rc = cmn_txn_put(t, ENR_DB_CA, key_name, strlen(key_name), ca->key, ca->key_len);
    if (rc == 0)
        rc = cmn_txn_put(t, ENR_DB_CA, cert_name, strlen(cert_name), ca->cert, ca->cert_len);
    if (rc == 0) {
        rc = cmn_txn_commit(t);
        t = NULL;
    }
    cmn_txn_abort(t);
    return rc;
}

/* Writes the CA certificate to <dir>/ca.pem atomically, 0644. */
static int write_pem(const enr_ca *ca, const char *dir)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof(path), "%s/ca.pem", dir) >= sizeof(path))
        return CMN_ERANGE;
    return cmn_file_write_atomic(path, ca->pem, strlen(ca->pem), 0644, 0);
}

int enr_ca_open(cmn_store *s, const char *data_dir, const char *mef_fqdn, int64_t now, enr_ca **ret)
{
    enr_ca *ca = calloc(1, sizeof(*ca));
    cmn_cert_info info;
    int rc;

    *ret = NULL;
    if (ca == NULL)
        return CMN_ENOMEM;
    rc = load_part(s, key_name, ca->key, sizeof(ca->key), &ca->key_len);
    if (rc == 0)
        rc = load_part(s, cert_name, ca->cert, sizeof(ca->cert), &ca->cert_len);
    else if (rc == CMN_ENOTFOUND)
        rc = create(ca, s, mef_fqdn, now);
    if (rc == 0)
        rc = cmn_ca_cert_info(ca->cert, ca->cert_len, &info);
    if (rc == 0) {
        ca->not_after = info.not_after;
        rc = cmn_ca_to_pem(ca->cert, ca->cert_len, "CERTIFICATE", ca->pem, sizeof(ca->pem));
    }
    if (rc == 0)
        rc = write_pem(ca, data_dir);
    if (rc != 0) {
        enr_ca_free(ca);
        return rc;
    }
    *ret = ca;
    return 0;
}

void enr_ca_free(enr_ca *ca)
{
    cmn_free_secret(ca, sizeof(*ca));
}

const char *enr_ca_pem(const enr_ca *ca)
{
    return ca->pem;
}

const uint8_t *enr_ca_der(const enr_ca *ca, size_t *ret_len)
{
    *ret_len = ca->cert_len;
    return ca->cert;
}

int enr_ca_issue_server(const enr_ca *ca, const char *id, int64_t now, char *crt_pem, char *key_pem)
{
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX], crt[CMN_CA_CERT_DER_MAX];
    size_t klen = sizeof(key), clen = sizeof(csr), len = sizeof(crt);
    int64_t na =
        now + ENR_CERT_LIFETIME_MAX < ca->not_after ? now + ENR_CERT_LIFETIME_MAX : ca->not_after;
    int rc = cmn_ca_key_new(key, &klen);

    if (rc == 0)
        rc = cmn_ca_make_csr(key, klen, id, csr, &clen);
    if (rc == 0)
        rc = cmn_ca_issue(&(cmn_ca){ca->key, ca->key_len, ca->cert, ca->cert_len}, csr, clen, id,
                          now, na, crt, &len);
    if (rc == 0)
        rc = cmn_ca_to_pem(crt, len, "CERTIFICATE", crt_pem, CMN_CA_PEM_MAX);
    if (rc == 0)
        rc = cmn_ca_to_pem(key, klen, "EC PRIVATE KEY", key_pem, CMN_CA_PEM_MAX);
    cmn_wipe(key, sizeof(key));
    return rc;
}

/* ---- issuing ---------------------------------------------------------------------- */

/* The session's enrolment, live: CMN_ENOTFOUND / CMN_EDENIED / CMN_EEXPIRED. */
static int live_enrolment(cmn_store *s, const enr_cert_input *in, Tep__Enrolment **ret,
                          const char **why)
{
    int rc = enr_db_enrolment_get(s, in->ke_id, ret);

    if (rc == CMN_ENOTFOUND)
        *why = "not_enrolled";
    else if (rc != 0)
        *why = "store_error";
    else if (strcmp((*ret)->kpm_id, in->kpm_id) != 0 || (*ret)->revoked)
        *why = "revoked", rc = CMN_EDENIED;
    else if ((*ret)->expires != 0 && (*ret)->expires <= in->now)
        *why = "expired", rc = CMN_EEXPIRED;
    return rc;
}

static int64_t cert_not_after(const enr_ca *ca, const Tep__Enrolment *en, int64_t now,
                              int64_t lifetime)
{
    int64_t na =
        now + (lifetime > 0 && lifetime < ENR_CERT_LIFETIME_MAX ? lifetime : ENR_CERT_LIFETIME_MAX);

    if (en->expires != 0 && en->expires < na)
        na = en->expires;
    return na < ca->not_after ? na : ca->not_after;
}

static int record(cmn_store *s, const uint8_t *der, size_t len, const Tep__Enrolment *en,
                  int64_t now, Tep__IssuedCert **ret)
{
    Tep__IssuedCert c = TEP__ISSUED_CERT__INIT;
    cmn_cert_info info;
    uint8_t *buf = NULL;
    size_t blen;
    int rc = cmn_ca_cert_info(der, len, &info);

    if (rc != 0)
        return rc;
    c.serial = info.serial;
    c.enrolee_id = en->enrolee_id;
    c.kpm_id = en->kpm_id;
    c.ke_id = en->ke_id;
    c.not_before = info.not_before;
    c.not_after = info.not_after;
    c.issued = now;
    c.der.data = (uint8_t *)der;
    c.der.len = len;
    blen = tep__issued_cert__get_packed_size(&c);
    buf = malloc(blen ? blen : 1);
    if (buf == NULL)
        return CMN_ENOMEM;
    tep__issued_cert__pack(&c, buf);
    rc = cmn_store_put(s, ENR_DB_CERTS, info.serial, strlen(info.serial), buf, blen);
    if (rc == 0) {
        *ret = tep__issued_cert__unpack(NULL, blen, buf);
        rc = *ret != NULL ? 0 : CMN_ENOMEM;
    }
    free(buf);
    return rc;
}

int enr_ca_issue(enr_ca *ca, cmn_store *s, const enr_cert_input *in, Tep__IssuedCert **ret,
                 const char **ret_reason)
{
    Tep__Enrolment *en = NULL;
    char id[CMN_CA_ID_MAX];
    uint8_t der[CMN_CA_CERT_DER_MAX];
    size_t len = sizeof(der);
    int rc;

    *ret = NULL;
    *ret_reason = "bad_csr";
    rc = cmn_ca_csr_id(in->csr, in->csr_len, id, sizeof(id));
    if (rc == CMN_EDENIED) {
        /* a bad signature (no proof of possession), a key other than P-256, no or
         * several onem2m: URIs: the request is malformed, 4.00 (docs/internals.md) */
        *ret_reason = "bad_csr_signature_key_or_san";
        rc = CMN_EINVAL;
    }
    if (rc == 0)
        rc = live_enrolment(s, in, &en, ret_reason);
    if (rc == 0 && strcmp(id, en->enrolee_id) != 0) {
        *ret_reason = "wrong_identity"; /* a CSR for someone else's ID */
        rc = CMN_EDENIED;
    }
    if (rc == 0) {
        *ret_reason = "issue_failed";
        rc = cmn_ca_issue_bound(&(cmn_ca){ca->key, ca->key_len, ca->cert, ca->cert_len}, in->csr,
                                in->csr_len, id, en->ke_id, in->now,
                                cert_not_after(ca, en, in->now, in->lifetime), der, &len);
    }
    if (rc == 0) {
        *ret_reason = "store_error";
        rc = record(s, der, len, en, in->now, ret);
    }
    if (rc == 0)
        *ret_reason = NULL;
    enr_enrolment_free(en);
    return rc;
}

int enr_ca_cert_get(cmn_store *s, const char *serial, Tep__IssuedCert **ret)
{
    return cmn_store_get_msg(s, ENR_DB_CERTS, serial, strlen(serial), &tep__issued_cert__descriptor,
                             (ProtobufCMessage **)ret);
}

typedef struct {
    enr_cert_fn fn;
    void *arg;
} cert_iter;

static int cert_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    cert_iter *it = arg;
    Tep__IssuedCert *c = tep__issued_cert__unpack(NULL, vlen, val);
    int rc = c != NULL ? it->fn(c, it->arg) : CMN_ECORRUPT;

    tep__issued_cert__free_unpacked(c, NULL);
    return rc;
}

int enr_ca_foreach(cmn_store *s, enr_cert_fn fn, void *arg)
{
    cert_iter it = {fn, arg};

    return cmn_store_foreach(s, ENR_DB_CERTS, NULL, 0, cert_one, &it);
}
