/* ESCertKE end point: wolfSSL TLS 1.2 over memory buffers (cmn_escertke.h). */
#include "cmn_escertke.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_pki.h"

/* ECDHE_ECDSA only (TS-0003 10.2.3); the CBC-SHA256 suite is the mandatory one. */
#define ESCERTKE_SUITES "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256"

struct cmn_escertke {
    bool initiator;
    bool done;
    bool failed;
    int steps; /* messages taken in (initiator: its first step counts as 0) */
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    uint8_t *in; /* the message being read */
    size_t in_len, in_off;
    uint8_t *out; /* the message being written */
    size_t out_len;
    bool out_over;
};

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    cmn_escertke *k;
    size_t left;
    size_t n;

    (void)ssl;
    k = arg;
    left = k->in_len - k->in_off;
    if (left == 0)
        return WOLFSSL_CBIO_ERR_WANT_READ;
    n = (size_t)sz < left ? (size_t)sz : left;
    memcpy(buf, k->in + k->in_off, n);
    k->in_off += n;
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    cmn_escertke *k;
    uint8_t *p;

    (void)ssl;
    k = arg;
    if (sz <= 0)
        return 0;
    if (k->out_len + (size_t)sz > CMN_ESCERTKE_MSG_MAX) {
        k->out_over = true;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    p = realloc(k->out, k->out_len + (size_t)sz);
    if (p == NULL)
        return WOLFSSL_CBIO_ERR_GENERAL;
    k->out = p;
    memcpy(k->out + k->out_len, buf, (size_t)sz);
    k->out_len += (size_t)sz;
    return sz;
}

int cmn_escertke_new(bool initiator, const uint8_t *ca_der, size_t ca_len, const uint8_t *cert_der,
                     size_t cert_len, const uint8_t *key_der, size_t key_len, cmn_escertke **ret)
{
    cmn_escertke *k;
    int rc;

    if (ca_der == NULL || cert_der == NULL || key_der == NULL || ret == NULL || ca_len == 0 ||
        cert_len == 0 || key_len == 0 || ca_len > INT32_MAX || cert_len > INT32_MAX ||
        key_len > INT32_MAX)
        return CMN_EINVAL;
    *ret = NULL;
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        return CMN_ECRYPTO;
    k = calloc(1, sizeof *k);
    if (k == NULL)
        return CMN_ENOMEM;
    k->initiator = initiator;
    rc = CMN_ECRYPTO;
    k->ctx = wolfSSL_CTX_new(initiator ? wolfTLSv1_2_client_method() : wolfTLSv1_2_server_method());
    if (k->ctx == NULL)
        goto fail;
    if (wolfSSL_CTX_load_verify_buffer(k->ctx, ca_der, (long)ca_len, WOLFSSL_FILETYPE_ASN1) !=
            WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_certificate_buffer(k->ctx, cert_der, (long)cert_len,
                                           WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_buffer(k->ctx, key_der, (long)key_len, WOLFSSL_FILETYPE_ASN1) !=
            WOLFSSL_SUCCESS) {
        rc = CMN_EINVAL;
        goto fail;
    }
    if (wolfSSL_CTX_set_cipher_list(k->ctx, ESCERTKE_SUITES) != WOLFSSL_SUCCESS)
        goto fail;
    wolfSSL_CTX_set_verify(k->ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    k->ssl = wolfSSL_new(k->ctx);
    if (k->ssl == NULL)
        goto fail;
    wolfSSL_SSLSetIORecv(k->ssl, io_recv);
    wolfSSL_SSLSetIOSend(k->ssl, io_send);
    wolfSSL_SetIOReadCtx(k->ssl, k);
    wolfSSL_SetIOWriteCtx(k->ssl, k);
    *ret = k;
    return 0;
fail:
    cmn_escertke_free(k);
    return rc;
}

void cmn_escertke_free(cmn_escertke *k)
{
    if (k == NULL)
        return;
    if (k->ssl != NULL)
        wolfSSL_free(k->ssl);
    if (k->ctx != NULL)
        wolfSSL_CTX_free(k->ctx);
    if (k->out != NULL) {
        cmn_wipe(k->out, k->out_len);
        free(k->out);
    }
    free(k);
}

int cmn_escertke_step(cmn_escertke *k, const uint8_t *in, size_t in_len, uint8_t **ret_out,
                      size_t *ret_len, bool *ret_done)
{
    bool want_in;
    int ssl_rc;
    int ssl_err;
    bool consumed;
    int rc;

    if (k == NULL || ret_out == NULL || ret_len == NULL || ret_done == NULL)
        return CMN_EINVAL;
    *ret_out = NULL;
    *ret_len = 0;
    *ret_done = k->done;
    if (k->failed || k->done)
        return CMN_ESTATE;
    /* The initiator's steps take nothing, message 2, message 4; the terminator's take
     * message 1, message 3. */
    want_in = !(k->initiator && k->steps == 0);
    if (want_in != (in != NULL && in_len > 0) || in_len > CMN_ESCERTKE_MSG_MAX) {
        k->failed = true;
        return in_len > CMN_ESCERTKE_MSG_MAX ? CMN_ERANGE : CMN_EPROTO;
    }
    k->in = (uint8_t *)in;
    k->in_len = in_len;
    k->in_off = 0;
    k->out = NULL;
    k->out_len = 0;
    k->out_over = false;
    ssl_rc = k->initiator ? wolfSSL_connect(k->ssl) : wolfSSL_accept(k->ssl);
    ssl_err = ssl_rc == WOLFSSL_SUCCESS ? 0 : wolfSSL_get_error(k->ssl, ssl_rc);
    consumed = k->in_off == k->in_len;
    k->in = NULL;
    k->steps++;
    rc = 0;
    if (ssl_rc == WOLFSSL_SUCCESS) {
        k->done = true;
        /* Done with bytes left over: something was appended to the last message. */
        if (!consumed)
            rc = CMN_EPROTO;
    } else if (ssl_err == WOLFSSL_ERROR_WANT_READ) {
        /* Waiting for the peer: this step must have used all it got and have
         * something to send (a message holds whole records, and every message but
         * the last one is answered). */
        if (!consumed || k->out_len == 0)
            rc = CMN_EPROTO;
    } else {
        rc = k->out_over ? CMN_ERANGE : CMN_EDENIED;
    }
    if (rc == 0 && k->steps > 3)
        rc = CMN_EPROTO;
    if (rc != 0) {
        k->failed = true;
        k->done = false;
        if (k->out != NULL) {
            cmn_wipe(k->out, k->out_len);
            free(k->out);
        }
        k->out = NULL;
        k->out_len = 0;
        return rc;
    }
    *ret_out = k->out;
    *ret_len = k->out_len;
    *ret_done = k->done;
    k->out = NULL;
    k->out_len = 0;
    return 0;
}

int cmn_escertke_peer_cert(const cmn_escertke *k, cmn_cert_info *info, const char **ret_id)
{
    WOLFSSL_X509 *x;
    int len;
    const unsigned char *der;
    int rc;

    if (k == NULL || info == NULL || ret_id == NULL)
        return CMN_EINVAL;
    if (!k->done)
        return CMN_ESTATE;
    x = wolfSSL_get_peer_certificate(k->ssl);
    if (x == NULL)
        return CMN_ENOTFOUND;
    len = 0;
    der = wolfSSL_X509_get_der(x, &len);
    rc = der != NULL && len > 0 ? cmn_pki_peer_id(der, (size_t)len, info, ret_id) : CMN_EINVAL;
    wolfSSL_X509_free(x);
    return rc;
}

int cmn_escertke_peer_id(const cmn_escertke *k, char *ret, size_t retlen)
{
    cmn_cert_info info;
    const char *id = NULL;
    int rc;
    size_t n;

    if (ret == NULL || retlen == 0)
        return CMN_EINVAL;
    rc = cmn_escertke_peer_cert(k, &info, &id);
    if (rc != 0)
        return rc;
    n = strlen(id);
    if (n >= retlen)
        return CMN_ERANGE;
    memcpy(ret, id, n + 1);
    return 0;
}

int cmn_escertke_export(cmn_escertke *k, uint8_t ret_exporter[CMN_EXPORTER_LEN])
{
    if (k == NULL || ret_exporter == NULL)
        return CMN_EINVAL;
    if (!k->done)
        return CMN_ESTATE;
    if (wolfSSL_export_keying_material(k->ssl, ret_exporter, CMN_EXPORTER_LEN, CMN_LABEL_ESCERTKE,
                                       strlen(CMN_LABEL_ESCERTKE), NULL, 0, 0) != WOLFSSL_SUCCESS)
        return CMN_ECRYPTO;
    return 0;
}

int cmn_escertke_key(cmn_escertke *k, uint8_t ret_key_id[CMN_REL_ID_LEN],
                     uint8_t ret_key[CMN_KEY_LEN])
{
    uint8_t ex[CMN_EXPORTER_LEN];
    int rc = cmn_escertke_export(k, ex);
    if (rc == 0)
        cmn_kdf_split_exporter(ex, ret_key_id, ret_key);
    cmn_wipe(ex, sizeof ex);
    return rc;
}

int cmn_escertke_secrets(cmn_escertke *k, uint8_t ret_master[48], uint8_t ret_client_random[32],
                         uint8_t ret_server_random[32])
{
    WOLFSSL_SESSION *s;

    if (k == NULL || ret_master == NULL || ret_client_random == NULL || ret_server_random == NULL)
        return CMN_EINVAL;
    if (!k->done)
        return CMN_ESTATE;
    s = wolfSSL_get_session(k->ssl);
    if (s == NULL || wolfSSL_SESSION_get_master_key(s, ret_master, 48) != 48 ||
        wolfSSL_get_client_random(k->ssl, ret_client_random, 32) != 32 ||
        wolfSSL_get_server_random(k->ssl, ret_server_random, 32) != 32)
        return CMN_ECRYPTO;
    return 0;
}

char *cmn_escertke_seci(const uint8_t *msg, size_t len)
{
    word32 blen;
    char *b64;
    char *ret;

    if (msg == NULL || len == 0 || len > CMN_ESCERTKE_MSG_MAX)
        return NULL;
    blen = (word32)(4 * ((len + 2) / 3) + 1);
    b64 = malloc(blen);
    ret = NULL;
    if (b64 != NULL && Base64_Encode_NoNl(msg, (word32)len, (byte *)b64, &blen) == 0) {
        json_t *o;

        b64[blen] = '\0';
        o = json_pack("{s:{s:i,s:s}}", "m2m:seci", "sit", CMN_ESCERTKE_SIT, "eckm", b64);
        ret = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    free(b64);
    return ret;
}

int cmn_escertke_eckm(json_t *seci, uint8_t **ret, size_t *ret_len)
{
    const char *b64;
    size_t n;
    word32 out;
    uint8_t *m;

    if (ret == NULL || ret_len == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    *ret_len = 0;
    b64 = json_string_value(json_object_get(seci, "eckm"));
    if (json_integer_value(json_object_get(seci, "sit")) != CMN_ESCERTKE_SIT || b64 == NULL)
        return CMN_EINVAL;
    n = strlen(b64);
    if (n == 0 || n > 4 * ((CMN_ESCERTKE_MSG_MAX + 2) / 3))
        return CMN_EINVAL;
    out = (word32)n;
    m = malloc(n);
    if (m == NULL)
        return CMN_ENOMEM;
    if (Base64_Decode((const byte *)b64, (word32)n, m, &out) != 0 || out == 0) {
        free(m);
        return CMN_EINVAL;
    }
    *ret = m;
    *ret_len = out;
    return 0;
}
