/* tep-bsf's bus answers: Zn (a NAF asks for Ks_NAF of a B-TID, TS 33.220 4.5.3) and
 * admin (tepctl: STATUS, GBA_SUBSCRIBER_ADD, GBA_SUBSCRIBER_LIST, GBA_BTID_LIST). */
#ifndef TEP_BSF_ANSWER_H
#define TEP_BSF_ANSWER_H

#include <stdint.h>

#include "bsf_config.h"
#include "bsf_ub.h"
#include "cmn_store.h"
#include "tep.pb-c.h"

/* Fills resp (its ks_naf points into ks_naf_buf; wipe it after sending), then
 * bsf_answer_zn_done(resp) frees what it holds. */
void bsf_answer_zn(const bsf_config *cfg, cmn_store *store, const Tep__ZnRequest *rq, int64_t now,
                   Tep__ZnResponse *resp, uint8_t ks_naf_buf[32]);
void bsf_answer_zn_done(Tep__ZnResponse *resp);
/* Sends the admin answer to rq on s (ident/ilen: the tepctl peer). */
void bsf_answer_admin(const bsf_config *cfg, cmn_store *store, const bsf_ub_stats *st, int64_t now,
                      const Tep__Envelope *in, Tep__Envelope *out, Tep__AdminResponse *resp);
/* Frees what bsf_answer_admin allocated in resp (after sending). */
void bsf_answer_admin_done(Tep__AdminResponse *resp);

#endif
