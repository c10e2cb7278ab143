/* Milenage, the 3GPP authentication and key generation functions f1, f1*, f2, f3, f4,
 * f5, f5* (3GPP TS 35.205, algorithm in TS 35.206), on wolfCrypt AES-128, and the UMTS
 * AKA values built from them (TS 33.102 6.3): AUTN, AUTS, SQN checks.
 * Pinned by the TS 35.207/35.208 test sets in common/test_milenage.c; the byte layout is
 * in docs/keys.md. Used by tep-bsf (the HSS side) and by libtepae's software USIM. */
#ifndef TEP_CMN_MILENAGE_H
#define TEP_CMN_MILENAGE_H

#include <stddef.h>
#include <stdint.h>

#define CMN_MIL_K_LEN 16
#define CMN_MIL_RAND_LEN 16
#define CMN_MIL_SQN_LEN 6
#define CMN_MIL_AMF_LEN 2
#define CMN_MIL_MAC_LEN 8
#define CMN_MIL_RES_LEN 8
#define CMN_MIL_CK_LEN 16
#define CMN_MIL_AK_LEN 6
#define CMN_MIL_AUTN_LEN 16 /* SQN^AK (6) || AMF (2) || MAC-A (8) */
#define CMN_MIL_AUTS_LEN 14 /* SQN_MS^AK* (6) || MAC-S (8) */
#define CMN_MIL_SQN_MAX 0xffffffffffffULL

/* OPc = OP xor E_K(OP) (TS 35.206 4.1). */
int cmn_milenage_opc(const uint8_t k[CMN_MIL_K_LEN], const uint8_t op[CMN_MIL_K_LEN],
                     uint8_t ret_opc[CMN_MIL_K_LEN]);
/* f1 (MAC-A) and f1* (MAC-S); either output may be NULL. */
int cmn_milenage_f1(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                    const uint8_t rand[CMN_MIL_RAND_LEN], const uint8_t sqn[CMN_MIL_SQN_LEN],
                    const uint8_t amf[CMN_MIL_AMF_LEN], uint8_t ret_mac_a[CMN_MIL_MAC_LEN],
                    uint8_t ret_mac_s[CMN_MIL_MAC_LEN]);
/* f2 (RES), f3 (CK), f4 (IK), f5 (AK), f5* (AK*); any output may be NULL. */
int cmn_milenage_f2345(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                       const uint8_t rand[CMN_MIL_RAND_LEN], uint8_t ret_res[CMN_MIL_RES_LEN],
                       uint8_t ret_ck[CMN_MIL_CK_LEN], uint8_t ret_ik[CMN_MIL_CK_LEN],
                       uint8_t ret_ak[CMN_MIL_AK_LEN], uint8_t ret_ak_star[CMN_MIL_AK_LEN]);

/* SQN as a 48-bit big-endian number and back. */
uint64_t cmn_milenage_sqn_get(const uint8_t sqn[CMN_MIL_SQN_LEN]);
void cmn_milenage_sqn_put(uint64_t value, uint8_t ret_sqn[CMN_MIL_SQN_LEN]);

/* Network side (HSS): AUTN = (SQN xor AK) || AMF || MAC-A, with RES, CK, IK for RAND. */
int cmn_milenage_autn(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                      const uint8_t rand[CMN_MIL_RAND_LEN], uint64_t sqn,
                      const uint8_t amf[CMN_MIL_AMF_LEN], uint8_t ret_autn[CMN_MIL_AUTN_LEN],
                      uint8_t ret_xres[CMN_MIL_RES_LEN], uint8_t ret_ck[CMN_MIL_CK_LEN],
                      uint8_t ret_ik[CMN_MIL_CK_LEN]);
/* Network side: check AUTS (TS 33.102 6.3.5) and return SQN_MS. The resynchronisation
 * MAC-S is computed with AMF = 0x0000 (TS 33.102 6.3.3). CMN_EDENIED on a bad MAC-S. */
int cmn_milenage_auts_check(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                            const uint8_t rand[CMN_MIL_RAND_LEN],
                            const uint8_t auts[CMN_MIL_AUTS_LEN], uint64_t *ret_sqn_ms);
/* USIM side: open AUTN for RAND: recover SQN (SQN^AK xor AK), check MAC-A (CMN_EDENIED
 * when it differs: the network is not the one holding K), return RES, CK, IK. The
 * freshness of SQN is the caller's check (the USIM's window). Outputs may be NULL. */
int cmn_milenage_autn_open(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                           const uint8_t rand[CMN_MIL_RAND_LEN],
                           const uint8_t autn[CMN_MIL_AUTN_LEN], uint64_t *ret_sqn,
                           uint8_t ret_res[CMN_MIL_RES_LEN], uint8_t ret_ck[CMN_MIL_CK_LEN],
                           uint8_t ret_ik[CMN_MIL_CK_LEN]);
/* USIM side: AUTS = (SQN_MS xor AK*) || f1*(SQN_MS, RAND, AMF = 0x0000). */
int cmn_milenage_auts(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                      const uint8_t rand[CMN_MIL_RAND_LEN], uint64_t sqn_ms,
                      uint8_t ret_auts[CMN_MIL_AUTS_LEN]);

#endif
