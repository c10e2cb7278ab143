/* Admission at the PEP (issue 18): remote access decisions shed load before they miss
 * the deadline. A request that would wait for tep-authz is admitted only while
 *  - its originator has fewer than per_originator requests waiting for decisions,
 *  - fewer than max_outstanding requests wait in all, and
 *  - tep-authz's recent decision latency is under slow_pct % of the deadline, or the
 *    originator has nothing waiting (a well-behaved device, one request at a time).
 * Otherwise it is answered at once with 5103 TARGET_NOT_REACHABLE (TS-0004 Table
 * 6.6.3.6-1; 7.4.34.2.1 returns it when an entity the Hosting CSE depends on gives no
 * response in time, here its PDP): no access, fail closed, but "busy", not a Deny. The admin
 * originator is decided locally and never waits. Socket-free: the CoAP glue asks and
 * tells (cse_coap.c). docs/access-control.md "Overload". */
#ifndef TEP_CSE_ADMIT_H
#define TEP_CSE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    long per_originator;  /* requests waiting for decisions per originator; 0 = no limit */
    long max_outstanding; /* ... in all */
    long slow_pct;        /* latency (EWMA) above this % of deadline_ms: busy; 0 = off */
} cse_admit_limits;

typedef struct {
    uint64_t admitted, shed_originator, shed_total, shed_slow;
    size_t waiting;     /* requests waiting for decisions now */
    int64_t latency_ms; /* EWMA of the decision latency (park to answer) */
} cse_admit_stats;

typedef struct cse_admit cse_admit;

int cse_admit_new(const cse_admit_limits *lim, int deadline_ms, cse_admit **ret);
void cse_admit_free(cse_admit *a); /* NULL is fine */

/* NULL when a request of originator may wait for a decision now, else the reason it is
 * shed ("originator_limit", "total_limit", "pdp_slow"), counted. Takes nothing. */
const char *cse_admit_check(cse_admit *a, const char *originator, int64_t now_ms);
/* A request of originator waits for decisions (after cse_admit_check said yes). */
int cse_admit_take(cse_admit *a, const char *originator);
/* It is decided (or gone): latency_ms >= 0 is a latency sample, < 0 none. */
void cse_admit_release(cse_admit *a, const char *originator, int64_t latency_ms, int64_t now_ms);

void cse_admit_get_stats(const cse_admit *a, cse_admit_stats *ret);

#endif
