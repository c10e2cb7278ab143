/* The bare LMDB baseline for tep-cse's CREATE (issue 12): durable puts per second into
 * a fresh environment (synchronous commits, as tep-cse's store: no MDB_NOSYNC), one put
 * per commit (--batch 1) or several per commit (group commit's best case), through
 * cmn_store with no tep-cse code. Values of --size bytes (a contentInstance record is
 * about 300), keys in creation order.
 *
 *   bench-lmdb [--dir DIR] [--seconds 3] [--batch 1] [--size 300] [--dbs 1]
 *
 * --dbs N writes each put into N databases (a CREATE writes its record and its index
 * entries into several, each with its own B-tree pages to write and sync).
 * Prints key=value lines: puts, commits, seconds, puts_per_s, commits_per_s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmn_err.h"
#include "cmn_store.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const dbs[] = {"bench",  "bench1", "bench2", "bench3",
                                  "bench4", "bench5", "bench6", "bench7"};

static int put_batch(cmn_store *st, uint64_t *seq, unsigned batch, unsigned ndb, const uint8_t *val,
                     size_t size)
{
    cmn_txn *t = NULL;
    uint8_t key[8];
    int rc = cmn_store_txn_begin(st, &t);

    for (unsigned i = 0; rc == 0 && i < batch; i++) {
        cmn_store_u64_key(++*seq, key);
        for (unsigned d = 0; rc == 0 && d < ndb; d++)
            rc = cmn_txn_put(t, dbs[d], key, sizeof(key), val, d == 0 ? size : 40);
    }
    if (rc != 0) {
        cmn_txn_abort(t);
        return rc;
    }
    return cmn_txn_commit(t);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    char tmp[64] = "/tmp/bench-lmdb-XXXXXX", cmd[128];
    double seconds = 3, t0, t;
    unsigned batch = 1, ndb = 1;
    size_t size = 300;
    uint64_t seq = 0, commits = 0;
    uint8_t *val;
    cmn_store *st = NULL;
    int rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--dbs") == 0)
            ndb = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            size = (size_t)atol(argv[i + 1]);
    }
    if (batch == 0 || ndb == 0 || ndb > 8 || size == 0 || size > 65536 || seconds <= 0) {
        fprintf(stderr, "bench-lmdb: bad arguments\n");
        return 1;
    }
    if (dir == NULL && (dir = mkdtemp(tmp)) == NULL)
        return 1;
    val = malloc(size);
    if (val == NULL)
        return 1;
    memset(val, 'x', size);
    rc = cmn_store_open(dir, dbs, ndb, 1, 0, &st);
    t0 = now_s();
    for (t = t0; rc == 0 && t - t0 < seconds; t = now_s(), commits++)
        rc = put_batch(st, &seq, batch, ndb, val, size);
    cmn_store_close(st);
    free(val);
    if (dir == tmp) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
        if (system(cmd) != 0)
            rc = CMN_EIO;
    }
    if (rc != 0) {
        fprintf(stderr, "bench-lmdb: %s\n", cmn_strerror(rc));
        return 1;
    }
    printf("puts=%llu\ncommits=%llu\nseconds=%.3f\nputs_per_s=%.1f\ncommits_per_s=%.1f\n",
           (unsigned long long)seq, (unsigned long long)commits, t - t0, (double)seq / (t - t0),
           (double)commits / (t - t0));
    return 0;
}
