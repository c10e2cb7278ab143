/* Admin requests of tep-enroller. */
#include "enr_admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

/* ---- response building ---------------------------------------------------------- */

static int set_message(Tep__AdminResponse *resp, const char *msg)
{
    char *m = strdup(msg);

    if (!m)
        return CMN_ENOMEM;
    if (resp->message && resp->message != protobuf_c_empty_string)
        free(resp->message);
    resp->message = m;
    return 0;
}

static int fail(Tep__AdminResponse *resp, int err, const char *msg)
{
    resp->err = err;
    set_message(resp, msg);
    return err;
}

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

/* Appends a copy of e (with its Kpm only if with_kpm). */
static int add_enrolee(Tep__AdminResponse *resp, const Tep__Enrolee *e, bool with_kpm)
{
    Tep__Enrolee **arr = realloc(resp->enrolees, (resp->n_enrolees + 1) * sizeof(*arr));
    Tep__Enrolee *c;

    if (!arr)
        return CMN_ENOMEM;
    resp->enrolees = arr;
    c = calloc(1, sizeof(*c));
    if (!c)
        return CMN_ENOMEM;
    tep__enrolee__init(c);
    c->kpm_id = dup_str(e->kpm_id);
    c->enrolee_id = dup_str(e->enrolee_id);
    c->app_id = dup_str(e->app_id);
    c->expires = e->expires;
    c->state = e->state;
    c->created = e->created;
    if (with_kpm && e->kpm.len > 0 && (c->kpm.data = malloc(e->kpm.len)) != NULL) {
        memcpy(c->kpm.data, e->kpm.data, e->kpm.len);
        c->kpm.len = e->kpm.len;
    }
    arr[resp->n_enrolees++] = c;
    if (!c->kpm_id || !c->enrolee_id || !c->app_id || (with_kpm && c->kpm.len == 0))
        return CMN_ENOMEM;
    return 0;
}

static int add_status(Tep__AdminResponse *resp, const char *key, const char *value)
{
    Tep__KeyValue **arr = realloc(resp->status, (resp->n_status + 1) * sizeof(*arr));
    Tep__KeyValue *kv;

    if (!arr)
        return CMN_ENOMEM;
    resp->status = arr;
    kv = calloc(1, sizeof(*kv));
    if (!kv)
        return CMN_ENOMEM;
    tep__key_value__init(kv);
    kv->key = strdup(key);
    kv->value = strdup(value);
    arr[resp->n_status++] = kv;
    return kv->key && kv->value ? 0 : CMN_ENOMEM;
}

static int add_status_u64(Tep__AdminResponse *resp, const char *key, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return add_status(resp, key, buf);
}

void enr_admin_clear(Tep__AdminResponse *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->n_enrolees; i++) {
        Tep__Enrolee *c = resp->enrolees[i];
        if (!c)
            continue;
        cmn_free_secret(c->kpm.data, c->kpm.len);
        free(c->kpm_id);
        free(c->enrolee_id);
        free(c->app_id);
        free(c);
    }
    free(resp->enrolees);
    for (size_t i = 0; i < resp->n_status; i++) {
        if (!resp->status[i])
            continue;
        free(resp->status[i]->key);
        free(resp->status[i]->value);
        free(resp->status[i]);
    }
    free(resp->status);
    if (resp->message && resp->message != protobuf_c_empty_string)
        free(resp->message);
    tep__admin_response__init(resp);
}

/* ---- operations ----------------------------------------------------------------- */

static int op_status(cmn_store *s, Tep__AdminResponse *resp)
{
    uint64_t enrolees = 0, enrolments = 0, last = 0;
    int rc = enr_db_count(s, ENR_DB_ENROLEES, &enrolees);

    if (rc == 0)
        rc = enr_db_count(s, ENR_DB_ENROLMENTS, &enrolments);
    if (rc == 0)
        rc = enr_db_last_seq(s, &last);
    if (rc != 0)
        return fail(resp, rc, "store read failed");
    if (add_status(resp, "role", "enroller") || add_status(resp, "version", TEP_VERSION) ||
        add_status(resp, "ready", "true") || add_status_u64(resp, "enrolees", enrolees) ||
        add_status_u64(resp, "enrolments", enrolments) ||
        add_status_u64(resp, "last_seq", last))
        return fail(resp, CMN_ENOMEM, "out of memory");
    return 0;
}

static int check_new_enrolee(const Tep__Enrolee *e, int64_t now, Tep__AdminResponse *resp)
{
    if (!e)
        return fail(resp, CMN_EINVAL, "enrolee missing");
    if (!enr_valid_kpm_id(e->kpm_id, strlen(e->kpm_id)))
        return fail(resp, CMN_EINVAL, "kpm_id must be 1..127 of [A-Za-z0-9._-]");
    if (e->enrolee_id[0] != '\0' && !enr_valid_identifier(e->enrolee_id))
        return fail(resp, CMN_EINVAL, "enrolee_id must be printable ASCII without spaces");
    if (e->app_id[0] != '\0' && !enr_valid_identifier(e->app_id))
        return fail(resp, CMN_EINVAL, "app_id must be printable ASCII without spaces");
    if (e->expires <= now)
        return fail(resp, CMN_EINVAL, "expires must be in the future");
    return 0;
}

static int op_add(cmn_store *s, const Tep__AdminRequest *req, int64_t now,
                  Tep__AdminResponse *resp)
{
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[ENR_KPM_LEN];
    char default_id[ENR_ID_MAX];
    int rc = check_new_enrolee(req->enrolee, now, resp);

    if (rc != 0)
        return rc;
    e = *req->enrolee;
    if (e.enrolee_id[0] == '\0') {
        snprintf(default_id, sizeof(default_id), "C%s", e.kpm_id);
        e.enrolee_id = default_id;
    }
    e.state = TEP__ENROLEE__STATE__ACTIVE;
    e.created = now;
    rc = cmn_random(kpm, sizeof(kpm));
    if (rc != 0) {
        fail(resp, rc, "no random Kpm");
        goto out;
    }
    e.kpm.data = kpm;
    e.kpm.len = sizeof(kpm);
    rc = enr_db_enrolee_add(s, &e);
    if (rc == CMN_EEXIST)
        fail(resp, rc, "an enrolee with this kpm_id exists");
    else if (rc != 0)
        fail(resp, rc, "store write failed");
    else if ((rc = add_enrolee(resp, &e, true)) != 0)
        fail(resp, rc, "out of memory");
out:
    cmn_wipe(kpm, sizeof(kpm));
    return rc;
}

static int list_one(const Tep__Enrolee *e, void *arg)
{
    return add_enrolee(arg, e, false);
}

static int op_list(cmn_store *s, Tep__AdminResponse *resp)
{
    int rc = enr_db_enrolee_foreach(s, list_one, resp);

    return rc ? fail(resp, rc, "listing failed") : 0;
}

static int op_revoke(cmn_store *s, const Tep__AdminRequest *req, Tep__AdminResponse *resp,
                     enr_events *ret_events)
{
    int rc;

    if (!enr_valid_kpm_id(req->kpm_id, strlen(req->kpm_id)))
        return fail(resp, CMN_EINVAL, "kpm_id must be 1..127 of [A-Za-z0-9._-]");
    rc = enr_db_enrolee_revoke(s, req->kpm_id, ret_events);
    if (rc == CMN_ENOTFOUND)
        return fail(resp, rc, "no such enrolee");
    if (rc != 0)
        return fail(resp, rc, "store write failed");
    return 0;
}

int enr_admin_handle(cmn_store *s, const Tep__AdminRequest *req, int64_t now,
                     Tep__AdminResponse *resp, enr_events *ret_events)
{
    int rc;

    memset(ret_events, 0, sizeof(*ret_events));
    switch (req->op) {
    case TEP__ADMIN_REQUEST__OP__STATUS:
        rc = op_status(s, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__ENROLEE_ADD:
        rc = op_add(s, req, now, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__ENROLEE_LIST:
        rc = op_list(s, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE:
        rc = op_revoke(s, req, resp, ret_events);
        break;
    default:
        rc = fail(resp, CMN_EINVAL, "unknown op");
        break;
    }
    resp->err = rc;
    return rc;
}
