/* tepctl audit: the newest decisions tep-authz recorded (PEP/PDP split, TS-0003 7.1),
 * one line per decision; tepctl token revoke: a Token-ID tep-authz refuses from now on. */
#include "tctl_audit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus.h"

#define LAST_MAX 1000
#define FROM_MAX 16 /* --from: the writer and PDP replicas asked, at most */

static void audit_usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT|--config FILE] audit [--originator ID] [--last N]\n"
            "                                                   [--from ADMIN-ENDPOINT]...\n"
            "Prints tep-authz's newest access decisions (default 20, at most %d), oldest first:\n"
            "seq=N time=... originator=... target=... op=ACOP permit=0|1 rsc=NNNN rule=\"...\"\n"
            "--from (up to %d times): the trails of several tep-authz (the writer and its PDP\n"
            "replicas, each keeping its own) merged by time, each line ending from=ENDPOINT;\n"
            "one that does not answer is named on stderr and the exit code says so.\n",
            LAST_MAX, FROM_MAX);
}

/* A value from the record, printable and without quotes (peers chose it); spaces only
 * where the value is quoted. */
static const char *safe(const char *in, char *buf, size_t len, char space)
{
    size_t i = 0;

    for (; in != NULL && in[i] != '\0' && i + 1 < len; i++)
        buf[i] = (in[i] > ' ' && in[i] < 0x7f && in[i] != '"') ? in[i] : in[i] == ' ' ? space : '?';
    buf[i] = '\0';
    return i ? buf : "-";
}

static void print_record(const Tep__AuditRecord *r, const char *from)
{
    char t[32], orig[256], target[512], rule[256];

    tctl_time_str(r->time, t, sizeof(t));
    printf("seq=%llu time=%s originator=%s target=%s op=%u permit=%d rsc=%u rule=\"%s\"%s%s\n",
           (unsigned long long)r->seq, t, safe(r->originator, orig, sizeof(orig), '?'),
           safe(r->target, target, sizeof(target), '?'), r->op, r->permit ? 1 : 0, r->rsc,
           safe(r->rule, rule, sizeof(rule), ' '), from != NULL ? " from=" : "",
           from != NULL ? from : "");
}

/* One record of the merged trail: which trail (index into --from) and where in it. */
typedef struct {
    const Tep__AuditRecord *r;
    size_t src;
} merged_record;

/* By time, then by trail (the order of --from), then by seq: a total order, so the
 * same trails always print the same way. */
static int by_time(const void *a, const void *b)
{
    const merged_record *x = a, *y = b;

    if (x->r->time != y->r->time)
        return x->r->time < y->r->time ? -1 : 1;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return x->r->seq < y->r->seq ? -1 : x->r->seq > y->r->seq;
}

/* --from: each trail asked for the newest N, all merged by time, the newest N printed. */
static int audit_merged(const tctl_opts *o, const Tep__AdminRequest *req, const char **from,
                        size_t n_from)
{
    Tep__Envelope *resp[FROM_MAX] = {NULL};
    merged_record *all = NULL;
    size_t total = 0, n = 0, last = req->audit_last ? req->audit_last : 20;
    int ex = TCTL_OK;

    for (size_t i = 0; i < n_from; i++) {
        tctl_opts one = *o;
        int rc;

        one.admin = from[i];
        rc = tctl_admin_call(&one, "authz", req, &resp[i]);
        if (rc != TCTL_OK) {
            fprintf(stderr, "tepctl: audit: no trail from %s\n", from[i]);
            if (ex == TCTL_OK)
                ex = rc;
            resp[i] = NULL;
            continue;
        }
        total += resp[i]->admin_resp->n_audit;
    }
    if ((all = calloc(total ? total : 1, sizeof(*all))) == NULL) {
        fprintf(stderr, "tepctl: out of memory\n");
        ex = TCTL_UNREACHABLE;
        total = 0;
    }
    for (size_t i = 0; i < n_from && all != NULL; i++) {
        for (size_t j = 0; resp[i] != NULL && j < resp[i]->admin_resp->n_audit; j++)
            all[n++] = (merged_record){resp[i]->admin_resp->audit[j], i};
    }
    qsort(all, n, sizeof(*all), by_time);
    for (size_t k = n > last ? n - last : 0; k < n; k++)
        print_record(all[k].r, from[all[k].src]);
    free(all);
    for (size_t i = 0; i < n_from; i++)
        cmn_bus_env_free(resp[i]);
    return ex;
}

static int parse_audit(int argc, char **argv, Tep__AdminRequest *req, const char **from,
                       size_t *n_from)
{
    static const struct option opts[] = {{"originator", required_argument, NULL, 'o'},
                                         {"last", required_argument, NULL, 'n'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char *end;
    long n;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            req->audit_originator = optarg;
            break;
        case 'n':
            n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 1 || n > LAST_MAX)
                return TCTL_USAGE;
            req->audit_last = (uint32_t)n;
            break;
        case 'f':
            if (*n_from == FROM_MAX || optarg[0] == '\0')
                return TCTL_USAGE;
            from[(*n_from)++] = optarg;
            break;
        case 'h':
            audit_usage(stdout);
            return -1;
        default:
            return TCTL_USAGE;
        }
    }
    return optind == argc ? TCTL_OK : TCTL_USAGE;
}

int tctl_audit_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    const char *from[FROM_MAX];
    size_t n_from = 0;
    int ex = parse_audit(argc, argv, &req, from, &n_from);

    if (ex == -1)
        return TCTL_OK;
    if (ex != TCTL_OK) {
        audit_usage(stderr);
        return ex;
    }
    req.op = TEP__ADMIN_REQUEST__OP__AUDIT_QUERY;
    if (n_from > 0)
        return audit_merged(o, &req, from, n_from);
    ex = tctl_admin_call(o, "authz", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    for (size_t i = 0; i < resp->admin_resp->n_audit; i++)
        print_record(resp->admin_resp->audit[i], NULL);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}

static void token_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] token revoke TOKEN-ID\n"
                 "tep-authz refuses the token's privileges from now on (TS-0003 7.3).\n");
}

int tctl_token_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        token_usage(stdout);
        return TCTL_OK;
    }
    if (argc != 3 || strcmp(argv[1], "revoke") != 0 || argv[2][0] == '\0') {
        token_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__TOKEN_REVOKE;
    req.token_id = argv[2];
    ex = tctl_admin_call(o, "authz", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    printf("revoked=%s\n", argv[2]);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
