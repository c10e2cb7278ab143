/* tepctl status (enroller|authz|cse): the daemon's KEY=value pairs. */
#include <stdio.h>
#include <string.h>

#include "cmn_bus.h"
#include "tctl.h"

static void status_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] status\n"
                 "       [enroller|authz|cse|bsf]\n"
                 "Prints the daemon's status as KEY=value lines (default: enroller).\n");
}

int tctl_status_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    const char *daemon = argc > 1 ? argv[1] : "enroller";
    int ex;

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        status_usage(stdout);
        return TCTL_OK;
    }
    if (argc > 2 || (strcmp(daemon, "enroller") && strcmp(daemon, "authz") &&
                     strcmp(daemon, "cse") && strcmp(daemon, "bsf"))) {
        status_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__STATUS;
    ex = tctl_admin_call(o, daemon, &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    for (size_t i = 0; i < resp->admin_resp->n_status; i++)
        printf("%s=%s\n", resp->admin_resp->status[i]->key, resp->admin_resp->status[i]->value);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
