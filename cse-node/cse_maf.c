/* MAF Key Retrieval from tep-cse's loop (see cse_maf.h). */
#include "cse_maf.h"

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
    bool again; /* a KeyEvent came while in flight: ask once more after the answer */
} pending;

struct cse_maf {
    cmn_bus *bus;
    cmn_bus_sock *dealer;     /* rebuilt after a lost answer (reopen_dealer) */
    cmn_bus_sock *events;     /* KeyEvent SUB, NULL when not configured */
    cmn_bus_sock *events_mon; /* the SUB's connections (cmn_bus_monitor), with events */
    int epfd;                 /* both sockets' fds, so the loop polls one */
    cmn_store *store;
    char keys_ep[512];
    char events_ep[512];
    char cse_id[256];
    char sender[300];
    pending p[CSE_MAF_PENDING_MAX];
    size_t n;
    int64_t next_sweep_ms;
    /* resync: every stored live Kc fetched again (KeyEvents may have been lost) */
    bool resync;                       /* a walk over them is under way */
    char resync_after[CMN_KEY_ID_MAX]; /* its cursor: the last key queued */
    int64_t resync_due_ms;             /* a rebuild's resync waiting for the gap (0: none) */
    int64_t resync_gap_end_ms;         /* no rebuild's resync starts before this */
    int64_t resync_sub_ms;             /* one after the SUB (re)connected (0: none) */
    size_t revoked;                    /* Kc revoked since cse_maf_take_revoked */
};

static int watch(int epfd, cmn_bus_sock *s)
{
    int fd = cmn_bus_fd(s);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

    if (fd < 0)
        return fd;
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
    if (snprintf(m->cse_id, sizeof(m->cse_id), "%s", cse_id) >= (int)sizeof(m->cse_id) ||
        snprintf(m->keys_ep, sizeof(m->keys_ep), "%s", keys_ep) >= (int)sizeof(m->keys_ep) ||
        snprintf(m->events_ep, sizeof(m->events_ep), "%s", events_ep) >=
            (int)sizeof(m->events_ep)) {
        free(m);
        return CMN_ERANGE;
    }
    m->bus = bus;
    snprintf(m->sender, sizeof(m->sender), "tep-cse:%s", cse_id);
    m->store = st;
    if ((m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        free(m);
        return CMN_EIO;
    }
    rc = cmn_bus_open(bus, CMN_BUS_DEALER, keys_ep, &m->dealer);
    if (rc == 0 && events_ep[0] != '\0')
        rc = cmn_bus_open(bus, CMN_BUS_SUB, events_ep, &m->events);
    if (rc == 0 && m->events != NULL)
        rc = cmn_bus_monitor(bus, m->events, &m->events_mon);
    if (rc == 0)
        rc = watch(m->epfd, m->dealer);
    if (rc == 0 && m->events != NULL)
        rc = watch(m->epfd, m->events);
    if (rc == 0 && m->events_mon != NULL)
        rc = watch(m->epfd, m->events_mon);
    if (rc != 0) {
        cse_maf_free(m);
        return rc;
    }
    *ret = m;
    return 0;
}

void cse_maf_free(cse_maf *m)
{
    if (m == NULL)
        return;
    cmn_bus_close(m->dealer);
    cmn_bus_close(m->events_mon);
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
    return cmn_kdf_is_key_id(id);
}

/* Queues a retrieval of key_id. One already in flight is asked once more after its
 * answer when again (a KeyEvent may have changed the key since it was sent). */
static void want(cse_maf *m, const char *key_id, bool again)
{
    if (m == NULL || !cse_maf_is_key_id(key_id))
        return;
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->p[i].key_id, key_id) == 0) {
            m->p[i].again = m->p[i].again || (again && m->p[i].request_id != 0);
            return;
        }
    }
    if (m->n == CSE_MAF_PENDING_MAX)
        return;
    memset(&m->p[m->n], 0, sizeof(m->p[m->n]));
    snprintf(m->p[m->n].key_id, CMN_KEY_ID_MAX, "%s", key_id);
    m->n++;
}

void cse_maf_want(cse_maf *m, const char *key_id)
{
    want(m, key_id, false);
}

/* Writes c under its key_id (no checks). */
static int put_credential(cmn_store *st, const Tep__Credential *c)
{
    return cmn_store_put_msg(st, CSE_DB_CREDENTIALS, c->key_id, strlen(c->key_id), &c->base);
}

int cse_maf_store(cmn_store *st, const char *key_id, const Tep__Credential *c)
{
    if (!CSE_MAF_SUID(c->suid) || c->key.len != CMN_KEY_LEN || c->key_id == NULL ||
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
    size_t max;                 /* collect at most this many (<= CSE_MAF_SWEEP_MAX) */
    bool any_source;            /* also Kc without a source KeID (resync) */
    char after[CMN_KEY_ID_MAX]; /* collect keys after this one ("" = from the start) */
} kc_refs;

/* Live Kc credentials (with a source KeID unless r->any_source), in key order after
 * r->after (collected first: no store reads inside the iteration's read transaction).
 * Stops when r->max are collected. */
static int collect_kc(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
    kc_refs *r = arg;
    Tep__Credential *c;
    size_t alen = strlen(r->after);
    int cmp = memcmp(key, r->after, klen < alen ? klen : alen);

    if (r->n == r->max)
        return 1; /* the next batch starts after the last one collected */
    if (cmp < 0 || (cmp == 0 && klen <= alen))
        return 0;
    if ((c = tep__credential__unpack(NULL, vlen, val)) == NULL)
        return 0;
    if (CSE_MAF_SUID(c->suid) && !c->revoked && (r->any_source || c->ke_id[0] != '\0') &&
        strlen(c->key_id) < CMN_KEY_ID_MAX && strlen(c->ke_id) < CMN_KEY_ID_MAX) {
        snprintf(r->refs[r->n].key_id, CMN_KEY_ID_MAX, "%s", c->key_id);
        snprintf(r->refs[r->n].ke_id, CMN_KEY_ID_MAX, "%s", c->ke_id);
        r->n++;
    }
    cmn_wipe(c->key.data, c->key.len);
    tep__credential__free_unpacked(c, NULL);
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

/* Marks the stored Kc key_id revoked, durably, and drops its key bytes (a revoked Kc is
 * never used again; the record stays so that its handshakes are refused as revoked and
 * not fetched again). 1: revoked now (logged), 0: no live Kc under key_id, <0: error. */
static int revoke_kc(cmn_store *st, const char *key_id, const char *reason, const char *ke_id)
{
    Tep__Credential *c = NULL;
    int rc = cse_cred_get(st, key_id, &c);

    if (rc == CMN_ENOTFOUND)
        return 0;
    if (rc == 0 && (!CSE_MAF_SUID(c->suid) || c->revoked)) {
        cse_cred_free(c);
        return 0;
    }
    if (rc == 0) {
        cmn_wipe(c->key.data, c->key.len);
        c->key.len = 0;
        c->revoked = true;
        rc = put_credential(st, c);
    }
    cse_cred_free(c);
    if (rc != 0) {
        CMN_ERR(SUB, "event=maf_key_revoke_failed key_id=%s err=%s", key_id, cmn_strerror(rc));
        return rc;
    }
    if (ke_id != NULL)
        CMN_INFO(SUB, "event=maf_key_revoked key_id=%s reason=%s ke_id=%s", key_id, reason, ke_id);
    else
        CMN_INFO(SUB, "event=maf_key_revoked key_id=%s reason=%s", key_id, reason);
    return 1;
}

size_t cse_maf_revoke_stale(cmn_store *st, int64_t now)
{
    kc_refs *r = calloc(1, sizeof(*r));
    size_t revoked = 0;

    if (r == NULL)
        return 0;
    r->max = CSE_MAF_SWEEP_MAX;
    do { /* batches of CSE_MAF_SWEEP_MAX, each after the last key of the one before */
        r->n = 0;
        if (cmn_store_foreach(st, CSE_DB_CREDENTIALS, NULL, 0, collect_kc, r) < 0)
            break;
        for (size_t i = 0; i < r->n; i++)
            if (source_dead(st, r->refs[i].ke_id, now) &&
                revoke_kc(st, r->refs[i].key_id, "source_revoked", r->refs[i].ke_id) == 1)
                revoked++;
        if (r->n > 0)
            snprintf(r->after, sizeof(r->after), "%s", r->refs[r->n - 1].key_id);
    } while (r->n == CSE_MAF_SWEEP_MAX);
    free(r);
    return revoked;
}

size_t cse_maf_take_revoked(cse_maf *m)
{
    size_t n = m->revoked;

    m->revoked = 0;
    return n;
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
            m->p[i].deadline_ms = now_ms; /* lost: handled as a timeout next turn */
    }
}

/* Whether a Kc is stored under key_id and whether it is revoked. */
static bool stored_kc(cmn_store *st, const char *key_id, bool *revoked)
{
    Tep__Credential *c = NULL;
    bool found = cse_cred_get(st, key_id, &c) == 0 && CSE_MAF_SUID(c->suid);

    *revoked = found && c->revoked;
    cse_cred_free(c);
    return found;
}

/* One answer: stores the key when the MAF gave it; when the MAF no longer gives out a
 * key stored here (not a target any more, or unknown to it), revokes it. Returns 1 when
 * stored; *revoked counts the Kc revoked. */
static int take_answer(cse_maf *m, const Tep__Envelope *env, size_t *revoked)
{
    const Tep__KeyResponse *r = env->key_resp;
    char shown[CMN_KEY_ID_MAX];
    bool again, here, dead = false;
    int rc = CMN_EPROTO;
    size_t i;

    i = 0;
    while (i < m->n && m->p[i].request_id != env->request_id)
        i++;
    if (i == m->n || env->body_case != TEP__ENVELOPE__BODY_KEY_RESP || r == NULL)
        return 0; /* late, unknown or malformed: dropped */
    snprintf(shown, sizeof(shown), "%s", m->p[i].key_id);
    again = m->p[i].again;
    forget(m, i);
    here = stored_kc(m->store, shown, &dead);
    if (r->err != 0)
        rc = r->err;
    else if (here && dead)
        rc = CMN_EDENIED; /* revoked here stays revoked: never overwritten */
    else if (r->credential != NULL)
        rc = cse_maf_store(m->store, shown, r->credential);
    if (r->credential != NULL && r->credential->key.data != NULL)
        cmn_wipe(r->credential->key.data, r->credential->key.len);
    if (again && rc == 0)
        want(m, shown, false); /* changed again while this answer was on its way */
    if (rc != 0) {
        CMN_WARN(SUB, "event=maf_key_refused key_id=%s reason=\"%s\"", shown,
                 here && dead && r->err == 0 ? "revoked" : cmn_strerror(rc));
        if (here && !dead && (rc == CMN_EDENIED || rc == CMN_ENOTFOUND) &&
            revoke_kc(m->store, shown, rc == CMN_EDENIED ? "not_target" : "deregistered", NULL) ==
                1)
            (*revoked)++;
        return 0;
    }
    CMN_INFO(SUB, "event=maf_key_stored key_id=%s enrolee_id=%s expires=%lld%s", shown,
             r->credential->enrolee_id, (long long)r->credential->expires,
             here ? " update=true" : "");
    return 1;
}

/* A KeyEvent. revoked: the key is de-registered or revoked at the MAF: the stored Kc is
 * revoked (a retrieval in flight is forgotten, so its answer cannot store it again).
 * Otherwise a key stored here is fetched again (its expiry or targets changed), and a
 * key naming this CSE among its targets is fetched now unless it is already here.
 * Returns how many Kc were revoked. */
static size_t take_event(cse_maf *m, const Tep__Envelope *env)
{
    const Tep__KeyEvent *ev = env->key_event;
    bool here, dead = false;

    if (env->body_case != TEP__ENVELOPE__BODY_KEY_EVENT || ev == NULL || ev->key_id == NULL ||
        !cse_maf_is_key_id(ev->key_id))
        return 0;
    if (ev->revoked) {
        for (size_t i = 0; i < m->n; i++) {
            if (strcmp(m->p[i].key_id, ev->key_id) == 0) {
                forget(m, i);
                break;
            }
        }
        return revoke_kc(m->store, ev->key_id, "deregistered", NULL) == 1 ? 1 : 0;
    }
    here = stored_kc(m->store, ev->key_id, &dead);
    if (here) {
        if (!dead)
            want(m, ev->key_id, true);
        return 0;
    }
    for (size_t i = 0; i < ev->n_target_ids; i++) {
        if (strcmp(ev->target_ids[i], m->cse_id) == 0) {
            want(m, ev->key_id, false);
            break;
        }
    }
    return 0;
}

static size_t drain_events(cse_maf *m)
{
    size_t revoked = 0;

    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(m->events, NULL, NULL, &env);

        if (rc == 0)
            revoked += take_event(m, env);
        cmn_bus_env_free(env);
        if (rc != 0 && rc != CMN_ECORRUPT)
            return revoked;
    }
}

/* ---- resync: KeyEvents lost while tep-authz was away --------------------------------- */

/* The live Kc stored here (all sources), counted in batches of CSE_MAF_SWEEP_MAX. */
static size_t live_kc_count(cmn_store *st, kc_refs *r)
{
    size_t count = 0;

    r->max = CSE_MAF_SWEEP_MAX;
    r->any_source = true;
    r->after[0] = '\0';
    do {
        r->n = 0;
        if (cmn_store_foreach(st, CSE_DB_CREDENTIALS, NULL, 0, collect_kc, r) < 0)
            break;
        count += r->n;
        if (r->n > 0)
            snprintf(r->after, sizeof(r->after), "%s", r->refs[r->n - 1].key_id);
    } while (r->n == r->max);
    return count;
}

/* Every stored live Kc is fetched again (resync_feed), as a KeyEvent without revoked
 * would: answered with the key, replaced; CMN_ENOTFOUND, revoked (deregistered);
 * CMN_EDENIED, revoked (not_target). A resync under way starts again from the first
 * key (what was lost may concern keys it has already asked for). */
static void resync_start(cse_maf *m, const char *trigger)
{
    kc_refs *r = calloc(1, sizeof(*r));

    m->resync = true;
    m->resync_after[0] = '\0';
    if (r == NULL) {
        CMN_INFO(SUB, "event=maf_keys_resync count=unknown trigger=%s", trigger);
        return;
    }
    CMN_INFO(SUB, "event=maf_keys_resync count=%zu trigger=%s", live_kc_count(m->store, r),
             trigger);
    free(r);
}

/* Queues the next stored live Kc of a resync, as many as there are free retrieval slots
 * (again: one already in flight is asked once more after its answer). Ends the resync
 * after the last key; a store error leaves it for the next turn. */
static void resync_feed(cse_maf *m)
{
    size_t room = CSE_MAF_PENDING_MAX - m->n;
    kc_refs *r;

    if (!m->resync || room == 0 || (r = calloc(1, sizeof(*r))) == NULL)
        return;
    r->max = room < CSE_MAF_SWEEP_MAX ? room : CSE_MAF_SWEEP_MAX;
    r->any_source = true;
    snprintf(r->after, sizeof(r->after), "%s", m->resync_after);
    if (cmn_store_foreach(m->store, CSE_DB_CREDENTIALS, NULL, 0, collect_kc, r) >= 0) {
        for (size_t i = 0; i < r->n; i++)
            want(m, r->refs[i].key_id, true);
        if (r->n > 0)
            snprintf(m->resync_after, sizeof(m->resync_after), "%s", r->refs[r->n - 1].key_id);
        m->resync = r->n == r->max;
    }
    free(r);
}

/* After the keys DEALER is rebuilt (an answer lost: tep-authz was down or restarted, and
 * a lost answer may have been a re-fetch's CMN_ENOTFOUND): a resync, at most one every
 * CSE_MAF_RESYNC_GAP_MS (while tep-authz stays down its retrievals time out and the
 * DEALER is rebuilt again); one asked for sooner waits for the gap's end. */
static void resync_after_rebuild(cse_maf *m, int64_t now_ms)
{
    if (now_ms < m->resync_gap_end_ms) {
        m->resync_due_ms = m->resync_gap_end_ms;
        return;
    }
    m->resync_due_ms = 0;
    m->resync_gap_end_ms = now_ms + CSE_MAF_RESYNC_GAP_MS;
    resync_start(m, "keys_reconnected");
}

/* The SUB's connection events: each (re)connection (tep-cse's start, tep-authz back after
 * a restart) asks for a resync CSE_MAF_RESYNC_SETTLE_MS later: what was published while
 * the SUB was away is lost, and the resync's retrievals are answered after the
 * subscription has reached the PUB (a de-registration after them is then published to
 * this SUB). */
static void drain_monitor(cse_maf *m, int64_t now_ms)
{
    unsigned ev = 0;
    int rc;

    while ((rc = cmn_bus_monitor_recv(m->events_mon, &ev)) == 0 || rc == CMN_ECORRUPT) {
        if (rc == 0 && ev == CMN_BUS_EV_CONNECTED) {
            CMN_INFO(SUB, "event=maf_events_connected endpoint=%s", m->events_ep);
            m->resync_sub_ms = now_ms + CSE_MAF_RESYNC_SETTLE_MS;
        }
    }
}

/* Lazy Pirate: an answer is lost (tep-authz down or restarted). A fresh DEALER drops
 * whatever the old one still had queued and makes sure a stale answer is never taken;
 * retrievals still in flight on the old socket are sent again on the new one. The old
 * socket stays when a new one cannot be made (the next timeout tries again). 0: rebuilt. */
static int reopen_dealer(cse_maf *m)
{
    cmn_bus_sock *fresh = NULL;
    int old_fd = cmn_bus_fd(m->dealer);
    int rc = cmn_bus_open(m->bus, CMN_BUS_DEALER, m->keys_ep, &fresh);

    if (rc == 0) {
        if (old_fd >= 0)
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, old_fd, NULL);
        rc = watch(m->epfd, fresh);
    }
    if (rc != 0) {
        if (fresh != NULL) {
            cmn_bus_close(fresh);
            if (old_fd >= 0)
                watch(m->epfd, m->dealer);
        }
        CMN_ERR(SUB, "event=maf_keys_reconnect_failed endpoint=%s err=%s", m->keys_ep,
                cmn_strerror(rc));
        return rc;
    }
    cmn_bus_close(m->dealer);
    m->dealer = fresh;
    for (size_t i = 0; i < m->n; i++)
        m->p[i].request_id = 0;
    CMN_INFO(SUB, "event=maf_keys_reconnected endpoint=%s", m->keys_ep);
    return 0;
}

/* Forgets retrievals past their deadline (a later handshake or KeyEvent asks again);
 * after any, the DEALER is rebuilt and the stored Kc resynchronised. */
static void expire_pending(cse_maf *m, int64_t now_ms)
{
    bool lost = false;

    for (size_t i = 0; i < m->n;) {
        if (m->p[i].request_id != 0 && m->p[i].deadline_ms <= now_ms) {
            CMN_WARN(SUB, "event=maf_key_timeout key_id=%s endpoint=%s", m->p[i].key_id,
                     m->keys_ep);
            forget(m, i);
            lost = true;
        } else {
            i++;
        }
    }
    if (lost && reopen_dealer(m) == 0)
        resync_after_rebuild(m, now_ms);
}

unsigned cse_maf_process(cse_maf *m, int64_t now_ms)
{
    unsigned stored = 0;
    size_t revoked = 0;

    if (m->events_mon != NULL)
        drain_monitor(m, now_ms);
    if (m->events != NULL)
        revoked += drain_events(m);
    for (;;) {
        Tep__Envelope *env = NULL;
        int rc = cmn_bus_recv(m->dealer, NULL, NULL, &env);

        if (rc == 0)
            stored += (unsigned)take_answer(m, env, &revoked);
        cmn_bus_env_free(env);
        if (rc != 0 && rc != CMN_ECORRUPT)
            break;
    }
    expire_pending(m, now_ms);
    if (m->resync_due_ms != 0 && now_ms >= m->resync_due_ms)
        resync_after_rebuild(m, now_ms);
    if (m->resync_sub_ms != 0 && now_ms >= m->resync_sub_ms) {
        m->resync_sub_ms = 0;
        resync_start(m, "events_connected");
    }
    resync_feed(m);
    send_pending(m, now_ms);
    if (now_ms >= m->next_sweep_ms) {
        m->next_sweep_ms = now_ms + CSE_MAF_SWEEP_MS;
        revoked += cse_maf_revoke_stale(m->store, (int64_t)time(NULL));
    }
    m->revoked += revoked; /* the loop closes their sessions (cse_maf_take_revoked) */
    return stored;
}
