/* Enrolment JSON on jansson. */
#include "enr_enrol.h"

#include <jansson.h>
#include <stdlib.h>

#include "cmn_err.h"

static int get_flag(json_t *root, const char *name, bool *ret)
{
    json_t *v = json_object_get(root, name);

    *ret = false;
    if (!v)
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
    if (!root || !json_is_object(root))
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
                             r->enrolee_id, "api", r->app_id, "exp", (json_int_t)r->expires,
                             "tgt", "csi", tgt->csi, "poa", tgt->poa, "mafi", tgt->mafi);

    *ret = NULL;
    if (!root)
        return CMN_ENOMEM;
    *ret = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *ret ? 0 : CMN_ENOMEM;
}
