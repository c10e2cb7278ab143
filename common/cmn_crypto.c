/* wolfCrypt wrappers: HMAC-SHA-256, SHA-256, the random generator, wiping, hex. */
#include "cmn_crypto.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "cmn_err.h"

/* One generator for the process, created on first use: pthread_once makes the creation
 * safe when several threads (libtepae: one device per thread) make their first call at
 * once, and rng_lock serialises the draws (a WC_RNG is not safe for concurrent use). A
 * child of fork() must not draw the parent's sequence again: rng_forked (set in the
 * child by pthread_atfork) makes the next draw there create a fresh generator. */
static WC_RNG rng;
static int rng_err; /* 0, or CMN_ECRYPTO when the generator could not be created */
static bool rng_forked;
static pthread_once_t rng_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;

int cmn_hmac_sha256_v(const uint8_t *key, size_t klen, const uint8_t *const *parts,
                      const size_t *lens, size_t n, uint8_t ret_mac[CMN_SHA256_LEN])
{
    Hmac hmac;
    int rc = CMN_ECRYPTO;

    if ((key == NULL && klen != 0) || klen > UINT32_MAX || (n && (parts == NULL || lens == NULL)) ||
        ret_mac == NULL)
        return CMN_EINVAL;
    if (wc_HmacInit(&hmac, NULL, INVALID_DEVID) != 0)
        return CMN_ECRYPTO;
    if (wc_HmacSetKey(&hmac, WC_SHA256, key, (word32)klen) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > UINT32_MAX || (parts[i] == NULL && lens[i] != 0)) {
            rc = CMN_EINVAL;
            goto out;
        }
        if (lens[i] && wc_HmacUpdate(&hmac, parts[i], (word32)lens[i]) != 0)
            goto out;
    }
    if (wc_HmacFinal(&hmac, ret_mac) != 0)
        goto out;
    rc = 0;
out:
    wc_HmacFree(&hmac);
    cmn_wipe(&hmac, sizeof(hmac)); /* holds the padded key */
    return rc;
}

int cmn_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen,
                    uint8_t ret_mac[CMN_SHA256_LEN])
{
    const uint8_t *parts[1] = {msg};
    const size_t lens[1] = {mlen};

    return cmn_hmac_sha256_v(key, klen, parts, lens, 1, ret_mac);
}

int cmn_sha256(const uint8_t *msg, size_t mlen, uint8_t ret_digest[CMN_SHA256_LEN])
{
    wc_Sha256 sha;
    int rc = CMN_ECRYPTO;

    if ((msg == NULL && mlen != 0) || mlen > UINT32_MAX || ret_digest == NULL)
        return CMN_EINVAL;
    if (wc_InitSha256(&sha) != 0)
        return CMN_ECRYPTO;
    if (mlen && wc_Sha256Update(&sha, msg, (word32)mlen) != 0)
        goto out;
    if (wc_Sha256Final(&sha, ret_digest) != 0)
        goto out;
    rc = 0;
out:
    wc_Sha256Free(&sha);
    return rc;
}

static void rng_after_fork_child(void)
{
    /* The child has one thread: the lock may have been held by another thread of the
     * parent, so it starts over unlocked. */
    pthread_mutex_init(&rng_lock, NULL);
    rng_forked = true;
}

static void rng_create(void)
{
    rng_err = wc_InitRng(&rng) != 0 ? CMN_ECRYPTO : 0;
    pthread_atfork(NULL, NULL, rng_after_fork_child);
}

/* Called with rng_lock held. */
static int rng_draw(uint8_t *buf, size_t len)
{
    if (rng_forked) {
        if (rng_err == 0)
            wc_FreeRng(&rng);
        rng_err = wc_InitRng(&rng) != 0 ? CMN_ECRYPTO : 0;
        rng_forked = false;
    }
    if (rng_err != 0)
        return rng_err;
    while (len > 0) {
        word32 chunk = len > RNG_MAX_BLOCK_LEN ? RNG_MAX_BLOCK_LEN : (word32)len;

        if (wc_RNG_GenerateBlock(&rng, buf, chunk) != 0)
            return CMN_ECRYPTO;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

int cmn_random(uint8_t *buf, size_t len)
{
    int rc;

    if (buf == NULL && len != 0)
        return CMN_EINVAL;
    pthread_once(&rng_once, rng_create);
    pthread_mutex_lock(&rng_lock);
    rc = rng_draw(buf, len);
    pthread_mutex_unlock(&rng_lock);
    return rc;
}

/* Debian's libwolfssl 5.5.4 does not export wc_ForceZero (it is an inline in
 * wolfcrypt/misc.h, only visible inside the library), so glibc's explicit_bzero,
 * which the compiler may not elide, does the same job. */
void cmn_wipe(void *p, size_t len)
{
    if (p != NULL && len != 0)
        explicit_bzero(p, len);
}

void cmn_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    cmn_wipe(p, len);
    free(p);
}

int cmn_memcmp_ct(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t diff = 0;

    for (size_t i = 0; i < len; i++)
        diff |= x[i] ^ y[i];
    return diff != 0;
}

void cmn_hex_encode(const uint8_t *buf, size_t len, char *ret)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        ret[2 * i] = digits[buf[i] >> 4];
        ret[2 * i + 1] = digits[buf[i] & 0x0f];
    }
    ret[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cmn_hex_decode(const char *hex, uint8_t *ret, size_t len)
{
    if (hex == NULL || (ret == NULL && len != 0))
        return CMN_EINVAL;
    if (strnlen(hex, 2 * len + 1) != 2 * len)
        return CMN_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]);
        int lo = hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            cmn_wipe(ret, i); /* the output may be a key: leave nothing half-written */
            return CMN_EINVAL;
        }
        ret[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
