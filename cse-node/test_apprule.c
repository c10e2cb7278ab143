/* Application rules at AE registration (TS-0001 9.6.29, TS-0003 8.2.1): wildcards in
 * apci/aai/aae, all three must match, no rules allow everything, malformed files are
 * refused with the rule named, and the Credential-ID comes from the AE's credential. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ftw.h>

#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "cse_apprule.h"
#include "cse_sync.h"

static char file[64];

static cse_apprules *load(const char *text)
{
    cse_apprules *r = NULL;
    char err[256];
    FILE *f;
    int fd;

    snprintf(file, sizeof(file), "/tmp/tep-apprule-XXXXXX");
    fd = mkstemp(file);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    assert_int_equal(cse_apprules_load(file, &r, err, sizeof(err)), 0);
    unlink(file);
    return r;
}

static void test_no_rules_allow_all(void **state)
{
    cse_apprules *r = NULL;
    char err[64];
    int rule;
    (void)state;

    assert_int_equal(cse_apprules_load("", &r, err, sizeof(err)), 0);
    assert_true(cse_apprules_allow(r, "", NULL, "Cx", &rule));
    assert_int_equal(rule, -1);
    assert_int_equal(cse_apprules_check_registration(r, NULL, "Cx", NULL), 0);
    cse_apprules_free(r);
}

static void test_all_three_must_match(void **state)
{
    cse_apprules *r = load("{\"rules\":[{\"apci\":[\"12-*@mef.tep.local\"],"
                           "\"aai\":[\"Ntepdemo\",\"R*.example.*\"],\"aae\":[\"Cdevice*\"]},"
                           "{\"apci\":[\"*\"],\"aai\":[\"Nopen\"],\"aae\":[\"*\"]}]}");
    int rule;
    (void)state;

    assert_int_equal(cse_apprules_count(r), 2);
    assert_true(cse_apprules_allow(r, "12-ab12@mef.tep.local", "Ntepdemo", "Cdevice01", &rule));
    assert_int_equal(rule, 0);
    assert_true(cse_apprules_allow(r, "12-ab@mef.tep.local", "Rorg.example.app", "Cdevice9",
                                   &rule));
    assert_false(cse_apprules_allow(r, "12-ab@other.mef", "Ntepdemo", "Cdevice01", &rule));
    assert_false(cse_apprules_allow(r, "12-ab@mef.tep.local", "Nother", "Cdevice01", &rule));
    assert_false(cse_apprules_allow(r, "12-ab@mef.tep.local", "Ntepdemo", "Cother", &rule));
    assert_false(cse_apprules_allow(r, "12-ab@mef.tep.local", NULL, "Cdevice01", &rule));
    /* No credential (plain CoAP): only "*" in apci matches the empty Credential-ID. */
    assert_true(cse_apprules_allow(r, "", "Nopen", "Cany", &rule));
    assert_int_equal(rule, 1);
    cse_apprules_free(r);
}

static void test_malformed_refused(void **state)
{
    static const char *const bad[] = {
        "[]", "{\"rules\":{}}", "{\"rules\":[{\"apci\":[\"*\"],\"aai\":[\"*\"]}]}",
        "{\"rules\":[{\"apci\":[],\"aai\":[\"*\"],\"aae\":[\"*\"]}]}",
        "{\"rules\":[{\"apci\":[1],\"aai\":[\"*\"],\"aae\":[\"*\"]}]}", "nope",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cse_apprules *r = NULL;
        char err[256] = "";
        FILE *f;
        int fd;
        snprintf(file, sizeof(file), "/tmp/tep-apprule-XXXXXX");
        fd = mkstemp(file);
        f = fdopen(fd, "w");
        fputs(bad[i], f);
        fclose(f);
        assert_int_equal(cse_apprules_load(file, &r, err, sizeof(err)), CMN_EINVAL);
        assert_null(r);
        assert_non_null(strstr(err, file));
        unlink(file);
    }
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void test_registration_uses_the_credential_id(void **state)
{
    const char *dbs[] = { CSE_DB_ENROLEES };
    char dir[64] = "/tmp/tep-apprule-st-XXXXXX";
    cse_apprules *r = load("{\"rules\":[{\"apci\":[\"12-k1@mef.tep.local\"],"
                           "\"aai\":[\"Ntepdemo\"],\"aae\":[\"Cdevice01\"]}]}");
    cmn_store *st = NULL;
    (void)state;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 0, &st), 0);
    assert_int_equal(cmn_store_put(st, CSE_DB_ENROLEES, "Cdevice01", 9, "k1@mef.tep.local", 16),
                     0);
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice01", "Ntepdemo"), 0);
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice01", "Nother"),
                     CMN_RSC_APP_RULE_VALIDATION_FAILED);
    /* Cdevice02 has no credential here: empty Credential-ID. */
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice02", "Ntepdemo"),
                     CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cmn_store_close(st);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    cse_apprules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_allow_all),
        cmocka_unit_test(test_all_three_must_match),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_registration_uses_the_credential_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
