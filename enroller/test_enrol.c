/* enr_enrol: what an enrolee may send and what it gets back. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_ca.h"
#include "cmn_err.h"
#include "enr_enrol.h"

static int parse(const char *s, enr_indications *ind)
{
    return enr_enrol_parse((const uint8_t *)s, strlen(s), ind);
}

static void test_indications(void **state)
{
    enr_indications ind;

    (void)state;
    assert_int_equal(parse("{\"cei\": false, \"mei\": true, \"rmi\": false}", &ind), 0);
    assert_false(ind.cei);
    assert_true(ind.mei);
    assert_false(ind.rmi);
    assert_int_equal(parse("{}", &ind), 0);
    assert_false(ind.mei);
    assert_int_equal(enr_enrol_parse(NULL, 0, &ind), 0);
    assert_int_equal(parse("{\"cei\": true, \"other\": 1}", &ind), 0);
    assert_true(ind.cei);
}

static void test_bad_bodies(void **state)
{
    enr_indications ind;

    (void)state;
    assert_int_equal(parse("{", &ind), CMN_EINVAL);
    assert_int_equal(parse("[]", &ind), CMN_EINVAL);
    assert_int_equal(parse("{\"mei\": \"yes\"}", &ind), CMN_EINVAL);
    assert_int_equal(parse("{\"mei\": true, \"mei\": false}", &ind), CMN_EINVAL);
}

static void test_answer(void **state)
{
    enr_enrol_result r = {0};
    enr_targets tgt = {"/tep-cse", "coaps://127.0.0.1:5684", "maf.tep.local", "PEM",
                       "coaps://127.0.0.1:5686"};
    char *json = NULL;
    json_t *root, *t;

    (void)state;
    strcpy(r.enrolee_id, "Cdevice01");
    strcpy(r.app_id, "Ntepdemo");
    r.expires = 1795000000;
    assert_int_equal(enr_enrol_answer("0011@mef.tep.local", &r, &tgt, &json), 0);
    root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "keid")), "0011@mef.tep.local");
    assert_string_equal(json_string_value(json_object_get(root, "eid")), "Cdevice01");
    assert_string_equal(json_string_value(json_object_get(root, "api")), "Ntepdemo");
    assert_int_equal(json_integer_value(json_object_get(root, "exp")), 1795000000);
    t = json_object_get(root, "tgt");
    assert_string_equal(json_string_value(json_object_get(t, "csi")), "/tep-cse");
    assert_string_equal(json_string_value(json_object_get(t, "poa")), "coaps://127.0.0.1:5684");
    assert_string_equal(json_string_value(json_object_get(t, "mafi")), "maf.tep.local");
    /* the MAF's point of access when configured (maf_poa) */
    assert_string_equal(json_string_value(json_object_get(t, "mpoa")), "coaps://127.0.0.1:5686");
    /* trust anchors come with the enrolment */
    assert_string_equal(json_string_value(json_array_get(json_object_get(root, "tas"), 0)), "PEM");
    json_decref(root);
    free(json);
}

static void test_cert_bodies(void **state)
{
    uint8_t key[CMN_CA_KEY_DER_MAX], csr[CMN_CA_CERT_DER_MAX], der[CMN_CA_CERT_DER_MAX];
    size_t klen = sizeof(key), clen = sizeof(csr), dlen = sizeof(der);
    char pem[CMN_CA_PEM_MAX], *body;
    json_t *j;

    (void)state;
    assert_int_equal(cmn_ca_key_new(key, &klen), 0);
    assert_int_equal(cmn_ca_make_csr(key, klen, "Cdevice01", csr, &clen), 0);
    assert_int_equal(cmn_ca_to_pem(csr, clen, "CERTIFICATE REQUEST", pem, sizeof(pem)), 0);
    j = json_pack("{s:s}", "csr", pem);
    body = json_dumps(j, 0);
    assert_int_equal(enr_cert_parse((uint8_t *)body, strlen(body), der, &dlen), 0);
    assert_int_equal(dlen, clen);
    assert_memory_equal(der, csr, clen);
    free(body);
    json_decref(j);
    dlen = sizeof(der);
    assert_int_equal(enr_cert_parse((const uint8_t *)"{\"csr\":1}", 9, der, &dlen), CMN_EINVAL);
    assert_int_equal(enr_cert_parse((const uint8_t *)"{\"csr\":\"x\"}", 11, der, &dlen),
                     CMN_EINVAL);
    assert_int_equal(enr_cert_parse((const uint8_t *)"[]", 2, der, &dlen), CMN_EINVAL);
    assert_int_equal(enr_cert_parse(NULL, 0, der, &dlen), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indications),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_cert_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
