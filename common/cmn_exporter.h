/* The TLS exporter (RFC 5705) of a libcoap DTLS session: the one call into the DTLS
 * library's own API (OpenSSL's SSL_export_keying_material), kept in cmn_exporter.c. */
#ifndef TEP_CMN_EXPORTER_H
#define TEP_CMN_EXPORTER_H

#include <coap3/coap.h>
#include <stddef.h>
#include <stdint.h>

/* No context value is used (TS-0003 10.3.1). CMN_ESTATE if the session has no
 * established DTLS, CMN_ECRYPTO if the export fails. */
int cmn_tls_export(const coap_session_t *session, const char *label, uint8_t *ret_out,
                   size_t len);

#endif
