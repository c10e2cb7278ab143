/* ESCertKE (TS-0003 8.7): a TLS 1.2 handshake between two end points, run by wolfSSL
 * over memory buffers so that its records travel inside oneM2M primitives (TS-0001
 * 11.4.3, TS-0004 7.5.1.2.12: m2m:seci with sit 6, eckm = one ESCertKE Message). Each
 * end has a P-256 certificate from the tep CA (cmn_ca.h) and trusts that CA; both
 * certificates are required (Table 8.7.2.2-1 lists CertificateRequest and the
 * Initiating End-Point's Certificate/CertificateVerify). Cipher suites: ECDHE_ECDSA
 * (10.2.3), AES-128-GCM-SHA256 preferred, the mandatory AES-128-CBC-SHA256 accepted.
 *
 * The four ESCertKE Messages: the initiator's step(NULL) gives message 1 (ClientHello);
 * the terminator's step(message 1) gives message 2 (ServerHello .. ServerHelloDone); the
 * initiator's step(message 2) gives message 3 (Certificate .. Finished); the
 * terminator's step(message 3) gives message 4 (ChangeCipherSpec, Finished) and it is
 * done; the initiator's step(message 4) gives nothing and it is done. A message must
 * hold whole records and be the one expected: anything else ends the object
 * (CMN_EPROTO), as does a failed handshake (CMN_EDENIED: wrong CA, a tampered message).
 *
 * pairwiseE2EKey (10.3.1, third paragraph): RFC 5705 exporter, label
 * "EXPORTER-oneM2M-ESCertKE", no context, 48 bytes, split as every tep exporter
 * (docs/keys.md items 1, 2, 20): pairwiseE2EKeyID = bytes 0..15, pairwiseE2EKey =
 * bytes 16..47. */
#ifndef TEP_CMN_ESCERTKE_H
#define TEP_CMN_ESCERTKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_ca.h"
#include "cmn_kdf.h"

#define CMN_LABEL_ESCERTKE "EXPORTER-oneM2M-ESCertKE"
#define CMN_ESCERTKE_MSG_MAX 16384 /* one ESCertKE Message, bytes */

typedef struct cmn_escertke cmn_escertke;

/* A new end point: initiator (TLS client) or terminator (TLS server), with its own
 * certificate and key (DER, SEC1) and the trust anchor (DER). All copied. */
int cmn_escertke_new(bool initiator, const uint8_t *ca_der, size_t ca_len, const uint8_t *cert_der,
                     size_t cert_len, const uint8_t *key_der, size_t key_len, cmn_escertke **ret);
void cmn_escertke_free(cmn_escertke *k); /* NULL is fine; wipes */

/* One ESCertKE Message in (NULL/0 for the initiator's first step), the next one out
 * (*ret_out malloc'd, NULL with *ret_len 0 when there is none); *ret_done once the
 * handshake is complete at this end. After an error the object only frees. */
int cmn_escertke_step(cmn_escertke *k, const uint8_t *in, size_t in_len, uint8_t **ret_out,
                      size_t *ret_len, bool *ret_done);

/* After done: the peer's identifier (its certificate's "onem2m:<id>" SAN, chained to the
 * trust anchor by the handshake) into ret. */
int cmn_escertke_peer_id(const cmn_escertke *k, char *ret, size_t retlen);
/* The same with what the certificate says (serial, validity): *ret_id points into info. */
int cmn_escertke_peer_cert(const cmn_escertke *k, cmn_cert_info *info, const char **ret_id);

/* After done: the 48-byte exporter output and its split. ret_* are secret: cmn_wipe. */
int cmn_escertke_export(cmn_escertke *k, uint8_t ret_exporter[CMN_EXPORTER_LEN]);
int cmn_escertke_key(cmn_escertke *k, uint8_t ret_key_id[CMN_REL_ID_LEN],
                     uint8_t ret_key[CMN_KEY_LEN]);

/* For the known-answer test: the TLS 1.2 master secret and the two randoms (after done). */
int cmn_escertke_secrets(cmn_escertke *k, uint8_t ret_master[48], uint8_t ret_client_random[32],
                         uint8_t ret_server_random[32]);

/* The transport (TS-0004 7.5.1.2.12, 6.3.5 securityInfo): {"m2m:seci":{"sit":6,
 * "eckm":"<standard base64 of the message>"}}, the content of the NOTIFY requests and of
 * their answers. cmn_escertke_seci: a new string (malloc'd) for msg; cmn_escertke_eckm:
 * the message of a securityInfo object (the value of "m2m:seci"), *ret malloc'd;
 * CMN_EINVAL when sit is not 6 or eckm is absent, not base64 or over
 * CMN_ESCERTKE_MSG_MAX. */
#define CMN_ESCERTKE_SIT 6
char *cmn_escertke_seci(const uint8_t *msg, size_t len);
struct json_t;
int cmn_escertke_eckm(struct json_t *seci, uint8_t **ret, size_t *ret_len);

#endif
