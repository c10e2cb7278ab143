/* cmn_file: what a reader of the file sees after cmn_file_write_atomic(), and what is
 * left in the directory after a failure (nothing but the files that were there). */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "cmn_file.h"
#include "tst.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    if (tst_tmpdir("file", f->dir, sizeof(f->dir)) != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/key.pem", f->dir);
    umask(022);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tst_rmtree(f->dir);

    free(f);
    return rc;
}

static void assert_content(const char *path, const char *want)
{
    char buf[256] = "";
    FILE *fp = fopen(path, "r");
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode;
}

static void writes_with_mode_and_replaces(void **state)
{
    fixture *f = *state;

    assert_int_equal(cmn_file_write_atomic(f->path, "secret\n", 7, 0600, 0), 0);
    assert_content(f->path, "secret\n");
    assert_int_equal(mode_of(f->path) & 0777, 0600);
    assert_int_equal(cmn_file_write_atomic(f->path, "public\n", 7, 0644, 0), 0);
    assert_content(f->path, "public\n");
    assert_int_equal(mode_of(f->path) & 0777, 0644);
    assert_int_equal(cmn_file_write_atomic(f->path, "", 0, 0600, 0), 0);
    assert_content(f->path, "");
    assert_int_equal(entries(f->dir), 1); /* no temporary file left */
}

static void no_replace_keeps_the_old_file(void **state)
{
    fixture *f = *state;

    assert_int_equal(cmn_file_write_atomic(f->path, "first", 5, 0600, CMN_FILE_NO_REPLACE), 0);
    assert_int_equal(cmn_file_write_atomic(f->path, "second", 6, 0600, CMN_FILE_NO_REPLACE),
                     CMN_EEXIST);
    assert_content(f->path, "first");
    assert_int_equal(entries(f->dir), 1);
}

/* A symbolic link planted at path or at the old fixed temporary name "<path>.tmp" is
 * never written through: its target stays as it was. */
static void symlinks_are_not_followed(void **state)
{
    fixture *f = *state;
    char target[160], tmp[160];

    snprintf(target, sizeof(target), "%s/target", f->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
    assert_int_equal(cmn_file_write_atomic(target, "untouched", 9, 0644, 0), 0);
    assert_int_equal(symlink(target, tmp), 0);
    assert_int_equal(symlink(target, f->path), 0);
    assert_int_equal(cmn_file_write_atomic(f->path, "key", 3, 0600, 0), 0);
    assert_true(S_ISREG(mode_of(f->path)));
    assert_content(f->path, "key");
    assert_content(target, "untouched");
    assert_int_equal(entries(f->dir), 3); /* target, the planted link, path */
}

static void failures_leave_nothing(void **state)
{
    fixture *f = *state;
    char missing[160], longp[5000];

    snprintf(missing, sizeof(missing), "%s/no/such/dir", f->dir);
    assert_int_equal(cmn_file_write_atomic(missing, "x", 1, 0600, 0), CMN_EIO);
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(cmn_file_write_atomic(longp, "x", 1, 0600, 0), CMN_ERANGE);
    assert_int_equal(cmn_file_write_atomic(NULL, "x", 1, 0600, 0), CMN_EINVAL);
    assert_int_equal(cmn_file_write_atomic(f->path, NULL, 1, 0600, 0), CMN_EINVAL);
    /* the rename fails (path is a non-empty directory): the temporary file goes */
    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(cmn_file_write_atomic(missing, "x", 1, 0600, 0), CMN_EIO);
    snprintf(missing, sizeof(missing), "%s/inner", f->path);
    assert_int_equal(cmn_file_write_atomic(missing, "x", 1, 0600, 0), 0);
    assert_int_equal(cmn_file_write_atomic(f->path, "x", 1, 0600, 0), CMN_EIO);
    assert_int_equal(entries(f->dir), 1);
    unlink(missing);
    rmdir(f->path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_with_mode_and_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(no_replace_keeps_the_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinks_are_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_leave_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
