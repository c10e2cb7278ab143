/* tep-cse configuration table. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmn_bus_peers.h"
#include "cmn_config.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cse_config.h"
#include "cse_target.h"
#include "cse_validate.h"

/* v one of words (NULL-terminated, two at least), else: must be "a", "b" or "c". */
static int one_of(const char *v, const char *const *words, char *err, size_t errlen)
{
    size_t n = 0, len = 0;

    for (; words[n] != NULL; n++)
        if (strcmp(v, words[n]) == 0)
            return 0;
    len = (size_t)snprintf(err, errlen, "must be");
    for (size_t i = 0; i < n && len < errlen; i++)
        len += (size_t)snprintf(err + len, errlen - len, "%s\"%s\"",
                                i == 0       ? " "
                                : i + 1 == n ? " or "
                                             : ", ",
                                words[i]);
    return CMN_EINVAL;
}

static int valid_mode(const char *v, char *err, size_t errlen)
{
    static const char *const words[] = {"remote", "local", NULL};

    return one_of(v, words, err, errlen);
}

/* The CSEBase's resourceName: a resource-name like any other (TS-0004 6.2.4). */
static int valid_name(const char *v, char *err, size_t errlen)
{
    if (cse_validate_rn(v))
        return 0;
    snprintf(err, errlen,
             "must be a resource name: 1..%d of A-Z a-z 0-9 - . _, the first "
             "a letter or digit",
             CSE_VALIDATE_RN_MAX);
    return CMN_EINVAL;
}

/* A setOfAcrs {"acr":[...]} as an ACP's pv takes it (cse_validate_privileges). */
static int valid_pv(const char *v, char *err, size_t errlen)
{
    json_t *pv;
    int rc;

    if (v[0] == '\0')
        return 0;
    pv = json_loads(v, 0, NULL);
    rc = pv != NULL ? cse_validate_privileges(pv, 0) : CMN_EINVAL;
    json_decref(pv);
    if (rc != 0)
        snprintf(err, errlen,
                 "must be a privileges object {\"acr\":[{\"acor\":[...],\"acop\":1..63}]}");
    return rc;
}

static int valid_type(const char *v, char *err, size_t errlen)
{
    static const char *const words[] = {"IN", "MN", NULL};

    return one_of(v, words, err, errlen);
}

/* A pointOfAccess: "coap://HOST:PORT" or "coaps://HOST:PORT", or "" (unset). */
static int valid_poa(const char *v, char *err, size_t errlen)
{
    const char *hp = strncmp(v, "coaps://", 8) == 0  ? v + 8
                     : strncmp(v, "coap://", 7) == 0 ? v + 7
                                                     : NULL;

    if (v[0] == '\0' || (hp != NULL && cmn_cfg_valid_listen(hp, err, errlen) == 0 && hp[0] != '\0'))
        return 0;
    snprintf(err, errlen, "must be coap://HOST:PORT or coaps://HOST:PORT");
    return CMN_EINVAL;
}

static int valid_notify_plain(const char *v, char *err, size_t errlen)
{
    static const char *const words[] = {"loopback", "off", "any", NULL};

    return one_of(v, words, err, errlen);
}

/* The MN-CSE's credential as Entity A of the SAEF with its registrar (TS-0003 8.2.2). */
static int valid_credential(const char *v, char *err, size_t errlen)
{
    static const char *const words[] = {"kpsa", "cert", "maf", NULL};

    return one_of(v, words, err, errlen);
}

static int valid_retrieval(const char *v, char *err, size_t errlen)
{
    static const char *const words[] = {"bus", "coaps", NULL};

    return one_of(v, words, err, errlen);
}

/* The MAF's point of access: "coaps://HOST:PORT", or "" (the enrolment's mpoa). */
static int valid_maf_uri(const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0' ||
        (strncmp(v, "coaps://", 8) == 0 && valid_poa(v, err, errlen) == 0 && v[8] != '\0'))
        return 0;
    snprintf(err, errlen, "must be coaps://HOST:PORT (or empty: the enrolment's MAF)");
    return CMN_EINVAL;
}

static int valid_optional_cse_id(const char *v, char *err, size_t errlen)
{
    return v[0] == '\0' ? 0 : cmn_cfg_valid_cse_id(v, err, errlen);
}

#define S(sec, key, def, field, fn, help)                                                          \
    CMN_CFG_STR_ITEM(cse_config, sec, key, def, field, fn, help)
#define I(sec, key, def, field, min, max, help)                                                    \
    CMN_CFG_INT_ITEM(cse_config, sec, key, def, field, min, max, help)
#define B(sec, key, def, field, help) CMN_CFG_BOOL_ITEM(cse_config, sec, key, def, field, help)

static const cmn_cfg_item table[] = {
    S("cse", "data_dir", NULL, data_dir, cmn_cfg_valid_nonempty, "LMDB store directory"),
    S("cse", "cse_id", "/tep-cse", cse_id, cmn_cfg_valid_cse_id, "SP-relative CSE-ID"),
    S("cse", "cse_name", "tep-cse", cse_name, valid_name, "CSEBase resource name"),
    S("cse", "coap_listen", "", coap_listen, cmn_cfg_valid_listen,
      "plain CoAP host:port, empty = off (From is trusted there: loopback only)"),
    S("cse", "coaps_listen", "127.0.0.1:5684", coaps_listen, cmn_cfg_valid_listen,
      "CoAPS (DTLS-PSK, KpsaID/Kpsa) host:port"),
    S("cse", "local_targets", "", local_targets, cse_targets_valid,
      "loopback/link-local prefixes a nu, an AE's poa or a registree's coap:// poa may "
      "point into (\"127.0.0.0/8, ::1\"); empty = none (cse_target.h)"),
    S("cse", "admin_originator", "CAdmin", admin_originator, cmn_cfg_valid_nonempty,
      "originator with admin rights (plain CoAP, or CoAPS with the admin PSK)"),
    S("cse", "admin_psk_identity", "", admin_psk_identity, NULL,
      "DTLS PSK identity of the admin credential, empty = none"),
    S("cse", "admin_psk_file", "", admin_psk_file, NULL,
      "file with the admin PSK: 64 hex digits, mode 0600"),
    S("cse", "psk_hint", "tep-cse", psk_hint, NULL, "DTLS PSK identity hint"),
    S("cse", "cert_file", "", cert_file, NULL,
      "certificate SAEF: the CSE's certificate (PEM, issued by the tep CA); empty = off"),
    S("cse", "key_file", "", key_file, NULL, "certificate SAEF: the CSE's private key (PEM)"),
    S("cse", "ca_file", "", ca_file, NULL,
      "certificate SAEF: trust anchor for client certificates (the enroller's ca.pem)"),
    S("cse", "log_level", "info", log_level, cmn_cfg_valid_log_level, "error|warn|info|debug"),
    S("authz", "mode", "remote", authz_mode, valid_mode, "remote (tep-authz) | local"),
    I("authz", "deadline_ms", "500", deadline_ms, 1, 60000, "no decision by then = Deny (4103)"),
    S("cse", "csebase_pv", "", csebase_pv, valid_pv,
      "the CSEBase's policy: pv of <cse_name>/acp-csebase, its only acpi (JSON setOfAcrs); "
      "empty = no acpi: only the admin creates under it (AE registration aside)"),
    S("cse", "app_rules_file", "", app_rules_file, NULL,
      "serviceSubscribedAppRule set (JSON) checked at AE registration; empty = none"),
    I("cse", "verify_per_originator", "4", verify_per_originator, 1, 64,
      "subscription verifications one originator may have on their way at once (64 in all)"),
    I("cse", "piggyback_ms", "200", piggyback_ms, 0, 1500,
      "how long a confirmable request's ACK waits for its answer (piggy-backed); "
      "later: empty ACK, separate response; 0 = empty ACK at once"),
    S("cse", "notify_plain", "loopback", notify_plain, valid_notify_plain,
      "plain coap:// notification and verification targets: loopback (127.0.0.0/8, ::1 "
      "only), off, or any (cleartext, unauthenticated answers: closed networks only); "
      "coaps:// targets always go over the AE's own security association (SA2)"),
    I("cse", "fanout_max", "1024", fanout_max, 1, 65536,
      "sub-requests one <group>/fopt request may make, nested groups included (more: 6010)"),
    S("cse", "sp_id", "tep.local", sp_id, cmn_cfg_valid_fqdn,
      "SP-ID of absolute IDs (token holder //sp_id/cse_id/AE-ID)"),
    S("authz", "token_issuer", "", token_issuer, NULL,
      "trusted token issuer (iss), e.g. the MAF-ID; empty = tokens refused"),
    S("authz", "token_issuer_key", "", token_issuer_key, NULL,
      "file with the issuer's ES256 public key (tep-authz's data_dir/token-issuer.pub)"),
    B("authz", "das", "false", das,
      "on Deny consult tep-authz as DAS (direct flow; remote mode only)"),
    I("authz", "cache_ms", "0", cache_ms, 0, 3600000,
      "decision cache lifetime (remote mode; policies are part of the key); 0 = off"),
    I("authz", "admit_per_originator", "16", admit.per_originator, 0, 4096,
      "remote mode: requests of one originator waiting for decisions; more = 5103; 0 = no "
      "limit"),
    I("authz", "admit_max_outstanding", "1024", admit.max_outstanding, 0, 4096,
      "remote mode: requests waiting for decisions in all; more = 5103; 0 = no limit"),
    I("authz", "admit_slow_pct", "50", admit.slow_pct, 0, 100,
      "remote mode: tep-authz's latency above this % of deadline_ms = busy: an originator "
      "that already waits gets 5103; 0 = off"),
    S("bus", "decide", "ipc:///run/tep/decide.ipc", bus_decide, cmn_cfg_valid_endpoint_list,
      "tep-authz decide ROUTER (DEALER here); several, comma-separated: PDP replicas, "
      "decisions spread over those connected"),
    S("bus", "events", "ipc:///run/tep/events.ipc", bus_events, cmn_cfg_valid_endpoint,
      "tep-enroller events PUB (SUB here)"),
    S("bus", "sync", "ipc:///run/tep/sync.ipc", bus_sync, cmn_cfg_valid_endpoint,
      "tep-enroller sync ROUTER (DEALER here)"),
    S("bus", "admin", "ipc:///run/tep/cse-admin.ipc", bus_admin, cmn_cfg_valid_endpoint,
      "admin ROUTER (bound)"),
    CMN_BUS_ADMIN_KEYS_CFG_ITEM(cse_config, bus_admin_keys),
    S("bus", "keys", "", bus_keys, cmn_cfg_valid_optional_endpoint,
      "tep-authz keys ROUTER (DEALER here): MAF Key Retrieval for Kc identities; empty = off"),
    S("bus", "maf_events", "", bus_maf_events, cmn_cfg_valid_optional_endpoint,
      "tep-authz maf_events PUB (SUB here): fetch registered keys at once; empty = off"),
    CMN_BUS_CURVE_CFG_ITEMS(cse_config, bus_curve, "cse"),
    S("cse", "type", "IN", type, valid_type,
      "IN (infrastructure node) | MN (middle node: registers to [registrar])"),
    S("cse", "poa", "", poa, valid_poa,
      "own pointOfAccess announced at CSE registration; empty = from coaps_listen"),
    S("registrar", "cse_id", "", registrar_cse_id, valid_optional_cse_id,
      "MN: the registrar CSE's CSE-ID (SP-relative, \"/id-in\")"),
    S("registrar", "cse_name", "", registrar_name, NULL,
      "MN: the registrar's CSEBase resource name; empty = its CSE-ID without '/'"),
    S("registrar", "poa", "", registrar_poa, valid_poa,
      "MN: the registrar's address, coaps://HOST:PORT (DTLS-PSK with Kpsa) or coap:// (plain)"),
    S("registrar", "provisioning", "", registrar_prov, NULL,
      "MN over coaps: the MN-CSE's own provisioning file (tepctl enrolee add --out)"),
    S("registrar", "state", "", registrar_state, NULL,
      "MN over coaps: its enrolment state file (written at the first start)"),
    S("registrar", "credential", "kpsa", registrar_credential, valid_credential,
      "MN over coaps: the MN-CSE as Entity A of the SAEF: kpsa (DTLS-PSK, its enrolment's "
      "Kpsa), cert (its tep CA certificate), maf (a Kc registered at the MAF)"),
    S("maf", "retrieval", "bus", maf_retrieval, valid_retrieval,
      "how this CSE, a Kc's target, gets it from the MAF: bus (tep-authz's [bus] keys) | "
      "coaps (MAF Key Retrieval, TS-0003 8.8.2.8, in its own MAF Handshake)"),
    S("maf", "uri", "", maf_uri, valid_maf_uri,
      "coaps: the MAF, coaps://HOST:PORT; empty = the enrolment's MAF point of access"),
    S("maf", "provisioning", "", maf_prov, NULL,
      "coaps: the CSE's own provisioning file (Enrolee-ID = cse_id); empty = an MN-CSE's "
      "[registrar] provisioning"),
    S("maf", "state", "", maf_state, NULL,
      "coaps: its enrolment state file (enrolled at the first retrieval)"),
    I("maf", "recheck_s", "10", maf_recheck_s, 1, 3600,
      "coaps: every stored Kc fetched again this often (a de-registered or retargeted one "
      "is revoked and its sessions closed)"),
    I("maf", "timeout_ms", "3000", maf_timeout_ms, 100, 30000,
      "coaps: each exchange with the MEF or the MAF"),
    I("registrar", "check_s", "10", registrar_check_s, 1, 3600,
      "MN: how often the registration at the registrar is checked (and redone)"),
    I("registrar", "renew_margin_s", "604800", registrar_renew_margin_s, 10, 31536000,
      "MN, credential = cert: the certificate is renewed (tep_cert_renew) this long before its "
      "notAfter, or at half its lifetime when that comes later"),
    I("registrar", "kc_retry_s", "30", registrar_kc_retry_s, 1, 3600,
      "MN, credential = maf: a new Kc when the registrar refuses the current one, at most one per "
      "this many seconds"),
    CMN_DTLS_CFG_ITEMS(cse_config, dtls),
    CMN_BODY_CFG_ITEMS("cse", cse_config, body, "65536"),
};

#define N_ITEMS (sizeof(table) / sizeof(table[0]))

/* Keys valid alone but not together: an MN names its registrar (and, over coaps, its
 * own enrolment); an IN-CSE has none. */
static int check_registrar(const char *path, const cse_config *cfg, char *err, size_t errlen)
{
    char where[512];
    const char *why = NULL;
    bool mn = cse_config_is_mn(cfg);

    if (mn && (cfg->registrar_cse_id[0] == '\0' || cfg->registrar_poa[0] == '\0'))
        why = "type MN needs registrar.cse_id and registrar.poa";
    else if (mn && strcmp(cfg->registrar_cse_id, cfg->cse_id) == 0)
        why = "registrar.cse_id is this CSE's own CSE-ID";
    else if (mn && strncmp(cfg->registrar_poa, "coaps://", 8) == 0 &&
             (cfg->registrar_prov[0] == '\0' || cfg->registrar_state[0] == '\0'))
        why = "registrar.poa coaps:// needs registrar.provisioning and registrar.state";
    else if (!mn && (cfg->registrar_cse_id[0] != '\0' || cfg->registrar_poa[0] != '\0'))
        why = "an IN-CSE has no registrar (set type = MN)";
    if (why != NULL) {
        cmn_config_where(path, "cse", "type", where, sizeof(where));
        snprintf(err, errlen, "%s: cse.type: %s", where, why);
        return CMN_ECONFIG;
    }
    /* a credential for the SAEF needs a SAEF: coaps:// (plain CoAP has none) */
    if (strcmp(cfg->registrar_credential, "kpsa") != 0 &&
        (!mn || strncmp(cfg->registrar_poa, "coaps://", 8) != 0)) {
        cmn_config_where(path, "registrar", "credential", where, sizeof(where));
        snprintf(err, errlen,
                 "%s: registrar.credential: %s needs type MN and registrar.poa coaps://", where,
                 cfg->registrar_credential);
        return CMN_ECONFIG;
    }
    return 0;
}

bool cse_config_maf_coaps(const cse_config *cfg)
{
    return strcmp(cfg->maf_retrieval, "coaps") == 0;
}

void cse_config_maf_files(const cse_config *cfg, const char **prov, const char **state,
                          bool *shared)
{
    bool own = cfg->maf_prov[0] != '\0';

    *prov = own ? cfg->maf_prov : cfg->registrar_prov;
    *state = own ? cfg->maf_state : cfg->registrar_state;
    /* the registree enrols with its files (an MN over coaps): the MAF client never does */
    *shared = cse_config_is_mn(cfg) && cfg->registrar_state[0] != '\0' &&
              strcmp(*state, cfg->registrar_state) == 0;
}

/* [maf]: coaps needs an enrolment of this CSE and no bus to tep-authz's keys; bus has
 * none of coaps' keys. */
static int check_maf(const char *path, const cse_config *cfg, char *err, size_t errlen)
{
    char where[512];
    const char *key = "retrieval", *why = NULL;
    bool coaps = cse_config_maf_coaps(cfg);
    bool mn_coaps = cse_config_is_mn(cfg) && cfg->registrar_prov[0] != '\0' &&
                    strncmp(cfg->registrar_poa, "coaps://", 8) == 0;

    if (!coaps &&
        (cfg->maf_uri[0] != '\0' || cfg->maf_prov[0] != '\0' || cfg->maf_state[0] != '\0')) {
        key = cfg->maf_uri[0] != '\0' ? "uri" : cfg->maf_prov[0] != '\0' ? "provisioning" : "state";
        why = "only with maf.retrieval = coaps";
    } else if (coaps && (cfg->bus_keys[0] != '\0' || cfg->bus_maf_events[0] != '\0')) {
        why = "coaps excludes bus.keys and bus.maf_events (one way to the MAF)";
    } else if (coaps && (cfg->maf_prov[0] == '\0') != (cfg->maf_state[0] == '\0')) {
        key = cfg->maf_prov[0] != '\0' ? "provisioning" : "state"; /* the one set */
        why = "maf.provisioning and maf.state go together";
    } else if (coaps && cfg->maf_prov[0] == '\0' && !mn_coaps) {
        why = "coaps needs maf.provisioning and maf.state (the CSE's own enrolment, "
              "Enrolee-ID = cse_id), or an MN-CSE's registrar.provisioning over coaps://";
    }
    if (why == NULL)
        return 0;
    cmn_config_where(path, "maf", key, where, sizeof(where));
    snprintf(err, errlen, "%s: maf.%s: %s", where, key, why);
    return CMN_ECONFIG;
}

int cse_config_load(const char *path, cse_config *cfg, char *err, size_t errlen)
{
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    rc = cmn_config_load(path, table, N_ITEMS, cfg, err, errlen);
    if (rc == 0)
        rc = check_registrar(path, cfg, err, errlen);
    if (rc == 0)
        rc = check_maf(path, cfg, err, errlen);
    if (rc == 0)
        rc = cmn_bus_admin_keys_check(path, cfg->bus_admin, cfg->bus_curve.enabled,
                                      cfg->bus_admin_keys, err, errlen);
    return rc;
}

bool cse_config_is_mn(const cse_config *cfg)
{
    return strcmp(cfg->type, "MN") == 0;
}

void cse_config_free(cse_config *cfg)
{
    if (cfg != NULL)
        cmn_config_free(table, N_ITEMS, cfg);
}

void cse_config_print_help(FILE *out)
{
    cmn_config_print_help(table, N_ITEMS, out);
}

bool cse_config_is_local(const cse_config *cfg)
{
    return strcmp(cfg->authz_mode, "local") == 0;
}
