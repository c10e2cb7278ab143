/* Dynamic authorization, indirect flow (TS-0003 7.3.2.3): the AE asks the MAF/DAS
 * (tep-authz) for a token over DTLS-PSK with its Km (psk_identity KmID, SUID 21; both
 * derived from Ke and the MAF-ID of the enrolment, TS-0003 10.3), POST /token with the
 * JSON of docs/internals.md "Dynamic authorization". Like tep_cert.c it has a small
 * libcoap client of its own (tep_glue.c keeps its connection type private). */
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <coap3/coap.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "tep_device.h"
#include "tep_maf_client.h"


static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    maf_client *m = coap_session_get_app_data(session);

    if (m && event == COAP_EVENT_DTLS_CONNECTED)
        m->state = MAF_UP;
    else if (m && (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED))
        m->state = MAF_FAILED;
    return 0;
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    maf_client *m = coap_session_get_app_data(session);
    coap_bin_const_t tok = coap_pdu_get_token(received);
    const uint8_t *data = NULL;
    size_t len = 0, off = 0, total = 0;
    int code = coap_pdu_get_code(received);

    (void)sent;
    (void)mid;
    if (!m || !m->waiting || tok.length != m->token_len || memcmp(tok.s, m->token, tok.length))
        return COAP_RESPONSE_OK;
    m->waiting = false;
    m->code = (unsigned)(code >> 5) * 100 + (unsigned)(code & 31);
    coap_get_data_large(received, &len, &data, &off, &total);
    if ((m->body = calloc(1, len + 1)) == NULL)
        m->err = CMN_ENOMEM;
    else if (len)
        memcpy(m->body, data, len);
    return COAP_RESPONSE_OK;
}

static int run_until(maf_client *m, bool handshake)
{
    int64_t deadline = now_ms() + m->timeout_ms;

    while (handshake ? m->state == MAF_CONNECTING : m->waiting) {
        int64_t left = deadline - now_ms();

        if (left <= 0)
            return CMN_ETIMEOUT;
        if (!handshake && m->state == MAF_FAILED)
            return CMN_EDENIED;
        if (coap_io_process(m->ctx, (uint32_t)(left < 100 ? left : 100)) < 0)
            return CMN_ECOAP;
    }
    return handshake && m->state == MAF_FAILED ? CMN_EDENIED : 0;
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

void maf_client_close(maf_client *m)
{
    if (m->ctx)
        coap_free_context(m->ctx); /* releases the session */
    free(m->body);
    cmn_wipe(m->psk, sizeof(m->psk));
    memset(m, 0, sizeof(*m));
}

/* Km = HMAC(Ke, label || MAF-ID); KmID from Km (cmn_kdf.h). */
static int maf_credentials(const tep_device *dev, maf_client *m)
{
    int rc = cmn_kdf_km(dev->enr.ke, dev->enr.maf_id, m->psk);

    if (rc == 0)
        rc = cmn_kdf_km_id(m->psk, dev->enr.maf_id, m->identity, sizeof(m->identity));
    snprintf(m->sni, sizeof(m->sni), "%s", dev->enr.maf_id);
    return rc;
}

int maf_client_open(maf_client *m, const tep_device *dev, const char *maf_uri)
{
    coap_dtls_cpsk_t setup = {.version = COAP_DTLS_CPSK_SETUP_VERSION};
    coap_address_t dst;
    int rc = resolve(maf_uri, &dst);

    if (rc != 0 || (rc = maf_credentials(dev, m)) != 0)
        return rc;
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
    if (!(m->ctx = coap_new_context(NULL)))
        return CMN_ECOAP;
    coap_context_set_block_mode(m->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(m->ctx, on_response);
    coap_register_event_handler(m->ctx, on_event);
    setup.client_sni = m->sni;
    setup.psk_info.identity = (coap_bin_const_t){strlen(m->identity), (uint8_t *)m->identity};
    setup.psk_info.key = (coap_bin_const_t){CMN_KEY_LEN, m->psk};
    m->session = coap_new_client_session_psk2(m->ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
    if (!m->session)
        return CMN_ECOAP;
    coap_session_set_app_data(m->session, m);
    return run_until(m, true);
}

int maf_client_post(maf_client *m, const char *path, const char *json)
{
    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, m->session);
    uint8_t cf[4];
    int rc;

    if (!pdu)
        return CMN_ENOMEM;
    coap_session_new_token(m->session, &m->token_len, m->token);
    coap_add_token(pdu, m->token_len, m->token);
    for (const char *seg = path, *end; *seg != '\0'; seg = *end ? end + 1 : end) {
        end = strchr(seg, '/'); /* one Uri-Path option per segment */
        if (end == NULL)
            end = seg + strlen(seg);
        coap_add_option(pdu, COAP_OPTION_URI_PATH, (size_t)(end - seg), (const uint8_t *)seg);
    }
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(cf, sizeof(cf), CMN_CF_JSON), cf);
    coap_add_data_large_request(m->session, pdu, strlen(json), (const uint8_t *)json, NULL, NULL);
    m->waiting = true;
    if (coap_send(m->session, pdu) == COAP_INVALID_MID) {
        m->waiting = false;
        return CMN_ECOAP;
    }
    rc = run_until(m, false);
    return rc ? rc : m->err;
}

/* ---- the request and its answer ------------------------------------------------------ */

static char *ask_body(const tep_device *dev, const char *const *ris, size_t n_ris,
                      unsigned acop, int64_t lifetime)
{
    json_t *list = json_array(), *o;
    char *s = NULL;

    for (size_t i = 0; list != NULL && i < n_ris; i++)
        json_array_append_new(list, json_string(ris[i]));
    o = json_pack("{s:s,s:o,s:i}", "aud", dev->enr.registrar_cse_id, "ris", list, "acop",
                  (json_int_t)acop);
    if (o != NULL && lifetime > 0)
        json_object_set_new(o, "lt", json_integer(lifetime));
    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *dup_member(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL ? strdup(v) : NULL;
}

static int parse_answer(const maf_client *m, tep_token **ret)
{
    json_t *o;
    tep_token *t;

    if (m->code == 403 || m->code == 401)
        return CMN_EDENIED;
    if (m->code == 400)
        return CMN_EINVAL;
    if (m->code != 201 || (o = json_loads(m->body, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return CMN_EPROTO;
    t = calloc(1, sizeof(*t));
    if (t != NULL) {
        t->id = dup_member(o, "tkid");
        t->jws = dup_member(o, "tkn");
        t->holder = dup_member(o, "azp");
        t->expires = json_integer_value(json_object_get(o, "exp"));
    }
    json_decref(o);
    if (t == NULL || t->id == NULL || t->jws == NULL || t->holder == NULL || t->expires <= 0) {
        tep_token_free(t);
        return t == NULL ? CMN_ENOMEM : CMN_EPROTO;
    }
    *ret = t;
    return 0;
}

int tep_token_request(tep_device *dev, const char *maf_uri, const char *const *ris,
                      size_t n_ris, unsigned acop, int64_t lifetime, tep_token **ret_token)
{
    maf_client m = {.timeout_ms = TEP_DEFAULT_TIMEOUT_MS};
    char *body = NULL;
    int rc;

    if (ret_token != NULL)
        *ret_token = NULL;
    if (!dev || !maf_uri || !ris || n_ris == 0 || acop == 0 || acop > 63 || !ret_token)
        return CMN_EINVAL;
    if (!dev->enrolled || dev->enr.maf_id[0] == '\0')
        return CMN_ESTATE;
    if (dev->enr.expires != 0 && dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    m.timeout_ms = dev->timeout_ms > 0 ? dev->timeout_ms : TEP_DEFAULT_TIMEOUT_MS;
    if ((body = ask_body(dev, ris, n_ris, acop, lifetime)) == NULL)
        return CMN_ENOMEM;
    rc = maf_client_open(&m, dev, maf_uri);
    if (rc == 0)
        rc = maf_client_post(&m, "token", body);
    if (rc == 0)
        rc = parse_answer(&m, ret_token);
    maf_client_close(&m);
    free(body);
    return rc;
}

void tep_token_free(tep_token *t)
{
    if (t == NULL)
        return;
    free(t->id);
    if (t->jws != NULL)
        cmn_free_secret(t->jws, strlen(t->jws)); /* a bearer credential of sorts */
    free(t->holder);
    free(t);
}
