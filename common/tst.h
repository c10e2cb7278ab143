/* tep's CMocka test support, one copy for every test program: temporary directories and
 * their removal, a store in one, a free UDP port, jansson's allocations checked for
 * leaks, and a daemon spawned, awaited and stopped. Test code only: failures are
 * returned (0 / -1) for setup functions to pass on, never printed. */
#ifndef TEP_TST_H
#define TEP_TST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmn_store.h"

#define TST_DIR_MAX 64

/* A new directory "/tmp/tep-test-<tag>-XXXXXX" (mode 0700) into ret (len >=
 * TST_DIR_MAX). 0 or -1. */
int tst_tmpdir(const char *tag, char *ret, size_t len);
/* Removes path and everything below it, never following a symbolic link; a missing path
 * is fine. 0 or -1. */
int tst_rmtree(const char *path);

/* An LMDB store in a temporary directory of its own. */
typedef struct {
    char dir[TST_DIR_MAX];
    cmn_store *store;
} tst_store;
/* cmn_store_open() of dbs in a new tst_tmpdir(tag): 0, or -1 with nothing left behind. */
int tst_store_open(const char *tag, const char *const *dbs, unsigned ndb, uint32_t schema,
                   tst_store *ret);
/* Closes the store and removes its directory; a zeroed s is fine. */
void tst_store_close(tst_store *s);

/* A UDP port on 127.0.0.1 that was free a moment ago, 0 if none. */
uint16_t tst_free_udp_port(void);

/* From now on jansson allocates through CMocka's test_malloc/test_free, so a JSON value
 * a test forgets to free fails that test (call it in the group set-up). */
void tst_json_leak_check(void);

/* Runs argv (argv[0] a path) with stdout and stderr written to log_path (truncated):
 * the child's pid, -1 when it cannot start. */
pid_t tst_spawn(char *const argv[], const char *log_path);
/* Whether the file at path holds needle (in its first 64 KiB). */
bool tst_log_contains(const char *path, const char *needle);
/* Waits up to timeout_ms for needle in the log: 0; -1 when pid (> 0) exited first (it
 * has been reaped); -2 on timeout. */
int tst_wait_log(const char *path, const char *needle, pid_t pid, int timeout_ms);
/* SIGTERM to pid and waits up to timeout_ms: its exit status, or -1 (killed with SIGKILL
 * when it did not stop, or it died of a signal). pid <= 0: -1. */
int tst_stop(pid_t pid, int timeout_ms);

#endif
