/* cmn_onem2m: every row of TS-0008 V3.9.0 Table 6.2.4-1, written here as the table's
 * own "class.detail" text and converted independently of the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_onem2m.h"

struct row {
    unsigned rsc;
    const char *coap; /* as printed in the spec table */
};

/* 1002: "2.01 if a <request> resource was created, otherwise 2.04"; tep creates none. */
static const struct row table[] = {
    {1001, "2.01"}, {1002, "2.04"}, {2001, "2.01"}, {2002, "2.02"}, {2004, "2.04"}, {4000, "4.00"},
    {4001, "5.01"}, {4004, "4.04"}, {4005, "4.05"}, {4008, "5.04"}, {4015, "4.15"}, {4101, "4.03"},
    {4102, "4.00"}, {4103, "4.03"}, {4104, "4.00"}, {4105, "4.03"}, {4106, "4.03"}, {4107, "4.03"},
    {4108, "4.03"}, {4109, "4.03"}, {4110, "4.00"}, {4111, "4.03"}, {4112, "4.03"}, {4113, "4.03"},
    {4114, "4.03"}, {4115, "4.03"}, {4116, "4.03"}, {4117, "4.03"}, {4118, "4.04"}, {4119, "4.04"},
    {4120, "4.02"}, {4121, "4.04"}, {4122, "4.02"}, {4123, "4.00"}, {4124, "4.00"}, {4125, "5.01"},
    {4126, "4.03"}, {4127, "4.03"}, {4143, "4.00"}, {5000, "5.00"}, {5001, "5.01"}, {5103, "4.04"},
    {5105, "4.03"}, {5106, "4.00"}, {5107, "4.04"}, {5203, "4.03"}, {5204, "5.00"}, {5205, "4.03"},
    {5206, "5.01"}, {5207, "4.06"}, {5208, "4.03"}, {5209, "5.00"}, {5210, "5.00"}, {5211, "5.00"},
    {5212, "5.00"}, {5214, "4.03"}, {5215, "4.03"}, {5216, "5.00"}, {5217, "5.00"}, {5218, "4.03"},
    {5219, "4.00"}, {5220, "4.00"}, {5221, "5.00"}, {5222, "4.03"}, {6003, "4.04"}, {6005, "4.04"},
    {6010, "4.00"}, {6020, "5.00"}, {6021, "5.00"}, {6022, "4.00"}, {6023, "4.00"}, {6024, "4.00"},
    {6025, "5.00"}, {6026, "5.00"}, {6028, "4.00"}, {6029, "4.00"}, {6030, "5.04"}, {6031, "5.04"},
};

/* "4.03" -> 4 * 32 + 3 */
static unsigned coap_code(const char *text)
{
    return (unsigned)(text[0] - '0') * 32 + (unsigned)atoi(text + 2);
}

static void test_every_row(void **state)
{
    (void)state;
    assert_int_equal(sizeof(table) / sizeof(table[0]), 78);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        unsigned got = cmn_rsc_to_coap(table[i].rsc, CMN_OP_CREATE);

        if (got != coap_code(table[i].coap))
            fail_msg("RSC %u: got %u.%02u, table says %s", table[i].rsc, got >> 5, got & 31,
                     table[i].coap);
        assert_string_not_equal(cmn_rsc_name(table[i].rsc), "UNKNOWN");
    }
}

static void test_ok_depends_on_operation(void **state)
{
    (void)state;
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_OK, CMN_OP_RETRIEVE), 2 * 32 + 5);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_OK, CMN_OP_NOTIFY), 2 * 32 + 4);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_OK, CMN_OP_UPDATE), 2 * 32 + 4);
}

static void test_security_codes(void **state)
{
    (void)state;
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, 0), 4 * 32 + 3);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED, 0), 4 * 32 + 3);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_SECURITY_ASSOCIATION_REQUIRED, 0), 4 * 32 + 3);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_APP_RULE_VALIDATION_FAILED, 0), 4 * 32 + 3);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_REQUEST_TIMEOUT, 0), 5 * 32 + 4);
    assert_int_equal(cmn_rsc_to_coap(CMN_RSC_ALREADY_EXISTS, 0), 4 * 32 + 0);
}

static void test_unknown_and_unused(void **state)
{
    (void)state;
    assert_int_equal(cmn_rsc_to_coap(1000, CMN_OP_CREATE), 5 * 32); /* ACCEPTED: not used */
    assert_int_equal(cmn_rsc_to_coap(4999, CMN_OP_CREATE), 5 * 32);
    assert_int_equal(cmn_rsc_to_coap(0, CMN_OP_CREATE), 5 * 32);
    assert_string_equal(cmn_rsc_name(4999), "UNKNOWN");
    assert_string_equal(cmn_rsc_name(1000), "ACCEPTED");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cmn_rsc_name(CMN_RSC_OK), "OK");
    assert_string_equal(cmn_rsc_name(CMN_RSC_ORIGINATOR_HAS_NO_PRIVILEGE),
                        "ORIGINATOR_HAS_NO_PRIVILEGE");
    assert_string_equal(cmn_rsc_name(CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED),
                        "ORIGINATOR_NOT_AUTHENTICATED");
    assert_string_equal(cmn_rsc_name(CMN_RSC_APP_RULE_VALIDATION_FAILED),
                        "APP_RULE_VALIDATION_FAILED");
    assert_string_equal(cmn_rsc_name(CMN_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED),
                        "ORIGINATOR_HAS_ALREADY_REGISTERED");
    assert_string_equal(cmn_rsc_name(CMN_RSC_NOT_ACCEPTABLE), "NOT_ACCEPTABLE");
    assert_string_equal(cmn_rsc_name(5203), "TARGET_NOT_SUBSCRIBABLE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row),      cmocka_unit_test(test_ok_depends_on_operation),
        cmocka_unit_test(test_security_codes), cmocka_unit_test(test_unknown_and_unused),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
