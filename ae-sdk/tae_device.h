/* libtepae internals: the device object (tep_device.c) as the CoAP glue sees it. */
#ifndef TAE_DEVICE_H
#define TAE_DEVICE_H

#include <stdbool.h>

#include "tep/tepae.h"
#include "tae_core.h"

struct tep_device {
    char *state_path;
    tae_prov prov;
    bool enrolled;
    tae_enrolment enr;
    char cse_name[TAE_ID_MAX];        /* CSEBase name, from registrar_cse_id */
    char ae_path[2 * TAE_ID_MAX + 1]; /* "<cse_name>/<rn or AE-ID>" */
    int timeout_ms;
};

/* Replaces the device's enrolment with enr (copied; the caller wipes its own copy),
 * writes the state file (0600, write to a temporary file, fsync, rename). On error the
 * device and the file keep the previous enrolment. */
int tae_device_install(tep_device *dev, const tae_enrolment *enr);
/* Records the AE's resource name in the state file. */
int tae_device_set_ae_rn(tep_device *dev, const char *rn);
/* Binds a fresh connection to dev (From = its AE-ID by default); frees conn on error
 * (tep_glue.c). */
int tae_glue_bind_device(tep_conn *conn, tep_device *dev, tep_conn **ret_conn);

/* GBA enrolment (tep_gba.c): tep_enrol() for a device provisioned with [gba]. */
int tae_enrol_gba(tep_device *dev);

#endif
