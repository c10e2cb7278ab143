/* Unit tests of the access decision algorithm (TS-0003 7.1.5): a table of requests
 * against policies, each with the decision and the rule a user (an audit log) sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_acp.h"
#include "cmn_err.h"
#include "cmn_onem2m.h"
#include "tst.h"

static int setup(void **state)
{
    tst_json_leak_check(); /* jansson through CMocka's leak-checking allocator */
    return 0;
}

/* ---- acor matching ------------------------------------------------------------------ */

static const struct {
    const char *pattern, *originator;
    bool match;
} acor_cases[] = {
    {"all", "Canything", true},
    {"CAdmin", "CAdmin", true},
    {"CAdmin", "CAdmin2", false},
    {"CAdmin", "cadmin", false},
    {"C98*", "C9801", true},
    {"C98*", "C98", true},
    {"C98*", "C9/801", false}, /* '*' never crosses '/' */
    {"C*X", "C123X", true},
    {"C*X", "C123Y", false},
    {"a*b*c", "axxbyyc", true},
    {"C**", "C1", true},
    {"*", "Cabc", true},
    {"*", "/cse/C1", false},
    {"//sp/*/C1", "//sp/a/C1", true},
    {"//sp/*/C1", "//sp/a/b/C1", false},
    {"/myCSE*/C98*", "/myCSE7/C9812", true},
    {"/myCSE*/C98*", "/myCSE7/C9712", false},
    {"//*/myCSE*", "//m2msp.org/myCSE9", true},
    {"//m2msp.org/myCSE*/C98*", "//m2msp.org/myCSE01/x/C9801", false},
    {"/cse-in/C9886", "/cse-in/C9886/", false},
    {"*", "", false}, /* an empty originator matches only "all" */
    {"all", "", true},
};

static void test_acor_match_table(void **state)
{
    for (size_t i = 0; i < sizeof(acor_cases) / sizeof(acor_cases[0]); i++) {
        bool got = cmn_acp_acor_match(acor_cases[i].pattern, acor_cases[i].originator);

        if (got != acor_cases[i].match)
            fail_msg("acor \"%s\" vs \"%s\": got %d", acor_cases[i].pattern,
                     acor_cases[i].originator, got);
    }
    assert_false(cmn_acp_acor_match(NULL, "C1"));
    assert_false(cmn_acp_acor_match("C1", NULL));
}

/* ---- decisions ---------------------------------------------------------------------- */

/* The example policy of TS-0003-notes D6 without its acco (contexts). */
#define D6_PV                                                                                      \
    "{\"acr\": ["                                                                                  \
    "{\"acor\": [\"CAdmin\", \"/cse-in/C9886\", \"//m2msp.org/myCSE*/C98*\", \"all\"],"            \
    " \"acop\": 35, \"acaf\": true, \"acod\": [{\"ty\": 3, \"chty\": [4]}]},"                      \
    "{\"acor\": [\"1234abcd@role-issuer.com\"], \"acop\": 2}]}"
/* The same without "all", so the originator list decides. */
#define D6_NOALL_PV                                                                                \
    "{\"acr\": [{\"acor\": [\"CAdmin\", \"/cse-in/C9886\", \"//m2msp.org/myCSE*/C98*\"],"          \
    " \"acop\": 35, \"acaf\": true}]}"
/* The full D6 first rule, with contexts. */
#define D6_ACCO_PV                                                                                 \
    "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 35,"                                               \
    " \"acco\": [{\"actw\": [\"* * 8-20 * * 1-5 *\"],"                                             \
    " \"acip\": {\"ipv4\": [\"10.0.0.0/8\"]}, \"aclr\": {\"accc\": [\"KR\"]}}]},"                  \
    "{\"acor\": [\"1234abcd@role-issuer.com\"], \"acop\": 2}]}"
#define OPEN_PV "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63}]}"

typedef struct {
    const char *name;
    const char *pv[2]; /* NULL-terminated, at most 2 */
    const char *originator;
    uint32_t op, target_ty, new_ty;
    bool authn;
    const char *role; /* NULL: none */
    bool permit;
    const char *rule;
} decision_case;

static const decision_case cases[] = {
    /* D6 */
    {"d6 any authenticated retrieve",
     {D6_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    {"d6 acaf needs rq_authn",
     {D6_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     false,
     NULL,
     false,
     "no matching acr"},
    {"d6 role id, unauthenticated",
     {D6_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     false,
     "1234abcd@role-issuer.com",
     true,
     "acp[0].acr[1]"},
    {"d6 role id not held",
     {D6_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     false,
     "other@role",
     false,
     "no matching acr"},
    {"d6 update not in acop 35",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_UPDATE,
     3,
     0,
     true,
     NULL,
     false,
     "no matching acr"},
    {"d6 discovery in acop 35",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_DISCOVERY,
     3,
     0,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    {"d6 create cin under cnt",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_CREATE,
     3,
     4,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    {"d6 create cnt under cnt",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_CREATE,
     3,
     3,
     true,
     NULL,
     false,
     "no matching acr"},
    {"d6 create cin under ae",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_CREATE,
     2,
     4,
     true,
     NULL,
     false,
     "no matching acr"},
    {"d6 acod ignored for retrieve",
     {D6_PV},
     "CAdmin",
     CMN_ACOP_RETRIEVE,
     2,
     0,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    /* originators and wildcards */
    {"exact id",
     {D6_NOALL_PV},
     "/cse-in/C9886",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    {"wildcard id",
     {D6_NOALL_PV},
     "//m2msp.org/myCSE01/C9801",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     true,
     "acp[0].acr[0]"},
    {"wildcard stops at /",
     {D6_NOALL_PV},
     "//m2msp.org/myCSE01/x/C9801",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "no matching acr"},
    {"unknown originator",
     {D6_NOALL_PV},
     "C9886",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "no matching acr"},
    /* contexts: no peer address or location in this request -> that context is FALSE */
    {"acco cannot be met without address",
     {D6_ACCO_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "no matching acr"},
    {"acco rule skipped, next permits",
     {D6_ACCO_PV},
     "Cany",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     "1234abcd@role-issuer.com",
     true,
     "acp[0].acr[1]"},
    {"empty acco is no context",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": 2, \"acco\": []}]}"},
     "C1",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     false,
     NULL,
     true,
     "acp[0].acr[0]"},
    /* permit-overrides across policies */
    {"second policy permits",
     {D6_NOALL_PV, OPEN_PV},
     "Cx",
     CMN_ACOP_DELETE,
     3,
     0,
     false,
     NULL,
     true,
     "acp[1].acr[0]"},
    {"malformed policy does not block another",
     {"[1]", OPEN_PV},
     "Cx",
     CMN_ACOP_DELETE,
     3,
     0,
     false,
     NULL,
     true,
     "acp[1].acr[0]"},
    {"no policy", {NULL}, "Cx", CMN_ACOP_RETRIEVE, 3, 0, true, NULL, false, "no policy"},
    {"empty acr list",
     {"{\"acr\": []}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "no matching acr"},
    /* malformed: Deny, with the reason */
    {"pv not an object",
     {"[1]"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0]: pv not an object"},
    {"acr not an array",
     {"{\"acr\": {\"acor\": [\"all\"], \"acop\": 63}}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0]: acr not an array"},
    {"acop not an integer",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": \"63\"}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acop not an integer in 0..63"},
    {"acop negative",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": -1}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acop not an integer in 0..63"},
    {"acop above 63",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": 64}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acop not an integer in 0..63"},
    {"acor not an array",
     {"{\"acr\": [{\"acor\": \"all\", \"acop\": 63}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acor not an array"},
    {"acaf not a boolean",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63, \"acaf\": 1}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acaf not a boolean"},
    {"acod without chty",
     {"{\"acr\": [{\"acor\": [\"all\"], \"acop\": 63, \"acod\": [{\"ty\": 3}]}]}"},
     "Cx",
     CMN_ACOP_CREATE,
     3,
     4,
     true,
     NULL,
     false,
     "acp[0].acr[0]: acod chty not an integer array"},
    {"malformed rule, later rule permits",
     {"{\"acr\": [{\"acop\": 63}, {\"acor\": [\"Cx\"], \"acop\": 2}]}"},
     "Cx",
     CMN_ACOP_RETRIEVE,
     3,
     0,
     false,
     NULL,
     true,
     "acp[0].acr[1]"},
};

static void run_case(const decision_case *c)
{
    json_t *privs[2] = {NULL, NULL};
    const char *roles[1] = {c->role};
    cmn_acp_request rq = {.originator = c->originator,
                          .op = c->op,
                          .target_ty = c->target_ty,
                          .new_ty = c->new_ty,
                          .rq_authn = c->authn,
                          .role_ids = c->role != NULL ? roles : NULL,
                          .n_roles = c->role != NULL ? 1 : 0,
                          .now = 1795000000};
    cmn_acp_result res;
    size_t n = 0;

    while (n < 2 && c->pv[n] != NULL) {
        privs[n] = json_loads(c->pv[n], 0, NULL);
        if (privs[n] == NULL)
            fail_msg("%s: test policy is not JSON", c->name);
        n++;
    }
    assert_int_equal(cmn_acp_evaluate(&rq, privs, n, &res), 0);
    if (res.permit != c->permit || strcmp(res.rule, c->rule) != 0)
        fail_msg("%s: got permit=%d rule=\"%s\", want permit=%d rule=\"%s\"", c->name, res.permit,
                 res.rule, c->permit, c->rule);
    for (size_t i = 0; i < n; i++)
        json_decref(privs[i]);
}

static void test_decision_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

static void test_bad_arguments(void **state)
{
    json_t *pv = json_loads(OPEN_PV, 0, NULL);
    cmn_acp_request rq = {.originator = "C1", .op = CMN_ACOP_RETRIEVE};
    cmn_acp_result res;

    assert_non_null(pv);
    assert_int_equal(cmn_acp_evaluate(NULL, &pv, 1, &res), CMN_EINVAL);
    assert_false(res.permit);
    assert_int_equal(cmn_acp_evaluate(&rq, NULL, 1, &res), CMN_EINVAL);
    assert_int_equal(cmn_acp_evaluate(&rq, &pv, 1, NULL), CMN_EINVAL);
    rq.op = CMN_ACOP_CREATE | CMN_ACOP_RETRIEVE; /* one operation at a time */
    assert_int_equal(cmn_acp_evaluate(&rq, &pv, 1, &res), CMN_EINVAL);
    assert_false(res.permit);
    rq.op = 0;
    assert_int_equal(cmn_acp_evaluate(&rq, &pv, 1, &res), CMN_EINVAL);
    rq.op = CMN_ACOP_RETRIEVE;
    rq.originator = NULL;
    assert_int_equal(cmn_acp_evaluate(&rq, &pv, 1, &res), CMN_EINVAL);
    json_decref(pv);
}

/* A NULL entry (a policy the caller could not parse) is indeterminate, not a crash. */
static void test_null_policy_entry(void **state)
{
    json_t *privs[1] = {NULL};
    cmn_acp_request rq = {.originator = "C1", .op = CMN_ACOP_RETRIEVE};
    cmn_acp_result res;

    assert_int_equal(cmn_acp_evaluate(&rq, privs, 1, &res), 0);
    assert_false(res.permit);
    assert_string_equal(res.rule, "acp[0]: pv not an object");
}

/* ---- normalisation, groups, SP domains, pvs, spty ----------------------------------- */

static bool decide(const cmn_acp_request *rq, const char *pv_json)
{
    json_t *pv = json_loads(pv_json, 0, NULL);
    cmn_acp_result res;

    if (pv == NULL)
        fail_msg("test policy is not JSON: %s", pv_json);
    assert_int_equal(cmn_acp_evaluate(rq, &pv, 1, &res), 0);
    json_decref(pv);
    return res.permit;
}

static bool acor_permits(const char *entry, const char *originator)
{
    char pv[256];
    cmn_acp_request rq = {.originator = originator,
                          .op = CMN_ACOP_RETRIEVE,
                          .cse_id = "/tep-cse",
                          .sp_id = "//tep.example"};

    snprintf(pv, sizeof(pv), "{\"acr\": [{\"acor\": [\"%s\"], \"acop\": 2}]}", entry);
    return decide(&rq, pv);
}

/* A CSE-relative AE-ID, its SP-relative and its absolute form are one originator. */
static void test_originator_forms(void **state)
{
    static const char *const forms[] = {"Cabc", "/tep-cse/Cabc", "//tep.example/tep-cse/Cabc"};

    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            if (!acor_permits(forms[i], forms[j]))
                fail_msg("acor \"%s\" should cover originator \"%s\"", forms[i], forms[j]);
        }
    }
    assert_true(acor_permits("C*", "//tep.example/tep-cse/Cxyz"));
    assert_true(acor_permits("/tep-*/C*", "Cxyz"));
    assert_true(acor_permits("//*/tep-cse/Cabc", "Cabc"));
    assert_false(acor_permits("Cabc", "/other-cse/Cabc"));
    assert_false(acor_permits("Cabc", "//other.example/tep-cse/Cabc"));
    assert_false(acor_permits("*", "/other-cse/Cabc")); /* '*' stays in its segment */
    assert_true(acor_permits("/S*", "/Sae1"));          /* SP-relative AE-ID */
    /* an S-type AE-ID-Stem is SP-relative "/Sae1" (TS-0001 7.2), not under this CSE */
    assert_true(acor_permits("/S*", "Sae1"));
    assert_true(acor_permits("Sae1", "//tep.example/Sae1"));
    assert_false(acor_permits("/tep-cse/S*", "Sae1"));
    assert_false(acor_permits("Cabc", "/Cabc")); /* a C-stem is CSE-relative */
}

/* The creator (default access policy) in any form is the same originator. */
static void test_same_originator(void **state)
{
    static const char *const c[] = {"Cabc", "/tep-cse/Cabc", "//tep.example/tep-cse/Cabc"};

    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++)
            assert_true(cmn_acp_same_originator(c[i], c[j], "/tep-cse", "tep.example"));
    }
    assert_true(cmn_acp_same_originator("Sae1", "//tep.example/Sae1", "/tep-cse", "//tep.example"));
    assert_false(cmn_acp_same_originator("Cabc", "/other/Cabc", "/tep-cse", "tep.example"));
    assert_false(cmn_acp_same_originator("Cabc", "Cabcd", "/tep-cse", "tep.example"));
    assert_false(cmn_acp_same_originator("Cabc", "/tep-cse/Cabc", "", "")); /* as given */
    assert_true(cmn_acp_same_originator("Cabc", "Cabc", NULL, NULL));
    assert_false(cmn_acp_same_originator("", "", "/tep-cse", "tep.example"));
    assert_false(cmn_acp_same_originator(NULL, "Cabc", "/tep-cse", "tep.example"));
}

static void test_sp_domain(void **state)
{
    assert_true(acor_permits("//tep.example", "Cabc"));
    assert_true(acor_permits("//tep.example", "/another-cse"));
    assert_false(acor_permits("//other.example", "Cabc"));
    assert_false(acor_permits("//tep.*", "Cabc")); /* no wildcards in SP domains */
}

/* Without the CSE-ID and SP-ID, IDs compare as given. */
static void test_no_normalisation(void **state)
{
    cmn_acp_request rq = {.originator = "Cabc", .op = CMN_ACOP_RETRIEVE};

    assert_true(decide(&rq, "{\"acr\": [{\"acor\": [\"Cabc\"], \"acop\": 2}]}"));
    assert_false(decide(&rq, "{\"acr\": [{\"acor\": [\"/tep-cse/Cabc\"], \"acop\": 2}]}"));
}

static void test_groups(void **state)
{
    const char *groups[] = {"/tep-cse/grpOps"};
    cmn_acp_request rq = {.originator = "Cabc",
                          .op = CMN_ACOP_UPDATE,
                          .cse_id = "/tep-cse",
                          .sp_id = "//tep.example",
                          .group_ids = groups,
                          .n_groups = 1};
    const char *pv = "{\"acr\": [{\"acor\": [\"/tep-cse/grpOps\"], \"acop\": 4}]}";

    assert_true(decide(&rq, pv));
    rq.n_groups = 0; /* not a member */
    assert_false(decide(&rq, pv));
    rq.n_groups = 1; /* no wildcards on group IDs */
    assert_false(decide(&rq, "{\"acr\": [{\"acor\": [\"/tep-cse/grp*\"], \"acop\": 4}]}"));
}

/* TS-0003 7.1.1: an ACP is governed by its pvs, every other resource by the pv. */
static void test_pvs_for_acp_target(void **state)
{
    json_t *acp = json_loads("{\"m2m:acp\": {\"pv\": {\"acr\": [{\"acor\": [\"Cuser\"], "
                             "\"acop\": 63}]}, \"pvs\": {\"acr\": [{\"acor\": [\"Cowner\"], "
                             "\"acop\": 63}]}}}",
                             0, NULL);
    cmn_acp_request rq = {.originator = "Cuser", .op = CMN_ACOP_UPDATE, .target_ty = 3};
    cmn_acp_result res;

    assert_non_null(acp);
    assert_int_equal(cmn_acp_evaluate_acps(&rq, &acp, 1, &res), 0);
    assert_true(res.permit);
    rq.target_ty = 1;
    assert_int_equal(cmn_acp_evaluate_acps(&rq, &acp, 1, &res), 0);
    assert_false(res.permit);
    rq.originator = "Cowner";
    assert_int_equal(cmn_acp_evaluate_acps(&rq, &acp, 1, &res), 0);
    assert_true(res.permit);
    assert_string_equal(res.rule, "acp[0].acr[0]");
    json_decref(acp);
}

static void test_acod_spty(void **state)
{
    cmn_acp_request rq = {.originator = "C1",
                          .op = CMN_ACOP_CREATE,
                          .target_ty = 13,
                          .new_ty = 13,
                          .target_spty = "1001"};
    const char *num = "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 1, "
                      "\"acod\": [{\"ty\": 13, \"spty\": 1001, \"chty\": [13]}]}]}";
    const char *str = "{\"acr\": [{\"acor\": [\"all\"], \"acop\": 3, "
                      "\"acod\": [{\"spty\": \"org.example.cnd\", \"chty\": [4]}]}]}";

    assert_true(decide(&rq, num));
    rq.target_spty = "1002";
    assert_false(decide(&rq, num));
    rq.target_spty = NULL;
    assert_false(decide(&rq, num));
    rq.target_ty = 3;
    rq.new_ty = 4;
    rq.target_spty = "org.example.cnd";
    assert_true(decide(&rq, str));
    rq.op = CMN_ACOP_RETRIEVE; /* acod concerns CREATE only */
    rq.target_spty = NULL;
    assert_true(decide(&rq, str));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acor_match_table), cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_bad_arguments),    cmocka_unit_test(test_null_policy_entry),
        cmocka_unit_test(test_originator_forms), cmocka_unit_test(test_same_originator),
        cmocka_unit_test(test_sp_domain),        cmocka_unit_test(test_no_normalisation),
        cmocka_unit_test(test_groups),           cmocka_unit_test(test_pvs_for_acp_target),
        cmocka_unit_test(test_acod_spty),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
