/* HTTP Digest AKA: header parsing and the request-digest (see bsf_digest.h). */
#include "cmn_digest.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/md5.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

typedef struct {
    const char *name;
    size_t off, size;
} field;

#define F(n)                                                                                       \
    {                                                                                              \
#n, offsetof(cmn_digest_auth, n), sizeof(((cmn_digest_auth *)0)->n)                        \
    }
static const field fields[] = {F(username), F(realm), F(nonce),  F(uri),       F(response),
                               F(qop),      F(nc),    F(cnonce), F(algorithm), F(auts)};
#undef F
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads one value (quoted-string with \-escapes, or token) into out; returns the
 * position after it, or NULL. */
static const char *read_value(const char *p, char *out, size_t size)
{
    size_t n = 0;

    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if (*p == '\0')
                return NULL;
            if (*p == '\\' && p[1] != '\0')
                p++;
            if (n + 1 >= size)
                return NULL;
            out[n++] = *p;
        }
        p++;
    } else {
        for (; *p && *p != ',' && *p != ' ' && *p != '\t'; p++) {
            if (n + 1 >= size)
                return NULL;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return p;
}

int cmn_digest_parse(const char *header, cmn_digest_auth *ret)
{
    bool seen[NFIELDS] = {false};
    const char *p;

    if (header == NULL || ret == NULL)
        return CMN_EINVAL;
    memset(ret, 0, sizeof(*ret));
    p = skip_ws(header);
    if (strncasecmp(p, "Digest", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return CMN_EINVAL;
    p = skip_ws(p + 6);
    while (*p) {
        char name[32], scratch[CMN_DIGEST_VALUE_MAX];
        size_t n = 0;
        char *dst = scratch;
        size_t size = sizeof(scratch);

        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_') {
            if (n + 1 >= sizeof(name))
                return CMN_EINVAL;
            name[n++] = *p++;
        }
        name[n] = '\0';
        p = skip_ws(p);
        if (n == 0 || *p != '=')
            return CMN_EINVAL;
        p = skip_ws(p + 1);
        for (size_t i = 0; i < NFIELDS; i++) {
            if (strcasecmp(name, fields[i].name) != 0)
                continue;
            if (seen[i])
                return CMN_EINVAL;
            seen[i] = true;
            dst = (char *)ret + fields[i].off;
            size = fields[i].size;
        }
        p = read_value(p, dst, size);
        if (p == NULL)
            return CMN_EINVAL;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '\0')
            return CMN_EINVAL;
    }
    return 0;
}

/* MD5 over parts joined by ':', as lower-case hex. */
static int md5_hex(const uint8_t *const *parts, const size_t *lens, size_t n,
                   char ret[CMN_DIGEST_HEX_LEN + 1])
{
    wc_Md5 md5;
    uint8_t d[WC_MD5_DIGEST_SIZE];
    int rc = CMN_ECRYPTO;

    if (wc_InitMd5(&md5) != 0)
        return CMN_ECRYPTO;
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && wc_Md5Update(&md5, (const byte *)":", 1) != 0) ||
            (lens[i] > 0 && wc_Md5Update(&md5, parts[i], (word32)lens[i]) != 0))
            goto out;
    }
    if (wc_Md5Final(&md5, d) != 0)
        goto out;
    cmn_hex_encode(d, sizeof(d), ret);
    rc = 0;
out:
    wc_Md5Free(&md5);
    cmn_wipe(&md5, sizeof(md5));
    return rc;
}

int cmn_digest_response(const char *username, const char *realm, const uint8_t *pw, size_t pwlen,
                        const char *method, const char *uri, const char *nonce, const char *nc,
                        const char *cnonce, const char *qop, const uint8_t *body, size_t blen,
                        char ret[CMN_DIGEST_HEX_LEN + 1])
{
    char ha1[CMN_DIGEST_HEX_LEN + 1], ha2[CMN_DIGEST_HEX_LEN + 1], hbody[CMN_DIGEST_HEX_LEN + 1];
    int rc;

    if (username == NULL || realm == NULL || (pw == NULL && pwlen) || method == NULL ||
        uri == NULL || nonce == NULL || nc == NULL || cnonce == NULL || qop == NULL ||
        (body == NULL && blen) || ret == NULL)
        return CMN_EINVAL;
    {
        const uint8_t *p[] = {(const uint8_t *)username, (const uint8_t *)realm, pw};
        const size_t l[] = {strlen(username), strlen(realm), pwlen};
        if ((rc = md5_hex(p, l, 3, ha1)) < 0)
            goto out;
    }
    {
        const uint8_t *p[] = {body};
        const size_t l[] = {blen};
        if ((rc = md5_hex(p, l, 1, hbody)) < 0)
            goto out;
    }
    {
        /* qop "auth": HA2 = MD5(method:uri); "auth-int" adds MD5(entity-body) */
        const uint8_t *p[] = {(const uint8_t *)method, (const uint8_t *)uri, (uint8_t *)hbody};
        const size_t l[] = {strlen(method), strlen(uri), CMN_DIGEST_HEX_LEN};
        if ((rc = md5_hex(p, l, strcmp(qop, "auth") == 0 ? 2 : 3, ha2)) < 0)
            goto out;
    }
    {
        const uint8_t *p[] = {(uint8_t *)ha1,          (const uint8_t *)nonce, (const uint8_t *)nc,
                              (const uint8_t *)cnonce, (const uint8_t *)qop,   (uint8_t *)ha2};
        const size_t l[] = {CMN_DIGEST_HEX_LEN, strlen(nonce), strlen(nc),
                            strlen(cnonce),     strlen(qop),   CMN_DIGEST_HEX_LEN};
        rc = md5_hex(p, l, 6, ret);
    }
out:
    cmn_wipe(ha1, sizeof(ha1));
    return rc;
}
