/* Admin requests of tep-enroller. */
#include "enr_admin.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_config.h"
#include "cmn_crypto.h"
#include "cmn_err.h"
#include "enr_ca.h"

#ifndef TEP_VERSION
#define TEP_VERSION "unknown"
#endif

/* ---- response building ---------------------------------------------------------- */

static int set_message(Tep__AdminResponse *resp, const char *msg)
{
    char *m = strdup(msg);

    if (m == NULL)
        return CMN_ENOMEM;
    if (resp->message != NULL && resp->message != protobuf_c_empty_string)
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
    return strdup(s != NULL ? s : "");
}

/* Appends a copy of e (with its Kpm only if with_kpm). */
static int add_enrolee(Tep__AdminResponse *resp, const Tep__Enrolee *e, bool with_kpm)
{
    Tep__Enrolee **arr = realloc(resp->enrolees, (resp->n_enrolees + 1) * sizeof(*arr));
    Tep__Enrolee *c;

    if (arr == NULL)
        return CMN_ENOMEM;
    resp->enrolees = arr;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CMN_ENOMEM;
    tep__enrolee__init(c);
    c->kpm_id = dup_str(e->kpm_id);
    c->enrolee_id = dup_str(e->enrolee_id);
    c->app_id = dup_str(e->app_id);
    c->target_cse_id = dup_str(e->target_cse_id);
    c->expires = e->expires;
    c->state = e->state;
    c->created = e->created;
    c->application = e->application;
    c->cert_identity = dup_str(e->cert_identity);
    if (with_kpm && e->kpm.len > 0 && (c->kpm.data = malloc(e->kpm.len)) != NULL) {
        memcpy(c->kpm.data, e->kpm.data, e->kpm.len);
        c->kpm.len = e->kpm.len;
    }
    arr[resp->n_enrolees++] = c;
    if (c->kpm_id == NULL || c->enrolee_id == NULL || c->app_id == NULL ||
        c->target_cse_id == NULL || c->cert_identity == NULL ||
        (with_kpm && e->kpm.len > 0 && c->kpm.len == 0))
        return CMN_ENOMEM;
    return 0;
}

static int add_status(Tep__AdminResponse *resp, const char *key, const char *value)
{
    Tep__KeyValue **arr = realloc(resp->status, (resp->n_status + 1) * sizeof(*arr));
    Tep__KeyValue *kv;

    if (arr == NULL)
        return CMN_ENOMEM;
    resp->status = arr;
    kv = calloc(1, sizeof(*kv));
    if (kv == NULL)
        return CMN_ENOMEM;
    tep__key_value__init(kv);
    kv->key = strdup(key);
    kv->value = strdup(value);
    arr[resp->n_status++] = kv;
    return kv->key != NULL && kv->value != NULL ? 0 : CMN_ENOMEM;
}

static int add_status_u64(Tep__AdminResponse *resp, const char *key, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return add_status(resp, key, buf);
}

void enr_admin_clear(Tep__AdminResponse *resp)
{
    if (resp == NULL)
        return;
    for (size_t i = 0; i < resp->n_enrolees; i++) {
        Tep__Enrolee *c = resp->enrolees[i];
        if (c == NULL)
            continue;
        cmn_free_secret(c->kpm.data, c->kpm.len);
        free(c->kpm_id);
        free(c->enrolee_id);
        free(c->app_id);
        free(c->target_cse_id);
        free(c->cert_identity);
        free(c);
    }
    free(resp->enrolees);
    for (size_t i = 0; i < resp->n_status; i++) {
        if (resp->status[i] == NULL)
            continue;
        free(resp->status[i]->key);
        free(resp->status[i]->value);
        free(resp->status[i]);
    }
    free(resp->status);
    for (size_t i = 0; i < resp->n_certs; i++)
        tep__issued_cert__free_unpacked(resp->certs[i], NULL);
    free(resp->certs);
    for (size_t i = 0; i < resp->n_events; i++)
        tep__event__free_unpacked(resp->events[i], NULL);
    free(resp->events);
    for (size_t i = 0; i < resp->n_instances; i++)
        enr_enrolment_free(resp->instances[i]);
    free(resp->instances);
    if (resp->message != NULL && resp->message != protobuf_c_empty_string)
        free(resp->message);
    tep__admin_response__init(resp);
}

/* A deep copy of m made by packing and unpacking it (freed with its free_unpacked). */
static void *copy_msg(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    void *c = NULL;

    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(m, buf);
    c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    cmn_free_secret(buf, len);
    return c;
}

/* Appends a copy of m to *arr (n elements). */
static int append_copy(void ***arr, size_t *n, const ProtobufCMessage *m)
{
    void **a = realloc(*arr, (*n + 1) * sizeof(*a));
    void *c;

    if (a == NULL)
        return CMN_ENOMEM;
    *arr = a;
    c = copy_msg(m);
    if (c == NULL)
        return CMN_ENOMEM;
    a[(*n)++] = c;
    return 0;
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
        add_status_u64(resp, "enrolments", enrolments) || add_status_u64(resp, "last_seq", last))
        return fail(resp, CMN_ENOMEM, "out of memory");
    return 0;
}

int enr_admin_add_dtls_status(Tep__AdminResponse *resp, const cmn_dtls_stats *st)
{
    const char *keys[CMN_DTLS_STATUS_N];
    char vals[CMN_DTLS_STATUS_N][24];

    cmn_dtls_stats_kv(st, keys, vals);
    for (size_t i = 0; i < CMN_DTLS_STATUS_N; i++)
        if (add_status(resp, keys[i], vals[i]) != 0)
            return CMN_ENOMEM;
    return 0;
}

static int check_new_enrolee(const Tep__Enrolee *e, int64_t now, Tep__AdminResponse *resp)
{
    if (e == NULL)
        return fail(resp, CMN_EINVAL, "enrolee missing");
    if (!enr_valid_kpm_id(e->kpm_id, strlen(e->kpm_id)))
        return fail(resp, CMN_EINVAL, "kpm_id must be 1..127 of [A-Za-z0-9._-]");
    if (e->enrolee_id[0] != '\0' && !enr_valid_identifier(e->enrolee_id))
        return fail(resp, CMN_EINVAL, "enrolee_id must be printable ASCII without spaces");
    if (e->app_id[0] != '\0' && !enr_valid_identifier(e->app_id))
        return fail(resp, CMN_EINVAL, "app_id must be printable ASCII without spaces");
    if (e->expires <= now)
        return fail(resp, CMN_EINVAL, "expires must be in the future");
    if (e->gba_impi[0] != '\0' && (strlen(e->gba_impi) > 255 || !enr_valid_identifier(e->gba_impi)))
        return fail(resp, CMN_EINVAL, "gba_impi must be printable ASCII without spaces");
    if (e->target_cse_id[0] != '\0' && (strlen(e->target_cse_id) >= ENR_ID_MAX ||
                                        cmn_cfg_valid_cse_id(e->target_cse_id, NULL, 0) != 0))
        return fail(resp, CMN_EINVAL,
                    "target must be an SP-relative CSE-ID (\"/\" then [A-Za-z0-9._-])");
    if (e->cert_identity[0] != '\0' && !enr_valid_identifier(e->cert_identity))
        return fail(resp, CMN_EINVAL, "cert_identity must be printable ASCII without spaces");
    return 0;
}

/* The AE-ID stem of an application credential: given, or the App-ID without its
 * leading 'N' or 'R' (TS-0001 App-ID: "N..." non-registered, "R..." registered). */
static int app_stem(const Tep__Enrolee *e, char *ret, size_t len, Tep__AdminResponse *resp)
{
    const char *src = e->enrolee_id[0] ? e->enrolee_id : e->app_id;

    if (!e->enrolee_id[0] && (src[0] == 'N' || src[0] == 'R'))
        src++;
    if (e->app_id[0] == '\0')
        return fail(resp, CMN_EINVAL, "an application credential needs an app_id");
    if (src[0] == '\0' || strchr(src, '/') != NULL || strlen(src) + 10 >= len)
        return fail(resp, CMN_EINVAL, "bad AE-ID stem");
    snprintf(ret, len, "%s", src);
    return 0;
}

static int op_add(cmn_store *s, const Tep__AdminRequest *req, int64_t now, Tep__AdminResponse *resp,
                  bool application)
{
    Tep__Enrolee e = TEP__ENROLEE__INIT;
    uint8_t kpm[ENR_KPM_LEN];
    char default_id[ENR_ID_MAX];
    int rc = check_new_enrolee(req->enrolee, now, resp);

    if (rc != 0)
        return rc;
    e = *req->enrolee;
    e.application = application;
    if (application) {
        if ((rc = app_stem(&e, default_id, sizeof(default_id), resp)) != 0)
            return rc;
        e.enrolee_id = default_id;
    } else if (e.enrolee_id[0] == '\0') {
        snprintf(default_id, sizeof(default_id), "C%s", e.kpm_id);
        e.enrolee_id = default_id;
    }
    e.state = TEP__ENROLEE__STATE__ACTIVE;
    e.created = now;
    if (e.gba_impi[0] != '\0' && (application || e.cert_identity[0] != '\0'))
        return fail(resp, CMN_EINVAL,
                    "a GBA enrolee has neither an App-ID credential nor a "
                    "manufacturer certificate");
    if (e.gba_impi[0] != '\0') { /* GBA (8.3.2.3): enrols with its B-TID, no Kpm */
        rc = enr_db_enrolee_add(s, &e);
        if (rc != 0)
            return fail(resp, rc,
                        rc == CMN_EEXIST ? "an enrolee with this kpm_id exists"
                                         : "store write failed");
        return add_enrolee(resp, &e, false) != 0 ? fail(resp, CMN_ENOMEM, "out of memory") : 0;
    }
    if (application && e.cert_identity[0] != '\0')
        return fail(resp, CMN_EINVAL, "an application credential is a Kpm, not a certificate");
    /* A certificate enrolee (TS-0003 8.3.2.2) authenticates with its manufacturer
     * certificate: it gets no Kpm. */
    rc = e.cert_identity[0] != '\0' ? 0 : cmn_random(kpm, sizeof(kpm));
    if (rc != 0) {
        fail(resp, rc, "no random Kpm");
        goto out;
    }
    if (e.cert_identity[0] == '\0') {
        e.kpm.data = kpm;
        e.kpm.len = sizeof(kpm);
    }
    rc = enr_db_enrolee_add(s, &e);
    if (rc == CMN_EEXIST)
        fail(resp, rc,
             e.cert_identity[0] ? "an enrolee with this kpm_id or certificate "
                                  "identity exists"
                                : "an enrolee with this kpm_id exists");
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

static int cert_one(const Tep__IssuedCert *c, void *arg)
{
    Tep__IssuedCert copy = *c;
    Tep__AdminResponse *resp = arg;

    copy.der.data = NULL;
    copy.der.len = 0;
    return append_copy((void ***)&resp->certs, &resp->n_certs, &copy.base);
}

static int op_cert_list(cmn_store *s, Tep__AdminResponse *resp)
{
    int rc = enr_ca_foreach(s, cert_one, resp);

    return rc ? fail(resp, rc, "listing failed") : 0;
}

/* A serial as tepctl or openssl print it (hex, either case) into ret, lower-case as the
 * store keys it. */
static bool norm_serial(const char *in, char ret[CMN_CA_SERIAL_MAX])
{
    size_t n = strlen(in);

    if (n == 0 || n >= CMN_CA_SERIAL_MAX)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && !isxdigit((unsigned char)in[i]))
            return false;
        ret[i] = (char)tolower((unsigned char)in[i]);
    }
    return true;
}

/* TS-0003 10.7: one certificate revoked on its own. Committed with its CERT_REVOKED
 * event, which the caller publishes; revoking it again answers 0 and says so. */
static int op_cert_revoke(cmn_store *s, const Tep__AdminRequest *req, int64_t now,
                          Tep__AdminResponse *resp, enr_events *ret_events)
{
    char serial[CMN_CA_SERIAL_MAX], msg[96];
    int64_t when = 0;
    int rc;

    if (!norm_serial(req->cert_serial, serial))
        return fail(resp, CMN_EINVAL, "cert_serial must be 1..40 hex digits");
    rc = enr_db_cert_revoke(s, serial, now, ret_events, &when);
    if (rc == CMN_ENOTFOUND)
        return fail(resp, rc, "no certificate with this serial");
    if (rc != 0)
        return fail(resp, rc, "store write failed");
    snprintf(msg, sizeof(msg), "%s %s at %" PRId64, serial,
             ret_events->n > 0 ? "revoked" : "already revoked", when);
    return set_message(resp, msg);
}

typedef struct {
    Tep__AdminResponse *resp;
    uint32_t max;
} event_page;

static int event_one(const Tep__Event *e, void *arg)
{
    event_page *p = arg;

    if (p->resp->n_events >= p->max)
        return 1; /* page full */
    return append_copy((void ***)&p->resp->events, &p->resp->n_events, &e->base);
}

static int op_event_list(cmn_store *s, const Tep__AdminRequest *req, Tep__AdminResponse *resp)
{
    event_page p = {resp, req->max ? req->max : 100};
    int rc = enr_db_event_foreach(s, req->after_seq, event_one, &p);

    return rc < 0 ? fail(resp, rc, "listing failed") : 0;
}

static int instance_one(const Tep__Enrolment *e, void *arg)
{
    Tep__AdminResponse *resp = arg;
    Tep__Enrolment copy = *e;

    copy.ke.data = NULL; /* never leaves the enroller */
    copy.ke.len = 0;
    return append_copy((void ***)&resp->instances, &resp->n_instances, &copy.base);
}

static int app_list_one(const Tep__Enrolee *e, void *arg)
{
    return e->application ? add_enrolee(arg, e, false) : 0;
}

/* The application credentials, then (outside that read) each one's instances. */
static int op_app_list(cmn_store *s, Tep__AdminResponse *resp)
{
    int rc = enr_db_enrolee_foreach(s, app_list_one, resp);

    for (size_t i = 0; rc == 0 && i < resp->n_enrolees; i++)
        rc = enr_db_enrolments_of(s, resp->enrolees[i]->kpm_id, instance_one, resp);
    return rc ? fail(resp, rc, "listing failed") : 0;
}

static int op_app_revoke(cmn_store *s, const Tep__AdminRequest *req, Tep__AdminResponse *resp,
                         enr_events *ret_events)
{
    int rc;

    if (!enr_valid_identifier(req->app_id))
        return fail(resp, CMN_EINVAL, "app_id must be printable ASCII without spaces");
    rc = enr_db_app_revoke(s, req->app_id, ret_events);
    if (rc == CMN_ENOTFOUND)
        return fail(resp, rc, "no active application credential for this app_id");
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
        rc = op_add(s, req, now, resp, false);
        break;
    case TEP__ADMIN_REQUEST__OP__ENROLEE_LIST:
        rc = op_list(s, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__ENROLEE_REVOKE:
        rc = op_revoke(s, req, resp, ret_events);
        break;
    case TEP__ADMIN_REQUEST__OP__CERT_LIST:
        rc = op_cert_list(s, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__CERT_REVOKE:
        rc = op_cert_revoke(s, req, now, resp, ret_events);
        break;
    case TEP__ADMIN_REQUEST__OP__EVENT_LIST:
        rc = op_event_list(s, req, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__APP_ADD:
        rc = op_add(s, req, now, resp, true);
        break;
    case TEP__ADMIN_REQUEST__OP__APP_LIST:
        rc = op_app_list(s, resp);
        break;
    case TEP__ADMIN_REQUEST__OP__APP_REVOKE:
        rc = op_app_revoke(s, req, resp, ret_events);
        break;
    default:
        rc = fail(resp, CMN_EINVAL, "unknown op");
        break;
    }
    resp->err = rc;
    return rc;
}
