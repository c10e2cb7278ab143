/* libtepae internals: the device object (tep_device.c) as the CoAP glue sees it. */
#ifndef TEP_AE_DEVICE_H
#define TEP_AE_DEVICE_H

#include <stdbool.h>

#include "tep/tepae.h"
#include "tep_core.h"

struct tep_device {
    char *state_path;
    tep_prov prov;
    bool enrolled;
    tep_enrolment enr;
    char cse_name[TEP_ID_MAX];       /* CSEBase name, from registrar_cse_id */
    char ae_path[2 * TEP_ID_MAX + 1]; /* "<cse_name>/<rn or AE-ID>" */
    int timeout_ms;
};

/* Replaces the device's enrolment with enr (copied; the caller wipes its own copy),
 * writes the state file (0600, write to a temporary file, fsync, rename). On error the
 * device and the file keep the previous enrolment. */
int tep_device_install(tep_device *dev, const tep_enrolment *enr);
/* Records the AE's resource name in the state file. */
int tep_device_set_ae_rn(tep_device *dev, const char *rn);
/* Binds a fresh connection to dev (From = its AE-ID by default); frees conn on error
 * (tep_glue.c). */
int tep_glue_bind_device(tep_conn *conn, tep_device *dev, tep_conn **ret_conn);

#endif
