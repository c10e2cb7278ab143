/* Unit tests of the I/O-free SDK core: provisioning and state files, the enrolment
 * request and the MEF's answer, keys from exporter bytes. Expected keys were computed
 * independently in Python (hmac/hashlib):
 *   exp = bytes(range(48)); ke = exp[16:]
 *   kpsa = H(ke, b"oneM2M Enrolment Key to Provisioned Secure Connection Key derivation"
 *               + b"/tep-cse")
 *   kpsa_id = H(kpsa, b"tep KpsaID")[:16].hex() + "@mef.tep.local" */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "tae_core.h"
#include "tst.h"

#define FQDN "mef.tep.local"
#define KAT_KEID "000102030405060708090a0b0c0d0e0f@" FQDN
#define KAT_KE "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define KAT_KPSA "e3a6bec8c33a5d3ff88835c3199a089685b49da05d17bd7a3a182de549ae8266"
#define KAT_KPSA_ID "181a4dc98eb5bf7b3e212074462657e8@" FQDN
#define KPM_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

#define ANSWER(keid, rest)                                                                         \
    "{\"keid\": \"" keid "\", \"eid\": \"Cdevice01\", \"api\": \"Ntepdemo\", " rest "}"
#define GOOD_REST                                                                                  \
    "\"exp\": 1795000000, \"tgt\": {\"csi\": \"/tep-cse\", \"poa\": "                              \
    "\"coaps://127.0.0.1:5684\", \"mafi\": \"maf.tep.local\"}"

static int setup(void **state)
{
    tst_json_leak_check();
    return 0;
}

static void exporter_kat(uint8_t exp[CMN_EXPORTER_LEN])
{
    for (int i = 0; i < CMN_EXPORTER_LEN; i++)
        exp[i] = (uint8_t)i;
}

static void assert_hex(const uint8_t *bytes, size_t len, const char *hex)
{
    char buf[2 * 64 + 1];

    cmn_hex_encode(bytes, len, buf);
    assert_string_equal(buf, hex);
}

static int parse_answer(const char *json, tae_enrolment *e)
{
    memset(e, 0, sizeof(*e));
    return tae_core_parse_enrol_answer((const uint8_t *)json, strlen(json), KAT_KEID, e);
}

/* ---- provisioning --------------------------------------------------------------- */

static void provisioning_valid(void **state)
{
    tae_prov p;
    const char *text = "[device]\nkpm_id = device01\nkpm = " KPM_HEX "\n"
                       "mef_uri = coaps://127.0.0.1:5784\nmef_fqdn = " FQDN "\n";

    assert_int_equal(tae_core_parse_provisioning(text, &p), 0);
    assert_string_equal(p.kpm_id, "device01");
    assert_hex(p.kpm, CMN_KEY_LEN, KPM_HEX);
    assert_string_equal(p.mef_uri, "coaps://127.0.0.1:5784");
    assert_string_equal(p.mef_fqdn, FQDN);
}

/* A certificate enrolee (TS-0003 8.3.2.2): `credential = certificate`, no kpm. */
static void provisioning_certificate(void **state)
{
    tae_prov p;
    const char *text = "[device]\nkpm_id = meter7\ncredential = certificate\n"
                       "mef_uri = coaps://127.0.0.1:5784\nmef_fqdn = " FQDN "\n";

    assert_int_equal(tae_core_parse_provisioning(text, &p), 0);
    assert_true(p.cert_only);
    assert_string_equal(p.kpm_id, "meter7");
    assert_int_equal(tae_core_parse_provisioning("[device]\nkpm_id = d\nkpm = " KPM_HEX
                                                 "\ncredential = kpm\nmef_uri = coaps://h:1\n"
                                                 "mef_fqdn = f\n",
                                                 &p),
                     0);
    assert_false(p.cert_only);
}

static void provisioning_invalid(void **state)
{
    static const char *bad[] = {
        /* kpm missing */
        "[device]\nkpm_id = d\nmef_uri = coaps://h:1\nmef_fqdn = f\n",
        /* kpm one digit short, then not hex */
        "[device]\nkpm_id = d\nkpm = 0011\nmef_uri = coaps://h:1\nmef_fqdn = f\n",
        "[device]\nkpm_id = d\nkpm = "
        "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
        "mef_uri = coaps://h:1\nmef_fqdn = f\n",
        /* unknown key, unknown section, plain-CoAP MEF */
        "[device]\nkpm_id = d\nkpm = " KPM_HEX "\nmef_uri = coaps://h:1\nmef_fqdn = f\nx = 1\n",
        "[device]\nkpm_id = d\nkpm = " KPM_HEX
        "\nmef_uri = coaps://h:1\nmef_fqdn = f\n[other]\na=b\n",
        "[device]\nkpm_id = d\nkpm = " KPM_HEX "\nmef_uri = coap://h:1\nmef_fqdn = f\n",
        /* a certificate enrolee with a kpm, a kpm enrolee without, an unknown credential */
        "[device]\nkpm_id = d\nkpm = " KPM_HEX "\ncredential = certificate\n"
        "mef_uri = coaps://h:1\nmef_fqdn = f\n",
        "[device]\nkpm_id = d\ncredential = kpm\nmef_uri = coaps://h:1\nmef_fqdn = f\n",
        "[device]\nkpm_id = d\ncredential = gba\nmef_uri = coaps://h:1\nmef_fqdn = f\n",
        "",
    };
    tae_prov p;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&p, 0xAA, sizeof(p));
        assert_int_equal(tae_core_parse_provisioning(bad[i], &p), CMN_ECONFIG);
        assert_int_equal(p.kpm[0], 0); /* wiped on error */
    }
}

/* ---- enrolment -------------------------------------------------------------------- */

static void enrol_request_body(void **state)
{
    char *body = NULL;

    assert_int_equal(tae_core_enrol_request(false, true, false, &body), 0);
    assert_string_equal(body, "{\"cei\":false,\"mei\":true,\"rmi\":false}");
    test_free(body);
}

static void ke_from_exporter_kat(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN], ke[CMN_KEY_LEN];
    char ke_id[CMN_KEY_ID_MAX];

    exporter_kat(exp);
    assert_int_equal(tae_core_ke_from_exporter(exp, FQDN, ke, ke_id), 0);
    assert_hex(ke, CMN_KEY_LEN, KAT_KE);
    assert_string_equal(ke_id, KAT_KEID);
}

static void enrolment_complete_kat(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN];
    const char *ans = ANSWER(KAT_KEID, GOOD_REST);
    tae_enrolment e;

    exporter_kat(exp);
    assert_int_equal(tae_core_enrolment_complete(exp, FQDN, (const uint8_t *)ans, strlen(ans), &e),
                     0);
    assert_string_equal(e.ke_id, KAT_KEID);
    assert_hex(e.ke, CMN_KEY_LEN, KAT_KE);
    assert_string_equal(e.enrolee_id, "Cdevice01");
    assert_string_equal(e.app_id, "Ntepdemo");
    assert_int_equal(e.expires, 1795000000);
    assert_string_equal(e.registrar_cse_id, "/tep-cse");
    assert_string_equal(e.registrar_poa, "coaps://127.0.0.1:5684");
    assert_string_equal(e.maf_id, "maf.tep.local");
    assert_hex(e.kpsa, CMN_KEY_LEN, KAT_KPSA);
    assert_string_equal(e.kpsa_id, KAT_KPSA_ID);
}

static void answer_optional_fields_absent(void **state)
{
    tae_enrolment e;
    const char *ans = "{\"keid\":\"" KAT_KEID "\",\"eid\":\"Cd\",\"exp\":1,"
                      "\"tgt\":{\"csi\":\"/c\",\"poa\":\"coap://[::1]:5683\"}}";

    assert_int_equal(parse_answer(ans, &e), 0);
    assert_string_equal(e.app_id, "");
    assert_string_equal(e.maf_id, "");
}

static void answer_rejected(void **state)
{
    char huge[6000];
    static const char *bad[] = {
        "not json",
        "[1,2]",
        "{\"eid\":\"Cd\",\"exp\":1,\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}", /* no keid */
        ANSWER("ffff0102030405060708090a0b0c0d0e@" FQDN, GOOD_REST), /* another KeID */
        ANSWER(KAT_KEID,
               "\"exp\": \"1795000000\", \"tgt\": {\"csi\": \"/c\", \"poa\": \"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 0, \"tgt\": {\"csi\": \"/c\", \"poa\": \"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": -5, \"tgt\": {\"csi\": \"/c\", \"poa\": \"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 1e30, \"tgt\": {\"csi\": \"/c\", \"poa\": \"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 999999999999999999999999, \"tgt\": {\"csi\": \"/c\", \"poa\": "
                         "\"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 1, \"tgt\": [\"/c\"]"),
        ANSWER(KAT_KEID, "\"exp\": 1"), /* no tgt */
        ANSWER(KAT_KEID, "\"exp\": 1, \"tgt\": {\"csi\": \"c\", \"poa\": \"coaps://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 1, \"tgt\": {\"csi\": \"/c\", \"poa\": \"http://h\"}"),
        ANSWER(KAT_KEID, "\"exp\": 1, \"tgt\": {\"csi\": \"/c\", \"poa\": 5684}"),
        ANSWER(KAT_KEID, "\"exp\": 1, \"tgt\": {\"csi\": \"/c\\n[x]\", \"poa\": \"coaps://h\"}"),
        "{\"keid\":\"" KAT_KEID
        "\",\"eid\":7,\"exp\":1,\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}",
        "{\"keid\":\"" KAT_KEID
        "\",\"eid\":\"\",\"exp\":1,\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}",
        "{\"keid\":\"" KAT_KEID
        "\",\"eid\":\"a b\",\"exp\":1,\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}",
        "{\"keid\":\"" KAT_KEID "\",\"keid\":\"" KAT_KEID "\",\"eid\":\"C\",\"exp\":1,"
        "\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}", /* duplicate key */
    };
    tae_enrolment e;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_answer(bad[i], &e) != CMN_EPROTO)
            fail_msg("accepted bad answer #%zu: %s", i, bad[i]);
    }
    /* an AE-ID far longer than any identifier */
    snprintf(huge, sizeof(huge),
             "{\"keid\":\"%s\",\"eid\":\"C%05000d\",\"exp\":1,"
             "\"tgt\":{\"csi\":\"/c\",\"poa\":\"coaps://h\"}}",
             KAT_KEID, 7);
    assert_int_equal(parse_answer(huge, &e), CMN_EPROTO);
}

static void enrolment_complete_wipes_on_error(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN], zero[CMN_KEY_LEN] = {0};
    const char *ans = "{\"keid\":\"" KAT_KEID "\"}";
    tae_enrolment e;

    exporter_kat(exp);
    assert_int_equal(tae_core_enrolment_complete(exp, FQDN, (const uint8_t *)ans, strlen(ans), &e),
                     CMN_EPROTO);
    assert_memory_equal(e.ke, zero, sizeof(zero));
    assert_memory_equal(e.kpsa, zero, sizeof(zero));
}

/* ---- state file ------------------------------------------------------------------- */

static void state_round_trip(void **state)
{
    uint8_t exp[CMN_EXPORTER_LEN];
    const char *ans = ANSWER(KAT_KEID, GOOD_REST);
    tae_enrolment e, back;
    char *text = NULL;
    size_t len = 0;

    exporter_kat(exp);
    assert_int_equal(tae_core_enrolment_complete(exp, FQDN, (const uint8_t *)ans, strlen(ans), &e),
                     0);
    strcpy(e.ae_rn, "Cdevice01");
    assert_int_equal(tae_core_format_state(&e, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "ke = " KAT_KE "\n"));
    assert_null(strstr(text, KAT_KPSA)); /* Kpsa is derived, never stored */
    assert_int_equal(tae_core_parse_state(text, FQDN, &back), 0);
    assert_string_equal(back.ke_id, e.ke_id);
    assert_memory_equal(back.ke, e.ke, CMN_KEY_LEN);
    assert_string_equal(back.enrolee_id, e.enrolee_id);
    assert_string_equal(back.app_id, e.app_id);
    assert_string_equal(back.registrar_cse_id, e.registrar_cse_id);
    assert_string_equal(back.registrar_poa, e.registrar_poa);
    assert_string_equal(back.maf_id, e.maf_id);
    assert_int_equal(back.expires, e.expires);
    assert_string_equal(back.ae_rn, "Cdevice01");
    assert_hex(back.kpsa, CMN_KEY_LEN, KAT_KPSA); /* derived again on load */
    assert_string_equal(back.kpsa_id, KAT_KPSA_ID);
    cmn_free_secret(text, len + 1);
}

static void state_corrupt(void **state)
{
    static const char *bad[] = {
        "[enrolment]\nke_id = x@f\nenrolee_id = C\nregistrar_cse_id = /c\n"
        "registrar_poa = coaps://h\nexpires = 5\n", /* no ke */
        "[enrolment]\nke_id = x@f\nke = " KAT_KE "\nenrolee_id = C\nregistrar_cse_id = /c\n"
        "registrar_poa = coaps://h\nexpires = soon\n",
        "[enrolment]\nke_id = x@f\nke = " KAT_KE "\nenrolee_id = C\nregistrar_cse_id = c\n"
        "registrar_poa = coaps://h\nexpires = 5\n",
        "[enrolment]\nke_id = x@f\nke = " KAT_KE "\nenrolee_id = C\nregistrar_cse_id = /c\n"
        "registrar_poa = coaps://h\nexpires = 5\nsurprise = 1\n",
    };
    tae_enrolment e;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tae_core_parse_state(bad[i], FQDN, &e), CMN_ECORRUPT);
}

/* ---- oneM2M helpers --------------------------------------------------------------- */

static void helpers(void **state)
{
    char buf[64], *body = NULL;

    assert_int_equal(tae_core_cse_name("/tep-cse", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "tep-cse");
    assert_int_equal(tae_core_cse_name("tep-cse", buf, sizeof(buf)), CMN_EINVAL);
    assert_int_equal(tae_core_cse_name("/a/b", buf, sizeof(buf)), CMN_EINVAL);

    assert_int_equal(tae_core_uri_host("coaps://127.0.0.1:5684", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(tae_core_uri_host("coaps://cse.tep.local/x", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "cse.tep.local");
    assert_int_equal(tae_core_uri_host("coap://[::1]:5683", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "::1");
    assert_int_equal(tae_core_uri_host("http://h", buf, sizeof(buf)), CMN_EINVAL);
    assert_int_equal(tae_core_uri_host("coaps://", buf, sizeof(buf)), CMN_EINVAL);

    assert_int_equal(tae_core_ae_body("Ntepdemo", "Cdevice01", &body), 0);
    assert_string_equal(body, "{\"m2m:ae\":{\"rn\":\"Cdevice01\",\"api\":\"Ntepdemo\","
                              "\"rr\":false,\"srv\":[\"3\"]}}");
    test_free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(provisioning_valid),
        cmocka_unit_test(provisioning_certificate),
        cmocka_unit_test(provisioning_invalid),
        cmocka_unit_test(enrol_request_body),
        cmocka_unit_test(ke_from_exporter_kat),
        cmocka_unit_test(enrolment_complete_kat),
        cmocka_unit_test(answer_optional_fields_absent),
        cmocka_unit_test(answer_rejected),
        cmocka_unit_test(enrolment_complete_wipes_on_error),
        cmocka_unit_test(state_round_trip),
        cmocka_unit_test(state_corrupt),
        cmocka_unit_test(helpers),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
