/* libtepae internals: end-to-end keys made inside the library (tep_e2e.c), e.g. from a
 * Kc that never leaves it (tep_maf.c). */
#ifndef TAE_E2E_H
#define TAE_E2E_H

#include <stdint.h>

#include "cmn_kdf.h"
#include "tep/tepae.h"

/* The four keys of pair_key and End-Point-B-ID b_id (cmn_e2e), named kid (copied). */
int tae_e2e_key_new(const uint8_t pair_key[CMN_KEY_LEN], const char *kid, const char *b_id,
                    tep_e2e_key **ret_key);

/* Ke2e_msg_conf of key (pairwiseESPrimKey) into ret: secret, wipe it. */
int tae_e2e_key_msg_conf(const tep_e2e_key *key, uint8_t ret[CMN_KEY_LEN]);

/* An ESPrim session (tep_esprim.c) with pairwise as pairwiseESPrimKey named kid. */
int tae_esprim_new(const uint8_t pairwise[CMN_KEY_LEN], const char *kid,
                   const char *receiver_rand_json, int64_t lifetime, tep_esprim **ret);

#endif
