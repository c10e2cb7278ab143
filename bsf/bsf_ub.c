/* tep-bsf's Ub interface: the HTTP Digest AKA state machine and its libmicrohttpd glue. */
#include "bsf_ub.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "bsf_db.h"
#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_digest.h"
#include "cmn_err.h"
#include "cmn_gba.h"
#include "cmn_log.h"

#define ALGORITHM "AKAv1-MD5"
#define QOP "auth-int"
#define XML_TYPE "application/vnd.3gpp.bsf+xml"
/* Challenges waiting for one IMPI (then its own oldest is replaced), and HTTP
 * connections from one IP address (of the 128 in all; a slow client holds one for up to
 * the 10 s connection timeout). */
#define BSF_PENDING_PER_IMPI 4
#define BSF_UB_CONN_PER_IP 32

/* A challenge sent (401) and not yet answered. Single use. phantom: for an IMPI tep-bsf
 * holds no subscriber of, made with a random K and OPc so that it looks like any other
 * and can never be answered (no subscriber enumeration). */
typedef struct {
    bool used, phantom;
    int64_t expires;
    uint64_t sqn; /* the SQN its AUTN carries, committed only once its RES is verified */
    char nonce[CMN_GBA_NONCE_B64_LEN + 1];
    char impi[CMN_GBA_IMPI_MAX + 1];
    uint8_t rand[CMN_MIL_RAND_LEN];
    uint8_t xres[CMN_MIL_RES_LEN];
    uint8_t ck[CMN_MIL_CK_LEN], ik[CMN_MIL_CK_LEN];
} pending;

struct bsf_ub {
    const bsf_config *cfg;
    cmn_store *store;
    struct MHD_Daemon *mhd;
    pending *p;
    size_t np;
    bsf_ub_stats st;
};

static void clear(pending *c)
{
    cmn_wipe(c, sizeof(*c));
}

/* A free slot, or the one closest to expiry (the oldest challenge is dropped). */
static pending *slot(bsf_ub *u, int64_t now)
{
    pending *best = &u->p[0];

    for (size_t i = 0; i < u->np; i++) {
        if (!u->p[i].used || u->p[i].expires <= now)
            return &u->p[i];
        if (u->p[i].expires < best->expires)
            best = &u->p[i];
    }
    return best;
}

/* One IMPI holds at most BSF_PENDING_PER_IMPI challenges: past that its own oldest
 * is replaced, so a client asking challenges in a loop for its IMPI (or any one it
 * knows) cannot push everyone else's out of the table. NULL when below the cap. */
static pending *own_oldest(bsf_ub *u, const char *impi, int64_t now)
{
    pending *oldest = NULL;
    size_t n = 0;

    for (size_t i = 0; i < u->np; i++) {
        pending *c = &u->p[i];

        if (!c->used || c->expires <= now || strcmp(c->impi, impi) != 0)
            continue;
        n++;
        if (oldest == NULL || c->expires < oldest->expires)
            oldest = c;
    }
    return n >= BSF_PENDING_PER_IMPI ? oldest : NULL;
}

static pending *find(bsf_ub *u, const char *nonce, int64_t now)
{
    for (size_t i = 0; i < u->np; i++) {
        pending *c = &u->p[i];
        if (c->used && strcmp(c->nonce, nonce) == 0) {
            if (c->expires > now)
                return c;
            clear(c);
            return NULL;
        }
    }
    return NULL;
}

static void answer(bsf_ub_answer *a, unsigned status, const char *reason)
{
    a->status = status;
    snprintf(a->body, sizeof(a->body), "%s\n", reason);
    a->content_type = "text/plain";
}

/* The SQN of a new challenge for impi: SQN_HE + 1 + the smallest offset no other live
 * challenge of impi uses (but skip, the one it replaces). Nothing is written: SQN_HE
 * moves only once a UE proves it holds K (RES verified, or a verified AUTS), so an
 * unauthenticated request changes no subscriber state and a challenge carries at most
 * SQN_HE + BSF_PENDING_PER_IMPI (TS 33.102 C.1.1: each SQN fresh for the USIM, here
 * counted from the last one the USIM accepted; C.2.2: within its delta). */
static int next_sqn(bsf_ub *u, const char *impi, uint64_t sqn_he, const pending *skip, int64_t now,
                    uint64_t *ret)
{
    bool taken[BSF_PENDING_PER_IMPI] = {false};
    size_t k;

    for (size_t i = 0; i < u->np; i++) {
        const pending *c = &u->p[i];

        if (c != skip && c->used && !c->phantom && c->expires > now && strcmp(c->impi, impi) == 0 &&
            c->sqn > sqn_he && c->sqn - sqn_he <= BSF_PENDING_PER_IMPI)
            taken[c->sqn - sqn_he - 1] = true;
    }
    for (k = 0; k < BSF_PENDING_PER_IMPI && taken[k]; k++)
        ;
    if (k == BSF_PENDING_PER_IMPI)
        k = 0; /* cannot happen: skip is one of the BSF_PENDING_PER_IMPI */
    if (sqn_he + 1 + k > CMN_MIL_SQN_MAX)
        return CMN_ERANGE; /* SQN exhausted: the operator provisions the USIM again */
    *ret = sqn_he + 1 + k;
    return 0;
}

/* A fresh challenge for impi: RAND, AUTN (with next_sqn), 401. An IMPI with no
 * subscriber gets the same 401, from a random K and OPc (a phantom challenge: its
 * answer is 403 like a wrong RES), so Ub does not tell who is a subscriber. */
static void challenge(bsf_ub *u, const char *impi, bool stale, int64_t now, bsf_ub_answer *a)
{
    Tep__GbaSubscriber *sub = NULL;
    uint8_t nonce_raw[CMN_MIL_RAND_LEN + CMN_MIL_AUTN_LEN];
    uint8_t fake_k[CMN_MIL_K_LEN], fake_opc[CMN_MIL_K_LEN];
    const uint8_t *k = fake_k, *opc = fake_opc;
    uint64_t sqn = 0;
    pending *c;
    bool phantom = false;
    int rc = bsf_db_subscriber_get(u->store, impi, &sub);

    if (rc == CMN_ENOTFOUND) {
        u->st.refused++;
        CMN_INFO("ub", "event=refused reason=unknown_impi");
        phantom = true;
        rc = cmn_random(fake_k, sizeof(fake_k));
        if (rc == 0)
            rc = cmn_random(fake_opc, sizeof(fake_opc));
        if (rc == 0)
            rc = cmn_random((uint8_t *)&sqn, sizeof(sqn));
        sqn = (sqn % 1024) + 1;
    } else if (rc == 0) {
        k = sub->k.data;
        opc = sub->opc.data;
    }
    if ((c = own_oldest(u, impi, now)) == NULL)
        c = slot(u, now);
    if (rc == 0 && !phantom)
        rc = next_sqn(u, impi, sub->sqn, c, now, &sqn);
    clear(c);
    if (rc == 0)
        rc = cmn_random(c->rand, sizeof(c->rand));
    if (rc == 0)
        rc = cmn_milenage_autn(k, opc, c->rand, sqn, u->cfg->amf_bytes,
                               nonce_raw + CMN_MIL_RAND_LEN, c->xres, c->ck, c->ik);
    if (rc == 0) {
        memcpy(nonce_raw, c->rand, CMN_MIL_RAND_LEN);
        rc = cmn_gba_b64_encode(nonce_raw, sizeof(nonce_raw), c->nonce, sizeof(c->nonce));
    }
    bsf_db_subscriber_free(sub);
    cmn_wipe(fake_k, sizeof(fake_k));
    cmn_wipe(fake_opc, sizeof(fake_opc));
    if (rc != 0) {
        clear(c);
        CMN_ERR("ub", "event=challenge_failed err=\"%s\"", cmn_strerror(rc));
        answer(a, 500, "challenge failed");
        return;
    }
    c->used = true;
    c->phantom = phantom;
    c->sqn = sqn;
    c->expires = now + u->cfg->challenge_timeout;
    snprintf(c->impi, sizeof(c->impi), "%s", impi);
    snprintf(a->www_authenticate, sizeof(a->www_authenticate),
             "Digest realm=\"%s\", nonce=\"%s\", algorithm=" ALGORITHM ", qop=\"" QOP "\"%s",
             u->cfg->realm, c->nonce, stale ? ", stale=TRUE" : "");
    if (!phantom) {
        u->st.challenges++;
        CMN_DEBUG("ub", "event=challenge sqn=%" PRIu64, sqn);
    }
    answer(a, 401, "authenticate with AKA");
}

static bool digest_ok(bsf_ub *u, const cmn_digest_auth *d, const char *method, const uint8_t *pw,
                      size_t pwlen)
{
    char expect[CMN_DIGEST_HEX_LEN + 1];
    bool ok = cmn_digest_response(d->username, u->cfg->realm, pw, pwlen, method, d->uri, d->nonce,
                                  d->nc, d->cnonce, QOP, NULL, 0, expect) == 0 &&
              strlen(d->response) == CMN_DIGEST_HEX_LEN &&
              cmn_memcmp_ct(expect, d->response, CMN_DIGEST_HEX_LEN) == 0;

    cmn_wipe(expect, sizeof(expect));
    return ok;
}

static void iso8601(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RES verified: SQN_HE moves to the challenge's SQN (the USIM accepted it), then Ks =
 * CK || IK under a new B-TID, committed, then 200. */
static void bootstrap(bsf_ub *u, pending *c, int64_t now, bsf_ub_answer *a)
{
    Tep__GbaBootstrap b = TEP__GBA_BOOTSTRAP__INIT;
    char btid[CMN_GBA_BTID_MAX], life[32];
    uint8_t ks[CMN_GBA_KS_LEN];
    int rc = bsf_db_sqn_accepted(u->store, c->impi, c->sqn);

    if (rc == 0)
        rc = cmn_gba_btid(c->rand, u->cfg->bsf_name, btid, sizeof(btid));

    cmn_gba_ks(c->ck, c->ik, ks);
    b.btid = btid;
    b.impi = c->impi;
    b.rand = (ProtobufCBinaryData){CMN_MIL_RAND_LEN, c->rand};
    b.ks = (ProtobufCBinaryData){sizeof(ks), ks};
    b.created = now;
    b.expires = now + u->cfg->key_lifetime;
    if (rc == 0)
        rc = bsf_db_btid_put(u->store, &b);
    cmn_wipe(ks, sizeof(ks));
    if (rc != 0) {
        CMN_ERR("ub", "event=bootstrap_failed err=\"%s\"", cmn_strerror(rc));
        answer(a, 500, "bootstrapping not recorded");
        return;
    }
    iso8601(b.expires, life, sizeof(life));
    a->status = 200;
    a->content_type = XML_TYPE;
    snprintf(a->body, sizeof(a->body),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
             "  <btid>%s</btid>\n  <lifetime>%s</lifetime>\n</BootstrappingInfo>\n",
             btid, life);
    u->st.bootstraps++;
    CMN_INFO("ub", "event=bootstrapped btid=%s expires=%" PRId64, btid, b.expires);
}

/* The answer to a challenge: RES (or AUTS) checked against the pending challenge. */
static void respond(bsf_ub *u, const cmn_digest_auth *d, const char *method, const char *url,
                    int64_t now, bsf_ub_answer *a)
{
    pending *c = find(u, d->nonce, now);
    pending cur;

    if (c == NULL) { /* expired, answered already, or from before a restart */
        challenge(u, d->username, true, now, a);
        return;
    }
    cur = *c;
    clear(c); /* single use, whatever the outcome */
    if (strcmp(d->username, cur.impi) != 0 || strcmp(d->realm, u->cfg->realm) != 0 ||
        strcmp(d->uri, url) != 0 || strcmp(d->qop, QOP) != 0 ||
        strcasecmp(d->algorithm, ALGORITHM) != 0 || d->nc[0] == '\0' || d->cnonce[0] == '\0') {
        answer(a, 400, "Digest parameters do not match the challenge");
    } else if (d->auts[0] != '\0') {
        uint8_t auts[CMN_MIL_AUTS_LEN];
        Tep__GbaSubscriber *sub = NULL;
        uint64_t sqn_ms = 0;
        int rc = digest_ok(u, d, method, NULL, 0) ? 0 : CMN_EDENIED;

        if (rc == 0)
            rc = cmn_gba_b64_decode(d->auts, auts, sizeof(auts));
        if (rc == 0)
            rc = bsf_db_subscriber_get(u->store, cur.impi, &sub);
        if (rc == 0)
            rc = cmn_milenage_auts_check(sub->k.data, sub->opc.data, cur.rand, auts, &sqn_ms);
        bsf_db_subscriber_free(sub);
        if (rc == 0)
            rc = bsf_db_sqn_resync(u->store, cur.impi, sqn_ms, (uint64_t)u->cfg->sqn_delta);
        if (rc == 0) {
            u->st.resyncs++;
            CMN_INFO("ub", "event=resynchronised sqn_ms=%" PRIu64, sqn_ms);
            challenge(u, cur.impi, false, now, a);
        } else {
            u->st.refused++;
            CMN_INFO("ub", "event=refused reason=bad_auts err=\"%s\"", cmn_strerror(rc));
            answer(a, 403, "re-synchronisation refused");
        }
    } else if (!digest_ok(u, d, method, cur.xres, sizeof(cur.xres)) || cur.phantom) {
        u->st.refused++;
        CMN_INFO("ub", "event=refused reason=wrong_res");
        answer(a, 403, "authentication failed");
    } else {
        bootstrap(u, &cur, now, a);
    }
    clear(&cur);
}

void bsf_ub_handle(bsf_ub *u, const char *method, const char *url, const char *authorization,
                   int64_t now, bsf_ub_answer *a)
{
    cmn_digest_auth d;

    memset(a, 0, sizeof(*a));
    if (strcmp(method, "GET") != 0) {
        answer(a, 405, "GET only");
        return;
    }
    if (authorization == NULL || cmn_digest_parse(authorization, &d) != 0 ||
        d.username[0] == '\0') {
        answer(a, 400, "Authorization: Digest with the IMPI as username required");
        return;
    }
    if (d.nonce[0] == '\0')
        challenge(u, d.username, false, now, a);
    else
        respond(u, &d, method, url, now, a);
    cmn_wipe(&d, sizeof(d));
}

/* ---- libmicrohttpd ---------------------------------------------------------------- */

static int marker;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    bsf_ub *u = cls;
    bsf_ub_answer a;
    struct MHD_Response *resp;
    enum MHD_Result r;

    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) { /* headers only so far */
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) { /* Ub requests carry no body: closed, the rest unread */
        CMN_INFO("ub", "event=refused reason=request_body bytes=%zu", *upload_data_size);
        return MHD_NO;
    }
    bsf_ub_handle(u, method, url,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                  (int64_t)time(NULL), &a);
    resp = MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", a.content_type);
    if (a.status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", a.www_authenticate);
    r = MHD_queue_response(conn, a.status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\r\n\"")] = '\0';
    CMN_WARN("ub", "event=http_error msg=\"%s\"", msg);
}

static int start_http(bsf_ub *u)
{
    coap_address_t addr;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

    if (cmn_coap_parse_listen(u->cfg->ub_listen, &addr) != 0)
        return CMN_ECONFIG;
    if (addr.addr.sa.sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    u->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, u, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, u,
        MHD_OPTION_SOCK_ADDR, &addr.addr.sa, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)128, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)BSF_UB_CONN_PER_IP, MHD_OPTION_END);
    return u->mhd != NULL ? 0 : CMN_EIO;
}

int bsf_ub_new(const bsf_config *cfg, cmn_store *store, bool listen, bsf_ub **ret)
{
    bsf_ub *u = calloc(1, sizeof(*u));
    int rc = 0;

    *ret = NULL;
    if (u == NULL)
        return CMN_ENOMEM;
    u->cfg = cfg;
    u->store = store;
    u->np = (size_t)cfg->max_pending;
    u->p = calloc(u->np, sizeof(*u->p));
    if (u->p == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0 && listen)
        rc = start_http(u);
    if (rc != 0) {
        bsf_ub_free(u);
        return rc;
    }
    *ret = u;
    return 0;
}

void bsf_ub_free(bsf_ub *u)
{
    if (u == NULL)
        return;
    if (u->mhd != NULL)
        MHD_stop_daemon(u->mhd);
    if (u->p != NULL) {
        cmn_wipe(u->p, u->np * sizeof(*u->p));
        free(u->p);
    }
    free(u);
}

int bsf_ub_fd(bsf_ub *u)
{
    const union MHD_DaemonInfo *i =
        u->mhd != NULL ? MHD_get_daemon_info(u->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;

    return i != NULL ? i->epoll_fd : -1;
}

int bsf_ub_timeout_ms(bsf_ub *u)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;

    if (u->mhd == NULL || MHD_get_timeout(u->mhd, &ms) != MHD_YES)
        return -1;
    return ms > 1000 ? 1000 : (int)ms;
}

void bsf_ub_process(bsf_ub *u)
{
    if (u->mhd != NULL)
        MHD_run(u->mhd);
}

const bsf_ub_stats *bsf_ub_get_stats(const bsf_ub *u)
{
    return &u->st;
}
