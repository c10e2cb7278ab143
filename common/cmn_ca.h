/* The tep certificate authority and the enrolee's side of certificate enrolment
 * (TS-0003 8.3.6, 10.1), all with wolfCrypt. Keys are P-256, signatures ECDSA-SHA256.
 *
 * Identity in a certificate (TS-0003 10.1.1: the AE-ID, CSE-ID or Node-ID goes into
 * subjectAltName): tep writes exactly one uniformResourceIdentifier, made by
 * cmn_ca_san_uri() from the entity's identifier. An RFC 5280 URI needs a scheme, and
 * oneM2M defines none for identifiers, so tep's choice (docs/internals.md, pinned by
 * common/test_ca.c) is "onem2m:" followed by the identifier as the enroller assigned it:
 *   AE-ID "Cdevice01"   -> "onem2m:Cdevice01"
 *   CSE-ID "/tep-cse"   -> "onem2m:/tep-cse"
 * The subject is CN=<identifier>, O=tep. The CA certificate is CN=<name>, O=tep,
 * basicConstraints CA:TRUE pathlen 0, keyUsage keyCertSign|cRLSign.
 *
 * Buffers: DER in, DER out, with *inout_len = capacity on entry, length on return.
 * Private keys are SEC1 ECPrivateKey DER: wipe them (cmn_wipe) when done. */
#ifndef TEP_CMN_CA_H
#define TEP_CMN_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMN_CA_KEY_DER_MAX 160 /* P-256 ECPrivateKey with public key: 121 bytes */
#define CMN_CA_CERT_DER_MAX 2048
#define CMN_CA_PEM_MAX 3072
#define CMN_CA_SAN_PREFIX "onem2m:"
#define CMN_CA_ID_MAX 256    /* identifier in a SAN, bytes incl. NUL */
#define CMN_CA_SERIAL_MAX 41 /* hex of up to 20 bytes + NUL */

/* What tep reads back from a certificate. */
typedef struct {
    char serial[CMN_CA_SERIAL_MAX]; /* lower-case hex */
    char subject_cn[CMN_CA_ID_MAX];
    char san_uri[CMN_CA_ID_MAX + 8]; /* the first URI of subjectAltName ("" if none) */
    int64_t not_before, not_after;   /* Unix seconds */
    bool is_ca;
} cmn_cert_info;

/* The CA's own material, borrowed. */
typedef struct {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *cert;
    size_t cert_len;
} cmn_ca;

/* "onem2m:<id>" into ret. CMN_EINVAL when id is empty or not printable ASCII without
 * spaces, CMN_ERANGE when it does not fit. */
int cmn_ca_san_uri(const char *id, char *ret, size_t retlen);

/* A fresh P-256 key. */
int cmn_ca_key_new(uint8_t *ret_der, size_t *inout_len);

/* Self-signed CA certificate for key, valid from now - 1 h to not_after. */
int cmn_ca_make_root(const uint8_t *key, size_t key_len, const char *name, int64_t now,
                     int64_t not_after, uint8_t *ret_der, size_t *inout_len);

/* PKCS#10 request for key: subject CN=id, subjectAltName URI cmn_ca_san_uri(id). */
int cmn_ca_make_csr(const uint8_t *key, size_t key_len, const char *id, uint8_t *ret_der,
                    size_t *inout_len);

/* Parses a CSR, checks its signature (proof of possession) and that its key is P-256,
 * and returns the identifier its subjectAltName URI names (the part after "onem2m:").
 * CMN_EINVAL: not a valid CSR; CMN_EDENIED: bad signature, other key type, no or
 * several URIs, a URI without the tep prefix. */
int cmn_ca_csr_id(const uint8_t *csr, size_t csr_len, char *ret_id, size_t idlen);

/* Issues a certificate for the CSR's key with subject CN=id and SAN cmn_ca_san_uri(id)
 * (whatever else the CSR asked for is ignored), valid from now - 1 h to not_after,
 * a random 16-byte serial, keyUsage digitalSignature, EKU clientAuth+serverAuth.
 * The caller checked the identifier with cmn_ca_csr_id() first. */
int cmn_ca_issue(const cmn_ca *ca, const uint8_t *csr, size_t csr_len, const char *id, int64_t now,
                 int64_t not_after, uint8_t *ret_der, size_t *inout_len);

/* The same, the certificate bound to the enrolment ke_id it is issued under (TS-0003
 * 10.7: a revoked or replaced enrolment ends its certificates): the 16-byte serial is
 * CMN_CA_BOUND_TAG, the first CMN_CA_BIND_LEN bytes of the KeID (its first 16 hex
 * digits) and 7 random bytes. The CA's signature covers the serial, so a verifier that
 * knows the current enrolment of the certificate's identifier checks the binding with
 * cmn_ca_serial_bound_to() and no record of the issue. CMN_EINVAL when ke_id does not
 * start with 16 lower-case hex digits. */
#define CMN_CA_BOUND_TAG 0x5e
#define CMN_CA_BIND_LEN 8
int cmn_ca_issue_bound(const cmn_ca *ca, const uint8_t *csr, size_t csr_len, const char *id,
                       const char *ke_id, int64_t now, int64_t not_after, uint8_t *ret_der,
                       size_t *inout_len);

/* Whether serial (lower-case hex, cmn_cert_info) is a bound serial of the enrolment
 * ke_id. A serial of cmn_ca_issue (unbound) or of another enrolment is false. */
bool cmn_ca_serial_bound_to(const char *serial, const char *ke_id);

/* Reads serial, subject CN, first SAN URI, validity and CA flag from a certificate. */
int cmn_ca_cert_info(const uint8_t *der, size_t len, cmn_cert_info *ret);

/* 0 when cert is signed by ca_cert and valid at now; CMN_EDENIED otherwise. */
int cmn_ca_verify(const uint8_t *ca_cert, size_t ca_len, const uint8_t *cert, size_t len);

/* The raw P-256 key pair of a SEC1 key (32-byte scalar, 65-byte X9.63 point; the forms of
 * cmn_jws.h's ES256): wipe ret_priv when done. CMN_EINVAL: not a P-256 key. */
int cmn_ca_key_raw(const uint8_t *der, size_t len, uint8_t ret_priv[32], uint8_t ret_pub[65]);
/* The certificate's P-256 public key (65 bytes X9.63). Checks nothing about the
 * certificate: cmn_ca_verify does. CMN_EINVAL: not a certificate; CMN_EDENIED: not P-256. */
int cmn_ca_cert_pub(const uint8_t *der, size_t len, uint8_t ret_pub[65]);

/* PEM <-> DER. kind: "CERTIFICATE", "CERTIFICATE REQUEST" or "EC PRIVATE KEY". */
int cmn_ca_to_pem(const uint8_t *der, size_t len, const char *kind, char *ret, size_t retlen);
int cmn_ca_from_pem(const char *pem, size_t pem_len, const char *kind, uint8_t *ret_der,
                    size_t *inout_len);

#endif
