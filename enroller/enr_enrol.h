/* The enrolment exchange's JSON (docs/internals.md "Enrolment over CoAPS"): the
 * enrolee's indications in, the MEF's answer out. I/O-free. */
#ifndef TEP_ENR_ENROL_H
#define TEP_ENR_ENROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enr_db.h"

/* TS-0003 8.3.2.1 table 8.3.2.1-1: certificate / MAF / remote-management enrolment
 * indications. */
typedef struct {
    bool cei, mei, rmi;
} enr_indications;

/* The enrolment targets the MEF hands out (tgt). */
typedef struct {
    const char *csi;  /* registrar CSE-ID */
    const char *poa;  /* registrar point of access */
    const char *mafi; /* MAF-ID */
} enr_targets;

/* body: a JSON object with optional booleans cei, mei, rmi (len 0 = {}). Any other
 * type, a non-object, or bad JSON: CMN_EINVAL. Unknown members are ignored. */
int enr_enrol_parse(const uint8_t *body, size_t len, enr_indications *ret);
/* The 2.01 body. *ret is malloc'd, NUL-terminated, owned by the caller (free()). */
int enr_enrol_answer(const char *ke_id, const enr_enrol_result *r, const enr_targets *tgt,
                     char **ret);

#endif
