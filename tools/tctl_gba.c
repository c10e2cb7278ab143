/* tepctl gba: the subscribers of tep-bsf (the HSS's data of GBA, TS 33.220) and the
 * B-TIDs it issued. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_bus.h"
#include "cmn_crypto.h"
#include "cmn_milenage.h"
#include "tctl.h"

static void gba_usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT|--config FILE] gba add IMPI [--k HEX]\n"
            "              [--opc HEX | --op HEX] [--sqn N]\n"
            "       tepctl [--admin ENDPOINT|--config FILE] gba list\n"
            "       tepctl [--admin ENDPOINT|--config FILE] gba btids\n\n"
            "add: a subscriber of tep-bsf: its IMPI, K and OPc (16 bytes each, hex; OPc is\n"
            "computed from --op when given so), and the SQN the network starts from (0).\n"
            "Without --k, K and OPc are drawn at random. Prints impi=, k=, opc=, sqn= for the\n"
            "device's software USIM (they are secrets: the only time tep shows them).\n"
            "Exit 3 when the IMPI exists already.\n\n"
            "list: the subscribers (IMPI, SQN_HE, re-synchronisations, creation; never K).\n"
            "btids: the bootstrappings (B-TID, IMPI, creation, expiry, live or expired).\n");
}

static int parse_key(const char *name, const char *hex, uint8_t out[16])
{
    if (hex == NULL || strlen(hex) != 32 || cmn_hex_decode(hex, out, 16) != 0) {
        fprintf(stderr, "tepctl: gba add: %s must be 32 hex digits\n", name);
        return TCTL_USAGE;
    }
    return TCTL_OK;
}

/* K, OPc from the options (or at random); 0 or a TCTL_* code. */
static int keys_from(const char *k_hex, const char *opc_hex, const char *op_hex, uint8_t k[16],
                     uint8_t opc[16])
{
    uint8_t op[16];
    int ex = TCTL_OK;

    if (k_hex == NULL) {
        if (opc_hex != NULL || op_hex != NULL) {
            fprintf(stderr, "tepctl: gba add: --opc/--op need --k\n");
            return TCTL_USAGE;
        }
        return cmn_random(k, 16) == 0 && cmn_random(opc, 16) == 0 ? TCTL_OK : TCTL_REFUSED;
    }
    if ((ex = parse_key("--k", k_hex, k)) != TCTL_OK)
        return ex;
    if ((opc_hex == NULL) == (op_hex == NULL)) {
        fprintf(stderr, "tepctl: gba add: give one of --opc and --op with --k\n");
        return TCTL_USAGE;
    }
    if (opc_hex != NULL)
        return parse_key("--opc", opc_hex, opc);
    if ((ex = parse_key("--op", op_hex, op)) != TCTL_OK)
        return ex;
    return cmn_milenage_opc(k, op, opc) == 0 ? TCTL_OK : TCTL_REFUSED;
}

static int gba_add(const tctl_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {{"k", required_argument, NULL, 'k'},
                                         {"opc", required_argument, NULL, 'o'},
                                         {"op", required_argument, NULL, 'p'},
                                         {"sqn", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *k_hex = NULL, *opc_hex = NULL, *op_hex = NULL;
    uint64_t sqn = 0;
    uint8_t k[16], opc[16];
    char *end, hex[33];
    int c, ex;

    optind = 0; /* 0: glibc re-initialises (the global parse used "+" mode) */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            k_hex = optarg;
            break;
        case 'o':
            opc_hex = optarg;
            break;
        case 'p':
            op_hex = optarg;
            break;
        case 's':
            sqn = strtoull(optarg, &end, 0);
            if (*end || sqn > CMN_MIL_SQN_MAX)
                return TCTL_USAGE;
            break;
        default:
            gba_usage(stderr);
            return TCTL_USAGE;
        }
    }
    if (optind + 1 != argc) {
        gba_usage(stderr);
        return TCTL_USAGE;
    }
    ex = keys_from(k_hex, opc_hex, op_hex, k, opc);
    if (ex == TCTL_OK) {
        Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
        Tep__GbaSubscriber sub = TEP__GBA_SUBSCRIBER__INIT;
        Tep__Envelope *resp = NULL;

        sub.impi = argv[optind];
        sub.k = (ProtobufCBinaryData){16, k};
        sub.opc = (ProtobufCBinaryData){16, opc};
        sub.sqn = sqn;
        req.op = TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_ADD;
        req.gba_subscriber = &sub;
        ex = tctl_admin_call(o, "bsf", &req, &resp);
        cmn_bus_env_free(resp);
    }
    if (ex == TCTL_OK) {
        printf("impi=%s\n", argv[optind]);
        cmn_hex_encode(k, 16, hex);
        printf("k=%s\n", hex);
        cmn_hex_encode(opc, 16, hex);
        printf("opc=%s\nsqn=%" PRIu64 "\n", hex, sqn);
        cmn_wipe(hex, sizeof(hex));
    }
    cmn_wipe(k, sizeof(k));
    cmn_wipe(opc, sizeof(opc));
    return ex;
}

static int gba_list(const tctl_opts *o, Tep__AdminRequest__Op op)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *env = NULL;
    const Tep__AdminResponse *r;
    char a[32], b[32];
    int ex;

    req.op = op;
    if ((ex = tctl_admin_call(o, "bsf", &req, &env)) != TCTL_OK)
        return ex;
    r = env->admin_resp;
    if (op == TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_LIST) {
        printf("%-52s %-16s %-8s %s\n", "IMPI", "SQN", "RESYNCS", "CREATED");
        for (size_t i = 0; i < r->n_gba_subscribers; i++) {
            const Tep__GbaSubscriber *s = r->gba_subscribers[i];
            tctl_time_str(s->created, a, sizeof(a));
            printf("%-52s %-16" PRIu64 " %-8" PRIu64 " %s\n", s->impi, s->sqn, s->resyncs, a);
        }
    } else {
        int64_t now = (int64_t)time(NULL);
        printf("%-48s %-52s %-20s %-20s %s\n", "B-TID", "IMPI", "CREATED", "EXPIRES", "STATE");
        for (size_t i = 0; i < r->n_gba_btids; i++) {
            const Tep__GbaBootstrap *t = r->gba_btids[i];
            tctl_time_str(t->created, a, sizeof(a));
            tctl_time_str(t->expires, b, sizeof(b));
            printf("%-48s %-52s %-20s %-20s %s\n", t->btid, t->impi, a, b,
                   t->expires > now ? "live" : "expired");
        }
    }
    cmn_bus_env_free(env);
    return TCTL_OK;
}

int tctl_gba_main(const tctl_opts *o, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        gba_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TCTL_USAGE : TCTL_OK;
    }
    if (!strcmp(argv[1], "add"))
        return gba_add(o, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list") && argc == 2)
        return gba_list(o, TEP__ADMIN_REQUEST__OP__GBA_SUBSCRIBER_LIST);
    if (!strcmp(argv[1], "btids") && argc == 2)
        return gba_list(o, TEP__ADMIN_REQUEST__OP__GBA_BTID_LIST);
    gba_usage(stderr);
    return TCTL_USAGE;
}
