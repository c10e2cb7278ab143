/* wolfCrypt wrappers: every key, MAC and random number tep computes itself. */
#ifndef TEP_CMN_CRYPTO_H
#define TEP_CMN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CMN_SHA256_LEN 32

int cmn_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen,
                    uint8_t ret_mac[CMN_SHA256_LEN]);
/* HMAC over the concatenation of n parts (no separators). */
int cmn_hmac_sha256_v(const uint8_t *key, size_t klen, const uint8_t *const *parts,
                      const size_t *lens, size_t n, uint8_t ret_mac[CMN_SHA256_LEN]);
int cmn_sha256(const uint8_t *msg, size_t mlen, uint8_t ret_digest[CMN_SHA256_LEN]);
/* len random bytes from the process's one generator (wolfCrypt Hash_DRBG): safe to call from
 * several threads at once, and after fork() the child draws from a fresh generator.
 * CMN_EINVAL, CMN_ECRYPTO. */
int cmn_random(uint8_t *buf, size_t len);
/* Wipes with wc_ForceZero (never optimised away). */
void cmn_wipe(void *p, size_t len);
/* Wipes then frees; NULL is fine. */
void cmn_free_secret(void *p, size_t len);
/* Constant-time comparison: 0 when equal. */
int cmn_memcmp_ct(const void *a, const void *b, size_t len);

/* Lower-case hex. ret must hold 2*len+1 bytes. */
void cmn_hex_encode(const uint8_t *buf, size_t len, char *ret);
/* Decodes exactly 2*len hex digits (either case) into ret (len bytes): 0 or CMN_EINVAL. */
int cmn_hex_decode(const char *hex, uint8_t *ret, size_t len);

#endif
