/* tepctl cert list (certificates the tep CA issued) and tepctl events (the enrolment
 * event log): both read-only queries of tep-enroller. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus.h"
#include "tctl.h"

static void cert_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] cert list\n\n"
                 "Prints every certificate the tep CA issued: serial, subject (the AE-ID,\n"
                 "CSE-ID or Node-ID in its subjectAltName), the enrolment it was issued in,\n"
                 "validity. The CA certificate itself is <enroller data_dir>/ca.pem.\n");
}

static void print_certs(const Tep__AdminResponse *r)
{
    char nb[32], na[32];

    printf("%-32s %-24s %-20s %-20s %s\n", "SERIAL", "SUBJECT", "NOT_BEFORE", "NOT_AFTER",
           "KPM_ID");
    for (size_t i = 0; i < r->n_certs; i++) {
        const Tep__IssuedCert *c = r->certs[i];
        tctl_time_str(c->not_before, nb, sizeof(nb));
        tctl_time_str(c->not_after, na, sizeof(na));
        printf("%-32s %-24s %-20s %-20s %s\n", c->serial, c->enrolee_id, nb, na, c->kpm_id);
    }
}

int tctl_cert_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
        cert_usage(stdout);
        return TCTL_OK;
    }
    if (argc != 2 || strcmp(argv[1], "list") != 0) {
        cert_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__CERT_LIST;
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    print_certs(resp->admin_resp);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}

/* ---- events ------------------------------------------------------------------------- */

static void events_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] events [--after SEQ] [--max N]\n\n"
                 "Prints the enroller's event log (every enrolment and revocation, in order,\n"
                 "as subscribers receive them), at most N (default 100) after SEQ.\n");
}

static int parse_events(int argc, char **argv, Tep__AdminRequest *req)
{
    static const struct option opts[] = {{"after", required_argument, NULL, 'a'},
                                         {"max", required_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    char *end;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            req->after_seq = strtoull(optarg, &end, 10);
            if (*end)
                return -1;
            break;
        case 'm':
            req->max = (uint32_t)strtoul(optarg, &end, 10);
            if (*end || req->max == 0)
                return -1;
            break;
        case 'h': return 1;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

static void print_events(const Tep__AdminResponse *r)
{
    char when[32];

    printf("%-6s %-20s %-9s %-24s %-24s %s\n", "SEQ", "TIME (UTC)", "KIND", "KPM_ID",
           "ENROLEE_ID", "KE_ID");
    for (size_t i = 0; i < r->n_events; i++) {
        const Tep__Event *e = r->events[i];
        tctl_time_str(e->time, when, sizeof(when));
        printf("%-6" PRIu64 " %-20s %-9s %-24s %-24s %s\n", e->seq, when,
               e->kind == TEP__EVENT__KIND__REVOKED ? "revoked" : "enrolled",
               e->kpm_id[0] ? e->kpm_id : "-", e->enrolee_id, e->ke_id);
    }
}

int tctl_events_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex = parse_events(argc, argv, &req);

    if (ex != 0) {
        events_usage(ex > 0 ? stdout : stderr);
        return ex > 0 ? TCTL_OK : TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__EVENT_LIST;
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    print_events(resp->admin_resp);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
