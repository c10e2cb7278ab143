/* libtepae's end-to-end security without I/O: ESData objects (tep_e2e.c) and the
 * Originator's ESPrim session (tep_esprim.c), checked against cmn_e2e/cmn_jose directly,
 * i.e. what a Receiver that is not libtepae computes from the same keys (TS-0003 8.4.3.2,
 * 8.5.3; docs/keys.md items 13-19). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_jose.h"
#include "tae_e2e.h"
#include "tep/tepae.h"

#define PAIR_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define RRO                                                                                        \
    "{\"esri\":\"s0011223344556677\",\"esrv\":\"r101112131415161718191a1b1c1d1e1f\","              \
    "\"esrx\":\"20991231T000000\",\"esks\":[1],\"espa\":[10,11,12]}"

static void test_esdata_round_trips(void **state)
{
    static const int classes[] = {TEP_ESDATA_ENCRYPT, TEP_ESDATA_SIGN};
    tep_e2e_key *k = NULL, *other = NULL;
    tep_esdata *d = NULL;
    char *obj = NULL, kid[64];
    (void)state;

    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-1", "Capp01", &k), 0);
    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-1", "Cother", &other), 0);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(tep_esdata_protect(classes[i], k, NULL, (const uint8_t *)"21.5", 4, &obj),
                         0);
        assert_int_equal(tep_esdata_kid(obj, kid, sizeof(kid)), 0);
        assert_string_equal(kid, "kid-1");
        assert_int_equal(tep_esdata_open(obj, k, NULL, &d), 0);
        assert_int_equal(d->cls, classes[i]);
        assert_int_equal(d->len, 4);
        assert_string_equal((char *)d->data, "21.5");
        tep_esdata_free(d);
        d = NULL;
        /* the same pair key for another End-Point-B: other keys, refused */
        assert_int_equal(tep_esdata_open(obj, other, NULL, &d), TEP_EDENIED);
        assert_null(d);
        free(obj);
    }
    /* nested needs a certificate signer; a class that does not exist */
    assert_int_equal(
        tep_esdata_protect(TEP_ESDATA_SIGN_ENCRYPT, k, NULL, (const uint8_t *)"x", 1, &obj),
        TEP_EINVAL);
    assert_int_equal(tep_esdata_protect(9, k, NULL, (const uint8_t *)"x", 1, &obj), TEP_EINVAL);
    assert_int_equal(tep_esdata_open("a.b", k, NULL, &d), TEP_EINVAL);
    tep_e2e_key_free(k);
    tep_e2e_key_free(other);
    assert_int_equal(tep_e2e_key_from_hex("00", "kid-1", "Capp01", &k), TEP_EINVAL);
    assert_null(k);
}

/* The ESData JWE is what cmn_jose opens with Ke2e_att_conf of (pair key, B). */
static void test_esdata_jwe_uses_att_conf(void **state)
{
    uint8_t pair[CMN_KEY_LEN], *pt = NULL;
    cmn_e2e_keys keys;
    tep_e2e_key *k = NULL;
    cmn_jwe *j = NULL;
    char *obj = NULL;
    size_t len;
    (void)state;

    assert_int_equal(cmn_hex_decode(PAIR_HEX, pair, sizeof(pair)), 0);
    assert_int_equal(cmn_e2e_keys_from_pair(pair, "Capp01", &keys), 0);
    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-1", "Capp01", &k), 0);
    assert_int_equal(tep_esdata_protect(TEP_ESDATA_ENCRYPT, k, NULL, (const uint8_t *)"v", 1, &obj),
                     0);
    assert_int_equal(cmn_jwe_decode(obj, &j), 0);
    assert_string_equal(cmn_jwe_header_str(j, "enc"), "A256GCM");
    assert_int_equal(cmn_jwe_decrypt(j, keys.att_conf, &pt, &len), 0);
    assert_memory_equal(pt, "v", 1);
    free(pt);
    pt = NULL;
    assert_int_equal(cmn_jwe_decrypt(j, keys.msg_conf, &pt, &len) == 0, 0);
    free(pt);
    cmn_jwe_free(j);
    free(obj);
    tep_e2e_key_free(k);
    cmn_wipe(&keys, sizeof(keys));
}

/* An ESPrim session: the object carries kid/ori/rri/oro, decrypts with the 10.3.8 key a
 * Receiver derives from the pairwise key and both rand values; the second object no oro. */
static void test_esprim_session(void **state)
{
    uint8_t pairwise[CMN_KEY_LEN] = {7}, rv[CMN_E2E_RAND_LEN], ov[CMN_E2E_RAND_LEN];
    uint8_t session[CMN_KEY_LEN], *pt = NULL;
    tep_esprim *s = NULL;
    json_t *outer, *hdr_oro;
    char *body = NULL, *answer = NULL;
    cmn_jwe *j = NULL;
    size_t len;
    (void)state;

    assert_int_equal(tae_esprim_new(pairwise, "kpsa@mef", RRO, 600, &s), 0);
    assert_int_equal(tep_esprim_protect(s, "{\"op\":2,\"to\":\"tep-cse\",\"fr\":\"C1\"}", &body),
                     0);
    outer = json_loads(body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(outer, "m2m:seci"), "sit")),
                     5);
    assert_int_equal(
        cmn_jwe_decode(
            json_string_value(json_object_get(json_object_get(outer, "m2m:seci"), "epo")), &j),
        0);
    assert_string_equal(cmn_jwe_header_str(j, "kid"), "kpsa@mef");
    assert_string_equal(cmn_jwe_header_str(j, "rri"), "s0011223344556677");
    hdr_oro = json_object_get(j->header, "oro");
    assert_string_equal(json_string_value(json_object_get(hdr_oro, "esri")),
                        cmn_jwe_header_str(j, "ori"));
    assert_int_equal(cmn_e2e_rand_parse("r101112131415161718191a1b1c1d1e1f", rv), 0);
    assert_int_equal(cmn_e2e_rand_parse(json_string_value(json_object_get(hdr_oro, "esrv")), ov),
                     0);
    assert_int_equal(cmn_e2e_session_esprim_key(pairwise, rv, ov, session), 0);
    assert_int_equal(cmn_jwe_decrypt(j, session, &pt, &len), 0);
    assert_string_equal((char *)pt, "{\"op\":2,\"to\":\"tep-cse\",\"fr\":\"C1\"}");
    free(pt);

    /* the Receiver's answer, made with cmn_jose as tep-cse makes it, opens in the SDK */
    {
        json_t *h = json_pack("{s:s,s:s,s:s}", "kid", "kpsa@mef", "ori",
                              cmn_jwe_header_str(j, "ori"), "rri", "s0011223344556677");
        char *epo = NULL, *wrapped;

        assert_int_equal(
            cmn_jwe_dir_encrypt(h, session, "A256GCM", (const uint8_t *)"{\"rsc\":2000}", 12, &epo),
            0);
        wrapped = malloc(strlen(epo) + 40);
        sprintf(wrapped, "{\"m2m:seci\":{\"sit\":5,\"epo\":\"%s\"}}", epo);
        assert_int_equal(tep_esprim_open(s, wrapped, &answer), 0);
        assert_string_equal(answer, "{\"rsc\":2000}");
        free(answer);
        session[0] ^= 1; /* another key: refused */
        free(epo);
        json_decref(h);
        h = json_pack("{s:s,s:s,s:s}", "kid", "kpsa@mef", "ori", cmn_jwe_header_str(j, "ori"),
                      "rri", "s0011223344556677");
        assert_int_equal(cmn_jwe_dir_encrypt(h, session, "A256GCM", (const uint8_t *)"{}", 2, &epo),
                         0);
        sprintf(wrapped, "{\"m2m:seci\":{\"sit\":5,\"epo\":\"%s\"}}", epo);
        assert_int_equal(tep_esprim_open(s, wrapped, &answer), TEP_EDENIED);
        free(epo);
        free(wrapped);
        json_decref(h);
    }
    cmn_jwe_free(j);
    j = NULL;
    json_decref(outer);
    free(body);

    tep_esprim_sent(s); /* later objects: ori only */
    assert_int_equal(tep_esprim_protect(s, "{}", &body), 0);
    outer = json_loads(body, 0, NULL);
    assert_int_equal(
        cmn_jwe_decode(
            json_string_value(json_object_get(json_object_get(outer, "m2m:seci"), "epo")), &j),
        0);
    assert_null(json_object_get(j->header, "oro"));
    cmn_jwe_free(j);
    json_decref(outer);
    free(body);
    tep_esprim_free(s);
    cmn_wipe(session, sizeof(session));
}

static void test_esprim_receiver_rand_refused(void **state)
{
    uint8_t pairwise[CMN_KEY_LEN] = {0};
    tep_esprim *s = NULL;
    (void)state;

    /* expired; no A256GCM offered; malformed esrv */
    assert_int_equal(tae_esprim_new(pairwise, "k",
                                    "{\"esri\":\"s1\",\"esrv\":\"r101112131415161718"
                                    "191a1b1c1d1e1f\",\"esrx\":\"20000101T000000\",\"esks\":[1],"
                                    "\"espa\":[12]}",
                                    600, &s),
                     TEP_EEXPIRED);
    assert_int_equal(tae_esprim_new(pairwise, "k",
                                    "{\"esri\":\"s1\",\"esrv\":\"r101112131415161718"
                                    "191a1b1c1d1e1f\",\"esrx\":\"20991231T000000\",\"esks\":[1],"
                                    "\"espa\":[10]}",
                                    600, &s),
                     TEP_EPROTO);
    assert_int_equal(tae_esprim_new(pairwise, "k",
                                    "{\"esri\":\"s1\",\"esrv\":\"1011\",\"esrx\":"
                                    "\"20991231T000000\",\"esks\":[1],\"espa\":[12]}",
                                    600, &s),
                     TEP_EPROTO);
    assert_null(s);
}

/* ---- the AE as the Receiver (tep_esprim_rx.c) against the Originator (tep_esprim.c) ----- */

static int rx_key(const char *kid, void *arg, tep_e2e_key **ret_key)
{
    (void)arg;
    if (strcmp(kid, "kid-rx") != 0)
        return -1; /* unknown: 4112 */
    return tep_e2e_key_from_hex(PAIR_HEX, "kid-rx", "Capp01", ret_key);
}

static int rx_inner(const char *inner, void *arg, char **ret)
{
    json_t *in = json_loads(inner, 0, NULL);

    ++*(int *)arg;
    assert_string_equal(json_string_value(json_object_get(in, "fr")), "Cdev01");
    json_decref(in);
    *ret = strdup("{\"rsc\":2000,\"pc\":{\"m2m:cin\":{\"con\":\"ae-answer\"}}}");
    return 0;
}

/* sit 3 gives a rand object, sit 5 objects are opened with the kid's key and answered
 * sealed (the Originator opens the answer); a replay is 4113, another key 4115, an
 * unknown kid 4112, an unknown receiver rand object 4114; no ESPrim content: EINVAL. */
static void test_esprim_ae_receiver(void **state)
{
    const char *inner =
        "{\"op\":2,\"to\":\"Capp01/x\",\"fr\":\"Cdev01\",\"rqi\":\"r1\",\"rvi\":\"3\"}";
    tep_esprim_receiver *rx = NULL;
    tep_e2e_key *k = NULL, *bad = NULL;
    tep_esprim *s = NULL, *sb = NULL;
    char *answer = NULL, *outer = NULL, *rand = NULL, *opened = NULL;
    unsigned rsc = 0;
    int calls = 0;
    json_t *a;
    (void)state;

    assert_int_equal(tep_esprim_receiver_new(rx_key, NULL, rx_inner, &calls, &rx), 0);
    assert_int_equal(
        tep_esprim_receiver_handle(rx, "Cdev01", "{\"m2m:seci\":{\"sit\":3}}", 22, &rsc, &answer),
        0);
    assert_int_equal(rsc, 2000);
    a = json_loads(answer, 0, NULL);
    rand = json_dumps(json_object_get(json_object_get(a, "m2m:seci"), "ero"), JSON_COMPACT);
    json_decref(a);
    free(answer);
    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-rx", "Capp01", &k), 0);
    assert_int_equal(tep_esprim_new_e2e(k, rand, 300, &s), 0);
    assert_int_equal(tep_esprim_protect(s, inner, &outer), 0);
    assert_int_equal(tep_esprim_receiver_handle(rx, "Cdev01", outer, strlen(outer), &rsc, &answer),
                     0);
    assert_int_equal(rsc, 2000);
    assert_int_equal(tep_esprim_open(s, answer, &opened), 0);
    assert_non_null(strstr(opened, "ae-answer"));
    assert_non_null(strstr(opened, "\"rqi\":\"r1\""));
    free(opened);
    free(answer);
    /* the same object again: a replay */
    assert_int_equal(tep_esprim_receiver_handle(rx, "Cdev01", outer, strlen(outer), &rsc, &answer),
                     0);
    assert_int_equal(rsc, 4113);
    free(answer);
    free(outer);
    assert_int_equal(calls, 1);
    /* the same kid, another key (another B): the tag fails */
    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-rx", "Cother", &bad), 0);
    assert_int_equal(tep_esprim_new_e2e(bad, rand, 300, &sb), 0);
    assert_int_equal(tep_esprim_protect(sb, inner, &outer), 0);
    assert_int_equal(tep_esprim_receiver_handle(rx, "Cdev01", outer, strlen(outer), &rsc, &answer),
                     0);
    assert_int_equal(rsc, 4115);
    free(answer);
    free(outer);
    tep_esprim_free(sb);
    tep_e2e_key_free(bad);
    /* an unknown kid */
    assert_int_equal(tep_e2e_key_from_hex(PAIR_HEX, "kid-other", "Capp01", &bad), 0);
    assert_int_equal(tep_esprim_new_e2e(bad, rand, 300, &sb), 0);
    assert_int_equal(tep_esprim_protect(sb, inner, &outer), 0);
    assert_int_equal(tep_esprim_receiver_handle(rx, "Cdev01", outer, strlen(outer), &rsc, &answer),
                     0);
    assert_int_equal(rsc, 4112);
    free(answer);
    free(outer);
    tep_esprim_free(sb);
    tep_e2e_key_free(bad);
    /* a receiver rand object it never gave */
    assert_int_equal(tep_esprim_new_e2e(k, RRO, 300, &sb), 0);
    assert_int_equal(tep_esprim_protect(sb, inner, &outer), 0);
    assert_int_equal(tep_esprim_receiver_handle(rx, "Cdev01", outer, strlen(outer), &rsc, &answer),
                     0);
    assert_int_equal(rsc, 4114);
    free(answer);
    free(outer);
    tep_esprim_free(sb);
    assert_int_equal(
        tep_esprim_receiver_handle(rx, "Cdev01", "{\"m2m:sgn\":{}}", 14, &rsc, &answer),
        TEP_EINVAL);
    assert_int_equal(calls, 1);
    tep_esprim_free(s);
    tep_e2e_key_free(k);
    free(rand);
    tep_esprim_receiver_free(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esdata_round_trips),
        cmocka_unit_test(test_esdata_jwe_uses_att_conf),
        cmocka_unit_test(test_esprim_session),
        cmocka_unit_test(test_esprim_receiver_rand_refused),
        cmocka_unit_test(test_esprim_ae_receiver),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
