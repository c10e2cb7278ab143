/* The certificate side of a tep CoAPS server (TS-0003 8.2.2.2 certificate SAEF at
 * tep-cse, 8.8.2.2 certificate MAF Handshake at tep-authz): the PEM files checked at
 * start-up, libcoap's PKI set up beside DTLS-PSK with tep's settings, and a client
 * certificate's identifier (subjectAltName URI "onem2m:<id>", cmn_ca.h). */
#ifndef TEP_CMN_PKI_H
#define TEP_CMN_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>

#include "cmn_ca.h"
#include "cmn_exporter.h"
#include "cmn_kdf.h"

/* The three files of a server certificate: all set (on), none (off), else refused. */
typedef struct {
    const char *cert_file; /* the server's certificate (PEM), issued by ca_file */
    const char *key_file;  /* its private key (EC PRIVATE KEY, PEM) */
    const char *ca_file;   /* trust anchor for client certificates (the tep CA) */
} cmn_pki_files;

/* Checks f: all three empty -> 0 with *ret_on false; some but not all -> CMN_EINVAL
 * (logged `event=pki_refused reason=incomplete` under sub, naming section); unreadable
 * or not PEM, or the certificate not issued by ca_file, or (own_id not NULL) its SAN not
 * "onem2m:<own_id>" -> CMN_ECONFIG (logged `event=pki_refused reason=bad_file file=...`
 * / `reason=wrong_san`). libcoap only reads the files at the first handshake: checking
 * them here makes a wrong path a start-up error. */
int cmn_pki_check(const char *sub, const char *section, const cmn_pki_files *f, const char *own_id,
                  bool *ret_on);

/* Adds certificate handshakes (ECDHE-ECDSA, client certificate required and chained to
 * f->ca_file, depth 2) to ctx, whose DTLS-PSK setup spsk is already set: libcoap 4.3.1
 * (OpenSSL) only looks for PSK suites in a ClientHello when the context has a default
 * PSK, so spsk gets unused_psk (random, never used: the id callback picks every key;
 * caller's storage, kept for the context's life) and is set again. cb is called at each
 * depth of the client's chain (libcoap validate_cn_call_back) with arg. f checked first
 * (cmn_pki_check). CMN_ECRYPTO, CMN_ECOAP (logged). */
int cmn_pki_setup(coap_context_t *ctx, coap_dtls_spsk_t *spsk, uint8_t unused_psk[CMN_KEY_LEN],
                  const cmn_pki_files *f, coap_dtls_cn_callback_t cb, void *arg);

/* The same with SNI checked for every handshake, PSK or certificate, by sni
 * (cmn_exporter.h; caller's storage): libcoap 4.3.1 with PKI on no longer calls the
 * PSK SNI callback of spsk. With or without it, every certificate of f->ca_file is
 * trusted (cmn_tls_trust_file). */
int cmn_pki_setup_sni(coap_context_t *ctx, coap_dtls_spsk_t *spsk, uint8_t unused_psk[CMN_KEY_LEN],
                      const cmn_pki_files *f, coap_dtls_cn_callback_t cb, void *arg,
                      cmn_tls_sni_check *sni);

/* The DER of the first PEM block of kind ("CERTIFICATE", "EC PRIVATE KEY") in the file
 * path; *inout_len = capacity on entry, length on return. CMN_ENOTFOUND: no such file. */
int cmn_pki_read_pem(const char *path, const char *kind, uint8_t *der, size_t *inout_len);

/* A client's end-entity certificate (DER): *info and *ret_id (inside info: the part
 * after "onem2m:"). CMN_EINVAL when it does not decode or has no onem2m SAN. */
int cmn_pki_peer_id(const uint8_t *der, size_t len, cmn_cert_info *info, const char **ret_id);

#endif
