/* The one monotonic clock of tep's event loops, deadlines and timers. */
#ifndef TEP_CMN_CLOCK_H
#define TEP_CMN_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: only differences mean anything (never wall time).
 * Thread-safe. */
int64_t cmn_mono_ms(void);

#endif
