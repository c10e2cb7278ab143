/* tepctl cse deregister|register: an MN-CSE leaves or rejoins its registrar CSE
 * (TS-0001 10.2.2.10 / 10.2.2.6; docs/cse.md "CSE registration"). */
#include <stdio.h>
#include <string.h>

#include "cmn_bus.h"
#include "tctl.h"

static void cse_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] cse deregister|register\n"
                 "An MN-CSE deletes its <remoteCSE> at its registrar and stays unregistered\n"
                 "(deregister), or registers again (register). Asynchronous: tepctl status\n"
                 "shows registrar=<CSE-ID> registered|unregistered.\n");
}

int tctl_cse_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        cse_usage(stdout);
        return TCTL_OK;
    }
    if (argc != 2 || (strcmp(argv[1], "deregister") && strcmp(argv[1], "register"))) {
        cse_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = !strcmp(argv[1], "deregister") ? TEP__ADMIN_REQUEST__OP__CSE_DEREGISTER
                                            : TEP__ADMIN_REQUEST__OP__CSE_REGISTER;
    ex = tctl_admin_call(o, "cse", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    printf("RESULT=%s\n", resp->admin_resp->message);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
