/* tep-enroller configuration table. */
#include "enr_config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmn_bus_peers.h"
#include "cmn_config.h"
#include "cmn_err.h"
#include "enr_trust.h"

static int valid_listen_required(const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0') {
        snprintf(err, errlen, "must not be empty (the MEF has no plain-CoAP mode)");
        return CMN_EINVAL;
    }
    return cmn_cfg_valid_listen(v, err, errlen);
}

static int valid_poa(const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "coaps://", 8) == 0 || strncmp(v, "coap://", 7) == 0)
        return 0;
    snprintf(err, errlen, "must be a coaps:// or coap:// URI");
    return CMN_EINVAL;
}

static int valid_optional_poa(const char *v, char *err, size_t errlen)
{
    return v[0] == '\0' ? 0 : valid_poa(v, err, errlen);
}

/* "CSE-ID=poa, ...": each key an SP-relative CSE-ID, each value a coap(s):// URI. */
static int valid_targets(const char *v, char *err, size_t errlen)
{
    cmn_cfg_pair *p = NULL;
    size_t n = 0;
    int rc = cmn_cfg_pairs_parse(v, &p, &n, err, errlen);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cmn_cfg_valid_cse_id(p[i].key, err, errlen);
        if (rc == 0)
            rc = valid_poa(p[i].value, err, errlen);
    }
    cmn_cfg_pairs_free(p, n);
    return rc;
}

#define S(sec, key, def, field, fn, help)                                                          \
    CMN_CFG_STR_ITEM(enr_config, sec, key, def, field, fn, help)
#define I(sec, key, def, field, min, max, help)                                                    \
    CMN_CFG_INT_ITEM(enr_config, sec, key, def, field, min, max, help)
#define B(sec, key, def, field, help) CMN_CFG_BOOL_ITEM(enr_config, sec, key, def, field, help)

static const cmn_cfg_item enr_table[] = {
    S("enroller", "data_dir", "/var/lib/tep/enroller", data_dir, cmn_cfg_valid_nonempty,
      "LMDB store directory (created 0700)"),
    S("enroller", "mef_fqdn", "mef.tep.local", mef_fqdn, cmn_cfg_valid_fqdn,
      "MEF-FQDN: KeID suffix and the SNI enrolees must send"),
    S("enroller", "listen", "127.0.0.1:5784", listen, valid_listen_required,
      "CoAPS (DTLS-PSK, identity KpmID) address host:port"),
    S("enroller", "registrar_cse_id", "/tep-cse", registrar_cse_id, cmn_cfg_valid_cse_id,
      "enrolment target: the registrar CSE-ID"),
    S("enroller", "registrar_poa", "coaps://127.0.0.1:5684", registrar_poa, valid_poa,
      "enrolment target: the registrar CSE's point of access"),
    S("enroller", "maf_id", "maf.tep.local", maf_id, cmn_cfg_valid_fqdn,
      "enrolment target: the MAF-ID (FQDN)"),
    S("enroller", "maf_poa", "", maf_poa, valid_optional_poa,
      "enrolment target: the MAF's point of access (coaps://); empty = not announced"),
    S("enroller", "targets", "", targets, valid_targets,
      "more enrolment targets (tepctl enrolee add --target): CSE-ID=coaps://host:port, ...; "
      "re-read on SIGHUP"),
    S("enroller", "log_level", "info", log_level, cmn_cfg_valid_log_level,
      "error | warn | info | debug"),
    I("enroller", "cert_lifetime_s", "31536000", cert_lifetime_s, 60, 31536000,
      "lifetime of the tep certificates the CA issues (never past the enrolment); renewed with "
      "tep-device cert-renew, or by an MN-CSE itself ([registrar] renew_margin_s)"),
    B("enroller", "cert_rspf", "true", cert_rspf,
      "certificate MEF Handshake (ECDHE-ECDSA) beside DTLS-PSK: manufacturer and tep certificates"),
    S("enroller", "mfr_trust_anchors", "", mfr_trust_anchors, enr_trust_valid_list,
      "PEM files (space-separated) of the manufacturer CAs whose device certificates enrol; "
      "re-read on SIGHUP"),
    S("enroller", "mfr_crls", "", mfr_crls, NULL,
      "PEM CRLs (space- or comma-separated), each signed by a mfr_trust_anchors CA: its "
      "device certificates they list do not enrol; re-read on SIGHUP"),
    S("bus", "events", "ipc:///run/tep/events.ipc", bus_events, cmn_cfg_valid_endpoint,
      "PUB, bound: credential events"),
    S("bus", "sync", "ipc:///run/tep/sync.ipc", bus_sync, cmn_cfg_valid_endpoint,
      "ROUTER, bound: event and credential fetches"),
    S("bus", "admin", "ipc:///run/tep/enroller-admin.ipc", bus_admin, cmn_cfg_valid_endpoint,
      "ROUTER, bound: tepctl"),
    S("bus", "zn", "", bus_zn, cmn_cfg_valid_optional_endpoint,
      "DEALER, connected: tep-bsf's Zn, the NAF keys of GBA enrolees; empty = no GBA"),
    CMN_BUS_CURVE_CFG_ITEMS(enr_config, bus_curve, "enroller"),
    S("bus", "peers", "", bus_peers, cmn_bus_peers_valid,
      "who may fetch credentials on sync: IDENTITY=CURVE key name (or z85:KEY), ...; "
      "empty = one-host platform (docs/internals.md); re-read on SIGHUP"),
    CMN_BUS_ADMIN_KEYS_CFG_ITEM(enr_config, bus_admin_keys),
    CMN_DTLS_CFG_ITEMS(enr_config, dtls),
    CMN_BODY_CFG_ITEMS("enroller", enr_config, body, "4096"),
};

#define ENR_NITEMS (sizeof(enr_table) / sizeof(enr_table[0]))

/* The authenticated hand-off (docs/internals.md "Authenticated credential hand-off"):
 * more targets than the platform's own registrar on a tcp:// bus (other hosts) need bus
 * identities, and identities need CURVE (ipc:// proves no identity: one host is one
 * trust domain); every target, the registrar and the MAF must then be bound, or they
 * would get nothing. */
static int check_peers(const char *path, const enr_config *cfg, char *err, size_t errlen)
{
    const char *file = path != NULL ? path : "(environment)";
    cmn_bus_peers *p = NULL;
    const char *unbound = NULL;
    int rc;

    if (cfg->bus_peers[0] == '\0') {
        if (cfg->n_targets == 0 || strncmp(cfg->bus_sync, "ipc://", 6) == 0)
            return 0;
        snprintf(err, errlen,
                 "%s: enroller.targets: more enrolment targets on a tcp:// "
                 "sync socket need bus identities: set [bus] peers",
                 file);
        return CMN_ECONFIG;
    }
    if (!cfg->bus_curve.enabled || strncmp(cfg->bus_sync, "tcp://", 6) != 0) {
        snprintf(err, errlen,
                 "%s: bus.peers: needs [bus] curve = true and a tcp:// sync "
                 "endpoint (an ipc:// peer proves no identity)",
                 file);
        return CMN_ECONFIG;
    }
    rc = cmn_bus_peers_new(cfg->bus_peers, cfg->bus_curve.key_dir, &p);
    if (rc != 0) {
        snprintf(err, errlen, "%s: bus.peers: %s", file, cmn_strerror(rc));
        return CMN_ECONFIG;
    }
    if (!cmn_bus_peers_binds(p, cfg->registrar_cse_id))
        unbound = cfg->registrar_cse_id;
    else if (!cmn_bus_peers_binds(p, cfg->maf_id))
        unbound = cfg->maf_id;
    for (size_t i = 0; unbound == NULL && i < cfg->n_targets; i++)
        if (!cmn_bus_peers_binds(p, cfg->target_list[i].key))
            unbound = cfg->target_list[i].key;
    cmn_bus_peers_free(p);
    if (unbound == NULL)
        return 0;
    snprintf(err, errlen, "%s: bus.peers: binds no key to %s (an enrolment target)", file, unbound);
    return CMN_ECONFIG;
}

/* mfr_crls: each CRL signed by one of the anchors of mfr_trust_anchors and current (an
 * anchor list that does not load was refused by its own validator already). */
static int check_crls(const char *path, const enr_config *cfg, char *err, size_t errlen)
{
    enr_trust *t = NULL;
    char why[512], where[512];
    int rc;

    if (cfg->mfr_crls[0] == '\0')
        return 0;
    rc = enr_trust_load(cfg->mfr_trust_anchors, (int64_t)time(NULL), &t, why, sizeof(why));
    if (rc == 0)
        rc = enr_trust_load_crls(t, cfg->mfr_crls, (int64_t)time(NULL), why, sizeof(why));
    enr_trust_free(t);
    if (rc == 0)
        return 0;
    cmn_config_where(path, "enroller", "mfr_crls", where, sizeof(where));
    snprintf(err, errlen, "%s: enroller.mfr_crls: %s", where, why);
    return CMN_ECONFIG;
}

int enr_config_load(const char *path, enr_config *cfg, char *err, size_t errlen)
{
    int rc = cmn_config_load(path, enr_table, ENR_NITEMS, cfg, err, errlen);

    if (rc != 0)
        return rc;
    if (strcmp(cfg->bus_events, cfg->bus_sync) == 0 ||
        strcmp(cfg->bus_events, cfg->bus_admin) == 0 ||
        strcmp(cfg->bus_sync, cfg->bus_admin) == 0) {
        snprintf(err, errlen, "%s: bus: events, sync and admin must be different endpoints",
                 path != NULL ? path : "(environment)");
        enr_config_free(cfg);
        return CMN_ECONFIG;
    }
    if (cmn_cfg_pairs_parse(cfg->targets, &cfg->target_list, &cfg->n_targets, err, errlen) != 0 ||
        enr_config_target_poa(cfg, cfg->registrar_cse_id) != cfg->registrar_poa) {
        if (cfg->target_list != NULL) /* parsed: the registrar is listed again */
            snprintf(err, errlen, "%s: enroller.targets: %s is registrar_cse_id already",
                     path != NULL ? path : "(environment)", cfg->registrar_cse_id);
        enr_config_free(cfg);
        return CMN_ECONFIG;
    }
    if (check_peers(path, cfg, err, errlen) != 0 || check_crls(path, cfg, err, errlen) != 0 ||
        cmn_bus_admin_keys_check(path, cfg->bus_admin, cfg->bus_curve.enabled, cfg->bus_admin_keys,
                                 err, errlen) != 0) {
        enr_config_free(cfg);
        return CMN_ECONFIG;
    }
    /* validated above, cannot fail */
    if (cmn_log_parse_level(cfg->log_level, &cfg->level) != 0)
        cfg->level = CMN_LOG_INFO;
    return 0;
}

void enr_config_free(enr_config *cfg)
{
    if (cfg == NULL)
        return;
    cmn_cfg_pairs_free(cfg->target_list, cfg->n_targets);
    cfg->target_list = NULL;
    cfg->n_targets = 0;
    cmn_config_free(enr_table, ENR_NITEMS, cfg);
}

int enr_config_reloadable(const enr_config *live, const enr_config *fresh, char *err, size_t errlen)
{
    if (strcmp(live->bus_sync, fresh->bus_sync) != 0 ||
        live->bus_curve.enabled != fresh->bus_curve.enabled ||
        strcmp(live->bus_admin_keys, fresh->bus_admin_keys) != 0 ||
        strcmp(live->registrar_cse_id, fresh->registrar_cse_id) != 0) {
        snprintf(
            err, errlen,
            "bus.sync, bus.curve, bus.admin_keys or enroller.registrar_cse_id changed: restart "
            "to apply");
        return CMN_ECONFIG;
    }
    return 0;
}

void enr_config_take_targets(enr_config *live, enr_config *fresh)
{
    char *targets = live->targets, *peers = live->bus_peers;
    cmn_cfg_pair *list = live->target_list;
    size_t n = live->n_targets;

    live->targets = fresh->targets;
    live->bus_peers = fresh->bus_peers;
    live->target_list = fresh->target_list;
    live->n_targets = fresh->n_targets;
    fresh->targets = targets;
    fresh->bus_peers = peers;
    fresh->target_list = list;
    fresh->n_targets = n;
}

const char *enr_config_target_poa(const enr_config *cfg, const char *csi)
{
    for (size_t i = 0; i < cfg->n_targets; i++)
        if (strcmp(cfg->target_list[i].key, csi) == 0)
            return cfg->target_list[i].value;
    return strcmp(csi, cfg->registrar_cse_id) == 0 ? cfg->registrar_poa : NULL;
}

void enr_config_print_help(FILE *out)
{
    cmn_config_print_help(enr_table, ENR_NITEMS, out);
}
