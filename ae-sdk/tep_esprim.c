/* libtepae: ESPrim, the Originator's side (TS-0003 8.4.2 B.2g-C.4, C.10-C.11; TS-0004
 * 7.6.2). I/O-free: the caller sends the outer NOTIFY (tep_request) and hands its answer
 * back. pairwiseESPrimKey = Ke2e_msg_conf of the enrolment's Kpsa with End-Point-B = the
 * registrar CSE-ID, kid = KpsaID (docs/keys.md items 14, 16); formats: docs/internals.md
 * "ESPrim". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_e2e.h"
#include "cmn_err.h"
#include "cmn_jose.h"
#include "cmn_json.h"
#include "tae_device.h"
#include "tae_e2e.h"

#define CTY_REQ "application/vnd.onem2m-preq+json"
#define ENC_DEFAULT "A256GCM" /* esprimProtocolAndAlgID 12 */

struct tep_esprim {
    uint8_t session[CMN_KEY_LEN];
    char kid[CMN_KEY_ID_MAX];
    char rri[64], ori[64];
    json_t *oro; /* sent with the first object only */
    int64_t expires;
};

void tep_esprim_free(tep_esprim *s)
{
    if (s == NULL)
        return;
    json_decref(s->oro);
    cmn_free_secret(s, sizeof(*s));
}

static bool lists(json_t *o, const char *name, json_int_t want)
{
    json_t *l = json_object_get(o, name), *v;
    size_t i;

    json_array_foreach(l, i, v)
        if (json_integer_value(v) == want)
            return true;
    return false;
}

/* The receiver's rand object: esri, esrv, esrx, and it must offer HMAC-SHA256 and A256GCM. */
static int receiver_rand(const char *json, json_t **ret, uint8_t rv[CMN_E2E_RAND_LEN],
                         int64_t *ret_exp)
{
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    const char *esrx = json_string_value(json_object_get(o, "esrx"));

    *ret = o;
    if (!json_is_object(o) || json_string_value(json_object_get(o, "esri")) == NULL ||
        esrx == NULL || cmn_json_parse_timestamp(esrx, ret_exp) != 0 ||
        cmn_e2e_rand_parse(json_string_value(json_object_get(o, "esrv")), rv) != 0)
        return CMN_EPROTO;
    if (!lists(o, "esks", 1) || !lists(o, "espa", 12))
        return CMN_EPROTO; /* nothing both ends support */
    return 0;
}

static int originator_rand(tep_esprim *s, int64_t exp, uint8_t ov[CMN_E2E_RAND_LEN])
{
    uint8_t id[8];
    char hex[17], v[CMN_E2E_RAND_TEXT], ts[16];
    int rc;

    if ((rc = cmn_random(id, sizeof(id))) != 0 || (rc = cmn_random(ov, CMN_E2E_RAND_LEN)) != 0)
        return rc;
    cmn_hex_encode(id, sizeof(id), hex);
    snprintf(s->ori, sizeof(s->ori), "o%s", hex);
    cmn_e2e_rand_format(ov, v);
    cmn_json_timestamp(exp, ts);
    s->oro = json_pack("{s:s,s:s,s:s,s:i,s:[i]}", "esri", s->ori, "esrv", v, "esrx", ts, "esk", 1,
                       "espa", 12);
    return s->oro != NULL ? 0 : CMN_ENOMEM;
}

int tae_esprim_new(const uint8_t pairwise[CMN_KEY_LEN], const char *kid,
                   const char *receiver_rand_json, int64_t lifetime, tep_esprim **ret)
{
    uint8_t rv[CMN_E2E_RAND_LEN], ov[CMN_E2E_RAND_LEN];
    int64_t now = (int64_t)time(NULL), rexp = 0;
    json_t *rro = NULL;
    tep_esprim *s = NULL;
    int rc;

    *ret = NULL;
    if (receiver_rand_json == NULL || lifetime <= 0 || strlen(kid) >= sizeof(s->kid))
        return CMN_EINVAL;
    if ((rc = receiver_rand(receiver_rand_json, &rro, rv, &rexp)) == 0 && rexp <= now)
        rc = CMN_EEXPIRED;
    if (rc == 0 && (s = calloc(1, sizeof(*s))) == NULL)
        rc = CMN_ENOMEM;
    if (rc != 0) {
        json_decref(rro);
        return rc;
    }
    snprintf(s->rri, sizeof(s->rri), "%s", json_string_value(json_object_get(rro, "esri")));
    snprintf(s->kid, sizeof(s->kid), "%s", kid);
    s->expires = now + lifetime < rexp ? now + lifetime : rexp; /* B.2g: not after the receiver's */
    rc = originator_rand(s, s->expires, ov);
    if (rc == 0)
        rc = cmn_e2e_session_esprim_key(pairwise, rv, ov, s->session);
    cmn_wipe(ov, sizeof(ov));
    json_decref(rro);
    if (rc != 0) {
        tep_esprim_free(s);
        return rc;
    }
    *ret = s;
    return 0;
}

int tep_esprim_new(const tep_device *dev, const char *receiver_rand_json, int64_t lifetime,
                   tep_esprim **ret)
{
    cmn_e2e_keys k;
    int rc;

    if (ret == NULL)
        return CMN_EINVAL;
    *ret = NULL;
    if (dev == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    rc = cmn_e2e_keys_from_pair(dev->enr.kpsa, dev->enr.registrar_cse_id, &k);
    if (rc == 0)
        rc = tae_esprim_new(k.msg_conf, dev->enr.kpsa_id, receiver_rand_json, lifetime, ret);
    cmn_wipe(&k, sizeof(k));
    return rc;
}

int64_t tep_esprim_expires(const tep_esprim *s)
{
    return s != NULL ? s->expires : 0;
}

int tep_esprim_protect(tep_esprim *s, const char *inner_json, char **ret_outer_body)
{
    json_t *h, *out;
    char *epo = NULL;
    int rc;

    if (ret_outer_body == NULL)
        return CMN_EINVAL;
    *ret_outer_body = NULL;
    if (s == NULL || inner_json == NULL)
        return CMN_EINVAL;
    if (s->expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    h = json_pack("{s:s,s:s,s:s,s:s}", "kid", s->kid, "ori", s->ori, "rri", s->rri, "cty", CTY_REQ);
    if (h != NULL && s->oro != NULL)
        json_object_set(h, "oro", s->oro); /* C.3: the whole object while it may be new */
    rc = h != NULL ? cmn_jwe_dir_encrypt(h, s->session, ENC_DEFAULT, (const uint8_t *)inner_json,
                                         strlen(inner_json), &epo)
                   : CMN_ENOMEM;
    out = rc == 0 ? json_pack("{s:{s:i,s:s}}", "m2m:seci", "sit", 5, "epo", epo) : NULL;
    if (rc == 0 && (out == NULL || (*ret_outer_body = json_dumps(out, JSON_COMPACT)) == NULL))
        rc = CMN_ENOMEM;
    json_decref(out);
    json_decref(h);
    free(epo);
    return rc;
}

void tep_esprim_sent(tep_esprim *s)
{
    if (s != NULL) { /* the Receiver has recorded the originator's rand object */
        json_decref(s->oro);
        s->oro = NULL;
    }
}

int tep_esprim_open(const tep_esprim *s, const char *outer_body, char **ret_inner_json)
{
    json_t *root = NULL;
    const char *epo, *kid, *ori, *rri;
    cmn_jwe *j = NULL;
    uint8_t *pt = NULL;
    size_t len = 0;
    int rc;

    if (ret_inner_json == NULL)
        return CMN_EINVAL;
    *ret_inner_json = NULL;
    if (s == NULL || outer_body == NULL)
        return CMN_EINVAL;
    root = json_loads(outer_body, JSON_REJECT_DUPLICATES, NULL);
    epo = json_string_value(json_object_get(json_object_get(root, "m2m:seci"), "epo"));
    rc = json_integer_value(json_object_get(json_object_get(root, "m2m:seci"), "sit")) == 5 &&
                 epo != NULL
             ? cmn_jwe_decode(epo, &j)
             : CMN_EPROTO;
    kid = cmn_jwe_header_str(j, "kid");
    ori = cmn_jwe_header_str(j, "ori");
    rri = cmn_jwe_header_str(j, "rri");
    if (rc == 0 && (kid == NULL || ori == NULL || rri == NULL || strcmp(kid, s->kid) != 0 ||
                    strcmp(ori, s->ori) != 0 || strcmp(rri, s->rri) != 0))
        rc = CMN_EDENIED; /* C.11a: not this session */
    if (rc == 0)
        rc = cmn_jwe_decrypt(j, s->session, &pt, &len);
    if (rc == 0)
        *ret_inner_json = (char *)pt;
    cmn_jwe_free(j);
    json_decref(root);
    return rc == CMN_EINVAL ? CMN_EPROTO : rc;
}
