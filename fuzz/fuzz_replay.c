/* Runs fuzz inputs (files, or every file of a directory) through a fuzz target once,
 * without libFuzzer: the regression-corpus test of the gcc build. Prints
 * "replayed N inputs"; exit 0, or 1 when an input cannot be read. A crash is a crash. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_target.h"

#define REPLAY_MAX_INPUT (1u << 20)

static int replay_file(const char *path, unsigned *count)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(REPLAY_MAX_INPUT);
    size_t n;
    int rc = 1;

    if (f == NULL || buf == NULL)
        goto out;
    n = fread(buf, 1, REPLAY_MAX_INPUT, f);
    if (ferror(f))
        goto out;
    LLVMFuzzerTestOneInput(buf, n);
    (*count)++;
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
    if (f != NULL)
        fclose(f);
    free(buf);
    return rc;
}

static int replay_dir(const char *dir, unsigned *count)
{
    struct dirent **names = NULL;
    char path[4096];
    int n = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (n < 0) {
        fprintf(stderr, "fuzz_replay: cannot list %s\n", dir);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            rc |= replay_file(path, count);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    struct stat st;
    int rc = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc |= replay_dir(argv[i], &count);
        else
            rc |= replay_file(argv[i], &count);
    }
    printf("replayed %u inputs\n", count);
    return rc;
}
