/* tepctl app add|list|revoke: application enrolment credentials (seed Z.2,
 * docs/internals.md "Application enrolment"). */
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_bus.h"
#include "tctl.h"
#include "tctl_provision.h"

typedef struct {
    const char *app_id, *kpm_id, *stem, *mef_uri, *mef_fqdn, *out, *target;
    long lifetime;
    bool force;
    char kpm_buf[128], uri_buf[300], fqdn_buf[300];
} app_args;

static void app_usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT|--config FILE] app add APP-ID --out FILE\n"
            "              [--kpm-id ID] [--stem STEM] [--lifetime SECS]\n"
            "              [--mef-uri URI] [--mef-fqdn FQDN] [--target CSE-ID] [--force]\n"
            "       tepctl [...] app list\n"
            "       tepctl [...] app revoke APP-ID\n\n"
            "add     makes an application enrolment credential bound to APP-ID: a KpmID/Kpm\n"
            "        that every instance of the application enrols with. Each instance gets\n"
            "        its own Ke, Kpsa and AE-ID C<STEM>-<8 hex digits of its KeID>.\n"
            "        Defaults: --kpm-id app.<APP-ID>, --stem APP-ID without its leading\n"
            "        N or R, --lifetime %ld. The Kpm goes only into FILE (0600).\n"
            "        --target: the instances' registrar CSE (their Kpsa is for it; the\n"
            "        enroller's registrar_cse_id or one of its [enroller] targets).\n"
            "list    prints the application credentials and their instances.\n"
            "revoke  revokes every credential bound to APP-ID and all their instances.\n",
            TCTL_DEFAULT_LIFETIME);
}

static int parse_add(int argc, char **argv, app_args *a)
{
    static const struct option opts[] = {{"kpm-id", required_argument, NULL, 'k'},
                                         {"stem", required_argument, NULL, 's'},
                                         {"lifetime", required_argument, NULL, 'l'},
                                         {"mef-uri", required_argument, NULL, 'u'},
                                         {"mef-fqdn", required_argument, NULL, 'f'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'F'},
                                         {"target", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    char *end;
    int c;

    a->lifetime = TCTL_DEFAULT_LIFETIME;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->kpm_id = optarg;
            break;
        case 's':
            a->stem = optarg;
            break;
        case 't':
            a->target = optarg;
            break;
        case 'u':
            a->mef_uri = optarg;
            break;
        case 'f':
            a->mef_fqdn = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'F':
            a->force = true;
            break;
        case 'l':
            a->lifetime = strtol(optarg, &end, 10);
            if (*end || a->lifetime <= 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    if (optind + 1 != argc || a->out == NULL)
        return -1;
    a->app_id = argv[optind];
    return 0;
}

/* "app.<APP-ID>" with anything outside a KpmID's alphabet replaced by '_'. */
static void default_kpm_id(app_args *a)
{
    size_t n = (size_t)snprintf(a->kpm_buf, sizeof(a->kpm_buf), "app.%s", a->app_id);

    for (size_t i = 0; i < n && i < sizeof(a->kpm_buf) - 1; i++) {
        unsigned char ch = (unsigned char)a->kpm_buf[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            a->kpm_buf[i] = '_';
    }
    a->kpm_id = a->kpm_buf;
}

static int save(const app_args *a, const Tep__Enrolee *got)
{
    tctl_provision p = {got->kpm_id, got->kpm.data, got->kpm.len, a->mef_uri, a->mef_fqdn};

    if (tctl_provision_save(a->out, &p, a->force) != 0) {
        fprintf(stderr,
                "tepctl: application credential %s was created but %s could not be "
                "written: revoke it and add it again\n",
                got->kpm_id, a->out);
        return TCTL_REFUSED;
    }
    printf("APP_ID=%s\nKPM_ID=%s\nAE_ID_STEM=%s\nTARGET=%s\nEXPIRES=%lld\nPROVISIONING=%s\n",
           got->app_id, got->kpm_id, got->enrolee_id, tctl_target_str(got), (long long)got->expires,
           a->out);
    return TCTL_OK;
}

static int app_add(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    Tep__Envelope *resp = NULL;
    app_args a = {0};
    int ex;

    if (parse_add(argc, argv, &a) != 0) {
        app_usage(stderr);
        return TCTL_USAGE;
    }
    if (a.kpm_id == NULL)
        default_kpm_id(&a);
    tctl_mef_defaults(o, &a.mef_uri, &a.mef_fqdn, a.uri_buf, a.fqdn_buf, sizeof(a.uri_buf));
    if (!a.force && access(a.out, F_OK) == 0) {
        fprintf(stderr, "tepctl: %s exists (use --force to overwrite)\n", a.out);
        return TCTL_USAGE;
    }
    e.kpm_id = (char *)a.kpm_id;
    e.app_id = (char *)a.app_id;
    e.enrolee_id = (char *)(a.stem != NULL ? a.stem : "");
    e.target_cse_id = (char *)(a.target != NULL ? a.target : "");
    e.expires = (int64_t)time(NULL) + a.lifetime;
    req.op = TEP__ADMIN_REQUEST__OP__APP_ADD;
    req.enrolee = &e;
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (resp->admin_resp->n_enrolees != 1 || resp->admin_resp->enrolees[0]->kpm.len == 0) {
        fprintf(stderr, "tepctl: the enroller answered without the credential\n");
        ex = TCTL_REFUSED;
    } else {
        ex = save(&a, resp->admin_resp->enrolees[0]);
    }
    cmn_bus_env_free(resp); /* wipes the Kpm */
    return ex;
}

static void print_apps(const Tep__AdminResponse *r)
{
    char when[32];

    printf("%-24s %-16s %-16s %-8s %-20s %s\n", "KPM_ID", "APP_ID", "AE_ID_STEM", "STATE",
           "EXPIRES (UTC)", "TARGET");
    for (size_t i = 0; i < r->n_enrolees; i++) {
        const Tep__Enrolee *e = r->enrolees[i];
        tctl_time_str(e->expires, when, sizeof(when));
        printf("%-24s %-16s %-16s %-8s %-20s %s\n", e->kpm_id, e->app_id, e->enrolee_id,
               e->state == TEP__ENROLEE__STATE__REVOKED ? "revoked" : "active", when,
               tctl_target_str(e));
    }
    printf("\n%-24s %-24s %-8s %s\n", "KPM_ID", "INSTANCE AE-ID", "STATE", "KE_ID");
    for (size_t i = 0; i < r->n_instances; i++) {
        const Tep__Enrolment *en = r->instances[i];
        printf("%-24s %-24s %-8s %s\n", en->kpm_id, en->enrolee_id,
               en->revoked ? "revoked" : "active", en->ke_id);
    }
}

static int app_simple(const tctl_opts *o, Tep__AdminRequest__Op op, const char *app_id)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    req.op = op;
    req.app_id = (char *)(app_id != NULL ? app_id : "");
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (op == TEP__ADMIN_REQUEST__OP__APP_LIST)
        print_apps(resp->admin_resp);
    else
        printf("APP_ID=%s\nSTATE=revoked\n", app_id);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}

int tctl_app_main(const tctl_opts *o, int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "help")) {
            app_usage(stdout);
            return TCTL_OK;
        }
    }
    if (!strcmp(cmd, "add"))
        return app_add(o, argc - 1, argv + 1);
    if (!strcmp(cmd, "list") && argc == 2)
        return app_simple(o, TEP__ADMIN_REQUEST__OP__APP_LIST, NULL);
    if (!strcmp(cmd, "revoke") && argc == 3)
        return app_simple(o, TEP__ADMIN_REQUEST__OP__APP_REVOKE, argv[2]);
    app_usage(stderr);
    return TCTL_USAGE;
}
