/* ESPrim at tep-cse as the Target (see cse_esprim.h; TS-0003 8.4.2 C.5-C.9). */
#include "cse_esprim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_esprim_rx.h"
#include "cmn_jose.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cse_binding.h"
#include "cse_escertke.h"
#include "cse_resource.h"
#include "cse_saef.h"
#include "cse_sync.h"

#define SUB "esprim"
#define ORIG_MAX 1024     /* originator rand objects recorded */
#define ORIG_PER_KEY 32   /* ... of one pairwise key (then its own oldest goes) */
#define SEEN_MAX 32768    /* ESPrim objects remembered against replay */
#define SEEN_PER_KEY 4096 /* ... answered under one pairwise key (then 5103 for it) */
#define RAND_ID_LEN 28    /* "s"/"u" + 2 hex (epoch) + 8 hex (expiry) + 16 hex (nonce) + NUL */
#define RECV_LABEL "tep ESPrim receiver rand"
#define CTY_REQ "application/vnd.onem2m-preq+json"
/* Records in CSE_ESPRIM_DB, by the first byte of the key. */
#define K_SECRET "K" /* the receiver rand secret, 32 bytes */
#define K_EPOCH "E"  /* its epoch, 1 byte: a new one (and a new secret) after a crash */
#define K_CLEAN "C"  /* written by cse_esprim_save at a clean stop, deleted at start */
#define K_SHARED "S" /* the shared receiver rand object's ID */
#define K_ORIG 'o'   /* 'o' kid NUL ori -> orig_rec */
#define K_SEEN 't'   /* 't' tag -> seen_rec */

typedef struct {
    char id[RAND_ID_LEN];
    uint8_t v[CMN_E2E_RAND_LEN];
    int64_t exp;
} recv_rand;

typedef cmn_esprim_orig orig_rand;

typedef struct {
    uint8_t tag[CMN_JWE_TAG_LEN];
    int64_t exp;
    uint32_t key; /* hash of the pairwise key's kid (kid_hash), for SEEN_PER_KEY */
} seen_obj;

/* Stored forms (fixed layout, host byte order: the store is this host's). */
typedef struct {
    uint8_t v[CMN_E2E_RAND_LEN];
    int64_t exp;
    uint32_t espa;
} orig_rec;

typedef struct {
    int64_t exp;
    uint32_t key;
} seen_rec;

struct cse_esprim {
    const cse_escertke *escertke; /* advertised in e2eSecInfo when set */
    cmn_store *st;                /* CSE_ESPRIM_DB: what survives a restart */
    uint8_t secret[CMN_KEY_LEN];  /* receiver rand values: HMAC(secret, label || ID) */
    uint8_t epoch;                /* in every receiver rand ID this run gives */
    recv_rand shared;             /* exp 0: none */
    orig_rand orig[ORIG_MAX];
    seen_obj seen[SEEN_MAX];
};

/* One ESPrim exchange being handled. */
typedef struct {
    cse_esprim *e;
    cse_node *node;
    cse_esprim_dispatch_fn handle; /* request dispatch, for the inner request */
    const cse_req *req;
    cmn_esprim_rx rx; /* the object: its header, rand objects, session key; why */
    Tep__Credential *cred;
    char owner[CMN_CA_ID_MAX]; /* the key's enrolee (Kpsa, MAF) or ESCertKE initiator */
} xchg;

/* FNV-1a of a kid: which key an entry of the replay memory was answered under. */
static uint32_t kid_hash(const char *kid)
{
    uint32_t h = 2166136261u;

    for (; *kid != '\0'; kid++)
        h = (h ^ (uint8_t)*kid) * 16777619u;
    return h;
}

/* ---- receiver rand objects: derived, not stored --------------------------------------- */

/* A receiver rand object is its ID: prefix ('s' shared, 'u' given on request), the
 * secret's epoch (2 hex digits), its expiry (8 hex digits, Unix seconds) and a fresh
 * 64-bit nonce (16 hex digits); its 128-bit esprimRandValue is HMAC-SHA-256(secret,
 * RECV_LABEL || ID)[0..15] (docs/internals.md "ESPrim", State). Nothing is kept per
 * object, so requests (sit 3, unauthenticated) cannot fill anything; the objects given out
 * stay valid across a clean restart (the secret is in the store), not across a crash. */
static int recv_value(const cse_esprim *e, recv_rand *r)
{
    const uint8_t *parts[] = {(const uint8_t *)RECV_LABEL, (const uint8_t *)r->id};
    const size_t lens[] = {strlen(RECV_LABEL), strlen(r->id)};
    uint8_t mac[CMN_SHA256_LEN];
    int rc = cmn_hmac_sha256_v(e->secret, sizeof(e->secret), parts, lens, 2, mac);

    memcpy(r->v, mac, sizeof(r->v));
    cmn_wipe(mac, sizeof(mac));
    return rc;
}

static int recv_make(const cse_esprim *e, char prefix, int64_t lifetime, int64_t now,
                     recv_rand *ret)
{
    uint8_t nonce[8];
    char hex[17];
    int rc = cmn_random(nonce, sizeof(nonce));

    if (rc != 0)
        return rc;
    cmn_hex_encode(nonce, sizeof(nonce), hex);
    ret->exp = now + lifetime;
    snprintf(ret->id, sizeof(ret->id), "%c%02x%08x%s", prefix, e->epoch,
             (unsigned)(uint32_t)ret->exp, hex);
    return recv_value(e, ret);
}

/* The object named id, if this receiver made it and it is live: its expiry is read from
 * the ID (a made-up ID gets a value nobody was given, so its objects fail 4115; one whose
 * expiry is further away than any this receiver gives is refused here). */
static int recv_find(const cse_esprim *e, const char *id, int64_t now, recv_rand *ret)
{
    unsigned long exp;
    char *end;
    char num[9];

    if (id == NULL || strlen(id) != RAND_ID_LEN - 1 || (id[0] != 's' && id[0] != 'u') ||
        strspn(id + 1, "0123456789abcdef") != RAND_ID_LEN - 2)
        return CMN_ENOTFOUND;
    memcpy(num, id + 1, 2);
    num[2] = '\0';
    if (strtoul(num, &end, 16) != e->epoch)
        return CMN_ENOTFOUND; /* given before a crash: its secret is gone */
    memcpy(num, id + 3, 8);
    num[8] = '\0';
    exp = strtoul(num, &end, 16);
    if ((int64_t)exp <= now ||
        (int64_t)exp > now + (id[0] == 's' ? CSE_ESPRIM_SHARED_LT : CSE_ESPRIM_UNIQUE_LT))
        return CMN_ENOTFOUND;
    snprintf(ret->id, sizeof(ret->id), "%s", id);
    ret->exp = (int64_t)exp;
    return recv_value(e, ret);
}

static json_t *recv_json(const recv_rand *r)
{
    return cmn_esprim_rand_json(r->id, r->v, r->exp);
}

/* The shared object, renewed (and its ID stored) when it is gone or within a minute of
 * its end. */
static recv_rand *shared_now(cse_esprim *e, int64_t now, bool *ret_renewed)
{
    recv_rand r;

    *ret_renewed = false;
    if (e->shared.exp > now + 60)
        return &e->shared;
    if (recv_make(e, 's', CSE_ESPRIM_SHARED_LT, now, &r) != 0 ||
        cmn_store_put(e->st, CSE_ESPRIM_DB, K_SHARED, 1, r.id, strlen(r.id)) != 0) {
        cmn_wipe(&r, sizeof(r));
        return e->shared.exp > now ? &e->shared : NULL;
    }
    e->shared = r;
    *ret_renewed = true;
    return &e->shared;
}

json_t *cse_esprim_esi(cse_esprim *e, int64_t now)
{
    bool renewed;
    /* the current shared object as it is (renewed by an ESPrim exchange, which then
     * writes it to the CSEBase); one is made only when there is none yet */
    recv_rand *r = e->shared.exp > now ? &e->shared : shared_now(e, now, &renewed);

    json_t *esi =
        json_pack("{s:[i],s:o*}", "esf", CSE_ESPRIM_SUID, "esro", r != NULL ? recv_json(r) : NULL);
    char *crt = e->escertke != NULL ? cse_escertke_cert_b64(e->escertke) : NULL;

    if (esi != NULL && crt != NULL) { /* ESCertKE (TS-0001 11.4.3): SUID 43, the certificate */
        json_array_append_new(json_object_get(esi, "esf"), json_integer(CSE_ESPRIM_SUID_CERT));
        json_object_set_new(esi, "escert", json_pack("[s]", crt));
    }
    free(crt);
    return esi;
}

void cse_esprim_set_escertke(cse_esprim *e, const cse_escertke *ck)
{
    e->escertke = ck;
}

int cse_esprim_publish(cse_esprim *e, cmn_store *st, const char *cse_name, int64_t now)
{
    Tep__Resource *base = NULL, *done = NULL;
    json_t *attrs = json_pack("{s:o}", "esi", cse_esprim_esi(e, now));
    int rc = attrs != NULL ? cse_res_get(st, cse_name, &base) : CMN_ENOMEM;

    if (rc == 0 && cse_res_update(st, base, attrs, now, &done) != CMN_RSC_UPDATED)
        rc = CMN_ESTORE;
    cse_res_free(done);
    cse_res_free(base);
    json_decref(attrs);
    return rc;
}

/* ---- originator rand objects and the replay memory -------------------------------------- */

/* "o" kid NUL ori: the key of an originator rand object's record. */
static size_t orig_key(const orig_rand *o, uint8_t *buf, size_t len)
{
    size_t k = strlen(o->kid), n = 1 + k + 1 + strlen(o->id);

    if (n > len)
        return 0;
    buf[0] = K_ORIG;
    memcpy(buf + 1, o->kid, k + 1);
    memcpy(buf + 2 + k, o->id, strlen(o->id));
    return n;
}

static orig_rand *orig_find(cse_esprim *e, const char *kid, const char *id)
{
    for (size_t i = 0; i < ORIG_MAX; i++)
        if (e->orig[i].exp != 0 && strcmp(e->orig[i].id, id) == 0 &&
            strcmp(e->orig[i].kid, kid) == 0)
            return &e->orig[i];
    return NULL;
}

/* The slot for o: its own, else (its key holding ORIG_PER_KEY live ones) that key's
 * oldest, else an expired one, else the oldest of all. */
static orig_rand *orig_slot(cse_esprim *e, const orig_rand *o, int64_t now)
{
    orig_rand *slot = orig_find(e, o->kid, o->id), *free_slot = NULL, *oldest = &e->orig[0],
              *own_oldest = NULL;
    size_t own = 0;

    for (size_t i = 0; slot == NULL && i < ORIG_MAX; i++) {
        orig_rand *c = &e->orig[i];

        if (c->exp <= now) {
            free_slot = free_slot != NULL ? free_slot : c;
            continue;
        }
        if (c->exp < oldest->exp || oldest->exp <= now)
            oldest = c;
        if (strcmp(c->kid, o->kid) == 0 && (own++, own_oldest == NULL || c->exp < own_oldest->exp))
            own_oldest = c;
    }
    if (slot != NULL)
        return slot;
    if (own >= ORIG_PER_KEY)
        return own_oldest;
    return free_slot != NULL ? free_slot : oldest;
}

static bool seen_before(const cse_esprim *e, const uint8_t tag[CMN_JWE_TAG_LEN], int64_t now)
{
    for (size_t i = 0; i < SEEN_MAX; i++)
        if (e->seen[i].exp > now && memcmp(e->seen[i].tag, tag, CMN_JWE_TAG_LEN) == 0)
            return true;
    return false;
}

/* A slot of the replay memory for an object answered under key: one whose entry expired;
 * NULL when the memory is full of live entries, or key already holds SEEN_PER_KEY of
 * them: the object is then refused before its inner request runs (fail closed, and one
 * key holder cannot take the memory from the others). */
static seen_obj *seen_slot(cse_esprim *e, uint32_t key, int64_t now)
{
    seen_obj *slot = NULL;
    size_t own = 0;

    for (size_t i = 0; i < SEEN_MAX; i++) {
        if (e->seen[i].exp <= now)
            slot = slot != NULL ? slot : &e->seen[i];
        else if (e->seen[i].key == key && ++own >= SEEN_PER_KEY)
            return NULL;
    }
    return slot;
}

/* The answered object: its tag in seen (never again), the originator rand object when it
 * came with it. Memory only: cse_esprim_save writes it all at a clean stop. */
static void remember(xchg *x, seen_obj *seen)
{
    memcpy(seen->tag, x->rx.jwe->tag, CMN_JWE_TAG_LEN);
    seen->exp = x->rx.oro.exp;
    seen->key = kid_hash(x->rx.kid);
    if (x->rx.oro_new)
        *orig_slot(x->e, &x->rx.oro, x->req->now) = x->rx.oro;
}

/* ---- the state across a restart ---------------------------------------------------------- */

static int del_ok(int rc)
{
    return rc == CMN_ENOTFOUND ? 0 : rc;
}

int cse_esprim_save(cse_esprim *e, int64_t now)
{
    uint8_t key[1 + CMN_KEY_ID_MAX + 64], tkey[1 + CMN_JWE_TAG_LEN];
    size_t n_orig = 0, n_seen = 0;
    cmn_txn *t = NULL;
    int rc;

    if (e == NULL)
        return 0;
    if ((rc = cmn_store_txn_begin(e->st, &t)) == 0)
        rc = cmn_txn_del_prefix(t, CSE_ESPRIM_DB, "o", 1, NULL);
    if (rc == 0)
        rc = cmn_txn_del_prefix(t, CSE_ESPRIM_DB, "t", 1, NULL);
    for (size_t i = 0; rc == 0 && i < ORIG_MAX; i++) {
        const orig_rand *o = &e->orig[i];
        orig_rec r = {{0}, o->exp, o->espa};
        size_t n = o->exp > now ? orig_key(o, key, sizeof(key)) : 0;

        memcpy(r.v, o->v, sizeof(r.v));
        if (n > 0 && (rc = cmn_txn_put(t, CSE_ESPRIM_DB, key, n, &r, sizeof(r))) == 0)
            n_orig++;
    }
    for (size_t i = 0; rc == 0 && i < SEEN_MAX; i++) {
        seen_rec r = {e->seen[i].exp, e->seen[i].key};

        if (e->seen[i].exp <= now)
            continue;
        tkey[0] = K_SEEN;
        memcpy(tkey + 1, e->seen[i].tag, CMN_JWE_TAG_LEN);
        if ((rc = cmn_txn_put(t, CSE_ESPRIM_DB, tkey, sizeof(tkey), &r, sizeof(r))) == 0)
            n_seen++;
    }
    if (rc == 0)
        rc = cmn_txn_put(t, CSE_ESPRIM_DB, K_CLEAN, 1, "1", 1);
    if (rc == 0)
        rc = cmn_txn_commit(t);
    else
        cmn_txn_abort(t);
    if (rc == 0)
        CMN_INFO(SUB, "event=esprim_state_saved originator_rand=%zu replay_memory=%zu", n_orig,
                 n_seen);
    else
        CMN_WARN(SUB, "event=esprim_state_not_saved err=%s", cmn_strerror(rc));
    return rc;
}

typedef struct {
    cse_esprim *e;
    int64_t now;
    size_t n_orig, n_seen;
} loader;

static int load_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    loader *l = arg;
    const uint8_t *k = key;

    if (klen > 1 && k[0] == K_SEEN && klen == 1 + CMN_JWE_TAG_LEN && vlen == sizeof(seen_rec)) {
        seen_rec r;

        memcpy(&r, val, sizeof(r));
        if (r.exp <= l->now || l->n_seen == SEEN_MAX)
            return 0;
        memcpy(l->e->seen[l->n_seen].tag, k + 1, CMN_JWE_TAG_LEN);
        l->e->seen[l->n_seen].exp = r.exp;
        l->e->seen[l->n_seen++].key = r.key;
    } else if (klen > 2 && k[0] == K_ORIG && vlen == sizeof(orig_rec)) {
        const char *kid = (const char *)k + 1;
        size_t kl = strnlen(kid, klen - 1), il = klen - 2 - kl;
        orig_rand *o = l->n_orig < ORIG_MAX ? &l->e->orig[l->n_orig] : NULL;
        orig_rec r;

        memcpy(&r, val, sizeof(r));
        if (o == NULL || r.exp <= l->now || kl + 1 >= klen || kl >= sizeof(o->kid) ||
            il >= sizeof(o->id))
            return 0;
        memcpy(o->kid, kid, kl + 1);
        memcpy(o->id, kid + kl + 1, il);
        o->id[il] = '\0';
        memcpy(o->v, r.v, sizeof(o->v));
        o->exp = r.exp;
        o->espa = r.espa;
        l->n_orig++;
    }
    return 0;
}

/* One record of CSE_ESPRIM_DB (its value into buf, at most len bytes; *ret_len): 0,
 * CMN_ENOTFOUND, or an error. */
static int get_rec(cmn_store *st, const char *key, void *buf, size_t len, size_t *ret_len)
{
    void *val = NULL;
    size_t vlen = 0;
    int rc = cmn_store_get(st, CSE_ESPRIM_DB, key, strlen(key), &val, &vlen);

    if (rc == 0 && vlen > len)
        rc = CMN_ECORRUPT;
    if (rc == 0) {
        memcpy(buf, val, vlen);
        *ret_len = vlen;
    }
    if (val != NULL)
        cmn_store_free_val(val, vlen);
    return rc;
}

/* After a clean stop (cse_esprim_save's marker): the secret, its epoch, the shared
 * object, the live originator rand objects and replay memory, then the marker and those
 * records are deleted (in memory now; a crash from here on must not find them). After a
 * crash, or the first time: a new secret and epoch, so that every receiver rand object
 * given before is unknown (4114) and no object answered before can be replayed. */
static int load(cse_esprim *e, int64_t now, bool *ret_clean, loader *l)
{
    char shared[RAND_ID_LEN];
    uint8_t c;
    size_t n = 0;
    cmn_txn *t = NULL;
    int rc = get_rec(e->st, K_CLEAN, &c, 1, &n);
    bool clean = rc == 0;

    rc = rc == CMN_ENOTFOUND ? 0 : rc;
    if (rc == 0 && clean && (rc = get_rec(e->st, K_SECRET, e->secret, sizeof(e->secret), &n)) == 0)
        rc = n == sizeof(e->secret) ? 0 : CMN_ECORRUPT;
    if (rc == 0 && get_rec(e->st, K_EPOCH, &e->epoch, 1, &n) != 0)
        e->epoch = 0;
    if (rc == 0 && clean) {
        *l = (loader){.e = e, .now = now};
        rc = cmn_store_foreach(e->st, CSE_ESPRIM_DB, NULL, 0, load_one, l);
        if (rc == 0 && get_rec(e->st, K_SHARED, shared, sizeof(shared) - 1, &n) == 0) {
            shared[n] = '\0';
            if (recv_find(e, shared, now, &e->shared) != 0)
                memset(&e->shared, 0, sizeof(e->shared));
        }
    } else if (rc == 0) {
        e->epoch++;
        rc = cmn_random(e->secret, sizeof(e->secret));
    }
    if (rc == 0 && (rc = cmn_store_txn_begin(e->st, &t)) == 0)
        rc = del_ok(cmn_txn_del(t, CSE_ESPRIM_DB, K_CLEAN, 1));
    if (rc == 0)
        rc = cmn_txn_del_prefix(t, CSE_ESPRIM_DB, "o", 1, NULL);
    if (rc == 0)
        rc = cmn_txn_del_prefix(t, CSE_ESPRIM_DB, "t", 1, NULL);
    if (rc == 0 && !clean)
        rc = cmn_txn_put(t, CSE_ESPRIM_DB, K_SECRET, 1, e->secret, sizeof(e->secret));
    if (rc == 0 && !clean)
        rc = cmn_txn_put(t, CSE_ESPRIM_DB, K_EPOCH, 1, &e->epoch, 1);
    if (rc == 0 && !clean)
        rc = del_ok(cmn_txn_del(t, CSE_ESPRIM_DB, K_SHARED, 1));
    if (rc == 0)
        rc = cmn_txn_commit(t);
    else
        cmn_txn_abort(t);
    *ret_clean = clean;
    return rc;
}

int cse_esprim_new(cmn_store *st, int64_t now, cse_esprim **ret)
{
    loader l = {0};
    bool clean = false;
    int rc;

    *ret = calloc(1, sizeof(**ret));
    if (*ret == NULL)
        return CMN_ENOMEM;
    (*ret)->st = st;
    if ((rc = load(*ret, now, &clean, &l)) != 0) {
        cse_esprim_free(*ret);
        *ret = NULL;
        return rc;
    }
    CMN_INFO(SUB,
             "event=esprim_state_loaded clean=%d epoch=%u originator_rand=%zu replay_memory=%zu "
             "shared=%s",
             clean, (unsigned)(*ret)->epoch, l.n_orig, l.n_seen,
             (*ret)->shared.exp != 0 ? (*ret)->shared.id : "none");
    return 0;
}

void cse_esprim_free(cse_esprim *e)
{
    cmn_free_secret(e, e != NULL ? sizeof(*e) : 0);
}

/* ---- the outer request ------------------------------------------------------------------ */

bool cse_esprim_claims(const cse_node *node, const cse_req *req)
{
    json_t *seci;
    json_int_t sit;

    if (node->esprim == NULL || req->op != CMN_OP_NOTIFY ||
        !cse_escertke_to_csebase(node, req->path))
        return false;
    if ((seci = cse_escertke_seci(req)) == NULL)
        return false;
    sit = json_integer_value(json_object_get(seci, "sit"));
    json_decref(seci);
    return sit == 3 || sit == 5;
}

static void answer(cse_rsp *rsp, unsigned rsc, json_t *body)
{
    rsp->rsc = rsc;
    rsp->cf = CMN_CF_JSON;
    rsp->body = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (body != NULL && rsp->body == NULL)
        rsp->rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
}

static void refuse(cse_rsp *rsp, unsigned rsc, const char *why)
{
    answer(rsp, rsc, cmn_esprim_dbg(why));
    snprintf(rsp->reason, sizeof(rsp->reason), "%s", why);
}

/* sit 3: a receiverESPrimRandObject of its own for the asker (TS-0004 7.5.1.2.11). */
static void rand_request(cse_esprim *e, const cse_req *req, cse_rsp *rsp)
{
    recv_rand r;
    int rc = recv_make(e, 'u', CSE_ESPRIM_UNIQUE_LT, req->now, &r); /* nothing kept */

    if (rc != 0) {
        refuse(rsp, CMN_RSC_INTERNAL_SERVER_ERROR, "no random");
        return;
    }
    answer(rsp, CMN_RSC_OK, json_pack("{s:{s:i,s:o}}", "m2m:seci", "sit", 4, "ero", recv_json(&r)));
    CMN_INFO(SUB, "event=esprim_rand_given esri=%s", r.id);
}

/* ---- C.6: the ESPrim object ----------------------------------------------------------------- */

/* The header's alg and enc before anything else: 4111 for what tep does not do. */
static unsigned check_header(xchg *x, const char *epo)
{
    const char *dot = strchr(epo, '.');
    json_t *h = NULL;
    const char *alg, *enc;
    unsigned rsc = 0;

    if (dot == NULL || cmn_b64url_json_object(epo, (size_t)(dot - epo), &h) != 0)
        return (x->rx.why = "not a JWE", CMN_RSC_BAD_REQUEST);
    alg = json_string_value(json_object_get(h, "alg"));
    enc = json_string_value(json_object_get(h, "enc"));
    if (alg == NULL || strcmp(alg, "dir") != 0 || cmn_esprim_espa_of(enc) == 0)
        rsc = (x->rx.why = "alg or enc not supported", CMN_RSC_ESPRIM_UNSUPPORTED_OPTION);
    json_decref(h);
    if (rsc == 0 && cmn_jwe_decode(epo, &x->rx.jwe) != 0)
        rsc = (x->rx.why = "malformed JWE", CMN_RSC_BAD_REQUEST);
    return rsc;
}

/* Whose key x->cred is: its enrolee; for a MEF key (SUID 22/23, Kuc) of an AE enrolled
 * for another CSE (the enroller told us, SyncItem.ae_target: the same KeID, live), the
 * AE as this CSE knows it behind that registrar, "/<registrar>/<AE-ID>": the inner From
 * it must use, as for an ESCertKE key through a transit CSE. */
static void key_owner(xchg *x)
{
    const Tep__Credential *c = x->cred;
    Tep__TransitEnrolment *te = NULL;

    snprintf(x->owner, sizeof(x->owner), "%s", c->enrolee_id);
    if ((c->suid != CSE_SUID_RSPF_SAEF && c->suid != CSE_SUID_RSPF_ESPRIM) ||
        c->enrolee_id[0] == '/' || cse_transit_get(x->node->store, c->enrolee_id, &te) != 0)
        return;
    if (!te->revoked && (te->expires == 0 || te->expires > x->req->now) &&
        strcmp(te->ke_id, c->ke_id) == 0 && strcmp(te->registrar, x->node->cse_id) != 0)
        snprintf(x->owner, sizeof(x->owner), "%s/%s", te->registrar, c->enrolee_id);
    tep__transit_enrolment__free_unpacked(te, NULL);
}

/* C.6a: the pairwiseESPrimKey of the kid: a pairwiseE2EKey from ESCertKE (8.7, owned by
 * the initiator's certificate ID), a live Kpsa (SUID 22), an ESPrim key from the MEF (SUID
 * 23, Kuc of MEF Key Registration) or from the MAF (SUID 33), whose source is the enrolee;
 * B = this CSE-ID in every case. */
static unsigned pairwise_key(cmn_esprim_rx *rx, uint8_t ret[CMN_KEY_LEN])
{
    xchg *x = rx->arg;
    cmn_e2e_keys k;
    int rc;
    uint8_t pair[CMN_KEY_LEN];

    if (cse_escertke_key(x->node->escertke, x->node->store, rx->kid, x->req->now, pair, x->owner,
                         sizeof(x->owner)) == 0) { /* a pairwiseE2EKey from ESCertKE (8.7) */
        rc = cmn_e2e_keys_from_pair(pair, x->node->cse_id, &k);
        cmn_wipe(pair, sizeof(pair));
    } else if (cse_cred_get(x->node->store, rx->kid, &x->cred) != 0 ||
               (x->cred->suid != CSE_SUID_RSPF_SAEF && x->cred->suid != CSE_SUID_RSPF_ESPRIM &&
                x->cred->suid != CSE_MAF_SUID_ESPRIM) ||
               x->cred->revoked || x->cred->key.len != CMN_KEY_LEN ||
               (x->cred->expires != 0 && x->cred->expires <= x->req->now)) {
        if (x->cred == NULL && cmn_kdf_is_key_id(rx->kid))
            cse_saef_want(rx->kid); /* C.6a.2: a MAF key, fetched by the loop: retry */
        return (rx->why = "unknown or expired pairwiseESPrimKeyID", CMN_RSC_ESPRIM_UNKNOWN_KEY_ID);
    } else {
        key_owner(x);
        rc = cmn_e2e_keys_from_pair(x->cred->key.data, x->node->cse_id, &k);
    }
    if (rc == 0)
        memcpy(ret, k.msg_conf, CMN_KEY_LEN);
    cmn_wipe(&k, sizeof(k));
    return rc == 0 ? 0 : (rx->why = "key derivation", CMN_RSC_ESPRIM_DECRYPTION_ERROR);
}

/* The receiver rand object named id: derived from the secret (recv_find). */
static int recv_rand_of(cmn_esprim_rx *rx, const char *id, uint8_t ret_v[CMN_E2E_RAND_LEN],
                        int64_t *ret_exp)
{
    xchg *x = rx->arg;
    recv_rand r;
    int rc = recv_find(x->e, id, x->req->now, &r);

    if (rc == 0) {
        memcpy(ret_v, r.v, CMN_E2E_RAND_LEN);
        *ret_exp = r.exp;
    }
    cmn_wipe(&r, sizeof(r));
    return rc;
}

static const orig_rand *orig_rand_of(cmn_esprim_rx *rx, const char *kid, const char *id)
{
    xchg *x = rx->arg;
    const orig_rand *o = orig_find(x->e, kid, id);

    return o != NULL && o->exp > x->req->now ? o : NULL;
}

static bool seen_of(cmn_esprim_rx *rx, const uint8_t tag[CMN_JWE_TAG_LEN])
{
    xchg *x = rx->arg;

    return seen_before(x->e, tag, x->req->now);
}

static const cmn_esprim_rx_ops rx_ops = {pairwise_key, recv_rand_of, orig_rand_of, seen_of};

/* C.6a-C.6c up to the verified plaintext. */
static unsigned open_object(xchg *x, const char *epo, uint8_t **ret_pt, size_t *ret_len)
{
    unsigned rsc = check_header(x, epo);

    return rsc != 0 ? rsc : cmn_esprim_rx_open(&x->rx, ret_pt, ret_len);
}

/* ---- C.7: the inner request ----------------------------------------------------------------- */

typedef struct {
    char path[CSE_PATH_MAX + 2];
    char query[64];
    char *body;
    json_t *root;
} inner_req;

/* The inner request primitive (TS-0004 8.4.2 JSON: op, to, fr, rqi, ty, pc, rvi, rcn) as a
 * cse_req bound to the key's enrolee. */
static unsigned inner_of(xchg *x, const uint8_t *pt, size_t len, inner_req *in, cse_req *r)
{
    const char *to, *fr, *local;
    json_t *pc;

    in->root = json_loadb((const char *)pt, len, JSON_REJECT_DUPLICATES, NULL);
    to = json_string_value(json_object_get(in->root, "to"));
    fr = json_string_value(json_object_get(in->root, "fr"));
    if (!json_is_object(in->root) || !json_is_integer(json_object_get(in->root, "op")) ||
        to == NULL || fr == NULL ||
        snprintf(in->path, sizeof(in->path), "%s%s", to[0] == '/' ? "~" : "", to) >=
            (int)sizeof(in->path))
        return (x->rx.why = "not a request primitive", CMN_RSC_ESPRIM_DECRYPTION_ERROR);
    local = cse_binding_local_id(x->node->cse_id, fr);
    if (strcmp(local, x->owner) != 0)
        return (x->rx.why = "inner From is not the key's owner", CMN_RSC_ESPRIM_IMPERSONATION);
    *r = *x->req;
    r->op = (int)json_integer_value(json_object_get(in->root, "op"));
    r->path = in->path;
    r->from = local;
    r->ty = (uint32_t)json_integer_value(json_object_get(in->root, "ty"));
    r->rqi = json_string_value(json_object_get(in->root, "rqi"));
    if (json_string_value(json_object_get(in->root, "rvi")) != NULL)
        r->rvi = json_string_value(json_object_get(in->root, "rvi"));
    r->query = NULL;
    if (json_is_integer(json_object_get(in->root, "rcn"))) {
        snprintf(in->query, sizeof(in->query), "rcn=%d",
                 (int)json_integer_value(json_object_get(in->root, "rcn")));
        r->query = in->query;
    }
    pc = json_object_get(in->root, "pc");
    in->body = pc != NULL ? json_dumps(pc, JSON_COMPACT) : NULL;
    r->body = in->body;
    r->body_len = in->body != NULL ? strlen(in->body) : 0;
    r->cf = in->body != NULL ? CMN_CF_JSON : 0;
    r->has_accept = false;
    r->secure = true; /* authenticated by ESPrim (TS-0003 7.1.2, 7.2.2) */
    r->bound_id = x->owner;
    r->bound_admin = false;
    return 0;
}

/* C.8: the inner response as an ESPrim object with the same session key. */
static unsigned protect_response(xchg *x, const cse_req *inner, const cse_rsp *irsp, cse_rsp *rsp)
{
    json_t *prim =
        json_pack("{s:i,s:s,s:s,s:s}", "rsc", (int)irsp->rsc, "rqi",
                  inner->rqi != NULL ? inner->rqi : "", "to", inner->from, "fr", x->node->cse_id);
    json_t *pc = irsp->body != NULL ? json_loads(irsp->body, 0, NULL) : NULL;
    char *epo = NULL;
    unsigned rsc = CMN_RSC_ESPRIM_ENCRYPTION_ERROR;

    if (pc != NULL)
        json_object_set_new(prim, "pc", pc);
    if (inner->rvi != NULL)
        json_object_set_new(prim, "rvi", json_string(inner->rvi));
    if (cmn_esprim_rx_seal(&x->rx, prim, &epo) == 0)
        rsc = 0;
    if (rsc == 0)
        answer(rsp, CMN_RSC_OK, json_pack("{s:{s:i,s:s}}", "m2m:seci", "sit", 5, "epo", epo));
    else
        x->rx.why = "response encryption";
    free(epo);
    json_decref(prim);
    return rsc;
}

static void handle_object(xchg *x, const char *epo, cse_rsp *rsp)
{
    inner_req in = {0};
    cse_req inner;
    cse_rsp irsp = {0};
    uint8_t *pt = NULL;
    size_t len = 0;
    unsigned rsc = open_object(x, epo, &pt, &len);
    char o[96];

    seen_obj *slot = rsc == 0 ? seen_slot(x->e, kid_hash(x->rx.kid), x->req->now) : NULL;

    if (rsc == 0 && slot == NULL)
        rsc = (x->rx.why = "replay memory full", CMN_RSC_TARGET_NOT_REACHABLE);
    if (rsc == 0)
        rsc = inner_of(x, pt, len, &in, &inner);
    if (rsc == 0) {
        x->handle(x->node, &inner, &irsp); /* dispatch (cse_request_handle) */
        if (irsp.deciding) { /* parked: this whole object is handled again, nothing kept */
            rsp->deciding = true;
            goto out;
        }
        if (irsp.rsc == 0) { /* forwarding or a subscription verification: not inside ESPrim */
            cse_rsp_clear(&irsp);
            irsp.rsc = CMN_RSC_NOT_IMPLEMENTED;
        }
        remember(x, slot);
        rsc = protect_response(x, &inner, &irsp, rsp);
    }
    if (rsc != 0) {
        refuse(rsp, rsc, x->rx.why != NULL ? x->rx.why : "refused");
        CMN_WARN(SUB, "event=esprim_refused rsc=%u reason=\"%s\" kid=%s", rsc, x->rx.why,
                 cmn_log_value(x->rx.kid, o, sizeof(o)));
    } else {
        CMN_INFO(SUB, "event=esprim_answered kid=%s originator=%s inner_rsc=%u", x->rx.kid,
                 x->owner, irsp.rsc);
    }
out:
    cse_rsp_clear(&irsp);
    free(in.body);
    json_decref(in.root);
    if (pt != NULL)
        cmn_free_secret(pt, len + 1);
}

void cse_esprim_handle(cse_node *node, const cse_req *req, cse_rsp *rsp,
                       cse_esprim_dispatch_fn handle)
{
    json_t *seci = cse_escertke_seci(req);
    const char *epo = json_string_value(json_object_get(seci, "epo"));
    xchg x = {.e = node->esprim,
              .node = node,
              .handle = handle,
              .req = req,
              .rx = {.ops = &rx_ops, .arg = &x, .now = req->now}};
    bool renewed;

    memset(rsp, 0, sizeof(*rsp));
    rsp->cf = CMN_CF_JSON;
    /* the shared receiver rand object near its end: a new one, shown on the CSEBase */
    if (shared_now(node->esprim, req->now, &renewed) != NULL && renewed &&
        cse_esprim_publish(node->esprim, node->store, node->cse_name, req->now) != 0)
        CMN_WARN(SUB, "event=esprim_esi_not_written");
    if (json_integer_value(json_object_get(seci, "sit")) == 3)
        rand_request(node->esprim, req, rsp);
    else if (epo == NULL)
        refuse(rsp, CMN_RSC_BAD_REQUEST, "no esprimObject");
    else
        handle_object(&x, epo, rsp);
    cmn_esprim_rx_clear(&x.rx);
    cse_cred_free(x.cred);
    json_decref(seci);
}
