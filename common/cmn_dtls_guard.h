/* DTLS flood guard of a CoAPS server context (tep-enroller, tep-authz's MAF, tep-cse):
 * the limits on handshakes in progress and on sessions per identity, their counters for
 * tepctl status, the rate-limited handshake_flood report and the heap trim after a
 * flood. docs/internals.md "DTLS floods".
 *
 * What libcoap does (tep's patch, patches/README.md item 5): a ClientHello without a
 * valid cookie is answered with a HelloVerifyRequest and leaves no state; a
 * cookie-verified handshake is kept, bounded per remote address and in total (the
 * oldest handshake of the heaviest address is dropped, a new one is never refused), and
 * dropped when it has not completed within the handshake timeout. This module sets
 * those limits, the idle timeout and the number of sessions kept (libcoap frees the
 * least recently active one when full), and bounds the established sessions per PSK
 * identity and per remote IP address (the oldest is closed). */
#ifndef TEP_CMN_DTLS_GUARD_H
#define TEP_CMN_DTLS_GUARD_H

#include <coap3/coap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_config.h"

typedef struct {
    long max_handshakes;            /* in progress, in total */
    long max_handshakes_per_addr;   /* in progress, per remote IP address; 0 = no limit */
    long handshake_timeout_s;       /* cookie exchange to Finished */
    long max_sessions_per_identity; /* established, per PSK identity; 0 = no limit */
    long max_sessions;              /* established or idle, per endpoint (libcoap's idle
                                   * session limit: its least recently active one is freed) */
    long max_sessions_per_addr;     /* established DTLS, per remote IP address; 0 = no limit */
    long idle_timeout_s;            /* a session without a datagram this long is released */
    long cookie_lifetime_s;         /* a cookie secret makes cookies this long, then is
                                     * accepted as long again (RFC 6347 4.2.1) */
} cmn_dtls_limits;

/* The [dtls] rows of a daemon's configuration table (type: its config struct, member:
 * its cmn_dtls_limits field). */
#define CMN_DTLS_CFG_ITEMS(type, member)                                                           \
    CMN_CFG_INT_ITEM(type, "dtls", "max_handshakes", "64", member.max_handshakes, 1, 100000,       \
                     "DTLS handshakes in progress (cookie verified), in total; when full the "     \
                     "oldest of the busiest address is dropped"),                                  \
        CMN_CFG_INT_ITEM(type, "dtls", "max_handshakes_per_addr", "16",                            \
                         member.max_handshakes_per_addr, 0, 100000,                                \
                         "DTLS handshakes in progress per remote IP address (its oldest is "       \
                         "dropped); 0 = no limit"),                                                \
        CMN_CFG_INT_ITEM(type, "dtls", "handshake_timeout_s", "10", member.handshake_timeout_s, 1, \
                         300,                                                                      \
                         "a DTLS handshake not complete this long after its cookie exchange is "   \
                         "dropped"),                                                               \
        CMN_CFG_INT_ITEM(type, "dtls", "max_sessions_per_identity", "16",                          \
                         member.max_sessions_per_identity, 0, 100000,                              \
                         "established DTLS sessions per PSK identity (the oldest is closed); 0 = " \
                         "no limit"),                                                              \
        CMN_CFG_INT_ITEM(type, "dtls", "max_sessions", "10000", member.max_sessions, 1, 1000000,   \
                         "sessions kept per endpoint (DTLS or plain), about 45 kB each for DTLS; " \
                         "when full the least recently active is released"),                       \
        CMN_CFG_INT_ITEM(type, "dtls", "max_sessions_per_addr", "1024",                            \
                         member.max_sessions_per_addr, 0, 1000000,                                 \
                         "established DTLS sessions per remote IP address (the oldest is "         \
                         "closed); 0 = no limit"),                                                 \
        CMN_CFG_INT_ITEM(type, "dtls", "idle_timeout_s", "300", member.idle_timeout_s, 5, 86400,   \
                         "a session (DTLS or plain) without a datagram this long is released"),    \
        CMN_CFG_INT_ITEM(type, "dtls", "cookie_lifetime_s", "60", member.cookie_lifetime_s, 1,     \
                         3600,                                                                     \
                         "the DTLS cookie secret is replaced this often; a cookie is valid at "    \
                         "most twice this long")

typedef struct cmn_dtls_guard cmn_dtls_guard;

/* Applies lim to ctx and registers the guard's libcoap event handler, which calls
 * chain (the daemon's own handler, may be NULL) for every event. One guard per
 * context; at most 8 contexts per process. lim is copied. */
int cmn_dtls_guard_new(coap_context_t *ctx, const cmn_dtls_limits *lim, coap_event_handler_t chain,
                       cmn_dtls_guard **ret);
/* Before coap_free_context(). NULL is fine. */
void cmn_dtls_guard_free(cmn_dtls_guard *g);

typedef struct {
    uint64_t in_progress;      /* handshakes in progress now */
    uint64_t stateless_hellos; /* ClientHellos answered with a cookie, no state kept */
    uint64_t started;          /* cookie-verified handshakes */
    uint64_t dropped_full;     /* dropped: max_handshakes reached */
    uint64_t dropped_per_addr; /* dropped: max_handshakes_per_addr reached */
    uint64_t timed_out;        /* dropped: handshake_timeout_s */
    uint64_t identity_closed;  /* sessions closed: max_sessions_per_identity */
    uint64_t addr_closed;      /* sessions closed: max_sessions_per_addr */
    uint64_t floods;           /* handshake_flood episodes seen */
    uint64_t heap_trims;       /* malloc_trim after a flood */
    bool flood;                /* in a flood now */
} cmn_dtls_stats;

void cmn_dtls_guard_stats(const cmn_dtls_guard *g, cmn_dtls_stats *ret);

/* tepctl status: the counters as CMN_DTLS_STATUS_N key/value pairs ("dtls_handshakes",
 * "dtls_flood", ...); keys are literals, values are written into vals. */
#define CMN_DTLS_STATUS_N 10
void cmn_dtls_stats_kv(const cmn_dtls_stats *st, const char *ret_keys[CMN_DTLS_STATUS_N],
                       char vals[CMN_DTLS_STATUS_N][24]);

/* A handshake_flood report: the counters' growth over the window. */
typedef struct {
    cmn_dtls_stats now;
    uint64_t window_ms;
    uint64_t d_hellos, d_started, d_dropped, d_timed_out;
    bool ended;   /* the flood is over (this is its last report) */
    bool trimmed; /* the heap was trimmed (malloc_trim) as it ended */
} cmn_dtls_report;

/* Call from the daemon's loop, outside libcoap's callbacks, at least once a second:
 * closes the sessions over max_sessions_per_identity, tracks flood state. Returns true
 * (and fills ret) when a report is due: at most one per 10 s while a flood lasts, and
 * one when it ends. The daemon logs it (cmn_dtls_report_format). */
bool cmn_dtls_guard_tick(cmn_dtls_guard *g, uint64_t now_ms, cmn_dtls_report *ret);
/* "event=handshake_flood ..." (or "event=handshake_flood_over ...") key=value text. */
void cmn_dtls_report_format(const cmn_dtls_report *r, char *buf, size_t len);
/* cmn_dtls_guard_tick on CLOCK_MONOTONIC, the report formatted into line: true when
 * the daemon should log line. g NULL: false. */
bool cmn_dtls_guard_poll(cmn_dtls_guard *g, char *line, size_t len);

#endif
