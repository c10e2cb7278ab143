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

    printf("%-48s %-20s %-51s %-20s %-20s %-20s %s\n", "KEY_ID", "SOURCE", "CREDENTIAL", "EXPIRES",
           "CREATED", "REVOKED", "TARGETS");
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

static void set_key_id(Tep__AdminRequest *req, char *id)
{
    req->maf_key_id = id;
}

static void print_revoked(const Tep__AdminRequest *req, const Tep__AdminResponse *r)
{
    (void)r;
    printf("revoked=%s\n", req->maf_key_id);
}

int tctl_maf_main(const tctl_opts *o, int argc, char **argv)
{
    static const tctl_list_revoke cmd = {
        .daemon = "authz",
        .list_word = "keys",
        .list_op = TEP__ADMIN_REQUEST__OP__MAF_KEY_LIST,
        .revoke_op = TEP__ADMIN_REQUEST__OP__MAF_KEY_REVOKE,
        .usage = maf_usage,
        .set_id = set_key_id,
        .print_list = print_keys,
        .print_revoked = print_revoked,
    };
    return tctl_list_revoke_main(&cmd, o, argc, argv);
}
