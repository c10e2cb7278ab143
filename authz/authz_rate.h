/* Decisions per originator: a token bucket each (rate per second, burst 2 x rate), in a
 * fixed table so that no number of originators grows it. An originator whose bucket is
 * empty is answered "busy" (5103 TARGET_NOT_REACHABLE, TS-0004 Table 6.6.3.6-1: oneM2M
 * has no busy code, and tep-cse sheds with the same one) without a decision or an audit
 * record. The table holds AUTHZ_RATE_SLOTS originators; a newcomer takes the slot idle
 * longest among its AUTHZ_RATE_PROBE candidates (a full bucket: never worse for it). */
#ifndef TEP_AUTHZ_RATE_H
#define TEP_AUTHZ_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define AUTHZ_RATE_SLOTS 1024
#define AUTHZ_RATE_PROBE 8
#define AUTHZ_RATE_ID_MAX 128

typedef struct {
    char id[AUTHZ_RATE_ID_MAX];
    double tokens;
    int64_t last_ms;
} authz_rate_slot;

typedef struct {
    long rate; /* per second; 0 = no limit */
    authz_rate_slot slots[AUTHZ_RATE_SLOTS];
} authz_rate;

void authz_rate_init(authz_rate *r, long rate);
/* Takes one decision from originator's bucket at now_ms (monotonic): true when allowed. */
bool authz_rate_take(authz_rate *r, const char *originator, int64_t now_ms);

#endif
