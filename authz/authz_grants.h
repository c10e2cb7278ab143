/* tep-authz's dynamic-authorization policy: which originator may get which privileges
 * on which targets, for how long. One source for both flows of TS-0003 7.3: a token
 * asked for over CoAPS (indirect) and a DAS consultation from tep-cse (direct).
 *
 * The grants file ([authz] grants_file, JSON, read at start and on SIGHUP):
 *   {"grants": [{"or": "Cdevice01", "ris": ["/tep-cse/Cdevice02/data"], "acop": 2,
 *                "lt": 600}]}
 * or:   the originator's AE-ID (SP-relative, as bound to its security association);
 * ris:  structured target paths "/<cse-name>/...";
 * both may use '*', which never crosses a '/' (TS-0003 7.1.3 acor rule);
 * acop: the operations granted (TS-0004 acop bitmask); lt: the longest lifetime in
 * seconds of a token or of DAS-granted privileges (1..86400). No file, no grant. */
#ifndef TEP_AUTHZ_GRANTS_H
#define TEP_AUTHZ_GRANTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct authz_grants authz_grants;

/* path NULL or "" gives an empty set. On error CMN_EINVAL (or CMN_EIO, CMN_ENOMEM)
 * with "FILE: reason" in err. *ret is owned by the caller: authz_grants_free(). */
int authz_grants_load(const char *path, authz_grants **ret, char *err, size_t errlen);
void authz_grants_free(authz_grants *g); /* NULL is fine */
size_t authz_grants_count(const authz_grants *g);

/* The first grant that lets originator do every op bit of acop on target: its index
 * (for the audit rule "grant[i]") and lifetime; -1 when none does. */
int authz_grants_find(const authz_grants *g, const char *originator, const char *target,
                      uint32_t acop, int64_t *ret_lifetime);

/* '*' matches any run of characters except '/' (cmn_glob, linear time). A requested
 * target that holds '*' itself (a token's ris) is covered only where the grant has the
 * same segment or a lone '*' there (cmn_glob_covers): a grant of a lone star segment
 * does not hand out a run of stars there. */
int authz_grants_match(const char *pattern, const char *value);

#endif
