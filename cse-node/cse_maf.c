/* MAF Key Retrieval from tep-cse's loop (see cse_maf.h). */
#include "cse_maf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cse_sync.h"

#define SUB "maf"

typedef struct {
    char key_id[CMN_KEY_ID_MAX];
    uint64_t request_id; /* 0: not sent yet */
    int64_t deadline_ms;
} pending;

struct cse_maf {
    cmn_bus_sock *dealer;
    cmn_bus_sock *events; /* KeyEvent SUB, NULL when not configured */
    int epfd;             /* both sockets' fds, so the loop polls one */
    cmn_store *store;
    char cse_id[256];
    char sender[300];
    pending p[CSE_MAF_PENDING_MAX];
    size_t n;
    int64_t next_sweep_ms;
};

static cse_maf *current; /* the one cse_maf_want() feeds */

static int watch(int epfd, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : CMN_EIO;
}

int cse_maf_new(cmn_bus *bus, const char *keys_ep, const char *events_ep, const char *cse_id,
                cmn_store *st, cse_maf **ret)
{
    cse_maf *m = calloc(1, sizeof(*m));
    int rc;

    *ret = NULL;
    if (m == NULL)
        return CMN_ENOMEM;
    if (snprintf(m->cse_id, sizeof(m->cse_id), "%s", cse_id) >= (int)sizeof(m->cse_id)) {
        free(m);
        return CMN_ERANGE;
    }
    snprintf(m->sender, sizeof(m->sender), "tep-cse:%s", cse_id);
    m->store = st;
    if ((m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        free(m);
        return CMN_EIO;
    }
    rc = cmn_bus_open(bus, CMN_BUS_DEALER, keys_ep, &m->dealer);
    if (rc == 0 && events_ep[0] != '\0')
        rc = cmn_bus_open(bus, CMN_BUS_SUB, events_ep, &m->events);
    if (rc == 0)
        rc = watch(m->epfd, cmn_bus_fd(m->dealer));
    if (rc == 0 && m->events != NULL)
        rc = watch(m->epfd, cmn_bus_fd(m->events));
    if (rc != 0) {
        cse_maf_free(m);
        return rc;
    }
    current = m;
    *ret = m;
    return 0;
}

void cse_maf_free(cse_maf *m)
{
    if (m == NULL)
        return;
    if (current == m)
        current = NULL;
    cmn_bus_close(m->dealer);
    cmn_bus_close(m->events);
    if (m->epfd >= 0)
        close(m->epfd);
    free(m);
}

int cse_maf_fd(const cse_maf *m)
{
    return m->epfd;
}

bool cse_maf_is_key_id(const char *id)
{
    const char *at = strchr(id, '@');

    if (at == NULL || at - id != 2 * CMN_REL_ID_LEN || at[1] == '\0' ||
        strlen(id) >= CMN_KEY_ID_MAX)
        return false;
    for (const char *p = id; p < at; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

void cse_maf_want(const char *key_id)
{
    cse_maf *m = current;

    if (m == NULL || !cse_maf_is_key_id(key_id) || m->n == CSE_MAF_PENDING_MAX)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->p[i].key_id, key_id) == 0)
            return;
    memset(&m->p[m->n], 0, sizeof(m->p[m->n]));
    snprintf(m->p[m->n].key_id, CMN_KEY_ID_MAX, "%s", key_id);
    m->n++;
}

/* Writes c under its key_id (no checks). */
static int put_credential(cmn_store *st, const Tep__Credential *c)
{
    size_t len;
    uint8_t *buf;
    int rc;

    len = tep__credential__get_packed_size(c);
    if ((buf = malloc(len ? len : 1)) == NULL)
        return CMN_ENOMEM;
    tep__credential__pack(c, buf);
    rc = cmn_store_put(st, CSE_DB_CREDENTIALS, c->key_id, strlen(c->key_id), buf, len);
    cmn_free_secret(buf, len);
    return rc;
}

int cse_maf_store(cmn_store *st, const char *key_id, const Tep__Credential *c)
{
    if (c->suid != CSE_MAF_SUID_KC || c->key.len != CMN_KEY_LEN || c->key_id == NULL ||
        strcmp(c->key_id, key_id) != 0 || c->enrolee_id == NULL || c->enrolee_id[0] == '\0')
        return CMN_EPROTO;
    return put_credential(st, c);
}

/* ---- revocation of the source ------------------------------------------------------- */

typedef struct {
    char key_id[CMN_KEY_ID_MAX];
    char ke_id[CMN_KEY_ID_MAX];
} kc_ref;

typedef struct {
    kc_ref refs[CSE_MAF_SWEEP_MAX];
    size_t n;
} kc_refs;

/* Live Kc credentials with a source KeID (collected first: no store reads inside the
 * iteration's read transaction). */
static int collect_kc(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    kc_refs *r = arg;
    Tep__Credential *c = tep__credential__unpack(NULL, vlen, val);

    (void)key;
    (void)klen;
    if (c != NULL && c->suid == CSE_MAF_SUID_KC && !c->revoked && c->ke_id[0] != '\0' &&
        r->n < CSE_MAF_SWEEP_MAX) {
        snprintf(r->refs[r->n].key_id, CMN_KEY_ID_MAX, "%s", c->key_id);
        snprintf(r->refs[r->n].ke_id, CMN_KEY_ID_MAX, "%s", c->ke_id);
        r->n++;
    }
    if (c != NULL) {
        cmn_wipe(c->key.data, c->key.len);
        tep__credential__free_unpacked(c, NULL);
    }
    return 0;
}

/* Whether this CSE knows the enrolment ke_id as revoked or expired. */
static bool source_dead(cmn_store *st, const char *ke_id, int64_t now)
{
    char kpsa_id[CMN_KEY_ID_MAX];
    Tep__Credential *c = NULL;
    void *val = NULL;
    size_t len = 0;
    bool dead = false;

    if (cmn_store_get(st, CSE_DB_KEIDS, ke_id, strlen(ke_id), &val, &len) == 0 &&
        len < sizeof(kpsa_id)) {
        memcpy(kpsa_id, val, len);
        kpsa_id[len] = '\0';
        dead = cse_cred_get(st, kpsa_id, &c) == 0 && cse_cred_usable(c, now) != 0;
    }
    cmn_store_free_val(val, len);
    cse_cred_free(c);
    return dead;
}

static int revoke_kc(cmn_store *st, const char *key_id)
{
    Tep__Credential *c = NULL;
    int rc = cse_cred_get(st, key_id, &c);

    if (rc == 0) {
        c->revoked = true;
        rc = put_credential(st, c);
    }
    cse_cred_free(c);
    return rc;
}

size_t cse_maf_revoke_stale(cmn_store *st, int64_t now)
{
    kc_refs *r = calloc(1, sizeof(*r));
    size_t revoked = 0;

    if (r == NULL || cmn_store_foreach(st, CSE_DB_CREDENTIALS, NULL, 0, collect_kc, r) != 0) {
        free(r);
        return 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!source_dead(st, r->refs[i].ke_id, now) || revoke_kc(st, r->refs[i].key_id) != 0)
            continue;
        CMN_INFO(SUB, "event=maf_key_revoked key_id=%s reason=source_revoked ke_id=%s",
                 r->refs[i].key_id, r->refs[i].ke_id);
        revoked++;
    }
    free(r);
    return revoked;
}

/* ---- the loop's side ------------------------------------------------------------------ */

static void forget(cse_maf *m, size_t i)
{
    m->p[i] = m->p[--m->n];
}

static void send_pending(cse_maf *m, int64_t now_ms)
{
    for (size_t i = 0; i < m->n; i++) {
        Tep__Envelope env;
        Tep__KeyRequest rq = TEP__KEY_REQUEST__INIT;

        if (m->p[i].request_id != 0)
            continue;
        cmn_bus_env_init(&env, m->sender, 0);
        rq.key_id = m->p[i].key_id;
        rq.target_id = m->cse_id;
        env.body_case = TEP__ENVELOPE__BODY_KEY_REQ;
        env.key_req = &rq;
        m->p[i].request_id = env.request_id;
        m->p[i].deadline_ms = now_ms + CSE_MAF_DEADLINE_MS;
        if (cmn_bus_send(m->dealer, NULL, 0, &env) != 0)
            m->p[i].deadline_ms = now_ms; /* dropped at the next expiry check */
    }
}

/* One answer: stores the key when the MAF gave it. Returns 1 when stored. */
static int take_answer(cse_maf *m, const Tep__Envelope *env)
{
    const Tep__KeyResponse *r = env->key_resp;
    char shown[CMN_KEY_ID_MAX];
    int rc = CMN_EPROTO;
    size_t i;

    i = 0;
    while (i < m->n && m->p[i].request_id != env->request_id)
        i++;
    if (i == m->n || env->body_case != TEP__ENVELOPE__BODY_KEY_RESP || r == NULL)
        return 0; /* late, unknown or malformed: dropped */
    snprintf(shown, sizeof(shown), "%s", m->p[i].key_id);
    if (r->err != 0)
        rc = r->err;
    else if (r->credential != NULL)
        rc = cse_maf_store(m->store, m->p[i].key_id, r->credential);
    if (r->credential != NULL && r->credential->key.data != NULL)
        cmn_wipe(r->credential->key.data, r->credential->key.len);
    forget(m, i);
    if (rc != 0) {
        CMN_WARN(SUB, "event=maf_key_refused key_id=%s reason=\"%s\"", shown, cmn_strerror(rc));
        return 0;
    }
    CMN_INFO(SUB, "event=maf_key_stored key_id=%s enrolee_id=%s expires=%lld", shown,
             r->credential->enrolee_id, (long long)r->credential->expires);
    return 1;
}

/* A KeyEvent for this CSE: fetch the key now, unless it is already here. */
static void take_event(cse_maf *m, const Tep__Envelope *env)
{
    const Tep__KeyEvent *ev = env->key_event;
    Tep__Credential *c = NULL;

    if (env->body_case != TEP__ENVELOPE__BODY_KEY_EVENT || ev == NULL || ev->key_id == NULL)
        return;
    for (size_t i = 0; i < ev->n_target_ids; i++) {
        if (strcmp(ev->target_ids[i], m->cse_id) != 0)
            continue;
        if (cse_cred_get(m->store, ev->key_id, &c) == CMN_ENOTFOUND)
            cse_maf_want(ev->key_id);
        cse_cred_free(c);
        return;
    }
}

static void drain_events(cse_maf *m)
{
    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(m->events, NULL, NULL, &env);

        if (rc == 0)
            take_event(m, env);
        cmn_bus_env_free(env);
        if (rc != 0 && rc != CMN_ECORRUPT)
            return;
    }
}

unsigned cse_maf_process(cse_maf *m, int64_t now_ms)
{
    unsigned stored = 0;

    if (m->events != NULL)
        drain_events(m);
    send_pending(m, now_ms);
    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(m->dealer, NULL, NULL, &env);

        if (rc == CMN_EAGAIN)
            break;
        if (rc == 0)
            stored += (unsigned)take_answer(m, env);
        cmn_bus_env_free(env);
        if (rc != 0 && rc != CMN_ECORRUPT)
            break;
    }
    if (now_ms >= m->next_sweep_ms) {
        m->next_sweep_ms = now_ms + CSE_MAF_SWEEP_MS;
        cse_maf_revoke_stale(m->store, (int64_t)time(NULL));
    }
    for (size_t i = 0; i < m->n;) {
        if (m->p[i].request_id != 0 && m->p[i].deadline_ms <= now_ms)
            forget(m, i); /* unanswered: a later handshake asks again */
        else
            i++;
    }
    return stored;
}
