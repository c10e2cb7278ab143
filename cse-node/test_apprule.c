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
#include "cse_resource.h"
#include "cse_sync.h"
#include "tst.h"

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

static cse_apprules *load_none(void)
{
    cse_apprules *r = NULL;
    char err[64];

    assert_int_equal(cse_apprules_load("", &r, err, sizeof(err)), 0);
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
    assert_true(
        cse_apprules_allow(r, "12-ab@mef.tep.local", "Rorg.example.app", "Cdevice9", &rule));
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
        "[]",
        "{\"rules\":{}}",
        "{\"rules\":[{\"apci\":[\"*\"],\"aai\":[\"*\"]}]}",
        "{\"rules\":[{\"apci\":[],\"aai\":[\"*\"],\"aae\":[\"*\"]}]}",
        "{\"rules\":[{\"apci\":[1],\"aai\":[\"*\"],\"aae\":[\"*\"]}]}",
        "nope",
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

static void test_registration_uses_the_credential_id(void **state)
{
    const char *dbs[] = {CSE_DB_ENROLEES};
    char dir[TST_DIR_MAX];
    cse_apprules *r = load("{\"rules\":[{\"apci\":[\"12-k1@mef.tep.local\"],"
                           "\"aai\":[\"Ntepdemo\"],\"aae\":[\"Cdevice01\"]}]}");
    cmn_store *st = NULL;
    (void)state;

    assert_int_equal(tst_tmpdir("apprule", dir, TST_DIR_MAX), 0);
    assert_int_equal(cmn_store_open(dir, dbs, 1, 1, 0, &st), 0);
    assert_int_equal(cmn_store_put(st, CSE_DB_ENROLEES, "Cdevice01", 9, "k1@mef.tep.local", 16), 0);
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice01", "Ntepdemo"), 0);
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice01", "Nother"),
                     CMN_RSC_APP_RULE_VALIDATION_FAILED);
    /* Cdevice02 has no credential here: empty Credential-ID. */
    assert_int_equal(cse_apprules_check_registration(r, st, "Cdevice02", "Ntepdemo"),
                     CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cmn_store_close(st);
    assert_int_equal(tst_rmtree(dir), 0);
    cse_apprules_free(r);
}

/* ---- <serviceSubscribedAppRule> resources (ty 19) ------------------------------------ */

static cmn_store *tree_open(char *dir)
{
    const char *dbs[] = {CSE_DB_ENROLEES, CSE_RES_DBS};
    cmn_store *st = NULL;

    assert_int_equal(tst_tmpdir("apprule", dir, TST_DIR_MAX), 0);
    assert_int_equal(cmn_store_open(dir, dbs, sizeof(dbs) / sizeof(dbs[0]), CSE_SCHEMA, 0, &st), 0);
    assert_int_equal(cse_res_ensure_csebase(st, "/tep-cse", "tep-cse", 1795000000), 0);
    assert_int_equal(cmn_store_put(st, CSE_DB_ENROLEES, "Cdevice01", 9, "k1@mef.tep.local", 16), 0);
    return st;
}

static Tep__Resource *add_asar(cmn_store *st, const char *json)
{
    Tep__Resource *cb = NULL, *made = NULL;
    json_t *a = json_loads(json, 0, NULL);
    cse_res_create_in in = {
        .ty = CMN_TY_SASR, .attrs = a, .originator = "CAdmin", .now = 1795000000};

    assert_non_null(a);
    assert_int_equal(cse_res_get(st, "tep-cse", &cb), 0);
    assert_int_equal(cse_res_create(st, cb, &in, &made), CMN_RSC_CREATED);
    cse_res_free(cb);
    json_decref(a);
    return made;
}

static unsigned check(const cse_apprules *r, cmn_store *st, const char *ae, const char *app)
{
    return cse_apprules_check_registration(r, st, ae, app);
}

/* A rule resource applies at the next registration, and its deletion lifts it. */
static void test_resource_rules(void **state)
{
    char dir[TST_DIR_MAX];
    cse_apprules *r = load_none();
    cmn_store *st = tree_open(dir);
    Tep__Resource *rule;
    (void)state;

    assert_int_equal(cse_apprules_use_resources(r, "tep-cse"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nany"), 0); /* no rule at all */
    rule = add_asar(st, "{\"apci\":[\"12-k1@*\"],\"aai\":[\"Ntep*\"],\"aae\":[\"Cdevice*\"]}");
    assert_int_equal(check(r, st, "Cdevice01", "Ntepdemo"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nother"), CMN_RSC_APP_RULE_VALIDATION_FAILED);
    assert_int_equal(check(r, st, "Cdevice02", "Ntepdemo"), /* no credential */
                     CMN_RSC_APP_RULE_VALIDATION_FAILED);
    assert_int_equal(cse_res_delete(st, rule, 1795000001), CMN_RSC_DELETED);
    assert_int_equal(check(r, st, "Cdevice01", "Nother"), 0);
    cse_res_free(rule);
    cmn_store_close(st);
    assert_int_equal(tst_rmtree(dir), 0);
    cse_apprules_free(r);
}

/* No apci: the rule for AEs without a security association (empty Credential-ID). */
static void test_resource_without_apci(void **state)
{
    char dir[TST_DIR_MAX];
    cse_apprules *r = load_none();
    cmn_store *st = tree_open(dir);
    (void)state;

    assert_int_equal(cse_apprules_use_resources(r, "tep-cse"), 0);
    cse_res_free(add_asar(st, "{\"aai\":[\"*\"],\"aae\":[\"*\"]}"));
    assert_int_equal(check(r, st, "Cplain", "Nx"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nx"), CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cse_res_free(add_asar(st, "{\"apci\":[\"*\"]}")); /* no aai/aae: allows nothing */
    assert_int_equal(check(r, st, "Cdevice01", "Nx"), CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cmn_store_close(st);
    assert_int_equal(tst_rmtree(dir), 0);
    cse_apprules_free(r);
}

/* The file's rules and the resources' together: one of them allowing is enough. */
static void test_file_and_resources_combined(void **state)
{
    char dir[TST_DIR_MAX];
    cse_apprules *r = load("{\"rules\":[{\"apci\":[\"*\"],\"aai\":[\"Nfile\"],"
                           "\"aae\":[\"*\"]}]}");
    cmn_store *st = tree_open(dir);
    (void)state;

    assert_int_equal(cse_apprules_use_resources(r, "tep-cse"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nres"), CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cse_res_free(add_asar(st, "{\"apci\":[\"*\"],\"aai\":[\"Nres\"],\"aae\":[\"C*\"],"
                              "\"et\":\"20991231T000000\"}"));
    assert_int_equal(check(r, st, "Cdevice01", "Nres"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nfile"), 0);
    assert_int_equal(check(r, st, "Cdevice01", "Nnone"), CMN_RSC_APP_RULE_VALIDATION_FAILED);
    cmn_store_close(st);
    assert_int_equal(tst_rmtree(dir), 0);
    cse_apprules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_allow_all),
        cmocka_unit_test(test_all_three_must_match),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_registration_uses_the_credential_id),
        cmocka_unit_test(test_resource_rules),
        cmocka_unit_test(test_resource_without_apci),
        cmocka_unit_test(test_file_and_resources_combined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
