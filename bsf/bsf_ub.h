/* The Ub interface of tep-bsf (3GPP TS 33.220 4.5.2, TS 24.109 4.4): HTTP Digest AKA
 * (RFC 3310) over libmicrohttpd in the daemon's own poll loop. A device names its IMPI,
 * gets 401 with nonce = base64(RAND || AUTN), answers with RES as the Digest password
 * (or AUTS when its SQN check fails: re-synchronisation, then a fresh challenge), and
 * receives 200 with its B-TID and the key lifetime. */
#ifndef TEP_BSF_UB_H
#define TEP_BSF_UB_H

#include <stdint.h>

#include "bsf_config.h"
#include "cmn_store.h"

typedef struct {
    uint64_t challenges; /* 401 with a fresh AKA challenge */
    uint64_t bootstraps; /* 200: B-TID issued */
    uint64_t refused;    /* 403: wrong RES, bad AUTS, unknown IMPI */
    uint64_t resyncs;    /* verified AUTS */
} bsf_ub_stats;

/* What one Ub request gets (the I/O-free part, tested without HTTP). */
typedef struct {
    unsigned status;            /* 200, 400, 401, 403, 405, 500 */
    char www_authenticate[512]; /* with 401 */
    char body[1024];            /* 200: BootstrappingInfo XML; otherwise a short reason */
    const char *content_type;
} bsf_ub_answer;

typedef struct bsf_ub bsf_ub;

/* cfg and store are borrowed and must outlive it. listen: bind cfg->ub_listen now
 * (false: the logic only, for tests). */
int bsf_ub_new(const bsf_config *cfg, cmn_store *store, bool listen, bsf_ub **ret);
void bsf_ub_free(bsf_ub *u); /* NULL is fine; wipes pending challenges */
/* One request: method, url (path), the Authorization header value (NULL: absent). */
void bsf_ub_handle(bsf_ub *u, const char *method, const char *url, const char *authorization,
                   int64_t now, bsf_ub_answer *ret);
/* The poll loop: an fd to poll for POLLIN, the longest wait (ms, -1 none), then process. */
int bsf_ub_fd(bsf_ub *u);
int bsf_ub_timeout_ms(bsf_ub *u);
void bsf_ub_process(bsf_ub *u);
const bsf_ub_stats *bsf_ub_get_stats(const bsf_ub *u);

#endif
