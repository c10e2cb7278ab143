/* One error space for all of tep: functions return 0 or a negative CMN_E* code.
 * Codes of LMDB, wolfSSL, ZeroMQ and libcoap are translated where they are called.
 * oneM2M response status codes (RSC) are a protocol value, see cmn_onem2m.h. */
#ifndef TEP_CMN_ERR_H
#define TEP_CMN_ERR_H

enum {
    CMN_OK = 0,
    CMN_ENOMEM = -1,    /* allocation failed */
    CMN_EINVAL = -2,    /* bad argument or malformed input */
    CMN_ENOTFOUND = -3, /* no such record, key or identity */
    CMN_EEXIST = -4,    /* record already exists */
    CMN_EIO = -5,       /* operating-system I/O error */
    CMN_ECRYPTO = -6,   /* a wolfCrypt or TLS-exporter operation failed */
    CMN_ESTORE = -7,    /* LMDB error */
    CMN_ECORRUPT = -8,  /* a stored record or a message does not decode */
    CMN_ESCHEMA = -9,   /* the store is from a newer schema */
    CMN_EBUS = -10,     /* ZeroMQ error */
    CMN_ETIMEOUT = -11, /* deadline passed */
    CMN_EAGAIN = -12,   /* nothing available now (non-blocking) */
    CMN_ECONFIG = -13,  /* invalid configuration */
    CMN_EPROTO = -14,   /* peer broke the protocol */
    CMN_EDENIED = -15,  /* refused by policy or authentication */
    CMN_ERANGE = -16,   /* buffer too small or value out of range */
    CMN_EEXPIRED = -17, /* credential or record past its lifetime */
    CMN_ECOAP = -18,    /* libcoap error */
    CMN_ESTATE = -19,   /* call not valid in the object's current state */
};

/* Static string for a CMN_E* code (never NULL). */
const char *cmn_strerror(int err);

#endif
