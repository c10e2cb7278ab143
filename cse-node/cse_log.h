/* Peer-supplied values in tep-cse's log lines (cmn_log.h: one line per event, key=value). */
#ifndef TEP_CSE_LOG_H
#define TEP_CSE_LOG_H

#include <stddef.h>

/* Copies a peer-supplied value for a log line: printable ASCII without spaces, quotes or
 * '=', others become '?', truncated to len-1. NULL becomes "-". Returns ret. */
const char *cse_log_value(const char *in, char *ret, size_t len);

#endif
