/* Enrolment JSON on jansson. */
#include "enr_enrol.h"

#include <jansson.h>
#include <stdlib.h>

#include "cmn_ca.h"
#include "cmn_err.h"

static int get_flag(json_t *root, const char *name, bool *ret)
{
    json_t *v = json_object_get(root, name);

    *ret = false;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return CMN_EINVAL;
    *ret = json_is_true(v);
    return 0;
}

int enr_enrol_parse(const uint8_t *body, size_t len, enr_indications *ret)
{
    json_t *root;
    int rc = 0;

    ret->cei = ret->mei = ret->rmi = false;
    if (len == 0)
        return 0;
    root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL || !json_is_object(root))
        rc = CMN_EINVAL;
    if (rc == 0)
        rc = get_flag(root, "cei", &ret->cei);
    if (rc == 0)
        rc = get_flag(root, "mei", &ret->mei);
    if (rc == 0)
        rc = get_flag(root, "rmi", &ret->rmi);
    json_decref(root);
    return rc;
}

int enr_enrol_answer(const char *ke_id, const enr_enrol_result *r, const enr_targets *tgt,
                     char **ret)
{
    json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s}}", "keid", ke_id, "eid",
                             r->enrolee_id, "api", r->app_id, "exp", (json_int_t)r->expires, "tgt",
                             "csi", tgt->csi, "poa", tgt->poa, "mafi", tgt->mafi);

    *ret = NULL;
    if (root == NULL)
        return CMN_ENOMEM;
    if (tgt->mpoa != NULL && tgt->mpoa[0] &&
        json_object_set_new(json_object_get(root, "tgt"), "mpoa", json_string(tgt->mpoa)) != 0) {
        json_decref(root);
        return CMN_ENOMEM;
    }
    if (tgt->tas != NULL && json_object_set_new(root, "tas", json_pack("[s]", tgt->tas)) != 0) {
        json_decref(root);
        return CMN_ENOMEM;
    }
    *ret = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *ret != NULL ? 0 : CMN_ENOMEM;
}

int enr_cert_parse(const uint8_t *body, size_t len, uint8_t *ret_der, size_t *inout_len)
{
    json_t *root = len ? json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *csr = root != NULL ? json_object_get(root, "csr") : NULL;
    int rc = CMN_EINVAL;

    if (json_is_string(csr))
        rc = cmn_ca_from_pem(json_string_value(csr), json_string_length(csr), "CERTIFICATE REQUEST",
                             ret_der, inout_len);
    json_decref(root);
    return rc == 0 ? 0 : CMN_EINVAL;
}

int enr_cert_answer(const char *crt_pem, const char *serial, int64_t not_after, const char *ca_pem,
                    char **ret)
{
    json_t *root = json_pack("{s:s, s:s, s:I, s:[s]}", "crt", crt_pem, "sn", serial, "exp",
                             (json_int_t)not_after, "tas", ca_pem);

    *ret = NULL;
    if (root == NULL)
        return CMN_ENOMEM;
    *ret = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *ret != NULL ? 0 : CMN_ENOMEM;
}
