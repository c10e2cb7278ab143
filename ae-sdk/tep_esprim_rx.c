/* libtepae: an AE as the ESPrim Receiver (End-Point B, TS-0003 8.4.2 B-C; TS-0004 7.6.2):
 * receiver rand objects given on request (sit 3), ESPrim objects (sit 5) opened with the
 * pairwise key of their kid, the inner request handed to the application and its answer
 * sealed. I/O-free: tep_listener_set_esprim() makes the notification listener answer
 * the NOTIFYs its registrar relays with it (docs/internals.md "ESPrim"). The checks and
 * their RSCs are tep-cse's: the same code (common/cmn_esprim_rx.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_escertke.h"
#include "cmn_esprim_rx.h"
#include "cmn_jose.h"
#include "cmn_pki.h"
#include "tae_device.h"
#include "tae_e2e.h"

#define RX_RAND_MAX 64   /* receiver rand objects given and live */
#define RX_ORIG_MAX 64   /* originator rand objects recorded */
#define RX_SEEN_MAX 1024 /* objects answered, against replay */
#define RX_KEYS_MAX 8    /* pairwise keys met (by kid) */
#define RX_RAND_LT 600   /* seconds a receiver rand object lives */
#define RX_HS_MAX 4      /* ESCertKE handshakes in progress */
#define RX_HS_LT 30      /* seconds between Message 1 and Message 3 */

enum {
    RSC_OK = 2000,
    RSC_BAD_REQUEST = 4000,
    RSC_NO_PRIVILEGE = 4103,
    RSC_INTERNAL = 5000,
    RSC_NOT_REACHABLE = 5103,
};

typedef struct {
    char id[20];
    uint8_t v[CMN_E2E_RAND_LEN];
    int64_t exp;
} rx_rand;

typedef cmn_esprim_orig rx_orig;

typedef struct {
    uint8_t tag[CMN_JWE_TAG_LEN];
    int64_t exp;
} rx_seen;

typedef struct {
    char kid[CMN_KEY_ID_MAX];
    uint8_t pairwise[CMN_KEY_LEN];
} rx_key;

typedef struct {
    char from[CMN_CA_ID_MAX];
    cmn_escertke *k;
    int64_t exp;
} rx_hs;

/* ESCertKE as the Terminating End-Point: the device's certificate, key, trust anchor. */
typedef struct {
    uint8_t ca[CMN_CA_CERT_DER_MAX], cert[CMN_CA_CERT_DER_MAX], key[CMN_CA_KEY_DER_MAX];
    size_t ca_len, cert_len, key_len;
    char self[CMN_CA_ID_MAX]; /* this AE-ID: End-Point-B-ID */
    rx_hs hs[RX_HS_MAX];
} rx_cert;

struct tep_esprim_receiver {
    rx_cert *cert; /* NULL: no ESCertKE */
    tep_esprim_key_fn key_fn;
    void *key_arg;
    tep_esprim_inner_fn inner_fn;
    void *inner_arg;
    rx_rand rand[RX_RAND_MAX];
    rx_orig orig[RX_ORIG_MAX];
    rx_seen seen[RX_SEEN_MAX];
    rx_key keys[RX_KEYS_MAX];
    size_t next_key;
};

int tep_esprim_receiver_new(tep_esprim_key_fn key_fn, void *key_arg, tep_esprim_inner_fn inner_fn,
                            void *inner_arg, tep_esprim_receiver **ret)
{
    if (ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (key_fn == NULL || inner_fn == NULL)
        return CMN_EINVAL;
    if ((*ret = calloc(1, sizeof(**ret))) == NULL)
        return CMN_ENOMEM;
    (*ret)->key_fn = key_fn;
    (*ret)->key_arg = key_arg;
    (*ret)->inner_fn = inner_fn;
    (*ret)->inner_arg = inner_arg;
    return 0;
}

void tep_esprim_receiver_free(tep_esprim_receiver *r)
{
    if (r == NULL)
        return;
    if (r->cert != NULL) {
        for (size_t i = 0; i < RX_HS_MAX; i++)
            cmn_escertke_free(r->cert->hs[i].k);
        cmn_free_secret(r->cert, sizeof(*r->cert));
    }
    cmn_free_secret(r, sizeof(*r));
}

static int load_der(const tep_device *dev, const char *which, const char *kind, uint8_t *der,
                    size_t *len)
{
    char path[4096];
    int rc = tep_device_cert_path(dev, which, path, sizeof(path));

    return rc != 0 ? rc : cmn_pki_read_pem(path, kind, der, len);
}

int tep_esprim_receiver_set_escertke(tep_esprim_receiver *r, const tep_device *dev)
{
    rx_cert *c;

    if (r == NULL || dev == NULL || r->cert != NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return CMN_ENOMEM;
    c->ca_len = sizeof(c->ca);
    c->cert_len = sizeof(c->cert);
    c->key_len = sizeof(c->key);
    if (load_der(dev, "crt", "CERTIFICATE", c->cert, &c->cert_len) != 0 ||
        load_der(dev, "key", "EC PRIVATE KEY", c->key, &c->key_len) != 0 ||
        load_der(dev, "ca", "CERTIFICATE", c->ca, &c->ca_len) != 0) {
        cmn_free_secret(c, sizeof(*c));
        return CMN_ESTATE; /* no certificate: tep_enrol_cert() first */
    }
    snprintf(c->self, sizeof(c->self), "%s", dev->enr.enrolee_id);
    r->cert = c;
    return 0;
}

/* ---- answers ----------------------------------------------------------------------- */

static unsigned refuse(const char *why, unsigned rsc, char **ret_answer)
{
    json_t *b = cmn_esprim_dbg(why);

    *ret_answer = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return rsc;
}

/* sit 3: a receiver rand object of its own for the asker; the slot of an expired one,
 * else the oldest (the Originators are those the AE's access control lets NOTIFY it). */
static unsigned rand_request(tep_esprim_receiver *r, int64_t now, char **ret_answer)
{
    rx_rand *slot = &r->rand[0];
    uint8_t id[8];
    char hex[17];
    json_t *b;

    for (size_t i = 0; i < RX_RAND_MAX; i++)
        if (r->rand[i].exp < slot->exp)
            slot = &r->rand[i];
    if (cmn_random(id, sizeof(id)) != 0 || cmn_random(slot->v, sizeof(slot->v)) != 0)
        return refuse("no random", RSC_INTERNAL, ret_answer);
    cmn_hex_encode(id, sizeof(id), hex);
    snprintf(slot->id, sizeof(slot->id), "u%s", hex);
    slot->exp = now + RX_RAND_LT;
    b = json_pack("{s:{s:i,s:o}}", "m2m:seci", "sit", 4, "ero",
                  cmn_esprim_rand_json(slot->id, slot->v, slot->exp));
    *ret_answer = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return *ret_answer != NULL ? RSC_OK : RSC_INTERNAL;
}

/* ---- sit 5 ------------------------------------------------------------------------- */

/* The pairwiseESPrimKey of kid: met before, else from the application's key_fn. */
static unsigned pairwise(cmn_esprim_rx *rx, uint8_t ret[CMN_KEY_LEN])
{
    tep_esprim_receiver *r = rx->arg;
    tep_e2e_key *k = NULL;
    rx_key *slot;

    for (size_t i = 0; i < RX_KEYS_MAX; i++) {
        if (r->keys[i].kid[0] != '\0' && strcmp(r->keys[i].kid, rx->kid) == 0) {
            memcpy(ret, r->keys[i].pairwise, CMN_KEY_LEN);
            return 0;
        }
    }
    if (r->key_fn(rx->kid, r->key_arg, &k) != 0 || k == NULL || tae_e2e_key_msg_conf(k, ret) != 0) {
        tep_e2e_key_free(k);
        return (rx->why = "unknown or expired pairwiseESPrimKeyID", CMN_RSC_ESPRIM_UNKNOWN_KEY_ID);
    }
    tep_e2e_key_free(k);
    slot = &r->keys[r->next_key++ % RX_KEYS_MAX];
    snprintf(slot->kid, sizeof(slot->kid), "%s", rx->kid);
    memcpy(slot->pairwise, ret, CMN_KEY_LEN);
    return 0;
}

/* A live receiver rand object of those given (sit 3). */
static int recv_rand(cmn_esprim_rx *rx, const char *id, uint8_t ret_v[CMN_E2E_RAND_LEN],
                     int64_t *ret_exp)
{
    const tep_esprim_receiver *r = rx->arg;
    const rx_rand *rr = NULL;

    for (size_t i = 0; i < RX_RAND_MAX; i++)
        if (r->rand[i].exp > rx->now && strcmp(r->rand[i].id, id) == 0)
            rr = &r->rand[i];
    if (rr == NULL)
        return CMN_ENOTFOUND;
    memcpy(ret_v, rr->v, CMN_E2E_RAND_LEN);
    *ret_exp = rr->exp;
    return 0;
}

static const rx_orig *orig_rand(cmn_esprim_rx *rx, const char *kid, const char *id)
{
    const tep_esprim_receiver *r = rx->arg;

    for (size_t i = 0; i < RX_ORIG_MAX; i++) {
        const rx_orig *o = &r->orig[i];

        if (o->exp > rx->now && strcmp(o->id, id) == 0 && strcmp(o->kid, kid) == 0)
            return o;
    }
    return NULL;
}

static bool seen(cmn_esprim_rx *rx, const uint8_t tag[CMN_JWE_TAG_LEN])
{
    const tep_esprim_receiver *r = rx->arg;

    for (size_t i = 0; i < RX_SEEN_MAX; i++)
        if (r->seen[i].exp > rx->now && memcmp(r->seen[i].tag, tag, CMN_JWE_TAG_LEN) == 0)
            return true;
    return false;
}

static const cmn_esprim_rx_ops rx_ops = {pairwise, recv_rand, orig_rand, seen};

/* The application's inner response, completed (rqi, to) and sealed (C.8). */
static unsigned seal(cmn_esprim_rx *x, json_t *inner, const char *inner_rsp, char **ret_answer)
{
    json_t *prim = json_loads(inner_rsp, JSON_REJECT_DUPLICATES, NULL);
    char *epo = NULL;
    unsigned rsc = CMN_RSC_ESPRIM_ENCRYPTION_ERROR;
    json_t *b;

    if (!json_is_object(prim) || !json_is_integer(json_object_get(prim, "rsc"))) {
        json_decref(prim);
        return (x->why = "the application's answer is no response primitive", RSC_INTERNAL);
    }
    json_object_set(prim, "rqi", json_object_get(inner, "rqi"));
    json_object_set(prim, "to", json_object_get(inner, "fr"));
    if (json_object_get(prim, "rvi") == NULL)
        json_object_set_new(prim, "rvi", json_string("3"));
    if (cmn_esprim_rx_seal(x, prim, &epo) == 0 &&
        (b = json_pack("{s:{s:i,s:s}}", "m2m:seci", "sit", 5, "epo", epo)) != NULL) {
        *ret_answer = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        rsc = *ret_answer != NULL ? RSC_OK : RSC_INTERNAL;
    } else {
        x->why = "response encryption";
    }
    free(epo);
    json_decref(prim);
    return rsc;
}

static unsigned handle_object(tep_esprim_receiver *r, const char *epo, int64_t now,
                              char **ret_answer)
{
    cmn_esprim_rx x = {.ops = &rx_ops, .arg = r, .now = now};
    uint8_t *pt = NULL;
    size_t len = 0;
    char *inner_rsp = NULL;
    json_t *inner = NULL;
    rx_seen *slot = NULL;
    unsigned rsc = 0;

    /* C.6: the object's checks up to its verified plaintext */
    if (cmn_jwe_decode(epo, &x.jwe) != 0)
        rsc = (x.why = "not a JWE dir with A128/A192/A256GCM", CMN_RSC_ESPRIM_UNSUPPORTED_OPTION);
    else
        rsc = cmn_esprim_rx_open(&x, &pt, &len);
    for (size_t i = 0; rsc == 0 && slot == NULL && i < RX_SEEN_MAX; i++)
        if (r->seen[i].exp <= now)
            slot = &r->seen[i];
    if (rsc == 0 && slot == NULL) /* fail closed: every slot holds a live object */
        rsc = (x.why = "replay memory full", RSC_NOT_REACHABLE);
    if (rsc == 0) /* (json_is_object evaluates its argument twice: not inside it) */
        inner = json_loadb((const char *)pt, len, JSON_REJECT_DUPLICATES, NULL);
    if (rsc == 0 && (!json_is_object(inner) || !json_is_integer(json_object_get(inner, "op")) ||
                     json_string_value(json_object_get(inner, "fr")) == NULL))
        rsc = (x.why = "not a request primitive", CMN_RSC_ESPRIM_DECRYPTION_ERROR);
    if (rsc == 0 &&
        (r->inner_fn((const char *)pt, r->inner_arg, &inner_rsp) != 0 || inner_rsp == NULL))
        rsc = (x.why = "the application did not answer", RSC_INTERNAL);
    if (rsc == 0) {
        if (x.oro_new) { /* the originator's rand object: kept in an expired or the oldest */
            rx_orig *o = &r->orig[0];

            for (size_t i = 0; i < RX_ORIG_MAX; i++)
                if (r->orig[i].exp < o->exp)
                    o = &r->orig[i];
            *o = x.oro;
        }
        memcpy(slot->tag, x.jwe->tag, CMN_JWE_TAG_LEN); /* answered: never again */
        slot->exp = x.oro.exp;
        rsc = seal(&x, inner, inner_rsp, ret_answer);
    }
    if (rsc != RSC_OK)
        refuse(x.why != NULL ? x.why : "refused", rsc, ret_answer);
    if (inner_rsp != NULL)
        cmn_wipe(inner_rsp, strlen(inner_rsp));
    free(inner_rsp);
    json_decref(inner);
    if (pt != NULL)
        cmn_free_secret(pt, len + 1);
    cmn_esprim_rx_clear(&x);
    return rsc;
}

/* ---- sit 6: ESCertKE, this AE the Terminating End-Point (TS-0003 8.7) ---------------- */

static rx_hs *hs_of(rx_cert *c, const char *from, int64_t now)
{
    for (size_t i = 0; i < RX_HS_MAX; i++) {
        if (c->hs[i].k != NULL && c->hs[i].exp <= now) {
            cmn_escertke_free(c->hs[i].k);
            memset(&c->hs[i], 0, sizeof(c->hs[i]));
        }
        if (c->hs[i].k != NULL && strcmp(c->hs[i].from, from) == 0)
            return &c->hs[i];
    }
    return NULL;
}

/* The established key, under kid = hex(pairwiseE2EKeyID), among the keys sit 5 uses. */
static int keep_key(tep_esprim_receiver *r, cmn_escertke *k)
{
    uint8_t rel[CMN_REL_ID_LEN], pair[CMN_KEY_LEN];
    char kid[2 * CMN_REL_ID_LEN + 1];
    cmn_e2e_keys keys;
    rx_key *slot;
    int rc = cmn_escertke_key(k, rel, pair);

    if (rc == 0)
        rc = cmn_e2e_keys_from_pair(pair, r->cert->self, &keys);
    if (rc == 0) {
        cmn_hex_encode(rel, sizeof(rel), kid);
        slot = &r->keys[r->next_key++ % RX_KEYS_MAX];
        snprintf(slot->kid, sizeof(slot->kid), "%s", kid);
        memcpy(slot->pairwise, keys.msg_conf, CMN_KEY_LEN);
    }
    cmn_wipe(pair, sizeof(pair));
    cmn_wipe(&keys, sizeof(keys));
    return rc;
}

static unsigned escertke(tep_esprim_receiver *r, const char *from, json_t *seci, int64_t now,
                         char **ret_answer)
{
    rx_cert *c = r->cert;
    uint8_t *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    bool done = false;
    char peer[CMN_CA_ID_MAX];
    unsigned rsc = 0;
    const char *why = NULL;
    rx_hs *s = NULL;

    if (c == NULL)
        return refuse("ESCertKE not offered", RSC_BAD_REQUEST, ret_answer);
    if (from == NULL || from[0] == '\0' || strlen(from) >= sizeof(s->from))
        rsc = (why = "no originator", RSC_BAD_REQUEST);
    else if (cmn_escertke_eckm(seci, &in, &in_len) != 0)
        rsc = (why = "no or malformed escertkeMessage", RSC_BAD_REQUEST);
    if (rsc == 0) {
        s = hs_of(c, from, now);
        if (in_len > 5 && in[0] == 22 && in[5] == 1) { /* Message 1: a ClientHello */
            if (s != NULL) {
                cmn_escertke_free(s->k);
                memset(s, 0, sizeof(*s));
            }
            for (size_t i = 0; s == NULL && i < RX_HS_MAX; i++)
                s = c->hs[i].k == NULL ? &c->hs[i] : NULL;
            if (s == NULL)
                rsc = (why = "too many handshakes in progress", RSC_NOT_REACHABLE);
            else if (cmn_escertke_new(false, c->ca, c->ca_len, c->cert, c->cert_len, c->key,
                                      c->key_len, &s->k) != 0)
                rsc = (why = "handshake set-up", RSC_INTERNAL);
            else {
                snprintf(s->from, sizeof(s->from), "%s", from);
                s->exp = now + RX_HS_LT;
            }
        } else if (s == NULL) {
            rsc = (why = "no handshake in progress for this originator", RSC_BAD_REQUEST);
        }
    }
    if (rsc == 0 && cmn_escertke_step(s->k, in, in_len, &out, &out_len, &done) != 0)
        rsc = (why = "handshake refused", RSC_NO_PRIVILEGE);
    else if (rsc == 0 && out == NULL)
        rsc = (why = "nothing to answer", RSC_BAD_REQUEST);
    /* done: the initiator's certificate must name the From its registrar gave */
    if (rsc == 0 && done &&
        (cmn_escertke_peer_id(s->k, peer, sizeof(peer)) != 0 || strcmp(peer, from) != 0))
        rsc = (why = "certificate does not name the originator", RSC_NO_PRIVILEGE);
    if (rsc == 0 && done && keep_key(r, s->k) != 0)
        rsc = (why = "key export", RSC_INTERNAL);
    if (rsc == 0)
        *ret_answer = cmn_escertke_seci(out, out_len);
    else
        refuse(why, rsc, ret_answer);
    if (s != NULL && (rsc != 0 || done)) {
        cmn_escertke_free(s->k);
        memset(s, 0, sizeof(*s));
    }
    free(in);
    free(out);
    return rsc == 0 ? (*ret_answer != NULL ? RSC_OK : RSC_INTERNAL) : rsc;
}

int tep_esprim_receiver_handle(tep_esprim_receiver *r, const char *from, const char *body,
                               size_t len, unsigned *ret_rsc, char **ret_answer)
{
    json_t *root, *seci;
    json_int_t sit;
    int64_t now = (int64_t)time(NULL);

    if (ret_answer != NULL)
        *ret_answer = NULL;
    if (r == NULL || body == NULL || ret_rsc == NULL || ret_answer == NULL)
        return CMN_EINVAL;
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    seci = json_object_get(root, "m2m:seci");
    sit = json_integer_value(json_object_get(seci, "sit"));
    if (!json_is_object(seci) || json_object_size(root) != 1 ||
        (sit != 3 && sit != 5 && sit != CMN_ESCERTKE_SIT)) {
        json_decref(root);
        return CMN_EINVAL; /* not an ESPrim exchange: a notification as any other */
    }
    if (sit == 3)
        *ret_rsc = rand_request(r, now, ret_answer);
    else if (sit == CMN_ESCERTKE_SIT)
        *ret_rsc = escertke(r, from, seci, now, ret_answer);
    else if (json_string_value(json_object_get(seci, "epo")) == NULL)
        *ret_rsc = refuse("no esprimObject", RSC_BAD_REQUEST, ret_answer);
    else
        *ret_rsc =
            handle_object(r, json_string_value(json_object_get(seci, "epo")), now, ret_answer);
    json_decref(root);
    return *ret_answer != NULL ? 0 : CMN_ENOMEM;
}
