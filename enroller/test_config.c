/* enr_config: defaults, environment overrides, and errors that name file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "enr_config.h"

static char path[64];

static void write_ini(const char *text)
{
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "/tmp/tep-test-enrcfg-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_file_values_and_defaults(void **state)
{
    enr_config cfg = {0};
    char err[256];

    (void)state;
    write_ini("[enroller]\ndata_dir = /tmp/x\nmef_fqdn = mef.example.org\nlog_level = debug\n");
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_string_equal(cfg.mef_fqdn, "mef.example.org");
    assert_string_equal(cfg.registrar_cse_id, "/tep-cse");
    assert_string_equal(cfg.maf_id, "maf.tep.local");
    assert_string_equal(cfg.bus_sync, "ipc:///run/tep/sync.ipc");
    assert_int_equal(cfg.level, CMN_LOG_DEBUG);
    enr_config_free(&cfg);
    unlink(path);
}

static void test_environment_overrides(void **state)
{
    enr_config cfg = {0};
    char err[256];

    (void)state;
    write_ini("[enroller]\nmef_fqdn = mef.example.org\n");
    setenv("TEP_ENROLLER_MEF_FQDN", "mef.env.example", 1);
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    unsetenv("TEP_ENROLLER_MEF_FQDN");
    assert_string_equal(cfg.mef_fqdn, "mef.env.example");
    enr_config_free(&cfg);
    unlink(path);
}

static void expect_error(const char *text, const char *where, const char *what)
{
    enr_config cfg = {0};
    char err[256], prefix[128];

    write_ini(text);
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), CMN_ECONFIG);
    snprintf(prefix, sizeof(prefix), "%s:%s", path, where);
    assert_memory_equal(err, prefix, strlen(prefix));
    assert_non_null(strstr(err, what));
    unlink(path);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("[enroller]\n\nbogus = 1\n", "3:", "enroller.bogus");
    expect_error("[enroller]\nlog_level = loud\n", "2:", "enroller.log_level");
    expect_error("[enroller]\nregistrar_cse_id = tep-cse\n", "2:", "registrar_cse_id");
    expect_error("[enroller]\nlisten =\n", "2:", "enroller.listen");
    expect_error("[bus]\nevents = http://x\n", "2:", "bus.events");
    expect_error("[bus]\nsync = ipc:///tmp/a.ipc\nadmin = ipc:///tmp/a.ipc\n", " ",
                 "different endpoints");
    /* enrolment targets: CSE-ID=coap(s) URI, unique, not the registrar again */
    expect_error("[enroller]\ntargets = mn-cse1=coaps://h:1\n", "2:", "not an SP-relative CSE-ID");
    expect_error("[enroller]\ntargets = /mn-cse1=http://h:1\n", "2:", "coaps://");
    expect_error("[enroller]\ntargets = /mn-cse1\n", "2:", "KEY=VALUE");
    expect_error("[enroller]\ntargets = /a=coaps://h:1, /a=coaps://h:2\n", "2:", "twice");
    expect_error("[enroller]\ntargets = /a=coaps://h:1,,/b=coaps://h:2\n", "2:", "empty item");
    expect_error("[enroller]\ntargets = /tep-cse=coaps://h:1\n", " ", "registrar_cse_id already");
    /* bus identities: more targets need them, they need CURVE on a tcp:// sync socket, and
     * they must bind every target, the registrar and the MAF */
    expect_error("[enroller]\ntargets = /mn=coaps://h:1\n[bus]\nsync = tcp://e:1\n", " ",
                 "need bus identities");
    expect_error("[bus]\npeers = /tep-cse=cse, maf.tep.local=a!\n", "2:", "CURVE key name");
    expect_error("[bus]\npeers = /tep-cse=cse, maf.tep.local=authz\n", " ", "needs [bus] curve");
    expect_error("[bus]\ncurve = true\nsync = tcp://e:1\npeers = /tep-cse=cse\n", " ",
                 "binds no key to maf.tep.local");
    expect_error("[enroller]\ntargets = /mn=coaps://h:1\n[bus]\ncurve = true\nsync = tcp://e:1\n"
                 "peers = /tep-cse=cse, maf.tep.local=authz\n",
                 " ", "binds no key to /mn");
}

/* targets: each CSE-ID's poa; the registrar's is registrar_poa; others are unknown. */
static void test_targets(void **state)
{
    enr_config cfg = {0};
    char err[256];

    (void)state;
    write_ini("[enroller]\ntargets = /mn-cse1=coaps://10.0.0.5:5684 , /mn-cse2 = coap://mn2:5683,\n"
              "[bus]\ncurve = true\nsync = tcp://enroller:7001\npeers = /tep-cse=cse, "
              "maf.tep.local=authz, /mn-cse1=mn1, "
              "/mn-cse2=z85:rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n");
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.n_targets, 2);
    assert_string_equal(enr_config_target_poa(&cfg, "/mn-cse1"), "coaps://10.0.0.5:5684");
    assert_string_equal(enr_config_target_poa(&cfg, "/mn-cse2"), "coap://mn2:5683");
    assert_string_equal(enr_config_target_poa(&cfg, "/tep-cse"), cfg.registrar_poa);
    assert_null(enr_config_target_poa(&cfg, "/mn-cse3"));
    enr_config_free(&cfg);
    unlink(path);
}

/* SIGHUP: a reloaded file's targets and peers replace the live ones when the bus is the
 * same; another sync endpoint, CURVE switched or another registrar needs a restart. */
static void test_reload_targets(void **state)
{
    enr_config live = {0}, fresh = {0}, moved = {0};
    char err[256];

    (void)state;
    write_ini("[bus]\ncurve = true\nsync = tcp://enroller:7001\npeers = /tep-cse=cse, "
              "maf.tep.local=authz\n");
    assert_int_equal(enr_config_load(path, &live, err, sizeof(err)), 0);
    unlink(path);
    assert_null(enr_config_target_poa(&live, "/mn-cse1"));
    write_ini("[enroller]\ntargets = /mn-cse1=coaps://10.0.0.5:5684\n"
              "[bus]\ncurve = true\nsync = tcp://enroller:7001\npeers = /tep-cse=cse, "
              "maf.tep.local=authz, /mn-cse1=mn1\n");
    assert_int_equal(enr_config_load(path, &fresh, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(enr_config_reloadable(&live, &fresh, err, sizeof(err)), 0);
    enr_config_take_targets(&live, &fresh);
    assert_string_equal(enr_config_target_poa(&live, "/mn-cse1"), "coaps://10.0.0.5:5684");
    assert_non_null(strstr(live.bus_peers, "/mn-cse1=mn1"));
    assert_null(enr_config_target_poa(&fresh, "/mn-cse1")); /* the old list, freed with it */
    enr_config_free(&fresh);

    write_ini("[bus]\ncurve = true\nsync = tcp://enroller:7002\npeers = /tep-cse=cse, "
              "maf.tep.local=authz\n");
    assert_int_equal(enr_config_load(path, &moved, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(enr_config_reloadable(&live, &moved, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "restart to apply"));
    enr_config_free(&moved);
    enr_config_free(&live);
}

/* [bus] admin_keys (cmn_bus_peers.h): a tcp:// admin socket with CURVE needs it (no
 * default that trusts every key of curve_dir), an ipc:// one or a bus without CURVE
 * may not have it; items are key names or z85:KEY; the environment overrides it; each
 * error names the file and the line (or the variable). */
static void test_admin_keys(void **state)
{
    enr_config cfg = {0};
    char err[256];

    (void)state;
    expect_error("[bus]\ncurve = true\nadmin = tcp://0.0.0.0:7103\n",
                 "3:", "bus.admin_keys: a tcp:// admin socket with CURVE needs [bus] admin_keys");
    expect_error("[bus]\nadmin_keys = operator\n", "2:", "needs [bus] curve = true");
    expect_error("[bus]\ncurve = true\nadmin_keys = operator\n",
                 "3:", "needs [bus] curve = true and a tcp:// admin endpoint");
    expect_error("[bus]\nadmin = tcp://0.0.0.0:7103\nadmin_keys = operator\n",
                 "3:", "needs [bus] curve = true");
    expect_error("[bus]\n\nadmin_keys = op!\n", "3:", "CURVE key name");
    expect_error("[bus]\nadmin_keys = z85:tooshort\n", "2:", "CURVE key name");
    expect_error("[bus]\nadmin_keys = a, a\n", "2:", "twice");
    expect_error("[bus]\nadmin_keys = a,,b\n", "2:", "empty item");
    expect_error("[bus]\nadmin_keys = a b\n", "2:", "blank inside");

    write_ini("[bus]\ncurve = true\nadmin = tcp://0.0.0.0:7103\n"
              "admin_keys = operator, z85:rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n");
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.bus_admin_keys,
                        "operator, z85:rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    enr_config_free(&cfg);
    unlink(path);
    /* the environment: TEP_BUS_ADMIN_KEYS wins, and names itself in an error */
    write_ini("[bus]\ncurve = true\nadmin = tcp://0.0.0.0:7103\nadmin_keys = operator\n");
    setenv("TEP_BUS_ADMIN_KEYS", "ops2", 1);
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.bus_admin_keys, "ops2");
    enr_config_free(&cfg);
    setenv("TEP_BUS_ADMIN_KEYS", "", 1);
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), CMN_ECONFIG);
    unsetenv("TEP_BUS_ADMIN_KEYS");
    assert_non_null(strstr(err, "needs [bus] admin_keys"));
    unlink(path);
    /* the one-host platform: ipc:// admin, no list, as before */
    write_ini("[bus]\ncurve = true\n");
    assert_int_equal(enr_config_load(path, &cfg, err, sizeof(err)), 0);
    enr_config_free(&cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_values_and_defaults),
        cmocka_unit_test(test_environment_overrides),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_reload_targets),
        cmocka_unit_test(test_admin_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
