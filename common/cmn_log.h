/* Logging: one line per event, "ts=... lvl=... svc=... sub=... <key=value ...>".
 * Only daemons and tools log; libraries (common/, ae-sdk/) return errors instead.
 * NEVER pass key material, PSKs or tokens to these macros. */
#ifndef TEP_CMN_LOG_H
#define TEP_CMN_LOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum { CMN_LOG_ERR = 0, CMN_LOG_WARN, CMN_LOG_INFO, CMN_LOG_DEBUG } cmn_log_level;

/* svc: program name ("tep-cse"); out: NULL means stderr. Not thread-safe by design. */
void cmn_log_init(const char *svc, cmn_log_level level, FILE *out);
void cmn_log_set_level(cmn_log_level level);
cmn_log_level cmn_log_get_level(void);
/* Deferred lines (a daemon's event loop): info and debug lines wait in the stream's
 * buffer until cmn_log_flush() (the loop calls it before it sleeps) or until a warn or
 * error line, which leaves at once with every line before it, in order; so a busy loop
 * pays one write per turn, not one per line. Off (the default): every line is flushed
 * as it is written. Turn it on right after cmn_log_init, before the first line. */
void cmn_log_set_deferred(bool on);
void cmn_log_flush(void);
/* "error" | "warn" | "info" | "debug" -> 0 and *ret, else CMN_EINVAL. */
int cmn_log_parse_level(const char *s, cmn_log_level *ret);
/* A value from a peer made safe for one key=value log field: bytes outside 0x21..0x7e,
 * '"' and '=' become '?', truncated to len - 1 bytes; NULL is "-". Returns ret. */
const char *cmn_log_value(const char *in, char *ret, size_t len);

/* fmt holds the key=value part, e.g. "event=enrolled ke_id=%s". Values with spaces
 * should be quoted by the caller ("msg=\"%s\""). */
void cmn_log_write(cmn_log_level level, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CMN_ERR(sub, ...) cmn_log_write(CMN_LOG_ERR, sub, __VA_ARGS__)
#define CMN_WARN(sub, ...) cmn_log_write(CMN_LOG_WARN, sub, __VA_ARGS__)
#define CMN_INFO(sub, ...) cmn_log_write(CMN_LOG_INFO, sub, __VA_ARGS__)
#define CMN_DEBUG(sub, ...)                                                                        \
    do {                                                                                           \
        if (cmn_log_get_level() >= CMN_LOG_DEBUG)                                                  \
            cmn_log_write(CMN_LOG_DEBUG, sub, __VA_ARGS__);                                        \
    } while (0)

#endif
