/* tepctl audit / tepctl token: tep-authz's decision audit trail and token revocation. */
#ifndef TEP_TCTL_AUDIT_H
#define TEP_TCTL_AUDIT_H

#include "tctl.h"

/* tepctl audit [--originator ID] [--last N | --all] [--from EP]... */
int tctl_audit_main(const tctl_opts *o, int argc, char **argv);
/* tepctl token revoke TOKEN-ID */
int tctl_token_main(const tctl_opts *o, int argc, char **argv);

#endif
