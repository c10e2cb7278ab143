/* acp-eval: the C evaluator as a filter, for the differential test against the
 * independent reference (integration/acp_reference/). Reads JSON lines
 *   {"rq": {"fr", "op", "ty", "nty", "authn", "ip", "rids", "grps", "now", "csi", "spi",
 *           "spty", "cc", "pt": [lat, lon]}, "acps": [<accessControlPolicy>, ...]}
 * and prints one line per input: "permit acp[i].acr[j]", "deny", or "error <why>" for a
 * line it cannot use. Exit 0 when every line was read, 1 on a usage or I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmn_acp.h"

#define MAX_IDS 16

typedef struct {
    cmn_acp_request rq;
    const char *roles[MAX_IDS];
    const char *groups[MAX_IDS];
} eval_case;

static const char *opt_string(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A list of strings into ret (at most MAX_IDS); false when it is not one. */
static bool string_list(const json_t *list, const char **ret, size_t *ret_n)
{
    const json_t *v;
    size_t i;

    *ret_n = 0;
    if (list == NULL)
        return true;
    if (!json_is_array(list) || json_array_size(list) > MAX_IDS)
        return false;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return false;
        ret[(*ret_n)++] = json_string_value(v);
    }
    return true;
}

static bool read_point(const json_t *pt, cmn_acp_request *rq)
{
    if (pt == NULL)
        return true;
    if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
        !json_is_number(json_array_get(pt, 1)))
        return false;
    rq->has_loc_point = true;
    rq->loc_lat = json_number_value(json_array_get(pt, 0));
    rq->loc_lon = json_number_value(json_array_get(pt, 1));
    return true;
}

static const char *read_request(const json_t *in, eval_case *c)
{
    cmn_acp_request *rq = &c->rq;

    memset(c, 0, sizeof(*c));
    if (!json_is_object(in))
        return "rq not an object";
    rq->originator = opt_string(in, "fr") != NULL ? opt_string(in, "fr") : "";
    rq->op = (uint32_t)json_integer_value(json_object_get(in, "op"));
    rq->target_ty = (uint32_t)json_integer_value(json_object_get(in, "ty"));
    rq->new_ty = (uint32_t)json_integer_value(json_object_get(in, "nty"));
    rq->rq_authn = json_is_true(json_object_get(in, "authn"));
    rq->peer_ip = opt_string(in, "ip");
    rq->now = json_integer_value(json_object_get(in, "now"));
    rq->cse_id = opt_string(in, "csi");
    rq->sp_id = opt_string(in, "spi");
    rq->target_spty = opt_string(in, "spty");
    rq->loc_country = opt_string(in, "cc");
    rq->role_ids = c->roles;
    rq->group_ids = c->groups;
    if (!string_list(json_object_get(in, "rids"), c->roles, &rq->n_roles) ||
        !string_list(json_object_get(in, "grps"), c->groups, &rq->n_groups))
        return "rids/grps not a short list of strings";
    if (!read_point(json_object_get(in, "pt"), rq))
        return "pt not [lat, lon]";
    return NULL;
}

static void eval_line(const char *line)
{
    json_error_t jerr;
    json_t *doc = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *acps = json_object_get(doc, "acps");
    const char *why;
    eval_case c;
    cmn_acp_result res;

    if (doc == NULL) {
        printf("error json: %s\n", jerr.text);
        return;
    }
    why = read_request(json_object_get(doc, "rq"), &c);
    if (why == NULL && !json_is_array(acps))
        why = "acps not an array";
    if (why == NULL) {
        size_t n = json_array_size(acps);
        json_t **items = calloc(n ? n : 1, sizeof(*items));

        for (size_t i = 0; items != NULL && i < n; i++)
            items[i] = json_array_get(acps, i);
        if (items == NULL || cmn_acp_evaluate_acps(&c.rq, items, n, &res) != 0)
            why = items == NULL ? "out of memory" : "bad request";
        else if (res.permit)
            printf("permit %s\n", res.rule);
        else
            printf("deny\n");
        free(items);
    }
    if (why != NULL)
        printf("error %s\n", why);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    if (argc != 1) {
        fprintf(stderr, "usage: %s < cases.jsonl\n", argv[0]);
        return 1;
    }
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        eval_line(line);
    }
    free(line);
    return ferror(stdin) || fflush(stdout) != 0 ? 1 : 0;
}
