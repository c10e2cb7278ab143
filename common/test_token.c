/* cmn_token: the token matrix of TS-0003 7.3.2 (expired, not yet valid, wrong audience,
 * wrong holder, bad signature, unknown issuer, alg none, revoked), each refused with its
 * own status, and a good token accepted with its permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_jws.h"
#include "cmn_token.h"

#define NOW 1800000000
#define ISSUER "maf.tep.local"
#define HOLDER "//tep.local/tep-cse/Cdevice01"

typedef struct {
    uint8_t priv[CMN_ES256_PRIV_LEN], pub[CMN_ES256_PUB_LEN];
    uint8_t opriv[CMN_ES256_PRIV_LEN], opub[CMN_ES256_PUB_LEN];
    cmn_token_issuer issuer;
    const char *own_ids[2];
    cmn_token_check chk;
} fixture;

static bool revoked_list(const char *tkid, void *arg)
{
    (void)arg;
    return strcmp(tkid, "revoked1@" ISSUER) == 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || cmn_es256_keygen(f->priv, f->pub) != 0 ||
        cmn_es256_keygen(f->opriv, f->opub) != 0)
        return -1;
    f->issuer.id = ISSUER;
    memcpy(f->issuer.pub, f->pub, sizeof(f->pub));
    f->own_ids[0] = "//tep.local/tep-cse";
    f->own_ids[1] = "/tep-cse";
    f->chk = (cmn_token_check){.issuers = &f->issuer,
                               .n_issuers = 1,
                               .holder = HOLDER,
                               .audience = f->own_ids,
                               .n_audience = 2,
                               .now = NOW,
                               .revoked = revoked_list};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    cmn_wipe(f->priv, sizeof(f->priv));
    cmn_wipe(f->opriv, sizeof(f->opriv));
    free(f);
    return 0;
}

typedef struct {
    const char *tkid, *issuer, *holder, *aud;
    int64_t nbf, exp;
    bool other_key;
} spec;

static spec good(void)
{
    return (spec){"t1@" ISSUER, ISSUER, HOLDER, "/tep-cse", NOW - 10, NOW + 600, false};
}

static char *make(fixture *f, spec s)
{
    const char *aud[1] = {s.aud};
    json_t *tkps = json_pack("{s:[{s:[s],s:{s:[{s:i}]}}]}", "pm", "ris", "/tep-cse/Cdevice02/data",
                             "pv", "acr", "acop", 2);
    cmn_token_claims c = {.tkid = s.tkid,
                          .issuer = s.issuer,
                          .holder = s.holder,
                          .not_before = s.nbf,
                          .not_after = s.exp,
                          .audience = aud,
                          .n_audience = 1,
                          .name = "read",
                          .permissions = tkps};
    char *out = NULL;

    assert_int_equal(
        cmn_token_issue(&c, s.other_key ? f->opriv : f->priv, s.other_key ? f->opub : f->pub, &out),
        0);
    json_decref(tkps);
    return out;
}

static cmn_token_status verify(fixture *f, const char *jwt)
{
    cmn_token *t = NULL;
    cmn_token_status st;
    int rc = cmn_token_verify(jwt, &f->chk, &t, &st);

    if (st == CMN_TOKEN_VALID) {
        assert_int_equal(rc, 0);
        assert_non_null(t);
    } else {
        assert_int_equal(rc, CMN_EDENIED);
        assert_null(t);
    }
    cmn_token_free(t);
    return st;
}

static cmn_token_status verify_spec(fixture *f, spec s)
{
    char *jwt = make(f, s);
    cmn_token_status st = verify(f, jwt);

    free(jwt);
    return st;
}

static void test_good_token_accepted_with_claims(void **state)
{
    fixture *f = *state;
    char *jwt = make(f, good());
    cmn_token *t = NULL;
    cmn_token_status st;

    assert_int_equal(cmn_token_verify(jwt, &f->chk, &t, &st), 0);
    assert_int_equal(st, CMN_TOKEN_VALID);
    assert_string_equal(t->tkid, "t1@" ISSUER);
    assert_string_equal(t->holder, HOLDER);
    assert_string_equal(t->issuer, ISSUER);
    assert_int_equal(t->not_after, NOW + 600);
    assert_non_null(json_object_get(t->permissions, "pm"));
    cmn_token_free(t);
    free(jwt);
}

static void test_header_is_es256_jwt(void **state)
{
    fixture *f = *state;
    char *jwt = make(f, good());
    cmn_jws *j;

    assert_int_equal(cmn_jws_decode(jwt, &j), 0);
    assert_string_equal(cmn_jws_alg(j), "ES256");
    assert_string_equal(json_string_value(json_object_get(j->header, "typ")), "JWT");
    /* The JWT mapping of TS-0003 7.3.2.6: oneM2M names never appear for mapped claims. */
    assert_null(json_object_get(j->payload, "tkid"));
    assert_null(json_object_get(j->payload, "tkhd"));
    assert_non_null(json_object_get(j->payload, "azp"));
    assert_non_null(json_object_get(j->payload, "tkps"));
    cmn_jws_free(j);
    free(jwt);
}

static void test_expired(void **state)
{
    spec s = good();
    s.exp = NOW - 1;
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_EXPIRED);
}

static void test_boundaries_inclusive(void **state)
{
    spec s = good();
    s.nbf = NOW;
    s.exp = NOW;
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_VALID);
}

static void test_not_yet_valid(void **state)
{
    spec s = good();
    s.nbf = NOW + 1;
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_NOT_YET_VALID);
}

static void test_wrong_audience(void **state)
{
    spec s = good();
    s.aud = "/other-cse";
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_AUDIENCE);
    s.aud = "/tep-cse/x"; /* not a prefix match */
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_AUDIENCE);
    s.aud = "all";
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_AUDIENCE);
}

static void test_audience_wildcard_within_segment(void **state)
{
    spec s = good();
    s.aud = "//tep.local/tep-*";
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_VALID);
    s.aud = "//tep.local*"; /* '*' never crosses '/' */
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_AUDIENCE);
}

static void test_wrong_holder(void **state)
{
    spec s = good();
    s.holder = "//tep.local/tep-cse/Cdevice02";
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_HOLDER);
    s.holder = "Cdevice01"; /* the holder is the absolute ID, nothing shorter */
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_WRONG_HOLDER);
}

static void test_bad_signature(void **state)
{
    fixture *f = *state;
    spec s = good();
    char *jwt;
    size_t n;

    s.other_key = true; /* right iss, signed by someone else */
    assert_int_equal(verify_spec(f, s), CMN_TOKEN_BAD_SIGNATURE);
    jwt = make(f, good());
    n = strlen(jwt);
    jwt[n - 5] = jwt[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(f, jwt), CMN_TOKEN_BAD_SIGNATURE);
    free(jwt);
}

static void test_unknown_issuer(void **state)
{
    spec s = good();
    s.issuer = "das.elsewhere.example";
    s.other_key = true;
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_UNKNOWN_ISSUER);
}

static char *resign(const char *header_json, const char *jwt, const char *sig)
{
    const char *dot = strchr(jwt, '.');
    const char *dot2 = strchr(dot + 1, '.');
    char *h, *out;

    assert_int_equal(cmn_b64url_encode((const uint8_t *)header_json, strlen(header_json), &h), 0);
    out = malloc(strlen(h) + strlen(jwt) + strlen(sig) + 4);
    sprintf(out, "%s.%.*s.%s", h, (int)(dot2 - dot - 1), dot + 1, sig);
    free(h);
    return out;
}

static void test_alg_none_refused(void **state)
{
    fixture *f = *state;
    char *jwt = make(f, good());
    char *none = resign("{\"alg\":\"none\",\"typ\":\"JWT\"}", jwt, "");
    char *none_sig = resign("{\"alg\":\"none\"}", jwt, strrchr(jwt, '.') + 1);
    char *hs = resign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", jwt, strrchr(jwt, '.') + 1);
    char *typ = resign("{\"alg\":\"ES256\",\"typ\":\"JWE\"}", jwt, strrchr(jwt, '.') + 1);

    assert_int_equal(verify(f, none), CMN_TOKEN_BAD_ALG);
    assert_int_equal(verify(f, none_sig), CMN_TOKEN_BAD_ALG);
    assert_int_equal(verify(f, hs), CMN_TOKEN_BAD_ALG);
    assert_int_equal(verify(f, typ), CMN_TOKEN_BAD_ALG);
    free(jwt);
    free(none);
    free(none_sig);
    free(hs);
    free(typ);
}

static void test_revoked(void **state)
{
    spec s = good();
    s.tkid = "revoked1@" ISSUER;
    assert_int_equal(verify_spec(*state, s), CMN_TOKEN_REVOKED);
}

static void test_malformed(void **state)
{
    fixture *f = *state;

    assert_int_equal(verify(f, "not a token"), CMN_TOKEN_MALFORMED);
    assert_int_equal(verify(f, "e30.e30.e30.e30.e30"), CMN_TOKEN_MALFORMED); /* JWE shape */
    assert_string_equal(cmn_token_status_name(CMN_TOKEN_WRONG_HOLDER), "wrong holder");
}

static void test_ris_match(void **state)
{
    (void)state;
    assert_true(cmn_token_ris_match("/tep-cse/Cdevice02/data", "/tep-cse/Cdevice02/data"));
    assert_true(cmn_token_ris_match("/tep-cse/Cdevice02/*", "/tep-cse/Cdevice02/data"));
    assert_false(cmn_token_ris_match("/tep-cse/*", "/tep-cse/Cdevice02/data"));
    assert_false(cmn_token_ris_match("/tep-cse/Cdevice02", "/tep-cse/Cdevice02/data"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token_accepted_with_claims),
        cmocka_unit_test(test_header_is_es256_jwt),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_boundaries_inclusive),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_wrong_audience),
        cmocka_unit_test(test_audience_wildcard_within_segment),
        cmocka_unit_test(test_wrong_holder),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_unknown_issuer),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_revoked),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ris_match),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
