/* Admission at the PEP (cse_admit.h). */
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cse_admit.h"

#define ORIGINATOR_MAX 256 /* longest originator counted; longer ones share one slot */

typedef struct {
    char originator[ORIGINATOR_MAX];
    size_t waiting;
} slot;

struct cse_admit {
    cse_admit_limits lim;
    int deadline_ms;
    slot *slots; /* originators with requests waiting; at most max_outstanding */
    size_t n, cap;
    size_t waiting;
    int64_t ewma_ms;        /* decision latency, EWMA with weight 1/8 */
    int64_t last_sample_ms; /* when the last latency sample came */
    uint64_t admitted, shed_originator, shed_total, shed_slow;
};

int cse_admit_new(const cse_admit_limits *lim, int deadline_ms, cse_admit **ret)
{
    cse_admit *a = calloc(1, sizeof(*a));

    *ret = NULL;
    if (a == NULL)
        return CMN_ENOMEM;
    a->lim = *lim;
    a->deadline_ms = deadline_ms;
    *ret = a;
    return 0;
}

void cse_admit_free(cse_admit *a)
{
    if (a == NULL)
        return;
    free(a->slots);
    free(a);
}

static slot *find(cse_admit *a, const char *originator)
{
    for (size_t i = 0; i < a->n; i++)
        if (strncmp(a->slots[i].originator, originator, ORIGINATOR_MAX - 1) == 0)
            return &a->slots[i];
    return NULL;
}

/* The latency estimate, forgotten when no sample came for two deadlines (the PDP
 * recovered, or nothing was asked). */
static int64_t latency(const cse_admit *a, int64_t now_ms)
{
    return now_ms - a->last_sample_ms > 2 * (int64_t)a->deadline_ms ? 0 : a->ewma_ms;
}

const char *cse_admit_check(cse_admit *a, const char *originator, int64_t now_ms)
{
    const slot *s = find(a, originator != NULL ? originator : "");
    size_t mine = s != NULL ? s->waiting : 0;

    if (a->lim.per_originator > 0 && mine >= (size_t)a->lim.per_originator) {
        a->shed_originator++;
        return "originator_limit";
    }
    if (a->lim.max_outstanding > 0 && a->waiting >= (size_t)a->lim.max_outstanding) {
        a->shed_total++;
        return "total_limit";
    }
    if (mine > 0 && a->lim.slow_pct > 0 &&
        latency(a, now_ms) * 100 > (int64_t)a->deadline_ms * a->lim.slow_pct) {
        a->shed_slow++;
        return "pdp_slow";
    }
    a->admitted++;
    return NULL;
}

int cse_admit_take(cse_admit *a, const char *originator)
{
    slot *s = find(a, originator != NULL ? originator : "");

    if (s == NULL) {
        const char *o;
        size_t len;

        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 16;
            slot *t = realloc(a->slots, cap * sizeof(*t));

            if (t == NULL)
                return CMN_ENOMEM;
            a->slots = t;
            a->cap = cap;
        }
        s = &a->slots[a->n++];
        memset(s, 0, sizeof(*s));
        o = originator != NULL ? originator : "";
        len = strnlen(o, ORIGINATOR_MAX - 1);

        memcpy(s->originator, o, len);
        s->originator[len] = '\0';
    }
    s->waiting++;
    a->waiting++;
    return 0;
}

void cse_admit_release(cse_admit *a, const char *originator, int64_t latency_ms, int64_t now_ms)
{
    slot *s = find(a, originator != NULL ? originator : "");

    if (latency_ms >= 0) {
        a->ewma_ms =
            latency(a, now_ms) == 0 ? latency_ms : a->ewma_ms + (latency_ms - a->ewma_ms) / 8;
        a->last_sample_ms = now_ms;
    }
    if (s == NULL || s->waiting == 0)
        return;
    a->waiting--;
    if (--s->waiting == 0)
        *s = a->slots[--a->n]; /* no empty slots: the table holds waiting originators */
}

void cse_admit_get_stats(const cse_admit *a, cse_admit_stats *ret)
{
    *ret = (cse_admit_stats){
        .admitted = a->admitted,
        .shed_originator = a->shed_originator,
        .shed_total = a->shed_total,
        .shed_slow = a->shed_slow,
        .waiting = a->waiting,
        .latency_ms = a->ewma_ms,
    };
}
