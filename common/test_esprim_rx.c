/* The ESPrim Receiver's core (cmn_esprim_rx), shared by tep-cse and libtepae's AE
 * receiver: objects made here as an Originator makes them, opened against a receiver of
 * one key, one receiver rand object, one recorded originator rand object and a replay
 * memory it answers from a flag. Each refusal of TS-0004 Table 7.6.2-1 the core decides
 * (its RSC and its reason), an object that opens, and its answer sealed under the same
 * session key. tep-cse's and the SDK's own parts are tested beside them
 * (cse-node/test_esprim.c, ae-sdk/test_e2e.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_esprim_rx.h"
#include "cmn_json.h"
#include "cmn_onem2m.h"

#define NOW 1700000000
#define KID "0011223344556677@mef.tep.local"
#define RRI "u0011223344556677"
#define ORI "o-1"
#define CTY_REQ "application/vnd.onem2m-preq+json"
#define INNER "{\"op\":2,\"to\":\"/tep-cse/x\",\"fr\":\"Cae\",\"rqi\":\"r1\"}"

/* The receiver: what its ops answer. */
typedef struct {
    uint8_t pairwise[CMN_KEY_LEN];
    uint8_t rr[CMN_E2E_RAND_LEN]; /* the receiver rand object RRI */
    int64_t rr_exp;
    cmn_esprim_orig orig; /* recorded (exp 0: none) */
    bool seen;            /* every tag answered already */
} fake;

static unsigned fake_pairwise(cmn_esprim_rx *rx, uint8_t ret[CMN_KEY_LEN])
{
    const fake *f = rx->arg;

    if (strcmp(rx->kid, KID) != 0)
        return (rx->why = "unknown kid", CMN_RSC_ESPRIM_UNKNOWN_KEY_ID);
    memcpy(ret, f->pairwise, CMN_KEY_LEN);
    return 0;
}

static int fake_recv_rand(cmn_esprim_rx *rx, const char *id, uint8_t ret_v[CMN_E2E_RAND_LEN],
                          int64_t *ret_exp)
{
    const fake *f = rx->arg;

    if (strcmp(id, RRI) != 0 || f->rr_exp <= rx->now)
        return CMN_ENOTFOUND;
    memcpy(ret_v, f->rr, CMN_E2E_RAND_LEN);
    *ret_exp = f->rr_exp;
    return 0;
}

static const cmn_esprim_orig *fake_orig_rand(cmn_esprim_rx *rx, const char *kid, const char *id)
{
    const fake *f = rx->arg;

    return f->orig.exp > rx->now && strcmp(f->orig.kid, kid) == 0 && strcmp(f->orig.id, id) == 0
               ? &f->orig
               : NULL;
}

static bool fake_seen(cmn_esprim_rx *rx, const uint8_t tag[CMN_JWE_TAG_LEN])
{
    const fake *f = rx->arg;

    (void)tag;
    return f->seen;
}

static const cmn_esprim_rx_ops ops = {fake_pairwise, fake_recv_rand, fake_orig_rand, fake_seen};

static void fake_init(fake *f)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < CMN_KEY_LEN; i++)
        f->pairwise[i] = (uint8_t)i;
    memset(f->rr, 0xa5, sizeof(f->rr));
    f->rr_exp = NOW + 600;
}

/* What the Originator sends; NULL members are left out of the header. */
typedef struct {
    const char *kid, *ori, *rri, *enc;
    bool with_oro;
    int64_t oro_exp;
    int esk;
    const char *espa; /* its esprimProtocolAndAlgIDs, JSON; NULL: [10,11,12] */
    bool wrong_key;   /* encrypted under another pairwise key */
} obj;

static const uint8_t orv[CMN_E2E_RAND_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                              9, 10, 11, 12, 13, 14, 15, 16};

/* An object with the oro of its session: good() but for what a case changes. */
#define OBJ(kid, ori, rri, oro_exp, esk, espa, wrong_key)                                          \
    {                                                                                              \
        kid, ori, rri, "A256GCM", true, oro_exp, esk, espa, wrong_key                              \
    }
#define LIVE (NOW + 300)

static obj good(void)
{
    return (obj)OBJ(KID, ORI, RRI, LIVE, 1, NULL, false);
}

static char *make(const fake *f, obj o)
{
    json_t *h = json_object();
    uint8_t pairwise[CMN_KEY_LEN], session[CMN_KEY_LEN];
    char v[CMN_E2E_RAND_TEXT], ts[16];
    char *epo = NULL;

    memcpy(pairwise, f->pairwise, sizeof(pairwise));
    if (o.wrong_key)
        pairwise[0] ^= 1;
    if (o.kid != NULL)
        json_object_set_new(h, "kid", json_string(o.kid));
    if (o.ori != NULL)
        json_object_set_new(h, "ori", json_string(o.ori));
    if (o.rri != NULL)
        json_object_set_new(h, "rri", json_string(o.rri));
    json_object_set_new(h, "cty", json_string(CTY_REQ));
    if (o.with_oro) {
        cmn_e2e_rand_format(orv, v);
        cmn_json_timestamp(o.oro_exp, ts);
        json_object_set_new(h, "oro",
                            json_pack("{s:s,s:s,s:s,s:i,s:o}", "esri", o.ori != NULL ? o.ori : "x",
                                      "esrv", v, "esrx", ts, "esk", o.esk, "espa",
                                      json_loads(o.espa != NULL ? o.espa : "[10,11,12]", 0, NULL)));
    }
    assert_int_equal(cmn_e2e_session_esprim_key(pairwise, f->rr, orv, session), 0);
    assert_int_equal(
        cmn_jwe_dir_encrypt(h, session, o.enc, (const uint8_t *)INNER, strlen(INNER), &epo), 0);
    json_decref(h);
    return epo;
}

/* Opens o at the receiver f: the RSC (0: opened), rx left for the caller to look at and
 * clear; *ret_pt the plaintext when opened (NULL otherwise). */
static unsigned open_at(fake *f, obj o, cmn_esprim_rx *rx, char **ret_pt)
{
    char *epo = make(f, o);
    uint8_t *pt = NULL;
    size_t len = 0;
    unsigned rsc;

    *rx = (cmn_esprim_rx){.ops = &ops, .arg = f, .now = NOW};
    assert_int_equal(cmn_jwe_decode(epo, &rx->jwe), 0);
    free(epo);
    rsc = cmn_esprim_rx_open(rx, &pt, &len);
    if (rsc == 0)
        assert_int_equal(len, strlen((const char *)pt));
    else
        assert_null(pt);
    *ret_pt = (char *)pt;
    return rsc;
}

static void expect_refused(fake *f, obj o, unsigned want_rsc, const char *want_why)
{
    cmn_esprim_rx rx;
    char *pt = NULL;
    unsigned rsc = open_at(f, o, &rx, &pt);

    assert_int_equal(rsc, want_rsc);
    assert_non_null(rx.why);
    assert_string_equal(rx.why, want_why);
    cmn_esprim_rx_clear(&rx);
    assert_null(rx.jwe);
}

static void test_opens_and_seals(void **state)
{
    fake f;
    cmn_esprim_rx rx;
    char *pt = NULL, *epo = NULL, *text = NULL;
    json_t *prim = json_pack("{s:i,s:s}", "rsc", 2000, "rqi", "r1");
    cmn_jwe *back = NULL;
    uint8_t *rpt = NULL;
    size_t rlen = 0;
    (void)state;

    fake_init(&f);
    assert_int_equal(open_at(&f, good(), &rx, &pt), 0);
    assert_string_equal(pt, INNER);
    /* the originator rand object came with it: to be recorded, under this kid */
    assert_true(rx.oro_new);
    assert_string_equal(rx.oro.kid, KID);
    assert_string_equal(rx.oro.id, ORI);
    assert_int_equal(rx.oro.exp, NOW + 300);
    assert_int_equal(rx.oro.espa, 7);
    assert_memory_equal(rx.oro.v, orv, sizeof(orv));
    assert_string_equal(rx.rri, RRI);
    assert_string_equal(rx.enc, "A256GCM");

    /* the answer: the same session key and enc; kid, ori, rri and the response cty */
    assert_int_equal(cmn_esprim_rx_seal(&rx, prim, &epo), 0);
    assert_int_equal(cmn_jwe_decode(epo, &back), 0);
    assert_string_equal(cmn_jwe_header_str(back, "kid"), KID);
    assert_string_equal(cmn_jwe_header_str(back, "ori"), ORI);
    assert_string_equal(cmn_jwe_header_str(back, "rri"), RRI);
    assert_string_equal(cmn_jwe_header_str(back, "cty"), CMN_ESPRIM_CTY_RSP);
    assert_string_equal(cmn_jwe_header_str(back, "enc"), "A256GCM");
    assert_int_equal(cmn_jwe_decrypt(back, rx.session, &rpt, &rlen), 0);
    text = json_dumps(prim, JSON_COMPACT);
    assert_string_equal((char *)rpt, text);

    /* cleared: the session key wiped, the JWE gone */
    cmn_esprim_rx_clear(&rx);
    assert_null(rx.jwe);
    for (size_t i = 0; i < CMN_KEY_LEN; i++)
        assert_int_equal(rx.session[i], 0);
    free(text);
    free(rpt);
    cmn_jwe_free(back);
    free(epo);
    free(pt);
    json_decref(prim);
}

/* A later object of the session names its originator rand object by ori alone. */
static void test_recorded_originator_rand(void **state)
{
    fake f;
    cmn_esprim_rx rx;
    char *pt = NULL;
    obj o = good();
    (void)state;

    fake_init(&f);
    o.with_oro = false;
    expect_refused(&f, o, CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID,
                   "unknown or expired originator rand object");
    f.orig = (cmn_esprim_orig){.kid = KID, .id = ORI, .exp = NOW + 300, .espa = 4};
    memcpy(f.orig.v, orv, sizeof(orv));
    assert_int_equal(open_at(&f, o, &rx, &pt), 0);
    assert_false(rx.oro_new);
    assert_string_equal(pt, INNER);
    free(pt);
    cmn_esprim_rx_clear(&rx);
    /* its espa holds A256GCM only: an A128GCM object of the session is refused */
    o.enc = "A128GCM";
    expect_refused(&f, o, CMN_RSC_ESPRIM_UNSUPPORTED_OPTION, "enc not among the originator's espa");
    /* recorded under another kid: not this session's */
    o.enc = "A256GCM";
    snprintf(f.orig.kid, sizeof(f.orig.kid), "%s", "other@mef.tep.local");
    expect_refused(&f, o, CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID,
                   "unknown or expired originator rand object");
}

static const struct {
    obj o;
    unsigned rsc;
    const char *why;
} refusals[] = {
    {OBJ(NULL, ORI, RRI, LIVE, 1, NULL, false), CMN_RSC_BAD_REQUEST, "no kid"},
    {OBJ("unknown@mef.tep.local", ORI, RRI, LIVE, 1, NULL, false), CMN_RSC_ESPRIM_UNKNOWN_KEY_ID,
     "unknown kid"},
    {OBJ(KID, ORI, NULL, LIVE, 1, NULL, false), CMN_RSC_ESPRIM_UNKNOWN_RECV_RAND_ID,
     "unknown or expired receiver rand object"},
    {OBJ(KID, ORI, "u0000000000000000", LIVE, 1, NULL, false), CMN_RSC_ESPRIM_UNKNOWN_RECV_RAND_ID,
     "unknown or expired receiver rand object"},
    {OBJ(KID, NULL, RRI, LIVE, 1, NULL, false), CMN_RSC_BAD_REQUEST, "no ori"},
    {OBJ(KID, ORI, RRI, NOW, 1, NULL, false), CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID,
     "originator rand object expired or outliving the receiver's"},
    {OBJ(KID, ORI, RRI, NOW + 601, 1, NULL, false), CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID,
     "originator rand object expired or outliving the receiver's"},
    {OBJ(KID, ORI, RRI, LIVE, 2, NULL, false), CMN_RSC_ESPRIM_UNSUPPORTED_OPTION,
     "esk or espa not supported"},
    {OBJ(KID, ORI, RRI, LIVE, 1, "[12,13]", false), CMN_RSC_ESPRIM_UNSUPPORTED_OPTION,
     "esk or espa not supported"},
    {OBJ(KID, ORI, RRI, LIVE, 1, "[]", false), CMN_RSC_ESPRIM_UNSUPPORTED_OPTION,
     "esk or espa not supported"},
    {OBJ(KID, ORI, RRI, LIVE, 1, "[10]", false), CMN_RSC_ESPRIM_UNSUPPORTED_OPTION,
     "enc not among the originator's espa"},
    {OBJ(KID, ORI, RRI, LIVE, 1, NULL, true), CMN_RSC_ESPRIM_BAD_MAC, "integrity check failed"},
};

static void test_refusals(void **state)
{
    fake f;
    (void)state;

    fake_init(&f);
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        expect_refused(&f, refusals[i].o, refusals[i].rsc, refusals[i].why);
    f.seen = true;
    expect_refused(&f, good(), CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID, "replayed object");
}

/* An oro that names another ori, or whose esrv is no rand value, is malformed (4000). */
static void test_malformed_oro(void **state)
{
    fake f;
    cmn_esprim_rx rx = {.ops = &ops, .now = NOW};
    uint8_t session[CMN_KEY_LEN] = {0}, *pt = NULL;
    size_t len = 0;
    char *epo = NULL;
    json_t *h = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:i,s:[i]}}", "kid", KID, "ori", ORI, "rri",
                          RRI, "oro", "esri", "o-2", "esrv", "r00", "esrx", "20991231T000000",
                          "esk", 1, "espa", 12);
    (void)state;

    fake_init(&f);
    rx.arg = &f;
    assert_int_equal(cmn_jwe_dir_encrypt(h, session, "A256GCM", (const uint8_t *)"{}", 2, &epo), 0);
    assert_int_equal(cmn_jwe_decode(epo, &rx.jwe), 0);
    assert_int_equal(cmn_esprim_rx_open(&rx, &pt, &len), CMN_RSC_BAD_REQUEST);
    assert_string_equal(rx.why, "malformed oro");
    assert_null(pt);
    cmn_esprim_rx_clear(&rx);
    free(epo);
    json_decref(h);
}

static void test_rand_json_and_dbg(void **state)
{
    uint8_t v[CMN_E2E_RAND_LEN];
    json_t *j = NULL;
    char *text = NULL;
    (void)state;

    for (size_t i = 0; i < sizeof(v); i++)
        v[i] = (uint8_t)(0x10 + i);
    j = cmn_esprim_rand_json("u1", v, 0);
    text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"esri\":\"u1\",\"esrv\":\"r101112131415161718191a1b1c1d1e1f\","
                              "\"esrx\":\"19700101T000000\",\"esks\":[1],\"espa\":[10,11,12]}");
    free(text);
    json_decref(j);
    j = cmn_esprim_dbg("no kid");
    text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"m2m:dbg\":\"ESPrim: no kid\"}");
    free(text);
    json_decref(j);
    assert_int_equal(cmn_esprim_espa_of("A128GCM"), 10);
    assert_int_equal(cmn_esprim_espa_of("A192GCM"), 11);
    assert_int_equal(cmn_esprim_espa_of("A256GCM"), 12);
    assert_int_equal(cmn_esprim_espa_of("A256CBC-HS512"), 0);
    assert_int_equal(cmn_esprim_espa_of(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_and_seals),   cmocka_unit_test(test_recorded_originator_rand),
        cmocka_unit_test(test_refusals),          cmocka_unit_test(test_malformed_oro),
        cmocka_unit_test(test_rand_json_and_dbg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
