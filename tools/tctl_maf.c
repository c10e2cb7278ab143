/* tepctl maf keys (the keys registered at tep-authz's MAF, TS-0003 8.8.2.7) and tepctl
 * maf revoke (an operator's revocation of one, with the effect of the source's MAF Key
 * De-Registration, 8.8.2.10). */
#include <stdio.h>
#include <string.h>

#include "cmn_bus.h"
#include "tctl.h"

#define TARGETS_TEXT_MAX 512

static void maf_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--admin ENDPOINT|--config FILE] maf keys\n"
                 "       tepctl [--admin ENDPOINT|--config FILE] maf revoke KEY-ID\n\n"
                 "keys: every key registered at tep-authz's MAF (Kc never shown): its Key\n"
                 "Identifier, the source client, the credential of its MAF Handshake (km:KmID\n"
                 "or cert:SERIAL), its targetIDs, expiry, creation, and when it was\n"
                 "de-registered or revoked (\"-\": live).\n\n"
                 "revoke: the MAF gives the key to no target from now on and announces it\n"
                 "revoked on maf_events (its targets drop it and close its sessions); the\n"
                 "record stays for the audit. Revoking it again is ok. Exit 3 for an unknown\n"
                 "Key Identifier.\n");
}

static const char *targets_text(const Tep__MafKey *k, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < k->n_targets && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", k->targets[i]);
    return buf[0] != '\0' ? buf : "-";
}

static void print_keys(const Tep__AdminResponse *r)
{
    char exp[32], created[32], revoked[32], cred[160], targets[TARGETS_TEXT_MAX];

    printf("%-48s %-20s %-51s %-20s %-20s %-20s %s\n", "KEY_ID", "SOURCE", "CREDENTIAL",
           "EXPIRES", "CREATED", "REVOKED", "TARGETS");
    for (size_t i = 0; i < r->n_maf_keys; i++) {
        const Tep__MafKey *k = r->maf_keys[i];

        tctl_time_str(k->expires, exp, sizeof(exp));
        tctl_time_str(k->created, created, sizeof(created));
        tctl_time_str(k->revoked, revoked, sizeof(revoked));
        if (k->cert_serial != NULL && k->cert_serial[0] != '\0')
            snprintf(cred, sizeof(cred), "cert:%s", k->cert_serial);
        else
            snprintf(cred, sizeof(cred), "km:%s", k->km_id);
        printf("%-48s %-20s %-51s %-20s %-20s %-20s %s\n", k->key_id, k->source_id, cred, exp,
               created, revoked, targets_text(k, targets, sizeof(targets)));
    }
}

/* Builds the request: 0, 1 (help) or -1 (usage). */
static int parse_maf(int argc, char **argv, Tep__AdminRequest *req)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help")))
        return 1;
    if (argc == 2 && !strcmp(argv[1], "keys")) {
        req->op = TEP__ADMIN_REQUEST__OP__MAF_KEY_LIST;
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "revoke") && argv[2][0] != '-' && argv[2][0] != '\0') {
        req->op = TEP__ADMIN_REQUEST__OP__MAF_KEY_REVOKE;
        req->maf_key_id = argv[2];
        return 0;
    }
    return -1;
}

int tctl_maf_main(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex = parse_maf(argc, argv, &req);

    if (ex != 0) {
        maf_usage(ex > 0 ? stdout : stderr);
        return ex > 0 ? TCTL_OK : TCTL_USAGE;
    }
    ex = tctl_admin_call(o, "authz", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (req.op == TEP__ADMIN_REQUEST__OP__MAF_KEY_LIST)
        print_keys(resp->admin_resp);
    else
        printf("revoked=%s\n", req.maf_key_id);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}
