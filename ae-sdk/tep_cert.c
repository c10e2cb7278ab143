/* libtepae: certificate enrolment (TS-0003 8.3.6; docs/internals.md "Certificate
 * enrolment"). One MEF session does both exchanges, because the MEF issues a
 * certificate only to the enrolment of the session asking: POST /enrol (cei=true),
 * then POST /cert with a CSR made here. The session code is a small synchronous
 * libcoap client of its own (tep_glue.c keeps its connection type private). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>

#include "cmn_ca.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "tep_device.h"

#define CERT_PATH_MAX 4096

typedef enum { MEF_CONNECTING, MEF_UP, MEF_FAILED } mef_state;

typedef struct {
    coap_context_t *ctx;
    coap_session_t *session;
    mef_state state;
    int timeout_ms;
    /* the exchange in flight */
    bool waiting;
    uint8_t token[8];
    size_t token_len;
    unsigned code; /* class*100+detail */
    char *body;
    size_t body_len;
    int err;
    /* credentials handed to libcoap, wiped at the end */
    char identity[TEP_ID_MAX], sni[TEP_ID_MAX];
    uint8_t psk[CMN_KEY_LEN];
} mef_client;

/* ---- the session ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    mef_client *m = coap_session_get_app_data(session);

    if (m && event == COAP_EVENT_DTLS_CONNECTED)
        m->state = MEF_UP;
    else if (m && (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED))
        m->state = MEF_FAILED;
    return 0;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    mef_client *m = coap_session_get_app_data(session);
    coap_bin_const_t tok = coap_pdu_get_token(received);
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    int code = coap_pdu_get_code(received);

    if (!m || !m->waiting || tok.length != m->token_len || memcmp(tok.s, m->token, tok.length))
        return COAP_RESPONSE_OK;
    m->waiting = false;
    m->code = (unsigned)(code >> 5) * 100 + (unsigned)(code & 31);
    coap_get_data_large(received, &len, &data, &off, &total);
    m->body = calloc(1, len + 1);
    if (!m->body) {
        m->err = CMN_ENOMEM;
        return COAP_RESPONSE_OK;
    }
    if (len)
        memcpy(m->body, data, len);
    m->body_len = len;
    return COAP_RESPONSE_OK;
}

static int run_until(mef_client *m, bool handshake)
{
    int64_t deadline = now_ms() + m->timeout_ms;

    while (handshake ? m->state == MEF_CONNECTING : m->waiting) {
        int64_t left = deadline - now_ms();

        if (left <= 0)
            return CMN_ETIMEOUT;
        if (handshake == false && m->state == MEF_FAILED)
            return CMN_EDENIED;
        if (coap_io_process(m->ctx, (uint32_t)(left < 100 ? left : 100)) < 0)
            return CMN_ECOAP;
    }
    return handshake && m->state == MEF_FAILED ? CMN_EDENIED : 0;
}

static int resolve(const char *uri_str, coap_address_t *ret)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    char host[TEP_ID_MAX];
    coap_uri_t uri;
    int rc = CMN_ENOTFOUND;

    if (coap_split_uri((const uint8_t *)uri_str, strlen(uri_str), &uri) < 0 ||
        uri.scheme != COAP_URI_SCHEME_COAPS || uri.host.length == 0 ||
        uri.host.length >= sizeof(host))
        return CMN_EINVAL;
    memcpy(host, uri.host.s, uri.host.length);
    host[uri.host.length] = '\0';
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return CMN_ENOTFOUND;
    if (res->ai_addrlen <= sizeof(ret->addr)) {
        coap_address_init(ret);
        ret->size = res->ai_addrlen;
        memcpy(&ret->addr, res->ai_addr, res->ai_addrlen);
        coap_address_set_port(ret, uri.port);
        rc = 0;
    }
    freeaddrinfo(res);
    return rc;
}

static void mef_close(mef_client *m)
{
    if (m->ctx)
        coap_free_context(m->ctx); /* releases the session */
    free(m->body);
    cmn_wipe(m->psk, sizeof(m->psk));
    memset(m, 0, sizeof(*m));
}

static int mef_open(mef_client *m, const tep_device *dev)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};
    coap_address_t dst;
    int rc = resolve(dev->prov.mef_uri, &dst);

    if (rc != 0)
        return rc;
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
    if (!(m->ctx = coap_new_context(NULL)))
        return CMN_ECOAP;
    coap_context_set_block_mode(m->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(m->ctx, on_response);
    coap_register_event_handler(m->ctx, on_event);
    snprintf(m->identity, sizeof(m->identity), "%s", dev->prov.kpm_id);
    snprintf(m->sni, sizeof(m->sni), "%s", dev->prov.mef_fqdn);
    memcpy(m->psk, dev->prov.kpm, CMN_KEY_LEN);
    setup.client_sni = m->sni;
    setup.psk_info.identity.s = (const uint8_t *)m->identity;
    setup.psk_info.identity.length = strlen(m->identity);
    setup.psk_info.key.s = m->psk;
    setup.psk_info.key.length = CMN_KEY_LEN;
    m->session = coap_new_client_session_psk2(m->ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
    if (!m->session)
        return CMN_ECOAP;
    coap_session_set_app_data(m->session, m);
    return run_until(m, true);
}

/* POST path with a JSON body; the answer lands in m->code / m->body. */
static int mef_post(mef_client *m, const char *path, const char *json)
{
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, m->session);
    uint8_t cf[4];

    if (!pdu)
        return CMN_ENOMEM;
    free(m->body);
    m->body = NULL;
    m->err = 0;
    coap_session_new_token(m->session, &m->token_len, m->token);
    coap_add_token(pdu, m->token_len, m->token);
    coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(path), (const uint8_t *)path);
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(cf, sizeof(cf), CMN_CF_JSON), cf);
    coap_add_data_large_request(m->session, pdu, strlen(json), (const uint8_t *)json, NULL, NULL);
    m->waiting = true;
    if (coap_send(m->session, pdu) == COAP_INVALID_MID) {
        m->waiting = false;
        return CMN_ECOAP;
    }
    int rc = run_until(m, false);
    return rc ? rc : m->err;
}

/* ---- files ------------------------------------------------------------------------ */

int tep_device_cert_path(const tep_device *dev, const char *which, char *buf, size_t len)
{
    if (!dev || !which || !buf ||
        (strcmp(which, "key") && strcmp(which, "crt") && strcmp(which, "ca")))
        return CMN_EINVAL;
    if ((size_t)snprintf(buf, len, "%s.%s.pem", dev->state_path, which) >= len)
        return CMN_ERANGE;
    return 0;
}

/* Writes text to path, 0600, atomically (temporary file, fsync, rename). */
static int write_private(const char *path, const char *text)
{
    char tmp[CERT_PATH_MAX + 8];
    size_t len = strlen(text);
    int fd, rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return CMN_ERANGE;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return CMN_EIO;
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
        rc = CMN_EIO;
    if (close(fd) != 0)
        rc = CMN_EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = CMN_EIO;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static int save_pem(const tep_device *dev, const char *which, const char *pem)
{
    char path[CERT_PATH_MAX];
    int rc = tep_device_cert_path(dev, which, path, sizeof(path));

    return rc ? rc : write_private(path, pem);
}

/* ---- the certificate exchange ----------------------------------------------------- */

/* A fresh key and the CSR's request body {"csr": PEM}. key_pem (CMN_CA_PEM_MAX) gets
 * the key; the caller wipes it. */
static int make_request(const char *id, char *key_pem, char **ret_body)
{
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX];
    size_t klen = sizeof(key), clen = sizeof(csr);
    char csr_pem[CMN_CA_PEM_MAX];
    json_t *j = NULL;
    int rc = cmn_ca_key_new(key, &klen);

    if (rc == 0)
        rc = cmn_ca_make_csr(key, klen, id, csr, &clen);
    if (rc == 0)
        rc = cmn_ca_to_pem(key, klen, "EC PRIVATE KEY", key_pem, CMN_CA_PEM_MAX);
    if (rc == 0)
        rc = cmn_ca_to_pem(csr, clen, "CERTIFICATE REQUEST", csr_pem, sizeof(csr_pem));
    if (rc == 0 && !(j = json_pack("{s:s}", "csr", csr_pem)))
        rc = CMN_ENOMEM;
    if (rc == 0 && !(*ret_body = json_dumps(j, JSON_COMPACT)))
        rc = CMN_ENOMEM;
    json_decref(j);
    cmn_wipe(key, sizeof(key));
    return rc;
}

/* The certificate must chain to the trust anchor that came with it and name id. */
static int check_cert(const char *crt_pem, const char *ca_pem, const char *id)
{
    uint8_t crt[CMN_CA_CERT_DER_MAX], ca[CMN_CA_CERT_DER_MAX];
    size_t clen = sizeof(crt), alen = sizeof(ca);
    char want[CMN_CA_ID_MAX + 8];
    cmn_cert_info info;

    if (cmn_ca_from_pem(crt_pem, strlen(crt_pem), "CERTIFICATE", crt, &clen) != 0 ||
        cmn_ca_from_pem(ca_pem, strlen(ca_pem), "CERTIFICATE", ca, &alen) != 0 ||
        cmn_ca_cert_info(crt, clen, &info) != 0 || cmn_ca_san_uri(id, want, sizeof(want)) != 0)
        return CMN_EPROTO;
    if (strcmp(info.san_uri, want) != 0 || cmn_ca_verify(ca, alen, crt, clen) != 0)
        return CMN_EPROTO;
    return 0;
}

static int store_answer(const tep_device *dev, const mef_client *m, const char *id,
                        const char *key_pem)
{
    json_t *root = json_loadb(m->body, m->body_len, 0, NULL);
    const char *crt = json_string_value(json_object_get(root, "crt"));
    const char *ca = json_string_value(json_array_get(json_object_get(root, "tas"), 0));
    int rc = crt && ca ? check_cert(crt, ca, id) : CMN_EPROTO;

    if (rc == 0)
        rc = save_pem(dev, "key", key_pem);
    if (rc == 0)
        rc = save_pem(dev, "crt", crt);
    if (rc == 0)
        rc = save_pem(dev, "ca", ca);
    json_decref(root);
    return rc;
}

static int answer_error(unsigned code)
{
    if (code == 403)
        return CMN_EDENIED;
    return code == 201 ? 0 : CMN_EPROTO;
}

static int cert_exchange(const tep_device *dev, mef_client *m, const char *id)
{
    char key_pem[CMN_CA_PEM_MAX], *body = NULL;
    int rc = make_request(id, key_pem, &body);

    if (rc == 0)
        rc = mef_post(m, "cert", body);
    if (rc == 0)
        rc = answer_error(m->code);
    if (rc == 0)
        rc = store_answer(dev, m, id, key_pem);
    free(body);
    cmn_wipe(key_pem, sizeof(key_pem));
    return rc;
}

/* POST /enrol with cei=true; installs the new enrolment (the MEF has replaced the
 * previous one by now). */
static int enrol_exchange(tep_device *dev, mef_client *m)
{
    uint8_t exporter[CMN_EXPORTER_LEN];
    tep_enrolment *enr = calloc(1, sizeof(*enr));
    char *body = NULL;
    int rc = enr ? cmn_tls_export(m->session, CMN_LABEL_BOOTSTRAP, exporter, sizeof(exporter))
                 : CMN_ENOMEM;

    if (rc == 0)
        rc = tep_core_enrol_request(true, false, false, &body);
    if (rc == 0)
        rc = mef_post(m, "enrol", body);
    if (rc == 0)
        rc = answer_error(m->code);
    if (rc == 0)
        rc = tep_core_enrolment_complete(exporter, dev->prov.mef_fqdn, (const uint8_t *)m->body,
                                         m->body_len, enr);
    if (rc == 0) {
        enr->enrolled = (int64_t)time(NULL); /* as tep_enrol() records it */
        rc = tep_device_install(dev, enr);
    }
    free(body);
    cmn_wipe(exporter, sizeof(exporter));
    cmn_free_secret(enr, sizeof(*enr));
    return rc;
}

int tep_enrol_cert(tep_device *dev)
{
    return tep_enrol_cert_as(dev, NULL);
}

int tep_enrol_cert_as(tep_device *dev, const char *csr_id)
{
    mef_client m = {0};
    int rc;

    if (!dev || (csr_id && !csr_id[0]))
        return CMN_EINVAL;
    m.timeout_ms = dev->timeout_ms > 0 ? dev->timeout_ms : TEP_DEFAULT_TIMEOUT_MS;
    rc = mef_open(&m, dev);
    if (rc == 0)
        rc = enrol_exchange(dev, &m);
    if (rc == 0)
        rc = cert_exchange(dev, &m, csr_id ? csr_id : dev->enr.enrolee_id);
    mef_close(&m);
    return rc;
}
