/* Fuzz target: the HTTP Digest AKA header parser (common/cmn_digest.c) as tep-bsf's Ub
 * reads a device's Authorization header and libtepae a BSF's WWW-Authenticate; then the
 * BSF-side base64 of a nonce or AUTS out of it (cmn_gba_b64_decode). */
#include <stdlib.h>
#include <string.h>

#include "cmn_digest.h"
#include "cmn_gba.h"
#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    cmn_digest_auth a;
    uint8_t raw[32];

    if (h == NULL)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    if (cmn_digest_parse(h, &a) == 0) {
        /* every value is NUL-terminated inside its field */
        if (strlen(a.username) >= sizeof(a.username) || strlen(a.auts) >= sizeof(a.auts))
            abort();
        (void)cmn_gba_b64_decode(a.nonce, raw, sizeof(raw));
        (void)cmn_gba_b64_decode(a.auts, raw, 14);
    }
    free(h);
    return 0;
}
