/* tep-authz configuration (authz.ini, docs/internals.md): a cmn_config table. */
#ifndef TEP_AUTHZ_CONFIG_H
#define TEP_AUTHZ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmn_bus.h"
#include "cmn_coap.h"
#include "cmn_dtls_guard.h"
#include "cmn_log.h"

typedef struct {
    char *data_dir;          /* [authz] LMDB environment directory */
    char *maf_id;            /* [authz] MAF-ID: our target_id on the enroller's sync socket */
    char *log_level;         /* [authz] error | warn | info | debug */
    char *coaps_listen;      /* [authz] CoAPS host:port for POST /token, "" = off */
    char *psk_hint;          /* [authz] DTLS PSK identity hint */
    char *grants_file;       /* [authz] dynamic-authorization grants (JSON), "" = none */
    char *cert_file;         /* [authz] certificate MAF Handshake: own certificate, "" = off */
    char *key_file;          /* [authz] its private key */
    char *ca_file;           /* [authz] trust anchor for client certificates */
    char *sp_id;             /* [authz] SP-ID of absolute IDs */
    long audit_max_records;  /* [authz] audit log retention: newest records kept */
    long audit_max_age;      /* [authz] audit log retention: seconds; 0 = no age bound */
    long audit_map_kib;      /* [authz] the audit environment's LMDB map, KiB */
    long decide_rate;        /* [authz] decisions per originator per second; 0 = no limit */
    char *role;              /* [authz] all | pdp (docs/internals.md "PDP replicas") */
    bool pdp;                /* parsed role: a PDP replica */
    long policy_max_lag_ms;  /* [authz] pdp: tokens honoured only this fresh from the writer */
    char *decide_ep;         /* [bus] decide: ROUTER, bound */
    char *events_ep;         /* [bus] events: SUB, connected */
    char *sync_ep;           /* [bus] sync: DEALER, connected */
    char *admin_ep;          /* [bus] admin: ROUTER, bound */
    char *keys_ep;           /* [bus] keys: ROUTER, bound, MAF Key Retrieval; "" = off */
    char *maf_events_ep;     /* [bus] maf_events: PUB, bound, KeyEvent; "" = off */
    char *policy_sync_ep;    /* [bus] policy_sync: all: ROUTER bound ("" = off); pdp: DEALER */
    char *policy_events_ep;  /* [bus] policy_events: all: PUB bound ("" = off); pdp: SUB */
    char *writer_ep;         /* [bus] writer: pdp: DEALER to the writer's decide (DAS) */
    cmn_bus_curve bus_curve; /* [bus] curve, curve_dir, curve_key, curve_name */
    char *bus_admin_keys;    /* [bus] admin_keys: who may administer (cmn_bus_peers.h) */
    char *bus_peers;      /* [bus] peers: identity=CURVE key of the Kc targets (cmn_bus_peers.h) */
    cmn_dtls_limits dtls; /* [dtls]: the MAF's CoAPS endpoint (cmn_dtls_guard.h) */
    cmn_body_limits body; /* [authz] max_body, block1_*: the MAF's (cmn_coap.h) */
    cmn_log_level level;  /* parsed log_level */
} authz_config;

/* Loads path (and TEP_AUTHZ_* / TEP_BUS_* overrides) into cfg; release with
 * authz_config_free(). On error returns CMN_ECONFIG with "FILE:LINE: ..." in err. */
int authz_config_load(const char *path, authz_config *cfg, char *err, size_t errlen);
void authz_config_free(authz_config *cfg); /* NULL is fine; cfg is zeroed */
void authz_config_print_help(FILE *out);

#endif
