/* cmn_strerror: the text of every CMN_E* code. */
#include "cmn_err.h"

#include <stddef.h>

static const char *const err_text[] = {
    [0] = "success",
    [1] = "out of memory",
    [2] = "invalid argument or malformed input",
    [3] = "not found",
    [4] = "already exists",
    [5] = "I/O error",
    [6] = "cryptographic operation failed",
    [7] = "store error",
    [8] = "corrupt record or message",
    [9] = "store is from a newer schema",
    [10] = "message bus error",
    [11] = "timed out",
    [12] = "try again",
    [13] = "invalid configuration",
    [14] = "protocol error",
    [15] = "denied",
    [16] = "out of range or buffer too small",
    [17] = "expired",
    [18] = "CoAP error",
    [19] = "invalid in current state",
};

const char *cmn_strerror(int err)
{
    size_t i;

    if (err > 0)
        return "unknown error";
    i = (size_t)(-(long)err);
    if (i >= sizeof(err_text) / sizeof(err_text[0]) || err_text[i] == NULL)
        return "unknown error";
    return err_text[i];
}
