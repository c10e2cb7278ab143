/* libtepae internals: the one synchronous CoAP(S) client of the SDK (tae_client.c).
 * One libcoap context per connection, driven by coap_io_process() until the awaited
 * event (handshake done, response received) or the deadline. Used by the CSE and MEF
 * connections of tep_glue.c, certificate enrolment (tep_cert.c) and the MAF client
 * (tep_token.c). Not part of the public API. */
#ifndef TAE_CLIENT_H
#define TAE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>

#include "cmn_kdf.h"
#include "tae_device.h"

typedef enum { CONN_CONNECTING, CONN_UP, CONN_FAILED } conn_state;

/* tae_client_open() flags. TAE_CLIENT_NACK_ENDS_WAIT: a NACK (retransmissions exhausted,
 * TLS failure) ends the request at once with CMN_ETIMEOUT or CMN_EDENIED (the CSE and MEF
 * connections of tep_glue.c). Without it only an answer, the deadline or a DTLS failure
 * ends the wait (the certificate enrolment and MAF clients, as they always did). */
#define TAE_CLIENT_NACK_ENDS_WAIT 1u

/* The largest answer body a connection reassembles from Block2 blocks (RFC 7959; patches/
 * README.md item 9): a Size2 above it, or blocks past it, end the request at once with
 * CMN_ERANGE, whatever the flags (a server, or anyone answering for it over plain CoAP,
 * cannot grow the device without end). */
#define TAE_ANSWER_MAX (1024 * 1024)

struct tep_conn {
    coap_context_t *ctx;
    coap_session_t *session;
    tep_device *dev;  /* borrowed; NULL for plain, MEF and MAF connections */
    char *originator; /* default From, NULL for none (set by tep_glue.c) */
    int timeout_ms;
    unsigned flags; /* TAE_CLIENT_* */
    conn_state state;
    int fail_err; /* why the session failed (CMN_EDENIED) */
    /* the exchange in flight */
    bool waiting;
    uint8_t token[8];
    size_t token_len;
    tep_response *rsp;
    int rsp_err;
    /* credentials given to libcoap, kept for the session's life, wiped at free */
    char sni[TAE_ID_MAX];
    char identity[CMN_KEY_ID_MAX];
    uint8_t psk[CMN_KEY_LEN];
    char peer_id[TAE_ID_MAX]; /* certificate SAEF: the identifier the peer's SAN must name */
};

/* DTLS-PSK credentials, all borrowed (tae_client_open() copies them). */
typedef struct {
    const char *identity;
    const uint8_t *psk; /* CMN_KEY_LEN bytes */
    const char *sni;
} tae_psk_creds;

/* Certificate (ECDHE-ECDSA) credentials, all borrowed: PEM files, and the identifier
 * the server's certificate must carry as subjectAltName "onem2m:<peer_id>". */
typedef struct {
    const char *cert_file;
    const char *key_file;
    const char *ca_file; /* trust anchor the server's chain must end at */
    const char *peer_id;
    const char *sni;
} tae_pki_creds;

/* One request. */
typedef struct {
    coap_pdu_code_t code;
    const char *path; /* Uri-Path segments separated by '/' */
    const char *body; /* NULL: no payload; else JSON (Content-Format) */
    const char *from; /* NULL: no From */
    unsigned ty;      /* 0: no TY */
    bool onem2m;      /* add RQI and RVI; check the echoed RQI */
} tae_exchange;

/* A connection to uri: coap:// when creds is NULL, else coaps:// with DTLS-PSK (the
 * handshake is done before it returns). timeout_ms <= 0: TEP_DEFAULT_TIMEOUT_MS, for
 * the handshake and for each request. CMN_EINVAL (bad URI or scheme), CMN_ENOTFOUND,
 * CMN_ERANGE, CMN_ETIMEOUT, CMN_EDENIED (handshake refused), CMN_ECOAP, CMN_ENOMEM.
 * Release with tep_conn_free() (wipes the credentials). */
int tae_client_open(const char *uri, const tae_psk_creds *creds, int timeout_ms, unsigned flags,
                    tep_conn **ret_conn);

/* The same over the certificate SAEF (TS-0003 8.2.2.2): coaps:// with creds, the
 * server's certificate checked to creds->ca_file and its SAN to creds->peer_id
 * (CMN_EDENIED otherwise). Errors as tae_client_open(). */
int tae_client_open_pki(const char *uri, const tae_pki_creds *creds, int timeout_ms, unsigned flags,
                        tep_conn **ret_conn);

/* libcoap's start-up and silenced log, once per process (any thread). */
void tae_client_startup(void);

/* Sends ex and waits for its answer (owned by the caller). CMN_ESTATE when the
 * connection is not up or busy, CMN_ETIMEOUT, CMN_EDENIED (the session died),
 * CMN_EPROTO (RQI mismatch, oneM2M exchanges only). */
int tae_client_exchange(tep_conn *conn, const tae_exchange *ex, tep_response **ret_rsp);

/* POST path with a JSON body, no oneM2M options. */
int tae_client_post(tep_conn *conn, const char *path, const char *json, tep_response **ret_rsp);

#endif
