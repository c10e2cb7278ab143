/* tep-enroller as the tep certificate authority (TS-0003 8.3.6, 10.1.4). The CA key and
 * self-signed certificate (P-256, common/cmn_ca.h) are made at first start and kept in
 * the store (db "ca": "key", "cert"); the certificate is also written to
 * <data_dir>/ca.pem for operators. A certificate is issued only inside an enrolment
 * session, for the identity of that enrolment, and never outlives it; each issued
 * certificate is recorded in db "certs" (serial -> IssuedCert) before it is returned. */
#ifndef TEP_ENR_CA_H
#define TEP_ENR_CA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmn_ca.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define ENR_CA_LIFETIME (20LL * 365 * 86400)
#define ENR_CERT_LIFETIME_MAX (365LL * 86400) /* a certificate lives at most a year */

typedef struct enr_ca enr_ca;

/* Loads the CA, creating it (named "tep CA <mef_fqdn>") when the store has none, and
 * (re)writes <data_dir>/ca.pem (0644). */
int enr_ca_open(cmn_store *s, const char *data_dir, const char *mef_fqdn, int64_t now,
                enr_ca **ret);
void enr_ca_free(enr_ca *ca); /* wipes the key; NULL is fine */
/* The CA certificate as PEM (owned by ca) - the trust anchor handed to enrolees. */
const char *enr_ca_pem(const enr_ca *ca);
/* The CA certificate as DER (owned by ca), *ret_len its length. */
const uint8_t *enr_ca_der(const enr_ca *ca, size_t *ret_len);

/* A server certificate for the tep CA's own services (the MEF's certificate MEF
 * Handshake, TS-0003 8.3.2.2): a fresh P-256 key, subjectAltName "onem2m:<id>", valid a
 * year (never past the CA), not recorded in "certs" (it names no enrolment). crt_pem and
 * key_pem have CMN_CA_PEM_MAX bytes; the caller wipes key_pem. */
int enr_ca_issue_server(const enr_ca *ca, const char *id, int64_t now, char *crt_pem,
                        char *key_pem);

typedef struct {
    const char *kpm_id; /* the session's enrolment credential */
    const char *ke_id;  /* the session's KeID (from its exporter) */
    const uint8_t *csr; /* DER */
    size_t csr_len;
    int64_t now;
    int64_t lifetime; /* [enroller] cert_lifetime_s; 0 = ENR_CERT_LIFETIME_MAX */
} enr_cert_input;

/* Checks that ke_id is kpm_id's live enrolment and that the CSR (valid signature, P-256)
 * names that enrolment's Enrolee-ID, then issues, records and returns the certificate,
 * valid until now + lifetime (at most a year), never past the enrolment or the CA.
 * *ret is owned by the caller (tep__issued_cert__free_unpacked). On refusal *ret_reason
 * says why, for the log: CMN_EINVAL bad CSR; CMN_ENOTFOUND no enrolment in this session;
 * CMN_EDENIED revoked or someone else's identity; CMN_EEXPIRED enrolment expired. */
int enr_ca_issue(enr_ca *ca, cmn_store *s, const enr_cert_input *in, Tep__IssuedCert **ret,
                 const char **ret_reason);

/* The IssuedCert of serial (lower-case hex), owned by the caller
 * (tep__issued_cert__free_unpacked). CMN_ENOTFOUND when the CA never issued it. */
int enr_ca_cert_get(cmn_store *s, const char *serial, Tep__IssuedCert **ret);

/* Calls fn for every issued certificate in serial order (c valid only during the call). */
typedef int (*enr_cert_fn)(const Tep__IssuedCert *c, void *arg);
int enr_ca_foreach(cmn_store *s, enr_cert_fn fn, void *arg);

#endif
