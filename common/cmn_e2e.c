/* End-to-end key derivations (TS-0003 10.3.6, 10.3.8). Choices: cmn_e2e.h, docs/keys.md. */
#include "cmn_e2e.h"

#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

int cmn_e2e_master(const uint8_t pair_key[CMN_KEY_LEN], const char *b_id,
                   uint8_t ret_master[CMN_KEY_LEN])
{
    if (pair_key == NULL || ret_master == NULL || !cmn_kdf_id_valid(b_id))
        return CMN_EINVAL;
    /* HKDF-Extract (RFC 5869 2.2): PRK = HMAC(salt, IKM), the salt being B's ID. */
    return cmn_hmac_sha256((const uint8_t *)b_id, strlen(b_id), pair_key, CMN_KEY_LEN, ret_master);
}

int cmn_e2e_expand(const uint8_t master[CMN_KEY_LEN], cmn_e2e_keys *ret)
{
    static const char *const labels[4] = {CMN_LABEL_E2E_MSG_AUTH, CMN_LABEL_E2E_MSG_CONF,
                                          CMN_LABEL_E2E_ATT_AUTH, CMN_LABEL_E2E_ATT_CONF};
    uint8_t *out[4];
    const uint8_t *prev = NULL;
    int rc = 0;

    if (master == NULL || ret == NULL)
        return CMN_EINVAL;
    out[0] = ret->msg_auth;
    out[1] = ret->msg_conf;
    out[2] = ret->att_auth;
    out[3] = ret->att_conf;
    for (int i = 0; i < 4 && rc == 0; i++) {
        uint8_t counter = (uint8_t)(i + 1);
        const uint8_t *parts[3] = {prev, (const uint8_t *)labels[i], &counter};
        size_t lens[3] = {prev != NULL ? CMN_KEY_LEN : 0, strlen(labels[i]), 1};

        rc = cmn_hmac_sha256_v(master, CMN_KEY_LEN, parts, lens, 3, out[i]);
        prev = out[i];
    }
    if (rc != 0)
        cmn_wipe(ret, sizeof(*ret));
    return rc;
}

int cmn_e2e_keys_from_pair(const uint8_t pair_key[CMN_KEY_LEN], const char *b_id, cmn_e2e_keys *ret)
{
    uint8_t master[CMN_KEY_LEN];
    int rc = cmn_e2e_master(pair_key, b_id, master);

    if (rc == 0)
        rc = cmn_e2e_expand(master, ret);
    cmn_wipe(master, sizeof(master));
    return rc;
}

int cmn_e2e_session_esprim_key(const uint8_t pairwise[CMN_KEY_LEN],
                               const uint8_t rand_receiver[CMN_E2E_RAND_LEN],
                               const uint8_t rand_originator[CMN_E2E_RAND_LEN],
                               uint8_t ret_key[CMN_KEY_LEN])
{
    const uint8_t *parts[3] = {rand_receiver, rand_originator,
                               (const uint8_t *)CMN_LABEL_SESSION_ESPRIM};
    size_t lens[3] = {CMN_E2E_RAND_LEN, CMN_E2E_RAND_LEN, strlen(CMN_LABEL_SESSION_ESPRIM)};

    if (pairwise == NULL || rand_receiver == NULL || rand_originator == NULL || ret_key == NULL)
        return CMN_EINVAL;
    return cmn_hmac_sha256_v(pairwise, CMN_KEY_LEN, parts, lens, 3, ret_key);
}

void cmn_e2e_rand_format(const uint8_t rand[CMN_E2E_RAND_LEN], char ret[CMN_E2E_RAND_TEXT])
{
    ret[0] = 'r';
    cmn_hex_encode(rand, CMN_E2E_RAND_LEN, ret + 1);
}

int cmn_e2e_rand_parse(const char *text, uint8_t ret[CMN_E2E_RAND_LEN])
{
    if (text == NULL || text[0] != 'r' || strlen(text) != CMN_E2E_RAND_TEXT - 1)
        return CMN_EINVAL;
    for (size_t i = 1; text[i] != '\0'; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return CMN_EINVAL;
    return cmn_hex_decode(text + 1, ret, CMN_E2E_RAND_LEN);
}
