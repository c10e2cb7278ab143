/* libtepae internals: the I/O-free protocol core (tae_core.c). Everything here takes
 * bytes or text and returns bytes or text, so unit tests can feed it directly:
 * provisioning and state files, the enrolment request and answer (docs/internals.md
 * "Enrolment over CoAPS"), key derivation from exporter bytes, oneM2M request bodies. */
#ifndef TAE_CORE_H
#define TAE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmn_kdf.h"

#define TAE_ID_MAX 256  /* identifiers (KpmID, AE-ID, CSE-ID, App-ID, FQDN) incl. NUL */
#define TAE_URI_MAX 512 /* URIs incl. NUL */

/* The provisioning file ([device] section). A certificate enrolee's file (TS-0003
 * 8.3.2.2) says `credential = certificate` and has no kpm: it enrols with its
 * manufacturer certificate (tep_enrol_with_cert), kpm_id being only its enrolee name.
 * A GBA device (TS-0003 8.3.2.3) has [gba] impi, k, opc (the software USIM's, 32 hex
 * digits each) and bsf_uri (http:// of tep-bsf's Ub), and needs no kpm_id/kpm. */
typedef struct {
    char kpm_id[TAE_ID_MAX];
    uint8_t kpm[CMN_KEY_LEN];
    bool cert_only;
    char mef_uri[TAE_URI_MAX];
    char mef_fqdn[TAE_ID_MAX];
    bool gba;
    char gba_impi[TAE_ID_MAX];
    uint8_t gba_k[16], gba_opc[16];
    char bsf_uri[TAE_URI_MAX];
} tae_prov;

/* One enrolment: what the state file holds, plus what is derived from it. */
typedef struct {
    char ke_id[CMN_KEY_ID_MAX];
    uint8_t ke[CMN_KEY_LEN];
    char enrolee_id[TAE_ID_MAX];
    char app_id[TAE_ID_MAX];
    char registrar_cse_id[TAE_ID_MAX];
    char registrar_poa[TAE_URI_MAX];
    char maf_id[TAE_ID_MAX];
    char maf_poa[TAE_URI_MAX]; /* the MAF's point of access, "" if not announced */
    int64_t expires;
    int64_t enrolled;       /* when this device enrolled (Unix s); 0 if unknown */
    char ae_rn[TAE_ID_MAX]; /* [registration] rn, "" until tep_register_ae() */
    /* derived, never stored */
    uint8_t kpsa[CMN_KEY_LEN];
    char kpsa_id[CMN_KEY_ID_MAX];
} tae_enrolment;

/* Provisioning text -> prov. CMN_ECONFIG for a missing/unknown key, bad hex, a value
 * too long or a section other than [device]. prov is wiped on error. */
int tae_core_parse_provisioning(const char *text, tae_prov *ret_prov);

/* State text -> enrolment (Kpsa/KpsaID derived with mef_fqdn). CMN_ECORRUPT when
 * malformed. Wiped on error. */
int tae_core_parse_state(const char *text, const char *mef_fqdn, tae_enrolment *ret_enr);
/* Enrolment -> state text, malloc'd, owned by the caller: cmn_free_secret(text, len+1)
 * (it holds Ke). */
int tae_core_format_state(const tae_enrolment *enr, char **ret_text, size_t *ret_len);

/* The POST /enrol body, malloc'd, owned by the caller (free()). */
int tae_core_enrol_request(bool cei, bool mei, bool rmi, char **ret_body);

/* Ke and KeID from the 48 exporter bytes of the bootstrap session. */
int tae_core_ke_from_exporter(const uint8_t exporter[CMN_EXPORTER_LEN], const char *mef_fqdn,
                              uint8_t ret_ke[CMN_KEY_LEN], char ret_ke_id[CMN_KEY_ID_MAX]);

/* The MEF's answer (JSON bytes, not NUL-terminated) -> the enrolment fields of
 * ret_enr (ke_id checked against expected_ke_id: CMN_EPROTO on mismatch; CMN_EPROTO
 * for bad JSON, a missing field, a wrong type, an empty or oversized value, a
 * non-positive expiry or a poa that is not coap(s)://). Does not touch ke. */
int tae_core_parse_enrol_answer(const uint8_t *body, size_t len, const char *expected_ke_id,
                                tae_enrolment *ret_enr);

/* Kpsa = cmn_kdf_kpsa(Ke, registrar CSE-ID), KpsaID = cmn_kdf_kpsa_id(Kpsa, mef_fqdn). */
int tae_core_derive_kpsa(tae_enrolment *enr, const char *mef_fqdn);

/* GBA (TS-0003 8.3.2.3): Ke = Ks_NAF, KeID = B-TID, then as below (fields, Kpsa). */
int tae_core_enrolment_complete_gba(const uint8_t ks_naf[CMN_KEY_LEN], const char *btid,
                                    const char *mef_fqdn, const uint8_t *answer, size_t alen,
                                    tae_enrolment *ret_enr);

/* The whole enrolment from the exporter bytes and the MEF's answer: Ke, KeID, fields,
 * Kpsa, KpsaID. ret_enr is wiped on error. */
int tae_core_enrolment_complete(const uint8_t exporter[CMN_EXPORTER_LEN], const char *mef_fqdn,
                                const uint8_t *answer, size_t alen, tae_enrolment *ret_enr);

/* CSEBase resource name from the registrar CSE-ID ("/tep-cse" -> "tep-cse"). */
int tae_core_cse_name(const char *registrar_cse_id, char *ret, size_t retlen);

/* {"m2m:ae":{"rn":rn,"api":app_id,"rr":false,"srv":["3"]}}, malloc'd, caller frees. */
int tae_core_ae_body(const char *app_id, const char *rn, char **ret_body);

/* Host part of a coap:// or coaps:// URI (for SNI), without brackets. */
int tae_core_uri_host(const char *uri, char *ret, size_t retlen);

#endif
