/* Discovery and child listing (TS-0004 7.3.3.17 filter criteria, 7.4 result content):
 * walks the stored subtree of a target, keeps the resources that match the filter
 * criteria and that the caller's allow() permits, and renders them. */
#ifndef TEP_CSE_DISCOVERY_H
#define TEP_CSE_DISCOVERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmn_store.h"
#include "cse_query.h"
#include "tep.pb-c.h"

/* Does r satisfy q's criteria (ty, lbl, cra/crb, ms/us, sts/stb; AND between criteria,
 * OR between the values of one)? */
bool cse_disc_match(const Tep__Resource *r, const cse_query *q);

/* allow's answer for one candidate. CSE_DISC_OPEN: not known yet (remote decision on its
 * way, the pass is provisional): it counts toward lim as if returned, so a walk asks no
 * more decisions than lim can use; a later pass, with the answers, walks on when some
 * were denied. */
typedef enum { CSE_DISC_DENY = 0, CSE_DISC_ALLOW = 1, CSE_DISC_OPEN = 2 } cse_disc_verdict;
typedef cse_disc_verdict (*cse_disc_allow_fn)(const Tep__Resource *r, void *arg);

typedef enum {
    CSE_DISC_IDS,       /* ["tep-cse/ae1", ...] (drt: structured or ri) for m2m:uril */
    CSE_DISC_REFS,      /* [{"nm","typ","val"}, ...] childResource references */
    CSE_DISC_RESOURCES, /* [{"m2m:cnt": {...}}, ...] full representations */
} cse_disc_form;

/* Matching, unexpired, allowed descendants of root (direct children only when
 * direct_only; otherwise down to q->lvl levels), ofst skipped, at most q->lim, in path
 * order, as a new JSON array in *ret. allow may be NULL (everything allowed). The walk
 * stops as soon as lim results (allowed or open) are found: its cost follows what is
 * returned, not the size of the subtree. */
int cse_disc_find(cmn_store *st, const Tep__Resource *root, const cse_query *q, bool direct_only,
                  cse_disc_form form, int64_t now, cse_disc_allow_fn allow, void *arg,
                  json_t **ret);

#endif
