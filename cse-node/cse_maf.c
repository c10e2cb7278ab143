/* MAF Key Retrieval from tep-cse's loop (see cse_maf.h). */
#include "cse_maf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cmn_clock.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cse_sync.h"
#include "tep/tepae.h" /* libtepae: MAF Key Retrieval over CoAPS (cse_maf_new_coaps) */

#define SUB "maf"

typedef struct {
    char key_id[CMN_KEY_ID_MAX];
    uint64_t request_id; /* 0: not sent yet */
    int64_t deadline_ms;
    bool again;  /* a KeyEvent came while in flight: ask once more after the answer */
    bool urgent; /* asked for by a handshake (CoAPS: before the rechecks) */
} pending;

/* CoAPS (cse_maf_new_coaps): one worker thread runs libtepae's blocking MAF Key
 * Retrieval, one key at a time; the loop hands it a job and takes the result, waking
 * on an eventfd. Everything between them is under mu. */
typedef struct {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;   /* eventfd: a result is ready */
    bool stop; /* cse_maf_free */
    /* the job: set by the loop when idle, cleared by the worker with the result */
    bool busy;
    char key_id[CMN_KEY_ID_MAX];
    uint64_t request_id;
    /* the result */
    bool ready;
    uint64_t done_id;
    int rc;
    const char *step; /* what failed before the retrieval: load, enrol, identity */
    bool enrolled_now;
    char seen_id[256]; /* step identity: the enrolment's Enrolee-ID */
    uint8_t key[CMN_KEY_LEN];
    int64_t expires;
    char source[256];
    /* configuration, copied */
    char prov[4096], state[4096], maf_uri[512], cse_id[256];
    bool may_enrol;
    long timeout_ms;
} coaps_worker;

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
    /* CoAPS instead of the bus (dealer NULL) */
    coaps_worker *w;
    uint64_t next_request_id;
    int64_t recheck_ms;      /* every stored live Kc fetched again this often */
    int64_t next_recheck_ms; /* 0: not yet scheduled */
    int64_t deadline_ms;     /* a job unanswered by then is forgotten */
    /* refused identities (4.03, 4.04, bad answers): not asked for again for a while */
    struct {
        char key_id[CMN_KEY_ID_MAX];
        int64_t until_ms;
    } neg[CSE_MAF_NEG_MAX];
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

static void coaps_worker_stop(coaps_worker *w);

void cse_maf_free(cse_maf *m)
{
    if (m == NULL)
        return;
    if (m->w != NULL)
        coaps_worker_stop(m->w);
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
static void want_as(cse_maf *m, const char *key_id, bool again, bool urgent)
{
    if (m == NULL || !cse_maf_is_key_id(key_id))
        return;
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->p[i].key_id, key_id) == 0) {
            m->p[i].again = m->p[i].again || (again && m->p[i].request_id != 0);
            m->p[i].urgent = m->p[i].urgent || urgent;
            return;
        }
    }
    if (m->n == CSE_MAF_PENDING_MAX)
        return;
    memset(&m->p[m->n], 0, sizeof(m->p[m->n]));
    snprintf(m->p[m->n].key_id, CMN_KEY_ID_MAX, "%s", key_id);
    m->p[m->n].urgent = urgent;
    m->n++;
}

static void want(cse_maf *m, const char *key_id, bool again)
{
    want_as(m, key_id, again, false);
}

/* CoAPS: whether key_id was refused lately (not asked for again before its time). */
static bool refused_lately(const cse_maf *m, const char *key_id, int64_t now_ms)
{
    for (size_t i = 0; i < CSE_MAF_NEG_MAX; i++)
        if (m->neg[i].until_ms > now_ms && strcmp(m->neg[i].key_id, key_id) == 0)
            return true;
    return false;
}

/* CoAPS: remembers a refused key_id for CSE_MAF_NEG_MS, in the slot that ends first. */
static void remember_refused(cse_maf *m, const char *key_id, int64_t now_ms)
{
    size_t pick = 0;

    for (size_t i = 1; i < CSE_MAF_NEG_MAX; i++)
        if (m->neg[i].until_ms < m->neg[pick].until_ms)
            pick = i;
    snprintf(m->neg[pick].key_id, CMN_KEY_ID_MAX, "%s", key_id);
    m->neg[pick].until_ms = now_ms + CSE_MAF_NEG_MS;
}

void cse_maf_want(cse_maf *m, const char *key_id)
{
    if (m != NULL && m->w != NULL && refused_lately(m, key_id, cmn_mono_ms()))
        return;
    want_as(m, key_id, false, true);
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

/* Whether a Kc is stored under key_id, whether it is revoked, and (expires not NULL)
 * its expiry. */
static bool stored_kc_expiry(cmn_store *st, const char *key_id, bool *revoked, int64_t *expires)
{
    Tep__Credential *c = NULL;
    bool found = cse_cred_get(st, key_id, &c) == 0 && CSE_MAF_SUID(c->suid);

    *revoked = found && c->revoked;
    if (expires != NULL)
        *expires = found ? c->expires : 0;
    cse_cred_free(c);
    return found;
}

static bool stored_kc(cmn_store *st, const char *key_id, bool *revoked)
{
    return stored_kc_expiry(st, key_id, revoked, NULL);
}

/* One answer for the retrieval p[i] (forgotten here): stores the key when the MAF gave
 * it (cred, err 0); when the MAF no longer gives out a key stored here (not a target
 * any more, or unknown to it), revokes it. via: appended to the log line. Returns 0
 * when stored, else why not; *revoked counts the Kc revoked. */
static int take_result(cse_maf *m, size_t i, int err, const Tep__Credential *cred, const char *via,
                       size_t *revoked)
{
    char shown[CMN_KEY_ID_MAX];
    bool again, here, dead = false;
    int64_t was_expires = 0;
    int rc = CMN_EPROTO;

    snprintf(shown, sizeof(shown), "%s", m->p[i].key_id);
    again = m->p[i].again;
    forget(m, i);
    here = stored_kc_expiry(m->store, shown, &dead, &was_expires);
    if (err != 0)
        rc = err;
    else if (here && dead)
        rc = CMN_EDENIED; /* revoked here stays revoked: never overwritten */
    else if (cred != NULL)
        rc = cse_maf_store(m->store, shown, cred);
    if (again && rc == 0)
        want(m, shown, false); /* changed again while this answer was on its way */
    if (rc != 0) {
        CMN_WARN(SUB, "event=maf_key_refused key_id=%s reason=\"%s\"%s", shown,
                 here && dead && err == 0 ? "revoked" : cmn_strerror(rc), via);
        if (here && !dead && (rc == CMN_EDENIED || rc == CMN_ENOTFOUND) &&
            revoke_kc(m->store, shown, rc == CMN_EDENIED ? "not_target" : "deregistered", NULL) ==
                1)
            (*revoked)++;
        return rc;
    }
    /* CoAPS rechecks every key every recheck_s: only a change is worth a line */
    if (!(m->w != NULL && here && was_expires == cred->expires))
        CMN_INFO(SUB, "event=maf_key_stored key_id=%s enrolee_id=%s expires=%lld%s%s", shown,
                 cred->enrolee_id, (long long)cred->expires, here ? " update=true" : "", via);
    return 0;
}

/* One answer on the bus. Returns 1 when stored; *revoked counts the Kc revoked. */
static int take_answer(cse_maf *m, const Tep__Envelope *env, size_t *revoked)
{
    const Tep__KeyResponse *r = env->key_resp;
    int rc;
    size_t i;

    i = 0;
    while (i < m->n && m->p[i].request_id != env->request_id)
        i++;
    if (i == m->n || env->body_case != TEP__ENVELOPE__BODY_KEY_RESP || r == NULL)
        return 0; /* late, unknown or malformed: dropped */
    rc = take_result(m, i, r->err, r->credential, "", revoked);
    if (r->credential != NULL && r->credential->key.data != NULL)
        cmn_wipe(r->credential->key.data, r->credential->key.len);
    return rc == 0 ? 1 : 0;
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
    size_t room = CSE_MAF_PENDING_MAX - m->n, rechecks = 0;
    kc_refs *r;

    if (m->w != NULL) {
        /* CoAPS: one worker, one key at a time: a recheck walk keeps only
         * CSE_MAF_RECHECK_AHEAD keys queued, so the keys a handshake asks for always find
         * a slot (and go first) */
        for (size_t i = 0; i < m->n; i++)
            rechecks += m->p[i].urgent ? 0 : 1;
        room = rechecks < CSE_MAF_RECHECK_AHEAD ? CSE_MAF_RECHECK_AHEAD - rechecks : 0;
        room = room < CSE_MAF_PENDING_MAX - m->n ? room : CSE_MAF_PENDING_MAX - m->n;
    }
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

/* ---- MAF Key Retrieval over CoAPS (TS-0003 8.8.2.8; cse_maf_new_coaps) -------------- */

/* TEP_EDENIED is 4.03 (not a target) but also this CSE's own MAF Handshake refused
 * (4.01, or DTLS: its enrolment revoked, or replaced and not yet known at the MAF). Only
 * the first may revoke a stored Kc (for good), so a denial is checked: a session of the
 * same enrolment that gets 4.04 for a key nobody has proves the denial was the key's. */
static bool own_session_works(coaps_worker *w, tep_device *dev, const char *key_id)
{
    char probe[CMN_KEY_ID_MAX];
    tep_kc *none = NULL;
    const char *at = strchr(key_id, '@');
    int rc;

    if (at == NULL || snprintf(probe, sizeof(probe), "%032d%s", 0, at) >= (int)sizeof(probe))
        return false;
    rc = tep_maf_retrieve_kc(dev, w->maf_uri[0] != '\0' ? w->maf_uri : NULL, probe, &none);
    tep_kc_free(none);
    return rc == CMN_ENOTFOUND;
}

/* The worker's one retrieval, without the lock: the CSE's own enrolment (enrolled first
 * when allowed and it has none, or again when it expired), which must be the CSE-ID's,
 * then GET maf/keys/<rel> in its MAF Handshake. Nothing here logs: the loop does. */
static void coaps_retrieve(coaps_worker *w, const char *key_id, int *ret_rc, const char **step,
                           bool *enrolled_now, char *seen_id, uint8_t key[CMN_KEY_LEN],
                           int64_t *expires, char *source)
{
    tep_device *dev = NULL;
    tep_kc *kc = NULL;
    char identity[CMN_KEY_ID_MAX];
    int rc = tep_device_load(w->prov, w->state, &dev);

    *step = "load";
    if (rc == 0) {
        tep_device_set_timeout(dev, (int)w->timeout_ms);
        *step = "enrol";
        if (!tep_device_is_enrolled(dev))
            rc = w->may_enrol ? tep_enrol(dev) : CMN_ESTATE;
        else if (w->may_enrol && tep_device_expires(dev) != 0 &&
                 tep_device_expires(dev) <= (int64_t)time(NULL))
            rc = tep_enrol(dev);
        else
            *step = NULL;
        *enrolled_now = *step != NULL && rc == 0;
    }
    if (rc == 0 && strcmp(tep_device_enrolee_id(dev), w->cse_id) != 0) {
        /* the MAF knows the client by its Enrolee-ID: another's would get 4.03 for every
         * key of this CSE, or this CSE's keys for another */
        *step = "identity";
        snprintf(seen_id, 256, "%s", tep_device_enrolee_id(dev));
        rc = CMN_ECONFIG;
    }
    if (rc == 0) {
        *step = NULL;
        rc = tep_maf_retrieve_kc(dev, w->maf_uri[0] != '\0' ? w->maf_uri : NULL, key_id, &kc);
    }
    if (rc == CMN_EDENIED && !own_session_works(w, dev, key_id))
        *step = "maf_handshake"; /* not the key's answer: this CSE's own standing */
    if (rc == 0)
        rc = tep_kc_psk(kc, identity, sizeof(identity), key);
    if (rc == 0) {
        *expires = tep_kc_expires(kc);
        snprintf(source, 256, "%s", tep_kc_source_id(kc));
    }
    tep_kc_free(kc);
    tep_device_free(dev);
    *ret_rc = rc;
}

static void *coaps_worker_main(void *arg)
{
    coaps_worker *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        char key_id[CMN_KEY_ID_MAX], seen[256] = "", source[256] = "";
        uint8_t key[CMN_KEY_LEN] = {0};
        const char *step = NULL;
        bool enrolled_now = false;
        int64_t expires = 0;
        uint64_t id;
        uint64_t one = 1;
        int rc = 0;

        while (!w->stop && (!w->busy || w->ready))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        snprintf(key_id, sizeof(key_id), "%s", w->key_id);
        id = w->request_id;
        pthread_mutex_unlock(&w->mu);
        coaps_retrieve(w, key_id, &rc, &step, &enrolled_now, seen, key, &expires, source);
        pthread_mutex_lock(&w->mu);
        w->done_id = id;
        w->rc = rc;
        w->step = step;
        w->enrolled_now = enrolled_now;
        snprintf(w->seen_id, sizeof(w->seen_id), "%s", seen);
        memcpy(w->key, key, CMN_KEY_LEN);
        w->expires = expires;
        snprintf(w->source, sizeof(w->source), "%s", source);
        w->ready = true;
        w->busy = false;
        cmn_wipe(key, sizeof(key));
        if (write(w->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
            (void)0; /* the counter is full: the loop wakes anyway */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void coaps_worker_stop(coaps_worker *w)
{
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        /* a retrieval on its way ends within its timeouts */
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    if (w->efd >= 0)
        close(w->efd);
    cmn_free_secret(w, sizeof(*w));
}

int cse_maf_new_coaps(const cse_maf_coaps_cfg *cfg, const char *cse_id, cmn_store *st,
                      cse_maf **ret)
{
    cse_maf *m = calloc(1, sizeof(*m));
    coaps_worker *w = calloc(1, sizeof(*w));
    struct epoll_event ev = {.events = EPOLLIN};
    int rc = 0;

    *ret = NULL;
    if (m == NULL || w == NULL) {
        free(m);
        free(w);
        return CMN_ENOMEM;
    }
    m->epfd = -1;
    w->efd = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    m->w = w;
    if (snprintf(m->cse_id, sizeof(m->cse_id), "%s", cse_id) >= (int)sizeof(m->cse_id) ||
        snprintf(w->cse_id, sizeof(w->cse_id), "%s", cse_id) >= (int)sizeof(w->cse_id) ||
        snprintf(w->prov, sizeof(w->prov), "%s", cfg->prov) >= (int)sizeof(w->prov) ||
        snprintf(w->state, sizeof(w->state), "%s", cfg->state) >= (int)sizeof(w->state) ||
        snprintf(w->maf_uri, sizeof(w->maf_uri), "%s", cfg->maf_uri) >= (int)sizeof(w->maf_uri) ||
        snprintf(m->keys_ep, sizeof(m->keys_ep), "%s", cfg->maf_uri[0] ? cfg->maf_uri : "mpoa") >=
            (int)sizeof(m->keys_ep))
        rc = CMN_ERANGE;
    w->may_enrol = cfg->may_enrol;
    w->timeout_ms = cfg->timeout_ms;
    m->store = st;
    m->recheck_ms = cfg->recheck_s * 1000;
    if (rc == 0 && ((m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
                    (w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0))
        rc = CMN_EIO;
    ev.data.fd = w->efd;
    if (rc == 0 && epoll_ctl(m->epfd, EPOLL_CTL_ADD, w->efd, &ev) != 0)
        rc = CMN_EIO;
    if (rc == 0 && pthread_create(&w->thread, NULL, coaps_worker_main, w) != 0)
        rc = CMN_EIO;
    w->started = rc == 0;
    if (rc != 0) {
        cse_maf_free(m);
        return rc;
    }
    *ret = m;
    return 0;
}

/* Hands the next retrieval to the worker when it is idle: one asked for by a handshake
 * first, then the rechecks, each in turn. */
static void coaps_send(cse_maf *m, int64_t now_ms)
{
    coaps_worker *w = m->w;
    size_t pick = m->n;
    bool idle;

    pthread_mutex_lock(&w->mu);
    idle = !w->busy && !w->ready;
    pthread_mutex_unlock(&w->mu);
    if (!idle)
        return;
    for (size_t i = 0; i < m->n; i++) {
        if (m->p[i].request_id != 0)
            continue;
        if (m->p[i].urgent) {
            pick = i;
            break;
        }
        if (pick == m->n)
            pick = i;
    }
    if (pick == m->n)
        return;
    m->p[pick].request_id = ++m->next_request_id;
    /* the enrolment (MEF), the MAF Handshake and the GET, each within timeout_ms */
    m->p[pick].deadline_ms = now_ms + 3 * w->timeout_ms + 1000;
    pthread_mutex_lock(&w->mu);
    snprintf(w->key_id, sizeof(w->key_id), "%s", m->p[pick].key_id);
    w->request_id = m->p[pick].request_id;
    w->busy = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* The worker's result, if any: stored, refused (remembered for CSE_MAF_NEG_MS when it was
 * not a key stored here) or a failure of the CSE's own enrolment (logged; the key is
 * left as it is). Returns 1 when a key was stored. */
static unsigned coaps_take(cse_maf *m, int64_t now_ms, size_t *revoked)
{
    coaps_worker *w = m->w;
    Tep__Credential c = TEP__CREDENTIAL__INIT;
    uint8_t key[CMN_KEY_LEN];
    char source[256], seen[256], key_id[CMN_KEY_ID_MAX];
    const char *step;
    bool enrolled_now, here, dead = false;
    uint64_t id, count;
    int64_t expires;
    int rc;
    size_t i = 0;

    if (read(w->efd, &count, sizeof(count)) < 0)
        count = 0; /* nothing written: the result is looked at all the same */
    pthread_mutex_lock(&w->mu);
    if (!w->ready) {
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    id = w->done_id;
    rc = w->rc;
    step = w->step;
    enrolled_now = w->enrolled_now;
    memcpy(key, w->key, sizeof(key));
    cmn_wipe(w->key, sizeof(w->key));
    expires = w->expires;
    snprintf(source, sizeof(source), "%s", w->source);
    snprintf(seen, sizeof(seen), "%s", w->seen_id);
    w->ready = false;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (enrolled_now)
        CMN_INFO(SUB, "event=maf_client_enrolled enrolee_id=%s", m->cse_id);
    while (i < m->n && m->p[i].request_id != id)
        i++;
    if (i == m->n) { /* forgotten at its deadline, or revoked meanwhile */
        cmn_wipe(key, sizeof(key));
        return 0;
    }
    snprintf(key_id, sizeof(key_id), "%s", m->p[i].key_id);
    if (step != NULL) {
        if (strcmp(step, "identity") == 0)
            CMN_ERR(SUB,
                    "event=maf_retrieval_failed step=identity enrolee_id=%s cse_id=%s "
                    "msg=\"the MAF client's enrolment is not this CSE's\"",
                    seen, m->cse_id);
        else
            CMN_WARN(SUB, "event=maf_retrieval_failed step=%s key_id=%s err=%s", step, key_id,
                     cmn_strerror(rc));
        rc = CMN_ESTATE; /* not the MAF's answer: nothing is revoked for it */
    }
    c.key_id = key_id;
    c.key.data = key;
    c.key.len = sizeof(key);
    c.suid = CSE_MAF_SUID_KC;
    c.enrolee_id = source;
    c.expires = expires;
    here = stored_kc(m->store, key_id, &dead);
    rc = take_result(m, i, rc, rc == 0 ? &c : NULL, " over=coaps", revoked);
    cmn_wipe(key, sizeof(key));
    if (rc != 0 && rc != CMN_ESTATE && !here)
        remember_refused(m, key_id, now_ms);
    return rc == 0 ? 1 : 0;
}

/* Retrievals past their deadline are forgotten (the worker's late result is dropped). */
static void coaps_expire(cse_maf *m, int64_t now_ms)
{
    for (size_t i = 0; i < m->n;) {
        if (m->p[i].request_id != 0 && m->p[i].deadline_ms <= now_ms) {
            CMN_WARN(SUB, "event=maf_key_timeout key_id=%s endpoint=%s over=coaps", m->p[i].key_id,
                     m->keys_ep);
            forget(m, i);
        } else {
            i++;
        }
    }
}

/* Revocation and updates over CoAPS: the MAF tells no one, so every stored live Kc is
 * fetched again every recheck_s (a walk is not restarted while one is under way). */
static void coaps_recheck(cse_maf *m, int64_t now_ms)
{
    if (m->next_recheck_ms == 0)
        m->next_recheck_ms = now_ms + m->recheck_ms;
    if (now_ms < m->next_recheck_ms || m->resync)
        return;
    m->next_recheck_ms = now_ms + m->recheck_ms;
    m->resync = true;
    m->resync_after[0] = '\0';
}

static unsigned coaps_process(cse_maf *m, int64_t now_ms)
{
    size_t revoked = 0;
    unsigned stored = coaps_take(m, now_ms, &revoked);

    coaps_expire(m, now_ms);
    coaps_recheck(m, now_ms);
    resync_feed(m);
    coaps_send(m, now_ms);
    if (now_ms >= m->next_sweep_ms) {
        m->next_sweep_ms = now_ms + CSE_MAF_SWEEP_MS;
        revoked += cse_maf_revoke_stale(m->store, (int64_t)time(NULL));
    }
    m->revoked += revoked;
    return stored;
}

unsigned cse_maf_process(cse_maf *m, int64_t now_ms)
{
    unsigned stored = 0;
    size_t revoked = 0;

    if (m->w != NULL)
        return coaps_process(m, now_ms);

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
