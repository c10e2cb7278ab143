/* libtepae internals: the small CoAPS client to the MAF (tep-authz) over DTLS-PSK with
 * the enrolment's KmID/Km (TS-0003 8.8 MAF Handshake, SUID 21), shared by the token
 * request (tep_token.c) and the MAF registrations (tep_maf.c). Defined in tep_token.c. */
#ifndef TAE_MAF_CLIENT_H
#define TAE_MAF_CLIENT_H

#include "cmn_kdf.h"
#include "tae_client.h"
#include "tae_device.h"

typedef struct {
    tep_conn *conn;                /* the Km session (tae_client.c) */
    tep_response *rsp;             /* the last answer, NULL before the first */
    char identity[CMN_KEY_ID_MAX]; /* KmID */
} tae_maf_client;

/* Km/KmID from the enrolment, DTLS-PSK handshake to maf_uri ("coaps://host:port"), SNI =
 * the MAF-ID, timeout that of dev. m must be zeroed; tae_maf_client_close() it in any case. */
int tae_maf_client_open(tae_maf_client *m, const tep_device *dev, const char *maf_uri);
/* POST path with a JSON body; the answer replaces m->rsp. */
int tae_maf_client_post(tae_maf_client *m, const char *path, const char *json);
/* Closes the session (wiping Km), frees the answer. */
void tae_maf_client_close(tae_maf_client *m);

/* Defined in tep_glue.c: a connection to uri (coaps) with the given PSK credentials
 * (copied), SNI = the URI's host, bound to dev (requests default to From = its AE-ID).
 * One handshake, no retry. */
int tae_glue_connect_psk(tep_device *dev, const char *uri, const char *identity,
                         const uint8_t psk[CMN_KEY_LEN], tep_conn **ret_conn);

/* Defined in tep_glue.c: tae_client_open() to uri, retried briefly while dev's
 * enrolment is fresh and the handshake is refused (the peer may not yet have the key
 * derived from it: it learns keys through the enroller's event stream). */
int tae_glue_open_fresh(const tep_device *dev, const char *uri, const tae_psk_creds *creds,
                        unsigned flags, tep_conn **ret_conn);

/* Defined in tep_maf.c: a key for one target as a tep_kc (copied; the MEF's
 * usage-constrained keys, tep_mef.c, use the same object and tep_connect_kc()). */
int tae_kc_new(const char *key_id, const uint8_t key[CMN_KEY_LEN], int64_t expires,
               const char *reg_id, unsigned suid, const char *target, tep_kc **ret);
unsigned tae_kc_suid(const tep_kc *kc);
void tae_kc_set_expires(tep_kc *kc, int64_t expires);
const char *tae_kc_target(const tep_kc *kc);

/* Defined in tep_maf.c: the psk_identity and key of a connection key (a SAEF Kc, SUID
 * 32, or a MEF Kuc, 22..25), borrowed from kc. CMN_EINVAL for an end-to-end key. */
int tae_kc_psk(const tep_kc *kc, const char **ret_id, const uint8_t **ret_key);

#endif
