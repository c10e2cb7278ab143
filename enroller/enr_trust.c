/* Manufacturer trust anchors and the MEF's certificate files (see enr_trust.h). */
#include "enr_trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define FILE_MAX (64 * 1024) /* an anchor file: a few certificates */

typedef struct {
    uint8_t der[CMN_CA_CERT_DER_MAX];
    size_t len;
    char pem[CMN_CA_PEM_MAX];
} anchor;

struct enr_trust {
    size_t n;
    anchor a[ENR_TRUST_MAX];
};

static int read_file(const char *path, char *buf, size_t cap, size_t *ret_len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return CMN_ENOTFOUND;
    n = fread(buf, 1, cap - 1, f);
    if (!feof(f) && n == cap - 1)
        n = cap; /* too large */
    fclose(f);
    if (n >= cap)
        return CMN_ERANGE;
    buf[n] = '\0';
    *ret_len = n;
    return 0;
}

/* One CA certificate from the PEM block at pem: decoded, a CA, valid at now. */
static int add_anchor(enr_trust *t, const char *pem, size_t len, int64_t now, const char **why)
{
    anchor *a = &t->a[t->n];
    cmn_cert_info info;

    *why = "too many anchors (at most 32)";
    if (t->n == ENR_TRUST_MAX)
        return CMN_ERANGE;
    a->len = sizeof(a->der);
    *why = "not a PEM certificate";
    if (cmn_ca_from_pem(pem, len, "CERTIFICATE", a->der, &a->len) != 0 ||
        cmn_ca_cert_info(a->der, a->len, &info) != 0)
        return CMN_EINVAL;
    *why = "is not a CA certificate";
    if (!info.is_ca)
        return CMN_EINVAL;
    *why = "is not valid now (expired or not yet valid)";
    if (info.not_after <= now || info.not_before > now)
        return CMN_EINVAL;
    *why = "does not re-encode";
    if (cmn_ca_to_pem(a->der, a->len, "CERTIFICATE", a->pem, sizeof(a->pem)) != 0)
        return CMN_EINVAL;
    t->n++;
    return 0;
}

/* Every CERTIFICATE block of the file at path. */
static int load_file(enr_trust *t, const char *path, int64_t now, char *err, size_t errlen)
{
    char *buf = malloc(FILE_MAX);
    const char *p, *why = "not readable";
    size_t len = 0, k = 0;
    int rc = buf ? read_file(path, buf, FILE_MAX, &len) : CMN_ENOMEM;

    if (rc == CMN_ERANGE)
        why = "larger than 64 KiB";
    for (p = rc == 0 ? strstr(buf, PEM_BEGIN) : NULL; p && rc == 0; p = strstr(p + 1, PEM_BEGIN)) {
        k++;
        rc = add_anchor(t, p, len - (size_t)(p - buf), now, &why);
    }
    if (rc == 0 && k == 0) {
        why = "holds no PEM certificate";
        rc = CMN_EINVAL;
    }
    if (rc != 0 && k > 0)
        snprintf(err, errlen, "%s: certificate %zu %s", path, k, why);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return rc;
}

int enr_trust_load(const char *list, int64_t now, enr_trust **ret, char *err, size_t errlen)
{
    enr_trust *t = calloc(1, sizeof(*t));
    char *copy = strdup(list ? list : ""), *save = NULL;
    int rc = t && copy ? 0 : CMN_ENOMEM;

    *ret = NULL;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    for (char *f = rc == 0 ? strtok_r(copy, " \t,", &save) : NULL; f && rc == 0;
         f = strtok_r(NULL, " \t,", &save))
        rc = load_file(t, f, now, err, errlen) != 0 ? CMN_ECONFIG : 0;
    free(copy);
    if (rc != 0) {
        free(t);
        return rc == CMN_ENOMEM ? rc : CMN_ECONFIG;
    }
    *ret = t;
    return 0;
}

void enr_trust_free(enr_trust *t)
{
    free(t);
}

size_t enr_trust_count(const enr_trust *t)
{
    return t ? t->n : 0;
}

int enr_trust_valid_list(const char *v, char *err, size_t errlen)
{
    enr_trust *t = NULL;
    int rc = enr_trust_load(v, (int64_t)time(NULL), &t, err, errlen);

    enr_trust_free(t);
    return rc == 0 ? 0 : CMN_EINVAL;
}

int enr_trust_check(const enr_trust *t, const uint8_t *der, size_t len)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (cmn_ca_verify(t->a[i].der, t->a[i].len, der, len) == 0)
            return 0;
    return CMN_EDENIED;
}

/* The tep CA's PEM, then each anchor's. Owned by the caller (free()). */
static char *bundle(const enr_trust *t, const enr_ca *ca)
{
    size_t cap = strlen(enr_ca_pem(ca)) + 1;
    char *b;

    for (size_t i = 0; i < enr_trust_count(t); i++)
        cap += strlen(t->a[i].pem);
    if ((b = malloc(cap)) == NULL)
        return NULL;
    strcpy(b, enr_ca_pem(ca));
    for (size_t i = 0; i < enr_trust_count(t); i++)
        strcat(b, t->a[i].pem);
    return b;
}

static int set_path(char *buf, const char *dir, const char *name)
{
    return (size_t)snprintf(buf, ENR_TRUST_PATH_MAX, "%s/%s", dir, name) >= ENR_TRUST_PATH_MAX
               ? CMN_ERANGE
               : 0;
}

int enr_trust_write(const enr_trust *t, enr_ca *ca, const char *data_dir, const char *mef_fqdn,
                    int64_t now, enr_trust_files *ret)
{
    char crt[CMN_CA_PEM_MAX], key[CMN_CA_PEM_MAX], *anchors = NULL;
    int rc = set_path(ret->cert_file, data_dir, "mef.crt.pem");

    if (rc == 0)
        rc = set_path(ret->key_file, data_dir, "mef.key.pem");
    if (rc == 0)
        rc = set_path(ret->ca_file, data_dir, "mef-trust.pem");
    if (rc == 0)
        rc = enr_ca_issue_server(ca, mef_fqdn, now, crt, key);
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->key_file, key, strlen(key), 0600, 0);
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->cert_file, crt, strlen(crt), 0644, 0);
    if (rc == 0 && (anchors = bundle(t, ca)) == NULL)
        rc = CMN_ENOMEM;
    if (rc == 0)
        rc = cmn_file_write_atomic(ret->ca_file, anchors, strlen(anchors), 0644, 0);
    free(anchors);
    cmn_wipe(key, sizeof(key));
    return rc;
}
