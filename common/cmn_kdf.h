/* The TS-0003 key hierarchy (clause 10.3). Byte-level choices the spec leaves open
 * are project conventions, written down in docs/keys.md and pinned by known-answer
 * tests in common/test_kdf.c:
 *  - exporter split: RelativeID = exporter[0..15], key = exporter[16..47]
 *    ("16 most significant bytes" = first 16 bytes of the exporter output);
 *  - identifiers are ASCII; anything else is refused (NFKC of ASCII is the identity);
 *  - KpsaID = hex(HMAC-SHA-256(Kpsa, "tep KpsaID")[0..15]) "@" issuer FQDN, issuer = MEF;
 *  - KmID   = hex(HMAC-SHA-256(Km, "tep KmID")[0..15]) "@" MAF FQDN;
 *  - SUID in the usage-constrained key is its decimal ASCII form. */
#ifndef TEP_CMN_KDF_H
#define TEP_CMN_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMN_EXPORTER_LEN 48
#define CMN_KEY_LEN 32
#define CMN_REL_ID_LEN 16
#define CMN_KEY_ID_MAX 300 /* hex(16) + '@' + FQDN(255) + NUL, rounded up */

#define CMN_LABEL_BOOTSTRAP "EXPORTER-oneM2M-Bootstrap"
#define CMN_LABEL_CONNECTION "EXPORTER-oneM2M-Connection"
#define CMN_LABEL_KM "oneM2M Enrolment Key to Master Credential derivation"
#define CMN_LABEL_KPSA "oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
#define CMN_LABEL_KUC "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation"

/* 1 when id may enter a derivation (printable ASCII 0x21..0x7e, 1..1024 bytes), else 0. */
int cmn_kdf_id_valid(const char *id);
/* exporter (48 bytes) -> RelativeID (16) and key (32). */
void cmn_kdf_split_exporter(const uint8_t exporter[CMN_EXPORTER_LEN],
                            uint8_t ret_rel_id[CMN_REL_ID_LEN], uint8_t ret_key[CMN_KEY_LEN]);
/* "hex(rel_id)@fqdn" (KeID, Kc Key Identifier). CMN_ERANGE if it does not fit. */
int cmn_kdf_key_id(const uint8_t rel_id[CMN_REL_ID_LEN], const char *fqdn, char *ret,
                   size_t retlen);
/* Whether id has the shape cmn_kdf_key_id makes: 32 hex digits (either case), "@", a
 * non-empty FQDN, shorter than CMN_KEY_ID_MAX. The FQDN itself is not checked. */
bool cmn_kdf_is_key_id(const char *id);
/* Kpsa = HMAC-SHA-256(Ke, CMN_LABEL_KPSA || registrar CSE-ID) */
int cmn_kdf_kpsa(const uint8_t ke[CMN_KEY_LEN], const char *registrar_cse_id,
                 uint8_t ret_kpsa[CMN_KEY_LEN]);
/* Km = HMAC-SHA-256(Ke, CMN_LABEL_KM || MAF-ID) */
int cmn_kdf_km(const uint8_t ke[CMN_KEY_LEN], const char *maf_id, uint8_t ret_km[CMN_KEY_LEN]);
/* Kuc = HMAC-SHA-256(Ke, CMN_LABEL_KUC || decimal(SUID) || target-ID) */
int cmn_kdf_kuc(const uint8_t ke[CMN_KEY_LEN], unsigned suid, const char *target_id,
                uint8_t ret_kuc[CMN_KEY_LEN]);
/* KpsaID / KmID from the key itself (see above). */
int cmn_kdf_kpsa_id(const uint8_t kpsa[CMN_KEY_LEN], const char *issuer_fqdn, char *ret,
                    size_t retlen);
int cmn_kdf_km_id(const uint8_t km[CMN_KEY_LEN], const char *maf_fqdn, char *ret, size_t retlen);
/* The Key Identifier of a usage-constrained key registered at the MEF (MEF Key
 * Registration, TS-0003 8.3.5.2.7, SUIDs 22-25): hex(HMAC-SHA-256(Kuc, "tep KucID")[0..15])
 * "@" MEF-FQDN, so source, MEF and target compute it from the key (docs/keys.md). */
int cmn_kdf_kuc_id(const uint8_t kuc[CMN_KEY_LEN], const char *mef_fqdn, char *ret, size_t retlen);

#endif
