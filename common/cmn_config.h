/* INI configuration described by a table: section, key, type, default, bounds,
 * validator. Every key can be overridden by the environment variable
 * TEP_<SECTION>_<KEY> (upper case, '-' and '.' become '_'). Errors name the file and
 * line (or the environment variable). Unknown sections or keys are errors. */
#ifndef TEP_CMN_CONFIG_H
#define TEP_CMN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { CMN_CFG_STR, CMN_CFG_INT, CMN_CFG_BOOL } cmn_cfg_type;

/* Validator for a string value: return 0, or fill err (with a reason, no file/line). */
typedef int (*cmn_cfg_validate_fn)(const char *value, char *err, size_t errlen);

typedef struct {
    const char *section;
    const char *key;
    cmn_cfg_type type;
    const char *def;              /* default as text; NULL means the key is required */
    size_t offset;                /* offsetof() in the caller's struct: char * / long / bool */
    long min, max;                /* bounds for CMN_CFG_INT (min == max == 0: unbounded) */
    cmn_cfg_validate_fn validate; /* optional, CMN_CFG_STR only */
    const char *help;             /* one line, shown by --help-config */
} cmn_cfg_item;

/* The rows of a table over the struct T: a string (fn its validator, or NULL), an integer
 * in [min, max], a bool. field: the member, as offsetof takes it. */
#define CMN_CFG_STR_ITEM(T, sec, key, def, field, fn, help)                                        \
    {                                                                                              \
        sec, key, CMN_CFG_STR, def, offsetof(T, field), 0, 0, fn, help                             \
    }
#define CMN_CFG_INT_ITEM(T, sec, key, def, field, min, max, help)                                  \
    {                                                                                              \
        sec, key, CMN_CFG_INT, def, offsetof(T, field), min, max, NULL, help                       \
    }
#define CMN_CFG_BOOL_ITEM(T, sec, key, def, field, help)                                           \
    {                                                                                              \
        sec, key, CMN_CFG_BOOL, def, offsetof(T, field), 0, 0, NULL, help                          \
    }

/* Load path (NULL: defaults + environment only) into cfg. Strings are malloc'd and
 * owned by cfg: release them with cmn_config_free(). On error returns CMN_ECONFIG and
 * writes "FILE:LINE: section.key: reason" into err. */
int cmn_config_load(const char *path, const cmn_cfg_item *table, size_t n, void *cfg, char *err,
                    size_t errlen);
void cmn_config_free(const cmn_cfg_item *table, size_t n, void *cfg);
/* Print "section.key (type, default): help" lines for --help. */
void cmn_config_print_help(const cmn_cfg_item *table, size_t n, FILE *out);

/* Where section.key was set, for an error about keys that are valid alone but not
 * together: "TEP_<SECTION>_<KEY>" when the environment sets it (it wins), else
 * "FILE:LINE" when path does, else "FILE" (the default applied). ret holds len bytes. */
void cmn_config_where(const char *path, const char *section, const char *key, char *ret,
                      size_t len);

/* Stock validators. */
int cmn_cfg_valid_endpoint(const char *v, char *err, size_t errlen); /* ipc:// or tcp:// */
int cmn_cfg_valid_cse_id(const char *v, char *err, size_t errlen);   /* "/name" */
int cmn_cfg_valid_fqdn(const char *v, char *err, size_t errlen);
int cmn_cfg_valid_listen(const char *v, char *err, size_t errlen); /* "host:port" or "" */
int cmn_cfg_valid_nonempty(const char *v, char *err, size_t errlen);
int cmn_cfg_valid_log_level(const char *v, char *err, size_t errlen); /* cmn_log_parse_level */
/* ipc:// or tcp:// as cmn_cfg_valid_endpoint, or "" (the socket is off). */
int cmn_cfg_valid_optional_endpoint(const char *v, char *err, size_t errlen);
#define CMN_CFG_ENDPOINTS_MAX 16
/* One endpoint or several, comma-separated (spaces around them allowed), each
 * cmn_cfg_valid_endpoint, at most CMN_BUS_ENDPOINTS_MAX: a connecting socket spread over
 * replicas (cmn_bus_open). */
int cmn_cfg_valid_endpoint_list(const char *v, char *err, size_t errlen);

/* A list value "KEY=VALUE, KEY=VALUE, ..." (blanks around items and around '=' are
 * ignored; "" is the empty list): enrolment targets, bus peers. Keys and values are
 * non-empty and have no blank or ','; an item is split at its first '=' (a value may
 * hold more, a key none); keys are unique. *ret (malloc'd, n entries) is owned by the caller:
 * cmn_cfg_pairs_free(). CMN_EINVAL with the reason in err (no file/line: validators
 * run inside cmn_config_load, which adds them). */
typedef struct {
    char *key;
    char *value;
} cmn_cfg_pair;

int cmn_cfg_pairs_parse(const char *v, cmn_cfg_pair **ret, size_t *ret_n, char *err, size_t errlen);
void cmn_cfg_pairs_free(cmn_cfg_pair *p, size_t n); /* NULL is fine */

#endif
