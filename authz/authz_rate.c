/* Decisions per originator (see authz_rate.h). */
#include "authz_rate.h"

#include <stdio.h>
#include <string.h>

void authz_rate_init(authz_rate *r, long rate)
{
    memset(r, 0, sizeof(*r));
    r->rate = rate;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The originator's slot, or the probe candidate idle longest, made its own and full. */
static authz_rate_slot *slot_of(authz_rate *r, const char *id, int64_t now_ms)
{
    uint32_t h = fnv1a(id);
    authz_rate_slot *pick = NULL;

    for (uint32_t i = 0; i < AUTHZ_RATE_PROBE; i++) {
        authz_rate_slot *s = &r->slots[(h + i) % AUTHZ_RATE_SLOTS];

        if (s->id[0] != '\0' && strncmp(s->id, id, sizeof(s->id) - 1) == 0)
            return s;
        /* an empty slot first, else the one idle longest */
        if (pick == NULL ||
            (pick->id[0] != '\0' && (s->id[0] == '\0' || s->last_ms < pick->last_ms)))
            pick = s;
    }
    snprintf(pick->id, sizeof(pick->id), "%s", id);
    pick->tokens = 2.0 * (double)r->rate;
    pick->last_ms = now_ms;
    return pick;
}

bool authz_rate_take(authz_rate *r, const char *originator, int64_t now_ms)
{
    authz_rate_slot *s;
    double burst = 2.0 * (double)r->rate;

    if (r->rate <= 0)
        return true;
    s = slot_of(r, originator != NULL ? originator : "", now_ms);
    if (now_ms > s->last_ms) {
        s->tokens += (double)(now_ms - s->last_ms) * (double)r->rate / 1000.0;
        if (s->tokens > burst)
            s->tokens = burst;
        s->last_ms = now_ms;
    }
    if (s->tokens < 1.0)
        return false;
    s->tokens -= 1.0;
    return true;
}
