/* cmn_config: what an operator sees: values from file and environment, and error
 * messages that point at FILE:LINE or at the environment variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_config.h"
#include "cmn_err.h"

struct test_cfg {
    char *data_dir;
    char *cse_id;
    char *listen;
    char *events;
    char *fqdn;
    long deadline_ms;
    bool debug;
};

#define OFF(f) offsetof(struct test_cfg, f)
static const cmn_cfg_item table[] = {
    {"cse", "data_dir", CMN_CFG_STR, NULL, OFF(data_dir), 0, 0, NULL, "data directory"},
    {"cse", "cse_id", CMN_CFG_STR, "/tep-cse", OFF(cse_id), 0, 0, cmn_cfg_valid_cse_id, "CSE-ID"},
    {"cse", "coaps_listen", CMN_CFG_STR, "127.0.0.1:5684", OFF(listen), 0, 0, cmn_cfg_valid_listen,
     "CoAPS address"},
    {"cse", "mef-fqdn", CMN_CFG_STR, "mef.tep.local", OFF(fqdn), 0, 0, cmn_cfg_valid_fqdn, "MEF"},
    {"cse", "debug", CMN_CFG_BOOL, "false", OFF(debug), 0, 0, NULL, "debug mode"},
    {"authz", "deadline_ms", CMN_CFG_INT, "500", OFF(deadline_ms), 1, 60000, NULL, "deadline"},
    {"bus", "events", CMN_CFG_STR, "ipc:///run/tep/events.ipc", OFF(events), 0, 0,
     cmn_cfg_valid_endpoint, "events endpoint"},
};
#define NT (sizeof(table) / sizeof(table[0]))

static char path[64];
static char err[256];
static struct test_cfg cfg;

static void write_conf(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    int fd;
    (void)state;
    snprintf(path, sizeof(path), "/tmp/tep-test-config-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    memset(&cfg, 0, sizeof(cfg));
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cmn_config_free(table, NT, &cfg);
    unlink(path);
    unsetenv("TEP_AUTHZ_DEADLINE_MS");
    unsetenv("TEP_CSE_MEF_FQDN");
    unsetenv("TEP_CSE_DATA_DIR");
    return 0;
}

/* Each load starts from a clean struct: the caller owns what a previous load returned. */
static int load(void)
{
    cmn_config_free(table, NT, &cfg);
    return cmn_config_load(path, table, NT, &cfg, err, sizeof(err));
}

/* the message must start with "FILE:LINE: " and contain what */
static void assert_err_at(int line, const char *what)
{
    char prefix[96];

    snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
    assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
    assert_non_null(strstr(err, what));
}

static void test_file_and_defaults(void **state)
{
    (void)state;
    write_conf("; tep-cse\n"
               "[cse]\n"
               "data_dir = /var/lib/tep/cse   ; inline comment\n"
               "coaps_listen = [::1]:5684\n"
               "debug = Yes\n"
               "\n"
               "[authz]\n"
               "deadline_ms = 750\n");
    assert_int_equal(load(), 0);
    assert_string_equal(err, "");
    assert_string_equal(cfg.data_dir, "/var/lib/tep/cse");
    assert_string_equal(cfg.cse_id, "/tep-cse");
    assert_string_equal(cfg.listen, "[::1]:5684");
    assert_string_equal(cfg.fqdn, "mef.tep.local");
    assert_string_equal(cfg.events, "ipc:///run/tep/events.ipc");
    assert_int_equal(cfg.deadline_ms, 750);
    assert_true(cfg.debug);
    cmn_config_free(table, NT, &cfg);
    assert_null(cfg.data_dir);
    assert_null(cfg.cse_id);
}

static void test_bools(void **state)
{
    const char *yes[] = {"true", "yes", "1", "on", "TRUE"};
    const char *no[] = {"false", "no", "0", "off", "Off"};
    char text[128];
    (void)state;

    for (size_t i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "[cse]\ndata_dir=/d\ndebug=%s\n", yes[i]);
        write_conf(text);
        assert_int_equal(load(), 0);
        assert_true(cfg.debug);
        snprintf(text, sizeof(text), "[cse]\ndata_dir=/d\ndebug=%s\n", no[i]);
        write_conf(text);
        assert_int_equal(load(), 0);
        assert_false(cfg.debug);
    }
    write_conf("[cse]\ndata_dir=/d\ndebug=maybe\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(3, "cse.debug: not a boolean");
}

static void test_unknown_key_and_section(void **state)
{
    (void)state;
    write_conf("[cse]\ndata_dir=/d\nbogus = 1\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(3, "cse.bogus: unknown key");
    assert_null(cfg.data_dir); /* nothing left allocated on error */
    assert_null(cfg.cse_id);

    write_conf("[cse]\ndata_dir=/d\n\n; empty section below\n[nosuch]\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(5, "[nosuch]: unknown section");

    write_conf("data_dir=/d\n[cse]\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(1, "outside any [section]");
}

static void test_int_bounds_and_syntax(void **state)
{
    (void)state;
    write_conf("[cse]\ndata_dir=/d\n[authz]\ndeadline_ms = 0\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(4, "authz.deadline_ms: 0 is out of range [1, 60000]");

    write_conf("[cse]\ndata_dir=/d\n[authz]\ndeadline_ms = 12ms\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(4, "authz.deadline_ms: not an integer");

    write_conf("[cse]\ndata_dir=/d\nthis line is garbage\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(3, "syntax error");

    write_conf("[cse]\ndata_dir=/d\ndata_dir=/e\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(3, "cse.data_dir: set twice");
}

static void test_validators_report_line(void **state)
{
    (void)state;
    write_conf("[cse]\ndata_dir=/d\ncse_id = tep-cse\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(3, "cse.cse_id: not an SP-relative CSE-ID");

    write_conf("[cse]\ndata_dir=/d\n[bus]\n\nevents = udp://x:1\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_err_at(5, "bus.events: not an endpoint");
}

static void test_required_missing(void **state)
{
    (void)state;
    write_conf("[cse]\ncse_id = /x\n");
    assert_int_equal(load(), CMN_ECONFIG);
    assert_non_null(strstr(err, "cse.data_dir: required key missing"));
    assert_non_null(strstr(err, "TEP_CSE_DATA_DIR"));

    assert_int_equal(cmn_config_load(NULL, table, NT, &cfg, err, sizeof(err)), CMN_ECONFIG);
    assert_non_null(strstr(err, "cse.data_dir: required key missing"));
}

static void test_environment_overrides(void **state)
{
    (void)state;
    write_conf("[cse]\ndata_dir=/d\n[authz]\ndeadline_ms = 750\n");
    setenv("TEP_AUTHZ_DEADLINE_MS", "250", 1);
    setenv("TEP_CSE_MEF_FQDN", "mef.example.org", 1); /* '-' in the key becomes '_' */
    assert_int_equal(load(), 0);
    assert_int_equal(cfg.deadline_ms, 250);
    assert_string_equal(cfg.fqdn, "mef.example.org");
    cmn_config_free(table, NT, &cfg);

    setenv("TEP_AUTHZ_DEADLINE_MS", "99999999", 1);
    assert_int_equal(load(), CMN_ECONFIG);
    assert_non_null(
        strstr(err, "TEP_AUTHZ_DEADLINE_MS: authz.deadline_ms: 99999999 is out of range"));

    unsetenv("TEP_AUTHZ_DEADLINE_MS");
    setenv("TEP_CSE_DATA_DIR", "/from/env", 1); /* satisfies a required key */
    assert_int_equal(cmn_config_load(NULL, table, NT, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.data_dir, "/from/env");
}

static void test_missing_file(void **state)
{
    (void)state;
    unlink(path);
    assert_int_equal(load(), CMN_ECONFIG);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));
}

static void test_stock_validators(void **state)
{
    char e[128];
    const char *good_ep[] = {"ipc:///run/tep/x.ipc", "tcp://127.0.0.1:5555", "tcp://*:5555",
                             "tcp://[::1]:5555", "tcp://bus.tep.local:1"};
    const char *bad_ep[] = {"",          "ipc://",        "tcp://host", "tcp://:5",
                            "tcp://h:0", "tcp://h:70000", "inproc://x", "tcp://h:5x"};
    const char *good_cse[] = {"/tep-cse", "/in.cse_1", "/C"};
    const char *bad_cse[] = {"", "/", "tep-cse", "//sp/cse", "/a b", "/a/b"};
    const char *good_fqdn[] = {"mef.tep.local", "localhost", "a-b.c1.org"};
    const char *bad_fqdn[] = {"", ".x", "x.", "a..b", "-a.b", "a-.b", "a_b.c", "a b"};
    const char *good_listen[] = {"", "127.0.0.1:5683", "[::1]:5684", "localhost:65535"};
    const char *bad_listen[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                                ":5683",     "[::1]5684",   "host:-1"};
    (void)state;

    for (size_t i = 0; i < sizeof(good_ep) / sizeof(*good_ep); i++)
        assert_int_equal(cmn_cfg_valid_endpoint(good_ep[i], e, sizeof(e)), 0);
    for (size_t i = 0; i < sizeof(bad_ep) / sizeof(*bad_ep); i++)
        assert_int_equal(cmn_cfg_valid_endpoint(bad_ep[i], e, sizeof(e)), CMN_EINVAL);
    for (size_t i = 0; i < sizeof(good_cse) / sizeof(*good_cse); i++)
        assert_int_equal(cmn_cfg_valid_cse_id(good_cse[i], e, sizeof(e)), 0);
    for (size_t i = 0; i < sizeof(bad_cse) / sizeof(*bad_cse); i++)
        assert_int_equal(cmn_cfg_valid_cse_id(bad_cse[i], e, sizeof(e)), CMN_EINVAL);
    for (size_t i = 0; i < sizeof(good_fqdn) / sizeof(*good_fqdn); i++)
        assert_int_equal(cmn_cfg_valid_fqdn(good_fqdn[i], e, sizeof(e)), 0);
    for (size_t i = 0; i < sizeof(bad_fqdn) / sizeof(*bad_fqdn); i++)
        assert_int_equal(cmn_cfg_valid_fqdn(bad_fqdn[i], e, sizeof(e)), CMN_EINVAL);
    for (size_t i = 0; i < sizeof(good_listen) / sizeof(*good_listen); i++)
        assert_int_equal(cmn_cfg_valid_listen(good_listen[i], e, sizeof(e)), 0);
    for (size_t i = 0; i < sizeof(bad_listen) / sizeof(*bad_listen); i++)
        assert_int_equal(cmn_cfg_valid_listen(bad_listen[i], e, sizeof(e)), CMN_EINVAL);
    assert_non_null(strstr(e, "host:-1"));
}

/* The validators the three daemons share: what an operator reads when a value is wrong. */
/* [bus] decide of tep-cse: one endpoint or a list of PDP replicas. */
static void test_endpoint_list(void **state)
{
    static const char *const good[] = {
        "ipc:///run/tep/decide.ipc", "tcp://a:1,tcp://b:2", " tcp://a:1 , ipc:///x/y.ipc ",
        "tcp://a:1,tcp://a:2,tcp://a:3,tcp://a:4,tcp://a:5,tcp://a:6,tcp://a:7,tcp://a:8,"
        "tcp://a:9,tcp://a:10,tcp://a:11,tcp://a:12,tcp://a:13,tcp://a:14,tcp://a:15,tcp://a:16"};
    static const char *const bad[] = {"",
                                      "tcp://a:1,",
                                      ",tcp://a:1",
                                      "tcp://a:1,,tcp://b:2",
                                      "tcp://a:1, decide",
                                      "tcp://a:1 tcp://b:2"};
    char e[256];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(cmn_cfg_valid_endpoint_list(good[i], e, sizeof(e)), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e[0] = '\0';
        assert_int_equal(cmn_cfg_valid_endpoint_list(bad[i], e, sizeof(e)), CMN_EINVAL);
        assert_true(e[0] != '\0'); /* a reason */
    }
    assert_int_equal(cmn_cfg_valid_endpoint_list("tcp://a:1,tcp://a:2,tcp://a:3,tcp://a:4,"
                                                 "tcp://a:5,tcp://a:6,tcp://a:7,tcp://a:8,"
                                                 "tcp://a:9,tcp://a:10,tcp://a:11,tcp://a:12,"
                                                 "tcp://a:13,tcp://a:14,tcp://a:15,tcp://a:16,"
                                                 "tcp://a:17",
                                                 e, sizeof(e)),
                     CMN_EINVAL);
    assert_non_null(strstr(e, "more than 16 endpoints"));
}

static void test_shared_validators(void **state)
{
    char e[128];
    const char *levels[] = {"error", "warn", "info", "debug"};
    (void)state;

    assert_int_equal(cmn_cfg_valid_nonempty("/var/lib/tep", e, sizeof(e)), 0);
    assert_int_equal(cmn_cfg_valid_nonempty("", e, sizeof(e)), CMN_EINVAL);
    assert_string_equal(e, "must not be empty");
    for (size_t i = 0; i < sizeof(levels) / sizeof(*levels); i++)
        assert_int_equal(cmn_cfg_valid_log_level(levels[i], e, sizeof(e)), 0);
    assert_int_equal(cmn_cfg_valid_log_level("loud", e, sizeof(e)), CMN_EINVAL);
    assert_string_equal(e, "must be error, warn, info or debug");
    assert_int_equal(cmn_cfg_valid_log_level("", e, sizeof(e)), CMN_EINVAL);
    assert_int_equal(cmn_cfg_valid_optional_endpoint("", e, sizeof(e)), 0);
    assert_int_equal(cmn_cfg_valid_optional_endpoint("tcp://127.0.0.1:5555", e, sizeof(e)), 0);
    assert_int_equal(cmn_cfg_valid_optional_endpoint("http://x", e, sizeof(e)), CMN_EINVAL);
    assert_non_null(strstr(e, "\"http://x\""));
}

/* A shared validator in a table: the error names file, line and key. */
struct lv_cfg {
    char *level;
    char *keys;
};

static const cmn_cfg_item lv_table[] = {
    {"d", "log_level", CMN_CFG_STR, "info", offsetof(struct lv_cfg, level), 0, 0,
     cmn_cfg_valid_log_level, "level"},
    {"bus", "keys", CMN_CFG_STR, "", offsetof(struct lv_cfg, keys), 0, 0,
     cmn_cfg_valid_optional_endpoint, "keys"},
};

static void test_shared_validator_in_table(void **state)
{
    struct lv_cfg lv = {0};
    (void)state;

    write_conf("[d]\nlog_level = debug\n[bus]\nkeys =\n");
    assert_int_equal(cmn_config_load(path, lv_table, 2, &lv, err, sizeof(err)), 0);
    assert_string_equal(lv.level, "debug");
    assert_string_equal(lv.keys, "");
    cmn_config_free(lv_table, 2, &lv);
    write_conf("[d]\nlog_level = loud\n");
    memset(&lv, 0, sizeof(lv));
    assert_int_equal(cmn_config_load(path, lv_table, 2, &lv, err, sizeof(err)), CMN_ECONFIG);
    assert_err_at(2, "d.log_level");
    assert_non_null(strstr(err, "must be error, warn, info or debug"));
}

static void test_print_help(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;

    assert_non_null(f);
    cmn_config_print_help(table, NT, f);
    fclose(f);
    assert_non_null(strstr(buf, "cse.data_dir (string, required): data directory\n"));
    assert_non_null(strstr(buf, "authz.deadline_ms (int, default \"500\"): deadline\n"));
    assert_non_null(strstr(buf, "cse.debug (bool, default \"false\"): debug mode\n"));
    free(buf);
}

/* KEY=VALUE lists ([enroller] targets, [bus] peers): blanks trimmed, a trailing comma
 * allowed, split at the first '=', keys unique, empty items and blanks inside refused. */
static void test_pairs(void **state)
{
    static const char *const bad[] = {"/a",     "=x",     "/a=",       "/a=1,,/b=2", "/a=1, ",
                                      "/a b=1", "/a=x y", "/a=1,/a=2", ","};
    cmn_cfg_pair *p = NULL;
    size_t n = 99;
    char why[160];

    (void)state;
    assert_int_equal(cmn_cfg_pairs_parse("", &p, &n, why, sizeof(why)), 0);
    assert_int_equal(n, 0);
    assert_null(p);
    assert_int_equal(cmn_cfg_pairs_parse("  ", &p, &n, why, sizeof(why)), 0);
    assert_int_equal(n, 0);
    assert_int_equal(cmn_cfg_pairs_parse(" /a = coaps://h:1 ,/b=x=y,", &p, &n, why, sizeof(why)),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].key, "/a");
    assert_string_equal(p[0].value, "coaps://h:1");
    assert_string_equal(p[1].key, "/b");
    assert_string_equal(p[1].value, "x=y");
    cmn_cfg_pairs_free(p, n);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(cmn_cfg_pairs_parse(bad[i], &p, &n, why, sizeof(why)), CMN_EINVAL);
        assert_null(p);
        assert_int_equal(n, 0);
        assert_true(why[0] != '\0');
    }
    cmn_cfg_pairs_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs),
        cmocka_unit_test_setup_teardown(test_file_and_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_and_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_bounds_and_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validators_report_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test(test_stock_validators),
        cmocka_unit_test(test_shared_validators),
        cmocka_unit_test(test_endpoint_list),
        cmocka_unit_test_setup_teardown(test_shared_validator_in_table, setup, teardown),
        cmocka_unit_test(test_print_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
