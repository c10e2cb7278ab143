/* GBA (3GPP TS 33.220) key derivation and identifiers; see cmn_gba.h. */
#include "cmn_gba.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define KDF_MAX_PARAMS 8

const uint8_t cmn_gba_ua_dtls_psk[CMN_GBA_UA_ID_LEN] = {0x01, 0x00, 0x01, 0xC0, 0xA8};

void cmn_gba_ks(const uint8_t ck[CMN_MIL_CK_LEN], const uint8_t ik[CMN_MIL_CK_LEN],
                uint8_t ret_ks[CMN_GBA_KS_LEN])
{
    memcpy(ret_ks, ck, CMN_MIL_CK_LEN);
    memcpy(ret_ks + CMN_MIL_CK_LEN, ik, CMN_MIL_CK_LEN);
}

int cmn_gba_kdf(const uint8_t *key, size_t klen, uint8_t fc, const uint8_t *const *params,
                const size_t *lens, size_t n, uint8_t ret[CMN_GBA_KS_NAF_LEN])
{
    /* S = FC || P0 || L0 || P1 || L1 ...: HMAC over the parts in order, no copy. */
    const uint8_t *parts[1 + 2 * KDF_MAX_PARAMS];
    size_t plens[1 + 2 * KDF_MAX_PARAMS];
    uint8_t lbuf[KDF_MAX_PARAMS][2];
    size_t np = 0;

    if (n > KDF_MAX_PARAMS || (n && (params == NULL || lens == NULL)) || ret == NULL)
        return CMN_EINVAL;
    parts[np] = &fc;
    plens[np++] = 1;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > 0xffff)
            return CMN_ERANGE;
        lbuf[i][0] = (uint8_t)(lens[i] >> 8);
        lbuf[i][1] = (uint8_t)lens[i];
        parts[np] = params[i];
        plens[np++] = lens[i];
        parts[np] = lbuf[i];
        plens[np++] = 2;
    }
    return cmn_hmac_sha256_v(key, klen, parts, plens, np, ret);
}

int cmn_gba_ks_naf(const uint8_t ks[CMN_GBA_KS_LEN], const uint8_t rand[CMN_MIL_RAND_LEN],
                   const char *impi, const char *naf_fqdn, const uint8_t ua[CMN_GBA_UA_ID_LEN],
                   uint8_t ret_ks_naf[CMN_GBA_KS_NAF_LEN])
{
    static const char label[] = "gba-me";
    uint8_t naf_id[255 + CMN_GBA_UA_ID_LEN];
    size_t flen;
    const uint8_t *params[] = {(const uint8_t *)label, rand, (const uint8_t *)impi, naf_id};
    size_t lens[4];

    if (ks == NULL || rand == NULL || impi == NULL || naf_fqdn == NULL || ua == NULL ||
        ret_ks_naf == NULL)
        return CMN_EINVAL;
    flen = strlen(naf_fqdn);
    if (flen == 0 || flen > 255 || strlen(impi) == 0 || strlen(impi) > CMN_GBA_IMPI_MAX)
        return CMN_EINVAL;
    memcpy(naf_id, naf_fqdn, flen);
    memcpy(naf_id + flen, ua, CMN_GBA_UA_ID_LEN);
    lens[0] = sizeof(label) - 1;
    lens[1] = CMN_MIL_RAND_LEN;
    lens[2] = strlen(impi);
    lens[3] = flen + CMN_GBA_UA_ID_LEN;
    return cmn_gba_kdf(ks, CMN_GBA_KS_LEN, CMN_GBA_FC_KS_NAF, params, lens, 4, ret_ks_naf);
}

int cmn_gba_b64_encode(const uint8_t *in, size_t len, char *ret, size_t retlen)
{
    word32 outlen;

    if (in == NULL || ret == NULL || len > 0xffffff || retlen < 4 * ((len + 2) / 3) + 1)
        return CMN_ERANGE;
    outlen = (word32)retlen;
    if (Base64_Encode_NoNl(in, (word32)len, (byte *)ret, &outlen) != 0 || outlen >= retlen)
        return CMN_ECRYPTO;
    ret[outlen] = '\0';
    return 0;
}

int cmn_gba_b64_decode(const char *in, uint8_t *ret, size_t len)
{
    uint8_t buf[512];
    word32 outlen = sizeof(buf);
    size_t inlen;
    int rc = CMN_EINVAL;

    if (in == NULL || ret == NULL)
        return CMN_EINVAL;
    inlen = strlen(in);
    /* only the alphabet and trailing padding: wolfCrypt skips some whitespace */
    for (size_t i = 0; i < inlen; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= inlen)))
            return CMN_EINVAL;
    }
    if (inlen == 0 || inlen % 4 != 0 || inlen > 4 * (sizeof(buf) / 3))
        return CMN_EINVAL;
    if (Base64_Decode((const byte *)in, (word32)inlen, buf, &outlen) == 0 && outlen == len) {
        memcpy(ret, buf, len);
        rc = 0;
    }
    cmn_wipe(buf, sizeof(buf));
    return rc;
}

int cmn_gba_btid(const uint8_t rand[CMN_MIL_RAND_LEN], const char *bsf_name, char *ret,
                 size_t retlen)
{
    char b64[32];
    int rc;

    if (rand == NULL || bsf_name == NULL || !*bsf_name || ret == NULL)
        return CMN_EINVAL;
    rc = cmn_gba_b64_encode(rand, CMN_MIL_RAND_LEN, b64, sizeof(b64));
    if (rc < 0)
        return rc;
    if ((size_t)snprintf(ret, retlen, "%s@%s", b64, bsf_name) >= retlen)
        return CMN_ERANGE;
    return 0;
}
