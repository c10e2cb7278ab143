/* Process helpers of the benchmarks that start tep's daemons (bench-cert, bench-enrol):
 * spawning with a log file, waiting for a log line, free loopback ports, provisioning
 * files, tepctl status values. */
#ifndef TEP_BENCH_PROC_H
#define TEP_BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

double bench_now_s(void); /* CLOCK_MONOTONIC, seconds */
/* A UDP port on 127.0.0.1 free a moment ago, -1 if none. */
int bench_free_udp_port(void);
/* Runs argv with stdout+stderr appended to log_path; the child's pid (-1: fork failed). */
pid_t bench_spawn(char *const argv[], const char *log_path);
/* bench_spawn() and waits: 0 if it exited 0, else CMN_EIO. */
int bench_run_wait(char *const argv[], const char *log_path);
/* Lines of path containing needle (0 when path cannot be read). */
long bench_count_lines(const char *path, const char *needle);
/* Waits up to seconds for a line of path containing needle: CMN_EIO when pid exits
 * first, CMN_ETIMEOUT. */
int bench_wait_for(const char *path, const char *needle, pid_t pid, double seconds);
/* SIGTERM to pid and waits for it; pid <= 0 is ignored. */
void bench_stop(pid_t pid);
/* kpm_id and kpm (hex) from a provisioning file (tepctl enrolee add --out);
 * CMN_ECONFIG when either is missing or the key is not CMN_KEY_LEN bytes. */
int bench_read_kpm(const char *prov_path, char *kpm_id, size_t id_len, char *kpm_hex,
                   size_t hex_len);
/* `tepctl --admin ADMIN status DAEMON` (output to out_path) and the value of its line
 * KEY=<unsigned>: CMN_EIO when tepctl fails, CMN_EPROTO when the line is missing. */
int bench_status_value(const char *tepctl, const char *admin, const char *daemon, const char *key,
                       const char *out_path, unsigned long long *ret);

#endif
