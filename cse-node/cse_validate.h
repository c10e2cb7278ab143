/* Validation of the attribute object of a CREATE request (TS-0004 short names), per
 * resource type. Socket- and store-free, so tests feed JSON straight in. */
#ifndef TEP_CSE_VALIDATE_H
#define TEP_CSE_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Checks attrs (the object inside "m2m:<ty>") for a CREATE of type ty: known,
 * writable attributes of the right JSON type, mandatory ones present (AE: api; CIN:
 * con; ACP: pv, pvs with >= 1 acr; SUB: nu; GRP: mid, mnm). Returns 0, or the RSC to answer (4000 for bad
 * content, 4108 for a type tep cannot create) with a short reason in ret_reason
 * ("missing_api", "unknown_attribute:foo", ...) for the log line. */
unsigned cse_validate_create(unsigned ty, int release, json_t *attrs, char *ret_reason,
                             size_t rlen);

/* Checks attrs for an UPDATE of a resource of type ty: only attributes writable on
 * UPDATE (read-only or create-only ones: 4000 "unknown_or_readonly_attribute:<name>"),
 * null deletes an optional one; an empty object is valid (it refreshes lt). 4005 for a
 * type that cannot be updated (CIN, the CSEBase). */
unsigned cse_validate_update(unsigned ty, int release, json_t *attrs, char *ret_reason,
                             size_t rlen);

/* The release a request speaks (its RVI: "2a" is 2, absent is 1). An attribute of a
 * later release (cstn, dgt, dcnt: 4) in a request of an older one is 4000
 * "attribute_needs_release_4:<name>". */
int cse_validate_release(const char *rvi);

/* A resourceName: 1..CSE_VALIDATE_RN_MAX characters of TS-0004 6.2.4's unreserved set,
 * the first a letter or digit. */
#define CSE_VALIDATE_RN_MAX 255
/* tep's bounds on what TS-0004 leaves unbounded (4000 bad_value:<attr> beyond): a string
 * attribute's bytes, a list's entries (a group's 1024 members fit). */
#define CSE_VALIDATE_STR_MAX 2048
#define CSE_VALIDATE_LIST_MAX 1024
bool cse_validate_rn(const char *rn);

/* Checks one privileges object ({"acr":[...]}); min_acr: least number of rules. */
int cse_validate_privileges(json_t *pv, size_t min_acr);

#endif
