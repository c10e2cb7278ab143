/* tep-bsf configuration (tep-bsf.conf, docs/internals.md "tep-bsf"): a cmn_config table. */
#ifndef TEP_BSF_CONFIG_H
#define TEP_BSF_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmn_bus.h"
#include "cmn_log.h"
#include "cmn_milenage.h"

#define BSF_NAF_MAX 16

typedef struct {
    char *data_dir;          /* [bsf] LMDB environment directory */
    char *bsf_name;          /* [bsf] BSF server name: the domain part of every B-TID */
    char *realm;             /* [bsf] Digest realm ("" = bsf_name) */
    char *ub_listen;         /* [bsf] HTTP host:port of the Ub interface */
    char *naf_ids;           /* [bsf] comma-separated NAF FQDNs Zn answers for */
    char *amf;               /* [bsf] AMF of the challenges, 4 hex digits */
    long key_lifetime;       /* [bsf] seconds a B-TID (Ks) lives */
    long challenge_timeout;  /* [bsf] seconds a 401 challenge waits for its answer */
    long max_pending;        /* [bsf] challenges waiting at once */
    long sqn_delta;          /* [bsf] the USIM's freshness window (TS 33.102 C.2.2 delta) */
    char *log_level;         /* [bsf] error | warn | info | debug */
    char *zn_ep;             /* [bus] zn: ROUTER, bound */
    char *admin_ep;          /* [bus] admin: ROUTER, bound */
    cmn_bus_curve bus_curve; /* [bus] curve, curve_dir, curve_key, curve_name */
    char *bus_admin_keys;    /* [bus] admin_keys: who may administer (cmn_bus_peers.h) */
    char *bus_peers;         /* [bus] peers: NAF FQDN=CURVE key, who may ask Zn for which NAF */
    cmn_log_level level;     /* parsed log_level */
    uint8_t amf_bytes[CMN_MIL_AMF_LEN]; /* parsed amf */
    char *nafs[BSF_NAF_MAX];            /* parsed naf_ids (point into naf_buf) */
    size_t n_nafs;
    char naf_buf[1024];
} bsf_config;

/* Loads path (and TEP_BSF_* / TEP_BUS_* overrides) into cfg; release with
 * bsf_config_free(). On error CMN_ECONFIG with "FILE:LINE: ..." in err. */
int bsf_config_load(const char *path, bsf_config *cfg, char *err, size_t errlen);
void bsf_config_free(bsf_config *cfg); /* NULL is fine; cfg is zeroed */
void bsf_config_print_help(FILE *out);
/* True when fqdn is one of naf_ids. */
int bsf_config_naf_allowed(const bsf_config *cfg, const char *fqdn);

#endif
