/* ESPrim, the Receiver's core (TS-0003 8.4.2 C.6-C.8; TS-0004 7.6.2, 7.5.1.2.11), shared
 * by tep-cse as the Target (cse-node/cse_esprim.c) and libtepae's AE receiver
 * (ae-sdk/tep_esprim_rx.c): the checks of a protected primitive from its kid to its
 * verified, fresh plaintext, the sealing of the inner response, the receiver rand
 * object's JSON and the refusal's body. What differs between the two stays with them,
 * reached through cmn_esprim_rx_ops: where a kid's pairwiseESPrimKey comes from, how
 * receiver and originator rand objects and the replay memory are kept, how the JWE is
 * decoded (tep-cse checks alg and enc first) and what the inner request becomes.
 * Refusals are the RSCs of TS-0004 Table 7.6.2-1 (below; 4000 for a malformed header),
 * each with a reason (docs/internals.md "ESPrim", Refusals). */
#ifndef TEP_CMN_ESPRIM_RX_H
#define TEP_CMN_ESPRIM_RX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_e2e.h"
#include "cmn_jose.h"
#include "cmn_kdf.h"

#define CMN_ESPRIM_KEYGEN_HMAC 1 /* esprimKeyGenAlgID HMAC-SHA256 */
#define CMN_ESPRIM_CTY_RSP "application/vnd.onem2m-prsp+json"

/* TS-0004 Table 7.6.2-1 */
enum {
    CMN_RSC_ESPRIM_UNSUPPORTED_OPTION = 4111,
    CMN_RSC_ESPRIM_UNKNOWN_KEY_ID = 4112,
    CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID = 4113,
    CMN_RSC_ESPRIM_UNKNOWN_RECV_RAND_ID = 4114,
    CMN_RSC_ESPRIM_BAD_MAC = 4115,
    CMN_RSC_ESPRIM_IMPERSONATION = 4116,
    CMN_RSC_ESPRIM_DECRYPTION_ERROR = 5210,
    CMN_RSC_ESPRIM_ENCRYPTION_ERROR = 5211,
};

/* An originator rand object as the receiver records it, under the kid it came with. */
typedef struct {
    char kid[CMN_KEY_ID_MAX];
    char id[64];
    uint8_t v[CMN_E2E_RAND_LEN];
    int64_t exp;
    unsigned espa; /* bit (id - 10) for each esprimProtocolAndAlgID */
} cmn_esprim_orig;

typedef struct cmn_esprim_rx cmn_esprim_rx;

/* The receiver's own parts; each gets the exchange (rx->arg: the caller's). */
typedef struct {
    /* The pairwiseESPrimKey of rx->kid into ret: 0, or the RSC with rx->why set. */
    unsigned (*pairwise)(cmn_esprim_rx *rx, uint8_t ret[CMN_KEY_LEN]);
    /* The live receiver rand object this receiver gave under id (not NULL): 0 with its
     * value and expiry, or not 0 when there is none. */
    int (*recv_rand)(cmn_esprim_rx *rx, const char *id, uint8_t ret_v[CMN_E2E_RAND_LEN],
                     int64_t *ret_exp);
    /* The live originator rand object recorded under kid and id, NULL when none. */
    const cmn_esprim_orig *(*orig_rand)(cmn_esprim_rx *rx, const char *kid, const char *id);
    /* Was an object with this tag answered already (and is it still remembered)? */
    bool (*seen)(cmn_esprim_rx *rx, const uint8_t tag[CMN_JWE_TAG_LEN]);
} cmn_esprim_rx_ops;

/* One exchange: the caller sets ops, arg, now and jwe (the decoded object), then
 * cmn_esprim_rx_open fills in the rest. */
struct cmn_esprim_rx {
    const cmn_esprim_rx_ops *ops;
    void *arg;
    int64_t now;
    cmn_jwe *jwe;                      /* owned: cmn_esprim_rx_clear frees it */
    const char *kid, *ori, *rri, *enc; /* of its protected header */
    uint8_t rr[CMN_E2E_RAND_LEN];      /* the receiver rand object named by rri */
    int64_t rr_exp;
    cmn_esprim_orig oro; /* the originator's rand object in use */
    bool oro_new;        /* sent in this object (oro): to record once it is answered */
    uint8_t session[CMN_KEY_LEN];
    const char *why; /* the reason of a refusal (a static string) */
};

/* C.6 on the decoded rx->jwe: kid (4000 without), its pairwise key (ops->pairwise), the
 * receiver rand object of rri (4114), the originator's from oro (4000 malformed; 4113
 * expired or outliving the receiver's; 4111 esk or espa not supported) or recorded under
 * ori (4000 without ori; 4113 unknown), enc among its espa (4111), the sessionESPrimKey
 * (5210), decryption (4115 tag check failed, 5210), replay (4113). 0 with the plaintext
 * (*ret_pt, len + 1 bytes: cmn_free_secret it), or the RSC with rx->why set (and *ret_pt
 * NULL). */
unsigned cmn_esprim_rx_open(cmn_esprim_rx *rx, uint8_t **ret_pt, size_t *ret_len);

/* C.8: the response primitive prim (not changed) as an ESPrim object under the same
 * session key and enc, header kid, ori, rri, cty: *ret_epo (the compact JWE; caller
 * frees). 0, or an error (the caller answers 5211). */
int cmn_esprim_rx_seal(const cmn_esprim_rx *rx, const json_t *prim, char **ret_epo);

/* Wipes the session key and frees the JWE (rx->jwe NULL after). */
void cmn_esprim_rx_clear(cmn_esprim_rx *rx);

/* The esprimProtocolAndAlgID of an enc (10, 11, 12: A128/A192/A256GCM), 0 for others. */
int cmn_esprim_espa_of(const char *enc);

/* A receiverESPrimRandObject (TS-0004 7.5.1.2.11) as JSON: {esri, esrv, esrx, esks [1],
 * espa [10, 11, 12]}; a new object, NULL without memory. */
json_t *cmn_esprim_rand_json(const char *id, const uint8_t v[CMN_E2E_RAND_LEN], int64_t exp);

/* The body of a refusal: {"m2m:dbg": "ESPrim: <why>"}; a new object, NULL without memory. */
json_t *cmn_esprim_dbg(const char *why);

#endif
