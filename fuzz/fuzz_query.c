/* Fuzz target: tep-cse's Uri-Query parser (cse-node/cse_query.c): filter criteria, rcn,
 * fu, lim/ofst/lvl, ty and lbl lists, as a request's Uri-Query options reach it. */
#include <stdlib.h>
#include <string.h>

#include "cse_query.h"
#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *q = malloc(size + 1), why[128];
    cse_query qr;

    if (q == NULL)
        return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    if (cse_query_parse(q, &qr, why, sizeof(why)) == 0 &&
        (qr.n_ty > CSE_QUERY_MAX_TY || qr.n_lbl > CSE_QUERY_MAX_LBL))
        abort();
    free(q);
    return 0;
}
