/* tctl_provision: the provisioning file a device gets, and that it is never
 * overwritten by accident or left readable by others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "tctl_provision.h"

static const uint8_t kpm[32] = {0x00, 0x01, 0xab, 0xff};
static const tctl_provision prov = {"device01", kpm, sizeof(kpm), "coaps://127.0.0.1:5784",
                                    "mef.tep.local"};

static void test_format(void **state)
{
    char *text = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(tctl_provision_format(&prov, &text, &len), 0);
    assert_string_equal(text,
                        "[device]\nkpm_id = device01\n"
                        "kpm = 0001abff00000000000000000000000000000000000000000000000000000000\n"
                        "mef_uri = coaps://127.0.0.1:5784\nmef_fqdn = mef.tep.local\n");
    assert_int_equal(len, strlen(text));
    cmn_free_secret(text, len);
}

static void read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_save_0600_and_no_overwrite(void **state)
{
    char dir[] = "/tmp/tep-test-prov-XXXXXX", path[64], buf[512];
    struct stat st;
    tctl_provision other;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/dev.ini", dir);
    assert_int_equal(tctl_provision_save(path, &prov, false), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    read_file(path, buf, sizeof(buf));
    assert_non_null(strstr(buf, "kpm_id = device01"));

    other = prov;
    other.kpm_id = "device02";
    assert_int_equal(tctl_provision_save(path, &other, false), CMN_EEXIST);
    read_file(path, buf, sizeof(buf));
    assert_non_null(strstr(buf, "kpm_id = device01")); /* untouched */
    assert_int_equal(tctl_provision_save(path, &other, true), 0);
    read_file(path, buf, sizeof(buf));
    assert_non_null(strstr(buf, "kpm_id = device02"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(path);
    assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_save_0600_and_no_overwrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
