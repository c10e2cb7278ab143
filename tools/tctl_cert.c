/* tepctl cert list (certificates the tep CA issued), tepctl cert revoke (one of them,
 * TS-0003 10.7) and tepctl events (the enrolment event log) against tep-enroller. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus.h"
#include "tctl.h"

static void cert_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] cert list\n"
                 "       tepctl [--admin ENDPOINT|--config FILE] cert revoke SERIAL\n\n"
                 "list: every certificate the tep CA issued: serial, subject (the AE-ID,\n"
                 "CSE-ID or Node-ID in its subjectAltName), validity, when it was revoked\n"
                 "on its own (\"-\": not), the enrolment credential it was issued to.\n"
                 "The CA certificate itself is <enroller data_dir>/ca.pem.\n\n"
                 "revoke: revokes that one certificate (hex serial as `cert list` or\n"
                 "`openssl x509 -serial` print it). tep-cse refuses new handshakes with it\n"
                 "and closes its live sessions within a second; the enrolee's other\n"
                 "certificates and its PSK credentials stay valid. Revoking it again is ok.\n"
                 "Exit 3 for an unknown serial.\n");
}

static void print_certs(const Tep__AdminResponse *r)
{
    char nb[32], na[32], rv[32];

    printf("%-32s %-24s %-20s %-20s %-20s %s\n", "SERIAL", "SUBJECT", "NOT_BEFORE", "NOT_AFTER",
           "REVOKED", "KPM_ID");
    for (size_t i = 0; i < r->n_certs; i++) {
        const Tep__IssuedCert *c = r->certs[i];
        tctl_time_str(c->not_before, nb, sizeof(nb));
        tctl_time_str(c->not_after, na, sizeof(na));
        tctl_time_str(c->revoked, rv, sizeof(rv));
        printf("%-32s %-24s %-20s %-20s %-20s %s\n", c->serial, c->enrolee_id, nb, na, rv,
               c->kpm_id);
    }
}

static void set_serial(Tep__AdminRequest *req, char *id)
{
    req->cert_serial = id;
}

static void print_message(const Tep__AdminRequest *req, const Tep__AdminResponse *r)
{
    (void)req;
    printf("%s\n", r->message);
}

int tctl_cert_main(const tctl_opts *o, int argc, char **argv)
{
    static const tctl_list_revoke cmd = {
        .daemon = "enroller",
        .list_word = "list",
        .list_op = TEP__ADMIN_REQUEST__OP__CERT_LIST,
        .revoke_op = TEP__ADMIN_REQUEST__OP__CERT_REVOKE,
        .usage = cert_usage,
        .set_id = set_serial,
        .print_list = print_certs,
        .print_revoked = print_message,
    };
    return tctl_list_revoke_main(&cmd, o, argc, argv);
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
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

static const char *event_kind(Tep__Event__Kind kind)
{
    switch (kind) {
    case TEP__EVENT__KIND__ENROLLED:
        return "enrolled";
    case TEP__EVENT__KIND__REVOKED:
        return "revoked";
    case TEP__EVENT__KIND__CERT_REVOKED:
        return "cert_revoked";
    case TEP__EVENT__KIND__KEY_REGISTERED:
        return "key_registered";
    case TEP__EVENT__KIND__KEY_DEREGISTERED:
        return "key_deregistered";
    default:
        return "unknown";
    }
}

static void print_events(const Tep__AdminResponse *r)
{
    char when[32];

    printf("%-6s %-20s %-12s %-24s %-24s %-48s %s\n", "SEQ", "TIME (UTC)", "KIND", "KPM_ID",
           "ENROLEE_ID", "KE_ID", "CERT_SERIAL|KEY_ID");
    for (size_t i = 0; i < r->n_events; i++) {
        const Tep__Event *e = r->events[i];
        tctl_time_str(e->time, when, sizeof(when));
        printf("%-6" PRIu64 " %-20s %-12s %-24s %-24s %-48s %s\n", e->seq, when,
               event_kind(e->kind), e->kpm_id[0] ? e->kpm_id : "-", e->enrolee_id, e->ke_id,
               e->cert_serial[0] ? e->cert_serial
               : e->key_id[0]    ? e->key_id
                                 : "-");
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
