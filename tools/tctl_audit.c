/* tepctl audit: the decisions tep-authz recorded (PEP/PDP split, TS-0003 7.1), the
 * newest N or all of them, read page by page, one line per decision; tepctl token revoke: a Token-ID tep-authz refuses from now on. */
#include "tctl_audit.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus.h"
#include "cmn_err.h"

#define LAST_DEFAULT 20
#define LAST_MAX 1000000 /* --last: records at most (a trail keeps 1,000,000 by default) */
#define PAGE_MAX 1000    /* records one answer holds at most (tep-authz's AUDIT_MAX_LAST) */
#define FROM_MAX 16      /* --from: the writer and PDP replicas asked, at most */

static void audit_usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT|--config FILE] audit [--originator ID]\n"
            "                         [--last N | --all] [--from ADMIN-ENDPOINT]...\n"
            "Prints tep-authz's access decisions, oldest first, one a line:\n"
            "seq=N time=... originator=... target=... op=ACOP permit=0|1 rsc=NNNN rule=\"...\"\n"
            "--last N: the newest N (default %d, at most %d); --all: every record the trail\n"
            "holds. Both are read %d records an answer, page by page, and printed only when\n"
            "complete: a tep-authz that stops answering midway prints nothing of its trail.\n"
            "--from (up to %d times): the trails of several tep-authz (the writer and its PDP\n"
            "replicas, each keeping its own) merged by time, each line ending from=ENDPOINT;\n"
            "one that does not answer is named on stderr and the exit code says so.\n",
            LAST_DEFAULT, LAST_MAX, PAGE_MAX, FROM_MAX);
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

/* One tep-authz's trail as read: its answers (they hold the records), newest page
 * first, and the records oldest first. */
typedef struct {
    Tep__Envelope **pages;
    size_t n_pages, cap;
    const Tep__AuditRecord **recs;
    size_t n;
} audit_trail;

static void trail_free(audit_trail *t)
{
    for (size_t i = 0; i < t->n_pages; i++)
        cmn_bus_env_free(t->pages[i]);
    free(t->pages);
    free(t->recs);
    *t = (audit_trail){0};
}

/* A page within the bounds it was asked for: at most `asked` records, oldest first,
 * each below `before` (0: none) and at or above the next page's bound, which is below
 * `before`. So pages neither overlap nor repeat, and a listing always ends. */
static bool page_ok(const Tep__AdminResponse *r, uint64_t before, size_t asked)
{
    uint64_t next = r->audit_next_before;

    if (r->n_audit > asked || (before != 0 && next >= before))
        return false;
    for (size_t i = 0; i < r->n_audit; i++) {
        uint64_t seq = r->audit[i]->seq;

        if ((before != 0 && seq >= before) || seq < next || (i > 0 && seq <= r->audit[i - 1]->seq))
            return false;
    }
    return true;
}

static int keep_page(audit_trail *t, Tep__Envelope *env)
{
    if (t->n_pages == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        Tep__Envelope **p = realloc(t->pages, cap * sizeof(*p));

        if (p == NULL)
            return CMN_ENOMEM;
        t->pages = p;
        t->cap = cap;
    }
    t->pages[t->n_pages++] = env;
    t->n += env->admin_resp->n_audit;
    return 0;
}

/* The records oldest first: the pages came newest first, each oldest first. */
static int order_trail(audit_trail *t)
{
    size_t k = 0;

    if ((t->recs = calloc(t->n ? t->n : 1, sizeof(*t->recs))) == NULL)
        return CMN_ENOMEM;
    for (size_t i = t->n_pages; i-- > 0;) {
        const Tep__AdminResponse *r = t->pages[i]->admin_resp;

        for (size_t j = 0; j < r->n_audit; j++)
            t->recs[k++] = r->audit[j];
    }
    return 0;
}

/* Reads the newest `want` matching records (0: all of them) of the tep-authz at o's
 * endpoint (named `ep`), PAGE_MAX an answer. TCTL_OK and the whole trail, or an exit
 * code with the reason on stderr and nothing in *t: a listing cut short is no trail. */
static int read_trail(const tctl_opts *o, const Tep__AdminRequest *base, size_t want,
                      const char *ep, audit_trail *t)
{
    Tep__AdminRequest req = *base;
    uint64_t before = 0;
    int ex = TCTL_OK;

    *t = (audit_trail){0};
    do {
        Tep__Envelope *env = NULL;
        size_t left = want != 0 ? want - t->n : PAGE_MAX;

        req.audit_before_seq = before;
        req.audit_last = (uint32_t)(left > PAGE_MAX ? PAGE_MAX : left);
        if ((ex = tctl_admin_call(o, "authz", &req, &env)) != TCTL_OK)
            break;
        if (!page_ok(env->admin_resp, before, req.audit_last)) {
            fprintf(stderr,
                    "tepctl: audit: %s answered a page outside its bounds (below "
                    "seq %llu)\n",
                    ep, (unsigned long long)before);
            cmn_bus_env_free(env);
            ex = TCTL_UNREACHABLE;
            break;
        }
        if (keep_page(t, env) != 0) {
            fprintf(stderr, "tepctl: out of memory\n");
            cmn_bus_env_free(env);
            ex = TCTL_UNREACHABLE;
            break;
        }
        before = env->admin_resp->audit_next_before;
    } while (before != 0 && (want == 0 || t->n < want));
    if (ex == TCTL_OK && order_trail(t) != 0) {
        fprintf(stderr, "tepctl: out of memory\n");
        ex = TCTL_UNREACHABLE;
    }
    if (ex != TCTL_OK) {
        if (t->n_pages > 0)
            fprintf(stderr,
                    "tepctl: audit: %s stopped after %zu records in %zu answers: its "
                    "trail is not shown\n",
                    ep, t->n, t->n_pages);
        trail_free(t);
    }
    return ex;
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

/* --from: each trail read (its newest `want`, 0: all), all merged by time, the newest
 * `want` printed. */
static int audit_merged(const tctl_opts *o, const Tep__AdminRequest *req, size_t want,
                        const char **from, size_t n_from)
{
    audit_trail trails[FROM_MAX];
    merged_record *all = NULL;
    size_t total = 0, n = 0;
    int ex = TCTL_OK;

    for (size_t i = 0; i < n_from; i++) {
        tctl_opts one = *o;
        int rc;

        one.admin = from[i];
        rc = read_trail(&one, req, want, from[i], &trails[i]);
        if (rc != TCTL_OK) {
            fprintf(stderr, "tepctl: audit: no trail from %s\n", from[i]);
            if (ex == TCTL_OK)
                ex = rc;
        }
        total += trails[i].n;
    }
    if ((all = calloc(total ? total : 1, sizeof(*all))) == NULL) {
        fprintf(stderr, "tepctl: out of memory\n");
        ex = TCTL_UNREACHABLE;
    }
    for (size_t i = 0; i < n_from && all != NULL; i++) {
        for (size_t j = 0; j < trails[i].n; j++)
            all[n++] = (merged_record){trails[i].recs[j], i};
    }
    if (n > 0)
        qsort(all, n, sizeof(*all), by_time);
    for (size_t k = want != 0 && n > want ? n - want : 0; k < n; k++)
        print_record(all[k].r, from[all[k].src]);
    free(all);
    for (size_t i = 0; i < n_from; i++)
        trail_free(&trails[i]);
    return ex;
}

/* The parsed command line: *want 0 = --all. */
static int parse_audit(int argc, char **argv, Tep__AdminRequest *req, size_t *want,
                       const char **from, size_t *n_from)
{
    static const struct option opts[] = {{"originator", required_argument, NULL, 'o'},
                                         {"last", required_argument, NULL, 'n'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool all = false, last = false;
    char *end;
    long n;
    int c;

    optind = 1;
    *want = LAST_DEFAULT;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (optarg[0] == '\0') {
                fprintf(stderr, "tepctl: audit: --originator wants an originator ID\n");
                return TCTL_USAGE;
            }
            req->audit_originator = optarg;
            break;
        case 'n':
            n = strtol(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || n < 1 || n > LAST_MAX) {
                fprintf(stderr, "tepctl: audit: --last wants a number from 1 to %d, not \"%s\"\n",
                        LAST_MAX, optarg);
                return TCTL_USAGE;
            }
            *want = (size_t)n;
            last = true;
            break;
        case 'a':
            all = true;
            break;
        case 'f':
            if (*n_from == FROM_MAX || optarg[0] == '\0') {
                fprintf(stderr, "tepctl: audit: --from wants an admin endpoint, at most %d\n",
                        FROM_MAX);
                return TCTL_USAGE;
            }
            from[(*n_from)++] = optarg;
            break;
        case 'h':
            audit_usage(stdout);
            return -1;
        default:
            return TCTL_USAGE;
        }
    }
    if (all && last) {
        fprintf(stderr, "tepctl: audit: --all or --last N, not both\n");
        return TCTL_USAGE;
    }
    if (optind != argc) {
        fprintf(stderr, "tepctl: audit: unexpected argument \"%s\"\n", argv[optind]);
        return TCTL_USAGE;
    }
    if (all)
        *want = 0;
    return TCTL_OK;
}

int tctl_audit_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    audit_trail t;
    const char *from[FROM_MAX];
    char ep[1024];
    size_t n_from = 0, want = 0;
    int ex = parse_audit(argc, argv, &req, &want, from, &n_from);

    if (ex == -1)
        return TCTL_OK;
    if (ex != TCTL_OK) {
        audit_usage(stderr);
        return ex;
    }
    req.op = TEP__ADMIN_REQUEST__OP__AUDIT_QUERY;
    if (n_from > 0)
        return audit_merged(o, &req, want, from, n_from);
    tctl_admin_endpoint(o, "authz", ep, sizeof(ep));
    ex = read_trail(o, &req, want, ep, &t);
    if (ex != TCTL_OK)
        return ex;
    for (size_t i = 0; i < t.n; i++)
        print_record(t.recs[i], NULL);
    trail_free(&t);
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
