/* tep-cse's configuration (cse_config.h): [registrar] credential, the MN-CSE's credential
 * as Entity A of the SAEF with its registrar (kpsa, cert, maf), and the keys it needs;
 * [maf] retrieval, how the CSE as a Kc's target gets it (bus or coaps) and the enrolment
 * coaps uses; every refusal names the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cse_config.h"
#include "tst.h"

typedef struct {
    char dir[TST_DIR_MAX];
    char path[TST_DIR_MAX + 16];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || tst_tmpdir("cse-config", f->dir, sizeof(f->dir)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/cse.ini", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    tst_rmtree(f->dir);
    free(f);
    return 0;
}

/* An MN-CSE's cse.ini: the [registrar] section's lines after the fixed ones (line 1
 * "[cse]", 2 data_dir, 3 type, 4 cse_id, 5 "[registrar]", 6 cse_id, 7 poa, 8
 * provisioning, 9 state, then extra from line 10). */
static int load(fixture *f, const char *poa, const char *extra, cse_config *cfg, char *err,
                size_t errlen)
{
    FILE *out = fopen(f->path, "w");

    if (out == NULL)
        return -1;
    fprintf(out,
            "[cse]\ndata_dir = %s\ntype = MN\ncse_id = /mn1\n[registrar]\ncse_id = /tep-cse\n"
            "poa = %s\nprovisioning = %s/mn1.prov\nstate = %s/mn1.state\n%s",
            f->dir, poa, f->dir, f->dir, extra);
    fclose(out);
    err[0] = '\0';
    return cse_config_load(f->path, cfg, err, errlen);
}

static void test_credential_default_is_kpsa(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512];

    assert_int_equal(load(f, "coaps://127.0.0.1:5684", "", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.registrar_credential, "kpsa");
    cse_config_free(&cfg);
}

static void test_credential_each_value(void **state)
{
    fixture *f = *state;
    const char *values[] = {"kpsa", "cert", "maf"};
    char extra[64], err[512];
    cse_config cfg;

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(extra, sizeof(extra), "credential = %s\n", values[i]);
        assert_int_equal(load(f, "coaps://127.0.0.1:5684", extra, &cfg, err, sizeof(err)), 0);
        assert_string_equal(cfg.registrar_credential, values[i]);
        cse_config_free(&cfg);
    }
}

/* renew_margin_s and kc_retry_s: their defaults (a week, 30 s), a value, and one out of
 * bounds refused with its file and line. */
static void test_renew_margin_and_kc_retry(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512], where[TST_DIR_MAX + 32];

    assert_int_equal(load(f, "coaps://127.0.0.1:5684", "", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.registrar_renew_margin_s, 604800);
    assert_int_equal(cfg.registrar_kc_retry_s, 30);
    cse_config_free(&cfg);
    assert_int_equal(load(f, "coaps://127.0.0.1:5684", "renew_margin_s = 40\nkc_retry_s = 5\n",
                          &cfg, err, sizeof(err)),
                     0);
    assert_int_equal(cfg.registrar_renew_margin_s, 40);
    assert_int_equal(cfg.registrar_kc_retry_s, 5);
    cse_config_free(&cfg);
    snprintf(where, sizeof(where), "%s:10", f->path);
    assert_int_not_equal(
        load(f, "coaps://127.0.0.1:5684", "kc_retry_s = 0\n", &cfg, err, sizeof(err)), 0);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "kc_retry_s"));
    cse_config_free(&cfg);
    assert_int_not_equal(
        load(f, "coaps://127.0.0.1:5684", "renew_margin_s = 5\n", &cfg, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "renew_margin_s"));
    cse_config_free(&cfg);
}

/* An unknown value: refused with its file and line (10) and what is allowed. */
static void test_credential_unknown_value_names_file_and_line(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512], where[TST_DIR_MAX + 32];

    assert_int_not_equal(
        load(f, "coaps://127.0.0.1:5684", "credential = psk\n", &cfg, err, sizeof(err)), 0);
    snprintf(where, sizeof(where), "%s:10", f->path);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "credential"));
    assert_non_null(strstr(err, "\"kpsa\", \"cert\" or \"maf\""));
    cse_config_free(&cfg);
    assert_int_not_equal(
        load(f, "coaps://127.0.0.1:5684", "credential = CERT\n", &cfg, err, sizeof(err)), 0);
    assert_non_null(strstr(err, where));
    cse_config_free(&cfg);
}

/* cert and maf are credentials of a SAEF: over plain CoAP there is none to use them in
 * (refused, naming the credential's line), and an IN-CSE has no registrar. */
static void test_cert_or_maf_needs_coaps(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512], where[TST_DIR_MAX + 32];

    snprintf(where, sizeof(where), "%s:10", f->path);
    assert_int_equal(
        load(f, "coap://127.0.0.1:5683", "credential = cert\n", &cfg, err, sizeof(err)),
        CMN_ECONFIG);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "registrar.credential: cert needs type MN and registrar.poa "
                                "coaps://"));
    cse_config_free(&cfg);
    assert_int_equal(load(f, "coap://127.0.0.1:5683", "credential = maf\n", &cfg, err, sizeof(err)),
                     CMN_ECONFIG);
    assert_non_null(strstr(err, "maf needs"));
    cse_config_free(&cfg);
    /* kpsa (the default) over plain CoAP: nothing to use it for, nothing wrong */
    assert_int_equal(
        load(f, "coap://127.0.0.1:5683", "credential = kpsa\n", &cfg, err, sizeof(err)), 0);
    cse_config_free(&cfg);
}

static void test_in_cse_with_a_credential_is_refused(void **state)
{
    fixture *f = *state;
    FILE *out = fopen(f->path, "w");
    cse_config cfg;
    char err[512], where[TST_DIR_MAX + 32];

    assert_non_null(out);
    fprintf(out, "[cse]\ndata_dir = %s\n[registrar]\ncredential = maf\n", f->dir);
    fclose(out);
    assert_int_equal(cse_config_load(f->path, &cfg, err, sizeof(err)), CMN_ECONFIG);
    snprintf(where, sizeof(where), "%s:4", f->path);
    assert_non_null(strstr(err, where));
    assert_non_null(strstr(err, "needs type MN"));
    cse_config_free(&cfg);
}

/* An IN-CSE's cse.ini with extra (from line 3). */
static int load_in(fixture *f, const char *extra, cse_config *cfg, char *err, size_t errlen)
{
    FILE *out = fopen(f->path, "w");

    if (out == NULL)
        return -1;
    fprintf(out, "[cse]\ndata_dir = %s\n%s", f->dir, extra);
    fclose(out);
    err[0] = '\0';
    return cse_config_load(f->path, cfg, err, errlen);
}

static void assert_refused_at(fixture *f, const char *err, int line, const char *what)
{
    char where[TST_DIR_MAX + 32];

    snprintf(where, sizeof(where), "%s:%d:", f->path, line);
    if (strstr(err, where) == NULL || strstr(err, what) == NULL)
        fail_msg("wanted \"%s\" and \"%s\" in: %s", where, what, err);
}

static void test_maf_retrieval_default_is_bus(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512];

    assert_int_equal(load_in(f, "", &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.maf_retrieval, "bus");
    assert_false(cse_config_maf_coaps(&cfg));
    assert_int_equal(cfg.maf_recheck_s, 10);
    assert_int_equal(cfg.maf_timeout_ms, 3000);
    cse_config_free(&cfg);
}

/* An MN-CSE over coaps:// without [maf] provisioning: its registrar enrolment, which the
 * registree owns (the MAF client never enrols with it). */
static void test_maf_coaps_on_an_mn_uses_its_registrar_enrolment(void **state)
{
    fixture *f = *state;
    const char *prov, *st;
    char want[TST_DIR_MAX + 16], err[512];
    cse_config cfg;
    bool shared = false;

    assert_int_equal(load(f, "coaps://127.0.0.1:5684",
                          "[maf]\nretrieval = coaps\nuri = coaps://127.0.0.1:5690\nrecheck_s = 2\n",
                          &cfg, err, sizeof(err)),
                     0);
    assert_true(cse_config_maf_coaps(&cfg));
    assert_string_equal(cfg.maf_uri, "coaps://127.0.0.1:5690");
    assert_int_equal(cfg.maf_recheck_s, 2);
    cse_config_maf_files(&cfg, &prov, &st, &shared);
    snprintf(want, sizeof(want), "%s/mn1.state", f->dir);
    assert_string_equal(st, want);
    snprintf(want, sizeof(want), "%s/mn1.prov", f->dir);
    assert_string_equal(prov, want);
    assert_true(shared);
    cse_config_free(&cfg);
}

/* An IN-CSE with its own provisioning file: not shared, the MAF client enrols. */
static void test_maf_coaps_with_own_enrolment(void **state)
{
    fixture *f = *state;
    const char *prov, *st;
    cse_config cfg;
    char err[512];
    bool shared = true;

    assert_int_equal(load_in(f,
                             "[maf]\nretrieval = coaps\nprovisioning = /x/in.prov\n"
                             "state = /x/in.state\n",
                             &cfg, err, sizeof(err)),
                     0);
    cse_config_maf_files(&cfg, &prov, &st, &shared);
    assert_string_equal(prov, "/x/in.prov");
    assert_string_equal(st, "/x/in.state");
    assert_false(shared);
    cse_config_free(&cfg);
}

/* Each refusal names the file, the line and what is wrong. */
static void test_maf_refusals_name_file_and_line(void **state)
{
    fixture *f = *state;
    cse_config cfg;
    char err[512];

    /* an IN-CSE has no registrar enrolment to borrow: line 4 (retrieval) */
    assert_int_equal(load_in(f, "[maf]\nretrieval = coaps\n", &cfg, err, sizeof(err)), CMN_ECONFIG);
    assert_refused_at(f, err, 4, "maf.retrieval: coaps needs maf.provisioning and maf.state");
    cse_config_free(&cfg);
    /* one way to the MAF: the bus's keys socket and coaps exclude each other */
    assert_int_equal(load_in(f,
                             "[maf]\nretrieval = coaps\nprovisioning = /p\nstate = /s\n[bus]\n"
                             "keys = ipc:///tmp/keys.ipc\n",
                             &cfg, err, sizeof(err)),
                     CMN_ECONFIG);
    assert_refused_at(f, err, 4, "excludes bus.keys and bus.maf_events");
    cse_config_free(&cfg);
    /* provisioning without state */
    assert_int_equal(
        load_in(f, "[maf]\nretrieval = coaps\nprovisioning = /p\n", &cfg, err, sizeof(err)),
        CMN_ECONFIG);
    assert_refused_at(f, err, 5, "maf.provisioning and maf.state go together");
    cse_config_free(&cfg);
    /* coaps' keys with the bus: line 4 (uri) */
    assert_int_equal(load_in(f, "[maf]\nuri = coaps://127.0.0.1:5690\n", &cfg, err, sizeof(err)),
                     CMN_ECONFIG);
    assert_refused_at(f, err, 4, "maf.uri: only with maf.retrieval = coaps");
    cse_config_free(&cfg);
    /* bad values: line 4 each */
    assert_int_not_equal(load_in(f, "[maf]\nretrieval = BUS\n", &cfg, err, sizeof(err)), 0);
    assert_refused_at(f, err, 4, "\"bus\" or \"coaps\"");
    cse_config_free(&cfg);
    assert_int_not_equal(load_in(f, "[maf]\nuri = coap://127.0.0.1:5690\n", &cfg, err, sizeof(err)),
                         0);
    assert_refused_at(f, err, 4, "coaps://HOST:PORT");
    cse_config_free(&cfg);
    assert_int_not_equal(load_in(f, "[maf]\nrecheck_s = 0\n", &cfg, err, sizeof(err)), 0);
    assert_refused_at(f, err, 4, "recheck_s");
    cse_config_free(&cfg);
    assert_int_not_equal(load_in(f, "[maf]\ntimeout_ms = 50\n", &cfg, err, sizeof(err)), 0);
    assert_refused_at(f, err, 4, "timeout_ms");
    cse_config_free(&cfg);
    /* an MN-CSE registering over plain CoAP has no enrolment to borrow either */
    assert_int_equal(
        load(f, "coap://127.0.0.1:5683", "[maf]\nretrieval = coaps\n", &cfg, err, sizeof(err)),
        CMN_ECONFIG);
    assert_refused_at(f, err, 11, "maf.retrieval: coaps needs");
    cse_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_credential_default_is_kpsa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credential_each_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renew_margin_and_kc_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credential_unknown_value_names_file_and_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cert_or_maf_needs_coaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_cse_with_a_credential_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maf_retrieval_default_is_bus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maf_coaps_on_an_mn_uses_its_registrar_enrolment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_maf_coaps_with_own_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maf_refusals_name_file_and_line, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
