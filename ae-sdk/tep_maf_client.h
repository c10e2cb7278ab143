/* libtepae internals: the small CoAPS client to the MAF (tep-authz) over DTLS-PSK with
 * the enrolment's KmID/Km (TS-0003 8.8 MAF Handshake, SUID 21), shared by the token
 * request (tep_token.c) and the MAF registrations (tep_maf.c). Defined in tep_token.c. */
#ifndef TEP_AE_MAF_CLIENT_H
#define TEP_AE_MAF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coap3/coap.h>

#include "cmn_kdf.h"
#include "tep_device.h"

typedef enum { MAF_CONNECTING, MAF_UP, MAF_FAILED } maf_state;

typedef struct {
    coap_context_t *ctx;
    coap_session_t *session;
    maf_state state;
    int timeout_ms;
    bool waiting;
    uint8_t token[8];
    size_t token_len;
    unsigned code; /* class*100+detail */
    char *body;
    int err;
    char identity[CMN_KEY_ID_MAX], sni[TEP_ID_MAX];
    uint8_t psk[CMN_KEY_LEN]; /* Km, wiped in maf_client_close */
} maf_client;

/* Km/KmID from the enrolment, DTLS-PSK handshake to maf_uri ("coaps://host:port"), SNI =
 * the MAF-ID. m must be zeroed with timeout_ms set; maf_client_close() it in any case. */
int maf_client_open(maf_client *m, const tep_device *dev, const char *maf_uri);
/* POST path with a JSON body; the answer's code and body (malloc'd) land in m. */
int maf_client_post(maf_client *m, const char *path, const char *json);
/* Frees the context (and session), the body; wipes Km. */
void maf_client_close(maf_client *m);

/* Defined in tep_glue.c: a connection to uri (coaps) with the given PSK credentials
 * (copied), SNI = the URI's host, bound to dev (requests default to From = its AE-ID).
 * One handshake, no retry. */
int tep_glue_connect_psk(tep_device *dev, const char *uri, const char *identity,
                         const uint8_t psk[CMN_KEY_LEN], tep_conn **ret_conn);

#endif
