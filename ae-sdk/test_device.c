/* Unit tests of the device object through the public API: loading provisioning and
 * state files, writing the state (mode 0600, atomically), accessors, and the calls
 * that must refuse before any network I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tep/tepae.h"
#include "tae_device.h"
#include "tst.h"

#define KPM_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KE_HEX "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define PROV                                                                                       \
    "[device]\nkpm_id = device01\nkpm = " KPM_HEX "\n"                                             \
    "mef_uri = coaps://127.0.0.1:1\nmef_fqdn = mef.tep.local\n"

typedef struct {
    char dir[64];
    char prov[128];
    char state[128];
} files;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    files *f = calloc(1, sizeof(*f));

    if (tst_tmpdir("tepae-device", f->dir, sizeof(f->dir)) != 0)
        return -1;
    snprintf(f->prov, sizeof(f->prov), "%s/device.prov", f->dir);
    snprintf(f->state, sizeof(f->state), "%s/device.state", f->dir);
    write_file(f->prov, PROV);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    files *f = *state;
    int rc = tst_rmtree(f->dir);

    free(f);
    return rc;
}

static void write_state(const files *f, int64_t expires)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "[enrolment]\nke_id = 000102030405060708090a0b0c0d0e0f@mef.tep.local\n"
             "ke = " KE_HEX "\nenrolee_id = Cdevice01\napp_id = Ntepdemo\n"
             "registrar_cse_id = /tep-cse\nregistrar_poa = coaps://127.0.0.1:1\n"
             "maf_id = maf.tep.local\nexpires = %lld\n",
             (long long)expires);
    write_file(f->state, text);
}

static void fresh_device_is_not_enrolled(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    tep_conn *conn = NULL;

    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_false(tep_device_is_enrolled(dev));
    assert_string_equal(tep_device_kpm_id(dev), "device01");
    assert_string_equal(tep_device_mef_fqdn(dev), "mef.tep.local");
    assert_null(tep_device_ke_id(dev));
    assert_null(tep_device_kpsa_id(dev));
    assert_null(tep_device_ae_path(dev));
    assert_int_equal(tep_connect(dev, &conn), TEP_ESTATE);
    assert_null(conn);
    tep_device_free(dev);
}

static void state_file_is_loaded(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;

    write_state(f, 1795000000);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_true(tep_device_is_enrolled(dev));
    assert_string_equal(tep_device_ke_id(dev), "000102030405060708090a0b0c0d0e0f@mef.tep.local");
    assert_string_equal(tep_device_enrolee_id(dev), "Cdevice01");
    assert_string_equal(tep_device_app_id(dev), "Ntepdemo");
    assert_string_equal(tep_device_registrar_cse_id(dev), "/tep-cse");
    assert_string_equal(tep_device_registrar_poa(dev), "coaps://127.0.0.1:1");
    assert_string_equal(tep_device_maf_id(dev), "maf.tep.local");
    assert_int_equal(tep_device_expires(dev), 1795000000);
    /* same chain as test_core's known answer: Ke = bytes 16..47 */
    assert_string_equal(tep_device_kpsa_id(dev), "181a4dc98eb5bf7b3e212074462657e8@mef.tep.local");
    assert_string_equal(tep_device_ae_path(dev), "tep-cse/Cdevice01");
    tep_device_free(dev);
}

static void ae_rn_is_remembered_in_a_0600_state_file(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    struct stat st;

    write_state(f, 1795000000);
    chmod(f->state, 0644);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_false(tep_device_is_registered(dev));
    assert_int_equal(tae_device_set_ae_rn(dev, "sensor-1"), 0);
    assert_true(tep_device_is_registered(dev));
    assert_string_equal(tep_device_ae_path(dev), "tep-cse/sensor-1");
    tep_device_free(dev);

    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    dev = NULL;
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_string_equal(tep_device_ae_path(dev), "tep-cse/sensor-1");
    assert_string_equal(tep_device_ke_id(dev), "000102030405060708090a0b0c0d0e0f@mef.tep.local");
    tep_device_free(dev);
}

static void expired_enrolment_is_refused(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    tep_conn *conn = NULL;

    write_state(f, (int64_t)time(NULL) - 10);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_connect(dev, &conn), TEP_EEXPIRED);
    tep_device_free(dev);
}

/* tep_device_psk(): the enrolment's KpsaID and Kpsa (the known answer of test_core:
 * Ke = bytes 16..47 of 0..47, registrar /tep-cse), for an Entity A with its own DTLS
 * stack; refused without a (live) enrolment and for a short identity buffer. */
static void psk_is_handed_to_an_own_dtls_stack(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    char id[64];
    uint8_t key[TEP_PSK_LEN];
    const uint8_t want[TEP_PSK_LEN] = {0xe3, 0xa6, 0xbe, 0xc8, 0xc3, 0x3a, 0x5d, 0x3f,
                                       0xf8, 0x88, 0x35, 0xc3, 0x19, 0x9a, 0x08, 0x96,
                                       0x85, 0xb4, 0x9d, 0xa0, 0x5d, 0x17, 0xbd, 0x7a,
                                       0x3a, 0x18, 0x2d, 0xe5, 0x49, 0xae, 0x82, 0x66};

    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_device_psk(dev, id, sizeof(id), key), TEP_ESTATE);
    tep_device_free(dev);
    write_state(f, (int64_t)time(NULL) + 3600);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_device_psk(dev, id, sizeof(id), key), 0);
    assert_string_equal(id, "181a4dc98eb5bf7b3e212074462657e8@mef.tep.local");
    assert_memory_equal(key, want, TEP_PSK_LEN);
    assert_int_equal(tep_device_psk(dev, id, 10, key), TEP_ERANGE);
    assert_int_equal(tep_device_psk(dev, NULL, sizeof(id), key), TEP_EINVAL);
    tep_device_free(dev);
    write_state(f, (int64_t)time(NULL) - 10);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_device_psk(dev, id, sizeof(id), key), TEP_EEXPIRED);
    tep_device_free(dev);
}

static void bad_files_are_reported(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    char missing[160];

    snprintf(missing, sizeof(missing), "%s/nope.prov", f->dir);
    assert_int_equal(tep_device_load(missing, f->state, &dev), TEP_ENOTFOUND);
    write_file(f->state, "[enrolment]\nke = short\n");
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), TEP_ECORRUPT);
    write_file(f->prov, "[device]\nkpm_id = device01\n");
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), TEP_ECONFIG);
    assert_null(dev);
    write_file(f->prov, PROV);
}

static void strerror_names_codes(void **state)
{
    assert_non_null(tep_strerror(TEP_EDENIED));
    assert_non_null(tep_strerror(-999));
    assert_string_equal(tep_version(), TEP_VERSION);
}

/* tep_maf_retrieve_kc (the target's MAF Key Retrieval) refuses before any network I/O:
 * not enrolled, no MAF to ask, an expired enrolment, a malformed Key Identifier, and one
 * of another MAF (never asked for). */
static void retrieve_kc_refuses_before_any_io(void **state)
{
    files *f = *state;
    tep_device *dev = NULL;
    tep_kc *kc = (tep_kc *)f; /* must come back NULL */
    const char *uri = "coaps://127.0.0.1:1";
    const char *good = "00112233445566778899aabbccddeeff@maf.tep.local";
    const char *bad[] = {"", "abc", "00112233445566778899aabbccddee@maf.tep.local",
                         "00112233445566778899aabbccddeeff00@maf.tep.local",
                         "00112233445566778899aabbccddeeff@other.maf"};

    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_maf_retrieve_kc(dev, uri, good, &kc), TEP_ESTATE);
    assert_null(kc);
    tep_device_free(dev);
    write_state(f, (int64_t)time(NULL) + 3600);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    /* the enrolment named no MAF point of access (mpoa) and none is given */
    assert_int_equal(tep_maf_retrieve_kc(dev, NULL, good, &kc), TEP_ESTATE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kc = (tep_kc *)f;
        assert_int_equal(tep_maf_retrieve_kc(dev, uri, bad[i], &kc), TEP_EINVAL);
        assert_null(kc);
    }
    assert_int_equal(tep_maf_retrieve_kc(dev, uri, NULL, &kc), TEP_EINVAL);
    assert_int_equal(tep_maf_retrieve_kc(dev, uri, good, NULL), TEP_EINVAL);
    assert_int_equal(tep_maf_retrieve_kc(NULL, uri, good, &kc), TEP_EINVAL);
    tep_device_free(dev);
    write_state(f, (int64_t)time(NULL) - 10);
    assert_int_equal(tep_device_load(f->prov, f->state, &dev), 0);
    assert_int_equal(tep_maf_retrieve_kc(dev, uri, good, &kc), TEP_EEXPIRED);
    assert_null(kc);
    tep_device_free(dev);
    assert_null(tep_kc_source_id(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(retrieve_kc_refuses_before_any_io, setup, teardown),
        cmocka_unit_test_setup_teardown(fresh_device_is_not_enrolled, setup, teardown),
        cmocka_unit_test_setup_teardown(state_file_is_loaded, setup, teardown),
        cmocka_unit_test_setup_teardown(ae_rn_is_remembered_in_a_0600_state_file, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_enrolment_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(psk_is_handed_to_an_own_dtls_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_files_are_reported, setup, teardown),
        cmocka_unit_test(strerror_names_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
