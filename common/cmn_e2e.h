/* End-to-end key derivations of TS-0003 10.3.6 (Ke2e_master and its four expansions)
 * and 10.3.8 (sessionESPrimKey), and the pairwiseESPrimKey tep makes from a pair key.
 * The spec leaves the salt, the hash, the rand objects' bytes and the "reserved string"
 * open: tep's choices are written down in docs/keys.md (items 13-19) and pinned by the
 * known-answer tests of common/test_e2e.c. In short:
 *  - Ke2e_master = HMAC-SHA-256(salt = End-Point-B-ID (ASCII), ikm = the pair key):
 *    the pair key is Kpsa (RSPF, B = the registrar CSE-ID Kpsa was derived for), Kc
 *    (MAF Key Registration with SUID 33/34/35, B = the key's one target ID) or Kuc (MEF
 *    Key Registration with SUID 23/24/25, B = the key's one target ID; item 22);
 *  - the expansions follow 10.3.6.2 byte for byte: T(i) = HMAC(master, T(i-1) || label_i
 *    || i) with label_i the ASCII label without terminator and i one byte;
 *  - pairwiseESPrimKey = Ke2e_msg_conf (the "reserved string" is its label);
 *  - sessionESPrimKey = HMAC-SHA-256(pairwiseESPrimKey, rv_receiver || rv_originator ||
 *    label), each rand object entering as its 16-byte esprimRandValue. */
#ifndef TEP_CMN_E2E_H
#define TEP_CMN_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "cmn_kdf.h"

#define CMN_E2E_RAND_LEN 16 /* esprimRandValue: 128 bits */

#define CMN_LABEL_E2E_MSG_AUTH "E2E Message Authentication Key"
#define CMN_LABEL_E2E_MSG_CONF "E2E Message Confidentiality Key"
#define CMN_LABEL_E2E_ATT_AUTH "E2E Attribute Authenticity Key"
#define CMN_LABEL_E2E_ATT_CONF "E2E Attribute Confidentiality Key"
#define CMN_LABEL_SESSION_ESPRIM "oneM2M HMAC-SHA256 sessionESPrimKey derivation algorithm"

/* The four keys of TS-0003 Table 10.3.6.2-1, in expansion order T(1)..T(4). */
typedef struct {
    uint8_t msg_auth[CMN_KEY_LEN]; /* Ke2e_msg_auth = T(1) */
    uint8_t msg_conf[CMN_KEY_LEN]; /* Ke2e_msg_conf = T(2): also pairwiseESPrimKey */
    uint8_t att_auth[CMN_KEY_LEN]; /* Ke2e_att_auth = T(3): ESData JWS HS256 key */
    uint8_t att_conf[CMN_KEY_LEN]; /* Ke2e_att_conf = T(4): ESData JWE "dir" key */
} cmn_e2e_keys;

/* Ke2e_master = HMAC-SHA-256(b_id, pair_key). b_id must be printable ASCII (as every
 * derivation input ID, docs/keys.md item 4): CMN_EINVAL otherwise. */
int cmn_e2e_master(const uint8_t pair_key[CMN_KEY_LEN], const char *b_id,
                   uint8_t ret_master[CMN_KEY_LEN]);
/* The four expansions of master (10.3.6.2). ret is secret: cmn_wipe it. */
int cmn_e2e_expand(const uint8_t master[CMN_KEY_LEN], cmn_e2e_keys *ret);
/* Both steps: pair key and B's ID -> the four keys. */
int cmn_e2e_keys_from_pair(const uint8_t pair_key[CMN_KEY_LEN], const char *b_id,
                           cmn_e2e_keys *ret);
/* sessionESPrimKey (10.3.8.2, esprimKeyGenAlgID 1). */
int cmn_e2e_session_esprim_key(const uint8_t pairwise[CMN_KEY_LEN],
                               const uint8_t rand_receiver[CMN_E2E_RAND_LEN],
                               const uint8_t rand_originator[CMN_E2E_RAND_LEN],
                               uint8_t ret_key[CMN_KEY_LEN]);

/* esprimRandValue as text (xs:NCName, TS-0004 6.3.5.50): "r" followed by the 32
 * lower-case hex digits of the 16 bytes (an NCName cannot start with a digit).
 * ret must hold CMN_E2E_RAND_TEXT bytes. Parsing accepts exactly that form. */
#define CMN_E2E_RAND_TEXT (1 + 2 * CMN_E2E_RAND_LEN + 1)
void cmn_e2e_rand_format(const uint8_t rand[CMN_E2E_RAND_LEN], char ret[CMN_E2E_RAND_TEXT]);
int cmn_e2e_rand_parse(const char *text, uint8_t ret[CMN_E2E_RAND_LEN]);

#endif
