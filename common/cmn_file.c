/* Atomic whole-file writes (cmn_file.h). */
#include "cmn_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmn_err.h"

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return CMN_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Puts the finished temporary file at path. */
static int publish(const char *tmp, const char *path, unsigned flags)
{
    if (!(flags & CMN_FILE_NO_REPLACE))
        return rename(tmp, path) == 0 ? 0 : CMN_EIO;
    if (link(tmp, path) != 0)
        return errno == EEXIST ? CMN_EEXIST : CMN_EIO;
    unlink(tmp);
    return 0;
}

int cmn_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          unsigned flags)
{
    char tmp[PATH_MAX];
    int fd, rc;

    if (path == NULL || (data == NULL && len > 0))
        return CMN_EINVAL;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
        return CMN_ERANGE;
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) /* O_CREAT | O_EXCL, mode 0600 */
        return CMN_EIO;
    rc = fchmod(fd, mode) == 0 ? 0 : CMN_EIO;
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = CMN_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = CMN_EIO;
    if (rc == 0)
        rc = publish(tmp, path, flags);
    if (rc != 0)
        unlink(tmp);
    return rc;
}
