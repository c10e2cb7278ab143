/* Milenage (3GPP TS 35.206) on wolfCrypt AES-128 and the AKA values built from it. */
#include "cmn_milenage.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define BLOCK 16

/* E_K(in) with AES-128, one block. */
static int aes_block(const uint8_t k[CMN_MIL_K_LEN], const uint8_t in[BLOCK], uint8_t out[BLOCK])
{
    Aes aes;
    int rc = CMN_ECRYPTO;

    if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
        return CMN_ECRYPTO;
    if (wc_AesSetKey(&aes, k, CMN_MIL_K_LEN, NULL, AES_ENCRYPTION) == 0 &&
        wc_AesEncryptDirect(&aes, out, in) == 0)
        rc = 0;
    wc_AesFree(&aes);
    cmn_wipe(&aes, sizeof(aes));
    return rc;
}

static void xor_into(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] ^= src[i];
}

/* OUTi = E_K(rot(x xor OPc, r) xor c) xor OPc, with r a whole number of bytes and c the
 * constant whose last byte is cbyte (TS 35.206 4.1: c1 = 0, c2 = 1, c3 = 2, c4 = 4,
 * c5 = 8; r1 = 64, r2 = 0, r3 = 32, r4 = 64, r5 = 96 bits). */
static int out_block(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[BLOCK],
                     const uint8_t x[BLOCK], unsigned rbytes, uint8_t cbyte, uint8_t ret[BLOCK])
{
    uint8_t t[BLOCK], in[BLOCK];
    int rc;

    memcpy(t, x, BLOCK);
    xor_into(t, opc, BLOCK);
    for (unsigned i = 0; i < BLOCK; i++) /* rotate towards the most significant byte */
        in[i] = t[(i + rbytes) % BLOCK];
    in[BLOCK - 1] ^= cbyte;
    rc = aes_block(k, in, ret);
    if (rc == 0)
        xor_into(ret, opc, BLOCK);
    cmn_wipe(t, sizeof(t));
    cmn_wipe(in, sizeof(in));
    return rc;
}

/* TEMP = E_K(RAND xor OPc) */
static int temp_block(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[BLOCK],
                      const uint8_t rand[BLOCK], uint8_t ret[BLOCK])
{
    uint8_t in[BLOCK];
    int rc;

    memcpy(in, rand, BLOCK);
    xor_into(in, opc, BLOCK);
    rc = aes_block(k, in, ret);
    cmn_wipe(in, sizeof(in));
    return rc;
}

int cmn_milenage_opc(const uint8_t k[CMN_MIL_K_LEN], const uint8_t op[CMN_MIL_K_LEN],
                     uint8_t ret_opc[CMN_MIL_K_LEN])
{
    uint8_t e[BLOCK];
    int rc;

    if (k == NULL || op == NULL || ret_opc == NULL)
        return CMN_EINVAL;
    rc = aes_block(k, op, e);
    if (rc == 0) {
        xor_into(e, op, BLOCK);
        memcpy(ret_opc, e, BLOCK);
    }
    cmn_wipe(e, sizeof(e));
    return rc;
}

int cmn_milenage_f1(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                    const uint8_t rand[CMN_MIL_RAND_LEN], const uint8_t sqn[CMN_MIL_SQN_LEN],
                    const uint8_t amf[CMN_MIL_AMF_LEN], uint8_t ret_mac_a[CMN_MIL_MAC_LEN],
                    uint8_t ret_mac_s[CMN_MIL_MAC_LEN])
{
    uint8_t temp[BLOCK], in1[BLOCK], out[BLOCK];
    int rc;

    if (k == NULL || opc == NULL || rand == NULL || sqn == NULL || amf == NULL)
        return CMN_EINVAL;
    rc = temp_block(k, opc, rand, temp);
    if (rc < 0)
        goto out;
    /* IN1 = SQN || AMF || SQN || AMF; OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1)
     * xor OPc: TEMP enters after the rotation, unlike OUT2..OUT5 (out_block). */
    memcpy(in1, sqn, 6);
    memcpy(in1 + 6, amf, 2);
    memcpy(in1 + 8, sqn, 6);
    memcpy(in1 + 14, amf, 2);
    {
        uint8_t t[BLOCK], in[BLOCK];

        memcpy(t, in1, BLOCK);
        xor_into(t, opc, BLOCK);
        for (unsigned i = 0; i < BLOCK; i++)
            in[i] = t[(i + 8) % BLOCK] ^ temp[i]; /* r1 = 64 bits, c1 = 0 */
        rc = aes_block(k, in, out);
        cmn_wipe(t, sizeof(t));
        cmn_wipe(in, sizeof(in));
    }
    if (rc < 0)
        goto out;
    xor_into(out, opc, BLOCK);
    if (ret_mac_a != NULL)
        memcpy(ret_mac_a, out, CMN_MIL_MAC_LEN);
    if (ret_mac_s != NULL)
        memcpy(ret_mac_s, out + 8, CMN_MIL_MAC_LEN);
out:
    cmn_wipe(temp, sizeof(temp));
    cmn_wipe(out, sizeof(out));
    return rc;
}

int cmn_milenage_f2345(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                       const uint8_t rand[CMN_MIL_RAND_LEN], uint8_t ret_res[CMN_MIL_RES_LEN],
                       uint8_t ret_ck[CMN_MIL_CK_LEN], uint8_t ret_ik[CMN_MIL_CK_LEN],
                       uint8_t ret_ak[CMN_MIL_AK_LEN], uint8_t ret_ak_star[CMN_MIL_AK_LEN])
{
    uint8_t temp[BLOCK], out[BLOCK];
    int rc;

    if (k == NULL || opc == NULL || rand == NULL)
        return CMN_EINVAL;
    /* OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc for i = 2..5 */
    rc = temp_block(k, opc, rand, temp);
    if (rc < 0)
        goto out;
    if (ret_res != NULL ||
        ret_ak != NULL) { /* OUT2: r2 = 0, c2 = 1; AK = OUT2[0..5], RES = OUT2[8..15] */
        if ((rc = out_block(k, opc, temp, 0, 1, out)) < 0)
            goto out;
        if (ret_ak != NULL)
            memcpy(ret_ak, out, CMN_MIL_AK_LEN);
        if (ret_res != NULL)
            memcpy(ret_res, out + 8, CMN_MIL_RES_LEN);
    }
    if (ret_ck != NULL) { /* OUT3: r3 = 32, c3 = 2 */
        if ((rc = out_block(k, opc, temp, 4, 2, out)) < 0)
            goto out;
        memcpy(ret_ck, out, CMN_MIL_CK_LEN);
    }
    if (ret_ik != NULL) { /* OUT4: r4 = 64, c4 = 4 */
        if ((rc = out_block(k, opc, temp, 8, 4, out)) < 0)
            goto out;
        memcpy(ret_ik, out, CMN_MIL_CK_LEN);
    }
    if (ret_ak_star != NULL) { /* OUT5: r5 = 96, c5 = 8; AK* = OUT5[0..5] */
        if ((rc = out_block(k, opc, temp, 12, 8, out)) < 0)
            goto out;
        memcpy(ret_ak_star, out, CMN_MIL_AK_LEN);
    }
out:
    cmn_wipe(temp, sizeof(temp));
    cmn_wipe(out, sizeof(out));
    return rc;
}

uint64_t cmn_milenage_sqn_get(const uint8_t sqn[CMN_MIL_SQN_LEN])
{
    uint64_t v = 0;

    for (int i = 0; i < CMN_MIL_SQN_LEN; i++)
        v = (v << 8) | sqn[i];
    return v;
}

void cmn_milenage_sqn_put(uint64_t value, uint8_t ret_sqn[CMN_MIL_SQN_LEN])
{
    for (int i = CMN_MIL_SQN_LEN - 1; i >= 0; i--) {
        ret_sqn[i] = (uint8_t)value;
        value >>= 8;
    }
}

int cmn_milenage_autn(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                      const uint8_t rand[CMN_MIL_RAND_LEN], uint64_t sqn,
                      const uint8_t amf[CMN_MIL_AMF_LEN], uint8_t ret_autn[CMN_MIL_AUTN_LEN],
                      uint8_t ret_xres[CMN_MIL_RES_LEN], uint8_t ret_ck[CMN_MIL_CK_LEN],
                      uint8_t ret_ik[CMN_MIL_CK_LEN])
{
    uint8_t sqn_b[CMN_MIL_SQN_LEN], ak[CMN_MIL_AK_LEN];
    int rc;

    if (ret_autn == NULL || sqn > CMN_MIL_SQN_MAX || amf == NULL)
        return CMN_EINVAL;
    cmn_milenage_sqn_put(sqn, sqn_b);
    rc = cmn_milenage_f1(k, opc, rand, sqn_b, amf, ret_autn + 8, NULL);
    if (rc == 0)
        rc = cmn_milenage_f2345(k, opc, rand, ret_xres, ret_ck, ret_ik, ak, NULL);
    if (rc == 0) {
        for (int i = 0; i < CMN_MIL_SQN_LEN; i++)
            ret_autn[i] = sqn_b[i] ^ ak[i];
        memcpy(ret_autn + 6, amf, CMN_MIL_AMF_LEN);
    }
    cmn_wipe(ak, sizeof(ak));
    return rc;
}

int cmn_milenage_autn_open(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                           const uint8_t rand[CMN_MIL_RAND_LEN],
                           const uint8_t autn[CMN_MIL_AUTN_LEN], uint64_t *ret_sqn,
                           uint8_t ret_res[CMN_MIL_RES_LEN], uint8_t ret_ck[CMN_MIL_CK_LEN],
                           uint8_t ret_ik[CMN_MIL_CK_LEN])
{
    uint8_t ak[CMN_MIL_AK_LEN], sqn_b[CMN_MIL_SQN_LEN], mac[CMN_MIL_MAC_LEN];
    int rc;

    if (autn == NULL)
        return CMN_EINVAL;
    rc = cmn_milenage_f2345(k, opc, rand, ret_res, ret_ck, ret_ik, ak, NULL);
    if (rc < 0)
        goto out;
    for (int i = 0; i < CMN_MIL_SQN_LEN; i++)
        sqn_b[i] = autn[i] ^ ak[i];
    rc = cmn_milenage_f1(k, opc, rand, sqn_b, autn + 6, mac, NULL);
    if (rc < 0)
        goto out;
    if (cmn_memcmp_ct(mac, autn + 8, CMN_MIL_MAC_LEN) != 0) {
        rc = CMN_EDENIED;
        goto out;
    }
    if (ret_sqn != NULL)
        *ret_sqn = cmn_milenage_sqn_get(sqn_b);
out:
    if (rc < 0) { /* nothing derived from a forged challenge leaves */
        if (ret_res != NULL)
            cmn_wipe(ret_res, CMN_MIL_RES_LEN);
        if (ret_ck != NULL)
            cmn_wipe(ret_ck, CMN_MIL_CK_LEN);
        if (ret_ik != NULL)
            cmn_wipe(ret_ik, CMN_MIL_CK_LEN);
    }
    cmn_wipe(ak, sizeof(ak));
    return rc;
}

static const uint8_t resync_amf[CMN_MIL_AMF_LEN] = {0, 0};

int cmn_milenage_auts(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                      const uint8_t rand[CMN_MIL_RAND_LEN], uint64_t sqn_ms,
                      uint8_t ret_auts[CMN_MIL_AUTS_LEN])
{
    uint8_t sqn_b[CMN_MIL_SQN_LEN], ak_star[CMN_MIL_AK_LEN];
    int rc;

    if (ret_auts == NULL || sqn_ms > CMN_MIL_SQN_MAX)
        return CMN_EINVAL;
    cmn_milenage_sqn_put(sqn_ms, sqn_b);
    rc = cmn_milenage_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_star);
    if (rc == 0)
        rc = cmn_milenage_f1(k, opc, rand, sqn_b, resync_amf, NULL, ret_auts + 6);
    if (rc == 0)
        for (int i = 0; i < CMN_MIL_SQN_LEN; i++)
            ret_auts[i] = sqn_b[i] ^ ak_star[i];
    cmn_wipe(ak_star, sizeof(ak_star));
    return rc;
}

int cmn_milenage_auts_check(const uint8_t k[CMN_MIL_K_LEN], const uint8_t opc[CMN_MIL_K_LEN],
                            const uint8_t rand[CMN_MIL_RAND_LEN],
                            const uint8_t auts[CMN_MIL_AUTS_LEN], uint64_t *ret_sqn_ms)
{
    uint8_t sqn_b[CMN_MIL_SQN_LEN], ak_star[CMN_MIL_AK_LEN], mac_s[CMN_MIL_MAC_LEN];
    int rc;

    if (auts == NULL || ret_sqn_ms == NULL)
        return CMN_EINVAL;
    rc = cmn_milenage_f2345(k, opc, rand, NULL, NULL, NULL, NULL, ak_star);
    if (rc < 0)
        goto out;
    for (int i = 0; i < CMN_MIL_SQN_LEN; i++)
        sqn_b[i] = auts[i] ^ ak_star[i];
    rc = cmn_milenage_f1(k, opc, rand, sqn_b, resync_amf, NULL, mac_s);
    if (rc < 0)
        goto out;
    if (cmn_memcmp_ct(mac_s, auts + 6, CMN_MIL_MAC_LEN) != 0) {
        rc = CMN_EDENIED;
        goto out;
    }
    *ret_sqn_ms = cmn_milenage_sqn_get(sqn_b);
out:
    cmn_wipe(ak_star, sizeof(ak_star));
    return rc;
}
