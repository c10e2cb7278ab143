/* The TLS exporter (RFC 5705) of a libcoap DTLS session, and the certificate trust of a
 * handshake in progress: the calls into the DTLS library's own API (OpenSSL), kept in
 * cmn_exporter.c. */
#ifndef TEP_CMN_EXPORTER_H
#define TEP_CMN_EXPORTER_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No context value is used (TS-0003 10.3.1). CMN_ESTATE if the session has no
 * established DTLS, CMN_ECRYPTO if the export fails. */
int cmn_tls_export(const coap_session_t *session, const char *label, uint8_t *ret_out, size_t len);

/* Makes every CERTIFICATE of ca_file (PEM) a trust anchor of the handshake tls (the
 * SSL* libcoap hands to coap_dtls_pki_t.additional_tls_setup_call_back): libcoap 4.3.1
 * fills its store from ca_file re-using one X509 object, which leaves only the file's
 * last certificate trusted. CMN_EINVAL when the file does not load. */
int cmn_tls_trust_file(void *tls, const char *ca_file);

/* An SNI check for every handshake of a server context: fn gets the SNI ("" when the
 * client sent none) and says whether it is acceptable; a refused one ends the handshake
 * with the alert unrecognized_name. Caller's storage, kept for the context's life. */
typedef struct {
    bool (*fn)(const char *sni, void *arg);
    void *arg;
} cmn_tls_sni_check;
/* Installs chk on the SSL_CTX of the handshake tls (from libcoap's ClientHello
 * callback, so before the SNI is looked at; then on every later handshake too). */
int cmn_tls_check_sni(void *tls, cmn_tls_sni_check *chk);

#endif
