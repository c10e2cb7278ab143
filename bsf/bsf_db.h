/* tep-bsf's LMDB records: subscribers (the HSS's data: IMPI, K, OPc, SQN_HE) and
 * bootstrappings (B-TID, IMPI, RAND, Ks, lifetime). Every write commits before it
 * returns 0; only a UE that proved it holds K writes SQN_HE (bsf_db_sqn_accepted after
 * its RES, bsf_db_sqn_resync after its AUTS). */
#ifndef TEP_BSF_DB_H
#define TEP_BSF_DB_H

#include <stdint.h>

#include "cmn_milenage.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

#define BSF_SUBSCRIBERS_DB "subscribers"
#define BSF_BTIDS_DB "btids"
#define BSF_STORE_SCHEMA 1

int bsf_db_open(const char *dir, cmn_store **ret);
/* A new subscriber; CMN_EEXIST when the IMPI is taken, CMN_EINVAL on bad sizes. */
int bsf_db_subscriber_add(cmn_store *s, const Tep__GbaSubscriber *sub, int64_t now);
/* *ret owned by the caller: tep__gba_subscriber__free_unpacked (wipe k/opc first:
 * bsf_db_subscriber_free). CMN_ENOTFOUND when unknown. */
int bsf_db_subscriber_get(cmn_store *s, const char *impi, Tep__GbaSubscriber **ret);
void bsf_db_subscriber_free(Tep__GbaSubscriber *sub); /* wipes K and OPc; NULL is fine */
/* The USIM accepted a challenge with sqn (its RES verified): SQN_HE = max(SQN_HE, sqn),
 * committed. A challenge itself writes nothing (bsf_ub.c next_sqn). */
int bsf_db_sqn_accepted(cmn_store *s, const char *impi, uint64_t sqn);
/* After a verified AUTS (TS 33.102 6.3.5): when SQN_HE + 1 would not be fresh for the
 * USIM (not above SQN_MS, or more than delta above), SQN_HE = SQN_MS; counts the
 * re-synchronisation. Committed. */
int bsf_db_sqn_resync(cmn_store *s, const char *impi, uint64_t sqn_ms, uint64_t delta);
/* Records b; in the same transaction deletes B-TIDs past their lifetime (at b->created;
 * up to 64 a call) and b->impi's oldest live ones so that it holds at most
 * BSF_BTIDS_PER_IMPI with b: a UE bootstrapping in a loop cannot fill the store. */
#define BSF_BTIDS_PER_IMPI 4
int bsf_db_btid_put(cmn_store *s, const Tep__GbaBootstrap *b);
/* *ret: bsf_db_btid_free. CMN_ENOTFOUND when unknown. */
int bsf_db_btid_get(cmn_store *s, const char *btid, Tep__GbaBootstrap **ret);
void bsf_db_btid_free(Tep__GbaBootstrap *b); /* wipes Ks; NULL is fine */

#endif
