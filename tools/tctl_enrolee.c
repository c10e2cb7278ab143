/* tepctl enrolee add|list|revoke (tep-enroller admin). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_bus.h"
#include "cmn_err.h"
#include "tctl.h"
#include "tctl_provision.h"

#define DEFAULT_APP_ID "Ntepdemo"

typedef struct {
    const char *name, *ae_id, *app_id, *mef_uri, *mef_fqdn, *out, *target, *cert_identity;
    const char *gba_impi;
    long lifetime;
    bool force;
    char ae_buf[300], uri_buf[300], fqdn_buf[300];
} add_args;

static void enrolee_usage(FILE *out)
{
    fprintf(out,
            "Usage: tepctl [--admin ENDPOINT|--config FILE] enrolee add NAME --out FILE\n"
            "              [--ae-id ID] [--app-id ID] [--lifetime SECS]\n"
            "              [--mef-uri URI] [--mef-fqdn FQDN] [--target CSE-ID] [--force]\n"
            "              [--cert-identity ID]\n"
            "       tepctl [...] enrolee add NAME --gba-impi IMPI [--ae-id ID] [...]\n"
            "       tepctl [...] enrolee list\n"
            "       tepctl [...] enrolee show NAME\n"
            "       tepctl [...] enrolee revoke NAME\n\n"
            "add     pre-provisions an enrolee: NAME is its KpmID; the enroller makes a\n"
            "        random Kpm, which goes only into the provisioning FILE (mode 0600).\n"
            "        Defaults: --ae-id C<NAME>, --app-id " DEFAULT_APP_ID ", --lifetime %ld,\n"
            "        --mef-uri/--mef-fqdn from the enroller's --config, else\n"
            "        " TCTL_DEFAULT_MEF_URI " and " TCTL_DEFAULT_MEF_FQDN ".\n"
            "        --target: its Enrolment Target, the registrar CSE its Kpsa is for (the\n"
            "        enroller's registrar_cse_id or one of its [enroller] targets);\n"
            "        default: registrar_cse_id (shown as \"-\").\n"
            "        --cert-identity: a certificate enrolee (TS-0003 8.3.2.2): no Kpm; it\n"
            "        enrols with a manufacturer certificate whose first subjectAltName URI\n"
            "        (else subject CN) is ID, chained to [enroller] mfr_trust_anchors; the\n"
            "        FILE then says credential = certificate.\n"
            "        --gba-impi: a GBA enrolee (TS-0003 8.3.2.3): no Kpm and no --out; it\n"
            "        enrols with the B-TID of a bootstrapping of IMPI at tep-bsf (see\n"
            "        tepctl gba add), Ke = Ks_NAF, KeID = B-TID.\n"
            "list    prints every enrolee (never a Kpm).\n"
            "show    prints one enrolee as KEY=value lines.\n"
            "revoke  revokes the enrolee and its current enrolment.\n",
            TCTL_DEFAULT_LIFETIME);
}

void tctl_mef_defaults(const tctl_opts *o, const char **uri, const char **fqdn, char *uri_buf,
                       char *fqdn_buf, size_t len)
{
    char listen[256];

    if (*fqdn == NULL) {
        *fqdn = TCTL_DEFAULT_MEF_FQDN;
        if (tctl_setting(o, "enroller", "mef_fqdn", fqdn_buf, len) == 0)
            *fqdn = fqdn_buf;
    }
    if (*uri == NULL) {
        *uri = TCTL_DEFAULT_MEF_URI;
        if (tctl_setting(o, "enroller", "listen", listen, sizeof(listen)) == 0) {
            snprintf(uri_buf, len, "coaps://%s", listen);
            *uri = uri_buf;
        }
    }
}

void tctl_time_str(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    snprintf(buf, len, "-");
    if (t > 0 && gmtime_r(&tt, &tm) != NULL)
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_defaults(const tctl_opts *o, add_args *a)
{
    if (a->ae_id == NULL) {
        snprintf(a->ae_buf, sizeof(a->ae_buf), "C%s", a->name);
        a->ae_id = a->ae_buf;
    }
    tctl_mef_defaults(o, &a->mef_uri, &a->mef_fqdn, a->uri_buf, a->fqdn_buf, sizeof(a->uri_buf));
}

static int parse_add(int argc, char **argv, add_args *a)
{
    static const struct option opts[] = {
        {"ae-id", required_argument, NULL, 'a'},    {"app-id", required_argument, NULL, 'p'},
        {"lifetime", required_argument, NULL, 'l'}, {"mef-uri", required_argument, NULL, 'u'},
        {"mef-fqdn", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'F'},          {"help", no_argument, NULL, 'h'},
        {"target", required_argument, NULL, 't'},   {"cert-identity", required_argument, NULL, 'c'},
        {"gba-impi", required_argument, NULL, 'g'}, {NULL, 0, NULL, 0}};
    char *end;
    int c;

    a->app_id = DEFAULT_APP_ID;
    a->lifetime = TCTL_DEFAULT_LIFETIME;
    optind = 0; /* 0: glibc re-initialises (the global parse used "+" mode) */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            a->ae_id = optarg;
            break;
        case 'p':
            a->app_id = optarg;
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
        case 't':
            a->target = optarg;
            break;
        case 'c':
            a->cert_identity = optarg;
            break;
        case 'g':
            a->gba_impi = optarg;
            break;
        case 'l':
            a->lifetime = strtol(optarg, &end, 10);
            if (*end || a->lifetime <= 0)
                return -1;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (optind + 1 != argc || (a->out == NULL) == (a->gba_impi == NULL)) /* exactly one of them */
        return -1;
    a->name = argv[optind];
    return 0;
}

const char *tctl_target_str(const Tep__Enrolee *e)
{
    return e->target_cse_id != NULL && e->target_cse_id[0] ? e->target_cse_id : "-";
}

static void print_added(const Tep__Enrolee *e, const char *path)
{
    printf("KPM_ID=%s\nENROLEE_ID=%s\nAPP_ID=%s\nTARGET=%s\nEXPIRES=%lld\nPROVISIONING=%s\n",
           e->kpm_id, e->enrolee_id, e->app_id, tctl_target_str(e), (long long)e->expires, path);
    if (e->cert_identity[0])
        printf("CERT_IDENTITY=%s\n", e->cert_identity);
}

/* Asks the enroller for the enrolee and writes its provisioning file. */
static int add_remote(const tctl_opts *o, const add_args *a)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    Tep__Envelope *resp = NULL;
    const Tep__Enrolee *got;
    int ex;
    tctl_provision p;

    e.kpm_id = (char *)a->name;
    e.enrolee_id = (char *)a->ae_id;
    e.app_id = (char *)a->app_id;
    e.target_cse_id = (char *)(a->target != NULL ? a->target : "");
    e.gba_impi = (char *)(a->gba_impi != NULL ? a->gba_impi : "");
    e.expires = (int64_t)time(NULL) + a->lifetime;
    if (a->cert_identity != NULL)
        e.cert_identity = (char *)a->cert_identity;
    req.op = TEP__ADMIN_REQUEST__OP__ENROLEE_ADD;
    req.enrolee = &e;
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (a->gba_impi != NULL && resp->admin_resp->n_enrolees == 1) { /* no Kpm, no file */
        print_added(resp->admin_resp->enrolees[0], "-");
        printf("GBA_IMPI=%s\n", a->gba_impi);
        goto out;
    }
    if (resp->admin_resp->n_enrolees != 1 ||
        (resp->admin_resp->enrolees[0]->kpm.len == 0) != (a->cert_identity != NULL)) {
        fprintf(stderr, "tepctl: the enroller answered without the enrolee\n");
        ex = TCTL_REFUSED;
        goto out;
    }
    got = resp->admin_resp->enrolees[0];
    p = (tctl_provision){got->kpm_id, got->kpm.data, got->kpm.len, a->mef_uri, a->mef_fqdn};
    if (tctl_provision_save(a->out, &p, a->force) != 0) {
        fprintf(stderr,
                "tepctl: enrolee %s was created but %s could not be written: "
                "revoke it and add it under another name\n",
                got->kpm_id, a->out);
        ex = TCTL_REFUSED;
        goto out;
    }
    print_added(got, a->out);
out:
    cmn_bus_env_free(resp); /* wipes the Kpm */
    return ex;
}

static int enrolee_add(const tctl_opts *o, int argc, char **argv)
{
    add_args a = {0};
    int rc = parse_add(argc, argv, &a);

    if (rc != 0) {
        enrolee_usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? TCTL_OK : TCTL_USAGE;
    }
    add_defaults(o, &a);
    if (a.out != NULL && !a.force && access(a.out, F_OK) == 0) {
        fprintf(stderr, "tepctl: %s exists (use --force to overwrite)\n", a.out);
        return TCTL_USAGE;
    }
    return add_remote(o, &a);
}

static const char *state_name(Tep__Enrolee__State s)
{
    return s == TEP__ENROLEE__STATE__REVOKED ? "revoked" : "active";
}

static const char *state_str(const Tep__Enrolee *e, time_t now)
{
    return e->state == TEP__ENROLEE__STATE__ACTIVE && e->expires <= now ? "expired"
                                                                        : state_name(e->state);
}

static void print_table(const Tep__AdminResponse *r, time_t now)
{
    printf("%-24s %-24s %-16s %-8s %-20s %s\n", "KPM_ID", "ENROLEE_ID", "APP_ID", "STATE",
           "EXPIRES (UTC)", "TARGET");
    for (size_t i = 0; i < r->n_enrolees; i++) {
        const Tep__Enrolee *e = r->enrolees[i];
        char when[32];

        tctl_time_str(e->expires, when, sizeof(when));
        printf("%-24s %-24s %-16s %-8s %-20s %s\n", e->kpm_id, e->enrolee_id,
               e->app_id[0] ? e->app_id : "-", state_str(e, now), when, tctl_target_str(e));
    }
}

/* show NAME: one enrolee of the list, as KEY=value lines; exit 3 when there is none. */
static int print_one(const Tep__AdminResponse *r, const char *name, time_t now)
{
    for (size_t i = 0; i < r->n_enrolees; i++) {
        const Tep__Enrolee *e = r->enrolees[i];
        char when[32];

        if (strcmp(e->kpm_id, name) != 0)
            continue;
        tctl_time_str(e->expires, when, sizeof(when));
        printf("KPM_ID=%s\nENROLEE_ID=%s\nAPP_ID=%s\nAPPLICATION=%s\nSTATE=%s\nTARGET=%s\n"
               "EXPIRES=%lld\nEXPIRES_UTC=%s\n",
               e->kpm_id, e->enrolee_id, e->app_id, e->application ? "true" : "false",
               state_str(e, now), tctl_target_str(e), (long long)e->expires, when);
        if (e->cert_identity[0])
            printf("CERT_IDENTITY=%s\n", e->cert_identity);
        return TCTL_OK;
    }
    fprintf(stderr, "tepctl: no enrolee %s\n", name);
    return TCTL_REFUSED;
}

/* list (argc 1) or show NAME (argc 2). */
static int enrolee_list(const tctl_opts *o, int argc, char **argv, bool show)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    if (argc != (show ? 2 : 1)) {
        enrolee_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__ENROLEE_LIST;
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    if (show)
        ex = print_one(resp->admin_resp, argv[1], time(NULL));
    else
        print_table(resp->admin_resp, time(NULL));
    cmn_bus_env_free(resp);
    return ex;
}

static int enrolee_revoke(const tctl_opts *o, int argc, char **argv)
{
    Tep__AdminRequest req = TEP__ADMIN_REQUEST__INIT;
    Tep__Envelope *resp = NULL;
    int ex;

    if (argc != 2) {
        enrolee_usage(stderr);
        return TCTL_USAGE;
    }
    req.op = TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE;
    req.kpm_id = argv[1];
    ex = tctl_admin_call(o, "enroller", &req, &resp);
    if (ex != TCTL_OK)
        return ex;
    printf("KPM_ID=%s\nSTATE=revoked\n", argv[1]);
    cmn_bus_env_free(resp);
    return TCTL_OK;
}

int tctl_enrolee_main(const tctl_opts *o, int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            enrolee_usage(stdout);
            return TCTL_OK;
        }
    }
    if (!strcmp(cmd, "add"))
        return enrolee_add(o, argc - 1, argv + 1);
    if (!strcmp(cmd, "list"))
        return enrolee_list(o, argc - 1, argv + 1, false);
    if (!strcmp(cmd, "show"))
        return enrolee_list(o, argc - 1, argv + 1, true);
    if (!strcmp(cmd, "revoke"))
        return enrolee_revoke(o, argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        enrolee_usage(stdout);
        return TCTL_OK;
    }
    enrolee_usage(stderr);
    return TCTL_USAGE;
}
