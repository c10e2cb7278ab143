/* libtepae's GBA core (see tae_gba.h). */
#include "tae_gba.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

int tae_gba_usim(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn_ms,
                 const uint8_t rand[CMN_MIL_RAND_LEN], const uint8_t autn[CMN_MIL_AUTN_LEN],
                 tae_usim_result *ret)
{
    uint64_t sqn = 0;
    int rc;

    memset(ret, 0, sizeof(*ret));
    rc = cmn_milenage_autn_open(k, opc, rand, autn, &sqn, ret->res, ret->ck, ret->ik);
    if (rc < 0)
        return rc;
    if (sqn > sqn_ms && sqn - sqn_ms <= TAE_GBA_SQN_DELTA) {
        ret->outcome = TAE_USIM_OK;
        ret->sqn = sqn;
        return 0;
    }
    cmn_wipe(ret, sizeof(*ret)); /* RES, CK, IK of a stale challenge are not used */
    ret->outcome = TAE_USIM_SYNC;
    return cmn_milenage_auts(k, opc, rand, sqn_ms, ret->auts);
}

int tae_gba_challenge(const char *www_authenticate, cmn_digest_auth *ret_params,
                      uint8_t ret_rand[CMN_MIL_RAND_LEN], uint8_t ret_autn[CMN_MIL_AUTN_LEN])
{
    uint8_t raw[CMN_MIL_RAND_LEN + CMN_MIL_AUTN_LEN];

    if (www_authenticate == NULL || cmn_digest_parse(www_authenticate, ret_params) != 0 ||
        strcasecmp(ret_params->algorithm, "AKAv1-MD5") != 0 ||
        cmn_gba_b64_decode(ret_params->nonce, raw, sizeof(raw)) != 0)
        return CMN_EPROTO;
    memcpy(ret_rand, raw, CMN_MIL_RAND_LEN);
    memcpy(ret_autn, raw + CMN_MIL_RAND_LEN, CMN_MIL_AUTN_LEN);
    return 0;
}

int tae_gba_authorization(const char *impi, const char *realm, const char *uri,
                          const cmn_digest_auth *ch, const uint8_t res[CMN_MIL_RES_LEN],
                          const uint8_t *auts, const char *cnonce, char *ret, size_t retlen)
{
    char digest[CMN_DIGEST_HEX_LEN + 1], auts_b64[32] = "";
    int n, rc;

    if (ch == NULL) {
        n = snprintf(ret, retlen,
                     "Digest username=\"%s\", realm=\"%s\", nonce=\"\", uri=\"%s\", "
                     "response=\"\"",
                     impi, realm, uri);
        return n < 0 || (size_t)n >= retlen ? CMN_ERANGE : 0;
    }
    if (auts != NULL &&
        (rc = cmn_gba_b64_encode(auts, CMN_MIL_AUTS_LEN, auts_b64, sizeof(auts_b64))) < 0)
        return rc;
    rc = cmn_digest_response(impi, ch->realm, auts != NULL ? NULL : res,
                             auts != NULL ? 0 : CMN_MIL_RES_LEN, "GET", uri, ch->nonce, "00000001",
                             cnonce, "auth-int", NULL, 0, digest);
    if (rc < 0)
        return rc;
    n = snprintf(ret, retlen,
                 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                 "qop=auth-int, nc=00000001, cnonce=\"%s\", response=\"%s\", "
                 "algorithm=AKAv1-MD5%s%s%s",
                 impi, ch->realm, ch->nonce, uri, cnonce, digest, auts != NULL ? ", auts=\"" : "",
                 auts_b64, auts != NULL ? "\"" : "");
    cmn_wipe(digest, sizeof(digest));
    return n < 0 || (size_t)n >= retlen ? CMN_ERANGE : 0;
}

/* The text between <tag> and </tag>, into out. */
static int element(const char *body, const char *tag, char *out, size_t len)
{
    char open[32], close[32];
    const char *a, *b;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    if ((a = strstr(body, open)) == NULL || (b = strstr(a, close)) == NULL)
        return CMN_EPROTO;
    a += strlen(open);
    if ((size_t)(b - a) == 0 || (size_t)(b - a) >= len)
        return CMN_EPROTO;
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return 0;
}

int tae_gba_parse_info(const char *body, char *ret_btid, size_t btid_len, int64_t *ret_lifetime)
{
    char life[40];
    struct tm tm;
    const char *end;

    if (body == NULL || element(body, "btid", ret_btid, btid_len) < 0 ||
        element(body, "lifetime", life, sizeof(life)) < 0)
        return CMN_EPROTO;
    memset(&tm, 0, sizeof(tm));
    end = strptime(life, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return CMN_EPROTO;
    *ret_lifetime = (int64_t)timegm(&tm);
    for (const char *p = ret_btid; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return CMN_EPROTO;
    return 0;
}
