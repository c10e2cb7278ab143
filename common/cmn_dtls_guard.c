/* DTLS flood guard (cmn_dtls_guard.h). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_dtls_guard.h"
#include "cmn_err.h"

#define MAX_GUARDS 8
#define IDENTITY_MAX 256
/* A flood: handshakes dropped or timed out, or this many stateless ClientHellos in a
 * second (a spoofed burst); it is over after QUIET_MS without either. */
#define FLOOD_HELLOS_PER_S 200
#define QUIET_MS 5000
#define REPORT_EVERY_MS 10000

typedef struct {
    coap_session_t *session; /* borrowed: removed on its close/delete events */
    uint64_t seq;            /* order of establishment */
    size_t len;
    uint8_t identity[IDENTITY_MAX];
    coap_address_t remote;
    bool closing; /* over the limit: closed by the next tick */
    bool by_addr; /* closing for max_sessions_per_addr */
} tracked;

struct cmn_dtls_guard {
    coap_context_t *ctx;
    coap_event_handler_t chain;
    cmn_dtls_limits lim;
    tracked *t;
    size_t n, cap, marked;
    uint64_t seq;
    uint64_t identity_closed, addr_closed, floods, heap_trims;
    bool flood;
    uint64_t last_flood_ms, last_report_ms, last_tick_ms;
    coap_handshake_stats_t prev_tick, prev_report;
};

/* libcoap's event handler gets a session only: the guard of its context. */
static cmn_dtls_guard *guards[MAX_GUARDS];

static cmn_dtls_guard *guard_of(coap_context_t *ctx)
{
    for (size_t i = 0; i < MAX_GUARDS; i++)
        if (guards[i] != NULL && guards[i]->ctx == ctx)
            return guards[i];
    return NULL;
}

static void untrack(cmn_dtls_guard *g, const coap_session_t *s)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->t[i].session == s) {
            if (g->t[i].closing)
                g->marked--;
            g->t[i] = g->t[--g->n];
            return;
        }
    }
}

/* Same remote IP address, any port. */
static bool same_host(const coap_address_t *a, const coap_address_t *b)
{
    if (a->addr.sa.sa_family != b->addr.sa.sa_family)
        return false;
    if (a->addr.sa.sa_family == AF_INET)
        return a->addr.sin.sin_addr.s_addr == b->addr.sin.sin_addr.s_addr;
    if (a->addr.sa.sa_family == AF_INET6)
        return memcmp(&a->addr.sin6.sin6_addr, &b->addr.sin6.sin6_addr,
                      sizeof(a->addr.sin6.sin6_addr)) == 0;
    return false;
}

static void mark(cmn_dtls_guard *g, tracked *e, bool by_addr)
{
    e->closing = true;
    e->by_addr = by_addr;
    g->marked++;
}

/* A newly established session: tracked under its PSK identity and remote address; over
 * either limit, the oldest session of that identity (or address) is marked for closing. */
static void track(cmn_dtls_guard *g, coap_session_t *s)
{
    const coap_bin_const_t *id = coap_session_get_psk_identity(s);
    const coap_address_t *remote = coap_session_get_addr_remote(s);
    tracked *oldest_id = NULL, *oldest_addr = NULL;
    size_t same_id = 0, same_addr = 0, len = 0;
    bool by_id = g->lim.max_sessions_per_identity > 0 && id != NULL && id->length > 0 &&
                 id->length <= IDENTITY_MAX;

    if ((!by_id && g->lim.max_sessions_per_addr <= 0) || remote == NULL)
        return;
    untrack(g, s);
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        tracked *t = realloc(g->t, cap * sizeof(*t));

        if (t == NULL)
            return; /* not tracked: not bounded, still served */
        g->t = t;
        g->cap = cap;
    }
    if (by_id)
        len = id->length;
    for (size_t i = 0; i < g->n; i++) {
        tracked *e = &g->t[i];

        if (e->closing)
            continue;
        if (by_id && e->len == len && memcmp(e->identity, id->s, len) == 0) {
            same_id++;
            if (oldest_id == NULL || e->seq < oldest_id->seq)
                oldest_id = e;
        }
        if (g->lim.max_sessions_per_addr > 0 && same_host(&e->remote, remote)) {
            same_addr++;
            if (oldest_addr == NULL || e->seq < oldest_addr->seq)
                oldest_addr = e;
        }
    }
    if (oldest_id != NULL && same_id >= (size_t)g->lim.max_sessions_per_identity)
        mark(g, oldest_id, false);
    if (oldest_addr != NULL && !oldest_addr->closing &&
        same_addr >= (size_t)g->lim.max_sessions_per_addr)
        mark(g, oldest_addr, true);
    g->t[g->n] = (tracked){.session = s, .seq = ++g->seq, .len = len, .remote = *remote};
    if (len > 0)
        memcpy(g->t[g->n].identity, id->s, len);
    g->n++;
}

static int on_event(coap_session_t *s, const coap_event_t ev)
{
    cmn_dtls_guard *g = guard_of(coap_session_get_context(s));

    if (g != NULL && coap_session_get_type(s) == COAP_SESSION_TYPE_SERVER) {
        if (ev == COAP_EVENT_DTLS_CONNECTED)
            track(g, s);
        else if (ev == COAP_EVENT_DTLS_CLOSED || ev == COAP_EVENT_DTLS_ERROR ||
                 ev == COAP_EVENT_SESSION_CLOSED || ev == COAP_EVENT_SERVER_SESSION_DEL)
            untrack(g, s);
    }
    return g != NULL && g->chain != NULL ? g->chain(s, ev) : 0;
}

int cmn_dtls_guard_new(coap_context_t *ctx, const cmn_dtls_limits *lim, coap_event_handler_t chain,
                       cmn_dtls_guard **ret)
{
    cmn_dtls_guard *g;
    size_t slot = MAX_GUARDS;

    *ret = NULL;
    for (size_t i = 0; i < MAX_GUARDS && slot == MAX_GUARDS; i++)
        if (guards[i] == NULL)
            slot = i;
    if (slot == MAX_GUARDS || guard_of(ctx) != NULL)
        return CMN_ERANGE;
    if ((g = calloc(1, sizeof(*g))) == NULL)
        return CMN_ENOMEM;
    g->ctx = ctx;
    g->chain = chain;
    g->lim = *lim;
    coap_context_set_max_handshake_sessions(ctx, (unsigned)lim->max_handshakes);
    coap_context_set_max_handshake_per_addr(ctx, (unsigned)lim->max_handshakes_per_addr);
    coap_context_set_handshake_timeout(ctx, (unsigned)lim->handshake_timeout_s);
    if (lim->cookie_lifetime_s > 0)
        coap_context_set_cookie_lifetime(ctx, (unsigned)lim->cookie_lifetime_s);
    if (lim->idle_timeout_s > 0)
        coap_context_set_session_timeout(ctx, (unsigned)lim->idle_timeout_s);
    if (lim->max_sessions > 0)
        coap_context_set_max_idle_sessions(ctx, (unsigned)lim->max_sessions);
    coap_register_event_handler(ctx, on_event);
    guards[slot] = g;
    *ret = g;
    return 0;
}

void cmn_dtls_guard_free(cmn_dtls_guard *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < MAX_GUARDS; i++)
        if (guards[i] == g)
            guards[i] = NULL;
    coap_register_event_handler(g->ctx, g->chain);
    free(g->t);
    free(g);
}

void cmn_dtls_guard_stats(const cmn_dtls_guard *g, cmn_dtls_stats *ret)
{
    coap_handshake_stats_t hs;

    coap_context_get_handshake_stats(g->ctx, &hs);
    *ret = (cmn_dtls_stats){
        .in_progress = hs.in_progress,
        .stateless_hellos = hs.stateless_hellos,
        .started = hs.started,
        .dropped_full = hs.evicted_full,
        .dropped_per_addr = hs.evicted_per_addr,
        .timed_out = hs.timed_out,
        .identity_closed = g->identity_closed,
        .addr_closed = g->addr_closed,
        .floods = g->floods,
        .heap_trims = g->heap_trims,
        .flood = g->flood,
    };
}

/* Closes the sessions marked by track() (outside libcoap's callbacks). */
static void close_marked(cmn_dtls_guard *g)
{
    size_t i = 0;

    while (g->marked > 0 && i < g->n) {
        coap_session_t *s;

        if (!g->t[i].closing) {
            i++;
            continue;
        }
        s = g->t[i].session;

        if (g->t[i].by_addr)
            g->addr_closed++;
        else
            g->identity_closed++;
        g->t[i] = g->t[--g->n];
        g->marked--;
        /* close_notify to the peer; the events it raises untrack nothing more */
        coap_session_disconnected(s, COAP_NACK_TLS_FAILED);
    }
}

static void fill_report(cmn_dtls_guard *g, uint64_t now_ms, const coap_handshake_stats_t *hs,
                        cmn_dtls_report *r)
{
    const coap_handshake_stats_t *p = &g->prev_report;

    cmn_dtls_guard_stats(g, &r->now);
    r->window_ms = now_ms - g->last_report_ms;
    r->d_hellos = hs->stateless_hellos - p->stateless_hellos;
    r->d_started = hs->started - p->started;
    r->d_dropped = hs->evicted_full + hs->evicted_per_addr - p->evicted_full - p->evicted_per_addr;
    r->d_timed_out = hs->timed_out - p->timed_out;
    g->prev_report = *hs;
    g->last_report_ms = now_ms;
}

bool cmn_dtls_guard_tick(cmn_dtls_guard *g, uint64_t now_ms, cmn_dtls_report *ret)
{
    coap_handshake_stats_t hs, p = g->prev_tick;
    uint64_t dt, prev_ms = g->last_tick_ms;
    bool hot, start = false;

    memset(ret, 0, sizeof(*ret));
    close_marked(g);
    if (prev_ms != 0 && now_ms < prev_ms + 1000)
        return false;
    dt = prev_ms == 0 ? 1000 : now_ms - prev_ms;
    coap_context_get_handshake_stats(g->ctx, &hs);
    hot = hs.evicted_full != p.evicted_full || hs.evicted_per_addr != p.evicted_per_addr ||
          hs.timed_out != p.timed_out ||
          (hs.stateless_hellos - p.stateless_hellos) * 1000 >= FLOOD_HELLOS_PER_S * dt;
    g->prev_tick = hs;
    g->last_tick_ms = now_ms;
    if (hot) {
        g->last_flood_ms = now_ms;
        if (!g->flood) {
            g->flood = true;
            g->floods++;
            g->prev_report = p; /* the first report covers the second that started it */
            g->last_report_ms = prev_ms ? prev_ms : now_ms - dt;
            start = true;
        }
        if (!start && now_ms - g->last_report_ms < REPORT_EVERY_MS)
            return false;
        fill_report(g, now_ms, &hs, ret);
        return true;
    }
    if (!g->flood || now_ms - g->last_flood_ms < QUIET_MS)
        return false;
    /* Over: what the flood's handshakes allocated (OpenSSL state, about 45 kB each)
     * was freed, but glibc keeps freed memory in its arenas; give it back. */
    g->flood = false;
    ret->trimmed = malloc_trim(0) != 0;
    g->heap_trims++;
    fill_report(g, now_ms, &hs, ret);
    ret->ended = true;
    return true;
}

void cmn_dtls_report_format(const cmn_dtls_report *r, char *buf, size_t len)
{
    snprintf(buf, len,
             "event=%s window_ms=%llu stateless_hellos=%llu handshakes_started=%llu "
             "handshakes_dropped=%llu handshakes_timed_out=%llu in_progress=%llu "
             "dropped_total=%llu%s",
             r->ended ? "handshake_flood_over" : "handshake_flood",
             (unsigned long long)r->window_ms, (unsigned long long)r->d_hellos,
             (unsigned long long)r->d_started, (unsigned long long)r->d_dropped,
             (unsigned long long)r->d_timed_out, (unsigned long long)r->now.in_progress,
             (unsigned long long)(r->now.dropped_full + r->now.dropped_per_addr + r->now.timed_out),
             r->ended ? (r->trimmed ? " heap_trimmed=true" : " heap_trimmed=false") : "");
}

void cmn_dtls_stats_kv(const cmn_dtls_stats *st, const char *ret_keys[CMN_DTLS_STATUS_N],
                       char vals[CMN_DTLS_STATUS_N][24])
{
    static const char *const keys[CMN_DTLS_STATUS_N] = {
        "dtls_handshakes",
        "dtls_stateless_hellos",
        "dtls_handshakes_started",
        "dtls_handshakes_dropped",
        "dtls_handshakes_timed_out",
        "dtls_sessions_closed_per_identity",
        "dtls_sessions_closed_per_addr",
        "dtls_floods",
        "dtls_heap_trims",
        "dtls_flood",
    };
    const uint64_t v[CMN_DTLS_STATUS_N - 1] = {
        st->in_progress, st->stateless_hellos,
        st->started,     st->dropped_full + st->dropped_per_addr,
        st->timed_out,   st->identity_closed,
        st->addr_closed, st->floods,
        st->heap_trims,
    };

    for (size_t i = 0; i < CMN_DTLS_STATUS_N; i++) {
        ret_keys[i] = keys[i];
        if (i < CMN_DTLS_STATUS_N - 1)
            snprintf(vals[i], 24, "%llu", (unsigned long long)v[i]);
    }
    snprintf(vals[CMN_DTLS_STATUS_N - 1], 24, "%s", st->flood ? "true" : "false");
}

bool cmn_dtls_guard_poll(cmn_dtls_guard *g, char *line, size_t len)
{
    struct timespec ts;
    cmn_dtls_report r;

    if (g == NULL)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!cmn_dtls_guard_tick(g, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, &r))
        return false;
    cmn_dtls_report_format(&r, line, len);
    return true;
}
