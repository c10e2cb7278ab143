/* Fuzz target: the protobuf messages tep-enroller and tep-cse take from the bus, through
 * their real handlers over real LMDB stores (under /dev/shm when it exists, removed at
 * exit) that persist across inputs.
 *
 * Input: first byte selects, the rest is the message.
 *   even: an Envelope as tep-enroller's admin and sync ROUTERs unpack it: an
 *         AdminRequest through enr_admin_handle (enrolees, apps, certificates, events),
 *         a SyncRequest through enr_sync_answer;
 *   odd:  a SyncResponse as tep-cse's subscriber receives it: every item through
 *         cse_sync_apply in one transaction (credentials, revocations, indexes).
 * tep-authz's bus messages are fuzz_authz's. Logging is off. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmn_log.h"
#include "cmn_store.h"
#include "cmn_sync.h"
#include "cse_sync.h"
#include "enr_admin.h"
#include "enr_db.h"
#include "enr_sync.h"
#include "fuzz_target.h"

#define NOW 1790000000

static struct {
    char dir[256];
    cmn_store *enr, *cse;
} fz;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void cleanup(void)
{
    cmn_store_close(fz.enr);
    cmn_store_close(fz.cse);
    if (fz.dir[0] != '\0')
        nftw(fz.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const dbs[] = {CSE_DB_CREDENTIALS, CSE_DB_ENROLEES, CSE_DB_KEIDS,
                                      CSE_DB_CSE_TARGETS, CSE_DB_TRANSIT,  CSE_DB_KEY_KEIDS,
                                      CMN_SYNC_DB};
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    FILE *devnull = fopen("/dev/null", "w");
    char sub[300];

    (void)argc, (void)argv;
    cmn_log_init("fuzz", CMN_LOG_ERR, devnull != NULL ? devnull : stderr);
    snprintf(fz.dir, sizeof(fz.dir), "%s/tep-fuzz-bus-XXXXXX", base);
    if (mkdtemp(fz.dir) == NULL)
        exit(1);
    atexit(cleanup);
    snprintf(sub, sizeof(sub), "%s/enroller", fz.dir);
    if (enr_db_open(sub, &fz.enr) != 0)
        exit(1);
    snprintf(sub, sizeof(sub), "%s/cse", fz.dir);
    if (cmn_store_open(sub, dbs, sizeof(dbs) / sizeof(dbs[0]), 1, 64u << 20, &fz.cse) != 0)
        exit(1);
    return 0;
}

static void enroller(const uint8_t *data, size_t size)
{
    Tep__Envelope *e = tep__envelope__unpack(NULL, size, data);

    if (e == NULL)
        return;
    if (e->body_case == TEP__ENVELOPE__BODY_ADMIN_REQ && e->admin_req != NULL) {
        Tep__AdminResponse r = TEP__ADMIN_RESPONSE__INIT;
        enr_events ev;

        memset(&ev, 0, sizeof(ev));
        (void)enr_admin_handle(fz.enr, e->admin_req, NOW, &r, &ev);
        enr_admin_clear(&r);
    } else if (e->body_case == TEP__ENVELOPE__BODY_SYNC_REQ && e->sync_req != NULL) {
        Tep__SyncResponse r = TEP__SYNC_RESPONSE__INIT;

        if (enr_sync_answer(fz.enr, "mef.tep.local", e->sync_req, &r) == 0)
            enr_sync_clear(&r);
    }
    tep__envelope__free_unpacked(e, NULL);
}

static void cse(const uint8_t *data, size_t size)
{
    Tep__SyncResponse *r = tep__sync_response__unpack(NULL, size, data);
    cse_sync_stats stats;
    cmn_txn *t = NULL;
    int rc = 0;

    if (r == NULL)
        return;
    memset(&stats, 0, sizeof(stats));
    if (cmn_store_txn_begin(fz.cse, &t) == 0) {
        for (size_t i = 0; rc == 0 && i < r->n_items; i++)
            rc = r->items[i] != NULL ? cse_sync_apply(t, r->items[i], &stats) : 0;
        if (rc == 0)
            (void)cmn_txn_commit(t);
        else
            cmn_txn_abort(t);
    }
    tep__sync_response__free_unpacked(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    if (data[0] & 1)
        cse(data + 1, size - 1);
    else
        enroller(data + 1, size - 1);
    return 0;
}
