/* Fuzz target: the bodies tep-enroller's CoAPS handlers read (enroller/enr_enrol.c) and
 * the CSR check of the tep CA (common/cmn_ca.c), as a POST /enrol or /cert in a MEF
 * session hands them over.
 *
 * Input: first byte selects, the rest is the body.
 *   even: POST /enrol (enr_enrol_parse: JSON indications);
 *   odd:  POST /cert (enr_cert_parse: JSON with a base64 DER CSR), then the CSR itself
 *         through cmn_ca_csr_id (PKCS#10 parse, proof of possession, key type, SAN), and
 *         the raw bytes as a CSR too. */
#include <stdlib.h>

#include "cmn_ca.h"
#include "enr_enrol.h"
#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t der[CMN_CA_CERT_DER_MAX * 2];
    char id[CMN_CA_ID_MAX];
    enr_indications ind;
    size_t len = sizeof(der);

    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        (void)enr_enrol_parse(data + 1, size - 1, &ind);
        return 0;
    }
    if (enr_cert_parse(data + 1, size - 1, der, &len) == 0) {
        if (len > sizeof(der))
            abort();
        (void)cmn_ca_csr_id(der, len, id, sizeof(id));
    }
    (void)cmn_ca_csr_id(data + 1, size - 1, id, sizeof(id));
    return 0;
}
