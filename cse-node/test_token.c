/* Tokens at the PEP (TS-0003 7.3.2.3, 7.3.2.5) in local mode: the Uri-Query parameters,
 * a good token permitting what its permission names (and nothing else), Local-Token-IDs
 * for ATI and ltids, and every refusal of the token matrix giving a Deny whose rule
 * names the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_jws.h"
#include "cmn_token.h"
#include "cse_dynauth.h"
#include "cse_pep.h"
#include "cse_token.h"

#define NOW 1800000000
#define ISS "maf.tep.local"
#define HOLDER "//tep.local/tep-cse/Cdevice01"
#define TARGET "/tep-cse/Cdevice02/data"

static uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN];
static char keyfile[64];
static cse_tokens *tokens;
static cse_dynauth *da;
static cse_pep *pep;

static int setup(void **state)
{
    char hex[2 * CMN_ES256_PUB_LEN + 1];
    cse_tokens_cfg tc = {
        .sp_id = "tep.local", .cse_id = "/tep-cse", .issuer = ISS, .issuer_key = keyfile};
    cse_dynauth_cfg dc = {0};
    FILE *f;
    int fd;

    (void)state;
    if (cmn_es256_keygen(priv, pub) != 0)
        return -1;
    cmn_hex_encode(pub, sizeof(pub), hex);
    snprintf(keyfile, sizeof(keyfile), "/tmp/tep-cse-token-XXXXXX");
    if ((fd = mkstemp(keyfile)) < 0 || (f = fdopen(fd, "w")) == NULL)
        return -1;
    fprintf(f, "%s\n", hex);
    fclose(f);
    if (cse_tokens_new(&tc, &tokens) != 0 || cse_pep_new_local(&pep) != 0)
        return -1;
    dc.tokens = tokens;
    if (cse_dynauth_new(&dc, &da) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cse_pep_free(pep);
    cse_dynauth_free(da);
    cse_tokens_free(tokens);
    unlink(keyfile);
    cmn_wipe(priv, sizeof(priv));
    return 0;
}

static char *token(const char *tkid, const char *holder, int64_t nbf, int64_t exp, const char *ris,
                   int acop)
{
    const char *aud[1] = {"//tep.local/tep-cse"};
    json_t *tkps = json_pack("{s:[{s:[s],s:{s:[{s:[s],s:i}]},s:[s]}]}", "pm", "ris", ris, "pv",
                             "acr", "acor", "all", "acop", acop, "rids", "r1@roles.tep.local");
    cmn_token_claims c = {.tkid = tkid,
                          .issuer = ISS,
                          .holder = holder,
                          .not_before = nbf,
                          .not_after = exp,
                          .audience = aud,
                          .n_audience = 1,
                          .permissions = tkps};
    char *out = NULL;

    assert_int_equal(cmn_token_issue(&c, priv, pub, &out), 0);
    json_decref(tkps);
    return out;
}

static void request(Tep__DecisionRequest *rq, uint32_t op)
{
    tep__decision_request__init(rq);
    rq->originator = "Cdevice01";
    rq->target = TARGET;
    rq->target_ty = 3;
    rq->op = op;
    rq->creator = "Cdevice02"; /* no acp: only Cdevice02 itself */
    rq->peer_ip = "127.0.0.1";
    rq->rq_authn = true;
    rq->now = NOW;
}

static void decide(const char *query, uint32_t op, char *ati, cse_decision *d)
{
    Tep__DecisionRequest rq;

    request(&rq, op);
    cse_dynauth_decide(da, pep, &rq, query, ati, CSE_ATI_MAX, d);
    /* The request is given back as it came. */
    assert_int_equal(rq.n_token_acp_json, 0);
    assert_null(rq.token_acp_json);
    assert_int_equal(rq.n_role_ids, 0);
}

static void test_params(void **state)
{
    cse_token_params p;
    (void)state;

    assert_int_equal(cse_token_params_parse("rcn=1&tkns=a.b.c+d.e.f&ltids=lt1&tids=x@y", &p), 0);
    assert_int_equal(p.n_tkns, 2);
    assert_string_equal(p.tkns[1], "d.e.f");
    assert_string_equal(p.ltids[0], "lt1");
    assert_string_equal(p.tids[0], "x@y");
    assert_true(cse_token_params_any(&p));
    cse_token_params_free(&p);
    assert_int_equal(cse_token_params_parse("tkns=", &p), CMN_EINVAL);
    assert_int_equal(cse_token_params_parse("tkns=1+2+3+4+5+6+7+8+9", &p), CMN_EINVAL);
    assert_int_equal(cse_token_params_parse(NULL, &p), 0);
    assert_false(cse_token_params_any(&p));
}

static void test_without_token_denied(void **state)
{
    char ati[CSE_ATI_MAX];
    cse_decision d;
    (void)state;

    decide("rcn=1", 2, ati, &d);
    assert_false(d.permit);
    assert_string_equal(ati, "");
}

static void test_good_token_permits_named_target_and_op(void **state)
{
    char *jwt = token("t1@" ISS, HOLDER, NOW - 5, NOW + 60, "/tep-cse/Cdevice02/*", 2);
    char q[2048], ati[CSE_ATI_MAX], lq[64], lti[40];
    cse_decision d;
    (void)state;

    snprintf(q, sizeof(q), "tkns=%s", jwt);
    decide(q, 2, ati, &d);
    assert_true(d.permit);
    assert_string_equal(d.rule, "token[0].acp[0].acr[0]");
    /* "lt" and 128 random bits in hex: no guessable counter (issue 10). */
    assert_int_equal(strlen(ati), strlen("lt") + 32 + strlen(":t1@" ISS));
    assert_memory_equal(ati, "lt", 2);
    assert_int_equal(strspn(ati + 2, "0123456789abcdef"), 32);
    assert_string_equal(ati + 34, ":t1@" ISS);
    snprintf(lti, sizeof(lti), "%.34s", ati);
    /* Same token again: same Local-Token-ID. */
    decide(q, 2, ati, &d);
    assert_memory_equal(ati, lti, 34);
    /* The token grants RETRIEVE only. */
    decide(q, 8, ati, &d);
    assert_false(d.permit);
    /* Later requests may name it by its Local-Token-ID. */
    snprintf(lq, sizeof(lq), "ltids=%s", lti);
    decide(lq, 2, ati, &d);
    assert_true(d.permit);
    assert_string_equal(ati, "");
    decide("ltids=lt1", 2, ati, &d);
    assert_false(d.permit);
    assert_string_equal(d.rule, "token: unknown ltid");
    free(jwt);
}

static void test_token_for_other_target_gives_nothing(void **state)
{
    char *jwt = token("t2@" ISS, HOLDER, NOW - 5, NOW + 60, "/tep-cse/Cdevice03/*", 63);
    char q[2048], ati[CSE_ATI_MAX];
    cse_decision d;
    (void)state;

    snprintf(q, sizeof(q), "tkns=%s", jwt);
    decide(q, 2, ati, &d);
    assert_false(d.permit);
    free(jwt);
}

static void expect_refused(const char *jwt, const char *rule)
{
    char q[2048], ati[CSE_ATI_MAX];
    cse_decision d;

    snprintf(q, sizeof(q), "tkns=%s", jwt);
    decide(q, 2, ati, &d);
    assert_false(d.permit);
    assert_int_equal(d.rsc, 4103);
    assert_string_equal(d.rule, rule);
}

static void test_token_matrix_refused(void **state)
{
    char *e = token("t3@" ISS, HOLDER, NOW - 60, NOW - 1, TARGET, 2);
    char *n = token("t4@" ISS, HOLDER, NOW + 10, NOW + 60, TARGET, 2);
    char *h = token("t5@" ISS, "//tep.local/tep-cse/Cdevice09", NOW - 5, NOW + 60, TARGET, 2);
    char *s = token("t6@" ISS, HOLDER, NOW - 5, NOW + 60, TARGET, 2);
    (void)state;

    expect_refused(e, "token: expired");
    expect_refused(n, "token: not yet valid");
    expect_refused(h, "token: wrong holder");
    s[strlen(s) - 3] = s[strlen(s) - 3] == 'A' ? 'B' : 'A';
    expect_refused(s, "token: bad signature");
    expect_refused("eyJhbGciOiJub25lIn0.e30.", "token: bad alg");
    expect_refused("garbage", "token: malformed");
    free(e);
    free(n);
    free(h);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_without_token_denied),
        cmocka_unit_test(test_good_token_permits_named_target_and_op),
        cmocka_unit_test(test_token_for_other_target_gives_nothing),
        cmocka_unit_test(test_token_matrix_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
