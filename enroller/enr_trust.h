/* The certificate MEF Handshake of the certificate-based RSPF (TS-0003 8.3.2.2): the
 * manufacturer trust anchors the operator configures (`[enroller] mfr_trust_anchors`),
 * and the files libcoap reads to serve ECDHE-ECDSA beside DTLS-PSK: the MEF's own
 * certificate (issued by the tep CA at every start, subjectAltName "onem2m:<MEF-FQDN>"),
 * its key, and the bundle of every anchor a client certificate may chain to (the tep CA,
 * for certificates it issued, then the manufacturer anchors).
 *
 * An anchor list is one or more PEM files separated by spaces; each file holds one or
 * more CERTIFICATE blocks, each a CA certificate (basicConstraints CA:TRUE) valid now. */
#ifndef TEP_ENR_TRUST_H
#define TEP_ENR_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_ca.h"
#include "cmn_pki.h"
#include "enr_ca.h"

#define ENR_TRUST_MAX 32 /* anchors in all the files together */

typedef struct enr_trust enr_trust;

/* Loads the anchors of list (may be empty: no manufacturer anchor) at now. On error
 * CMN_ECONFIG and err says which file and why ("/x/mfr.pem: certificate 2 is not a
 * CA"). *ret owned by the caller: enr_trust_free(). */
int enr_trust_load(const char *list, int64_t now, enr_trust **ret, char *err, size_t errlen);
void enr_trust_free(enr_trust *t); /* NULL is fine */
size_t enr_trust_count(const enr_trust *t);

/* Configuration validator of mfr_trust_anchors (cmn_config.h): enr_trust_load at now. */
int enr_trust_valid_list(const char *v, char *err, size_t errlen);

/* 0 when one of t's anchors issued the certificate der and it is valid now; CMN_EDENIED
 * when none did. */
int enr_trust_check(const enr_trust *t, const uint8_t *der, size_t len);

/* Manufacturer certificate revocation (`[enroller] mfr_crls`): adds to t the CRLs of
 * list (PEM files separated by spaces or commas, each one or more "X509 CRL" blocks, at
 * most ENR_TRUST_MAX in all), each signed by one of t's anchors (issuer name and
 * signature), lastUpdate <= now < nextUpdate. OpenSSL parses and verifies them (wolfSSL
 * keeps its CRLs inside a certificate manager and exposes neither an entry lookup nor
 * nextUpdate, so no load-time error could say which CRL is wrong and why). On error
 * CMN_ECONFIG, err names the file and the CRL ("/x/acme.crl: CRL 1 has expired
 * (nextUpdate passed)"), and t may hold the CRLs before it: free it. */
int enr_trust_load_crls(enr_trust *t, const char *list, int64_t now, char *err, size_t errlen);
size_t enr_trust_crl_count(const enr_trust *t);

/* Whether the certificate der is revoked by its issuer's CRL at now: 0 not listed (or
 * its issuer has no CRL), CMN_EDENIED its serial is listed, CMN_EEXPIRED its issuer's
 * CRL is past nextUpdate (status unknown: refused), CMN_EINVAL not a certificate. */
int enr_trust_revoked(const enr_trust *t, const uint8_t *der, size_t len, int64_t now);

/* Writes <data_dir>/mef.crt.pem and mef.key.pem (0600; a fresh key and a certificate
 * from ca naming mef_fqdn) and <data_dir>/mef-trust.pem (the tep CA, then t's anchors),
 * each atomically, and points *ret at the three paths (owned by the caller's bufs,
 * each CMN_PKI_PATH_MAX). */
#define ENR_TRUST_PATH_MAX 4096
typedef struct {
    char cert_file[ENR_TRUST_PATH_MAX];
    char key_file[ENR_TRUST_PATH_MAX];
    char ca_file[ENR_TRUST_PATH_MAX];
} enr_trust_files;
int enr_trust_write(const enr_trust *t, enr_ca *ca, const char *data_dir, const char *mef_fqdn,
                    int64_t now, enr_trust_files *ret);

#endif
