/* tep-authz as token issuer and DAS: the signing key survives a restart and is
 * published; POST /token answers 201 with a token tep-cse's check accepts (holder =
 * the Km session's AE-ID in absolute form), 403 without a grant, 400 on a bad request;
 * the DAS grants exactly what a grant allows; revoked Token-IDs are remembered. */
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

#include "authz_grants.h"
#include "authz_tokens.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_token.h"
#include "tst.h"

#define NOW 1800000000

static char dir[64], gpath[128];
static cmn_store *store;
static authz_grants *grants;
static authz_tokens *tokens;

static authz_tokens_cfg cfg_for(void)
{
    return (authz_tokens_cfg){.issuer = "maf.tep.local", .sp_id = "tep.local", .data_dir = dir};
}

static int setup(void **state)
{
    const char *dbs[] = {AUTHZ_TOKEN_KEY_DB, AUTHZ_REVOKED_DB, AUTHZ_ISSUED_DB};
    const char *g = "{\"grants\":[{\"or\":\"Cdevice01\",\"ris\":[\"/tep-cse/Cdevice02/*\"],"
                    "\"acop\":2,\"lt\":600}]}";
    authz_tokens_cfg cfg;
    char err[256];
    FILE *f;

    (void)state;
    if (tst_tmpdir("authz-tokens", dir, sizeof(dir)) != 0 ||
        cmn_store_open(dir, dbs, 3, 1, 0, &store) != 0)
        return -1;
    snprintf(gpath, sizeof(gpath), "%s/grants.json", dir);
    if ((f = fopen(gpath, "w")) == NULL)
        return -1;
    fputs(g, f);
    fclose(f);
    if (authz_grants_load(gpath, &grants, err, sizeof(err)) != 0)
        return -1;
    cfg = cfg_for();
    return authz_tokens_open(store, &cfg, grants, &tokens);
}

static int teardown(void **state)
{
    (void)state;
    authz_tokens_free(tokens);
    authz_grants_free(grants);
    cmn_store_close(store);
    tst_rmtree(dir);
    return 0;
}

static void issuer_of(cmn_token_issuer *iss)
{
    iss->id = "maf.tep.local";
    assert_int_equal(cmn_hex_decode(authz_tokens_pub_hex(tokens), iss->pub, sizeof(iss->pub)), 0);
}

static void test_key_persists_and_is_published(void **state)
{
    char path[200], line[200] = "";
    char first[2 * CMN_ES256_PUB_LEN + 1];
    authz_tokens *again = NULL;
    authz_tokens_cfg cfg = cfg_for();
    FILE *f;
    (void)state;

    snprintf(first, sizeof(first), "%s", authz_tokens_pub_hex(tokens));
    assert_int_equal(strlen(first), 130);
    snprintf(path, sizeof(path), "%s/%s", dir, AUTHZ_TOKEN_PUB_FILE);
    assert_non_null(f = fopen(path, "r"));
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_memory_equal(line, first, 130);
    assert_int_equal(authz_tokens_open(store, &cfg, grants, &again), 0);
    assert_string_equal(authz_tokens_pub_hex(again), first);
    authz_tokens_free(again);
}

static void test_token_issued_and_verifies(void **state)
{
    const char *body = "{\"aud\":\"/tep-cse\",\"ris\":[\"/tep-cse/Cdevice02/data\"],\"acop\":2}";
    const char *own[1] = {"//tep.local/tep-cse"};
    authz_token_answer a;
    cmn_token_issuer iss;
    cmn_token_check chk = {.issuers = &iss,
                           .n_issuers = 1,
                           .holder = "//tep.local/tep-cse/Cdevice01",
                           .audience = own,
                           .n_audience = 1,
                           .now = NOW + 5};
    cmn_token *t = NULL;
    cmn_token_status st;
    json_t *root;
    (void)state;

    issuer_of(&iss);
    authz_tokens_request(tokens, "Cdevice01", body, strlen(body), NOW, &a);
    assert_int_equal(a.code, 201);
    assert_non_null(root = json_loads(a.body, 0, NULL));
    assert_int_equal(json_integer_value(json_object_get(root, "exp")), NOW + 600);
    assert_int_equal(
        cmn_token_verify(json_string_value(json_object_get(root, "tkn")), &chk, &t, &st), 0);
    assert_string_equal(t->tkid, json_string_value(json_object_get(root, "tkid")));
    assert_non_null(strstr(t->tkid, "@maf.tep.local"));
    /* The issued token can be fetched by its ID (dreq tids), until it is revoked. */
    {
        Tep__DasRequest rq = TEP__DAS_REQUEST__INIT;
        Tep__DasResponse resp;
        char *tids[1] = {t->tkid};
        rq.tids = tids;
        rq.n_tids = 1;
        assert_int_equal(authz_tokens_das(tokens, &rq, NOW, &resp), 0);
        assert_int_equal(resp.n_tkns, 1);
        assert_string_equal(resp.tkns[0], json_string_value(json_object_get(root, "tkn")));
        assert_false(resp.granted);
        authz_tokens_das_clear(&resp);
        assert_int_equal(authz_tokens_revoke(store, t->tkid, NOW), 0);
        assert_int_equal(authz_tokens_das(tokens, &rq, NOW, &resp), 0);
        assert_int_equal(resp.n_tkns, 0);
        authz_tokens_das_clear(&resp);
    }
    chk.now = NOW + 601;
    cmn_token_free(t);
    assert_int_equal(
        cmn_token_verify(json_string_value(json_object_get(root, "tkn")), &chk, &t, &st),
        CMN_EDENIED);
    assert_int_equal(st, CMN_TOKEN_EXPIRED);
    json_decref(root);
    free(a.body);
}

static void test_token_refused(void **state)
{
    static const char *const bodies[] = {
        "{\"aud\":\"/tep-cse\",\"ris\":[\"/tep-cse/Cdevice03/data\"],\"acop\":2}", /* target */
        "{\"aud\":\"/tep-cse\",\"ris\":[\"/tep-cse/Cdevice02/data\"],\"acop\":8}", /* op */
        "{\"aud\":\"/tep-cse\",\"ris\":[\"/tep-cse/*/data\"],\"acop\":2}",         /* star */
    };
    const char *stars = "{\"aud\":\"/tep-cse\",\"ris\":[\"/tep-cse/Cdevice02/***\"],\"acop\":2}";
    const char *bad = "{\"aud\":\"tep-cse\",\"ris\":[],\"acop\":2}";
    authz_token_answer a;
    (void)state;

    for (size_t i = 0; i < 3; i++) {
        authz_tokens_request(tokens, "Cdevice01", bodies[i], strlen(bodies[i]), NOW, &a);
        assert_int_equal(a.code, 403);
        free(a.body);
    }
    authz_tokens_request(tokens, "Cdevice09", bodies[0], strlen(bodies[0]), NOW, &a);
    assert_int_equal(a.code, 403);
    free(a.body);
    authz_tokens_request(tokens, "Cdevice01", bad, strlen(bad), NOW, &a);
    assert_int_equal(a.code, 400);
    free(a.body);
    authz_tokens_request(tokens, "Cdevice01", stars, strlen(stars), NOW, &a);
    assert_int_equal(a.code, 400);
    assert_string_equal(a.reason, "ris entries may not hold a run of '*'");
    free(a.body);
    authz_tokens_request(tokens, "Cdevice01", "{", 1, NOW, &a);
    assert_int_equal(a.code, 400);
    free(a.body);
}

static void test_das_grants_what_a_grant_allows(void **state)
{
    Tep__DasRequest rq = TEP__DAS_REQUEST__INIT;
    Tep__DasResponse resp;
    (void)state;

    rq.orig = "Cdevice01";
    rq.trid = "/tep-cse/Cdevice02/data";
    rq.op = 2;
    rq.ppl = 30;
    assert_int_equal(authz_tokens_das(tokens, &rq, NOW, &resp), 0);
    assert_true(resp.granted);
    assert_int_equal(resp.pl, NOW + 30); /* the shorter of ppl and the grant's lt */
    assert_non_null(strstr(resp.gp_json, "\"acor\":[\"Cdevice01\"]"));
    assert_string_equal(resp.rule, "das: grant[0]");
    authz_tokens_das_clear(&resp);
    rq.op = 8;
    assert_int_equal(authz_tokens_das(tokens, &rq, NOW, &resp), 0);
    assert_false(resp.granted);
    authz_tokens_das_clear(&resp);
}

static void test_revocation_remembered(void **state)
{
    (void)state;
    assert_false(authz_tokens_is_revoked(store, "abc@maf.tep.local"));
    assert_int_equal(authz_tokens_revoke(store, "abc@maf.tep.local", NOW), 0);
    assert_true(authz_tokens_is_revoked(store, "abc@maf.tep.local"));
    assert_true(authz_tokens_is_revoked(store, "")); /* no ID: fail closed */
    assert_int_equal(authz_tokens_revoke(store, "", NOW), CMN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_persists_and_is_published),
        cmocka_unit_test(test_token_issued_and_verifies),
        cmocka_unit_test(test_token_refused),
        cmocka_unit_test(test_das_grants_what_a_grant_allows),
        cmocka_unit_test(test_revocation_remembered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
