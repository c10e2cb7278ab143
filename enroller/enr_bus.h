/* tep-enroller's bus side (docs/internals.md "Bus"): PUB "events", ROUTER "sync" and
 * ROUTER "admin". Committed events are queued and published by enr_bus_flush(), which
 * the loop calls after the CoAP answers and admin replies went out. */
#ifndef TEP_ENR_BUS_H
#define TEP_ENR_BUS_H

#include "cmn_store.h"
#include "enr_config.h"
#include "enr_coap.h"
#include "enr_db.h"

typedef struct enr_bus enr_bus;

/* Binds the three endpoints (creating an ipc:// endpoint's directory, 0700, if needed).
 * cfg and store are borrowed. Block signals before calling (ZeroMQ starts threads).
 * CMN_EBUS when an endpoint cannot be bound. */
int enr_bus_open(const enr_config *cfg, cmn_store *store, enr_bus **ret);
void enr_bus_close(enr_bus *b); /* NULL is fine */
/* SIGHUP: the [bus] peers of cfg replace the bindings in use; on error (a key file that
 * does not read) the old ones stay and the error is returned. */
int enr_bus_reload_peers(enr_bus *b, const enr_config *cfg);
/* fds to poll for reading: sync and admin ROUTERs. */
/* The ZeroMQ context, for the enroller's other sockets (Zn). Borrowed. */
cmn_bus *enr_bus_ctx(enr_bus *b);
void enr_bus_fds(const enr_bus *b, int ret_fds[2]);
/* Answers every waiting sync and admin request (call on each loop turn). */
void enr_bus_process(enr_bus *b);
/* Queues committed events for publication (copied). */
int enr_bus_queue(enr_bus *b, const enr_events *ev);
/* Publishes what is queued, in sequence order. */
void enr_bus_flush(enr_bus *b);
/* Where STATUS takes the DTLS flood guard's counters from (borrowed; NULL: none). */
void enr_bus_set_coap(enr_bus *b, const enr_coap *coap);

#endif
