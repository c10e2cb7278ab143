/* libtepae protocol core: no sockets, no files, no clock. See tae_core.h. */
#include "tae_core.h"

#include <ini.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

/* Identifiers end up in INI files and CoAP options: printable ASCII, no blanks. */
static bool id_chars_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static int copy_id(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap)
        return CMN_ERANGE;
    if (!id_chars_ok(src))
        return CMN_EINVAL;
    memcpy(dst, src, n + 1);
    return 0;
}

static bool is_coap_uri(const char *s)
{
    return strncmp(s, "coap://", 7) == 0 || strncmp(s, "coaps://", 8) == 0;
}

/* ---- provisioning file ------------------------------------------------------------ */

enum {
    PROV_KPM_ID = 1,
    PROV_KPM = 2,
    PROV_MEF_URI = 4,
    PROV_MEF_FQDN = 8,
    PROV_ALL = 15,
    PROV_CREDENTIAL = 16,
    PROV_GBA_IMPI = 32,
    PROV_GBA_K = 64,
    PROV_GBA_OPC = 128,
    PROV_BSF_URI = 256,
    PROV_GBA_ALL = PROV_MEF_URI | PROV_MEF_FQDN | 32 | 64 | 128 | 256
};

typedef struct {
    tae_prov *prov;
    unsigned seen;
    int err;
} prov_parse;

static int prov_key(prov_parse *pp, const char *name, const char *value)
{
    tae_prov *p = pp->prov;

    if (strcmp(name, "kpm_id") == 0) {
        pp->seen |= PROV_KPM_ID;
        return copy_id(p->kpm_id, sizeof(p->kpm_id), value);
    }
    if (strcmp(name, "kpm") == 0) {
        pp->seen |= PROV_KPM;
        if (strlen(value) != 2 * CMN_KEY_LEN)
            return CMN_EINVAL;
        return cmn_hex_decode(value, p->kpm, CMN_KEY_LEN);
    }
    if (strcmp(name, "mef_uri") == 0) {
        pp->seen |= PROV_MEF_URI;
        if (strncmp(value, "coaps://", 8) != 0)
            return CMN_EINVAL;
        return copy_id(p->mef_uri, sizeof(p->mef_uri), value);
    }
    if (strcmp(name, "credential") == 0) {
        pp->seen |= PROV_CREDENTIAL;
        p->cert_only = strcmp(value, "certificate") == 0;
        return p->cert_only || strcmp(value, "kpm") == 0 ? 0 : CMN_EINVAL;
    }
    if (strcmp(name, "mef_fqdn") == 0) {
        pp->seen |= PROV_MEF_FQDN;
        return copy_id(p->mef_fqdn, sizeof(p->mef_fqdn), value);
    }
    return CMN_EINVAL;
}

static int gba_key(prov_parse *pp, const char *name, const char *value)
{
    tae_prov *p = pp->prov;

    p->gba = true;
    if (strcmp(name, "impi") == 0) {
        pp->seen |= PROV_GBA_IMPI;
        return copy_id(p->gba_impi, sizeof(p->gba_impi), value);
    }
    if (strcmp(name, "k") == 0 || strcmp(name, "opc") == 0) {
        pp->seen |= name[0] == 'k' ? PROV_GBA_K : PROV_GBA_OPC;
        if (strlen(value) != 32)
            return CMN_EINVAL;
        return cmn_hex_decode(value, name[0] == 'k' ? p->gba_k : p->gba_opc, 16);
    }
    if (strcmp(name, "bsf_uri") == 0) {
        pp->seen |= PROV_BSF_URI;
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
            return CMN_EINVAL;
        return copy_id(p->bsf_uri, sizeof(p->bsf_uri), value);
    }
    return CMN_EINVAL;
}

static int prov_handler(void *user, const char *section, const char *name, const char *value)
{
    prov_parse *pp = user;
    int rc = CMN_EINVAL;

    if (strcmp(section, "device") == 0)
        rc = prov_key(pp, name, value);
    else if (strcmp(section, "gba") == 0)
        rc = gba_key(pp, name, value);
    if (rc < 0 && pp->err == 0)
        pp->err = rc;
    return rc == 0;
}

int tae_core_parse_provisioning(const char *text, tae_prov *ret_prov)
{
    prov_parse pp = {.prov = ret_prov};

    if (text == NULL || ret_prov == NULL)
        return CMN_EINVAL;
    memset(ret_prov, 0, sizeof(*ret_prov));
    if (ini_parse_string(text, prov_handler, &pp) != 0 || pp.err != 0 ||
        ret_prov->mef_fqdn[0] == '\0' ||
        (ret_prov->gba ? (pp.seen & PROV_GBA_ALL) != PROV_GBA_ALL
                       : (pp.seen & ~PROV_CREDENTIAL) !=
                                 (ret_prov->cert_only ? PROV_ALL & ~PROV_KPM : PROV_ALL) ||
                             ret_prov->kpm_id[0] == '\0')) {
        cmn_wipe(ret_prov, sizeof(*ret_prov));
        return CMN_ECONFIG;
    }
    return 0;
}

/* ---- state file ------------------------------------------------------------------- */

enum {
    ST_KE_ID = 1,
    ST_KE = 2,
    ST_EID = 4,
    ST_CSI = 8,
    ST_POA = 16,
    ST_EXP = 32,
    ST_REQUIRED = 63
};

typedef struct {
    tae_enrolment *enr;
    unsigned seen;
    int err;
} state_parse;

static int parse_expiry(const char *value, int64_t *ret)
{
    char *end = NULL;
    long long v;

    if (value[0] < '0' || value[0] > '9')
        return CMN_EINVAL;
    v = strtoll(value, &end, 10);
    if (*end != '\0' || v <= 0 || v == LLONG_MAX)
        return CMN_ERANGE;
    *ret = v;
    return 0;
}

/* The [enrolment] keys: where each goes and which "seen" bit it sets (0: optional). */
typedef struct {
    const char *name;
    size_t offset;
    size_t cap;
    unsigned bit;
} state_field;

#define STATE_FIELD(n, bit)                                                                        \
    {                                                                                              \
#n, offsetof(tae_enrolment, n), sizeof(((tae_enrolment *)0)->n), bit                       \
    }
static const state_field state_fields[] = {
    STATE_FIELD(ke_id, ST_KE_ID),
    STATE_FIELD(enrolee_id, ST_EID),
    STATE_FIELD(app_id, 0),
    STATE_FIELD(registrar_cse_id, ST_CSI),
    STATE_FIELD(registrar_poa, ST_POA),
    STATE_FIELD(maf_id, 0),
    STATE_FIELD(maf_poa, 0),
};

static int state_enrolment_key(state_parse *sp, const char *name, const char *value)
{
    tae_enrolment *e = sp->enr;

    for (size_t i = 0; i < sizeof(state_fields) / sizeof(state_fields[0]); i++) {
        const state_field *f = &state_fields[i];

        if (strcmp(name, f->name) == 0) {
            sp->seen |= f->bit;
            return copy_id((char *)e + f->offset, f->cap, value);
        }
    }
    if (strcmp(name, "ke") == 0) {
        sp->seen |= ST_KE;
        if (strlen(value) != 2 * CMN_KEY_LEN)
            return CMN_EINVAL;
        return cmn_hex_decode(value, e->ke, CMN_KEY_LEN);
    }
    if (strcmp(name, "expires") == 0) {
        sp->seen |= ST_EXP;
        return parse_expiry(value, &e->expires);
    }
    if (strcmp(name, "enrolled") == 0) /* optional: older state files lack it; 0 = unknown */
        return strcmp(value, "0") == 0 ? 0 : parse_expiry(value, &e->enrolled);
    return CMN_EINVAL;
}

static int state_handler(void *user, const char *section, const char *name, const char *value)
{
    state_parse *sp = user;
    int rc = CMN_EINVAL;

    if (strcmp(section, "enrolment") == 0)
        rc = state_enrolment_key(sp, name, value);
    else if (strcmp(section, "registration") == 0 && strcmp(name, "rn") == 0)
        rc = copy_id(sp->enr->ae_rn, sizeof(sp->enr->ae_rn), value);
    if (rc < 0 && sp->err == 0)
        sp->err = rc;
    return rc == 0;
}

int tae_core_parse_state(const char *text, const char *mef_fqdn, tae_enrolment *ret_enr)
{
    state_parse sp = {.enr = ret_enr};
    int rc = CMN_ECORRUPT;

    if (text == NULL || mef_fqdn == NULL || ret_enr == NULL)
        return CMN_EINVAL;
    memset(ret_enr, 0, sizeof(*ret_enr));
    if (ini_parse_string(text, state_handler, &sp) != 0 || sp.err != 0 || sp.seen != ST_REQUIRED ||
        ret_enr->ke_id[0] == '\0' || ret_enr->enrolee_id[0] == '\0' ||
        ret_enr->registrar_cse_id[0] != '/' || !is_coap_uri(ret_enr->registrar_poa))
        goto out;
    rc = tae_core_derive_kpsa(ret_enr, mef_fqdn);
out:
    if (rc < 0)
        cmn_wipe(ret_enr, sizeof(*ret_enr));
    return rc;
}

int tae_core_format_state(const tae_enrolment *enr, char **ret_text, size_t *ret_len)
{
    static const char fmt[] =
        "# tep device enrolment state (written by libtepae; secret)\n"
        "[enrolment]\n"
        "ke_id = %s\nke = %s\nenrolee_id = %s\napp_id = %s\n"
        "registrar_cse_id = %s\nregistrar_poa = %s\nmaf_id = %s\nmaf_poa = %s\n"
        "expires = %" PRId64 "\nenrolled = %" PRId64 "\n%s%s%s";
    char ke_hex[2 * CMN_KEY_LEN + 1];
    const char *rn_head = enr->ae_rn[0] ? "[registration]\nrn = " : "";
    char *text = NULL;
    int n, rc = CMN_ENOMEM;

    cmn_hex_encode(enr->ke, CMN_KEY_LEN, ke_hex);
    n = snprintf(NULL, 0, fmt, enr->ke_id, ke_hex, enr->enrolee_id, enr->app_id,
                 enr->registrar_cse_id, enr->registrar_poa, enr->maf_id, enr->maf_poa, enr->expires,
                 enr->enrolled, rn_head, enr->ae_rn, enr->ae_rn[0] ? "\n" : "");
    if (n < 0 || (text = malloc((size_t)n + 1)) == NULL)
        goto out;
    snprintf(text, (size_t)n + 1, fmt, enr->ke_id, ke_hex, enr->enrolee_id, enr->app_id,
             enr->registrar_cse_id, enr->registrar_poa, enr->maf_id, enr->maf_poa, enr->expires,
             enr->enrolled, rn_head, enr->ae_rn, enr->ae_rn[0] ? "\n" : "");
    *ret_text = text;
    *ret_len = (size_t)n;
    rc = 0;
out:
    cmn_wipe(ke_hex, sizeof(ke_hex));
    return rc;
}

/* ---- enrolment -------------------------------------------------------------------- */

int tae_core_enrol_request(bool cei, bool mei, bool rmi, char **ret_body)
{
    json_t *o = json_pack("{s:b,s:b,s:b}", "cei", cei, "mei", mei, "rmi", rmi);
    char *s = NULL;

    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL)
        return CMN_ENOMEM;
    *ret_body = s;
    return 0;
}

int tae_core_ke_from_exporter(const uint8_t exporter[CMN_EXPORTER_LEN], const char *mef_fqdn,
                              uint8_t ret_ke[CMN_KEY_LEN], char ret_ke_id[CMN_KEY_ID_MAX])
{
    uint8_t rel_id[CMN_REL_ID_LEN];
    int rc;

    cmn_kdf_split_exporter(exporter, rel_id, ret_ke);
    rc = cmn_kdf_key_id(rel_id, mef_fqdn, ret_ke_id, CMN_KEY_ID_MAX);
    cmn_wipe(rel_id, sizeof(rel_id));
    if (rc < 0)
        cmn_wipe(ret_ke, CMN_KEY_LEN);
    return rc;
}

/* A string member: required (must be non-empty) or optional (absent -> ""). */
static int json_id(json_t *obj, const char *key, bool required, char *dst, size_t cap)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL)
        return required ? CMN_EPROTO : (dst[0] = '\0', 0);
    if (!json_is_string(v) || (required && json_string_length(v) == 0) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return CMN_EPROTO;
    return copy_id(dst, cap, json_string_value(v)) < 0 ? CMN_EPROTO : 0;
}

static int parse_targets(json_t *tgt, tae_enrolment *e)
{
    if (!json_is_object(tgt))
        return CMN_EPROTO;
    if (json_id(tgt, "csi", true, e->registrar_cse_id, sizeof(e->registrar_cse_id)) < 0 ||
        e->registrar_cse_id[0] != '/' || e->registrar_cse_id[1] == '\0')
        return CMN_EPROTO;
    if (json_id(tgt, "poa", true, e->registrar_poa, sizeof(e->registrar_poa)) < 0 ||
        !is_coap_uri(e->registrar_poa))
        return CMN_EPROTO;
    if (json_id(tgt, "mpoa", false, e->maf_poa, sizeof(e->maf_poa)) < 0 ||
        (e->maf_poa[0] != '\0' && !is_coap_uri(e->maf_poa)))
        return CMN_EPROTO;
    return json_id(tgt, "mafi", false, e->maf_id, sizeof(e->maf_id));
}

int tae_core_parse_enrol_answer(const uint8_t *body, size_t len, const char *expected_ke_id,
                                tae_enrolment *e)
{
    char ke_id[CMN_KEY_ID_MAX];
    json_t *root = NULL, *exp;
    int rc = CMN_EPROTO;

    if (body == NULL || expected_ke_id == NULL || e == NULL)
        return CMN_EINVAL;
    root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root))
        goto out;
    if (json_id(root, "keid", true, ke_id, sizeof(ke_id)) < 0 || strcmp(ke_id, expected_ke_id) != 0)
        goto out;
    if (json_id(root, "eid", true, e->enrolee_id, sizeof(e->enrolee_id)) < 0 ||
        json_id(root, "api", false, e->app_id, sizeof(e->app_id)) < 0)
        goto out;
    exp = json_object_get(root, "exp");
    if (!json_is_integer(exp) || json_integer_value(exp) <= 0)
        goto out;
    e->expires = json_integer_value(exp);
    if ((rc = parse_targets(json_object_get(root, "tgt"), e)) < 0)
        goto out;
    memcpy(e->ke_id, ke_id, sizeof(ke_id));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int tae_core_derive_kpsa(tae_enrolment *enr, const char *mef_fqdn)
{
    int rc = cmn_kdf_kpsa(enr->ke, enr->registrar_cse_id, enr->kpsa);

    if (rc == 0)
        rc = cmn_kdf_kpsa_id(enr->kpsa, mef_fqdn, enr->kpsa_id, sizeof(enr->kpsa_id));
    if (rc < 0)
        cmn_wipe(enr->kpsa, sizeof(enr->kpsa));
    return rc;
}

int tae_core_enrolment_complete(const uint8_t exporter[CMN_EXPORTER_LEN], const char *mef_fqdn,
                                const uint8_t *answer, size_t alen, tae_enrolment *ret_enr)
{
    char ke_id[CMN_KEY_ID_MAX];
    int rc;

    memset(ret_enr, 0, sizeof(*ret_enr));
    rc = tae_core_ke_from_exporter(exporter, mef_fqdn, ret_enr->ke, ke_id);
    if (rc == 0)
        rc = tae_core_parse_enrol_answer(answer, alen, ke_id, ret_enr);
    if (rc == 0)
        rc = tae_core_derive_kpsa(ret_enr, mef_fqdn);
    if (rc < 0)
        cmn_wipe(ret_enr, sizeof(*ret_enr));
    return rc;
}

int tae_core_enrolment_complete_gba(const uint8_t ks_naf[CMN_KEY_LEN], const char *btid,
                                    const char *mef_fqdn, const uint8_t *answer, size_t alen,
                                    tae_enrolment *ret_enr)
{
    int rc;

    memset(ret_enr, 0, sizeof(*ret_enr));
    memcpy(ret_enr->ke, ks_naf, CMN_KEY_LEN);
    rc = tae_core_parse_enrol_answer(answer, alen, btid, ret_enr);
    if (rc == 0)
        rc = tae_core_derive_kpsa(ret_enr, mef_fqdn);
    if (rc < 0)
        cmn_wipe(ret_enr, sizeof(*ret_enr));
    return rc;
}

/* ---- oneM2M helpers --------------------------------------------------------------- */

int tae_core_cse_name(const char *registrar_cse_id, char *ret, size_t retlen)
{
    const char *name = registrar_cse_id;

    if (name == NULL || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL)
        return CMN_EINVAL;
    if (strlen(name + 1) >= retlen)
        return CMN_ERANGE;
    strcpy(ret, name + 1);
    return 0;
}

int tae_core_ae_body(const char *app_id, const char *rn, char **ret_body)
{
    json_t *o;
    char *s = NULL;

    if (app_id == NULL || rn == NULL || ret_body == NULL)
        return CMN_EINVAL;
    o = json_pack("{s:{s:s,s:s,s:b,s:[s]}}", "m2m:ae", "rn", rn, "api", app_id, "rr", 0, "srv",
                  "3");
    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL)
        return CMN_ENOMEM;
    *ret_body = s;
    return 0;
}

int tae_core_uri_host(const char *uri, char *ret, size_t retlen)
{
    const char *p, *end;

    if (uri == NULL || !is_coap_uri(uri))
        return CMN_EINVAL;
    p = strstr(uri, "://") + 3;
    if (*p == '[') {
        p++;
        end = strchr(p, ']');
        if (end == NULL)
            return CMN_EINVAL;
    } else {
        end = p + strcspn(p, ":/");
    }
    if (end == p)
        return CMN_EINVAL;
    if ((size_t)(end - p) >= retlen)
        return CMN_ERANGE;
    memcpy(ret, p, (size_t)(end - p));
    ret[end - p] = '\0';
    return 0;
}
