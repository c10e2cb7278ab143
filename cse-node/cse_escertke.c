/* ESCertKE at tep-cse as the Terminating End-Point (see cse_escertke.h). */
#include "cse_escertke.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "cmn_ca.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_escertke.h"
#include "cmn_log.h"
#include "cmn_onem2m.h"
#include "cmn_pki.h"
#include "cse_binding.h"
#include "cse_esprim.h"
#include "cse_saef.h"
#include "cse_sync.h"

#define SUB "escertke"
#define HS_MAX 64 /* handshakes in progress */
/* Message 1 is unauthenticated (its From too): handshakes in progress are counted per
 * carrier, what the NOTIFY came over, so that no one fills the table for the others. */
#define HS_PER_AE 2     /* a DTLS session bound to an AE */
#define HS_PER_CSE 16   /* ... to a CSE (a transit registrar, for the originators behind it) */
#define HS_PER_ADDR 4   /* plain CoAP from one IP address */
#define HS_PLAIN_MAX 32 /* plain CoAP altogether: the rest stays for authenticated carriers */
#define CARRIER_MAX (CMN_CA_ID_MAX + 8)
#define KEYS_MAX 256 /* established keys */
#define KID_LEN (2 * CMN_REL_ID_LEN + 1)

typedef struct {
    char from[CMN_CA_ID_MAX];
    char carrier[CARRIER_MAX]; /* "id:<bound ID>" or "ip:<address>" (carrier_of) */
    cmn_escertke *k;
    int64_t exp;
} hs_slot;

typedef struct {
    char kid[KID_LEN];
    char owner[CMN_CA_ID_MAX];
    char serial[CMN_CA_SERIAL_MAX]; /* the owner's certificate: still usable? */
    int64_t not_after;
    uint8_t key[CMN_KEY_LEN];
    int64_t exp;
} key_slot;

/* An established key as stored (CSE_ESPRIM_DB, key "k" + kid): fixed layout, host byte
 * order. Its certificate and enrolment are checked again at each use, as in memory. */
typedef struct {
    char owner[CMN_CA_ID_MAX];
    char serial[CMN_CA_SERIAL_MAX];
    int64_t not_after;
    uint8_t key[CMN_KEY_LEN];
    int64_t exp;
} key_rec;

struct cse_escertke {
    uint8_t ca[CMN_CA_CERT_DER_MAX], cert[CMN_CA_CERT_DER_MAX], key[CMN_CA_KEY_DER_MAX];
    size_t ca_len, cert_len, key_len;
    hs_slot hs[HS_MAX];
    key_slot keys[KEYS_MAX];
};

int cse_escertke_new(const char *cert_file, const char *key_file, const char *ca_file,
                     cse_escertke **ret)
{
    cse_escertke *e;
    int rc;

    *ret = NULL;
    if (cert_file == NULL || cert_file[0] == '\0')
        return 0;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return CMN_ENOMEM;
    e->ca_len = sizeof e->ca;
    e->cert_len = sizeof e->cert;
    e->key_len = sizeof e->key;
    rc = cmn_pki_read_pem(cert_file, "CERTIFICATE", e->cert, &e->cert_len);
    if (rc == 0)
        rc = cmn_pki_read_pem(key_file, "EC PRIVATE KEY", e->key, &e->key_len);
    if (rc == 0)
        rc = cmn_pki_read_pem(ca_file, "CERTIFICATE", e->ca, &e->ca_len);
    if (rc != 0) {
        cse_escertke_free(e);
        return rc;
    }
    *ret = e;
    return 0;
}

json_t *cse_escertke_seci(const cse_req *req)
{
    json_t *root, *seci;

    if (req->body == NULL || req->body_len == 0)
        return NULL;
    root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    seci = json_object_get(root, "m2m:seci");
    if (!json_is_object(seci) || json_object_size(root) != 1) {
        json_decref(root);
        return NULL;
    }
    json_incref(seci);
    json_decref(root);
    return seci;
}

bool cse_escertke_to_csebase(const cse_node *node, const char *path)
{
    const char *p = path;
    size_t n = strlen(node->cse_id + 1);

    if (p == NULL)
        return false;
    if (strncmp(p, "~/", 2) == 0) { /* SP-relative: "~/<cse-id>/<cse-name>" or "~/<cse-id>" */
        if (strncmp(p + 2, node->cse_id + 1, n) != 0)
            return false;
        p += 2 + n;
        if (*p == '\0')
            return true;
        if (*p++ != '/')
            return false;
    }
    return strcmp(p, node->cse_name) == 0 || strcmp(p, "-") == 0 ||
           strcmp(p, node->cse_id + 1) == 0;
}

static void hs_drop(hs_slot *s)
{
    cmn_escertke_free(s->k);
    memset(s, 0, sizeof *s);
}

void cse_escertke_free(cse_escertke *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < HS_MAX; i++)
        hs_drop(&e->hs[i]);
    cmn_free_secret(e, sizeof *e);
}

bool cse_escertke_claims(const cse_node *node, const cse_req *req)
{
    json_t *seci;
    bool mine;

    if (node->escertke == NULL || req->op != CMN_OP_NOTIFY ||
        !cse_escertke_to_csebase(node, req->path))
        return false;
    seci = cse_escertke_seci(req);
    mine = json_integer_value(json_object_get(seci, "sit")) == CMN_ESCERTKE_SIT;
    json_decref(seci);
    return mine;
}

static void refuse(cse_rsp *rsp, unsigned rsc, const char *why, const char *from)
{
    char dbg[160], o[96];
    json_t *b;

    snprintf(dbg, sizeof(dbg), "ESCertKE: %s", why);
    b = json_pack("{s:s}", "m2m:dbg", dbg);
    rsp->rsc = rsc;
    rsp->cf = CMN_CF_JSON;
    rsp->body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    snprintf(rsp->reason, sizeof(rsp->reason), "%s", why);
    CMN_WARN(SUB, "event=escertke_refused rsc=%u reason=\"%s\" originator=%s", rsc, why,
             cmn_log_value(from, o, sizeof(o)));
}

/* Message 1 is a TLS handshake record whose first message is a ClientHello. */
static bool is_client_hello(const uint8_t *m, size_t len)
{
    return len > 5 && m[0] == 22 && m[5] == 1;
}

/* What the NOTIFY came over: the security association's bound ID, else the peer's IP
 * address (plain CoAP). A handshake is correlated by From and carrier, so a Message 1
 * claiming someone's From from elsewhere does not replace that one's handshake. */
static void carrier_of(const cse_req *req, char buf[CARRIER_MAX])
{
    if (req->bound_id != NULL)
        snprintf(buf, CARRIER_MAX, "id:%s", req->bound_id);
    else
        snprintf(buf, CARRIER_MAX, "ip:%s", req->peer_ip != NULL ? req->peer_ip : "?");
}

static hs_slot *hs_find(cse_escertke *e, const char *from, const char *carrier, int64_t now)
{
    for (size_t i = 0; i < HS_MAX; i++) {
        if (e->hs[i].k != NULL && e->hs[i].exp <= now)
            hs_drop(&e->hs[i]);
        if (e->hs[i].k != NULL && strcmp(e->hs[i].from, from) == 0 &&
            strcmp(e->hs[i].carrier, carrier) == 0)
            return &e->hs[i];
    }
    return NULL;
}

/* A free slot for a new handshake over carrier (hs_find dropped the expired ones), or
 * NULL with *why when the carrier, the plain carriers together or the table are full:
 * a new handshake is refused, none in progress is evicted. */
static hs_slot *hs_free_slot(cse_escertke *e, const char *carrier, const char **why)
{
    bool plain = strncmp(carrier, "ip:", 3) == 0;
    size_t mine = 0, plain_n = 0,
           cap = plain               ? HS_PER_ADDR
                 : carrier[3] == '/' ? HS_PER_CSE
                                     : HS_PER_AE;
    hs_slot *slot = NULL;

    for (size_t i = 0; i < HS_MAX; i++) {
        if (e->hs[i].k == NULL) {
            slot = slot != NULL ? slot : &e->hs[i];
            continue;
        }
        mine += strcmp(e->hs[i].carrier, carrier) == 0;
        plain_n += strncmp(e->hs[i].carrier, "ip:", 3) == 0;
    }
    if (mine >= cap)
        return (*why = "too many handshakes in progress for this peer", NULL);
    if (plain && plain_n >= HS_PLAIN_MAX)
        return (*why = "too many unauthenticated handshakes in progress", NULL);
    if (slot == NULL)
        *why = "too many handshakes in progress";
    return slot;
}

/* The certificate naming peer may own the key of the outer From from: peer itself, or,
 * through a transit CSE, its SP-relative AE-ID "<via>/<peer>" when the NOTIFYs came over
 * the security association of that CSE via, the registrar that vouches for the originators
 * behind it (TS-0003 7.2.1; TS-0004 7.3.2.6 made the From SP-relative). */
static bool names_originator(const char *peer, const char *from, const char *via)
{
    size_t n = via != NULL ? strlen(via) : 0;

    if (strcmp(peer, from) == 0)
        return true;
    return n > 1 && via[0] == '/' && peer[0] != '/' && strncmp(from, via, n) == 0 &&
           from[n] == '/' && strcmp(from + n + 1, peer) == 0;
}

/* The enrolment of the AE-ID ae, enrolled for the CSE via (its registrar, through which
 * it reached us), as the enroller told this CSE (SyncItem.ae_target): known, enrolled
 * for via, neither revoked nor expired, and the certificate issued under it (its serial
 * names the KeID: a replaced enrolment's certificate is no longer usable). */
static int transit_usable(cmn_store *st, const char *serial, const char *via, size_t via_len,
                          const char *ae, int64_t now, const char **reason)
{
    Tep__TransitEnrolment *te = NULL;
    int rc = cse_transit_get(st, ae, &te);

    if (rc == CMN_ENOTFOUND)
        *reason = "enrolment_unknown";
    else if (rc != 0)
        *reason = "store_error";
    else if (strlen(te->registrar) != via_len || strncmp(te->registrar, via, via_len) != 0)
        rc = (*reason = "enrolled_for_another_cse", CMN_EDENIED);
    else if (te->revoked)
        rc = (*reason = "enrolment_revoked", CMN_EDENIED);
    else if (te->expires != 0 && te->expires <= now)
        rc = (*reason = "enrolment_expired", CMN_EEXPIRED);
    else if (!cmn_ca_serial_bound_to(serial, te->ke_id))
        rc = (*reason = "cert_not_of_current_enrolment", CMN_EDENIED);
    if (te != NULL)
        tep__transit_enrolment__free_unpacked(te, NULL);
    return rc;
}

/* The certificate of owner still usable: as for the certificate SAEF (its enrolment
 * current, TS-0003 10.7), or, for an SP-relative owner "/<via>/<AE-ID>" (registered at
 * the CSE via, whose enrolment's credential went to via, not here), not expired, its
 * serial not revoked (CERT_REVOKED reaches every target) and the AE's enrolment for via
 * current (transit_usable). */
static int cert_usable(cmn_store *st, const char *serial, const char *owner, int64_t not_after,
                       int64_t now, const char **reason)
{
    const char *slash = owner[0] == '/' ? strchr(owner + 1, '/') : NULL;
    int rc;

    if (owner[0] != '/')
        return cse_saef_cert_usable(st, serial, owner, not_after, now, reason);
    rc = now < not_after ? cse_cert_revoked(st, serial) : CMN_EEXPIRED;
    *reason = rc == CMN_EDENIED ? "cert_revoked" : rc != 0 ? "cert_expired_or_store" : NULL;
    if (rc == 0 && (slash == NULL || slash[1] == '\0'))
        rc = (*reason = "not_an_sp_relative_ae_id", CMN_EDENIED);
    if (rc == 0)
        rc = transit_usable(st, serial, owner, (size_t)(slash - owner), slash + 1, now, reason);
    return rc;
}

/* ---- established keys in the store: they outlive a restart ------------------------------- */

static void key_forget(cmn_store *st, const char *kid)
{
    char k[1 + KID_LEN];

    k[0] = 'k';
    memcpy(k + 1, kid, strlen(kid));
    (void)cmn_store_del(st, CSE_ESPRIM_DB, k, 1 + strlen(kid));
}

static int key_store(cmn_store *st, const key_slot *slot)
{
    char k[1 + KID_LEN];
    key_rec r;
    int rc;

    memset(&r, 0, sizeof(r));
    snprintf(r.owner, sizeof(r.owner), "%s", slot->owner);
    snprintf(r.serial, sizeof(r.serial), "%s", slot->serial);
    r.not_after = slot->not_after;
    memcpy(r.key, slot->key, CMN_KEY_LEN);
    r.exp = slot->exp;
    k[0] = 'k';
    memcpy(k + 1, slot->kid, strlen(slot->kid));
    rc = cmn_store_put(st, CSE_ESPRIM_DB, k, 1 + strlen(slot->kid), &r, sizeof(r));
    cmn_wipe(&r, sizeof(r));
    return rc;
}

typedef struct {
    cse_escertke *e;
    int64_t now;
    size_t n, gone;
    char dead[KEYS_MAX][KID_LEN]; /* expired or beyond KEYS_MAX: deleted after the walk */
} key_loader;

static int load_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    key_loader *l = arg;
    const char *k = key;
    key_slot *slot = l->n < KEYS_MAX ? &l->e->keys[l->n] : NULL;
    key_rec r;

    if (klen < 2 || klen - 1 >= KID_LEN || k[0] != 'k')
        return 0;
    if (vlen != sizeof(r) || slot == NULL) {
        if (l->gone < KEYS_MAX)
            memcpy(l->dead[l->gone], k + 1, klen - 1), l->dead[l->gone++][klen - 1] = '\0';
        return 0;
    }
    memcpy(&r, val, sizeof(r));
    if (r.exp <= l->now || memchr(r.owner, '\0', sizeof(r.owner)) == NULL ||
        memchr(r.serial, '\0', sizeof(r.serial)) == NULL) {
        if (l->gone < KEYS_MAX)
            memcpy(l->dead[l->gone], k + 1, klen - 1), l->dead[l->gone++][klen - 1] = '\0';
        cmn_wipe(&r, sizeof(r));
        return 0;
    }
    memcpy(slot->kid, k + 1, klen - 1);
    slot->kid[klen - 1] = '\0';
    snprintf(slot->owner, sizeof(slot->owner), "%s", r.owner);
    snprintf(slot->serial, sizeof(slot->serial), "%s", r.serial);
    slot->not_after = r.not_after;
    memcpy(slot->key, r.key, CMN_KEY_LEN);
    slot->exp = r.exp;
    l->n++;
    cmn_wipe(&r, sizeof(r));
    return 0;
}

int cse_escertke_load(cse_escertke *e, cmn_store *st, int64_t now)
{
    key_loader *l;
    int rc;

    if (e == NULL)
        return 0;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return CMN_ENOMEM;
    *l = (key_loader){.e = e, .now = now};
    rc = cmn_store_foreach(st, CSE_ESPRIM_DB, "k", 1, load_key, l);
    for (size_t i = 0; rc == 0 && i < l->gone; i++)
        key_forget(st, l->dead[i]);
    if (rc == 0)
        CMN_INFO(SUB, "event=escertke_keys_loaded keys=%zu", l->n);
    free(l);
    return rc;
}

/* The handshake of s is complete: its key, owned by the outer From, which the certificate
 * must name (names_originator), and the certificate still usable (cert_usable). */
static unsigned keep_key(cse_escertke *e, cmn_store *st, hs_slot *s, const char *via, int64_t now,
                         const char **why)
{
    char kid[KID_LEN];
    uint8_t rel[CMN_REL_ID_LEN], key[CMN_KEY_LEN];
    key_slot *slot = NULL;
    cmn_cert_info info;
    const char *peer = NULL, *reason = NULL;

    if (cmn_escertke_peer_cert(s->k, &info, &peer) != 0 || !names_originator(peer, s->from, via))
        return (*why = "certificate does not name the originator",
                CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    if (cert_usable(st, info.serial, s->from, info.not_after, now, &reason) != 0) {
        CMN_WARN(SUB, "event=escertke_cert_refused reason=%s serial=%s", reason, info.serial);
        return (*why = "certificate no longer usable", CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
    }
    if (cmn_escertke_key(s->k, rel, key) != 0)
        return (*why = "key export", CMN_RSC_INTERNAL_SERVER_ERROR);
    cmn_hex_encode(rel, sizeof rel, kid);
    for (size_t i = 0; i < KEYS_MAX && slot == NULL; i++)
        if (e->keys[i].exp <= now)
            slot = &e->keys[i];
    if (slot == NULL) { /* all live: the one ending first goes */
        slot = &e->keys[0];
        for (size_t i = 1; i < KEYS_MAX; i++)
            if (e->keys[i].exp < slot->exp)
                slot = &e->keys[i];
    }
    if (slot->kid[0] != '\0')
        key_forget(st, slot->kid);
    snprintf(slot->kid, sizeof slot->kid, "%s", kid);
    snprintf(slot->owner, sizeof slot->owner, "%s", s->from);
    snprintf(slot->serial, sizeof slot->serial, "%s", info.serial);
    slot->not_after = info.not_after;
    memcpy(slot->key, key, CMN_KEY_LEN);
    slot->exp =
        now + CSE_ESCERTKE_KEY_LT < info.not_after ? now + CSE_ESCERTKE_KEY_LT : info.not_after;
    cmn_wipe(key, sizeof key);
    if (key_store(st, slot) != 0) /* kept in memory: only a restart loses it (4112, again) */
        CMN_WARN(SUB, "event=escertke_key_not_stored kid=%s", kid);
    CMN_INFO(SUB, "event=escertke_established originator=%s kid=%s", s->from, kid);
    return 0;
}

void cse_escertke_handle(cse_node *node, const cse_req *req, cse_rsp *rsp)
{
    cse_escertke *e = node->escertke;
    json_t *seci = cse_escertke_seci(req);
    const char *from = cse_binding_local_id(node->cse_id, req->from != NULL ? req->from : "");
    const char *why = NULL;
    char carrier[CARRIER_MAX];
    uint8_t *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    bool done = false;
    unsigned rsc = 0;
    hs_slot *s = NULL;

    memset(rsp, 0, sizeof(*rsp));
    rsp->cf = CMN_CF_JSON;
    carrier_of(req, carrier);
    if (from[0] == '\0' || strlen(from) >= CMN_CA_ID_MAX)
        rsc = (why = "no originator", CMN_RSC_BAD_REQUEST);
    else if (cmn_escertke_eckm(seci, &in, &in_len) != 0)
        rsc = (why = "no or malformed escertkeMessage", CMN_RSC_BAD_REQUEST);
    if (rsc == 0) {
        s = hs_find(e, from, carrier, req->now);
        if (is_client_hello(in, in_len)) { /* Message 1: a new handshake */
            if (s != NULL)
                hs_drop(s); /* its own unfinished one (same From, same carrier) */
            if ((s = hs_free_slot(e, carrier, &why)) == NULL)
                rsc = CMN_RSC_TARGET_NOT_REACHABLE;
            else if (cmn_escertke_new(false, e->ca, e->ca_len, e->cert, e->cert_len, e->key,
                                      e->key_len, &s->k) != 0)
                rsc = (why = "handshake set-up", CMN_RSC_INTERNAL_SERVER_ERROR);
            else {
                snprintf(s->from, sizeof s->from, "%s", from);
                snprintf(s->carrier, sizeof s->carrier, "%s", carrier);
                s->exp = req->now + CSE_ESCERTKE_HS_LT;
            }
        } else if (s == NULL) {
            rsc = (why = "no handshake in progress for this originator", CMN_RSC_BAD_REQUEST);
        }
    }
    if (rsc == 0) {
        int rc = cmn_escertke_step(s->k, in, in_len, &out, &out_len, &done);
        if (rc != 0)
            rsc = (why = rc == CMN_EDENIED ? "handshake refused" : "not the expected message",
                   CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE);
        else if (out == NULL)
            rsc = (why = "nothing to answer", CMN_RSC_BAD_REQUEST);
        else if (done)
            rsc = keep_key(e, node->store, s, req->bound_id, req->now, &why);
    }
    if (rsc == 0) {
        rsp->rsc = CMN_RSC_OK;
        rsp->body = cmn_escertke_seci(out, out_len);
        if (rsp->body == NULL)
            rsp->rsc = CMN_RSC_INTERNAL_SERVER_ERROR;
    } else {
        refuse(rsp, rsc, why, from);
    }
    if (s != NULL && (rsc != 0 || done))
        hs_drop(s); /* finished either way */
    free(in);
    free(out);
    json_decref(seci);
}

int cse_escertke_key(const cse_escertke *e, cmn_store *st, const char *kid, int64_t now,
                     uint8_t ret_key[CMN_KEY_LEN], char *owner, size_t owner_len)
{
    const char *reason;

    if (e == NULL || kid == NULL)
        return CMN_ENOTFOUND;
    for (size_t i = 0; i < KEYS_MAX; i++) {
        const key_slot *k = &e->keys[i];
        if (k->exp > now && strcmp(k->kid, kid) == 0) {
            /* the owner's certificate or enrolment revoked since: the key ends with it */
            if (cert_usable(st, k->serial, k->owner, k->not_after, now, &reason) != 0)
                return CMN_EDENIED;
            if (strlen(k->owner) >= owner_len)
                return CMN_ERANGE;
            memcpy(ret_key, k->key, CMN_KEY_LEN);
            memcpy(owner, k->owner, strlen(k->owner) + 1);
            return 0;
        }
    }
    return CMN_ENOTFOUND;
}

char *cse_escertke_cert_b64(const cse_escertke *e)
{
    word32 len = e != NULL ? (word32)(4 * ((e->cert_len + 2) / 3) + 1) : 0;
    char *b64 = len ? malloc(len) : NULL;

    if (b64 == NULL || Base64_Encode_NoNl(e->cert, (word32)e->cert_len, (byte *)b64, &len) != 0) {
        free(b64);
        return NULL;
    }
    b64[len] = '\0';
    return b64;
}
