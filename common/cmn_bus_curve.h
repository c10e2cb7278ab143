/* Internal to common/: the CURVE half of the bus (cmn_bus_curve.c), used by cmn_bus.c.
 * The public face is cmn_bus_curve_enable() in cmn_bus.h. */
#ifndef TEP_CMN_BUS_CURVE_H
#define TEP_CMN_BUS_CURVE_H

#include <stdbool.h>

#include "cmn_bus.h"

typedef struct cmn_curve cmn_curve;

/* Loads (or creates) the key pair, publishes the public key, starts the ZAP handler
 * on zctx. *ret is owned by the caller: cmn_curve_stop() then cmn_curve_free(). */
int cmn_curve_start(void *zctx, const cmn_bus_curve *cfg, cmn_curve **ret);
/* Joins the ZAP thread; call after zmq_ctx_shutdown(zctx). NULL is fine. */
void cmn_curve_stop(cmn_curve *c);
void cmn_curve_free(cmn_curve *c); /* wipes the secret key; NULL is fine */

/* Makes zsock a CURVE server (bind) or a client of the server named by the endpoint's
 * host (connect). Only for tcp:// endpoints; anything else is left alone. */
int cmn_curve_apply(const cmn_curve *c, void *zsock, bool server, const char *endpoint);

/* The own public key (Z85, 40 characters). */
const char *cmn_curve_public(const cmn_curve *c);

/* Z85 public key of "name" from the key directory into ret_z85 (41 bytes). */
int cmn_curve_read_public(const char *key_dir, const char *name, char ret_z85[41]);

#endif
