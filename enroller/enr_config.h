/* tep-enroller configuration (enroller.ini): the table, the struct it fills, and the
 * checks that span several keys. See docs/internals.md "tep-enroller". */
#ifndef TEP_ENR_CONFIG_H
#define TEP_ENR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmn_bus.h"
#include "cmn_coap.h"
#include "cmn_config.h"
#include "cmn_dtls_guard.h"
#include "cmn_log.h"

typedef struct {
    char *data_dir;
    char *mef_fqdn;
    char *listen;
    char *registrar_cse_id;
    char *registrar_poa;
    char *maf_id;
    char *maf_poa; /* the MAF's point of access (tep-authz coaps_listen), "" = not announced */
    char *targets; /* "CSE-ID=poa, ...": enrolment targets besides registrar_cse_id */
    char *log_level;
    long cert_lifetime_s;    /* a tep certificate's lifetime (enr_ca.h), at most a year */
    bool cert_rspf;          /* certificate MEF Handshake beside DTLS-PSK (TS-0003 8.3.2.2) */
    char *mfr_trust_anchors; /* PEM files of manufacturer CAs (enr_trust.h), "" = none */
    char *mfr_crls;          /* PEM CRLs of those CAs (enr_trust_load_crls), "" = none */
    char *bus_events;
    char *bus_sync;
    char *bus_admin;
    char *bus_zn;              /* [bus] zn: tep-bsf's Zn (GBA, TS-0003 8.3.2.3); "" = no GBA */
    cmn_bus_curve bus_curve;   /* [bus] curve, curve_dir, curve_key, curve_name */
    char *bus_admin_keys;      /* [bus] admin_keys: who may administer, cmn_bus_peers.h */
    char *bus_peers;           /* [bus] peers: identity=CURVE key, cmn_bus_peers.h */
    cmn_dtls_limits dtls;      /* [dtls] (cmn_dtls_guard.h) */
    cmn_body_limits body;      /* [enroller] max_body, block1_* (cmn_coap.h) */
    cmn_log_level level;       /* parsed log_level */
    cmn_cfg_pair *target_list; /* parsed targets: key CSE-ID, value its poa */
    size_t n_targets;
} enr_config;

/* Loads path into cfg (zeroed by the caller). On error returns CMN_ECONFIG and writes
 * "FILE:LINE: section.key: reason" into err. Release with enr_config_free(). */
int enr_config_load(const char *path, enr_config *cfg, char *err, size_t errlen);
void enr_config_free(enr_config *cfg); /* NULL is fine */

/* SIGHUP: may fresh (loaded and validated) replace live's enrolment targets and [bus]
 * peers? Only when the bus it was validated for is live's (same sync endpoint, CURVE on
 * or off alike): else CMN_ECONFIG with the reason in err ("restart to apply"). */
int enr_config_reloadable(const enr_config *live, const enr_config *fresh, char *err,
                          size_t errlen);
/* Moves fresh's targets and [bus] peers into live, live's old ones into fresh (freed
 * with it). */
void enr_config_take_targets(enr_config *live, enr_config *fresh);
void enr_config_print_help(FILE *out);

/* The point of access of enrolment target csi: registrar_poa for registrar_cse_id, the
 * poa of targets for one of them, NULL for any other (not a target of this enroller).
 * Borrowed from cfg. */
const char *enr_config_target_poa(const enr_config *cfg, const char *csi);

#endif
