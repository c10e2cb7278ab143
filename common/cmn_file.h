/* Small files written whole and atomically: the device's state and keys, certificates,
 * CURVE keys, the token verification key, provisioning files. */
#ifndef TEP_CMN_FILE_H
#define TEP_CMN_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* cmn_file_write_atomic() flags. */
#define CMN_FILE_NO_REPLACE 1u /* path must not exist yet: CMN_EEXIST, nothing written */

/* Writes len bytes of data to path atomically: readers see the old file or the new one,
 * never a part. A new temporary file beside path ("<path>.tmp.XXXXXX", created with
 * O_EXCL, so an existing file or symbolic link of that name is never followed or
 * truncated), its mode set to mode with fchmod (whatever the umask: 0600 for anything
 * secret), every byte written, fsync'ed, closed, then renamed over path; with
 * CMN_FILE_NO_REPLACE linked to path instead, so that an existing path is never
 * overwritten. The temporary file is removed on every failure. rename() replaces a
 * symbolic link at path itself, never its target. data is borrowed; the caller wipes its
 * own copy of a secret. CMN_EINVAL (NULL path, or data NULL with len > 0), CMN_ERANGE
 * (path too long), CMN_EEXIST (CMN_FILE_NO_REPLACE), CMN_EIO. */
int cmn_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          unsigned flags);

#endif
