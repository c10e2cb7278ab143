/* The grants file (see authz_grants.h). */
#include "authz_grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmn_err.h"
#include "cmn_glob.h"

#define LT_MAX 86400
#define ACOP_ALL 63

typedef struct {
    char *originator;
    char **ris;
    size_t n_ris;
    uint32_t acop;
    int64_t lifetime;
} grant;

struct authz_grants {
    grant *items;
    size_t n;
};

int authz_grants_match(const char *p, const char *s)
{
    return cmn_glob_match(p, s, CMN_GLOB_SEGMENT);
}

static void grant_clear(grant *g)
{
    free(g->originator);
    for (size_t i = 0; i < g->n_ris; i++)
        free(g->ris[i]);
    free(g->ris);
}

void authz_grants_free(authz_grants *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n; i++)
        grant_clear(&g->items[i]);
    free(g->items);
    free(g);
}

size_t authz_grants_count(const authz_grants *g)
{
    return g != NULL ? g->n : 0;
}

/* One {"or","ris","acop","lt"} object; returns NULL or why it is refused. */
static const char *parse_grant(json_t *o, grant *g)
{
    json_t *ris = json_object_get(o, "ris"), *v;
    const char *orig = json_string_value(json_object_get(o, "or"));
    json_int_t acop = json_integer_value(json_object_get(o, "acop"));
    json_int_t lt = json_integer_value(json_object_get(o, "lt"));
    size_t i;

    if (!json_is_object(o) || orig == NULL || orig[0] == '\0')
        return "\"or\" must be a non-empty string";
    if (!json_is_array(ris) || json_array_size(ris) == 0)
        return "\"ris\" must be a non-empty array of strings";
    if (acop < 1 || acop > ACOP_ALL)
        return "\"acop\" must be an integer 1..63";
    if (lt < 1 || lt > LT_MAX)
        return "\"lt\" must be an integer 1..86400 (seconds)";
    if ((g->originator = strdup(orig)) == NULL ||
        (g->ris = calloc(json_array_size(ris), sizeof(char *))) == NULL)
        return "out of memory";
    json_array_foreach(ris, i, v) {
        if (!json_is_string(v) || json_string_length(v) == 0)
            return "\"ris\" must be a non-empty array of strings";
        if ((g->ris[g->n_ris++] = strdup(json_string_value(v))) == NULL)
            return "out of memory";
    }
    g->acop = (uint32_t)acop;
    g->lifetime = lt;
    return NULL;
}

static int parse_all(json_t *root, authz_grants *g, char *err, size_t errlen, const char *path)
{
    json_t *list = json_object_get(root, "grants"), *o;
    size_t i;

    if (!json_is_array(list)) {
        snprintf(err, errlen, "%s: expected {\"grants\": [...]}", path);
        return CMN_EINVAL;
    }
    if ((g->items = calloc(json_array_size(list) + 1, sizeof(grant))) == NULL)
        return CMN_ENOMEM;
    json_array_foreach(list, i, o) {
        const char *why = parse_grant(o, &g->items[i]);
        g->n = i + 1;
        if (why != NULL) {
            snprintf(err, errlen, "%s: grants[%zu]: %s", path, i, why);
            return CMN_EINVAL;
        }
    }
    return 0;
}

int authz_grants_load(const char *path, authz_grants **ret, char *err, size_t errlen)
{
    authz_grants *g = calloc(1, sizeof(*g));
    json_error_t jerr;
    json_t *root;
    int rc;

    *ret = NULL;
    if (g == NULL)
        return CMN_ENOMEM;
    if (path == NULL || path[0] == '\0') {
        *ret = g;
        return 0;
    }
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        authz_grants_free(g);
        return CMN_EINVAL;
    }
    rc = parse_all(root, g, err, errlen, path);
    json_decref(root);
    if (rc != 0) {
        authz_grants_free(g);
        return rc;
    }
    *ret = g;
    return 0;
}

static int ris_match(const grant *g, const char *target)
{
    for (size_t i = 0; i < g->n_ris; i++)
        if (cmn_glob_covers(g->ris[i], target))
            return 1;
    return 0;
}

int authz_grants_find(const authz_grants *g, const char *originator, const char *target,
                      uint32_t acop, int64_t *ret_lifetime)
{
    for (size_t i = 0; g != NULL && i < g->n; i++) {
        const grant *it = &g->items[i];
        if (acop == 0 || (acop & ~it->acop) != 0 || originator == NULL || target == NULL)
            continue;
        if (authz_grants_match(it->originator, originator) && ris_match(it, target)) {
            *ret_lifetime = it->lifetime;
            return (int)i;
        }
    }
    return -1;
}
