/* The one wildcard matcher for every pattern that comes from outside: token ris and aud
 * (TS-0003 7.3.2), tep-authz grants, acor originators (TS-0003 7.1.3), app-rule lists
 * (TS-0001 9.6.29). '*' matches any run of bytes (the empty run too); every other byte
 * matches itself; there is no escape and no '?'.
 *
 * Linear time: the pattern is cut at its stars into literal pieces; the first piece must
 * be a prefix, the last a suffix, and each piece between is found leftmost after the one
 * before it (Knuth-Morris-Pratt), which is exact for star-only patterns. Work is bounded
 * by a small constant times (pattern length + text length), whatever the pattern: a
 * thousand stars cost a thousand steps, not a thousand factorial. */
#ifndef TEP_CMN_GLOB_H
#define TEP_CMN_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* '*' never matches '/': a '*' is scoped to one path segment ("The scope of a '*' is
 * terminated by a following '/' character", TS-0003 7.1.3). */
#define CMN_GLOB_SEGMENT 1u

/* pattern against text (both NUL-terminated); NULL on either side does not match. */
bool cmn_glob_match(const char *pattern, const char *text, unsigned flags);

/* The same over counted bytes. ret_steps (may be NULL) gets the number of byte
 * comparisons and table steps made, for tests that bound the work. */
bool cmn_glob_matchn(const char *pattern, size_t plen, const char *text, size_t tlen,
                     unsigned flags, size_t *ret_steps);

/* Whether every text the pattern `narrow` matches is matched by `wide`, judged per
 * segment and conservatively: a segment of narrow without '*' must be matched by wide's
 * segment; a segment with '*' must be equal to wide's or wide's must be exactly "*", and
 * never holds "**" (no meaning beyond "*", only an attack's shape). The segment counts
 * must agree. For an issuer that hands out patterns (token ris). */
bool cmn_glob_covers(const char *wide, const char *narrow);

#endif
