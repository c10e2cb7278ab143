/* libtepae: the device object, its provisioning and state files. The parsing is in
 * tae_core.c; this file only reads and writes the files. */
#include "tae_device.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_file.h"

#define TAE_FILE_MAX (64 * 1024) /* provisioning and state files are a few hundred bytes */

/* Reads a whole (small) file into a NUL-terminated buffer of *ret_cap bytes; the
 * caller releases it with cmn_free_secret(buf, cap) since it may hold key material. */
static int read_small_file(const char *path, char **ret_buf, size_t *ret_cap)
{
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, rc = CMN_EIO;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CMN_ENOTFOUND : CMN_EIO;
    if ((buf = calloc(1, TAE_FILE_MAX + 1)) == NULL) {
        rc = CMN_ENOMEM;
        goto out;
    }
    while ((n = read(fd, buf + len, TAE_FILE_MAX - len)) > 0)
        len += (size_t)n;
    if (n < 0)
        goto out;
    if (len == TAE_FILE_MAX) {
        rc = CMN_ERANGE;
        goto out;
    }
    *ret_buf = buf;
    *ret_cap = TAE_FILE_MAX + 1;
    buf = NULL;
    rc = 0;
out:
    cmn_free_secret(buf, TAE_FILE_MAX + 1);
    close(fd);
    return rc;
}

static void update_paths(tep_device *dev)
{
    const char *rn = dev->enr.ae_rn[0] ? dev->enr.ae_rn : dev->enr.enrolee_id;

    dev->cse_name[0] = '\0';
    dev->ae_path[0] = '\0';
    if (!dev->enrolled ||
        tae_core_cse_name(dev->enr.registrar_cse_id, dev->cse_name, sizeof(dev->cse_name)) < 0)
        return;
    snprintf(dev->ae_path, sizeof(dev->ae_path), "%s/%s", dev->cse_name, rn);
}

static int load_state(tep_device *dev)
{
    char *text = NULL;
    size_t cap = 0;
    int rc = read_small_file(dev->state_path, &text, &cap);

    if (rc == CMN_ENOTFOUND)
        return 0; /* not enrolled yet */
    if (rc < 0)
        return rc;
    rc = tae_core_parse_state(text, dev->prov.mef_fqdn, &dev->enr);
    if (rc == 0)
        dev->enrolled = true;
    else if (rc == CMN_EINVAL)
        rc = CMN_ECORRUPT;
    cmn_free_secret(text, cap);
    update_paths(dev);
    return rc;
}

int tep_device_load(const char *provisioning_path, const char *state_path, tep_device **ret_dev)
{
    tep_device *dev = NULL;
    char *text = NULL;
    size_t cap = 0;
    int rc;

    if (provisioning_path == NULL || state_path == NULL || ret_dev == NULL)
        return CMN_EINVAL;
    if ((dev = calloc(1, sizeof(*dev))) == NULL || (dev->state_path = strdup(state_path)) == NULL) {
        rc = CMN_ENOMEM;
        goto out;
    }
    dev->timeout_ms = TEP_DEFAULT_TIMEOUT_MS;
    if ((rc = read_small_file(provisioning_path, &text, &cap)) < 0)
        goto out;
    if ((rc = tae_core_parse_provisioning(text, &dev->prov)) < 0)
        goto out;
    if ((rc = load_state(dev)) < 0)
        goto out;
    *ret_dev = dev;
    dev = NULL;
out:
    cmn_free_secret(text, cap);
    tep_device_free(dev);
    return rc;
}

void tep_device_free(tep_device *dev)
{
    if (dev == NULL)
        return;
    free(dev->state_path);
    cmn_free_secret(dev, sizeof(*dev));
}

void tep_device_set_timeout(tep_device *dev, int timeout_ms)
{
    if (dev != NULL && timeout_ms > 0)
        dev->timeout_ms = timeout_ms;
}

static int save_state(const tae_enrolment *enr, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc = tae_core_format_state(enr, &text, &len);

    if (rc == 0)
        rc = cmn_file_write_atomic(path, text, len, 0600, 0);
    cmn_free_secret(text, len + 1);
    return rc;
}

int tae_device_install(tep_device *dev, const tae_enrolment *enr)
{
    int rc = save_state(enr, dev->state_path);

    if (rc < 0)
        return rc;
    memcpy(&dev->enr, enr, sizeof(*enr));
    dev->enrolled = true;
    update_paths(dev);
    return 0;
}

int tae_device_set_ae_rn(tep_device *dev, const char *rn)
{
    tae_enrolment *next;
    int rc;

    if (!dev->enrolled)
        return CMN_ESTATE;
    if (strlen(rn) >= sizeof(next->ae_rn))
        return CMN_ERANGE;
    if ((next = malloc(sizeof(*next))) == NULL)
        return CMN_ENOMEM;
    memcpy(next, &dev->enr, sizeof(*next));
    strcpy(next->ae_rn, rn);
    rc = tae_device_install(dev, next);
    cmn_free_secret(next, sizeof(*next));
    return rc;
}

/* ---- accessors -------------------------------------------------------------------- */

#define ENROLLED_STR(dev, field) ((dev) && (dev)->enrolled ? (dev)->enr.field : NULL)

int tep_device_is_enrolled(const tep_device *dev)
{
    return dev != NULL && dev->enrolled;
}
int tep_device_is_registered(const tep_device *dev)
{
    return dev != NULL && dev->enrolled && dev->enr.ae_rn[0] != '\0';
}
const char *tep_device_kpm_id(const tep_device *dev)
{
    return dev != NULL ? dev->prov.kpm_id : NULL;
}
const char *tep_device_mef_fqdn(const tep_device *dev)
{
    return dev != NULL ? dev->prov.mef_fqdn : NULL;
}
const char *tep_device_ke_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, ke_id);
}
const char *tep_device_enrolee_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, enrolee_id);
}
const char *tep_device_app_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, app_id);
}
const char *tep_device_kpsa_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, kpsa_id);
}
const char *tep_device_maf_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, maf_id);
}
const char *tep_device_maf_poa(const tep_device *dev)
{
    return ENROLLED_STR(dev, maf_poa);
}

_Static_assert(TEP_PSK_LEN == CMN_KEY_LEN, "a tep PSK is a 256-bit key");

int tep_device_psk(const tep_device *dev, char *identity, size_t id_len, uint8_t key[TEP_PSK_LEN])
{
    if (dev == NULL || identity == NULL || key == NULL)
        return CMN_EINVAL;
    if (!dev->enrolled)
        return CMN_ESTATE;
    if (dev->enr.expires <= (int64_t)time(NULL))
        return CMN_EEXPIRED;
    if (snprintf(identity, id_len, "%s", dev->enr.kpsa_id) >= (int)id_len)
        return CMN_ERANGE;
    memcpy(key, dev->enr.kpsa, TEP_PSK_LEN);
    return 0;
}

const char *tep_device_registrar_cse_id(const tep_device *dev)
{
    return ENROLLED_STR(dev, registrar_cse_id);
}

const char *tep_device_registrar_poa(const tep_device *dev)
{
    return ENROLLED_STR(dev, registrar_poa);
}

int64_t tep_device_expires(const tep_device *dev)
{
    return dev != NULL && dev->enrolled ? dev->enr.expires : 0;
}

const char *tep_device_ae_path(const tep_device *dev)
{
    return dev != NULL && dev->enrolled && dev->ae_path[0] ? dev->ae_path : NULL;
}
