/* tep-enroller's Zn client and NAF key cache (see enr_gba.h). */
#include "enr_gba.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_gba.h"
#include "cmn_log.h"
#include "enr_db.h"

#define SUB "gba"
#define CACHE_N 256
#define PENDING_N 64
#define PENDING_TTL                                                                                \
    2                 /* seconds a Zn request may stay unanswered before it is sent
                          * again (one lost while tep-bsf restarted, say) */
#define REFUSED_TTL 5 /* seconds a refusal is remembered (no Zn flood per handshake) */

typedef struct {
    bool used;
    char btid[CMN_GBA_BTID_MAX];
    int err; /* 0: key valid; else the refusal (CMN_EDENIED...) */
    uint8_t ks_naf[CMN_KEY_LEN];
    char kpm_id[128];
    int64_t expires; /* the B-TID's (err == 0), or when the refusal is dropped */
} entry;

typedef struct {
    bool used;
    uint64_t request_id;
    char btid[CMN_GBA_BTID_MAX];
    int64_t sent;
} pending;

struct enr_gba {
    cmn_bus_sock *zn;
    const char *naf_fqdn;
    cmn_store *store;
    entry cache[CACHE_N];
    pending out[PENDING_N];
};

int enr_gba_new(cmn_bus *bus, const char *zn_ep, const char *naf_fqdn, cmn_store *store,
                enr_gba **ret)
{
    enr_gba *g = calloc(1, sizeof(*g));
    int rc;

    *ret = NULL;
    if (g == NULL)
        return CMN_ENOMEM;
    g->naf_fqdn = naf_fqdn;
    g->store = store;
    rc = cmn_bus_open(bus, CMN_BUS_DEALER, zn_ep, &g->zn);
    if (rc != 0) {
        free(g);
        return rc;
    }
    *ret = g;
    return 0;
}

void enr_gba_free(enr_gba *g)
{
    if (g == NULL)
        return;
    cmn_bus_close(g->zn);
    cmn_wipe(g->cache, sizeof(g->cache));
    free(g);
}

int enr_gba_fd(const enr_gba *g)
{
    return cmn_bus_fd(g->zn);
}

bool enr_gba_is_btid(const char *id, size_t len)
{
    const char *at = memchr(id, '@', len);
    size_t local = at != NULL ? (size_t)(at - id) : 0;

    if (at == NULL || local == 0 || local % 4 != 0 || len - local < 2 || len >= CMN_GBA_BTID_MAX)
        return false;
    for (size_t i = 0; i < local; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    for (size_t i = local + 1; i < len; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '.' || id[i] == '-'))
            return false;
    return true;
}

static entry *find(enr_gba *g, const char *btid, int64_t now)
{
    for (size_t i = 0; i < CACHE_N; i++) {
        entry *e = &g->cache[i];
        if (!e->used || strcmp(e->btid, btid) != 0)
            continue;
        if (e->expires > now)
            return e;
        if (e->err != 0) { /* a remembered refusal ends: ask again next time */
            cmn_wipe(e, sizeof(*e));
            return NULL;
        }
        return e; /* an expired key: say so (CMN_EEXPIRED) */
    }
    return NULL;
}

static entry *slot(enr_gba *g, int64_t now)
{
    entry *oldest = &g->cache[0];

    for (size_t i = 0; i < CACHE_N; i++) {
        entry *e = &g->cache[i];
        if (!e->used || e->expires <= now)
            return e;
        if (e->expires < oldest->expires)
            oldest = e;
    }
    return oldest;
}

static bool asked(enr_gba *g, const char *btid, int64_t now)
{
    for (size_t i = 0; i < PENDING_N; i++) {
        pending *p = &g->out[i];
        if (p->used && p->sent + PENDING_TTL <= now)
            p->used = false;
        if (p->used && strcmp(p->btid, btid) == 0)
            return true;
    }
    return false;
}

static int ask(enr_gba *g, const char *btid, int64_t now)
{
    Tep__Envelope env;
    Tep__ZnRequest rq = TEP__ZN_REQUEST__INIT;
    pending *p = NULL;
    int rc;

    for (size_t i = 0; i < PENDING_N && p == NULL; i++)
        if (!g->out[i].used)
            p = &g->out[i];
    if (p == NULL)
        return CMN_EAGAIN; /* many at once: this handshake is refused, the next asks */
    cmn_bus_env_init(&env, "tep-enroller", 0);
    rq.btid = (char *)btid;
    rq.naf_fqdn = (char *)g->naf_fqdn;
    env.body_case = TEP__ENVELOPE__BODY_ZN_REQ;
    env.zn_req = &rq;
    rc = cmn_bus_send(g->zn, NULL, 0, &env);
    if (rc != 0) {
        CMN_WARN(SUB, "event=zn_send_failed err=\"%s\"", cmn_strerror(rc));
        return rc;
    }
    *p = (pending){.used = true, .request_id = env.request_id, .sent = now};
    snprintf(p->btid, sizeof(p->btid), "%s", btid);
    return 0;
}

int enr_gba_lookup(enr_gba *g, const char *btid, int64_t now, uint8_t ret_key[CMN_KEY_LEN],
                   char *ret_kpm_id, size_t kpm_len, int64_t *ret_expires)
{
    entry *e = find(g, btid, now);

    if (e != NULL && e->err != 0)
        return e->err;
    if (e != NULL && e->expires <= now)
        return CMN_EEXPIRED;
    if (e != NULL) {
        memcpy(ret_key, e->ks_naf, CMN_KEY_LEN);
        snprintf(ret_kpm_id, kpm_len, "%s", e->kpm_id);
        *ret_expires = e->expires;
        return 0;
    }
    if (!asked(g, btid, now)) {
        int rc = ask(g, btid, now);
        if (rc != 0 && rc != CMN_EAGAIN)
            return rc;
    }
    return CMN_EAGAIN;
}

/* ---- answers ------------------------------------------------------------------------ */

typedef struct {
    const char *impi;
    char kpm_id[128];
    int found;
} impi_match;

static int match_impi(const Tep__Enrolee *e, void *arg)
{
    impi_match *m = arg;

    if (strcmp(e->gba_impi, m->impi) != 0)
        return 0;
    snprintf(m->kpm_id, sizeof(m->kpm_id), "%s", e->kpm_id);
    m->found = 1;
    return 1; /* stop */
}

static void on_answer(enr_gba *g, const Tep__Envelope *env, int64_t now)
{
    const Tep__ZnResponse *r = env->zn_resp;
    pending *p = NULL;
    impi_match m = {0};
    entry *e;

    for (size_t i = 0; i < PENDING_N && p == NULL; i++)
        if (g->out[i].used && g->out[i].request_id == env->request_id)
            p = &g->out[i];
    if (p == NULL || r == NULL)
        return; /* late or unknown */
    e = slot(g, now);
    cmn_wipe(e, sizeof(*e));
    e->used = true;
    snprintf(e->btid, sizeof(e->btid), "%s", p->btid);
    p->used = false;
    e->err = r->err;
    if (e->err == 0 && r->ks_naf.len != CMN_KEY_LEN)
        e->err = CMN_EPROTO;
    if (e->err == 0) {
        m.impi = r->impi;
        if (enr_db_enrolee_foreach(g->store, match_impi, &m) < 0 || !m.found)
            e->err = CMN_EDENIED; /* bootstrapped, but the operator enrolled no such IMPI */
    }
    if (e->err == 0) {
        memcpy(e->ks_naf, r->ks_naf.data, CMN_KEY_LEN);
        snprintf(e->kpm_id, sizeof(e->kpm_id), "%s", m.kpm_id);
        e->expires = r->expires;
        if (e->expires <= now)
            e->err = CMN_EEXPIRED;
    }
    if (e->err != 0) {
        e->err = e->err == CMN_EEXPIRED ? CMN_EEXPIRED : CMN_EDENIED;
        e->expires = now + REFUSED_TTL;
    }
    CMN_INFO(SUB, "event=zn_answer btid=%s kpm_id=%s err=\"%s\"", e->btid,
             e->err == 0 ? e->kpm_id : "-", e->err ? cmn_strerror(e->err) : "");
}

void enr_gba_process(enr_gba *g, int64_t now)
{
    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(g->zn, NULL, NULL, &env);

        if (rc == CMN_EAGAIN)
            return;
        if (rc == 0 && env->body_case == TEP__ENVELOPE__BODY_ZN_RESP)
            on_answer(g, env, now);
        cmn_bus_env_free(env);
        if (rc != 0 && rc != CMN_ECORRUPT)
            return;
    }
}
