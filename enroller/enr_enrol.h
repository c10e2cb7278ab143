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
    const char *tas;  /* trust anchor: the tep CA certificate, PEM (NULL: omitted) */
    const char *mpoa; /* the MAF's point of access (NULL or "": omitted) */
} enr_targets;

/* body: a JSON object with optional booleans cei, mei, rmi (len 0 = {}). Any other
 * type, a non-object, or bad JSON: CMN_EINVAL. Unknown members are ignored. */
int enr_enrol_parse(const uint8_t *body, size_t len, enr_indications *ret);
/* The 2.01 body. *ret is malloc'd, NUL-terminated, owned by the caller (free()). */
int enr_enrol_answer(const char *ke_id, const enr_enrol_result *r, const enr_targets *tgt,
                     char **ret);

/* Certificate enrolment (TS-0003 8.3.6; docs/internals.md "Certificate enrolment"):
 * body {"csr": "<PEM CERTIFICATE REQUEST>"} -> DER in ret_der (capacity *inout_len).
 * CMN_EINVAL for anything else. */
int enr_cert_parse(const uint8_t *body, size_t len, uint8_t *ret_der, size_t *inout_len);
/* {"crt": "<PEM>", "sn": "<serial hex>", "exp": not_after, "tas": ["<CA PEM>"]}.
 * *ret malloc'd, owned by the caller. */
int enr_cert_answer(const char *crt_pem, const char *serial, int64_t not_after, const char *ca_pem,
                    char **ret);

#endif
