/* Process helpers of the benchmarks (bench_proc.h). */
#include "bench_proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_kdf.h"

double bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_free_udp_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

pid_t bench_spawn(char *const argv[], const char *log_path)
{
    pid_t pid = fork();

    if (pid == 0) {
        FILE *log = fopen(log_path, "a");

        if (log == NULL || dup2(fileno(log), 1) < 0 || dup2(fileno(log), 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int bench_run_wait(char *const argv[], const char *log_path)
{
    int rc;
    pid_t pid = bench_spawn(argv, log_path);

    if (pid < 0 || waitpid(pid, &rc, 0) != pid)
        return CMN_EIO;
    return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 ? 0 : CMN_EIO;
}

long bench_count_lines(const char *path, const char *needle)
{
    char line[2048];
    long n = 0;
    FILE *f = fopen(path, "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    if (f != NULL)
        fclose(f);
    return n;
}

int bench_wait_for(const char *path, const char *needle, pid_t pid, double seconds)
{
    double deadline = bench_now_s() + seconds;

    while (bench_now_s() < deadline) {
        if (bench_count_lines(path, needle) > 0)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return CMN_EIO;
        usleep(20000);
    }
    return CMN_ETIMEOUT;
}

void bench_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

int bench_read_kpm(const char *prov_path, char *kpm_id, size_t id_len, char *kpm_hex,
                   size_t hex_len)
{
    char line[512];
    FILE *f = fopen(prov_path, "r");

    if (f == NULL)
        return CMN_EIO;
    kpm_id[0] = kpm_hex[0] = '\0';
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "kpm_id = ", 9) == 0)
            snprintf(kpm_id, id_len, "%s", line + 9);
        else if (strncmp(line, "kpm = ", 6) == 0)
            snprintf(kpm_hex, hex_len, "%s", line + 6);
    }
    cmn_wipe(line, sizeof(line));
    fclose(f);
    return kpm_id[0] != '\0' && strlen(kpm_hex) == 2 * CMN_KEY_LEN ? 0 : CMN_ECONFIG;
}

int bench_status_value(const char *tepctl, const char *admin, const char *daemon, const char *key,
                       const char *out_path, unsigned long long *ret)
{
    char line[256];
    size_t klen = strlen(key);
    FILE *f;
    int rc;
    char *argv[] = {(char *)tepctl, "--admin", (char *)admin, "status", (char *)daemon, NULL};

    if ((rc = bench_run_wait(argv, out_path)) != 0 || (f = fopen(out_path, "r")) == NULL)
        return CMN_EIO;
    rc = CMN_EPROTO;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, klen) == 0 && line[klen] == '=' &&
            sscanf(line + klen + 1, "%llu", ret) == 1)
            rc = 0;
    fclose(f);
    return rc;
}
