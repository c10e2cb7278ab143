/* The target's side of the MAF-based SAEF (TS-0003 8.2.2.3): which identities are Key
 * Identifiers, and what a retrieved Kc becomes in the credentials store (found by the
 * PSK callback like a Kpsa, bound to the source AE-ID). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "cmn_err.h"
#include "cse_maf.h"
#include "cse_sync.h"

#define KEY_ID "000102030405060708090a0b0c0d0e0f@maf.tep.local"

static char dir[64];
static cmn_store *store;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    const char *dbs[] = { CSE_DB_CREDENTIALS, CSE_DB_KEIDS };

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tep-cse-maf-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return cmn_store_open(dir, dbs, 2, 1, 0, &store);
}

static int teardown(void **state)
{
    (void)state;
    cmn_store_close(store);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void test_key_identifier_shape(void **state)
{
    (void)state;
    assert_true(cse_maf_is_key_id(KEY_ID));
    assert_true(cse_maf_is_key_id("000102030405060708090A0B0C0D0E0F@maf"));
    assert_false(cse_maf_is_key_id("0001@maf.tep.local"));                      /* short */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0g@maf"));    /* not hex */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0f@"));       /* no FQDN */
    assert_false(cse_maf_is_key_id("000102030405060708090a0b0c0d0e0f"));        /* no '@' */
    cse_maf_want(KEY_ID); /* no cse_maf in this process: nothing happens */
}

static void test_retrieved_kc_is_a_credential(void **state)
{
    uint8_t kc[32];
    Tep__Credential c = TEP__CREDENTIAL__INIT, *got = NULL;

    (void)state;
    memset(kc, 0x5a, sizeof(kc));
    c.key_id = KEY_ID;
    c.key = (ProtobufCBinaryData){ sizeof(kc), kc };
    c.suid = CSE_MAF_SUID_KC;
    c.enrolee_id = "Cdevice01";
    c.expires = 1800000600;
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), 0);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), 0);
    assert_string_equal(got->enrolee_id, "Cdevice01");
    assert_memory_equal(got->key.data, kc, 32);
    assert_int_equal(cse_cred_usable(got, 1800000599), 0);
    assert_int_equal(cse_cred_usable(got, 1800000600), CMN_EEXPIRED);
    cse_cred_free(got);
}

static void test_malformed_answers_are_not_stored(void **state)
{
    uint8_t kc[32] = { 0 };
    Tep__Credential c = TEP__CREDENTIAL__INIT, *got = NULL;

    (void)state;
    c.key_id = KEY_ID;
    c.key = (ProtobufCBinaryData){ sizeof(kc), kc };
    c.enrolee_id = "Cdevice01";
    c.suid = 22; /* a Kpsa is not a Kc */
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    c.suid = CSE_MAF_SUID_KC;
    assert_int_equal(cse_maf_store(store, "ff" KEY_ID, &c), CMN_EPROTO); /* another key */
    c.enrolee_id = "";
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    c.enrolee_id = "Cdevice01";
    c.key.len = 16;
    assert_int_equal(cse_maf_store(store, KEY_ID, &c), CMN_EPROTO);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), CMN_ENOTFOUND);
}

static void put(const char *key_id, unsigned suid, const char *ke_id, bool revoked)
{
    uint8_t k[32] = { 1 };
    Tep__Credential c = TEP__CREDENTIAL__INIT;

    c.key_id = (char *)key_id;
    c.key = (ProtobufCBinaryData){ sizeof(k), k };
    c.suid = suid;
    c.ke_id = (char *)ke_id;
    c.enrolee_id = "Cdevice01";
    c.revoked = revoked;
    if (suid == CSE_MAF_SUID_KC) {
        assert_int_equal(cse_maf_store(store, key_id, &c), 0);
    } else { /* a Kpsa, as cse_sync stores it, with its KeID index */
        uint8_t buf[256];

        assert_int_equal(cmn_store_put(store, CSE_DB_CREDENTIALS, key_id, strlen(key_id), buf,
                                       tep__credential__pack(&c, buf)), 0);
        assert_int_equal(cmn_store_put(store, CSE_DB_KEIDS, ke_id, strlen(ke_id), key_id,
                                       strlen(key_id)), 0);
    }
}

/* TS-0003 10.7: revoking the source's enrolment ends the Kc registered with it. */
static void test_revoked_source_revokes_kc(void **state)
{
    Tep__Credential *got = NULL;

    (void)state;
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", false);
    put(KEY_ID, CSE_MAF_SUID_KC, "ke1@mef.tep.local", false);
    put("ffffffffffffffffffffffffffffffff@maf.tep.local", CSE_MAF_SUID_KC, "ke9@mef.tep.local",
        false); /* a source this CSE does not know: left to its expiry */
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 0);
    put("kpsa1@mef.tep.local", 22, "ke1@mef.tep.local", true);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 1);
    assert_int_equal(cse_cred_get(store, KEY_ID, &got), 0);
    assert_int_equal(cse_cred_usable(got, 1800000000), CMN_EDENIED);
    cse_cred_free(got);
    assert_int_equal(cse_maf_revoke_stale(store, 1800000000), 0); /* once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_identifier_shape),
        cmocka_unit_test_setup_teardown(test_retrieved_kc_is_a_credential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_answers_are_not_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_source_revokes_kc, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
