/* From binding (TS-0003 7.2.1; docs/internals.md "tep-cse"):
 *  CoAPS: From absent or "C" only on AE create (then it means the bound AE-ID);
 *         otherwise From must equal the bound AE-ID, else 4106. rq_authn = true.
 *         The admin originator is honoured only on a session of the admin credential.
 *         A session bound to a registered CSE carries the requests it forwards: From
 *         an originator behind it (the caller checks), rq_authn = false (TS-0003 7.1.2).
 *  CoAP:  rq_authn = false. The admin originator is honoured (loopback deployments).
 *         An AE-ID bound to an enrolment gets 4107: it must come over its SA.
 *         From is required except on AE create, where the CSE assigns an AE-ID
 *         (absent or "C": C-prefixed, "S": S-prefixed). */
#include <stdio.h>
#include <string.h>

#include "cmn_onem2m.h"
#include "cse_binding.h"

static unsigned refuse(cse_binding_out *ret, unsigned rsc, const char *reason)
{
    ret->reason = reason;
    return rsc;
}

static unsigned check_secure(const cse_binding_in *in, cse_binding_out *ret)
{
    bool anonymous = in->from == NULL || strcmp(in->from, "C") == 0;

    ret->rq_authn = true;
    if (in->bound_id == NULL || in->bound_id[0] == '\0')
        return refuse(ret, CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED, "session_not_bound");
    if (anonymous && !in->ae_create)
        return refuse(ret,
                      in->from == NULL ? CMN_RSC_BAD_REQUEST : CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED,
                      in->from == NULL ? "missing_from" : "from_mismatch");
    if (!anonymous && in->transit && strcmp(in->from, in->bound_id) != 0 &&
        strlen(in->from) < sizeof(ret->originator)) {
        ret->rq_authn = false; /* TS-0003 7.1.2: registered with another CSE */
        snprintf(ret->originator, sizeof(ret->originator), "%s", in->from);
        return 0;
    }
    if (!anonymous && strcmp(in->from, in->bound_id) != 0)
        return refuse(ret, CMN_RSC_ORIGINATOR_NOT_AUTHENTICATED, "from_mismatch");
    snprintf(ret->originator, sizeof(ret->originator), "%s", in->bound_id);
    /* the admin originator counts over CoAPS only on the admin credential's session */
    ret->is_admin = in->bound_admin && in->admin_originator != NULL &&
                    strcmp(in->bound_id, in->admin_originator) == 0;
    return 0;
}

static unsigned check_plain(const cse_binding_in *in, cse_binding_out *ret)
{
    ret->rq_authn = false;
    if (in->from == NULL || in->from[0] == '\0') {
        if (in->ae_create)
            return 0; /* the CSE assigns an AE-ID */
        return refuse(ret, CMN_RSC_BAD_REQUEST, "missing_from");
    }
    if (in->admin_originator != NULL && strcmp(in->from, in->admin_originator) == 0) {
        ret->is_admin = true;
    } else if (in->from_enrolled) {
        return refuse(ret, CMN_RSC_SECURITY_ASSOCIATION_REQUIRED, "enrolled_originator");
    }
    if (in->ae_create && (strcmp(in->from, "C") == 0 || strcmp(in->from, "S") == 0)) {
        ret->assign_prefix = in->from[0]; /* TS-0001 7.2: the CSE assigns C... / S... */
        return 0;
    }
    if (strlen(in->from) >= sizeof(ret->originator))
        return refuse(ret, CMN_RSC_BAD_REQUEST, "from_too_long");
    snprintf(ret->originator, sizeof(ret->originator), "%s", in->from);
    return 0;
}

unsigned cse_binding_check(const cse_binding_in *in, cse_binding_out *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->reason = "";
    return in->secure ? check_secure(in, ret) : check_plain(in, ret);
}

/* "<cse-id>/X" at p (cse_id without its leading '/'): X, else NULL. */
static const char *after_cse_id(const char *cse_id, const char *p)
{
    size_t n = strlen(cse_id);

    return strncmp(p, cse_id, n) == 0 && p[n] == '/' ? p + n + 1 : NULL;
}

const char *cse_binding_local_id(const char *cse_id, const char *from)
{
    const char *rest = NULL, *sp_end;

    if (cse_id == NULL || cse_id[0] != '/' || from == NULL)
        return from;
    if (from[0] == '/' && from[1] == '/') {
        sp_end = strchr(from + 2, '/');
        rest = sp_end != NULL && sp_end > from + 2 ? after_cse_id(cse_id + 1, sp_end + 1) : NULL;
    } else if (from[0] == '/') {
        rest = after_cse_id(cse_id + 1, from + 1);
    }
    return rest != NULL && rest[0] != '\0' ? rest : from;
}
