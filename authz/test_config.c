/* tep-authz configuration: defaults, file values, environment overrides, and errors
 * that name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authz_config.h"
#include "cmn_err.h"

static char path[] = "/tmp/tep-authz-config-XXXXXX";

static void write_config(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    int fd = mkstemp(path);

    if (fd < 0)
        return -1;
    close(fd);
    unsetenv("TEP_AUTHZ_MAF_ID");
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return 0;
}

static void test_defaults(void **state)
{
    authz_config cfg;
    char err[256];

    write_config("");
    assert_int_equal(authz_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.maf_id, "maf.tep.local");
    assert_string_equal(cfg.decide_ep, "ipc:///run/tep/decide.ipc");
    assert_string_equal(cfg.admin_ep, "ipc:///run/tep/authz-admin.ipc");
    assert_int_equal(cfg.level, CMN_LOG_INFO);
    authz_config_free(&cfg);
    assert_null(cfg.maf_id);
}

static void test_file_and_environment(void **state)
{
    authz_config cfg;
    char err[256];

    write_config("[authz]\ndata_dir = /tmp/x\nmaf_id = maf.example.org\nlog_level = debug\n"
                 "[bus]\ndecide = tcp://127.0.0.1:7001\n");
    setenv("TEP_AUTHZ_MAF_ID", "maf.env.example", 1);
    assert_int_equal(authz_config_load(path, &cfg, err, sizeof(err)), 0);
    unsetenv("TEP_AUTHZ_MAF_ID");
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_string_equal(cfg.maf_id, "maf.env.example"); /* environment wins */
    assert_string_equal(cfg.decide_ep, "tcp://127.0.0.1:7001");
    assert_int_equal(cfg.level, CMN_LOG_DEBUG);
    authz_config_free(&cfg);
}

static void expect_error(const char *text, const char *needle)
{
    authz_config cfg;
    char err[256];

    write_config(text);
    assert_int_equal(authz_config_load(path, &cfg, err, sizeof(err)), CMN_ECONFIG);
    if (strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    assert_non_null(strstr(err, path));
}

static void test_errors_name_file_and_line(void **state)
{
    expect_error("[authz]\nlog_level = loud\n", ":2:");
    expect_error("[bus]\n\ndecide = http://x\n", ":3:");
    expect_error("[authz]\nmaf_id = not a name\n", "maf_id");
    expect_error("[authz]\nunknown = 1\n", "unknown");
    /* [bus] peers: syntax (with the line), and only over CURVE on a tcp:// keys socket */
    expect_error("[bus]\npeers = /tep-cse=a b\n", ":2:");
    expect_error("[bus]\npeers = /tep-cse=cse, /mn=cse\n", "two identities");
    expect_error("[bus]\npeers = /tep-cse=cse\nkeys = tcp://127.0.0.1:7000\n", "needs [bus] curve");
    expect_error("[bus]\npeers = /tep-cse=cse\ncurve = true\nkeys = ipc:///tmp/k.ipc\n",
                 "tcp:// keys");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_and_environment),
        cmocka_unit_test(test_errors_name_file_and_line),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
