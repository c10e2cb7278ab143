/* Fuzz target: tep's oneM2M CBOR codec (common/cmn_cbor.c), as tep-cse's CoAP glue
 * decodes a body with Content-Format application/vnd.onem2m-res+cbor. Whatever decodes
 * must encode again and decode to the same JSON value. */
#include <jansson.h>
#include <stdlib.h>

#include "cmn_cbor.h"
#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL, *again = NULL;
    uint8_t *enc = NULL;
    size_t len = 0;

    if (cmn_cbor_decode(data, size, &j) != 0)
        return 0;
    if (cmn_cbor_encode(j, &enc, &len) == 0) {
        if (cmn_cbor_decode(enc, len, &again) != 0 || !json_equal(j, again))
            abort();
    }
    json_decref(again);
    free(enc);
    json_decref(j);
    return 0;
}
