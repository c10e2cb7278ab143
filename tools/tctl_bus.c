/* tepctl bus sync|key|zn: ask the enroller's sync, the MAF's keys or tep-bsf's zn
 * socket as a target (or NAF) does, with this tepctl's bus identity (the CURVE key of --config), and print what
 * comes back: which credentials (key identifiers, never key bytes) that identity is
 * handed for the target it names. For operators checking a [bus] peers binding, and
 * for tests playing a forged target (docs/internals.md "Authenticated credential
 * hand-off"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus.h"
#include "cmn_err.h"
#include "tctl.h"

static void bus_usage(FILE *out)
{
    fprintf(out, "Usage: tepctl [--config FILE] bus sync ENDPOINT TARGET-ID [AFTER-SEQ]\n"
                 "       tepctl [--config FILE] bus key ENDPOINT KEY-ID TARGET-ID\n"
                 "       tepctl [--config FILE] bus zn ENDPOINT B-TID NAF-FQDN\n\n"
                 "sync  asks the enroller's sync socket for the events after AFTER-SEQ (0) with\n"
                 "      TARGET-ID's credentials; prints SEQ ENROLEE_ID KEY_ID SUID per credential\n"
                 "      handed out, then LAST_SEQ=N and CREDENTIALS=N.\n"
                 "key   asks tep-authz's keys socket for Kc KEY-ID as TARGET-ID (MAF Key\n"
                 "      Retrieval); prints KEY_ID=, ENROLEE_ID=, EXPIRES=.\n"
                 "zn    asks tep-bsf's zn socket for the NAF key of B-TID as NAF-FQDN (TS 33.220\n"
                 "      Zn); prints IMPI=, EXPIRES=.\n"
                 "Key bytes are never printed. A refusal exits 3. CURVE: [bus] of --config.\n");
}

static int refused(const Tep__Envelope *r, int err)
{
    if (r->body_case == TEP__ENVELOPE__BODY_ERROR)
        fprintf(stderr, "tepctl: refused: %s: %s\n", cmn_strerror(r->error->err),
                r->error->message);
    else
        fprintf(stderr, "tepctl: refused: %s\n", cmn_strerror(err));
    return TCTL_REFUSED;
}

static int bus_sync(const tctl_opts *o, const char *ep, const char *target, uint64_t after)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT, *r = NULL;
    Tep__SyncRequest rq = TEP__SYNC_REQUEST__INIT;
    size_t n = 0;
    int ex;

    rq.after_seq = after;
    rq.target_id = (char *)target;
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_SYNC_REQ;
    env.sync_req = &rq;
    ex = tctl_bus_call(o, ep, "enroller sync", &env, &r);
    if (ex != TCTL_OK)
        return ex;
    if (r->body_case != TEP__ENVELOPE__BODY_SYNC_RESP) {
        ex = refused(r, CMN_EPROTO);
        goto out;
    }
    for (size_t i = 0; i < r->sync_resp->n_items; i++) {
        const Tep__SyncItem *it = r->sync_resp->items[i];
        if (it->credential == NULL || it->event == NULL)
            continue;
        printf("%llu %s %s %u%s\n", (unsigned long long)it->event->seq, it->credential->enrolee_id,
               it->credential->key_id, it->credential->suid,
               it->credential->revoked ? " revoked" : "");
        n++;
    }
    printf("LAST_SEQ=%llu\nCREDENTIALS=%zu\n", (unsigned long long)r->sync_resp->last_seq, n);
out:
    cmn_bus_env_free(r); /* wipes the keys */
    return ex;
}

static int bus_key(const tctl_opts *o, const char *ep, const char *key_id, const char *target)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT, *r = NULL;
    Tep__KeyRequest rq = TEP__KEY_REQUEST__INIT;
    int ex;

    rq.key_id = (char *)key_id;
    rq.target_id = (char *)target;
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_KEY_REQ;
    env.key_req = &rq;
    ex = tctl_bus_call(o, ep, "tep-authz keys", &env, &r);
    if (ex != TCTL_OK)
        return ex;
    if (r->body_case != TEP__ENVELOPE__BODY_KEY_RESP || r->key_resp->err != 0 ||
        r->key_resp->credential == NULL) {
        ex = refused(r,
                     r->body_case == TEP__ENVELOPE__BODY_KEY_RESP ? r->key_resp->err : CMN_EPROTO);
        goto out;
    }
    printf("KEY_ID=%s\nENROLEE_ID=%s\nEXPIRES=%lld\n", r->key_resp->credential->key_id,
           r->key_resp->credential->enrolee_id, (long long)r->key_resp->credential->expires);
out:
    cmn_bus_env_free(r);
    return ex;
}

static int bus_zn(const tctl_opts *o, const char *ep, const char *btid, const char *naf)
{
    Tep__Envelope env = TEP__ENVELOPE__INIT, *r = NULL;
    Tep__ZnRequest rq = TEP__ZN_REQUEST__INIT;
    int ex;

    rq.btid = (char *)btid;
    rq.naf_fqdn = (char *)naf;
    cmn_bus_env_init(&env, "tepctl", 0);
    env.body_case = TEP__ENVELOPE__BODY_ZN_REQ;
    env.zn_req = &rq;
    ex = tctl_bus_call(o, ep, "tep-bsf zn", &env, &r);
    if (ex != TCTL_OK)
        return ex;
    if (r->body_case != TEP__ENVELOPE__BODY_ZN_RESP || r->zn_resp->err != 0 ||
        r->zn_resp->ks_naf.len == 0) {
        ex = refused(r, r->body_case == TEP__ENVELOPE__BODY_ZN_RESP ? r->zn_resp->err : CMN_EPROTO);
        goto out;
    }
    printf("IMPI=%s\nEXPIRES=%lld\n", r->zn_resp->impi, (long long)r->zn_resp->expires);
out:
    cmn_bus_env_free(r);
    return ex;
}

int tctl_bus_main(const tctl_opts *o, int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    char *end = NULL;

    if (!strcmp(cmd, "sync") && (argc == 4 || argc == 5)) {
        unsigned long long after = argc == 5 ? strtoull(argv[4], &end, 10) : 0;
        if (argc == 5 && (*end || argv[4][0] == '\0' || argv[4][0] == '-')) {
            bus_usage(stderr);
            return TCTL_USAGE;
        }
        return bus_sync(o, argv[2], argv[3], after);
    }
    if (!strcmp(cmd, "key") && argc == 5)
        return bus_key(o, argv[2], argv[3], argv[4]);
    if (!strcmp(cmd, "zn") && argc == 5)
        return bus_zn(o, argv[2], argv[3], argv[4]);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        bus_usage(stdout);
        return TCTL_OK;
    }
    bus_usage(stderr);
    return TCTL_USAGE;
}
