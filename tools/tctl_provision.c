/* Writing the device provisioning file. */
#include "tctl_provision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"

int tctl_provision_format(const tctl_provision *p, char **ret, size_t *ret_len)
{
    size_t hexlen = 2 * p->kpm_len + 1;
    char *hex = malloc(hexlen);
    size_t cap;
    char *buf = NULL;
    int n, rc = CMN_ENOMEM;

    *ret = NULL;
    *ret_len = 0;
    if (!hex)
        return CMN_ENOMEM;
    cmn_hex_encode(p->kpm, p->kpm_len, hex);
    cap = hexlen + strlen(p->kpm_id) + strlen(p->mef_uri) + strlen(p->mef_fqdn) + 128;
    buf = malloc(cap);
    if (!buf)
        goto out;
    if (p->kpm_len == 0) /* a certificate enrolee (TS-0003 8.3.2.2): no Kpm */
        n = snprintf(buf, cap, "[device]\nkpm_id = %s\ncredential = certificate\n"
                               "mef_uri = %s\nmef_fqdn = %s\n",
                     p->kpm_id, p->mef_uri, p->mef_fqdn);
    else
        n = snprintf(buf, cap, "[device]\nkpm_id = %s\nkpm = %s\nmef_uri = %s\nmef_fqdn = %s\n",
                     p->kpm_id, hex, p->mef_uri, p->mef_fqdn);
    if (n < 0 || (size_t)n >= cap) {
        cmn_free_secret(buf, cap);
        rc = CMN_ERANGE;
        goto out;
    }
    *ret = buf;
    *ret_len = (size_t)n;
    rc = 0;
out:
    cmn_free_secret(hex, hexlen);
    return rc;
}

static int write_all(int fd, const char *text, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return CMN_EIO;
        off += (size_t)w;
    }
    return fsync(fd) == 0 ? 0 : CMN_EIO;
}

/* Puts the finished temporary file tmp at path. */
static int publish_file(const char *tmp, const char *path, bool force)
{
    if (force)
        return rename(tmp, path) == 0 ? 0 : CMN_EIO;
    if (link(tmp, path) != 0)
        return errno == EEXIST ? CMN_EEXIST : CMN_EIO;
    unlink(tmp);
    return 0;
}

int tctl_provision_save(const char *path, const tctl_provision *p, bool force)
{
    size_t tlen = strlen(path) + 16, len = 0;
    char *tmp = malloc(tlen), *text = NULL;
    int fd = -1, rc;

    if (!tmp)
        return CMN_ENOMEM;
    snprintf(tmp, tlen, "%s.tmp.XXXXXX", path);
    rc = tctl_provision_format(p, &text, &len);
    if (rc == 0 && (fd = mkstemp(tmp)) < 0) /* mode 0600 */
        rc = CMN_EIO;
    if (rc == 0)
        rc = write_all(fd, text, len);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = CMN_EIO;
    if (rc == 0)
        rc = publish_file(tmp, path, force);
    if (fd >= 0 && rc != 0)
        unlink(tmp);
    cmn_free_secret(text, len);
    free(tmp);
    return rc;
}
