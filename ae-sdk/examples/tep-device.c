/* tep-device: the example device program built on libtepae (docs/internals.md, "The
 * device side"). Prints KEY=value lines on stdout, explanations on stderr.
 * Exit: 0 on success (RSC 2xxx), 1 usage or configuration error, 2 connection or
 * handshake failure, 3 a oneM2M error answer (stderr says rsc=NNNN). */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tep/tepae.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_CONN = 2, EXIT_ONEM2M = 3 };

typedef struct {
    const char *prov_path;
    const char *state_path;
    const char *from; /* --from, NULL: the device's AE-ID */
    /* --cert/--key/--mef-ca: enrol in the certificate MEF Handshake (TS-0003 8.3.2.2)
     * with a certificate the device holds (a manufacturer's) instead of the Kpm */
    const char *cert, *key, *mef_ca;
    int timeout_ms;
    tep_device *dev;
    tep_conn *conn;
} ctx;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: tep-device --provisioning FILE --state FILE [--from ORIG] [--timeout MS]\n"
        "                  [--cert PEM --key PEM --mef-ca PEM] COMMAND [ARGS]\n"
        "  --cert/--key/--mef-ca        enrol (enrol, cert, run) with this certificate and\n"
        "                              key (a manufacturer's) instead of a Kpm, checking\n"
        "                              the MEF's certificate to --mef-ca (TS-0003 8.3.2.2)\n"
        "commands:\n"
        "  enrol                       bootstrap with the MEF (DTLS-PSK Kpm, or the\n"
        "                              certificate of --cert), write the state\n"
        "  register [--app-id ID] [--rn NAME]   register the AE with the registrar CSE\n"
        "  create-cnt NAME             create a container under the AE\n"
        "  create-cin CNT VALUE        create a contentInstance in container CNT\n"
        "  retrieve PATH               retrieve a resource (CSE-relative path)\n"
        "  grant CNT ORIGINATOR [ACOP] let ORIGINATOR (e.g. /tep-cse/Capp1) do ACOP (1..63,\n"
        "                              default 2: Retrieve) on the device's container CNT:\n"
        "                              the ACP acp-CNT under its AE, then CNT's acpi\n"
        "  delete PATH                 delete a resource\n"
        "  run                         enrol if needed, connect, register, store and read\n"
        "                              back a value\n"
        "  cert [--csr-id ID]          enrol and get a certificate from the tep CA in the\n"
        "                              same MEF session (key/crt/ca next to the state);\n"
        "                              --csr-id asks for another ID (tests: refused)\n"
        "  cert-renew                  a new tep certificate for the same enrolment, in a\n"
        "                              MEF session authenticated with the current one\n"
        "  cert-run                    the certificate SAEF: connect with the key and\n"
        "                              certificate of `cert`, then as run\n"
        "  token PATH ACOP [--maf-uri URI]   a token (TS-0003 7.3) for ACOP (1..63) on PATH\n"
        "                              from the MAF/DAS; present it with\n"
        "                              retrieve \"PATH?tids=TOKEN_ID\"\n"
        "  poll PATH INTERVAL_MS COUNT retrieve PATH COUNT times over ONE session, a line\n"
        "                              per request (AT=Unix ms); stops at a failure\n"
        "  maf-run [--maf-uri URI] [--lifetime S] [--cert]   the MAF-based SAEF: register a\n"
        "                              key for the registrar CSE at the MAF (Km; --cert: in\n"
        "                              a certificate MAF Handshake, after `cert`), connect\n"
        "                              with Kc, then as run (MAF URI default: the\n"
        "                              enrolment's)\n"
        "  mef-run TARGET URI CSE_NAME [--suid N] [--lifetime S]   MEF Client and Key\n"
        "                              Registration (TS-0003 8.3.5.2) of a usage-constrained\n"
        "                              key (SUID 22..25, default 22) for the CSE TARGET,\n"
        "                              DTLS-PSK to URI with it, AE registration under\n"
        "                              CSE_NAME\n"
        "  mef-connect TARGET URI CSE_NAME [--suid N]   the same with a key registered\n"
        "                              before (computed from Ke, no MEF session)\n"
        "  mef-update-key TARGET --lifetime S [--suid N]   MEF Key Registration Update\n"
        "  mef-deregister-key TARGET [--suid N]   MEF Key De-Registration\n"
        "  mef-update-client REG_ID --lifetime S  MEF Client Registration Update\n"
        "  mef-deregister-client REG_ID           MEF Client De-Registration\n"
        "  esprim OP TO [--ty N] [--pc JSON] [--count N] [--plain URI] [--maf | --mef | "
        "--escertke]\n"
        "         [--cse CSE-ID] (another CSE than the registrar, with --escertke or --mef)\n"
        "         [--to-ae AE-PATH] (an AE as the Receiver, with --mef: SUID 23 for its AE-ID,\n"
        "         or --escertke with it)\n"
        "  esprim-serve URI [--count N] [--wait-ms MS] [--cert]   this AE as the ESPrim\n"
        "                              Receiver (--cert: ESCertKE too, after `cert`): a\n"
        "                              listener on URI (announce it with update-poa) that\n"
        "                              answers the exchanges its registrar relays (keys by\n"
        "                              MEF Key Retrieval), until N inner requests\n"
        "         [--show-outer]\n"
        "                              an ESPrim-protected request (TS-0003 8.4) to the\n"
        "                              registrar; the pairwise key from Kpsa, the MAF (SUID\n"
        "                              33), the MEF (SUID 23, Kuc) or ESCertKE (8.7, after\n"
        "                              `cert`; prints ESCERTKE_KID=)\n"
        "  esdata-protect CLASS VALUE KEY   an ESData object (TS-0003 8.5; CLASS enc, sign,\n"
        "                              sign-enc) printed as OBJECT=\n"
        "  esdata-put CNT CLASS VALUE KEY   the same, stored as a contentInstance of CNT\n"
        "  esdata-open OBJECT KEY      open/verify an object (CLASS=, SIGNER=, VALUE=)\n"
        "  esdata-get CIN KEY          retrieve a contentInstance and open its con\n"
        "    KEY: --key HEX --kid KID --b-id ID (pre-provisioned) | --kpsa (the enrolment's\n"
        "         Kpsa, B = the registrar) | --maf-target ID / --maf (a key registered at /\n"
        "         retrieved from the MAF, SUID 34/35) | --mef-target ID / --mef (the same at\n"
        "         the MEF: Kuc, SUID 24/25); --sign-cert signs with the certificate of\n"
        "         `cert`, --ca PEM the trust anchor to verify one\n"
        "  subscribe [--cert] CNT NU...   subscribe the AE's container CNT (net 3) with\n"
        "                              nu (--cert: over the certificate SAEF)\n"
        "  update-poa URI...           set the AE's pointOfAccess\n"
        "  listen URI [--count N] [--wait-ms MS]   a notification listener (SA2, TS-0003\n"
        "                              8.2.1) on coaps://IP:PORT with the device's Kpsa:\n"
        "                              prints each NOTIFY (NOTIFY_FROM=, NOTIFY_VRQ=,\n"
        "                              NOTIFY_CON=, NOTIFY_BODY=) until N came (default 1)\n"
        "                              or MS passed (default 30000; then exit 2)\n"
        "  watch CNT URI [--count N] [--wait-ms MS]   listen on URI, subscribe the AE's\n"
        "                              container CNT (net 3) with nu [URI], then as listen;\n"
        "                              --cert (both): the tep certificate of `cert` too,\n"
        "                              watch subscribing over the certificate SAEF\n");
}

/* ---- results ---------------------------------------------------------------------- */

static int fail(const char *what, int err)
{
    fprintf(stderr, "tep-device: %s: %s\n", what, tep_strerror(err));
    switch (err) {
    case TEP_ECONFIG:
    case TEP_ECORRUPT:
    case TEP_EINVAL:
    case TEP_ESTATE:
    case TEP_ERANGE:
        return EXIT_USAGE;
    default:
        return EXIT_CONN;
    }
}

static bool rsc_ok(const tep_response *rsp)
{
    return rsp->rsc >= 2000 && rsp->rsc < 3000;
}

static int rsc_exit(const char *what, const tep_response *rsp)
{
    printf("RSC=%u\n", rsp->rsc);
    if (rsc_ok(rsp))
        return EXIT_OK;
    fprintf(stderr, "tep-device: %s: rsc=%u (CoAP %u.%02u) %s\n", what, rsp->rsc,
            rsp->coap_code / 100, rsp->coap_code % 100, rsp->body);
    return EXIT_ONEM2M;
}

/* The created resource's path: parent/rn from the answer, else its Location-Path.
 * Printed, and copied into ret (retlen bytes) when ret is not NULL. */
static void print_created(const char *parent, const tep_response *rsp, char *ret, size_t retlen)
{
    json_t *root = json_loadb(rsp->body, rsp->body_len, 0, NULL);
    const char *key, *rn = NULL;
    json_t *res;

    if (json_is_object(root) && json_object_size(root) == 1) {
        json_object_foreach(root, key, res)
            rn = json_string_value(json_object_get(res, "rn"));
    }
    if (rn != NULL) {
        printf("RN=%s\nPATH=%s/%s\nRESOURCE=%s/%s\n", rn, parent, rn, parent, rn);
        if (ret != NULL)
            snprintf(ret, retlen, "%s/%s", parent, rn);
    } else if (rsp->location != NULL) {
        printf("PATH=%s\nRESOURCE=%s\n", rsp->location, rsp->location);
        if (ret != NULL)
            snprintf(ret, retlen, "%s", rsp->location);
    }
    json_decref(root);
}

/* VALUE= for a contentInstance, RN= and BODY= for anything. */
static void print_retrieved(const tep_response *rsp)
{
    json_t *root = json_loadb(rsp->body, rsp->body_len, 0, NULL);
    json_t *cin = json_object_get(root, "m2m:cin");
    const char *key;
    json_t *res;

    if (json_is_string(json_object_get(cin, "con")))
        printf("VALUE=%s\n", json_string_value(json_object_get(cin, "con")));
    json_object_foreach(root, key, res) {
        if (json_is_string(json_object_get(res, "rn")))
            printf("RN=%s\n", json_string_value(json_object_get(res, "rn")));
    }
    if (rsp->body_len && strchr(rsp->body, '\n') == NULL)
        printf("BODY=%s\n", rsp->body);
    json_decref(root);
}

/* ---- steps -------------------------------------------------------------------------- */

static void print_enrolment(const tep_device *dev)
{
    printf("KPM_ID=%s\nKE_ID=%s\nAE_ID=%s\nAPP_ID=%s\nKPSA_ID=%s\nREGISTRAR_CSE_ID=%s\n"
           "REGISTRAR_POA=%s\nMAF_ID=%s\nEXPIRES=%" PRId64 "\n",
           tep_device_kpm_id(dev), tep_device_ke_id(dev), tep_device_enrolee_id(dev),
           tep_device_app_id(dev), tep_device_kpsa_id(dev), tep_device_registrar_cse_id(dev),
           tep_device_registrar_poa(dev), tep_device_maf_id(dev), tep_device_expires(dev));
}

static int do_enrol(ctx *c)
{
    int rc = c->cert != NULL ? tep_enrol_with_cert(c->dev, c->cert, c->key, c->mef_ca, 0)
                             : tep_enrol(c->dev);

    if (rc < 0)
        return fail("enrolment", rc);
    print_enrolment(c->dev);
    return EXIT_OK;
}

static int do_connect(ctx *c)
{
    int rc;

    if (c->conn != NULL)
        return EXIT_OK;
    if (!tep_device_is_enrolled(c->dev)) {
        fprintf(stderr, "tep-device: not enrolled (run `enrol` first)\n");
        return EXIT_USAGE;
    }
    if ((rc = tep_connect(c->dev, &c->conn)) < 0)
        return fail("connect to the registrar CSE", rc);
    tep_conn_set_timeout(c->conn, c->timeout_ms);
    return EXIT_OK;
}

/* Sends one request; on a transport error returns the exit code via *ret_exit. */
static tep_response *request(ctx *c, int op, const char *path, unsigned ty, const char *body,
                             int *ret_exit)
{
    tep_response *rsp = NULL;
    int rc = do_connect(c);

    if (rc != EXIT_OK) {
        *ret_exit = rc;
        return NULL;
    }
    if ((rc = tep_request(c->conn, op, path, ty, body, c->from, &rsp)) < 0) {
        *ret_exit = fail("request", rc);
        return NULL;
    }
    return rsp;
}

static int do_register(ctx *c, const char *app_id, const char *rn, bool tolerate_registered)
{
    tep_response *rsp = NULL;
    int rc = do_connect(c);

    if (rc != EXIT_OK)
        return rc;
    if (c->from != NULL) { /* an explicit originator: a plain request, nothing remembered */
        char *body = NULL;
        json_t *o = json_pack("{s:{s:s,s:s,s:b,s:[s]}}", "m2m:ae", "rn",
                              rn != NULL ? rn : tep_device_enrolee_id(c->dev), "api",
                              app_id != NULL ? app_id : TEP_DEFAULT_APP_ID, "rr", 0, "srv", "3");
        body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (body == NULL)
            return fail("register", TEP_ENOMEM);
        rc = tep_request(c->conn, TEP_OP_CREATE, tep_device_registrar_cse_id(c->dev) + 1, TEP_TY_AE,
                         body, c->from, &rsp);
        free(body);
    } else {
        rc = tep_register_ae(c->conn, app_id, rn, &rsp);
    }
    if (rc < 0)
        return fail("AE registration", rc);
    printf("AE_ID=%s\n", tep_device_enrolee_id(c->dev));
    if (tolerate_registered && rsp->rsc == 4117) /* ORIGINATOR_HAS_ALREADY_REGISTERED */
        rc = (printf("RSC=%u\n", rsp->rsc), EXIT_OK);
    else
        rc = rsc_exit("AE registration", rsp);
    if (rc == EXIT_OK && tep_device_ae_path(c->dev) != NULL)
        printf("PATH=%s\nRESOURCE=%s\n", tep_device_ae_path(c->dev), tep_device_ae_path(c->dev));
    tep_response_free(rsp);
    return rc;
}

/* CREATE content under parent; the new path goes to ret_path (may be NULL). */
static int create(ctx *c, const char *parent, unsigned ty, json_t *content, bool tolerate_exists,
                  char *ret_path, size_t pathlen)
{
    char *body = content != NULL ? json_dumps(content, JSON_COMPACT) : NULL;
    tep_response *rsp;
    int rc = EXIT_OK;

    json_decref(content);
    if (body == NULL)
        return fail("create", TEP_ENOMEM);
    rsp = request(c, TEP_OP_CREATE, parent, ty, body, &rc);
    free(body);
    if (rsp == NULL)
        return rc;
    if (tolerate_exists && (rsp->rsc == 4105 || rsp->rsc == 5106)) { /* already there */
        printf("RSC=%u\n", rsp->rsc);
        rc = EXIT_OK;
    } else if ((rc = rsc_exit("create", rsp)) == EXIT_OK) {
        print_created(parent, rsp, ret_path, pathlen);
    }
    tep_response_free(rsp);
    return rc;
}

static const char *ae_path(ctx *c)
{
    const char *p = tep_device_ae_path(c->dev);

    if (p == NULL)
        fprintf(stderr, "tep-device: not enrolled (run `enrol` first)\n");
    return p;
}

static int do_create_cnt(ctx *c, const char *name, bool tolerate_exists)
{
    const char *parent = ae_path(c);

    if (parent == NULL)
        return EXIT_USAGE;
    return create(c, parent, TEP_TY_CNT, json_pack("{s:{s:s}}", "m2m:cnt", "rn", name),
                  tolerate_exists, NULL, 0);
}

static int do_create_cin(ctx *c, const char *cnt, const char *value, char *ret_path, size_t pathlen)
{
    char parent[1024];
    const char *ae = ae_path(c);

    if (ae == NULL)
        return EXIT_USAGE;
    if (snprintf(parent, sizeof(parent), "%s/%s", ae, cnt) >= (int)sizeof(parent))
        return fail("create-cin", TEP_ERANGE);
    return create(c, parent, TEP_TY_CIN,
                  json_pack("{s:{s:s,s:s}}", "m2m:cin", "cnf", "text/plain:0", "con", value), false,
                  ret_path, pathlen);
}

static int do_simple(ctx *c, int op, const char *path)
{
    tep_response *rsp;
    int rc = EXIT_OK;

    if ((rsp = request(c, op, path, 0, NULL, &rc)) == NULL)
        return rc;
    if ((rc = rsc_exit(op == TEP_OP_DELETE ? "delete" : "retrieve", rsp)) == EXIT_OK &&
        op == TEP_OP_RETRIEVE)
        print_retrieved(rsp);
    tep_response_free(rsp);
    return rc;
}

/* The "ri" of the one resource in a response body, copied into ri (rilen bytes). */
static bool response_ri(const tep_response *rsp, char *ri, size_t rilen)
{
    json_t *root = json_loadb(rsp->body, rsp->body_len, 0, NULL);
    const char *key, *v = NULL;
    json_t *res;
    bool ok;

    if (json_is_object(root) && json_object_size(root) == 1) {
        json_object_foreach(root, key, res)
            v = json_string_value(json_object_get(res, "ri"));
    }
    ok = v != NULL && snprintf(ri, rilen, "%s", v) < (int)rilen;
    json_decref(root);
    return ok;
}

/* One request with a JSON body built here; NULL content: out of memory. */
static tep_response *request_json(ctx *c, int op, const char *path, unsigned ty, json_t *content,
                                  int *ret_exit)
{
    char *body = content != NULL ? json_dumps(content, JSON_COMPACT) : NULL;
    tep_response *rsp;

    json_decref(content);
    if (body == NULL) {
        *ret_exit = fail("request", TEP_ENOMEM);
        return NULL;
    }
    rsp = request(c, op, path, ty, body, ret_exit);
    free(body);
    return rsp;
}

/* grant CNT ORIGINATOR ACOP: the device, creator of its container CNT, lets ORIGINATOR
 * do ACOP on it (TS-0001 9.6.1.3.2): the ACP acp-CNT under its AE (pv: that rule and
 * one giving the device itself every operation, so that it keeps writing CNT; pvs: the
 * device; when it exists already, its pv is replaced), then CNT's acpi set to that ACP
 * alone. Each step is decided by the CSE hosting CNT like any request: setting acpi
 * needs the creator while CNT has none, then the Update privilege in acp-CNT's pvs. */
static int do_grant(ctx *c, const char *cnt, const char *originator, int acop)
{
    char acp[1024], cnt_path[1024], ri[256];
    const char *ae = ae_path(c), *self = tep_device_enrolee_id(c->dev);
    tep_response *rsp;
    int rc = EXIT_OK;

    if (ae == NULL)
        return EXIT_USAGE;
    if (snprintf(acp, sizeof(acp), "%s/acp-%s", ae, cnt) >= (int)sizeof(acp) ||
        snprintf(cnt_path, sizeof(cnt_path), "%s/%s", ae, cnt) >= (int)sizeof(cnt_path))
        return fail("grant", TEP_ERANGE);
    rsp = request_json(c, TEP_OP_CREATE, ae, TEP_TY_ACP,
                       json_pack("{s:{s:s+,s:{s:[{s:[s],s:i},{s:[s],s:i}]},s:{s:[{s:[s],s:i}]}}}",
                                 "m2m:acp", "rn", "acp-", cnt, "pv", "acr", "acor", originator,
                                 "acop", acop, "acor", self, "acop", 63, "pvs", "acr", "acor", self,
                                 "acop", 63),
                       &rc);
    if (rsp != NULL && rsp->rsc == 4105) { /* granted before: its pv replaced */
        tep_response_free(rsp);
        rsp =
            request_json(c, TEP_OP_UPDATE, acp, 0,
                         json_pack("{s:{s:{s:[{s:[s],s:i},{s:[s],s:i}]}}}", "m2m:acp", "pv", "acr",
                                   "acor", originator, "acop", acop, "acor", self, "acop", 63),
                         &rc);
    }
    if (rsp == NULL)
        return rc;
    if ((rc = rsc_exit("grant: the ACP", rsp)) == EXIT_OK && !response_ri(rsp, ri, sizeof(ri))) {
        fprintf(stderr, "tep-device: grant: the CSE did not give the ACP's ri\n");
        rc = EXIT_ONEM2M;
    }
    tep_response_free(rsp);
    if (rc != EXIT_OK)
        return rc;
    printf("ACP=%s\nACP_RI=%s\n", acp, ri);
    rsp = request_json(c, TEP_OP_UPDATE, cnt_path, 0,
                       json_pack("{s:{s:[s]}}", "m2m:cnt", "acpi", ri), &rc);
    if (rsp == NULL)
        return rc;
    rc = rsc_exit("grant: the container's acpi", rsp);
    tep_response_free(rsp);
    return rc;
}

/* The whole path of a device, each step printed. */
static int do_run(ctx *c)
{
    char value[64], cin[1100] = "";
    int rc = EXIT_OK;

    if (!tep_device_is_enrolled(c->dev) && (rc = do_enrol(c)) != EXIT_OK)
        return rc;
    if (tep_device_is_enrolled(c->dev))
        printf("KE_ID=%s\nKPSA_ID=%s\n", tep_device_ke_id(c->dev), tep_device_kpsa_id(c->dev));
    if (tep_device_is_registered(c->dev)) /* registered earlier with this enrolment */
        printf("AE_ID=%s\nPATH=%s\n", tep_device_enrolee_id(c->dev), tep_device_ae_path(c->dev));
    else if ((rc = do_register(c, NULL, NULL, true)) != EXIT_OK)
        return rc;
    if ((rc = do_create_cnt(c, "data", true)) != EXIT_OK)
        return rc;
    snprintf(value, sizeof(value), "hello-tep %lld", (long long)time(NULL));
    if ((rc = do_create_cin(c, "data", value, cin, sizeof(cin))) != EXIT_OK)
        return rc;
    if (!cin[0]) {
        fprintf(stderr, "tep-device: the CSE did not say where the contentInstance is\n");
        return EXIT_ONEM2M;
    }
    return do_simple(c, TEP_OP_RETRIEVE, cin);
}

static int print_cert(ctx *c);

static int do_cert(ctx *c, const char *csr_id)
{
    int rc = c->cert != NULL && csr_id == NULL
                 ? tep_enrol_with_cert(c->dev, c->cert, c->key, c->mef_ca, 1)
                 : tep_enrol_cert_as(c->dev, csr_id);

    if (rc < 0)
        return fail("certificate enrolment", rc);
    return print_cert(c);
}

/* Certificate re-provisioning (TS-0003 8.3.1.2): authenticated with the current one. */
static int do_cert_renew(ctx *c)
{
    int rc = tep_cert_renew(c->dev);

    if (rc < 0)
        return fail("certificate renewal", rc);
    return print_cert(c);
}

static int print_cert(ctx *c)
{
    char path[4096];

    print_enrolment(c->dev);
    if (tep_device_cert_path(c->dev, "crt", path, sizeof(path)) == 0)
        printf("CERT=%s\n", path);
    if (tep_device_cert_path(c->dev, "key", path, sizeof(path)) == 0)
        printf("KEY=%s\n", path);
    if (tep_device_cert_path(c->dev, "ca", path, sizeof(path)) == 0)
        printf("TRUST_ANCHOR=%s\n", path);
    return EXIT_OK;
}

/* The MAF-based SAEF (TS-0003 8.2.2.3): Kc for the registrar CSE from the MAF, the
 * connection opened with it, then the same steps as run. */
static int do_maf_run(ctx *c, const char *maf_uri, long lifetime, bool cert)
{
    tep_kc *kc = NULL;
    int rc = EXIT_OK;

    if (!tep_device_is_enrolled(c->dev) && (rc = do_enrol(c)) != EXIT_OK)
        return rc;
    if (cert)
        rc = tep_maf_register_key_cert(c->dev, maf_uri, tep_device_registrar_cse_id(c->dev),
                                       lifetime, &kc);
    else
        rc = tep_maf_register_key(c->dev, maf_uri, tep_device_registrar_cse_id(c->dev), lifetime,
                                  &kc);
    if (rc < 0)
        return fail("MAF key registration", rc);
    printf("KC_ID=%s\nKC_EXPIRES=%" PRId64 "\n", tep_kc_key_id(kc), tep_kc_expires(kc));
    rc = tep_connect_kc(c->dev, kc, NULL, &c->conn);
    tep_kc_free(kc);
    if (rc < 0)
        return fail("connect to the registrar CSE with Kc", rc);
    tep_conn_set_timeout(c->conn, c->timeout_ms);
    return do_run(c);
}

/* The certificate SAEF: connect with the key and certificate of `cert`, then as run. */
static int do_cert_run(ctx *c)
{
    int rc;

    if (!tep_device_is_enrolled(c->dev)) {
        fprintf(stderr, "tep-device: not enrolled (run `cert` first)\n");
        return EXIT_USAGE;
    }
    if ((rc = tep_connect_cert(c->dev, &c->conn)) < 0)
        return fail("connect to the registrar CSE with the certificate", rc);
    tep_conn_set_timeout(c->conn, c->timeout_ms);
    return do_run(c);
}

static int cmd_maf_run(ctx *c, int argc, char **argv)
{
    const char *maf_uri = NULL;
    long lifetime = 0;
    bool cert = false;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--maf-uri") == 0 && i + 1 < argc)
            maf_uri = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0)
            cert = true;
        else if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            lifetime = atol(argv[++i]);
        else
            return usage(stderr), EXIT_USAGE;
    }
    return do_maf_run(c, maf_uri, lifetime, cert);
}

/* MEF procedures (TS-0003 8.3.5.2): a usage-constrained key for TARGET (a CSE-ID other
 * than the registrar), the SAEF to that CSE at URI with it, and an AE registered under
 * its CSEBase CSE_NAME. */
static int mef_connect(ctx *c, tep_kc *kc, const char *uri, const char *cse_name)
{
    const char *app = tep_device_app_id(c->dev);
    tep_response *rsp = NULL;
    char body[600];
    int rc = tep_connect_kc(c->dev, kc, uri, &c->conn);

    tep_kc_free(kc);
    if (rc < 0)
        return fail("connect to the target with the MEF key", rc);
    tep_conn_set_timeout(c->conn, c->timeout_ms);
    snprintf(body, sizeof(body),
             "{\"m2m:ae\":{\"rn\":\"%s\",\"api\":\"%s\",\"rr\":false,\"srv\":[\"3\"]}}",
             tep_device_enrolee_id(c->dev), app != NULL && app[0] ? app : TEP_DEFAULT_APP_ID);
    if ((rc = tep_request(c->conn, TEP_OP_CREATE, cse_name, TEP_TY_AE, body, NULL, &rsp)) < 0)
        return fail("AE registration at the target", rc);
    printf("RSC=%u\n", rsp->rsc);
    /* registered before (4105 name taken, 4117 already registered): the SA works */
    rc = rsc_ok(rsp) || rsp->rsc == 4105 || rsp->rsc == 4117 ? EXIT_OK
                                                             : rsc_exit("AE registration", rsp);
    tep_response_free(rsp);
    return rc;
}

static int do_mef_run(ctx *c, const char *target, const char *uri, const char *cse_name,
                      unsigned suid, long lifetime, bool registered)
{
    tep_kc *kc = NULL;
    int rc = registered ? tep_mef_key(c->dev, suid, target, &kc)
                        : tep_mef_register_key(c->dev, suid, target, lifetime, &kc);

    if (rc < 0)
        return fail(registered ? "MEF key" : "MEF key registration", rc);
    printf("KEY_ID=%s\nMEF_CLIENT_REG_ID=%s\nKEY_EXPIRES=%" PRId64 "\n", tep_kc_key_id(kc),
           tep_kc_client_reg_id(kc), tep_kc_expires(kc));
    return mef_connect(c, kc, uri, cse_name);
}

static int cmd_mef(ctx *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    unsigned suid = 22;
    long lifetime = 0;
    int n = argc;
    tep_kc *kc = NULL;
    int64_t exp = 0;
    int rc;

    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--suid") == 0 && atoi(argv[i + 1]) > 0)
            suid = (unsigned)atoi(argv[i + 1]), n = n < i ? n : i;
        else if (strcmp(argv[i], "--lifetime") == 0 && atol(argv[i + 1]) > 0)
            lifetime = atol(argv[i + 1]), n = n < i ? n : i;
    }
    if ((strcmp(cmd, "mef-run") == 0 || strcmp(cmd, "mef-connect") == 0) && n == 4)
        return do_mef_run(c, argv[1], argv[2], argv[3], suid, lifetime,
                          strcmp(cmd, "mef-connect") == 0);
    if (strcmp(cmd, "mef-deregister-key") == 0 && n == 2) {
        rc = tep_mef_key(c->dev, suid, argv[1], &kc);
        if (rc == 0)
            rc = tep_mef_deregister_key(c->dev, kc);
        tep_kc_free(kc);
        return rc < 0 ? fail("MEF key de-registration", rc) : EXIT_OK;
    }
    if (strcmp(cmd, "mef-update-key") == 0 && n == 2 && lifetime > 0) {
        rc = tep_mef_key(c->dev, suid, argv[1], &kc);
        if (rc == 0)
            rc = tep_mef_update_key(c->dev, kc, lifetime);
        if (rc == 0)
            printf("KEY_ID=%s\nKEY_EXPIRES=%" PRId64 "\n", tep_kc_key_id(kc), tep_kc_expires(kc));
        tep_kc_free(kc);
        return rc < 0 ? fail("MEF key registration update", rc) : EXIT_OK;
    }
    if (strcmp(cmd, "mef-deregister-client") == 0 && n == 2) {
        rc = tep_mef_deregister_client(c->dev, argv[1]);
        return rc < 0 ? fail("MEF client de-registration", rc) : EXIT_OK;
    }
    if (strcmp(cmd, "mef-update-client") == 0 && n == 2 && lifetime > 0) {
        rc = tep_mef_update_client(c->dev, argv[1], lifetime, &exp);
        if (rc < 0)
            return fail("MEF client registration update", rc);
        printf("EXPIRES=%" PRId64 "\n", exp);
        return EXIT_OK;
    }
    usage(stderr);
    return EXIT_USAGE;
}

/* Dynamic authorization, indirect flow (TS-0003 7.3.2.3): a token for ACOP on PATH from
 * the MAF/DAS (DTLS-PSK with Km); present TOKEN_ID as `retrieve "PATH?tids=TOKEN_ID"`. */
static int cmd_token(ctx *c, int argc, char **argv)
{
    const char *maf_uri = NULL;
    char target[1024];
    const char *ris[1] = {target};
    tep_token *tok = NULL;
    long acop;
    int rc;

    if (argc == 4 && strcmp(argv[2], "--maf-uri") == 0)
        maf_uri = argv[3];
    else if (argc != 2)
        return usage(stderr), EXIT_USAGE;
    acop = atol(argv[1]);
    if (acop < 1 || acop > 63)
        return usage(stderr), EXIT_USAGE;
    snprintf(target, sizeof(target), "/%s", argv[0][0] == '/' ? argv[0] + 1 : argv[0]);
    if ((rc = tep_token_request(c->dev, maf_uri, ris, 1, (unsigned)acop, 0, &tok)) < 0)
        return fail("token request", rc);
    printf("TOKEN_ID=%s\nHOLDER=%s\nTOKEN_EXPIRES=%" PRId64 "\n", tok->id, tok->holder,
           tok->expires);
    tep_token_free(tok);
    return EXIT_OK;
}

/* Wall-clock milliseconds: other processes (tests) compare them with their own clock. */
static long long wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One session, COUNT retrieves: what a live session sees when its credential is
 * revoked meanwhile (TS-0003 10.7). */
static int do_poll(ctx *c, const char *path, int interval_ms, int count)
{
    int ex = do_connect(c);

    for (int i = 0; ex == EXIT_OK && i < count; i++) {
        tep_response *rsp = NULL;
        int rc = tep_request(c->conn, TEP_OP_RETRIEVE, path, 0, NULL, c->from, &rsp);

        if (rc < 0) {
            printf("AT=%lld ERR=%s\n", wall_ms(), tep_strerror(rc));
            ex = EXIT_CONN;
        } else {
            printf("AT=%lld RSC=%u\n", wall_ms(), rsp->rsc);
            ex = rsc_ok(rsp) ? EXIT_OK : EXIT_ONEM2M;
        }
        tep_response_free(rsp);
        if (ex == EXIT_OK && i + 1 < count)
            nanosleep(&(struct timespec){interval_ms / 1000, (interval_ms % 1000) * 1000000L},
                      NULL);
    }
    return ex;
}

/* ---- command line ------------------------------------------------------------------- */

static int cmd_register(ctx *c, int argc, char **argv)
{
    const char *app_id = NULL, *rn = NULL;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--app-id") == 0 && i + 1 < argc)
            app_id = argv[++i];
        else if (strcmp(argv[i], "--rn") == 0 && i + 1 < argc)
            rn = argv[++i];
        else
            return usage(stderr), EXIT_USAGE;
    }
    return do_register(c, app_id, rn, false);
}

/* ---- ESData (TS-0003 8.5) ------------------------------------------------------------- */

typedef struct {
    tep_e2e_key *key;
    const char *maf_target; /* protect: a key registered at the MAF for this target */
    const char *mef_target; /* protect: a key registered at the MEF (Kuc) for this target */
    bool maf;               /* open: the key the object names, from the MAF */
    bool mef;               /* open: the key the object names, from the MEF */
    bool kpsa;              /* the pair (this device, its registrar CSE): from Kpsa */
    bool sign_cert;
    const char *ca;
    char ca_default[4096];
} e2e_opts;

static int e2e_parse(ctx *c, int argc, char **argv, e2e_opts *o)
{
    const char *hex = NULL, *kid = NULL, *b_id = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            hex = argv[++i];
        else if (strcmp(argv[i], "--kid") == 0 && i + 1 < argc)
            kid = argv[++i];
        else if (strcmp(argv[i], "--b-id") == 0 && i + 1 < argc)
            b_id = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
            o->ca = argv[++i];
        else if (strcmp(argv[i], "--sign-cert") == 0)
            o->sign_cert = true;
        else if (strcmp(argv[i], "--maf-target") == 0 && i + 1 < argc)
            o->maf_target = argv[++i];
        else if (strcmp(argv[i], "--maf") == 0)
            o->maf = true;
        else if (strcmp(argv[i], "--mef-target") == 0 && i + 1 < argc)
            o->mef_target = argv[++i];
        else if (strcmp(argv[i], "--mef") == 0)
            o->mef = true;
        else if (strcmp(argv[i], "--kpsa") == 0)
            o->kpsa = true;
        else
            return usage(stderr), EXIT_USAGE;
    }
    if (o->kpsa && (rc = tep_e2e_key_from_kpsa(c->dev, &o->key)) < 0)
        return fail("end-to-end key from Kpsa", rc);
    if (o->ca == NULL &&
        tep_device_cert_path(c->dev, "ca", o->ca_default, sizeof(o->ca_default)) == 0)
        o->ca = o->ca_default;
    if ((hex != NULL || kid != NULL || b_id != NULL) &&
        (rc = tep_e2e_key_from_hex(hex, kid, b_id, &o->key)) < 0)
        return fail("end-to-end key (--key, --kid, --b-id)", rc);
    return EXIT_OK;
}

static int e2e_class(const char *name)
{
    if (strcmp(name, "enc") == 0)
        return TEP_ESDATA_ENCRYPT;
    if (strcmp(name, "sign") == 0)
        return TEP_ESDATA_SIGN;
    if (strcmp(name, "sign-enc") == 0)
        return TEP_ESDATA_SIGN_ENCRYPT;
    return 0;
}

static const char *class_name(int cls)
{
    return cls == TEP_ESDATA_ENCRYPT ? "enc" : cls == TEP_ESDATA_SIGN ? "sign" : "sign-enc";
}

/* CLASS VALUE E2E...: the object in *ret (malloc'd). */
static int e2e_protect(ctx *c, int argc, char **argv, char **ret)
{
    e2e_opts o = {0};
    int cls = argc >= 2 ? e2e_class(argv[0]) : 0;
    int rc = cls ? e2e_parse(c, argc - 2, argv + 2, &o) : (usage(stderr), EXIT_USAGE);

    if (rc == EXIT_OK && o.maf_target != NULL && o.key == NULL) {
        tep_kc *kc = NULL;

        rc = tep_maf_register_e2e_key(c->dev, NULL, cls == TEP_ESDATA_SIGN ? 35 : 34, o.maf_target,
                                      0, &kc);
        if (rc == 0)
            rc = tep_e2e_key_from_kc(kc, &o.key);
        if (rc == 0)
            printf("KEY_ID=%s\n", tep_kc_key_id(kc));
        tep_kc_free(kc);
        rc = rc < 0 ? fail("end-to-end key registration at the MAF", rc) : EXIT_OK;
    }
    if (rc == EXIT_OK && o.mef_target != NULL && o.key == NULL) {
        tep_kc *kc = NULL;

        /* TS-0003 8.6.2 with 8.3.5.2.7: Kuc for the ESData SUID of the class */
        rc = tep_mef_register_key(c->dev, cls == TEP_ESDATA_SIGN ? 25 : 24, o.mef_target, 0, &kc);
        if (rc == 0)
            rc = tep_e2e_key_from_kc(kc, &o.key);
        if (rc == 0)
            printf("KEY_ID=%s\n", tep_kc_key_id(kc));
        tep_kc_free(kc);
        rc = rc < 0 ? fail("end-to-end key registration at the MEF", rc) : EXIT_OK;
    }
    if (rc == EXIT_OK) {
        rc = tep_esdata_protect(cls, o.key, o.sign_cert ? c->dev : NULL, (const uint8_t *)argv[1],
                                strlen(argv[1]), ret);
        rc = rc < 0 ? fail("ESData protection", rc) : EXIT_OK;
    }
    tep_e2e_key_free(o.key);
    return rc;
}

static int e2e_open(ctx *c, const char *object, int argc, char **argv)
{
    e2e_opts o = {0};
    tep_esdata *d = NULL;
    int rc = e2e_parse(c, argc, argv, &o);
    char kid[512];

    if (rc == EXIT_OK && o.maf && o.key == NULL) {
        rc = tep_esdata_kid(object, kid, sizeof(kid));
        if (rc == 0)
            rc = tep_maf_retrieve_e2e_key(c->dev, NULL, kid, &o.key);
        rc = rc < 0 ? fail("end-to-end key retrieval from the MAF", rc) : EXIT_OK;
    }
    if (rc == EXIT_OK && o.mef && o.key == NULL) {
        rc = tep_esdata_kid(object, kid, sizeof(kid));
        if (rc == 0)
            rc = tep_mef_retrieve_e2e_key(c->dev, kid, &o.key);
        rc = rc < 0 ? fail("end-to-end key retrieval from the MEF", rc) : EXIT_OK;
    }
    if (rc == EXIT_OK && (rc = tep_esdata_open(object, o.key, o.ca, &d)) < 0)
        rc = fail("ESData open", rc);
    else if (rc == EXIT_OK)
        printf("CLASS=%s\nSIGNER=%s\nVALUE=%s\n", class_name(d->cls),
               d->signer != NULL ? d->signer : "", (const char *)d->data);
    tep_esdata_free(d);
    tep_e2e_key_free(o.key);
    return rc;
}

static int cmd_esdata(ctx *c, const char *cmd, int argc, char **argv)
{
    char *object = NULL;
    int rc;

    if (strcmp(cmd, "esdata-protect") == 0) {
        if ((rc = e2e_protect(c, argc, argv, &object)) == EXIT_OK)
            printf("OBJECT=%s\n", object);
    } else if (strcmp(cmd, "esdata-put") == 0 && argc >= 3) {
        if ((rc = e2e_protect(c, argc - 1, argv + 1, &object)) == EXIT_OK)
            rc = do_create_cin(c, argv[0], object, NULL, 0);
    } else if (strcmp(cmd, "esdata-open") == 0 && argc >= 1) {
        rc = e2e_open(c, argv[0], argc - 1, argv + 1);
    } else if (strcmp(cmd, "esdata-get") == 0 && argc >= 1) {
        tep_response *rsp = request(c, TEP_OP_RETRIEVE, argv[0], 0, NULL, &rc);
        json_t *root = rsp != NULL ? json_loadb(rsp->body, rsp->body_len, 0, NULL) : NULL;
        const char *con =
            json_string_value(json_object_get(json_object_get(root, "m2m:cin"), "con"));

        if (rsp != NULL && (rc = rsc_exit("retrieve", rsp)) == EXIT_OK && con == NULL)
            rc = fail("retrieve: no con in the answer", TEP_EPROTO);
        else if (rsp != NULL && rc == EXIT_OK)
            rc = (printf("OBJECT=%s\n", con), e2e_open(c, con, argc - 1, argv + 1));
        json_decref(root);
        tep_response_free(rsp);
    } else {
        return usage(stderr), EXIT_USAGE;
    }
    free(object);
    return rc;
}

/* ---- ESPrim (TS-0003 8.4) --------------------------------------------------------------- */

typedef struct {
    int op;
    const char *to, *pc, *plain;
    const char *cse; /* the Receiver's CSE-ID (--cse; NULL: the registrar) */
    const char *ae;  /* --to-ae: the Receiver is this AE (its resource path), not a CSE */
    unsigned ty;
    long count;
    bool maf;        /* the pairwise key from the MAF (SUID 33) instead of Kpsa */
    bool mef;        /* ... from the MEF (SUID 23, Kuc of MEF Key Registration) */
    bool escertke;   /* ... from ESCertKE with the registrar (TS-0003 8.7) */
    bool show_outer; /* print each outer NOTIFY body (OUTER_BODY=, JOSE text only) */
} esprim_args;

static int esprim_parse(int argc, char **argv, esprim_args *a)
{
    static const char *const ops[] = {"", "create", "retrieve", "update", "delete"};

    a->count = 1;
    for (int i = 1; i < 5 && argc > 0; i++)
        if (strcmp(argv[0], ops[i]) == 0)
            a->op = i;
    if (argc < 2 || a->op == 0)
        return -1;
    a->to = argv[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--ty") == 0 && i + 1 < argc)
            a->ty = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--pc") == 0 && i + 1 < argc)
            a->pc = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            a->count = atol(argv[++i]);
        else if (strcmp(argv[i], "--plain") == 0 && i + 1 < argc)
            a->plain = argv[++i];
        else if (strcmp(argv[i], "--maf") == 0)
            a->maf = true;
        else if (strcmp(argv[i], "--mef") == 0)
            a->mef = true;
        else if (strcmp(argv[i], "--escertke") == 0)
            a->escertke = true;
        else if (strcmp(argv[i], "--show-outer") == 0)
            a->show_outer = true;
        else if (strcmp(argv[i], "--to-ae") == 0 && i + 1 < argc &&
                 strchr(argv[i + 1], '/') != NULL)
            a->ae = argv[++i];
        else if (strcmp(argv[i], "--cse") == 0 && i + 1 < argc && argv[i + 1][0] == '/')
            a->cse = argv[++i];
        else
            return -1;
    }
    return 0;
}

/* NOTIFY body to the Receiver's CSEBase (the registrar's by name, another CSE's
 * SP-relative through the registrar); the answer's m2m:seci (new reference) or NULL. */
static json_t *esprim_notify(ctx *c, const esprim_args *a, const char *body, unsigned *ret_rsc,
                             int *ret_exit)
{
    const char *cse = tep_device_registrar_cse_id(c->dev);
    char to[256];
    tep_response *rsp = NULL;
    json_t *root, *seci = NULL;
    int rc;

    if (a->ae != NULL) /* End-Point B an AE: its registrar relays the NOTIFY to it */
        snprintf(to, sizeof(to), "%s", a->ae);
    else if (a->cse != NULL && strcmp(a->cse, cse) != 0)
        snprintf(to, sizeof(to), "~%s/-", a->cse);
    else
        snprintf(to, sizeof(to), "%s", cse + 1);
    rc = tep_request(c->conn, TEP_OP_NOTIFY, to, 0, body, NULL, &rsp);

    if (rc < 0) {
        *ret_exit = fail("ESPrim request", rc);
        return NULL;
    }
    *ret_rsc = rsp->rsc;
    printf("OUTER_RSC=%u\n", rsp->rsc);
    root = json_loadb(rsp->body, rsp->body_len, 0, NULL);
    if (rsp->rsc == 2000 && (seci = json_object_get(root, "m2m:seci")) != NULL)
        json_incref(seci);
    else
        fprintf(stderr, "tep-device: ESPrim: rsc=%u %s\n", rsp->rsc, rsp->body);
    json_decref(root);
    tep_response_free(rsp);
    *ret_exit = seci != NULL ? EXIT_OK : EXIT_ONEM2M;
    return seci;
}

static char *inner_request(ctx *c, const esprim_args *a, long n)
{
    char rqi[32], sp[256];
    const char *fr = c->from != NULL ? c->from : tep_device_enrolee_id(c->dev);
    const char *reg = tep_device_registrar_cse_id(c->dev);
    json_t *o, *pc = a->pc != NULL ? json_loads(a->pc, 0, NULL) : NULL;
    char *s;

    snprintf(rqi, sizeof(rqi), "esprim-%ld", n);
    /* at a CSE other than its registrar the AE is known by its SP-relative AE-ID (the
     * inner request is end to end: no transit CSE rewrites its From) */
    if (a->cse != NULL && strcmp(a->cse, reg) != 0 && fr[0] != '/') {
        snprintf(sp, sizeof(sp), "%s/%s", reg, fr);
        fr = sp;
    }
    o = json_pack("{s:i,s:s,s:s,s:s,s:s}", "op", a->op, "to", a->to, "fr", fr, "rqi", rqi, "rvi",
                  "3");
    if (o != NULL && a->ty)
        json_object_set_new(o, "ty", json_integer(a->ty));
    if (o != NULL && pc != NULL)
        json_object_set_new(o, "pc", pc);
    s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* One inner request in session s: its answer printed (RSC=, BODY=). */
static int esprim_one(ctx *c, tep_esprim *s, const esprim_args *a, long n)
{
    char *inner = inner_request(c, a, n), *outer = NULL, *answer = NULL, *text;
    int rc = inner != NULL ? tep_esprim_protect(s, inner, &outer) : TEP_ENOMEM, ex = EXIT_OK;
    unsigned rsc = 0;
    json_t *seci;
    json_t *w;
    json_t *prim;

    if (rc == 0 && a->show_outer)
        printf("OUTER_BODY=%s\n", outer);
    seci = rc == 0 ? esprim_notify(c, a, outer, &rsc, &ex) : NULL;

    /* a MAF or MEF key the Receiver has not got yet: 4112 until it has (about a second) */
    for (int tries = 0; (a->maf || a->mef) && seci == NULL && rsc == 4112 && tries < 30; tries++) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};

        nanosleep(&ts, NULL);
        seci = esprim_notify(c, a, outer, &rsc, &ex);
    }
    w = seci != NULL ? json_pack("{s:O}", "m2m:seci", seci) : NULL;
    prim = NULL;

    if (rc < 0)
        ex = fail("ESPrim protection", rc);
    text = w != NULL ? json_dumps(w, JSON_COMPACT) : NULL;
    if (text != NULL && (rc = tep_esprim_open(s, text, &answer)) < 0)
        ex = fail("ESPrim answer", rc);
    else if (text != NULL) {
        tep_esprim_sent(s);
        prim = json_loads(answer, 0, NULL);
        printf("RSC=%d\n", (int)json_integer_value(json_object_get(prim, "rsc")));
        if (json_object_get(prim, "pc") != NULL) {
            char *b = json_dumps(json_object_get(prim, "pc"), JSON_COMPACT);

            printf("BODY=%s\n", b != NULL ? b : "");
            free(b);
        }
        ex = json_integer_value(json_object_get(prim, "rsc")) < 3000 ? EXIT_OK : EXIT_ONEM2M;
    }
    json_decref(prim);
    free(text);
    json_decref(w);
    json_decref(seci);
    free(answer);
    free(outer);
    free(inner);
    return ex;
}

static int cmd_esprim(ctx *c, int argc, char **argv)
{
    esprim_args a = {0};
    tep_esprim *s = NULL;
    json_t *seci, *ero;
    char *rand_json = NULL;
    unsigned rsc = 0;
    int ex, rc;
    tep_e2e_key *ck;

    if (esprim_parse(argc, argv, &a) != 0 || (a.cse != NULL && !a.escertke && !a.mef) ||
        (a.maf + a.mef + a.escertke) > 1 ||
        (a.ae != NULL && ((!a.mef && !a.escertke) || a.cse != NULL)))
        return usage(stderr), EXIT_USAGE;
    if (a.plain != NULL) {
        if ((rc = tep_conn_plain(a.plain, c->from != NULL ? c->from : tep_device_enrolee_id(c->dev),
                                 &c->conn)) < 0)
            return fail("plain CoAP", rc);
        tep_conn_set_timeout(c->conn, c->timeout_ms);
    } else if ((ex = do_connect(c)) != EXIT_OK) {
        return ex;
    }
    ck = NULL;
    if (a.escertke) { /* the pairwise key first, by a tunnelled TLS handshake */
        rc = a.ae != NULL ? tep_escertke_ae(c->conn, c->dev, a.ae, &ck)
                          : tep_escertke_cse(c->conn, c->dev, a.cse, &ck);
        if (rc < 0)
            return fail("ESCertKE", rc);
        printf("ESCERTKE_KID=%s\n", tep_e2e_key_id(ck));
    }
    seci = esprim_notify(c, &a, "{\"m2m:seci\":{\"sit\":3}}", &rsc, &ex); /* B.2d */
    ero = json_object_get(seci, "ero");
    rand_json = ero != NULL ? json_dumps(ero, JSON_COMPACT) : NULL;
    if (rand_json != NULL) /* ero is seci's: printed before seci goes */
        printf("RRI=%s\n", json_string_value(json_object_get(ero, "esri")) ?: "");
    json_decref(seci);
    if (rand_json == NULL) {
        tep_e2e_key_free(ck);
        return ex != EXIT_OK ? ex : fail("receiver rand object", TEP_EPROTO);
    }
    if (ck != NULL) {
        rc = tep_esprim_new_e2e(ck, rand_json, 600, &s);
        tep_e2e_key_free(ck);
    } else if (a.maf) {
        tep_kc *kc = NULL;

        rc =
            tep_maf_register_e2e_key(c->dev, NULL, 33, tep_device_registrar_cse_id(c->dev), 0, &kc);
        if (rc == 0) {
            printf("KEY_ID=%s\n", tep_kc_key_id(kc));
            rc = tep_esprim_new_kc(kc, rand_json, 600, &s);
        }
        tep_kc_free(kc);
    } else if (a.mef) {
        tep_kc *kc = NULL;

        /* SUID 23 for the Receiver: the registrar, --cse (reached through it), or the AE
         * of --to-ae (its AE-ID, the path's last segment: End-Point-B-ID) */
        const char *b = a.ae != NULL    ? strrchr(a.ae, '/') + 1
                        : a.cse != NULL ? a.cse
                                        : tep_device_registrar_cse_id(c->dev);

        rc = tep_mef_register_key(c->dev, 23, b, 0, &kc);
        if (rc == 0) {
            printf("KEY_ID=%s\n", tep_kc_key_id(kc));
            rc = tep_esprim_new_kc(kc, rand_json, 600, &s);
        }
        tep_kc_free(kc);
    } else {
        rc = tep_esprim_new(c->dev, rand_json, 600, &s);
    }
    free(rand_json);
    if (rc < 0)
        return fail("ESPrim session", rc);
    ex = EXIT_OK;
    for (long n = 0; n < a.count && ex == EXIT_OK; n++)
        ex = esprim_one(c, s, &a, n);
    tep_esprim_free(s);
    return ex;
}

/* ---- notifications over DTLS (SA2) ------------------------------------------------ */

typedef struct {
    const char *uri;
    long count;   /* notifications to wait for (verification requests not counted) */
    long wait_ms; /* in all */
    bool cert;    /* --cert: the tep certificate too (tep_listen_cert, tep_connect_cert) */
} listen_args;

static int parse_listen(int argc, char **argv, int first, listen_args *a)
{
    a->count = 1;
    a->wait_ms = 30000;
    a->cert = false;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            a->count = atol(argv[++i]);
        else if (strcmp(argv[i], "--wait-ms") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            a->wait_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--cert") == 0)
            a->cert = true;
        else
            return -1;
    }
    return 0;
}

static void print_notification(const tep_notification *n)
{
    json_t *root = json_loadb(n->body, n->body_len, 0, NULL);
    json_t *rep = json_object_get(json_object_get(json_object_get(root, "m2m:sgn"), "nev"), "rep");
    const char *con = json_string_value(json_object_get(json_object_get(rep, "m2m:cin"), "con"));

    printf("NOTIFY_FROM=%s\nNOTIFY_IDENTITY=%s\nNOTIFY_VRQ=%d\n", n->from, n->identity,
           n->verification);
    if (con != NULL)
        printf("NOTIFY_CON=%s\n", con);
    if (strchr(n->body, '\n') == NULL)
        printf("NOTIFY_BODY=%s\n", n->body);
    json_decref(root);
}

/* Prints what l receives until a->count notifications came or a->wait_ms passed. */
static int wait_notifications(tep_listener *l, const listen_args *a)
{
    struct timespec t0, t;
    long got = 0, left;
    tep_notification *n;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < a->count) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        left = a->wait_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0 || tep_listener_next(l, (int)left, &n) != TEP_OK)
            break;
        print_notification(n);
        got += !n->verification;
        tep_notification_free(n);
    }
    printf("NOTIFICATIONS=%ld\nREFUSED=%lu\n", got, tep_listener_refused(l));
    if (got < a->count) {
        fprintf(stderr, "tep-device: %ld of %ld notifications in %ld ms\n", got, a->count,
                a->wait_ms);
        return EXIT_CONN;
    }
    return EXIT_OK;
}

static int open_listener(ctx *c, const char *uri, bool cert, tep_listener **ret)
{
    int rc;

    if (!tep_device_is_enrolled(c->dev)) {
        fprintf(stderr, "tep-device: not enrolled (run `enrol` first)\n");
        return EXIT_USAGE;
    }
    rc = cert ? tep_listen_cert(c->dev, uri, ret) : tep_listen(c->dev, uri, NULL, ret);
    if (rc < 0)
        return fail("listen", rc);
    printf("LISTENING=%s\n", uri);
    return EXIT_OK;
}

/* ---- an AE as the ESPrim Receiver (End-Point B) ------------------------------------- */

typedef struct {
    ctx *c;
    long served; /* inner requests answered (the listener's thread counts, atomically) */
} serve_state;

/* The key of a kid met for the first time: MEF Key Retrieval (SUID 23 for this AE). */
static int serve_key(const char *kid, void *arg, tep_e2e_key **ret_key)
{
    serve_state *s = arg;

    return tep_mef_retrieve_e2e_key(s->c->dev, kid, ret_key);
}

/* Each inner request is printed (INNER=) and answered 2000 with a contentInstance whose
 * con names this AE. */
static int serve_inner(const char *inner, void *arg, char **ret)
{
    serve_state *s = arg;
    char con[300];
    json_t *o;

    snprintf(con, sizeof(con), "served-by-%s", tep_device_enrolee_id(s->c->dev));
    o = json_pack("{s:i,s:s,s:{s:{s:s}}}", "rsc", 2000, "fr", tep_device_enrolee_id(s->c->dev),
                  "pc", "m2m:cin", "con", con);
    *ret = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    printf("INNER=%s\n", inner);
    fflush(stdout);
    __atomic_add_fetch(&s->served, 1, __ATOMIC_SEQ_CST);
    return *ret != NULL ? 0 : TEP_ENOMEM;
}

/* esprim-serve URI [--count N] [--wait-ms MS]: a listener on URI (announce it with
 * update-poa) answering ESPrim exchanges relayed by the registrar, until N inner requests
 * were answered. */
static int cmd_esprim_serve(ctx *c, int argc, char **argv)
{
    serve_state st = {c, 0};
    tep_esprim_receiver *r = NULL;
    tep_listener *l = NULL;
    struct timespec t0, t, nap = {0, 50 * 1000000L};
    listen_args a;
    int rc;

    if (argc < 1 || parse_listen(argc, argv, 1, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((rc = open_listener(c, argv[0], false, &l)) != EXIT_OK)
        return rc;
    if ((rc = tep_esprim_receiver_new(serve_key, &st, serve_inner, &st, &r)) < 0 ||
        (a.cert && (rc = tep_esprim_receiver_set_escertke(r, c->dev)) < 0)) {
        tep_esprim_receiver_free(r);
        tep_listener_free(l);
        return fail("ESPrim receiver", rc);
    }
    tep_listener_set_esprim(l, r);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (__atomic_load_n(&st.served, __ATOMIC_SEQ_CST) >= a.count ||
            (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > a.wait_ms)
            break;
        nanosleep(&nap, NULL);
    }
    tep_listener_free(l); /* its thread stopped: r is no longer used */
    tep_esprim_receiver_free(r);
    printf("SERVED=%ld\n", st.served);
    return st.served >= a.count ? EXIT_OK : EXIT_CONN;
}

/* listen URI [--count N] [--wait-ms MS] */
static int cmd_listen(ctx *c, int argc, char **argv)
{
    listen_args a;
    tep_listener *l = NULL;
    int rc;

    if (argc < 1 || parse_listen(argc, argv, 1, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((rc = open_listener(c, argv[0], a.cert, &l)) != EXIT_OK)
        return rc;
    rc = wait_notifications(l, &a);
    tep_listener_free(l);
    return rc;
}

/* watch CNT URI [--count N] [--wait-ms MS]: a listener on URI, a subscription to the
 * AE's container CNT (creation of a child, net 3) with nu [URI], then as listen. */
static int cmd_watch(ctx *c, int argc, char **argv)
{
    char parent[1024];
    listen_args a;
    tep_listener *l = NULL;
    const char *ae;
    json_t *sub;
    int rc;

    if (argc < 2 || parse_listen(argc, argv, 2, &a) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if ((ae = ae_path(c)) == NULL)
        return EXIT_USAGE;
    if (snprintf(parent, sizeof(parent), "%s/%s", ae, argv[0]) >= (int)sizeof(parent))
        return fail("watch", TEP_ERANGE);
    if ((rc = open_listener(c, argv[1], a.cert, &l)) != EXIT_OK)
        return rc;
    /* --cert: the subscription over the certificate SAEF, the AE's newest session (its
     * SA2 then uses certificates too) */
    if (a.cert && (rc = tep_connect_cert(c->dev, &c->conn)) < 0) {
        tep_listener_free(l);
        return fail("connect to the registrar CSE with the certificate", rc);
    }
    sub = json_pack("{s:{s:[s],s:{s:[i]}}}", "m2m:sub", "nu", argv[1], "enc", "net", 3);
    rc = create(c, parent, 23, sub, false, NULL, 0);
    if (rc == EXIT_OK) {
        printf("SUBSCRIBED=%s\n", parent);
        rc = wait_notifications(l, &a);
    }
    tep_listener_free(l);
    return rc;
}

/* subscribe [--cert] CNT NU...: a subscription to the AE's container CNT (net 3) with
 * nu; --cert: over the certificate SAEF. */
static int cmd_subscribe(ctx *c, int argc, char **argv)
{
    char parent[1024];
    const char *ae = ae_path(c);
    json_t *nu;
    int rc;

    if (argc >= 3 && strcmp(argv[0], "--cert") == 0) {
        if (ae != NULL && (rc = tep_connect_cert(c->dev, &c->conn)) < 0)
            return fail("connect to the registrar CSE with the certificate", rc);
        argc--;
        argv++;
    }
    nu = json_array();

    if (ae == NULL || nu == NULL)
        return ae == NULL ? EXIT_USAGE : fail("subscribe", TEP_ENOMEM);
    if (snprintf(parent, sizeof(parent), "%s/%s", ae, argv[0]) >= (int)sizeof(parent)) {
        json_decref(nu);
        return fail("subscribe", TEP_ERANGE);
    }
    for (int i = 1; i < argc; i++)
        json_array_append_new(nu, json_string(argv[i]));
    return create(c, parent, 23,
                  json_pack("{s:{s:o,s:{s:[i]}}}", "m2m:sub", "nu", nu, "enc", "net", 3), false,
                  NULL, 0);
}

/* update-poa URI...: the AE's pointOfAccess becomes [URI...]. */
static int cmd_update_poa(ctx *c, int argc, char **argv)
{
    const char *ae = ae_path(c);
    json_t *poa = json_array(), *o;
    tep_response *rsp;
    char *body;
    int rc = EXIT_OK;

    if (ae == NULL || poa == NULL) {
        json_decref(poa);
        return ae == NULL ? EXIT_USAGE : fail("update-poa", TEP_ENOMEM);
    }
    for (int i = 0; i < argc; i++)
        json_array_append_new(poa, json_string(argv[i]));
    o = json_pack("{s:{s:o}}", "m2m:ae", "poa", poa);
    body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL)
        return fail("update-poa", TEP_ENOMEM);
    rsp = request(c, TEP_OP_UPDATE, ae, 0, body, &rc);
    free(body);
    if (rsp == NULL)
        return rc;
    rc = rsc_exit("update-poa", rsp);
    tep_response_free(rsp);
    return rc;
}

static int dispatch(ctx *c, int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "enrol") == 0 && argc == 1)
        return do_enrol(c);
    if (strcmp(cmd, "register") == 0)
        return cmd_register(c, argc - 1, argv + 1);
    if (strcmp(cmd, "create-cnt") == 0 && argc == 2)
        return do_create_cnt(c, argv[1], false);
    if (strcmp(cmd, "create-cin") == 0 && argc == 3)
        return do_create_cin(c, argv[1], argv[2], NULL, 0);
    if (strcmp(cmd, "retrieve") == 0 && argc == 2)
        return do_simple(c, TEP_OP_RETRIEVE, argv[1]);
    if (strcmp(cmd, "grant") == 0 && (argc == 3 || argc == 4)) {
        int acop = argc == 4 ? atoi(argv[3]) : 2;

        if (acop < 1 || acop > 63) {
            fprintf(stderr, "tep-device: grant: ACOP must be 1..63\n");
            return EXIT_USAGE;
        }
        return do_grant(c, argv[1], argv[2], acop);
    }
    if (strcmp(cmd, "delete") == 0 && argc == 2)
        return do_simple(c, TEP_OP_DELETE, argv[1]);
    if (strcmp(cmd, "run") == 0 && argc == 1)
        return do_run(c);
    if (strcmp(cmd, "cert") == 0 && argc == 1)
        return do_cert(c, NULL);
    if (strcmp(cmd, "cert") == 0 && argc == 3 && strcmp(argv[1], "--csr-id") == 0)
        return do_cert(c, argv[2]);
    if (strcmp(cmd, "cert-renew") == 0 && argc == 1)
        return do_cert_renew(c);
    if (strcmp(cmd, "cert-run") == 0 && argc == 1)
        return do_cert_run(c);
    if (strncmp(cmd, "mef-", 4) == 0)
        return cmd_mef(c, argc, argv);
    if (strcmp(cmd, "maf-run") == 0)
        return cmd_maf_run(c, argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(c, argc - 1, argv + 1);
    if (strcmp(cmd, "poll") == 0 && argc == 4 && atoi(argv[2]) >= 0 && atoi(argv[3]) > 0)
        return do_poll(c, argv[1], atoi(argv[2]), atoi(argv[3]));
    if (strcmp(cmd, "esprim") == 0)
        return cmd_esprim(c, argc - 1, argv + 1);
    if (strcmp(cmd, "subscribe") == 0 && argc >= 3)
        return cmd_subscribe(c, argc - 1, argv + 1);
    if (strcmp(cmd, "update-poa") == 0 && argc >= 2)
        return cmd_update_poa(c, argc - 1, argv + 1);
    if (strcmp(cmd, "esprim-serve") == 0)
        return cmd_esprim_serve(c, argc - 1, argv + 1);
    if (strcmp(cmd, "listen") == 0)
        return cmd_listen(c, argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(c, argc - 1, argv + 1);
    if (strncmp(cmd, "esdata-", 7) == 0)
        return cmd_esdata(c, cmd, argc - 1, argv + 1);
    usage(stderr);
    return EXIT_USAGE;
}

static int parse_args(ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"provisioning", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"mef-ca", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;

    while ((o = getopt_long(argc, argv, "+p:s:f:t:h", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            c->prov_path = optarg;
            break;
        case 's':
            c->state_path = optarg;
            break;
        case 'f':
            c->from = optarg;
            break;
        case 't':
            c->timeout_ms = atoi(optarg);
            break;
        case 'c':
            c->cert = optarg;
            break;
        case 'k':
            c->key = optarg;
            break;
        case 'm':
            c->mef_ca = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        default:
            return -1;
        }
    }
    if (c->prov_path == NULL || c->state_path == NULL || optind >= argc || c->timeout_ms < 0)
        return -1;
    if ((c->cert != NULL) != (c->key != NULL) || (c->cert != NULL) != (c->mef_ca != NULL))
        return -1; /* --cert, --key and --mef-ca go together */
    return optind;
}

int main(int argc, char **argv)
{
    ctx c = {.timeout_ms = TEP_DEFAULT_TIMEOUT_MS};
    int first = parse_args(&c, argc, argv);
    int rc;

    if (first < 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if ((rc = tep_device_load(c.prov_path, c.state_path, &c.dev)) < 0) {
        fprintf(stderr, "tep-device: cannot load %s / %s: %s\n", c.prov_path, c.state_path,
                tep_strerror(rc));
        return EXIT_USAGE;
    }
    tep_device_set_timeout(c.dev, c.timeout_ms);
    rc = dispatch(&c, argc - first, argv + first);
    tep_conn_free(c.conn);
    tep_device_free(c.dev);
    return rc;
}
