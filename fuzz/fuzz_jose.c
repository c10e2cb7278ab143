/* Fuzz target: the JOSE objects end-to-end security takes from peers (cmn_jose.h).
 *
 * Input: first byte selects, the rest is the compact text.
 *   even: a JWE through cmn_jwe_decode (five parts, base64url, the protected header's
 *         alg/enc/zip/crit, IV and tag lengths) and, when it decodes, cmn_jwe_decrypt with
 *         a fixed key (AES-GCM over the ciphertext with the header as AAD): what tep-cse
 *         does with an ESPrim object and libtepae with an ESData JWE;
 *   odd:  a JWS through cmn_jose_jws_decode (three parts, any payload) and both verifiers
 *         (HS256 with the fixed key, ES256 with a fixed public key): libtepae's ESData
 *         signatures.
 * The fixed key also makes a valid object (made at start): the seeds reach decryption. */
#include <stdlib.h>
#include <string.h>

#include "cmn_jose.h"
#include "fuzz_target.h"

static uint8_t key[CMN_KEY_LEN];
static uint8_t pub[CMN_ES256_PUB_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t priv[CMN_ES256_PRIV_LEN];

    (void)argc, (void)argv;
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i; /* the seeds' key */
    if (cmn_es256_keygen(priv, pub) != 0)
        abort();
    return 0;
}

static void jwe(const char *s)
{
    cmn_jwe *j = NULL;
    uint8_t *pt = NULL;
    size_t len = 0;

    if (cmn_jwe_decode(s, &j) != 0)
        return;
    (void)cmn_jwe_header_str(j, "kid");
    if (cmn_jwe_decrypt(j, key, &pt, &len) == 0 && pt[len] != '\0')
        abort(); /* the plaintext is NUL-terminated */
    free(pt);
    cmn_jwe_free(j);
}

static void jws(const char *s)
{
    cmn_jose_jws *j = NULL;

    if (cmn_jose_jws_decode(s, &j) != 0)
        return;
    (void)cmn_jose_verify_hs256(j, key);
    (void)cmn_jose_verify_es256(j, pub);
    if (j->payload[j->payload_len] != '\0')
        abort();
    cmn_jose_jws_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1 || size > 65536)
        return 0;
    if ((s = malloc(size)) == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (strlen(s) == size - 1) {
        if (data[0] & 1)
            jws(s);
        else
            jwe(s);
    }
    free(s);
    return 0;
}
