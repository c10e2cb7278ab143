/* GBA enrolment on the device (TS-0003 8.3.2.3; 3GPP TS 33.220 4.5.2): the Ub
 * bootstrapping with tep-bsf over HTTP (libcurl), the software USIM's SQN_MS kept in
 * "<state>.usim", then the MEF Handshake with psk_identity = B-TID and psk = Ks_NAF
 * (NAF = the MEF's FQDN), and the enrolment answer with Ke = Ks_NAF, KeID = B-TID. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"
#include "tae_client.h"
#include "tae_core.h"
#include "tae_device.h"
#include "tae_gba.h"

#define UB_BODY_MAX 2048
#define MEF_TRIES 20    /* the MEF fetches Ks_NAF over Zn on the first attempt */
#define MEF_RETRY_MS 20 /* first wait; doubles up to MEF_RETRY_MAX_MS (about 6 s in all) */
#define MEF_RETRY_MAX_MS 400

typedef struct {
    char www[CMN_DIGEST_VALUE_MAX + 256];
    char body[UB_BODY_MAX];
    size_t blen;
} ub_reply;

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    ub_reply *r = arg;
    size_t len = size * n;
    static const char name[] = "www-authenticate:";

    if (len > sizeof(name) && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
        const char *v = buf + sizeof(name) - 1;
        size_t vl = len - (sizeof(name) - 1);

        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        if (vl < sizeof(r->www)) {
            memcpy(r->www, v, vl);
            r->www[vl] = '\0';
        }
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
    ub_reply *r = arg;
    size_t len = size * n;

    if (r->blen + len >= sizeof(r->body))
        return 0; /* too long: curl fails the transfer */
    memcpy(r->body + r->blen, buf, len);
    r->blen += len;
    r->body[r->blen] = '\0';
    return len;
}

/* One GET on Ub; *ret_status the HTTP status. */
static int ub_get(const char *url, const char *authorization, int timeout_ms, long *ret_status,
                  ub_reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char line[TAE_GBA_AUTH_MAX + 32];
    int rc = CMN_EIO;

    memset(r, 0, sizeof(*r));
    if (c == NULL)
        return CMN_ENOMEM;
    snprintf(line, sizeof(line), "Authorization: %s", authorization);
    h = curl_slist_append(NULL, line);
    if (h != NULL && curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK) {
        CURLcode cc = curl_easy_perform(c);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
            rc = 0;
        } else {
            rc = cc == CURLE_OPERATION_TIMEDOUT ? CMN_ETIMEOUT : CMN_EIO;
        }
    }
    cmn_wipe(line, sizeof(line));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- the USIM's SQN_MS ----------------------------------------------------------- */

static void sqn_path(const tep_device *dev, char *buf, size_t len)
{
    snprintf(buf, len, "%s.usim", dev->state_path);
}

static uint64_t sqn_load(const tep_device *dev)
{
    char path[4096], line[64];
    unsigned long long v = 0;
    FILE *f;

    sqn_path(dev, path, sizeof(path));
    if ((f = fopen(path, "r")) == NULL)
        return 0; /* a fresh USIM */
    if (fgets(line, sizeof(line), f) == NULL || sscanf(line, "sqn_ms = %llu", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

/* Written before the SQN is used (RES leaves only after this): 0600, atomically. */
static int sqn_save(const tep_device *dev, uint64_t sqn)
{
    char path[4096], text[64];
    int n;

    sqn_path(dev, path, sizeof(path));
    n = snprintf(text, sizeof(text), "sqn_ms = %" PRIu64 "\n", sqn);
    return cmn_file_write_atomic(path, text, (size_t)n, 0600, 0);
}

/* ---- Ub ---------------------------------------------------------------------------- */

typedef struct {
    char btid[CMN_GBA_BTID_MAX];
    uint8_t rand[CMN_MIL_RAND_LEN];
    uint8_t ks[CMN_GBA_KS_LEN];
    int64_t lifetime;
} gba_boot;

static const char *uri_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : NULL;
    return p != NULL ? p : "/";
}

/* Answers one challenge; *ret_done once the B-TID came (200). */
static int answer_challenge(tep_device *dev, const ub_reply *r, int *resyncs, gba_boot *ret,
                            long *status, ub_reply *next)
{
    const tae_prov *p = &dev->prov;
    cmn_digest_auth ch;
    uint8_t rand[CMN_MIL_RAND_LEN], autn[CMN_MIL_AUTN_LEN], cn[8];
    char cnonce[17], auth[TAE_GBA_AUTH_MAX];
    tae_usim_result u;
    int rc = tae_gba_challenge(r->www, &ch, rand, autn);

    if (rc == 0)
        rc = tae_gba_usim(p->gba_k, p->gba_opc, sqn_load(dev), rand, autn, &u);
    if (rc == CMN_EDENIED)
        return CMN_EDENIED; /* AUTN not from our network: never answer */
    if (rc == 0 && u.outcome == TAE_USIM_SYNC && ++*resyncs > 1)
        rc = CMN_EPROTO; /* resynchronised once already: the network is not converging */
    if (rc == 0 && u.outcome == TAE_USIM_OK)
        rc = sqn_save(dev, u.sqn);
    if (rc == 0)
        rc = cmn_random(cn, sizeof(cn));
    if (rc == 0) {
        cmn_hex_encode(cn, sizeof(cn), cnonce);
        rc = tae_gba_authorization(p->gba_impi, ch.realm, uri_path(p->bsf_uri), &ch, u.res,
                                   u.outcome == TAE_USIM_SYNC ? u.auts : NULL, cnonce, auth,
                                   sizeof(auth));
    }
    if (rc == 0)
        rc = ub_get(p->bsf_uri, auth, dev->timeout_ms, status, next);
    if (rc == 0 && *status == 200 && u.outcome == TAE_USIM_OK) {
        rc = tae_gba_parse_info(next->body, ret->btid, sizeof(ret->btid), &ret->lifetime);
        memcpy(ret->rand, rand, sizeof(rand));
        cmn_gba_ks(u.ck, u.ik, ret->ks);
    }
    cmn_wipe(&u, sizeof(u));
    cmn_wipe(auth, sizeof(auth));
    return rc;
}

/* TS 33.220 4.5.2: the whole bootstrapping, with at most one re-synchronisation. */
static int gba_bootstrap(tep_device *dev, gba_boot *ret)
{
    const tae_prov *p = &dev->prov;
    char auth[TAE_GBA_AUTH_MAX];
    ub_reply *r = calloc(2, sizeof(*r));
    long http_status = 0;
    int resyncs = 0, rc;

    if (r == NULL)
        return CMN_ENOMEM;
    /* realm: the BSF names it in its challenge; the first request says the B-TID's domain
     * is not known yet, so any realm does (TS 24.109 4.4.2) */
    rc = tae_gba_authorization(p->gba_impi, "", uri_path(p->bsf_uri), NULL, NULL, NULL, NULL, auth,
                               sizeof(auth));
    if (rc == 0)
        rc = ub_get(p->bsf_uri, auth, dev->timeout_ms, &http_status, &r[0]);
    for (int round = 0; rc == 0 && http_status == 401 && round < 3; round++) {
        rc = answer_challenge(dev, &r[round & 1], &resyncs, ret, &http_status, &r[(round + 1) & 1]);
        if (rc == 0 && http_status == 200)
            break;
    }
    if (rc == 0 && http_status != 200)
        rc = http_status == 403 ? CMN_EDENIED : CMN_EPROTO;
    cmn_wipe(r, 2 * sizeof(*r));
    free(r);
    return rc;
}

/* ---- the MEF Handshake with the NAF key ------------------------------------------- */

static int enrol_with(tep_device *dev, const gba_boot *b, const uint8_t ks_naf[CMN_KEY_LEN])
{
    tae_psk_creds creds = {.identity = b->btid, .psk = ks_naf, .sni = dev->prov.mef_fqdn};
    tep_response *rsp = NULL;
    tep_conn *mef = NULL;
    tae_enrolment *enr = NULL;
    char *body = NULL;
    int rc = CMN_EDENIED;

    /* The MEF answers the first handshake of an unknown B-TID with a refusal while it
     * asks tep-bsf over Zn (it never waits on the bus inside a handshake): try again. */
    for (int i = 0, wait_ms = MEF_RETRY_MS; i < MEF_TRIES && rc == CMN_EDENIED; i++) {
        if (i > 0) {
            struct timespec ts = {0, wait_ms * 1000000L};
            nanosleep(&ts, NULL);
            wait_ms = wait_ms * 2 > MEF_RETRY_MAX_MS ? MEF_RETRY_MAX_MS : wait_ms * 2;
        }
        rc = tae_client_open(dev->prov.mef_uri, &creds, dev->timeout_ms, TAE_CLIENT_NACK_ENDS_WAIT,
                             &mef);
    }
    if (rc == 0)
        rc = tae_core_enrol_request(false, false, false, &body);
    if (rc == 0)
        rc = tae_client_post(mef, "enrol", body, &rsp);
    if (rc == 0 && rsp->coap_code != 201)
        rc = rsp->coap_code == 403 ? CMN_EDENIED : CMN_EPROTO;
    if (rc == 0 && (enr = malloc(sizeof(*enr))) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0)
        rc = tae_core_enrolment_complete_gba(ks_naf, b->btid, dev->prov.mef_fqdn,
                                             (const uint8_t *)rsp->body, rsp->body_len, enr);
    if (rc == 0) {
        enr->enrolled = (int64_t)time(NULL);
        rc = tae_device_install(dev, enr);
    }
    if (enr != NULL)
        cmn_free_secret(enr, sizeof(*enr));
    free(body);
    tep_response_free(rsp);
    tep_conn_free(mef);
    return rc;
}

/* TS-0003 8.3.2.3: "If a bootstrapped key Ks is already shared between Enrolee and the
 * MEF and still valid, then the Bootstrap Enrolment Handshake phase is not needed": an
 * enrolment whose KeID is a B-TID (Ke = its Ks_NAF) and that has a minute left is used
 * again for the MEF Handshake. The MEF answers with the same enrolment. */
static int enrol_again(tep_device *dev)
{
    gba_boot b;
    int rc;

    if (!dev->enrolled || dev->enr.expires <= (int64_t)time(NULL) + 60 ||
        strchr(dev->enr.ke_id, '=') == NULL /* base64 of 16 bytes ends in "==" */)
        return CMN_ENOTFOUND;
    memset(&b, 0, sizeof(b));
    snprintf(b.btid, sizeof(b.btid), "%s", dev->enr.ke_id);
    rc = enrol_with(dev, &b, dev->enr.ke);
    cmn_wipe(&b, sizeof(b));
    return rc;
}

int tae_enrol_gba(tep_device *dev)
{
    gba_boot b;
    uint8_t ks_naf[CMN_GBA_KS_NAF_LEN];
    int rc;

    if (enrol_again(dev) == 0)
        return 0;
    memset(&b, 0, sizeof(b));
    rc = gba_bootstrap(dev, &b);
    if (rc == 0)
        rc = cmn_gba_ks_naf(b.ks, b.rand, dev->prov.gba_impi, dev->prov.mef_fqdn,
                            cmn_gba_ua_dtls_psk, ks_naf);
    if (rc == 0)
        rc = enrol_with(dev, &b, ks_naf);
    cmn_wipe(&b, sizeof(b));
    cmn_wipe(ks_naf, sizeof(ks_naf));
    return rc;
}
