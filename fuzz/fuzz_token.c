/* Fuzz target: what a token or a pattern from outside meets.
 *
 * Input: first byte selects, the rest is the text.
 *   0: a compact JWS token through cmn_token_verify() (cmn_jws_decode: base64url, JSON
 *      header and payload, ES256 against a fixed issuer key; then the claim checks and
 *      the aud wildcards), as tep-cse checks tkns;
 *   1: "pattern\ntext" through the one wildcard matcher (cmn_glob), plain and per segment,
 *      with its work bounded: more than 8 steps per byte is a finding (abort), and the
 *      covering rule tep-authz applies to a requested ris (cmn_glob_covers). */
#include <stdlib.h>
#include <string.h>

#include "cmn_glob.h"
#include "cmn_jws.h"
#include "cmn_token.h"
#include "fuzz_target.h"

static cmn_token_issuer issuer = {.id = "maf.tep.local"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t priv[CMN_ES256_PRIV_LEN];

    (void)argc, (void)argv;
    if (cmn_es256_keygen(priv, issuer.pub) != 0)
        abort();
    return 0;
}

static void token(const char *s)
{
    static const char *const aud[] = {"/tep-cse", "//tep.local/tep-cse"};
    cmn_token_check chk = {.issuers = &issuer,
                           .n_issuers = 1,
                           .holder = "//tep.local/tep-cse/Cdevice01",
                           .audience = aud,
                           .n_audience = 2,
                           .now = 1790000000};
    cmn_token *t = NULL;
    cmn_token_status st;

    if (cmn_token_verify(s, &chk, &t, &st) == 0 && t == NULL)
        abort();
    cmn_token_free(t);
}

static void glob(const char *s, size_t n)
{
    const char *nl = memchr(s, '\n', n);
    size_t pn = nl != NULL ? (size_t)(nl - s) : n / 2;
    const char *t = nl != NULL ? nl + 1 : s + pn;
    size_t tn = n - (size_t)(t - s), steps = 0;

    for (unsigned flags = 0; flags <= CMN_GLOB_SEGMENT; flags++) {
        (void)cmn_glob_matchn(s, pn, t, tn, flags, &steps);
        if (steps > 8 * (pn + tn) + 16)
            abort(); /* not linear */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1 || size > 65536)
        return 0;
    s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] & 1) {
        char *nl = memchr(s, '\n', size - 1);

        glob(s, size - 1);
        if (nl != NULL) {
            *nl = '\0';
            if (strlen(s) == (size_t)(nl - s) && strlen(nl + 1) == size - 2 - (size_t)(nl - s))
                (void)cmn_glob_covers(s, nl + 1);
        }
    } else if (strlen(s) == size - 1) {
        token(s);
    }
    free(s);
    return 0;
}
