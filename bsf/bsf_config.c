/* tep-bsf configuration: the key table and its validators. */
#include "bsf_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_bus_peers.h"
#include "cmn_config.h"
#include "cmn_crypto.h"
#include "cmn_err.h"

static int valid_amf(const char *v, char *err, size_t errlen)
{
    uint8_t b[CMN_MIL_AMF_LEN];

    if (strlen(v) == 4 && cmn_hex_decode(v, b, sizeof(b)) == 0)
        return 0;
    snprintf(err, errlen, "not 4 hex digits: \"%s\"", v);
    return CMN_ECONFIG;
}

/* "fqdn[,fqdn...]", each a valid FQDN, at most BSF_NAF_MAX */
static int valid_naf_ids(const char *v, char *err, size_t errlen)
{
    char buf[1024], *save = NULL;
    size_t n = 0;

    if (strlen(v) >= sizeof(buf)) {
        snprintf(err, errlen, "longer than %zu bytes", sizeof(buf) - 1);
        return CMN_ECONFIG;
    }
    memcpy(buf, v, strlen(v) + 1);
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (++n > BSF_NAF_MAX || cmn_cfg_valid_fqdn(t, err, errlen) != 0) {
            if (n > BSF_NAF_MAX)
                snprintf(err, errlen, "more than %d NAFs", BSF_NAF_MAX);
            return CMN_ECONFIG;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "no NAF: name at least one (the MEF's FQDN)");
        return CMN_ECONFIG;
    }
    return 0;
}

#define S(sec, key, def, field, fn, help)                                                          \
    CMN_CFG_STR_ITEM(bsf_config, sec, key, def, field, fn, help)
#define I(sec, key, def, field, min, max, help)                                                    \
    CMN_CFG_INT_ITEM(bsf_config, sec, key, def, field, min, max, help)
#define B(sec, key, def, field, help) CMN_CFG_BOOL_ITEM(bsf_config, sec, key, def, field, help)

static const cmn_cfg_item bsf_table[] = {
    S("bsf", "data_dir", "/var/lib/tep/bsf", data_dir, NULL,
      "LMDB environment directory (created 0700): subscribers and B-TIDs"),
    S("bsf", "bsf_name", "bsf.tep.local", bsf_name, cmn_cfg_valid_fqdn,
      "BSF server name: the domain part of every B-TID (TS 33.220 4.5.2)"),
    S("bsf", "realm", "", realm, NULL, "HTTP Digest realm of the Ub interface (\"\" = bsf_name)"),
    S("bsf", "ub_listen", "127.0.0.1:8480", ub_listen, cmn_cfg_valid_nonempty,
      "Ub interface: HTTP host:port, numeric host (HTTP Digest AKA)"),
    S("bsf", "naf_ids", "mef.tep.local", naf_ids, valid_naf_ids,
      "comma-separated FQDNs of the NAFs Zn answers for (tep-enroller's fqdn)"),
    S("bsf", "amf", "8000", amf, valid_amf,
      "Authentication Management Field of the challenges (4 hex digits)"),
    I("bsf", "key_lifetime", "3600", key_lifetime, 1, 31536000,
      "seconds a bootstrapped key (B-TID) is valid"),
    I("bsf", "challenge_timeout", "60", challenge_timeout, 1, 3600,
      "seconds a challenge (401) waits for the device's answer"),
    I("bsf", "max_pending", "256", max_pending, 1, 65536,
      "challenges waiting for an answer at once (more: the oldest is dropped)"),
    I("bsf", "sqn_delta", "268435456", sqn_delta, 1, 281474976710655,
      "the USIMs' SQN freshness window (TS 33.102 C.2.2 delta): resynchronisation keeps "
      "SQN_HE when SQN_HE + 1 falls in it"),
    S("bsf", "log_level", "info", log_level, cmn_cfg_valid_log_level,
      "error | warn | info | debug (reloaded on SIGHUP)"),
    S("bus", "zn", "ipc:///run/tep/zn.ipc", zn_ep, cmn_cfg_valid_endpoint,
      "Zn: NAF key requests (tep-enroller): ROUTER, bound"),
    S("bus", "admin", "ipc:///run/tep/bsf-admin.ipc", admin_ep, cmn_cfg_valid_endpoint,
      "tepctl requests: ROUTER, bound"),
    CMN_BUS_CURVE_CFG_ITEMS(bsf_config, bus_curve, "bsf"),
    S("bus", "peers", "", bus_peers, cmn_bus_peers_valid,
      "who may ask Zn for which NAF: NAF-FQDN=CURVE key name (or z85:KEY), ...; empty = "
      "whoever names a served NAF (one host)"),
    CMN_BUS_ADMIN_KEYS_CFG_ITEM(bsf_config, bus_admin_keys),
};

#define BSF_TABLE_LEN (sizeof(bsf_table) / sizeof(bsf_table[0]))

static void split_nafs(bsf_config *cfg)
{
    char *save = NULL;

    memcpy(cfg->naf_buf, cfg->naf_ids, strlen(cfg->naf_ids) + 1); /* validated < 1024 */
    cfg->n_nafs = 0;
    for (char *t = strtok_r(cfg->naf_buf, ",", &save); t != NULL && cfg->n_nafs < BSF_NAF_MAX;
         t = strtok_r(NULL, ",", &save))
        cfg->nafs[cfg->n_nafs++] = t;
}

int bsf_config_load(const char *path, bsf_config *cfg, char *err, size_t errlen)
{
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    rc = cmn_config_load(path, bsf_table, BSF_TABLE_LEN, cfg, err, errlen);
    if (rc != 0)
        return rc;
    if (cmn_log_parse_level(cfg->log_level, &cfg->level) != 0 ||
        cmn_hex_decode(cfg->amf, cfg->amf_bytes, CMN_MIL_AMF_LEN) != 0) {
        snprintf(err, errlen, "bsf.log_level or bsf.amf: invalid");
        bsf_config_free(cfg);
        return CMN_ECONFIG;
    }
    if (cfg->realm[0] == '\0') {
        free(cfg->realm);
        cfg->realm = strdup(cfg->bsf_name);
        if (cfg->realm == NULL) {
            bsf_config_free(cfg);
            return CMN_ENOMEM;
        }
    }
    /* an ipc:// peer proves no identity (docs/internals.md "Authenticated credential
     * hand-off") */
    if (cfg->bus_peers[0] != '\0' &&
        (!cfg->bus_curve.enabled || strncmp(cfg->zn_ep, "tcp://", 6) != 0)) {
        snprintf(err, errlen,
                 "%s: bus.peers: needs [bus] curve = true and a tcp:// zn "
                 "endpoint",
                 path != NULL ? path : "(environment)");
        bsf_config_free(cfg);
        return CMN_ECONFIG;
    }
    if (cmn_bus_admin_keys_check(path, cfg->admin_ep, cfg->bus_curve.enabled, cfg->bus_admin_keys,
                                 err, errlen) != 0) {
        bsf_config_free(cfg);
        return CMN_ECONFIG;
    }
    split_nafs(cfg);
    return 0;
}

void bsf_config_free(bsf_config *cfg)
{
    if (cfg == NULL)
        return;
    cmn_config_free(bsf_table, BSF_TABLE_LEN, cfg);
    memset(cfg, 0, sizeof(*cfg));
}

void bsf_config_print_help(FILE *out)
{
    cmn_config_print_help(bsf_table, BSF_TABLE_LEN, out);
}

int bsf_config_naf_allowed(const bsf_config *cfg, const char *fqdn)
{
    for (size_t i = 0; i < cfg->n_nafs; i++)
        if (strcmp(cfg->nafs[i], fqdn) == 0)
            return 1;
    return 0;
}
