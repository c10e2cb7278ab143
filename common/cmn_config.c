/* Table-driven INI configuration on inih. Order of precedence: table default, then the
 * file, then TEP_<SECTION>_<KEY> from the environment. Debian's inih passes no line
 * number to the handler, so the reader given to ini_parse_stream counts lines. */
#include "cmn_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "cmn_err.h"
#include "cmn_log.h"

#define REASON_MAX 160

typedef struct {
    const char *path;
    const cmn_cfg_item *table;
    size_t n;
    void *cfg;
    unsigned char *seen; /* per item: set by the file */
    FILE *file;
    int line;      /* line being parsed */
    int next_line; /* line the next read starts */
    char *err;
    size_t errlen;
    int failed;
} load_ctx;

/* First error wins: later ones are usually consequences of it. */
static void fail(load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(load_ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->failed)
        return;
    c->failed = 1;
    if (c->err == NULL || c->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

static const char *type_name(cmn_cfg_type t)
{
    return t == CMN_CFG_INT ? "int" : t == CMN_CFG_BOOL ? "bool" : "string";
}

static int parse_bool(const char *v, bool *ret)
{
    static const char *const yes[] = {"true", "yes", "1", "on"};
    static const char *const no[] = {"false", "no", "0", "off"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *ret = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return CMN_EINVAL;
}

static int parse_int(const cmn_cfg_item *it, const char *v, long *ret, char *why, size_t len)
{
    char *end = NULL;
    long x;

    errno = 0;
    x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno == ERANGE) {
        snprintf(why, len, "not an integer: \"%s\"", v);
        return CMN_EINVAL;
    }
    if ((it->min != 0 || it->max != 0) && (x < it->min || x > it->max)) {
        snprintf(why, len, "%ld is out of range [%ld, %ld]", x, it->min, it->max);
        return CMN_ERANGE;
    }
    *ret = x;
    return 0;
}

/* Converts and stores one value; on error fills why (no file/line/key). */
static int apply(const cmn_cfg_item *it, const char *v, void *cfg, char *why, size_t len)
{
    char *field = (char *)cfg + it->offset;
    char *copy;
    long x;
    bool b;
    int rc;

    switch (it->type) {
    case CMN_CFG_INT:
        rc = parse_int(it, v, &x, why, len);
        if (rc == 0)
            memcpy(field, &x, sizeof(x));
        return rc;
    case CMN_CFG_BOOL:
        if (parse_bool(v, &b) != 0) {
            snprintf(why, len, "not a boolean (true/false/yes/no/on/off/1/0): \"%s\"", v);
            return CMN_EINVAL;
        }
        memcpy(field, &b, sizeof(b));
        return 0;
    case CMN_CFG_STR:
        if (it->validate != NULL && it->validate(v, why, len) != 0)
            return CMN_EINVAL;
        copy = strdup(v);
        if (copy == NULL) {
            snprintf(why, len, "out of memory");
            return CMN_ENOMEM;
        }
        free(*(char **)(void *)field);
        *(char **)(void *)field = copy;
        return 0;
    }
    snprintf(why, len, "unknown type");
    return CMN_EINVAL;
}

static long find_item(const load_ctx *c, const char *section, const char *key)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->table[i].section, section) == 0 && strcmp(c->table[i].key, key) == 0)
            return (long)i;
    }
    return -1;
}

static int section_known(const load_ctx *c, const char *section, size_t len)
{
    for (size_t i = 0; i < c->n; i++) {
        const char *s = c->table[i].section;

        if (strlen(s) == len && strncmp(s, section, len) == 0)
            return 1;
    }
    return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    load_ctx *c = user;
    char why[REASON_MAX];
    long i = find_item(c, section, key);

    if (*section == '\0') {
        fail(c, "%s:%d: %s: key outside any [section]", c->path, c->line, key);
        return 0;
    }
    if (i < 0) {
        fail(c, "%s:%d: %s.%s: unknown key", c->path, c->line, section, key);
        return 0;
    }
    if (c->seen[i]) {
        fail(c, "%s:%d: %s.%s: set twice (or a continuation line)", c->path, c->line, section, key);
        return 0;
    }
    c->seen[i] = 1;
    if (apply(&c->table[i], value, c->cfg, why, sizeof(why)) != 0) {
        fail(c, "%s:%d: %s.%s: %s", c->path, c->line, section, key, why);
        return 0;
    }
    return 1;
}

/* "[name]" lines are checked here: inih does not report empty sections to handler(). */
static void check_section_line(load_ctx *c, const char *s)
{
    const char *end;

    while (isspace((unsigned char)*s))
        s++;
    if (*s != '[')
        return;
    end = strchr(s, ']');
    if (end == NULL)
        return; /* inih reports the syntax error */
    if (!section_known(c, s + 1, (size_t)(end - s - 1)))
        fail(c, "%s:%d: [%.*s]: unknown section", c->path, c->line, (int)(end - s - 1), s + 1);
}

/* fgets-like reader for ini_parse_stream that counts lines. */
static char *reader(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    char *r;
    size_t len;

    c->line = c->next_line;
    r = fgets(str, num, c->file);
    if (r == NULL)
        return NULL;
    len = strlen(r);
    if (len > 0 && r[len - 1] == '\n')
        c->next_line++;
    else if (!feof(c->file))
        fail(c, "%s:%d: line longer than %d characters", c->path, c->line, num - 3);
    check_section_line(c, r);
    return r;
}

static void parse_file(load_ctx *c)
{
    int rc;

    c->file = fopen(c->path, "r");
    if (c->file == NULL) {
        fail(c, "%s: cannot open: %s", c->path, strerror(errno));
        return;
    }
    c->next_line = 1;
    rc = ini_parse_stream(reader, c, handler, c);
    if (rc > 0)
        fail(c, "%s:%d: syntax error (expected [section] or key = value)", c->path, rc);
    else if (rc < 0)
        fail(c, "%s: cannot parse (error %d)", c->path, rc);
    fclose(c->file);
    c->file = NULL;
}

static void env_name(const cmn_cfg_item *it, char *buf, size_t len)
{
    size_t i;

    snprintf(buf, len, "TEP_%s_%s", it->section, it->key);
    for (i = 0; buf[i]; i++) {
        if (buf[i] == '-' || buf[i] == '.')
            buf[i] = '_';
        else
            buf[i] = (char)toupper((unsigned char)buf[i]);
    }
}

static void apply_env(load_ctx *c)
{
    char name[128], why[REASON_MAX];

    for (size_t i = 0; i < c->n && !c->failed; i++) {
        const cmn_cfg_item *it = &c->table[i];
        const char *v;

        env_name(it, name, sizeof(name));
        v = getenv(name);
        if (v == NULL)
            continue;
        if (apply(it, v, c->cfg, why, sizeof(why)) != 0)
            fail(c, "%s: %s.%s: %s", name, it->section, it->key, why);
        c->seen[i] = 1;
    }
}

static void apply_defaults(load_ctx *c)
{
    char why[REASON_MAX];

    for (size_t i = 0; i < c->n; i++) {
        if (c->table[i].type == CMN_CFG_STR)
            *(char **)(void *)((char *)c->cfg + c->table[i].offset) = NULL;
    }
    for (size_t i = 0; i < c->n && !c->failed; i++) {
        const cmn_cfg_item *it = &c->table[i];

        if (it->def != NULL && apply(it, it->def, c->cfg, why, sizeof(why)) != 0)
            fail(c, "(default): %s.%s: %s", it->section, it->key, why);
    }
}

static void check_required(load_ctx *c)
{
    for (size_t i = 0; i < c->n && !c->failed; i++) {
        const cmn_cfg_item *it = &c->table[i];
        char name[128];

        if (it->def != NULL || c->seen[i])
            continue;
        env_name(it, name, sizeof(name));
        fail(c, "%s: %s.%s: required key missing (set it in [%s] or in %s)", c->path, it->section,
             it->key, it->section, name);
    }
}

int cmn_config_load(const char *path, const cmn_cfg_item *table, size_t n, void *cfg, char *err,
                    size_t errlen)
{
    load_ctx c = {.path = path != NULL ? path : "(no file)",
                  .table = table,
                  .n = n,
                  .cfg = cfg,
                  .err = err,
                  .errlen = errlen};

    if (err != NULL && errlen)
        err[0] = '\0';
    if ((table == NULL && n) || cfg == NULL)
        return CMN_EINVAL;
    c.seen = calloc(n ? n : 1, 1);
    if (c.seen == NULL)
        return CMN_ENOMEM;
    apply_defaults(&c);
    if (path != NULL && !c.failed)
        parse_file(&c);
    if (!c.failed)
        apply_env(&c);
    check_required(&c);
    free(c.seen);
    if (c.failed) {
        cmn_config_free(table, n, cfg);
        return CMN_ECONFIG;
    }
    return 0;
}

void cmn_config_free(const cmn_cfg_item *table, size_t n, void *cfg)
{
    if (table == NULL || cfg == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        char **field;

        if (table[i].type != CMN_CFG_STR)
            continue;
        field = (char **)(void *)((char *)cfg + table[i].offset);
        free(*field);
        *field = NULL;
    }
}

void cmn_config_print_help(const cmn_cfg_item *table, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const cmn_cfg_item *it = &table[i];

        if (it->def == NULL)
            fprintf(out, "%s.%s (%s, required): %s\n", it->section, it->key, type_name(it->type),
                    it->help != NULL ? it->help : "");
        else
            fprintf(out, "%s.%s (%s, default \"%s\"): %s\n", it->section, it->key,
                    type_name(it->type), it->def, it->help != NULL ? it->help : "");
    }
}

/* --- stock validators --- */

/* The line of path that sets section.key, 0 when none. */
static int key_line(const char *path, const char *section, const char *key)
{
    char buf[1024], cur[128] = "";
    size_t klen = strlen(key);
    int line = 0, found = 0;
    FILE *f = path != NULL ? fopen(path, "r") : NULL;

    while (f != NULL && found == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        char *s = buf + strspn(buf, " \t");
        char *end;

        line++;
        if (s[0] == '[' && (end = strchr(s, ']')) != NULL) {
            snprintf(cur, sizeof(cur), "%.*s", (int)(end - s - 1), s + 1);
            continue;
        }
        if (strcmp(cur, section) == 0 && strncmp(s, key, klen) == 0 &&
            (s[klen] == '=' || s[klen] == ' ' || s[klen] == '\t'))
            found = line;
    }
    if (f != NULL)
        fclose(f);
    return found;
}

void cmn_config_where(const char *path, const char *section, const char *key, char *ret, size_t len)
{
    cmn_cfg_item it = {.section = section, .key = key};
    char env[128];
    int line = key_line(path, section, key);

    env_name(&it, env, sizeof(env));
    if (getenv(env) != NULL) /* the environment wins over the file */
        snprintf(ret, len, "%s", env);
    else if (line > 0)
        snprintf(ret, len, "%s:%d", path, line);
    else
        snprintf(ret, len, "%s", path != NULL ? path : "(defaults)");
}

static int reject(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reject(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CMN_EINVAL;
}

static int port_valid(const char *p)
{
    char *end = NULL;
    long x;

    if (*p < '0' || *p > '9')
        return 0;
    errno = 0;
    x = strtol(p, &end, 10);
    return errno == 0 && *end == '\0' && x >= 1 && x <= 65535;
}

/* host (name, IPv4, "*" or "[IPv6]") ":" port */
static int host_port_valid(const char *v)
{
    const char *colon;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');

        if (close == NULL || close == v + 1 || close[1] != ':')
            return 0;
        for (const char *p = v + 1; p < close; p++) {
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return 0;
        }
        return port_valid(close + 2);
    }
    colon = strrchr(v, ':');
    if (colon == NULL || colon == v)
        return 0;
    for (const char *p = v; p < colon; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '*')
            return 0;
    }
    return port_valid(colon + 1);
}

int cmn_cfg_valid_endpoint(const char *v, char *err, size_t errlen)
{
    if (v == NULL)
        return reject(err, errlen, "missing endpoint");
    if (strncmp(v, "ipc://", 6) == 0 && v[6] != '\0')
        return 0;
    if (strncmp(v, "tcp://", 6) == 0 && host_port_valid(v + 6))
        return 0;
    return reject(err, errlen, "not an endpoint (ipc://PATH or tcp://HOST:PORT): \"%s\"", v);
}

int cmn_cfg_valid_cse_id(const char *v, char *err, size_t errlen)
{
    if (v != NULL && v[0] == '/' && v[1] != '\0') {
        const char *p = v + 1;

        while (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
            p++;
        if (*p == '\0')
            return 0;
    }
    return reject(err, errlen, "not an SP-relative CSE-ID (\"/\" then [A-Za-z0-9._-]): \"%s\"",
                  v != NULL ? v : "");
}

static int label_valid(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return 0;
    }
    return 1;
}

int cmn_cfg_valid_fqdn(const char *v, char *err, size_t errlen)
{
    const char *p = v;

    if (v == NULL || *v == '\0' || strlen(v) > 253)
        return reject(err, errlen, "not a domain name: \"%s\"", v != NULL ? v : "");
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);

        if (!label_valid(p, len))
            return reject(err, errlen, "not a domain name: \"%s\"", v);
        if (dot == NULL)
            return 0;
        p = dot + 1;
    }
}

int cmn_cfg_valid_listen(const char *v, char *err, size_t errlen)
{
    if (v == NULL || *v == '\0' || host_port_valid(v))
        return 0;
    return reject(err, errlen, "not HOST:PORT (port 1..65535) or empty: \"%s\"", v);
}

int cmn_cfg_valid_nonempty(const char *v, char *err, size_t errlen)
{
    if (v != NULL && v[0] != '\0')
        return 0;
    return reject(err, errlen, "must not be empty");
}

int cmn_cfg_valid_log_level(const char *v, char *err, size_t errlen)
{
    cmn_log_level level;

    if (v != NULL && cmn_log_parse_level(v, &level) == 0)
        return 0;
    return reject(err, errlen, "must be error, warn, info or debug");
}

int cmn_cfg_valid_endpoint_list(const char *v, char *err, size_t errlen)
{
    char one[512];
    size_t n = 0;
    const char *p = v;

    if (v == NULL || v[0] == '\0')
        return reject(err, errlen, "missing endpoint");
    for (;;) { /* every segment, the one after a trailing comma included */
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t a = 0;

        while (a < len && p[a] == ' ')
            a++;
        while (len > a && p[len - 1] == ' ')
            len--;
        if (len - a >= sizeof(one))
            return reject(err, errlen, "endpoint too long in \"%s\"", v);
        memcpy(one, p + a, len - a);
        one[len - a] = '\0';
        if (cmn_cfg_valid_endpoint(one, err, errlen) != 0)
            return CMN_EINVAL;
        if (++n > CMN_CFG_ENDPOINTS_MAX)
            return reject(err, errlen, "more than %d endpoints in \"%s\"", CMN_CFG_ENDPOINTS_MAX,
                          v);
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

int cmn_cfg_valid_optional_endpoint(const char *v, char *err, size_t errlen)
{
    if (v != NULL && v[0] == '\0')
        return 0;
    return cmn_cfg_valid_endpoint(v, err, errlen);
}

/* ---- KEY=VALUE lists ---------------------------------------------------------------- */

void cmn_cfg_pairs_free(cmn_cfg_pair *p, size_t n)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].value);
    }
    free(p);
}

static char *trimmed_dup(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    return strndup(s, len);
}

static bool has_blank(const char *s)
{
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return true;
    return false;
}

/* One item "KEY=VALUE" of len bytes at s into *p. */
static int pair_parse(const char *s, size_t len, cmn_cfg_pair *p, char *err, size_t errlen)
{
    const char *eq = memchr(s, '=', len);

    if (eq == NULL)
        return reject(err, errlen, "not KEY=VALUE: \"%.*s\"", (int)len, s);
    p->key = trimmed_dup(s, (size_t)(eq - s));
    p->value = trimmed_dup(eq + 1, len - (size_t)(eq - s) - 1);
    if (p->key == NULL || p->value == NULL)
        return reject(err, errlen, "out of memory");
    if (p->key[0] == '\0' || p->value[0] == '\0' || has_blank(p->key) || has_blank(p->value))
        return reject(err, errlen, "not KEY=VALUE: \"%.*s\"", (int)len, s);
    return 0;
}

int cmn_cfg_pairs_parse(const char *v, cmn_cfg_pair **ret, size_t *ret_n, char *err, size_t errlen)
{
    cmn_cfg_pair *p = NULL;
    size_t n = 0;
    int rc = 0;

    *ret = NULL;
    *ret_n = 0;
    for (const char *s = v != NULL ? v : ""; rc == 0 && *s;) {
        size_t len = strcspn(s, ",");
        cmn_cfg_pair *grown;

        if (strspn(s, " \t") >= len) { /* an empty item: blanks only */
            if (s[len] == ',' || n > 0)
                rc = reject(err, errlen, "empty item in the list");
            break;
        }
        grown = realloc(p, (n + 1) * sizeof(*p));
        if (grown == NULL) {
            rc = reject(err, errlen, "out of memory");
            break;
        }
        p = grown;
        p[n] = (cmn_cfg_pair){NULL, NULL};
        rc = pair_parse(s, len, &p[n++], err, errlen);
        for (size_t i = 0; rc == 0 && i + 1 < n; i++)
            if (strcmp(p[i].key, p[n - 1].key) == 0)
                rc = reject(err, errlen, "\"%s\" appears twice", p[n - 1].key);
        s += len + (s[len] == ',');
    }
    if (rc != 0) {
        cmn_cfg_pairs_free(p, n);
        return rc;
    }
    *ret = p;
    *ret_n = n;
    return 0;
}
