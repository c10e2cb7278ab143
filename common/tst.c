/* tep's CMocka test support (tst.h), linked into the test programs only. */
#include "tst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#define POLL_MS 20

int tst_tmpdir(const char *tag, char *ret, size_t len)
{
    if ((size_t)snprintf(ret, len, "/tmp/tep-test-%s-XXXXXX", tag) >= len)
        return -1;
    return mkdtemp(ret) != NULL ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int tst_rmtree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return 0;
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int tst_store_open(const char *tag, const char *const *dbs, unsigned ndb, uint32_t schema,
                   tst_store *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (tst_tmpdir(tag, ret->dir, sizeof(ret->dir)) != 0)
        return -1;
    if (cmn_store_open(ret->dir, dbs, ndb, schema, 0, &ret->store) != 0) {
        tst_rmtree(ret->dir);
        ret->dir[0] = '\0';
        return -1;
    }
    return 0;
}

void tst_store_close(tst_store *s)
{
    cmn_store_close(s->store);
    s->store = NULL;
    if (s->dir[0] != '\0')
        tst_rmtree(s->dir);
    s->dir[0] = '\0';
}

uint16_t tst_free_udp_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    uint16_t port = 0;

    if (fd < 0)
        return 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void *json_test_malloc(size_t n)
{
    return test_malloc(n);
}

static void json_test_free(void *p)
{
    test_free(p);
}

void tst_json_leak_check(void)
{
    json_set_alloc_funcs(json_test_malloc, json_test_free);
}

pid_t tst_spawn(char *const argv[], const char *log_path)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid;

    if (fd < 0)
        return -1;
    if ((pid = fork()) == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

bool tst_log_contains(const char *path, const char *needle)
{
    static char buf[64 * 1024];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

int tst_wait_log(const char *path, const char *needle, pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += POLL_MS) {
        if (tst_log_contains(path, needle))
            return 0;
        if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        sleep_ms(POLL_MS);
    }
    return -2;
}

int tst_stop(pid_t pid, int timeout_ms)
{
    int rc = 0;

    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += POLL_MS) {
        if (waitpid(pid, &rc, WNOHANG) == pid)
            return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
        sleep_ms(POLL_MS);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}
