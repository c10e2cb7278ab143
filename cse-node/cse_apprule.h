/* The AE-registration policy of tep-cse, in one place: the App-ID of the enrolment at
 * bind time (application enrolment, seed Z.2: cse_apprules_check_app_id) and the
 * application rules at create time (cse_apprules_check_registration), both 4126.
 *
 * Application rules at AE registration (TS-0001 10.2.2.2 steps 001-006, 9.6.29
 * <serviceSubscribedAppRule>; TS-0003 8.2.1): the registrar CSE checks the triple
 * (Credential-ID, App-ID, AE-ID-Stem) of a registering AE against the rules; no rule
 * allowing it is 4126 APP_RULE_VALIDATION_FAILED.
 *
 * tep's rules come from the file [cse] app_rules_file (JSON, read at start):
 *   {"rules": [{"apci": ["12-*@mef.tep.local"], "aai": ["Ntepdemo"], "aae": ["Cdevice*"]}]}
 * apci (applicableCredIDs), aai (allowedApp-IDs), aae (allowedAEs), each a non-empty
 * list of patterns where '*' matches any run of characters. A rule allows the triple
 * when one entry of each list matches. The Credential-ID of a PSK SAEF is
 * "12-<KpsaID>" (TS-0003 D9); an AE registering without a security association has
 * the empty Credential-ID, which only "*" matches. With no file (the default) no rule
 * is configured and every registration stays allowed, as before.
 *
 * <serviceSubscribedAppRule> resources (ty 19, "m2m:asar", children of the CSEBase,
 * created, read, updated and deleted by the admin only) hold rules of the same shape
 * and apply together with the file's: a registration passes when SOME rule, from the
 * file or from a resource, allows its triple; with no rule at all (no file rule and no
 * resource) it is allowed. In a resource every list is optional (TS-0001 9.6.29): an
 * absent apci is the rule for registrations without a security association (it matches
 * only the empty Credential-ID); an absent or empty aai or aae allows nothing. ari
 * (allowedRole-IDs) is kept but not used at registration. An expired resource counts
 * as absent. The resources are read at each AE registration (a scan of the CSEBase's
 * direct children), so a new, changed or deleted rule applies to the next one. */
#ifndef TEP_CSE_APPRULE_H
#define TEP_CSE_APPRULE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cmn_store.h"
#include "cse_config.h"

typedef struct cse_apprules cse_apprules;

/* path "" or NULL: no rules. CMN_EINVAL/CMN_EIO with "FILE: reason" in err. */
int cse_apprules_load(const char *path, cse_apprules **ret, char *err, size_t errlen);
void cse_apprules_free(cse_apprules *r); /* NULL is fine */
size_t cse_apprules_count(const cse_apprules *r);

/* Also consult the <serviceSubscribedAppRule> children of the CSEBase named cse_name
 * (copied) at registration. CMN_ENOMEM. */
int cse_apprules_use_resources(cse_apprules *r, const char *cse_name);

/* The file's rules only: true when allowed: no rules, or one rule matching all three
 * (app_id NULL = ""). The index of the allowing rule in *ret_rule (-1 when there are no
 * rules). */
bool cse_apprules_allow(const cse_apprules *r, const char *cred_id, const char *app_id,
                        const char *ae_stem, int *ret_rule);

/* At AE create: ae_id (the AE-ID given to the new AE) with the App-ID of its api
 * attribute (NULL: none); the Credential-ID is found from ae_id's credential in st.
 * The file's rules and (after cse_apprules_use_resources) the resources' rules.
 * 0 when allowed, else 4126 (logged with the triple); 5000 when the resources cannot
 * be read (fail closed). */
unsigned cse_apprules_check_registration(const cse_apprules *r, cmn_store *st, const char *ae_id,
                                         const char *app_id);

/* Loads [cse] app_rules_file and consults the CSEBase's <serviceSubscribedAppRule>
 * resources (logged); the caller hands *ret to cse_node.app_rules and frees it after the
 * node. CMN_EINVAL / CMN_EIO: a configuration error (logged). */
int cse_apprules_setup(const cse_config *cfg, cse_apprules **ret);

/* Application enrolment (seed Z.2, docs/internals.md), at bind time: an AE CREATE over
 * CoAPS whose session is bound to bound_id (the AE-ID; NULL: nothing to check) must carry
 * api equal to the App-ID of the credential bound to that AE-ID, when it has one: 0, or
 * 4126 (logged event=app_id_refused). root: the request body as cse_ctx_json read it
 * (strict JSON), NULL when it is not; then body/len are read leniently here (a body that
 * is not JSON at all passes: the request's validation answers 4000). */
unsigned cse_apprules_check_app_id(cmn_store *st, const char *bound_id, json_t *root,
                                   const char *body, size_t len);

/* '*' matches any run of characters (wildcards of TS-0001 9.6.29 apci/aai/aae), in linear
 * time (cmn_glob). */
bool cse_apprules_match(const char *pattern, const char *value);

#endif
