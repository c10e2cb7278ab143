/* tep-authz configuration: the key table and its validators. */
#include "authz_config.h"

#include <stddef.h>
#include <string.h>

#include "cmn_bus_peers.h"
#include "cmn_config.h"
#include "cmn_err.h"

static int valid_role(const char *v, char *err, size_t errlen)
{
    if (v != NULL && (strcmp(v, "all") == 0 || strcmp(v, "pdp") == 0))
        return 0;
    snprintf(err, errlen, "not a role (all | pdp): \"%s\"", v != NULL ? v : "");
    return CMN_ECONFIG;
}

#define S(sec, key, def, field, fn, help)                                                          \
    CMN_CFG_STR_ITEM(authz_config, sec, key, def, field, fn, help)
#define I(sec, key, def, field, min, max, help)                                                    \
    CMN_CFG_INT_ITEM(authz_config, sec, key, def, field, min, max, help)
#define B(sec, key, def, field, help) CMN_CFG_BOOL_ITEM(authz_config, sec, key, def, field, help)

static const cmn_cfg_item authz_table[] = {
    S("authz", "data_dir", "/var/lib/tep/authz", data_dir, NULL,
      "LMDB environment directory (created 0700)"),
    S("authz", "maf_id", "maf.tep.local", maf_id, cmn_cfg_valid_fqdn,
      "MAF-ID: the enrolment target whose credentials (Km) we fetch"),
    S("authz", "coaps_listen", "", coaps_listen, cmn_cfg_valid_listen,
      "CoAPS host:port for POST /token (DTLS-PSK KmID/Km); empty = off"),
    S("authz", "psk_hint", "tep-authz", psk_hint, NULL,
      "DTLS PSK identity hint of the CoAPS endpoint"),
    S("authz", "cert_file", "", cert_file, NULL,
      "certificate MAF Handshake: the MAF's certificate (PEM, issued by the tep CA to "
      "onem2m:<maf_id>); empty = PSK only"),
    S("authz", "key_file", "", key_file, NULL,
      "certificate MAF Handshake: the MAF's private key (PEM)"),
    S("authz", "ca_file", "", ca_file, NULL,
      "certificate MAF Handshake: trust anchor for client certificates (the enroller's ca.pem)"),
    S("authz", "grants_file", "", grants_file, NULL,
      "JSON dynamic-authorization grants (tokens and DAS); empty = none (reloaded on SIGHUP)"),
    S("authz", "sp_id", "tep.local", sp_id, cmn_cfg_valid_fqdn,
      "SP-ID of absolute IDs (token holder //sp_id/cse-id/AE-ID)"),
    I("authz", "audit_max_records", "1000000", audit_max_records, 16, 1000000000,
      "audit log (<data_dir>/audit): newest decision records kept, older ones pruned"),
    I("authz", "audit_max_age", "2592000", audit_max_age, 0, 3153600000,
      "audit log: seconds a record is kept (0 = no age bound)"),
    I("authz", "audit_map_kib", "524288", audit_map_kib, 64, 67108864,
      "audit log: LMDB map size in KiB (full: permits are refused, fail closed)"),
    I("authz", "decide_rate", "500", decide_rate, 0, 1000000,
      "decisions per originator per second (burst 2x); more: 5103, not decided; 0 = no limit"),
    S("authz", "role", "all", role, valid_role,
      "all: the one writer (MAF, tokens, DAS, decisions); pdp: a decision replica (decisions "
      "and its own audit only; revocations from the writer's policy log)"),
    I("authz", "policy_max_lag_ms", "5000", policy_max_lag_ms, 500, 600000,
      "role = pdp: a token permits only while the writer's policy log answered within this "
      "(else Deny, rule policy_stale)"),
    S("authz", "log_level", "info", log_level, cmn_cfg_valid_log_level,
      "error | warn | info | debug (reloaded on SIGHUP)"),
    S("bus", "decide", "ipc:///run/tep/decide.ipc", decide_ep, cmn_cfg_valid_endpoint,
      "access decisions: ROUTER, bound"),
    S("bus", "events", "ipc:///run/tep/events.ipc", events_ep, cmn_cfg_valid_endpoint,
      "the enroller's events: SUB, connected"),
    S("bus", "sync", "ipc:///run/tep/sync.ipc", sync_ep, cmn_cfg_valid_endpoint,
      "the enroller's sync: DEALER, connected"),
    S("bus", "admin", "ipc:///run/tep/authz-admin.ipc", admin_ep, cmn_cfg_valid_endpoint,
      "tepctl requests: ROUTER, bound"),
    S("bus", "keys", "", keys_ep, cmn_cfg_valid_optional_endpoint,
      "MAF Key Retrieval by targets (tep-cse): ROUTER, bound; empty = off"),
    S("bus", "maf_events", "", maf_events_ep, cmn_cfg_valid_optional_endpoint,
      "registered keys announced to their targets: PUB, bound; empty = off"),
    S("bus", "policy_sync", "", policy_sync_ep, cmn_cfg_valid_optional_endpoint,
      "policy log (revocations) for PDP replicas: role = all: ROUTER, bound (empty = off); "
      "role = pdp: the writer's, DEALER (required)"),
    S("bus", "policy_events", "", policy_events_ep, cmn_cfg_valid_optional_endpoint,
      "policy log pokes: role = all: PUB, bound (empty = off); role = pdp: the writer's, SUB "
      "(required)"),
    S("bus", "writer", "", writer_ep, cmn_cfg_valid_optional_endpoint,
      "role = pdp: the writer's decide socket (DEALER): DasRequests are forwarded there; "
      "empty = refused (the PEP denies)"),
    CMN_BUS_CURVE_CFG_ITEMS(authz_config, bus_curve, "authz"),
    S("bus", "peers", "", bus_peers, cmn_bus_peers_valid,
      "who may retrieve Kc on keys: CSE-ID=CURVE key name (or z85:KEY), "
      "...; empty = a key goes to whoever names a target of it (one-host platform)"),
    CMN_BUS_ADMIN_KEYS_CFG_ITEM(authz_config, bus_admin_keys),
    CMN_DTLS_CFG_ITEMS(authz_config, dtls),
    CMN_BODY_CFG_ITEMS("authz", authz_config, body, "16384"),
};

#define AUTHZ_TABLE_LEN (sizeof(authz_table) / sizeof(authz_table[0]))

/* A PDP replica holds no MAF keys, signs no tokens and grants nothing: what belongs to
 * the one writer is refused by name; the writer's policy log is required. */
static int check_role(const authz_config *cfg, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t off;
    } writer_only[] = {
        {"authz.coaps_listen", offsetof(authz_config, coaps_listen)},
        {"authz.cert_file", offsetof(authz_config, cert_file)},
        {"authz.key_file", offsetof(authz_config, key_file)},
        {"authz.ca_file", offsetof(authz_config, ca_file)},
        {"authz.grants_file", offsetof(authz_config, grants_file)},
        {"bus.keys", offsetof(authz_config, keys_ep)},
        {"bus.maf_events", offsetof(authz_config, maf_events_ep)},
        {"bus.peers", offsetof(authz_config, bus_peers)},
    };

    if (!cfg->pdp) {
        if (cfg->writer_ep[0] != '\0') {
            snprintf(err, errlen, "bus.writer: only for role = pdp (this is the writer)");
            return CMN_ECONFIG;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof(writer_only) / sizeof(writer_only[0]); i++) {
        const char *v = *(char *const *)((const char *)cfg + writer_only[i].off);
        if (v != NULL && v[0] != '\0') {
            snprintf(err, errlen,
                     "%s: not with role = pdp (MAF keys, tokens and grants keep one writer, "
                     "role = all)",
                     writer_only[i].name);
            return CMN_ECONFIG;
        }
    }
    if (cfg->policy_sync_ep[0] == '\0' || cfg->policy_events_ep[0] == '\0') {
        snprintf(err, errlen,
                 "bus.policy_sync, bus.policy_events: role = pdp needs the writer's policy log "
                 "(both endpoints)");
        return CMN_ECONFIG;
    }
    if (strcmp(cfg->decide_ep, cfg->writer_ep) == 0) {
        snprintf(err, errlen, "bus.writer: the writer's decide socket, not this replica's own");
        return CMN_ECONFIG;
    }
    return 0;
}

int authz_config_load(const char *path, authz_config *cfg, char *err, size_t errlen)
{
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    rc = cmn_config_load(path, authz_table, AUTHZ_TABLE_LEN, cfg, err, errlen);
    if (rc != 0)
        return rc;
    if (cmn_log_parse_level(cfg->log_level, &cfg->level) != 0) {
        snprintf(err, errlen, "authz.log_level: invalid");
        authz_config_free(cfg);
        return CMN_ECONFIG;
    }
    /* an ipc:// peer proves no identity (docs/internals.md "Authenticated credential
     * hand-off") */
    if (cfg->bus_peers[0] != '\0' &&
        (!cfg->bus_curve.enabled || strncmp(cfg->keys_ep, "tcp://", 6) != 0)) {
        snprintf(err, errlen,
                 "%s: bus.peers: needs [bus] curve = true and a tcp:// keys "
                 "endpoint",
                 path != NULL ? path : "(environment)");
        authz_config_free(cfg);
        return CMN_ECONFIG;
    }
    rc = cmn_bus_admin_keys_check(path, cfg->admin_ep, cfg->bus_curve.enabled, cfg->bus_admin_keys,
                                  err, errlen);
    if (rc != 0) {
        authz_config_free(cfg);
        return rc;
    }
    cfg->pdp = strcmp(cfg->role, "pdp") == 0;
    if ((rc = check_role(cfg, err, errlen)) != 0) {
        authz_config_free(cfg);
        return rc;
    }
    return 0;
}

void authz_config_free(authz_config *cfg)
{
    if (cfg == NULL)
        return;
    cmn_config_free(authz_table, AUTHZ_TABLE_LEN, cfg);
    memset(cfg, 0, sizeof(*cfg));
}

void authz_config_print_help(FILE *out)
{
    cmn_config_print_help(authz_table, AUTHZ_TABLE_LEN, out);
}
