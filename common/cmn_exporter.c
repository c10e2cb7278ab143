/* The TLS exporter (RFC 5705) of a libcoap DTLS session, and a handshake's trust
 * anchors. This is the one place where tep calls the DTLS library's own API: libcoap has
 * no exporter, so we take the OpenSSL SSL* that libcoap's OpenSSL backend keeps for the
 * session. */
#include "cmn_exporter.h"

#include <openssl/ssl.h>
#include <string.h>

#include "cmn_err.h"

/* The SSL* of an established DTLS session, or NULL. */
static SSL *session_ssl(const coap_session_t *session)
{
    coap_tls_library_t lib = COAP_TLS_LIBRARY_NOTLS;
    SSL *ssl;
    if (coap_session_get_state(session) != COAP_SESSION_STATE_ESTABLISHED)
        return NULL;
    ssl = coap_session_get_tls(session, &lib);
    if (ssl == NULL || lib != COAP_TLS_LIBRARY_OPENSSL)
        return NULL;
    if (!SSL_is_init_finished(ssl))
        return NULL;
    return ssl;
}

int cmn_tls_export(const coap_session_t *session, const char *label, uint8_t *ret_out, size_t len)
{
    SSL *ssl;

    if (session == NULL || label == NULL || ret_out == NULL || len == 0)
        return CMN_EINVAL;
    ssl = session_ssl(session);
    if (ssl == NULL)
        return CMN_ESTATE;
    /* use_context 0: TS-0003 10.3.1 uses no context value (not even an empty one,
     * which RFC 5705 distinguishes). */
    if (SSL_export_keying_material(ssl, ret_out, len, label, strlen(label), NULL, 0, 0) != 1)
        return CMN_ECRYPTO;
    return 0;
}

int cmn_tls_trust_file(void *tls, const char *ca_file)
{
    X509_STORE *st = X509_STORE_new();
    int rc = CMN_EINVAL;

    if (st == NULL)
        return CMN_ENOMEM;
    if (tls != NULL && ca_file != NULL && X509_STORE_load_file(st, ca_file) == 1 &&
        SSL_set1_verify_cert_store((SSL *)tls, st) == 1)
        rc = 0;
    X509_STORE_free(st); /* the SSL holds its own reference */
    return rc;
}

/* OpenSSL's servername callback: called for every ClientHello, with or without SNI. */
static int on_servername(SSL *ssl, int *al, void *arg)
{
    cmn_tls_sni_check *chk = arg;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    if (chk->fn(sni != NULL ? sni : "", chk->arg))
        return SSL_TLSEXT_ERR_OK;
    *al = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int cmn_tls_check_sni(void *tls, cmn_tls_sni_check *chk)
{
    SSL_CTX *ctx = tls != NULL ? SSL_get_SSL_CTX((SSL *)tls) : NULL;

    if (ctx == NULL || chk == NULL || chk->fn == NULL)
        return CMN_EINVAL;
    SSL_CTX_set_tlsext_servername_arg(ctx, chk);
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    return 0;
}
