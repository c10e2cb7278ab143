/* Logging: one line per event, written with a single fwrite and flushed (deferred: at
 * the end of the loop turn, see cmn_log.h).
 * "ts=2026-11-28T01:02:03.456Z lvl=info svc=tep-cse sub=coap <key=value ...>" */
#include "cmn_log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cmn_err.h"

#define LOG_LINE_MAX 2048
#define LOG_DEFER_BUF (64 * 1024)

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static struct {
    char svc[64];
    cmn_log_level level;
    FILE *out; /* NULL: stderr (resolved at write time) */
    bool deferred;
    FILE *buffered; /* the stream given a buffer (setvbuf once, before its first line) */
} log_state = {"tep", CMN_LOG_INFO, NULL, false, NULL};

void cmn_log_set_deferred(bool on)
{
    static char buf[LOG_DEFER_BUF];
    FILE *out = log_state.out != NULL ? log_state.out : stderr;

    cmn_log_flush();
    if (on && log_state.buffered == NULL) {
        if (setvbuf(out, buf, _IOFBF, sizeof(buf)) != 0)
            return; /* stays line by line */
        log_state.buffered = out;
    }
    log_state.deferred = on && log_state.buffered == out;
}

void cmn_log_flush(void)
{
    fflush(log_state.out != NULL ? log_state.out : stderr);
}

void cmn_log_init(const char *svc, cmn_log_level level, FILE *out)
{
    snprintf(log_state.svc, sizeof(log_state.svc), "%s", svc != NULL ? svc : "tep");
    cmn_log_set_level(level);
    log_state.out = out;
}

void cmn_log_set_level(cmn_log_level level)
{
    if (level < CMN_LOG_ERR)
        level = CMN_LOG_ERR;
    if (level > CMN_LOG_DEBUG)
        level = CMN_LOG_DEBUG;
    log_state.level = level;
}

cmn_log_level cmn_log_get_level(void)
{
    return log_state.level;
}

int cmn_log_parse_level(const char *s, cmn_log_level *ret)
{
    if (s == NULL || ret == NULL)
        return CMN_EINVAL;
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *ret = (cmn_log_level)i;
            return 0;
        }
    }
    return CMN_EINVAL;
}

/* "2026-11-28T01:02:03.456Z" into buf (at least 25 bytes). The date and time of the
 * second are formatted once per second, not once per line. */
static void format_ts(char *buf, size_t len)
{
    static time_t last_sec = (time_t)-1;
    static char last[24];
    static size_t last_n;
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != last_sec) {
        gmtime_r(&now.tv_sec, &tm);
        last_n = strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%S", &tm);
        last_sec = now.tv_sec;
    }
    snprintf(buf, len, "%.*s.%03dZ", (int)last_n, last, (int)(now.tv_nsec / 1000000L) % 1000);
}

/* A line is one event: embedded line breaks would let a value forge a second line. */
static void flatten(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' || s[i] == '\r')
            s[i] = ' ';
    }
}

void cmn_log_write(cmn_log_level level, const char *sub, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    char ts[32];
    FILE *out = log_state.out != NULL ? log_state.out : stderr;
    va_list ap;
    int head, body;
    size_t len;

    if (level > log_state.level || level < CMN_LOG_ERR)
        return;
    format_ts(ts, sizeof(ts));
    head = snprintf(line, sizeof(line), "ts=%s lvl=%s svc=%s sub=%s ", ts, level_names[level],
                    log_state.svc, sub != NULL ? sub : "-");
    if (head < 0 || (size_t)head >= sizeof(line) - 1)
        return;
    va_start(ap, fmt);
    body = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
    va_end(ap);
    if (body < 0)
        body = 0;
    len = (size_t)head + (size_t)body;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep the line whole */
    flatten(line, len);
    line[len++] = '\n';
    fwrite(line, 1, len, out);
    if (!log_state.deferred || level <= CMN_LOG_WARN)
        fflush(out);
}

const char *cmn_log_value(const char *in, char *ret, size_t len)
{
    size_t i;

    if (in == NULL)
        in = "-";
    for (i = 0; in[i] != '\0' && i + 1 < len; i++) {
        unsigned char c = (unsigned char)in[i];
        ret[i] = (c > 0x20 && c < 0x7f && c != '"' && c != '=') ? (char)c : '?';
    }
    ret[i] = '\0';
    return ret;
}
