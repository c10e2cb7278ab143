/* The linear-time wildcard matcher (see cmn_glob.h). */
#include "cmn_glob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Pieces up to this length keep their KMP table on the stack. */
#define TABLE_STACK 128

typedef struct {
    size_t steps;
} glob_run;

/* KMP failure table of piece p[0..n): f[i] = length of the longest proper border of
 * p[0..i]. */
static void kmp_table(const char *p, size_t n, size_t *f, glob_run *r)
{
    size_t k = 0;

    f[0] = 0;
    for (size_t i = 1; i < n; i++) {
        while (k > 0 && p[i] != p[k]) {
            k = f[k - 1];
            r->steps++;
        }
        if (p[i] == p[k])
            k++;
        f[i] = k;
        r->steps++;
    }
}

/* Leftmost occurrence of p[0..n) in t[from..to): its end index, or SIZE_MAX. Each text
 * byte is read once; the fallbacks are paid for by earlier advances (amortised). */
static size_t kmp_find(const char *p, size_t n, const size_t *f, const char *t, size_t from,
                       size_t to, glob_run *r)
{
    size_t k = 0;

    for (size_t i = from; i < to; i++) {
        while (k > 0 && t[i] != p[k]) {
            k = f[k - 1];
            r->steps++;
        }
        r->steps++;
        if (t[i] == p[k] && ++k == n)
            return i + 1;
    }
    return SIZE_MAX;
}

/* Find piece p[0..n) leftmost in t[*pos..to) and move *pos past it. */
static bool find_piece(const char *p, size_t n, const char *t, size_t *pos, size_t to, glob_run *r)
{
    size_t stack[TABLE_STACK], *f = stack, end;

    if (n > TABLE_STACK) {
        f = malloc(n * sizeof(*f));
        if (f == NULL)
            return false; /* out of memory: no match (fail closed) */
    }
    kmp_table(p, n, f, r);
    end = kmp_find(p, n, f, t, *pos, to, r);
    if (f != stack)
        free(f);
    if (end == SIZE_MAX)
        return false;
    *pos = end;
    return true;
}

/* One pattern against one text, '*' matching anything. */
static bool match_plain(const char *p, size_t pn, const char *t, size_t tn, glob_run *r)
{
    const char *star = memchr(p, '*', pn);
    size_t head, tail, pos, end;

    if (star == NULL) {
        r->steps += pn < tn ? pn : tn;
        return pn == tn && memcmp(p, t, pn) == 0;
    }
    head = (size_t)(star - p);
    tail = 0;
    while (tail < pn - head && p[pn - 1 - tail] != '*')
        tail++;
    r->steps += head + tail;
    if (head + tail > tn || memcmp(p, t, head) != 0 ||
        memcmp(p + pn - tail, t + tn - tail, tail) != 0)
        return false;
    /* The pieces strictly between the first and the last star, each leftmost. */
    pos = head;
    end = tn - tail;
    for (size_t i = head; i < pn - tail;) {
        size_t j = i;

        while (j < pn - tail && p[j] == '*') {
            j++;
            r->steps++;
        }
        i = j;
        while (j < pn - tail && p[j] != '*')
            j++;
        if (j > i && !find_piece(p + i, j - i, t, &pos, end, r))
            return false;
        i = j;
    }
    return true;
}

/* Length of the segment starting at s (up to '/' or n). */
static size_t seg_len(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);

    return slash == NULL ? n : (size_t)(slash - s);
}

bool cmn_glob_matchn(const char *p, size_t pn, const char *t, size_t tn, unsigned flags,
                     size_t *ret_steps)
{
    glob_run r = {0};
    bool ok = true;

    if (!(flags & CMN_GLOB_SEGMENT)) {
        ok = match_plain(p, pn, t, tn, &r);
    } else {
        /* '*' cannot eat a '/', so the i-th '/' of the text meets the i-th '/' of the
         * pattern: match segment by segment, the counts agreeing. */
        for (;;) {
            size_t ps = seg_len(p, pn), ts = seg_len(t, tn);

            r.steps += ps + ts;
            if (!match_plain(p, ps, t, ts, &r)) {
                ok = false;
                break;
            }
            if (ps == pn || ts == tn) {
                ok = ps == pn && ts == tn;
                break;
            }
            p += ps + 1, pn -= ps + 1;
            t += ts + 1, tn -= ts + 1;
        }
    }
    if (ret_steps != NULL)
        *ret_steps = r.steps;
    return ok;
}

bool cmn_glob_match(const char *pattern, const char *text, unsigned flags)
{
    if (pattern == NULL || text == NULL)
        return false;
    return cmn_glob_matchn(pattern, strlen(pattern), text, strlen(text), flags, NULL);
}

static bool has_double_star(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (s[i] == '*' && s[i - 1] == '*')
            return true;
    return false;
}

bool cmn_glob_covers(const char *wide, const char *narrow)
{
    size_t wn, nn;

    if (wide == NULL || narrow == NULL)
        return false;
    wn = strlen(wide);
    nn = strlen(narrow);
    for (;;) {
        size_t ws = seg_len(wide, wn), ns = seg_len(narrow, nn);
        glob_run r = {0};

        if (memchr(narrow, '*', ns) != NULL) {
            if (has_double_star(narrow, ns) ||
                !((ws == 1 && wide[0] == '*') || (ws == ns && memcmp(wide, narrow, ns) == 0)))
                return false;
        } else if (!match_plain(wide, ws, narrow, ns, &r)) {
            return false;
        }
        if (ws == wn || ns == nn)
            return ws == wn && ns == nn;
        wide += ws + 1, wn -= ws + 1;
        narrow += ns + 1, nn -= ns + 1;
    }
}
