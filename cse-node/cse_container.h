/* container semantics (TS-0004 7.4.6, 7.4.7): the maxNrOfInstances (mni),
 * maxByteSize (mbs) and maxInstanceAge (mia) limits, and the <latest>/<oldest>
 * virtual children (`la`, `ol`). */
#ifndef TEP_CSE_CONTAINER_H
#define TEP_CSE_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "cmn_store.h"
#include "tep.pb-c.h"

/* The latest (oldest = false) or oldest contentInstance of the container at cnt_path
 * (caller frees *ret). CMN_ENOTFOUND when it holds none. */
int cse_cnt_edge(cmn_store *st, const char *cnt_path, bool oldest, Tep__Resource **ret);

/* Deletes the oldest contentInstances of cnt while it holds more than mni of them or
 * more than mbs bytes, and every one older than mia seconds. */
int cse_cnt_enforce(cmn_store *st, const Tep__Resource *cnt, int64_t now);

#endif
