/* Test fixture shared by the enroller's CMocka programs: an IssuedCert record for
 * Cdevice01 (KpmID device01) put straight into db "certs", as enr_ca_issue() records
 * one, without a CA or a CSR. Include after <cmocka.h>. */
#ifndef TEP_ENR_TEST_CERTS_H
#define TEP_ENR_TEST_CERTS_H

#include <string.h>

#include "enr_db.h"

static inline void test_put_cert(cmn_store *s, const char *serial, const char *ke_id)
{
    Tep__IssuedCert c = TEP__ISSUED_CERT__INIT;
    uint8_t buf[512];

    c.serial = (char *)serial;
    c.enrolee_id = "Cdevice01";
    c.kpm_id = "device01";
    c.ke_id = (char *)ke_id;
    c.not_after = 4102444800; /* 2100 */
    assert_true(tep__issued_cert__get_packed_size(&c) <= sizeof(buf));
    assert_int_equal(cmn_store_put(s, ENR_DB_CERTS, serial, strlen(serial), buf,
                                   tep__issued_cert__pack(&c, buf)),
                     0);
}

#endif
