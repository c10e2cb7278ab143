/* ESPrim, the Receiver's core (cmn_esprim_rx.h; TS-0003 8.4.2 C.6-C.8). */
#include "cmn_esprim_rx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_json.h"
#include "cmn_onem2m.h"

int cmn_esprim_espa_of(const char *enc)
{
    size_t k = cmn_jwe_enc_key_len(enc);

    return k == 16 ? 10 : k == 24 ? 11 : k == 32 ? 12 : 0;
}

json_t *cmn_esprim_rand_json(const char *id, const uint8_t v[CMN_E2E_RAND_LEN], int64_t exp)
{
    char text[CMN_E2E_RAND_TEXT], ts[16];

    cmn_e2e_rand_format(v, text);
    cmn_json_timestamp(exp, ts);
    return json_pack("{s:s,s:s,s:s,s:[i],s:[i,i,i]}", "esri", id, "esrv", text, "esrx", ts, "esks",
                     CMN_ESPRIM_KEYGEN_HMAC, "espa", 10, 11, 12);
}

json_t *cmn_esprim_dbg(const char *why)
{
    char dbg[160];

    snprintf(dbg, sizeof(dbg), "ESPrim: %s", why);
    return json_pack("{s:s}", "m2m:dbg", dbg);
}

/* The esprimProtocolAndAlgIDs list as bits; 0 when malformed or unsupported. */
static unsigned espa_bits(json_t *list)
{
    unsigned bits = 0;
    json_t *v;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) == 0)
        return 0;
    json_array_foreach(list, i, v) {
        json_int_t id = json_integer_value(v);

        if (!json_is_integer(v) || id < 10 || id > 12)
            return 0;
        bits |= 1u << (id - 10);
    }
    return bits;
}

/* C.6b.2: the originator's rand object sent in "oro" (checked; the caller records it
 * once the object is answered), or the one recorded before under "ori". */
static unsigned originator_rand(cmn_esprim_rx *rx)
{
    json_t *oro = json_object_get(rx->jwe->header, "oro");
    const cmn_esprim_orig *o;
    const char *esri, *esrx;
    int64_t exp = 0;

    rx->ori = cmn_jwe_header_str(rx->jwe, "ori");
    if (rx->ori == NULL || strlen(rx->ori) >= sizeof(rx->oro.id))
        return (rx->why = "no ori", CMN_RSC_BAD_REQUEST);
    if (oro == NULL) {
        if ((o = rx->ops->orig_rand(rx, rx->kid, rx->ori)) == NULL)
            return (rx->why = "unknown or expired originator rand object",
                    CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID);
        rx->oro = *o;
        return 0;
    }
    esri = json_string_value(json_object_get(oro, "esri"));
    esrx = json_string_value(json_object_get(oro, "esrx"));
    if (esri == NULL || strcmp(esri, rx->ori) != 0 || esrx == NULL ||
        cmn_json_parse_timestamp(esrx, &exp) != 0 ||
        cmn_e2e_rand_parse(json_string_value(json_object_get(oro, "esrv")), rx->oro.v) != 0)
        return (rx->why = "malformed oro", CMN_RSC_BAD_REQUEST);
    if (exp <= rx->now || exp > rx->rr_exp)
        return (rx->why = "originator rand object expired or outliving the receiver's",
                CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID);
    if (json_integer_value(json_object_get(oro, "esk")) != CMN_ESPRIM_KEYGEN_HMAC ||
        (rx->oro.espa = espa_bits(json_object_get(oro, "espa"))) == 0)
        return (rx->why = "esk or espa not supported", CMN_RSC_ESPRIM_UNSUPPORTED_OPTION);
    snprintf(rx->oro.kid, sizeof(rx->oro.kid), "%s", rx->kid);
    snprintf(rx->oro.id, sizeof(rx->oro.id), "%s", rx->ori);
    rx->oro.exp = exp;
    rx->oro_new = true;
    return 0;
}

unsigned cmn_esprim_rx_open(cmn_esprim_rx *rx, uint8_t **ret_pt, size_t *ret_len)
{
    uint8_t pairwise[CMN_KEY_LEN];
    unsigned rsc;
    int rc;

    *ret_pt = NULL;
    *ret_len = 0;
    rx->kid = cmn_jwe_header_str(rx->jwe, "kid");
    rx->enc = cmn_jwe_header_str(rx->jwe, "enc");
    rx->rri = cmn_jwe_header_str(rx->jwe, "rri");
    if (rx->kid == NULL || strlen(rx->kid) >= CMN_KEY_ID_MAX)
        return (rx->why = "no kid", CMN_RSC_BAD_REQUEST);
    if ((rsc = rx->ops->pairwise(rx, pairwise)) != 0)
        return rsc;
    if (rx->rri == NULL || rx->ops->recv_rand(rx, rx->rri, rx->rr, &rx->rr_exp) != 0)
        rsc = (rx->why = "unknown or expired receiver rand object",
               CMN_RSC_ESPRIM_UNKNOWN_RECV_RAND_ID);
    if (rsc == 0)
        rsc = originator_rand(rx);
    if (rsc == 0 && !(rx->oro.espa & (1u << (cmn_esprim_espa_of(rx->enc) - 10))))
        rsc = (rx->why = "enc not among the originator's espa", CMN_RSC_ESPRIM_UNSUPPORTED_OPTION);
    if (rsc == 0 && cmn_e2e_session_esprim_key(pairwise, rx->rr, rx->oro.v, rx->session) != 0)
        rsc = (rx->why = "key derivation", CMN_RSC_ESPRIM_DECRYPTION_ERROR);
    cmn_wipe(pairwise, sizeof(pairwise));
    if (rsc != 0)
        return rsc;
    rc = cmn_jwe_decrypt(rx->jwe, rx->session, ret_pt, ret_len);
    if (rc == CMN_EDENIED)
        return (rx->why = "integrity check failed", CMN_RSC_ESPRIM_BAD_MAC);
    if (rc != 0)
        return (rx->why = "decryption", CMN_RSC_ESPRIM_DECRYPTION_ERROR);
    if (rx->ops->seen(rx, rx->jwe->tag)) {
        cmn_free_secret(*ret_pt, *ret_len + 1);
        *ret_pt = NULL;
        *ret_len = 0;
        return (rx->why = "replayed object", CMN_RSC_ESPRIM_UNKNOWN_ORIG_RAND_ID);
    }
    return 0;
}

int cmn_esprim_rx_seal(const cmn_esprim_rx *rx, const json_t *prim, char **ret_epo)
{
    json_t *h = json_pack("{s:s,s:s,s:s,s:s}", "kid", rx->kid, "ori", rx->ori, "rri", rx->rri,
                          "cty", CMN_ESPRIM_CTY_RSP);
    char *text = prim != NULL ? json_dumps(prim, JSON_COMPACT) : NULL;
    int rc = CMN_ENOMEM;

    *ret_epo = NULL;
    if (h != NULL && text != NULL)
        rc = cmn_jwe_dir_encrypt(h, rx->session, rx->enc, (const uint8_t *)text, strlen(text),
                                 ret_epo);
    if (text != NULL)
        cmn_wipe(text, strlen(text));
    free(text);
    json_decref(h);
    return rc;
}

void cmn_esprim_rx_clear(cmn_esprim_rx *rx)
{
    cmn_wipe(rx->session, sizeof(rx->session));
    cmn_jwe_free(rx->jwe);
    rx->jwe = NULL;
}
