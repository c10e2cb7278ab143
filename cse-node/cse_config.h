/* tep-cse configuration (docs/internals.md "tep-cse (cse.ini)"): the table and the
 * struct it fills. */
#ifndef TEP_CSE_CONFIG_H
#define TEP_CSE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmn_bus.h"
#include "cmn_coap.h"
#include "cmn_dtls_guard.h"
#include "cse_admit.h"

typedef struct {
    char *data_dir;
    char *cse_id;      /* SP-relative, "/tep-cse" */
    char *cse_name;    /* CSEBase rn, first Uri-Path segment */
    char *coap_listen; /* "host:port" or "" (off) */
    char *coaps_listen;
    char *local_targets; /* prefixes plain-CoAP targets may be in though local (cse_target.h) */
    char *admin_originator;
    char *admin_psk_identity; /* "" = no admin credential over CoAPS */
    char *admin_psk_file;
    char *psk_hint;
    char *cert_file; /* certificate SAEF: own certificate (PEM), "" = PKI off */
    char *key_file;  /* its private key (PEM) */
    char *ca_file;   /* trust anchor for client certificates (the tep CA) */
    char *log_level;
    char *authz_mode; /* "remote" | "local" */
    long deadline_ms;
    char *sp_id;                /* SP-ID of absolute IDs */
    char *app_rules_file;       /* serviceSubscribedAppRule set, "" = none */
    char *csebase_pv;           /* the CSEBase's policy (its acp-csebase's pv), "" = none */
    char *token_issuer;         /* trusted iss, "" = tokens refused */
    char *token_issuer_key;     /* its public key file */
    bool das;                   /* direct flow: consult the DAS on Deny */
    long cache_ms;              /* decision cache lifetime, 0 = off */
    cse_admit_limits admit;     /* [authz] admit_*: load shedding at the PEP (cse_admit.h) */
    long verify_per_originator; /* subscription verifications on their way, per originator */
    long fanout_max;            /* sub-requests of one <group>/fopt request, nested included */
    char *notify_plain;         /* "loopback" | "off" | "any": plain coap:// targets */
    long piggyback_ms;          /* a parked CON request's ACK waits this long for the answer */
    char *bus_decide;
    char *bus_events;
    char *bus_sync;
    char *bus_admin;
    char *bus_admin_keys;    /* who may administer (cmn_bus_peers.h) */
    char *bus_keys;          /* tep-authz's MAF key retrieval, "" = off (cse_maf.h) */
    char *bus_maf_events;    /* tep-authz's KeyEvent PUB, "" = off */
    cmn_bus_curve bus_curve; /* [bus] curve, curve_dir, curve_key, curve_name */
    cmn_dtls_limits dtls;    /* [dtls] (cmn_dtls_guard.h) */
    cmn_body_limits body;    /* [cse] max_body, block1_* (cmn_coap.h) */
    /* CSE registration (TS-0001 10.2.2.6; docs/cse.md "CSE registration") */
    char *type;                    /* "IN" | "MN" */
    char *poa;                     /* own pointOfAccess announced at registration, "" = derived */
    char *registrar_cse_id;        /* [registrar] cse_id: MN only, SP-relative "/id-in" */
    char *registrar_name;          /* [registrar] cse_name: its CSEBase rn, "" = cse_id sans '/' */
    char *registrar_poa;           /* [registrar] poa: coaps://h:p (Kpsa) or coap://h:p (plain) */
    char *registrar_prov;          /* [registrar] provisioning: the MN's own enrolment (coaps) */
    char *registrar_state;         /* [registrar] state: its enrolment state file */
    long registrar_check_s;        /* [registrar] check_s: registration checked this often */
    char *registrar_credential;    /* [registrar] credential: kpsa | cert | maf (coaps only) */
    long registrar_renew_margin_s; /* [registrar] renew_margin_s: cert renewed this long before
                                      its notAfter (at most half its lifetime) */
    long registrar_kc_retry_s;     /* [registrar] kc_retry_s: at most one new Kc per this
                                      when the registrar refuses the current one */
    /* MAF Key Retrieval of Kc at this CSE as a target (cse_maf.h) */
    char *maf_retrieval; /* [maf] retrieval: "bus" ([bus] keys) | "coaps" */
    char *maf_uri;       /* [maf] uri: coaps://HOST:PORT, "" = the enrolment's mpoa */
    char *maf_prov;      /* [maf] provisioning: own enrolment; "" = [registrar]'s */
    char *maf_state;     /* [maf] state */
    long maf_recheck_s;  /* [maf] recheck_s: stored Kc fetched again this often */
    long maf_timeout_ms; /* [maf] timeout_ms: each exchange with the MEF/MAF */
} cse_config;

/* Loads path into cfg (cmn_config semantics: CMN_ECONFIG with "FILE:LINE: ..." in err). */
int cse_config_load(const char *path, cse_config *cfg, char *err, size_t errlen);
void cse_config_free(cse_config *cfg); /* NULL is fine */
void cse_config_print_help(FILE *out);
bool cse_config_is_local(const cse_config *cfg);
bool cse_config_is_mn(const cse_config *cfg); /* [cse] type = MN */
/* [maf] retrieval = coaps: the enrolment files it uses ([maf] provisioning/state, else the
 * MN-CSE's [registrar] ones) and whether they are the registree's (it enrols, not maf). */
bool cse_config_maf_coaps(const cse_config *cfg);
void cse_config_maf_files(const cse_config *cfg, const char **prov, const char **state,
                          bool *shared);

#endif
