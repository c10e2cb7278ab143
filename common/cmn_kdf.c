/* The TS-0003 key hierarchy (clause 10.3): exporter split, key identifiers and the
 * HMAC-SHA-256 derivations from Ke. Byte-level conventions: cmn_kdf.h, docs/keys.md. */
#include "cmn_kdf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#define ID_MAX 1024 /* longest identifier accepted as derivation input */

#define KPSA_ID_LABEL "tep KpsaID"
#define KM_ID_LABEL "tep KmID"
#define KUC_ID_LABEL "tep KucID"

/* TS-0003 10.3 asks for UTF-8 with NFKC normalisation. tep accepts printable ASCII
 * only (0x21..0x7e), for which NFKC is the identity, so no normaliser is needed and no
 * two spellings of one identifier can derive different keys. */
int cmn_kdf_id_valid(const char *id)
{
    size_t len;

    if (id == NULL)
        return 0;
    len = strnlen(id, ID_MAX + 1);
    if (len == 0 || len > ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c < 0x21 || c > 0x7e)
            return 0;
    }
    return 1;
}

void cmn_kdf_split_exporter(const uint8_t exporter[CMN_EXPORTER_LEN],
                            uint8_t ret_rel_id[CMN_REL_ID_LEN], uint8_t ret_key[CMN_KEY_LEN])
{
    memcpy(ret_rel_id, exporter, CMN_REL_ID_LEN);
    memcpy(ret_key, exporter + CMN_REL_ID_LEN, CMN_KEY_LEN);
}

int cmn_kdf_key_id(const uint8_t rel_id[CMN_REL_ID_LEN], const char *fqdn, char *ret, size_t retlen)
{
    char hex[2 * CMN_REL_ID_LEN + 1];
    int n;

    if (rel_id == NULL || ret == NULL || !cmn_kdf_id_valid(fqdn))
        return CMN_EINVAL;
    cmn_hex_encode(rel_id, CMN_REL_ID_LEN, hex);
    n = snprintf(ret, retlen, "%s@%s", hex, fqdn);
    if (n < 0 || (size_t)n >= retlen) {
        if (retlen)
            ret[0] = '\0';
        return CMN_ERANGE;
    }
    return 0;
}

bool cmn_kdf_is_key_id(const char *id)
{
    const char *at = strchr(id, '@');

    if (at == NULL || at - id != 2 * CMN_REL_ID_LEN || at[1] == '\0' ||
        strlen(id) >= CMN_KEY_ID_MAX)
        return false;
    for (const char *p = id; p < at; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/* HMAC-SHA-256(ke, label || mid || id); mid may be NULL. */
static int derive(const uint8_t ke[CMN_KEY_LEN], const char *label, const char *mid, const char *id,
                  uint8_t ret[CMN_KEY_LEN])
{
    const uint8_t *parts[3] = {(const uint8_t *)label, (const uint8_t *)mid, (const uint8_t *)id};
    size_t lens[3] = {strlen(label), mid != NULL ? strlen(mid) : 0, strlen(id)};

    return cmn_hmac_sha256_v(ke, CMN_KEY_LEN, parts, lens, 3, ret);
}

int cmn_kdf_kpsa(const uint8_t ke[CMN_KEY_LEN], const char *registrar_cse_id,
                 uint8_t ret_kpsa[CMN_KEY_LEN])
{
    if (ke == NULL || ret_kpsa == NULL || !cmn_kdf_id_valid(registrar_cse_id))
        return CMN_EINVAL;
    return derive(ke, CMN_LABEL_KPSA, NULL, registrar_cse_id, ret_kpsa);
}

int cmn_kdf_km(const uint8_t ke[CMN_KEY_LEN], const char *maf_id, uint8_t ret_km[CMN_KEY_LEN])
{
    if (ke == NULL || ret_km == NULL || !cmn_kdf_id_valid(maf_id))
        return CMN_EINVAL;
    return derive(ke, CMN_LABEL_KM, NULL, maf_id, ret_km);
}

int cmn_kdf_kuc(const uint8_t ke[CMN_KEY_LEN], unsigned suid, const char *target_id,
                uint8_t ret_kuc[CMN_KEY_LEN])
{
    char dec[16];

    if (ke == NULL || ret_kuc == NULL || !cmn_kdf_id_valid(target_id))
        return CMN_EINVAL;
    snprintf(dec, sizeof(dec), "%u", suid);
    return derive(ke, CMN_LABEL_KUC, dec, target_id, ret_kuc);
}

/* hex(HMAC-SHA-256(key, label)[0..15]) "@" fqdn */
static int key_derived_id(const uint8_t key[CMN_KEY_LEN], const char *label, const char *fqdn,
                          char *ret, size_t retlen)
{
    uint8_t mac[CMN_SHA256_LEN];
    int rc;

    if (key == NULL)
        return CMN_EINVAL;
    rc = cmn_hmac_sha256(key, CMN_KEY_LEN, (const uint8_t *)label, strlen(label), mac);
    if (rc == 0)
        rc = cmn_kdf_key_id(mac, fqdn, ret, retlen);
    cmn_wipe(mac, sizeof(mac));
    return rc;
}

int cmn_kdf_kpsa_id(const uint8_t kpsa[CMN_KEY_LEN], const char *issuer_fqdn, char *ret,
                    size_t retlen)
{
    return key_derived_id(kpsa, KPSA_ID_LABEL, issuer_fqdn, ret, retlen);
}

int cmn_kdf_km_id(const uint8_t km[CMN_KEY_LEN], const char *maf_fqdn, char *ret, size_t retlen)
{
    return key_derived_id(km, KM_ID_LABEL, maf_fqdn, ret, retlen);
}

int cmn_kdf_kuc_id(const uint8_t kuc[CMN_KEY_LEN], const char *mef_fqdn, char *ret, size_t retlen)
{
    return key_derived_id(kuc, KUC_ID_LABEL, mef_fqdn, ret, retlen);
}
