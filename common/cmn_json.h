/* oneM2M JSON (TS-0004 8.2, short names) on top of jansson. */
#ifndef TEP_CMN_JSON_H
#define TEP_CMN_JSON_H

#include <jansson.h>
#include <stdint.h>

/* "m2m:ae" for CMN_TY_AE, ...; NULL for an unknown type. */
const char *cmn_json_ty_key(unsigned ty);
/* root must be {"m2m:<ty>": {...}} with exactly that key; *ret_obj is borrowed.
 * CMN_EINVAL otherwise. */
int cmn_json_unwrap(json_t *root, unsigned ty, json_t **ret_obj);
/* oneM2M timestamp "YYYYMMDDTHHMMSS" (UTC); ret holds 16 bytes. */
void cmn_json_timestamp(int64_t unix_secs, char ret[16]);
int cmn_json_parse_timestamp(const char *s, int64_t *ret_unix_secs);

#endif
