/* libtepae: the device and AE side of the tep Trust Enabling Platform.
 *
 * What a device does with it (oneM2M TS-0003):
 *   1. tep_device_load()  reads the provisioning file (KpmID, Kpm, MEF URI and FQDN,
 *                         written by `tepctl enrolee add --out`) and, when it exists,
 *                         the state file of an earlier enrolment;
 *   2. tep_enrol()        runs the PPSK bootstrap (8.3.2.1): DTLS-PSK with KpmID/Kpm to
 *                         the MEF, exports Ke and KeID, POST /enrol, derives Kpsa/KpsaID
 *                         for the registrar CSE and writes the state file (mode 0600);
 *   3. tep_connect()      opens the provisioned-symmetric-key SAEF (8.2.2.1): DTLS-PSK
 *                         to the registrar CSE with psk_identity KpsaID, psk Kpsa;
 *   4. tep_request() and its conveniences speak oneM2M over CoAP (TS-0008).
 *
 * Conventions:
 *  - Errors. Every function returning int returns 0 (TEP_OK) or a negative TEP_E* code;
 *    the codes are tep's one error space (the same numbers as tep's internal CMN_E*).
 *    tep_strerror() names them. Every such function may also return TEP_EINVAL for a
 *    NULL (or empty) required argument and TEP_ENOMEM when memory runs out; each
 *    function lists the errors particular to it. A oneM2M error answer (RSC 4xxx/5xxx)
 *    is NOT an error of the call: the call returns 0 and the RSC is in the response.
 *    On error nothing is handed over: a ret_* output is left NULL or untouched.
 *  - Ownership. Functions that hand over a pointer say who owns it. Strings returned by
 *    accessors are borrowed from their object and valid until it is freed (or, for
 *    enrolment data, until the next tep_enrol() or tep_enrol_cert()). Input strings are
 *    borrowed for the call only, unless the function says it copies or keeps them.
 *    Destructors accept NULL.
 *  - Key material (Kpm, Ke, Kpsa, Km, Kc) never leaves the library and is wiped when
 *    freed; the one exception is tep_device_psk() / tep_kc_psk(), for an Entity A that
 *    runs DTLS in its own stack (tep-cse as an MN-CSE).
 *  - The library never prints or logs.
 *  - Threads. A tep_device, the connections made from it (tep_conn), its tep_kc and the
 *    responses and tokens it returned belong to one thread at a time: the library does
 *    not lock them, and a call blocks its thread until its handshake or answer (or the
 *    timeout). Different devices may be used in different threads at the same time
 *    (ae-sdk/test_glue.c, devices_in_threads): what they share, the process-wide random
 *    generator and libcoap's start-up, is initialised once, safely, by whichever thread
 *    comes first. Two tep_device objects must not share a state_path at the same time.
 *    A tep_conn_plain() connection, too, belongs to one thread at a time.
 *    tep_strerror() and tep_version() may be called from any thread.
 */
#ifndef TEP_TEPAE_H
#define TEP_TEPAE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TEP_API __attribute__((visibility("default")))
#else
#define TEP_API
#endif

/* Error codes: identical in number to common/cmn_err.h. */
enum {
    TEP_OK = 0,
    TEP_ENOMEM = -1,    /* allocation failed */
    TEP_EINVAL = -2,    /* bad argument, malformed file or malformed answer */
    TEP_ENOTFOUND = -3, /* no such file / entry */
    TEP_EEXIST = -4,
    TEP_EIO = -5,     /* operating-system I/O error (files, sockets) */
    TEP_ECRYPTO = -6, /* key derivation or TLS export failed */
    TEP_ESTORE = -7,
    TEP_ECORRUPT = -8, /* a file or message does not decode */
    TEP_ESCHEMA = -9,
    TEP_EBUS = -10,
    TEP_ETIMEOUT = -11, /* no handshake or answer before the timeout */
    TEP_EAGAIN = -12,
    TEP_ECONFIG = -13,  /* invalid provisioning file */
    TEP_EPROTO = -14,   /* the peer broke the protocol (e.g. KeID mismatch) */
    TEP_EDENIED = -15,  /* handshake refused or enrolment refused by the MEF */
    TEP_ERANGE = -16,   /* value too long / out of range */
    TEP_EEXPIRED = -17, /* the enrolment is past its expiry */
    TEP_ECOAP = -18,    /* CoAP stack error */
    TEP_ESTATE = -19,   /* not valid now (e.g. tep_connect() before tep_enrol()) */
};

/* oneM2M operations (TS-0004 6.3.4.2.5) and the resource types the helpers know. */
enum {
    TEP_OP_CREATE = 1,
    TEP_OP_RETRIEVE = 2,
    TEP_OP_UPDATE = 3,
    TEP_OP_DELETE = 4,
    TEP_OP_NOTIFY = 5
};
enum { TEP_TY_ACP = 1, TEP_TY_AE = 2, TEP_TY_CNT = 3, TEP_TY_CIN = 4, TEP_TY_CSEBASE = 5 };

#define TEP_DEFAULT_TIMEOUT_MS 5000
#define TEP_PSK_LEN 32 /* Kpsa and Kc: 256-bit DTLS pre-shared keys */
/* api sent by tep_register_ae() when neither the caller nor the enrolment has one. */
#define TEP_DEFAULT_APP_ID "Ntep"

typedef struct tep_device tep_device; /* provisioning + enrolment state */
typedef struct tep_conn tep_conn;     /* one CoAP(S) session to a CSE */

/* A oneM2M response. Owned by the caller of the function that returned it: release
 * with tep_response_free(). All strings are NUL-terminated and owned by the response. */
typedef struct tep_response {
    unsigned rsc;       /* oneM2M-RSC option (TS-0004 6.6), 0 if the peer sent none */
    unsigned coap_code; /* CoAP response code as class*100+detail, e.g. 201, 403 */
    char *rqi;          /* oneM2M-RQI echoed by the peer ("" if absent) */
    char *body;         /* payload (JSON text), "" if empty */
    size_t body_len;
    char *location; /* Location-Path joined with '/', NULL if absent */
} tep_response;

/* Static strings, never NULL (an unknown code has a generic name); any thread. */
TEP_API const char *tep_strerror(int err);
TEP_API const char *tep_version(void);

/* ---- the device ------------------------------------------------------------------ */

/* Reads provisioning_path (required: section [device], keys kpm_id, kpm (64 hex),
 * mef_uri, mef_fqdn) and state_path (the enrolment state; may not exist yet, then the
 * device is not enrolled). state_path is also where tep_enrol() writes. Both paths are
 * copied. *ret_dev is owned by the caller: tep_device_free().
 * TEP_ENOTFOUND / TEP_EIO for an unreadable provisioning file, TEP_ECONFIG for a
 * malformed one, TEP_ECORRUPT for a malformed state file. */
TEP_API int tep_device_load(const char *provisioning_path, const char *state_path,
                            tep_device **ret_dev);
/* Wipes every key and frees. Connections made from dev must be freed first. NULL is
 * fine. */
TEP_API void tep_device_free(tep_device *dev);

/* Timeout for each handshake and each request (default TEP_DEFAULT_TIMEOUT_MS) of the
 * device's later calls and connections; timeout_ms <= 0 or dev NULL: ignored. */
TEP_API void tep_device_set_timeout(tep_device *dev, int timeout_ms);

/* Accessors. Borrowed strings (see Ownership); NULL while the device is not enrolled
 * (KpmID and the MEF's values always exist) and for dev NULL; they never fail. */
TEP_API int tep_device_is_enrolled(const tep_device *dev); /* 1 or 0 */
TEP_API const char *tep_device_kpm_id(const tep_device *dev);
TEP_API const char *tep_device_mef_fqdn(const tep_device *dev);
TEP_API const char *tep_device_ke_id(const tep_device *dev);
TEP_API const char *tep_device_enrolee_id(const tep_device *dev); /* the AE-ID */
TEP_API const char *tep_device_app_id(const tep_device *dev);     /* "" if none */
TEP_API const char *tep_device_kpsa_id(const tep_device *dev);
TEP_API const char *tep_device_registrar_cse_id(const tep_device *dev);
TEP_API const char *tep_device_registrar_poa(const tep_device *dev);
TEP_API const char *tep_device_maf_id(const tep_device *dev);  /* "" if none */
TEP_API const char *tep_device_maf_poa(const tep_device *dev); /* MAF URI, "" if none */
TEP_API int64_t tep_device_expires(const tep_device *dev);     /* Unix secs, 0 if none */
/* 1 once tep_register_ae() succeeded for this enrolment (remembered in the state
 * file), else 0. */
TEP_API int tep_device_is_registered(const tep_device *dev);
/* The SAEF's pre-shared key of the enrolment (TS-0003 8.2.2.1: psk_identity KpsaID, psk
 * Kpsa) for an Entity A that runs the DTLS handshake in its own stack instead of
 * tep_connect(): tep-cse as an MN-CSE registering to its registrar (docs/internals.md
 * "CSE registration and routing"). The one call that hands a key out of the library:
 * key (TEP_PSK_LEN bytes) is the caller's to wipe. identity gets the KpsaID (NUL
 * terminated). TEP_ESTATE: not enrolled; TEP_EEXPIRED; TEP_ERANGE: id_len too small;
 * TEP_EINVAL: a NULL argument. */
TEP_API int tep_device_psk(const tep_device *dev, char *identity, size_t id_len,
                           uint8_t key[TEP_PSK_LEN]);
/* Resource path of the device's AE: "<cse-name>/<rn>", rn as registered by
 * tep_register_ae() (remembered in the state file), else the AE-ID. NULL if not
 * enrolled. */
TEP_API const char *tep_device_ae_path(const tep_device *dev);

/* Enrols (or re-enrols, replacing the previous enrolment) with the MEF, then writes
 * the state file (0600, atomically). A device provisioned with [gba] (TS-0003 8.3.2.3)
 * first bootstraps with tep-bsf over HTTP (its software USIM, SQN_MS in "<state>.usim")
 * and enrols with psk_identity = B-TID, Ke = Ks_NAF, KeID = B-TID (docs/keys.md "GBA");
 * TEP_EDENIED then also covers a 403 of the BSF (wrong RES, unknown IMPI). TEP_EDENIED: handshake refused (unknown, revoked
 * or expired KpmID) or the MEF answered 4.03; TEP_ETIMEOUT: no answer in time, which
 * is also what a wrong Kpm looks like (the MEF silently drops a Finished it cannot
 * verify, RFC 6347 4.1.2.7);
 * TEP_EPROTO: the answer is malformed or names another KeID. On error the previous
 * enrolment, if any, is kept. */
TEP_API int tep_enrol(tep_device *dev);

/* ---- connections ----------------------------------------------------------------- */

/* DTLS-PSK to the registrar's poa (psk_identity KpsaID, psk Kpsa, SNI = host of the
 * poa), waiting for the handshake. dev is borrowed and must outlive the connection;
 * requests default to From = the device's AE-ID. *ret_conn is owned by the caller.
 * TEP_ESTATE: not enrolled; TEP_EEXPIRED: enrolment expired; TEP_EDENIED: handshake
 * refused; TEP_ETIMEOUT: no handshake in time. */
TEP_API int tep_connect(tep_device *dev, tep_conn **ret_conn);
/* Plain CoAP (no security; tests and loopback administration) to uri
 * ("coap://host:port"). originator: the default From (copied), NULL for none.
 * *ret_conn is owned by the caller. TEP_EINVAL: not a coap:// URI; TEP_ENOTFOUND: the
 * host does not resolve; TEP_ECOAP. */
TEP_API int tep_conn_plain(const char *uri, const char *originator, tep_conn **ret_conn);
/* Closes the session (DTLS close_notify), wipes its keys and frees. NULL is fine. */
TEP_API void tep_conn_free(tep_conn *conn);
/* Timeout for each later request on conn; timeout_ms <= 0 or conn NULL: ignored. */
TEP_API void tep_conn_set_timeout(tep_conn *conn, int timeout_ms);

/* ---- oneM2M requests ------------------------------------------------------------- */

/* One request (op TEP_OP_*; TEP_OP_NOTIFY is a POST without TY), waiting for its
 * response. path: CSE-relative structured path
 * ("tep-cse/Cdevice01/data", leading '/' ignored), optionally followed by '?' and
 * '&'-separated query parameters, each sent as one Uri-Query option
 * ("tep-cse/Cdevice01/data?tids=<Token-ID>"). ty: resource type for CREATE, else
 * 0. json_body: the request content or NULL. from: NULL = the connection's default
 * originator, "" = no From option, anything else is sent as is. A fresh RQI is sent
 * and must be echoed. *ret_rsp is owned by the caller. Returns 0 whenever a response
 * arrived, whatever its RSC; TEP_ETIMEOUT, TEP_EDENIED (session closed by the peer),
 * TEP_EPROTO (the answer echoed another RQI), TEP_ECOAP otherwise. */
TEP_API int tep_request(tep_conn *conn, int op, const char *path, unsigned ty,
                        const char *json_body, const char *from, tep_response **ret_rsp);
TEP_API void tep_response_free(tep_response *rsp); /* NULL is fine */

/* AE registration (CREATE ty=2 under the registrar's CSEBase) with api = app_id (NULL:
 * the App-ID of the enrolment, else TEP_DEFAULT_APP_ID) and rn (NULL: the AE-ID). On RSC 2001 the rn is
 * remembered in the state file (tep_device_ae_path()). Needs a tep_connect()
 * connection (TEP_ESTATE otherwise). *ret_rsp and errors as tep_request(), and
 * TEP_EIO when the state file cannot be written. */
TEP_API int tep_register_ae(tep_conn *conn, const char *app_id, const char *rn,
                            tep_response **ret_rsp);
/* CREATE of type ty under parent_path with json_body (the whole {"m2m:xxx":{...}}).
 * These three are tep_request() with From = the connection's default: the same
 * ownership and errors (TEP_EINVAL for ty 0). */
TEP_API int tep_create(tep_conn *conn, const char *parent_path, unsigned ty, const char *json_body,
                       tep_response **ret_rsp);
TEP_API int tep_retrieve(tep_conn *conn, const char *path, tep_response **ret_rsp);
TEP_API int tep_delete(tep_conn *conn, const char *path, tep_response **ret_rsp);

/* ---- certificate enrolment (TS-0003 8.3.6) --------------------------------------- */

/* Enrols as tep_enrol() does (a new MEF session, replacing the previous enrolment) and,
 * in the same session, gets a certificate from the tep CA: makes a P-256 key and a CSR
 * whose subjectAltName URI is "onem2m:<AE-ID>" (the AE-ID the MEF just assigned),
 * checks the answer (it chains to the trust anchor that comes with it and names this
 * AE-ID) and writes, each mode 0600 and atomically, tep_device_cert_path()'s "key",
 * "crt" and "ca" files. TEP_EDENIED: the MEF refused (handshake or 4.03);
 * TEP_EPROTO: a malformed answer or a certificate that does not check out (the new
 * enrolment is installed all the same: the MEF replaced the old one). */
TEP_API int tep_enrol_cert(tep_device *dev);
/* The same, but the CSR names csr_id instead of the assigned AE-ID: for tests and
 * demonstrations of the MEF's refusal (4.03 -> TEP_EDENIED) of someone else's ID. */
TEP_API int tep_enrol_cert_as(tep_device *dev, const char *csr_id);
/* Opens the certificate-based SAEF (TS-0003 8.2.2.2) to the registrar CSE: ECDHE-ECDSA
 * DTLS with the key and certificate tep_enrol_cert() stored; the CSE's certificate must
 * chain to the stored trust anchor and name the registrar CSE-ID in its subjectAltName
 * ("onem2m:<CSE-ID>"). The CSE binds the session to the AE-ID of this device's
 * certificate. TEP_ESTATE: not enrolled or no certificate yet; TEP_EEXPIRED;
 * TEP_EDENIED: handshake refused either way. */
TEP_API int tep_connect_cert(tep_device *dev, tep_conn **ret_conn);
/* The path of a certificate-enrolment file: which = "key" (EC PRIVATE KEY, PEM),
 * "crt" (the certificate) or "ca" (the trust anchor): "<state path>.<which>.pem",
 * written into the caller's buf of len bytes (NUL-terminated). TEP_EINVAL: another
 * which; TEP_ERANGE: buf too small. Whether the file exists is not checked. */
TEP_API int tep_device_cert_path(const tep_device *dev, const char *which, char *buf, size_t len);

/* ---- the certificate-based RSPF (TS-0003 8.3.2.2) and re-provisioning (8.3.1.2) ----- */

/* Enrols without any Kpm: the certificate MEF Handshake (ECDHE-ECDSA DTLS) to the MEF
 * with a certificate the device already holds (a manufacturer's, or one the tep CA
 * issued) and its key (PEM files), the MEF's certificate checked to mef_ca_file (the tep
 * CA, <enroller data_dir>/ca.pem) and to subjectAltName "onem2m:<MEF-FQDN>"; then POST
 * /enrol as tep_enrol() does, Ke and KeID from the same exporter. With want_cert, a tep
 * certificate in the same session as tep_enrol_cert() (files of tep_device_cert_path()).
 * The provisioning file may be a certificate enrolee's (`credential = certificate`, no
 * kpm; tep_enrol() then answers TEP_ESTATE). TEP_ENOTFOUND: a file is unreadable;
 * TEP_EDENIED: the MEF refused the certificate (unknown issuer, not an enrolee,
 * revoked) or 4.03; TEP_ETIMEOUT; TEP_EPROTO as tep_enrol(). */
TEP_API int tep_enrol_with_cert(tep_device *dev, const char *cert_file, const char *key_file,
                                const char *mef_ca_file, int want_cert);
/* Certificate re-provisioning: a new tep certificate for the same enrolment (same Ke, no
 * Kpm session), in a certificate MEF Handshake authenticated with the current one
 * (tep_device_cert_path() files, the stored trust anchor also checking the MEF). The
 * files are replaced only when the new certificate checks out. TEP_ESTATE: not enrolled
 * or no certificate yet; TEP_EDENIED: the current certificate was refused (expired,
 * revoked, its enrolment replaced or revoked). */
TEP_API int tep_cert_renew(tep_device *dev);

/* ---- dynamic authorization: tokens (TS-0003 7.3.2.3, indirect flow) ---------------- */

/* A token from the MAF/DAS. Owned by the caller: tep_token_free(). */
typedef struct tep_token {
    char *id;        /* Token-ID (tkid): present it to the CSE as Uri-Query "tids=<id>" */
    char *jws;       /* the token itself (JWS Compact, ES256) */
    char *holder;    /* its holder: this AE's absolute ID ("//sp-id/cse-id/AE-ID") */
    int64_t expires; /* Unix seconds */
} tep_token;

/* Asks the MAF/DAS at maf_uri ("coaps://host:port"; NULL: the enrolment's MAF point of
 * access, tep_device_maf_poa(); DTLS-PSK with the KmID/Km of the
 * enrolment, derived from Ke and its MAF-ID) for a token permitting the acop bits
 * (1..63, TS-0004 acop) on the targets ris (structured paths "/<cse-name>/...") at the
 * device's registrar CSE, for lifetime seconds (0: as long as the DAS grants). The CSE
 * answers a request that presents it with the Local-Token-ID in the ATI option.
 * TEP_ESTATE: not enrolled, no MAF-ID, or no URI; TEP_EEXPIRED: enrolment expired; TEP_EDENIED:
 * handshake refused or no grant (4.03); TEP_EINVAL: bad arguments or refused as
 * malformed (4.00); TEP_EPROTO: a malformed answer; TEP_ETIMEOUT. */
TEP_API int tep_token_request(tep_device *dev, const char *maf_uri, const char *const *ris,
                              size_t n_ris, unsigned acop, int64_t lifetime, tep_token **ret_token);
TEP_API void tep_token_free(tep_token *t); /* NULL is fine; wipes the token text */

/* ---- the MAF-based SAEF (TS-0003 8.8, 8.2.2.3) ----------------------------------- */

/* A connection key Kc registered at the MAF for one target. Opaque: Kc never leaves the
 * library. Owned by the caller: tep_kc_free() (wipes Kc). */
typedef struct tep_kc tep_kc;

/* At the MAF at maf_uri ("coaps://host:port"; NULL: the MAF's point of access from the
 * enrolment answer, TEP_ESTATE when it had none; DTLS-PSK with the enrolment's KmID/Km,
 * the MAF Handshake): MAF Client Registration, then MAF Key Registration (SUID 32) for
 * target_id (a CSE-ID, e.g. the registrar's "/tep-cse") for lifetime seconds (0: the
 * MAF's default; the MAF bounds it by the enrolment's expiry). Kc and KcID come from
 * EXPORTER-oneM2M-Connection on that session (16 bytes KcID, 32 bytes Kc); the Key
 * Identifier is hex(KcID)@MAF-ID and must match the MAF's answer. TEP_ESTATE: not
 * enrolled or no MAF-ID; TEP_EEXPIRED; TEP_EDENIED: handshake refused or 4.01/4.03;
 * TEP_EINVAL: bad arguments or 4.00; TEP_EPROTO: a malformed or mismatching answer. */
TEP_API int tep_maf_register_key(tep_device *dev, const char *maf_uri, const char *target_id,
                                 int64_t lifetime, tep_kc **ret_kc);
/* The same in the certificate MAF Handshake (TS-0003 8.8.2.2): ECDHE-ECDSA with the key
 * and certificate of tep_enrol_cert(), the MAF's certificate checked to the stored trust
 * anchor and to subjectAltName "onem2m:<MAF-ID>". The MAF knows the client by its
 * certificate (no assignedSymmKeyID); it accepts it only while the enrolment is live.
 * TEP_ESTATE also when there is no certificate yet. */
TEP_API int tep_maf_register_key_cert(tep_device *dev, const char *maf_uri, const char *target_id,
                                      int64_t lifetime, tep_kc **ret_kc);
/* MAF Key Registration Update (8.8.2.9), in a new MAF Handshake of the kind kc was
 * registered in: a new expiry of lifetime seconds from now (0: unchanged; the MAF may
 * shorten it, kc's expiry follows its answer) and/or the single target target_id (NULL:
 * unchanged); at least one. The targets learn it from the MAF (a dropped target drops
 * Kc). TEP_EDENIED: refused (not the source, key expired, no client registration);
 * TEP_ENOTFOUND: the MAF no longer has the key; TEP_EINVAL. */
TEP_API int tep_maf_update_key(tep_device *dev, const char *maf_uri, tep_kc *kc, int64_t lifetime,
                               const char *target_id);
/* MAF Key De-Registration (8.8.2.10): the MAF gives Kc to no one from now on and tells
 * its targets, which close the sessions opened with it. Errors as tep_maf_update_key. */
TEP_API int tep_maf_deregister_key(tep_device *dev, const char *maf_uri, const tep_kc *kc);
/* MAF Client De-Registration (8.8.2.6) of the client registration kc was registered
 * under: the MAF deletes it and de-registers every key registered with it. */
TEP_API int tep_maf_deregister_client(tep_device *dev, const char *maf_uri, const tep_kc *kc);
/* Accessors: borrowed from kc, valid until tep_kc_free(kc) (an update changes only the
 * expiry); NULL (0) for kc NULL; they never fail. */
TEP_API const char *tep_kc_client_reg_id(const tep_kc *kc); /* mafClientRegID */
TEP_API const char *tep_kc_key_id(const tep_kc *kc);        /* hex(KcID)@MAF-FQDN */
TEP_API int64_t tep_kc_expires(const tep_kc *kc);           /* Unix seconds */
TEP_API void tep_kc_free(tep_kc *kc);                       /* NULL is fine */
/* Kc as a DTLS pre-shared key (psk_identity = the Key Identifier, psk = Kc) for an
 * Entity A with its own DTLS stack, as tep_device_psk(): key is the caller's to wipe.
 * TEP_EEXPIRED past tep_kc_expires(); TEP_ERANGE, TEP_EINVAL as there. */
TEP_API int tep_kc_psk(const tep_kc *kc, char *identity, size_t id_len, uint8_t key[TEP_PSK_LEN]);

/* The target's side of the MAF-based SAEF (TS-0003 8.2.2.3, 8.8.2.8 MAF Key Retrieval):
 * a CSE (Entity B) that is not on tep's bus fetches the Kc an Entity A registered for it.
 * In a new MAF Handshake with dev's own enrolment (DTLS-PSK with its KmID/Km; maf_uri
 * NULL: the enrolment's MAF point of access, TEP_ESTATE when it had none), GET
 * maf/keys/<relativeKeyID of key_id>. The MAF answers only when the session's client,
 * dev's Enrolee-ID (a CSE-ID such as "/mn-cse1" for a SAEF key), is one of the key's
 * targets; the answer must be a SUID 32 key with the Key Identifier asked for. key_id:
 * "<32 hex>@<MAF-ID>" as entity A's psk_identity carries it; its MAF-ID must be dev's
 * (TEP_EINVAL otherwise: another MAF's key is never asked for). *ret_kc is the caller's
 * (tep_kc_free() wipes Kc): tep_kc_psk() gives Kc to the caller's DTLS stack,
 * tep_kc_expires() the key's expirationTime (the target must refuse it after that),
 * tep_kc_source_id() the source (the Entity A the session is bound to); it has no
 * client registration (tep_kc_client_reg_id() is "") and is not for update or
 * de-registration (only the source may: 4.03). Nothing is written to the state file.
 * TEP_EDENIED: not a target of the key (4.03), no bound Km (4.01) or the handshake
 * refused; TEP_ENOTFOUND: unknown, expired or de-registered key, or its source's
 * enrolment revoked (4.04); TEP_EPROTO: a malformed or mismatching answer (another
 * keyID or SUID, no expirationTime or sourceID); TEP_EEXPIRED: dev's enrolment expired;
 * TEP_ETIMEOUT and the transport errors of tep_connect(). Threads: as any call on dev
 * (one thread at a time per device; it blocks its thread for at most the device's
 * timeout per exchange). */
TEP_API int tep_maf_retrieve_kc(tep_device *dev, const char *maf_uri, const char *key_id,
                                tep_kc **ret_kc);
/* The source of a Kc from tep_maf_retrieve_kc() (its sourceID: an AE-ID or CSE-ID);
 * "" for a key this device registered itself; NULL for kc NULL. Borrowed from kc. */
TEP_API const char *tep_kc_source_id(const tep_kc *kc);

/* DTLS-PSK to the target at uri (NULL: the registrar's poa) with psk_identity = the Key
 * Identifier and psk = Kc. The target learns Kc from the MAF when it first sees the
 * identity, so a refused handshake is retried for about a second and a half. dev and
 * kc are borrowed (kc may be freed once connected). Errors as tep_connect(). */
TEP_API int tep_connect_kc(tep_device *dev, const tep_kc *kc, const char *uri, tep_conn **ret_conn);

/* ---- notifications over DTLS (SA2, TS-0003 8.2.1) ------------------------------------ */

/* A request-reachable device receives its notifications (and the verification request
 * of a subscription, TS-0004 7.5.1.2.3) over a second security association, SA2: the
 * registrar CSE is the DTLS client, the device the server, with the credential of the
 * device's own association (SA1): psk_identity = KpsaID and psk = Kpsa, or the Kc (or
 * MEF Kuc) the device connected with. The device announces the listener's address as a
 * coaps:// notificationURI or pointOfAccess (docs/cse.md "Notifications over DTLS").
 * A peer that does not hold that key fails the handshake and reaches nothing. */
typedef struct tep_listener tep_listener;

/* One NOTIFY received. Owned by the caller: tep_notification_free(). Strings are
 * NUL-terminated and owned by the notification. */
typedef struct tep_notification {
    char *from; /* oneM2M From (the CSE-ID of the sender), "" if absent */
    char *rqi;  /* oneM2M RQI, "" if absent */
    char *path; /* Uri-Path joined with '/' ("" for none) */
    char *body; /* the content, e.g. {"m2m:sgn":{...}} */
    size_t body_len;
    int verification; /* 1: a subscription verification request (m2m:sgn vrq true) */
    char *identity;   /* the psk_identity the sender authenticated with */
} tep_notification;

/* Bounds: notifications waiting for tep_listener_next() (more are answered 5.03 and
 * dropped: the CSE logs the failure), and the largest body taken (larger: 4.00; Block1
 * transfers over it: 4.13). */
#define TEP_LISTEN_QUEUE_MAX 32
#define TEP_LISTEN_BODY_MAX 65536

/* Opens the listener on uri ("coaps://IP:port", numeric host, a fixed port) and starts
 * serving it in a thread of its own: DTLS-PSK accepting the device's KpsaID/Kpsa and,
 * when kc is not NULL, its Key Identifier/Kc too (the key is copied; kc may be freed
 * afterwards); at most 4 sessions at once, 4 more in handshake. Every NOTIFY (a POST
 * without TY, a body of 1..TEP_LISTEN_BODY_MAX bytes) is answered 2.04 with RSC 2000
 * and queued, a verification request included (the device consents to the
 * subscriptions it asks for by listening); other methods 4.05. dev is borrowed for the
 * call. *ret is the caller's: tep_listener_free(). TEP_ESTATE: not enrolled;
 * TEP_EINVAL: not a coaps:// URI with a numeric host, or a kc that is no connection key;
 * TEP_EIO: the port is taken or cannot be bound; TEP_ECOAP. */
TEP_API int tep_listen(tep_device *dev, const char *uri, const tep_kc *kc, tep_listener **ret);
/* The same for a device that connects with its tep certificate (tep_connect_cert(),
 * TS-0003 8.2.2.2): its key and certificate (tep_device_cert_path()) serve certificate
 * handshakes too, the client's certificate must chain to the stored trust anchor and
 * name the registrar's CSE-ID (subjectAltName "onem2m:<CSE-ID>"); the KpsaID/Kpsa is
 * accepted as with tep_listen(). TEP_ESTATE: not enrolled or no certificate yet;
 * otherwise errors as tep_listen(). */
TEP_API int tep_listen_cert(tep_device *dev, const char *uri, tep_listener **ret);
/* The oldest notification received, waiting up to timeout_ms (0: only one already
 * there). *ret is the caller's. TEP_ETIMEOUT: none came. May be called from another
 * thread than the one that opened the listener, one thread at a time. */
TEP_API int tep_listener_next(tep_listener *l, int timeout_ms, tep_notification **ret);
/* How many handshakes named another identity (or presented a certificate naming
 * another CSE), and notifications dropped for a full queue, so far (0 for l NULL). */
TEP_API unsigned long tep_listener_refused(tep_listener *l);
TEP_API void tep_notification_free(tep_notification *n); /* NULL is fine */
/* Stops the thread, closes the sessions, wipes the keys, frees what is queued. NULL is
 * fine. */
TEP_API void tep_listener_free(tep_listener *l);

/* ---- end-to-end security of data (ESData, TS-0003 8.5) ----------------------------- */

/* The end-to-end keys of one pair of end points (TS-0003 10.3.6): Ke2e_master =
 * HMAC-SHA-256(End-Point-B-ID, pair key) and its four expansions (docs/keys.md items
 * 13-19). Opaque: the keys never leave the library and are wiped by tep_e2e_key_free(). */
typedef struct tep_e2e_key tep_e2e_key;

/* From a pair key both ends were given (a pre-provisioned ESData key, SUID 14/15): 64
 * hex digits. kid: the identifier the objects carry and the opener looks for (printable
 * ASCII, copied); b_id: End-Point-B-ID, the ID of the receiving end (e.g. the
 * application's AE-ID). *ret_key is owned by the caller. TEP_EINVAL: a malformed key,
 * kid or b_id. */
TEP_API int tep_e2e_key_from_hex(const char *pair_key_hex, const char *kid, const char *b_id,
                                 tep_e2e_key **ret_key);
/* From the enrolment's Kpsa (TS-0003 8.6.2, 10.3.6.1): the pair (this device, its
 * registrar CSE), End-Point-B-ID = the registrar CSE-ID, kid = the KpsaID (docs/keys.md
 * items 13, 14). TEP_ESTATE: not enrolled. */
TEP_API int tep_e2e_key_from_kpsa(const tep_device *dev, tep_e2e_key **ret_key);
TEP_API const char *tep_e2e_key_id(const tep_e2e_key *key); /* borrowed */
TEP_API void tep_e2e_key_free(tep_e2e_key *key);            /* NULL is fine */

/* ESData security classes (TS-0003 8.5.3.1). */
enum { TEP_ESDATA_ENCRYPT = 1, TEP_ESDATA_SIGN = 2, TEP_ESDATA_SIGN_ENCRYPT = 3 };

/* Protects data (len bytes) as an ESData object, the compact text that goes where the
 * data would (e.g. a contentInstance's con):
 *  - TEP_ESDATA_ENCRYPT: JWE {"kid","alg":"dir","enc":"A256GCM"} under Ke2e_att_conf;
 *    signer unused;
 *  - TEP_ESDATA_SIGN: signer NULL: JWS {"alg":"HS256","kid"} under Ke2e_att_auth; signer
 *    given: JWS {"alg":"ES256","x5c":[its certificate]} with the key of
 *    tep_enrol_cert() (key unused then);
 *  - TEP_ESDATA_SIGN_ENCRYPT: the ES256 JWS of signer, encrypted as above with
 *    "cty":"JOSE" (8.5.3.4: the inner signature is ECDSA, so signer is required).
 * signer and key are borrowed. *ret_object (malloc'd, NUL-terminated) is the caller's:
 * free(). TEP_EINVAL: unknown class or a missing key/signer; TEP_ESTATE: signer has no
 * certificate (tep_enrol_cert() first); TEP_ERANGE: data over 256 KiB. */
TEP_API int tep_esdata_protect(int cls, const tep_e2e_key *key, const tep_device *signer,
                               const uint8_t *data, size_t len, char **ret_object);

/* An opened ESData object. Owned by the caller: tep_esdata_free() (wipes data). */
typedef struct tep_esdata {
    int cls;       /* the TEP_ESDATA_* class the object turned out to be */
    uint8_t *data; /* the data, with a NUL after len bytes */
    size_t len;
    char *signer; /* ES256: the ID its certificate names (subjectAltName onem2m:<ID>);
                      HS256: the kid; NULL for encryption only */
} tep_esdata;

/* Opens an ESData object: a JWE is decrypted with key (its kid must be key's), and when
 * its cty is "JOSE" the plaintext must be an ES256 JWS; a JWS is verified with key
 * (HS256, kid must match) or with its x5c certificate, which must chain to the trust
 * anchor in the PEM file ca_pem_path (e.g. tep_device_cert_path(dev, "ca")). The caller
 * decides which classes and signers it accepts from the result. key and ca_pem_path
 * may be NULL when the object needs none. TEP_EINVAL: not a JWS/JWE this library
 * supports (other alg or enc, malformed); TEP_EDENIED: another kid, a wrong key, an
 * altered object, a bad signature, a certificate that does not check out, alg "none". */
TEP_API int tep_esdata_open(const char *object, const tep_e2e_key *key, const char *ca_pem_path,
                            tep_esdata **ret);
TEP_API void tep_esdata_free(tep_esdata *d); /* NULL is fine */
/* The "kid" of an object's (outer) protected header into buf, not verified: which key
 * to fetch (tep_maf_retrieve_e2e_key). TEP_ENOTFOUND: none; TEP_ERANGE: too long. */
TEP_API int tep_esdata_kid(const char *object, char *buf, size_t len);

/* End-to-end keys through the MAF (TS-0003 8.6.1.2, 8.8.2.7/8.8.2.8). The source
 * registers a key for its target with an end-to-end SUID: 33 (ESPrim), 34 (ESData
 * encryption) or 35 (ESData signature); target_id is the target's ID as the MEF assigned
 * it (an AE-ID such as "Capp01", or a CSE-ID "/name"). Kc comes from the session's
 * exporter as for tep_maf_register_key() (Km session); the key is never a DTLS PSK. The
 * target then gets Kc from the MAF in its own MAF Handshake (tep_maf_retrieve_e2e_key);
 * both derive the same tep_e2e_key: kid = the Key Identifier, End-Point-B-ID = the
 * target ID. Errors as tep_maf_register_key(); TEP_EINVAL for another SUID or a target
 * of the wrong form. */
TEP_API int tep_maf_register_e2e_key(tep_device *dev, const char *maf_uri, unsigned suid,
                                     const char *target_id, int64_t lifetime, tep_kc **ret_kc);
/* The end-to-end keys of a kc from tep_maf_register_e2e_key() or from
 * tep_mef_register_key() with an end-to-end SUID (23 ESPrim, 24 ESData encryption, 25 ESData
 * signature): kid = the Key Identifier, End-Point-B-ID = the key's one target (TEP_EINVAL
 * for a SAEF key). *ret_key is the caller's: tep_e2e_key_free(). */
TEP_API int tep_e2e_key_from_kc(const tep_kc *kc, tep_e2e_key **ret_key);
/* The target's side: MAF Key Retrieval of key_id (the kid of an object it received)
 * over DTLS-PSK with its Km (maf_uri NULL: the enrolment's MAF); the MAF answers only a
 * target of an end-to-end key. End-Point-B-ID is this device's AE-ID. TEP_EDENIED: not
 * a target (4.03) or handshake refused; TEP_ENOTFOUND: unknown, expired or
 * de-registered key; TEP_EPROTO: a malformed answer. */
TEP_API int tep_maf_retrieve_e2e_key(tep_device *dev, const char *maf_uri, const char *key_id,
                                     tep_e2e_key **ret_key);

/* ---- end-to-end security of primitives (ESPrim, TS-0003 8.4; TS-0004 7.6.2) ---------- */

/* An ESPrim session of this device (the Originator) with its registrar CSE (the Receiver):
 * pairwiseESPrimKey = Ke2e_msg_conf of the enrolment's Kpsa with End-Point-B = the
 * registrar CSE-ID (TS-0003 8.6.2, SUID 23), kid = KpsaID; a fresh originator rand object
 * (esrx = now + lifetime, not after the receiver's); sessionESPrimKey of 10.3.8. Opaque,
 * wiped by tep_esprim_free(). No I/O: the caller sends what it protects. */
typedef struct tep_esprim tep_esprim;

/* receiver_rand_json: the receiverESPrimRandObject, e.g. the "ero" of the answer to a
 * NOTIFY {"m2m:seci":{"sit":3}} to the CSEBase, or its e2eSecInfo's "esro". TEP_EPROTO:
 * malformed or offering no HMAC-SHA256 / A256GCM; TEP_EEXPIRED: past its esrx;
 * TEP_ESTATE: not enrolled. *ret is the caller's. */
TEP_API int tep_esprim_new(const tep_device *dev, const char *receiver_rand_json, int64_t lifetime,
                           tep_esprim **ret);
/* The same with a MAF pairwise key (8.4.2 A, "MAF ESPrim Framework"): kc from
 * tep_maf_register_e2e_key() with SUID 33 for the Receiver's CSE-ID; kid = its Key
 * Identifier, pairwiseESPrimKey = Ke2e_msg_conf of Kc with End-Point-B = that target. The
 * Receiver fetches Kc from the MAF on sight (until then it answers 4112: retry). Or a MEF
 * key: kc from tep_mef_register_key() with SUID 23 for the Receiver's CSE-ID (Kuc; the
 * Receiver gets it from the enroller's sync, 4112 until then). TEP_EINVAL: not an ESPrim
 * kc. */
TEP_API int tep_esprim_new_kc(const tep_kc *kc, const char *receiver_rand_json, int64_t lifetime,
                              tep_esprim **ret);
/* The same with the pairwiseESPrimKey of an end-to-end key: Ke2e_msg_conf of key, kid its
 * kid, e.g. the key of tep_escertke() or tep_escertke_cse() (End-Point-B = that CSE-ID). */
TEP_API int tep_esprim_new_e2e(const tep_e2e_key *key, const char *receiver_rand_json,
                               int64_t lifetime, tep_esprim **ret);
/* ESCertKE (TS-0003 8.7) as the Initiating End-Point with the registrar CSE over conn (any
 * connection, plain CoAP too): a TLS 1.2 handshake with the certificate, key and trust
 * anchor of tep_enrol_cert(), its four messages in two NOTIFYs to the CSEBase
 * ({"m2m:seci":{"sit":6,"eckm":<base64>}}, TS-0004 7.5.1.2.12). The CSE's certificate
 * must chain to the trust anchor and name the registrar CSE-ID. *ret_key: the end-to-end
 * keys of pairwiseE2EKey (exporter "EXPORTER-oneM2M-ESCertKE", docs/keys.md item 20),
 * End-Point-B = the registrar CSE-ID, kid = hex(pairwiseE2EKeyID). TEP_ESTATE: not
 * enrolled or no certificate; TEP_EDENIED: either end refused the handshake (the CSE
 * answers 4103); TEP_EPROTO: a malformed answer; errors of tep_request(). */
TEP_API int tep_escertke(tep_conn *conn, const tep_device *dev, tep_e2e_key **ret_key);
/* The same with the CSE cse_id (NULL: the registrar), e.g. the IN-CSE behind the device's
 * MN-CSE: the NOTIFYs go SP-relative to "~<cse_id>/-" (forwarded hop by hop), its
 * certificate must name cse_id, End-Point-B = cse_id. TEP_EINVAL: not a CSE-ID. */
TEP_API int tep_escertke_cse(tep_conn *conn, const tep_device *dev, const char *cse_id,
                             tep_e2e_key **ret_key);
/* The same with an AE as the Terminating End-Point (its registrar relays the NOTIFYs
 * sent to ae_path, "<cse-name>/<AE-ID>", to it; tep_esprim_receiver_set_escertke): its
 * certificate must name that AE-ID, End-Point-B = that AE-ID. */
TEP_API int tep_escertke_ae(tep_conn *conn, const tep_device *dev, const char *ae_path,
                            tep_e2e_key **ret_key);
TEP_API int64_t tep_esprim_expires(const tep_esprim *s); /* Unix seconds */
/* inner_json: the inner request primitive, TS-0004 8.4 JSON ({"op","to","fr","rqi","ty",
 * "pc",...}). *ret_outer_body (malloc'd) is the content of the outer NOTIFY to the
 * CSEBase: {"m2m:seci":{"sit":5,"epo":<JWE dir A256GCM>}}; the protected header carries
 * kid, ori, rri, cty and, until tep_esprim_sent(), the whole originator rand object
 * (oro). TEP_EEXPIRED: the session is past its expiry. */
TEP_API int tep_esprim_protect(tep_esprim *s, const char *inner_json, char **ret_outer_body);
/* After the Receiver answered an object of this session with sit 5: it has recorded the
 * originator rand object, later objects carry only its ID. */
TEP_API void tep_esprim_sent(tep_esprim *s);
/* outer_body: the content of the outer response (2000 with sit 5); *ret_inner_json
 * (malloc'd) is the verified inner response primitive ({"rsc","rqi","pc",...}).
 * TEP_EDENIED: another session's object, a wrong key or an altered object; TEP_EPROTO:
 * not an ESPrim answer (an error RSC of the outer response comes without one). */
TEP_API int tep_esprim_open(const tep_esprim *s, const char *outer_body, char **ret_inner_json);
TEP_API void tep_esprim_free(tep_esprim *s); /* NULL is fine */

/* An AE as the ESPrim Receiver (End-Point B; TS-0003 8.4.2 B-C): its registrar relays
 * the NOTIFYs an Originator sends to the AE's resource ({"m2m:seci":{"sit":3|5}}) to its
 * pointOfAccess. key_fn gives the end-to-end key of a kid met for the first time (e.g.
 * tep_mef_retrieve_e2e_key() for a Kuc registered with SUID 23 for this AE-ID; 0 and
 * *ret_key, the receiver's to free, or nonzero: 4112); inner_fn gets each opened inner
 * request primitive (TS-0004 8.4 JSON) and returns the response primitive's JSON in
 * *ret_inner_rsp (malloc'd, at least {"rsc":N}; "pc" optional; rqi and to are filled in),
 * or nonzero (5000). Both are called from the thread that handles the NOTIFY. Receiver
 * rand objects (10 min, 64 live), originator rand objects (64), replay memory (1024
 * objects: 5103 when full) are in memory. Refusals are tep-cse's (4111-4116, 5210/5211).
 * *ret: tep_esprim_receiver_free(). */
typedef int (*tep_esprim_key_fn)(const char *kid, void *arg, tep_e2e_key **ret_key);
typedef int (*tep_esprim_inner_fn)(const char *inner_request_json, void *arg, char **ret_inner_rsp);
typedef struct tep_esprim_receiver tep_esprim_receiver;
TEP_API int tep_esprim_receiver_new(tep_esprim_key_fn key_fn, void *key_arg,
                                    tep_esprim_inner_fn inner_fn, void *inner_arg,
                                    tep_esprim_receiver **ret);
/* One NOTIFY's content (from: its From): *ret_rsc and *ret_answer (malloc'd JSON: the m2m:seci answer, or
 * m2m:dbg for a refusal) for the outer response. TEP_EINVAL: not an ESPrim exchange. */
TEP_API int tep_esprim_receiver_handle(tep_esprim_receiver *r, const char *from, const char *body,
                                       size_t len, unsigned *ret_rsc, char **ret_answer);
/* ESCertKE (TS-0003 8.7) with this AE as the Terminating End-Point (sit 6 too): the
 * certificate, key and trust anchor of dev's tep_enrol_cert() (copied); the initiator's
 * certificate must chain to that anchor and name the outer From (from, as the relaying
 * registrar gives it); the established key (End-Point-B = dev's AE-ID, kid =
 * hex(pairwiseE2EKeyID)) then serves sit 5. No revocation check here (an AE holds no
 * CRL). At most 4 handshakes in progress (5103). TEP_ESTATE: no certificate. */
TEP_API int tep_esprim_receiver_set_escertke(tep_esprim_receiver *r, const tep_device *dev);
TEP_API void tep_esprim_receiver_free(tep_esprim_receiver *r); /* NULL is fine; wipes */
/* l answers a NOTIFY carrying an ESPrim exchange with r (its RSC and answer) instead of
 * 2000 and the queue; r borrowed until tep_listener_free(l) (NULL: queue them again). */
TEP_API void tep_listener_set_esprim(tep_listener *l, tep_esprim_receiver *r);

/* ---- MEF procedures: keys for more than one target (TS-0003 8.3.5.2) --------------- */

/* In a MEF Handshake (DTLS-PSK with Kpm; a certificate enrolee: ECDHE-ECDSA with the tep
 * certificate of tep_enrol_with_cert(..., 1)), MEF Client Registration (8.3.5.2.3), then
 * MEF Key Registration (8.3.5.2.7) of the usage-constrained key
 * Kuc = HMAC-SHA-256(Ke, L_KUC || decimal(suid) || target_id) (10.3.7) for suid 22..25
 * and target_id (22 SAEF, 23 ESPrim: one Enrolment Target of the MEF, a CSE-ID, e.g.
 * "/mn1", which gets the key from the enroller; 24/25 ESData: an AE-ID as the MEF assigned
 * it, or a CSE-ID, which fetches it with tep_mef_retrieve_e2e_key), for lifetime
 * seconds (0: the MEF's default, an hour). End-to-end SUIDs: tep_e2e_key_from_kc(),
 * tep_esprim_new_kc(). The MEF hands Kuc to that target; connect
 * with tep_connect_kc(dev, kc, <target's coaps URI>, ...) (psk_identity = the Key
 * Identifier hex(HMAC(Kuc, "tep KucID")[0..15])@MEF-FQDN, docs/keys.md).
 * tep_kc_client_reg_id() gives the mefClientRegID. TEP_ESTATE: not enrolled (or a
 * certificate enrolee without a tep certificate); TEP_EEXPIRED; TEP_EDENIED: refused
 * (4.03: not a target of this MEF, no live enrolment); TEP_EINVAL (4.00); TEP_EPROTO:
 * the MEF named another key. */
TEP_API int tep_mef_register_key(tep_device *dev, unsigned suid, const char *target_id,
                                 int64_t lifetime, tep_kc **ret_kc); /* tep_kc_free() */
/* The same key computed locally from Ke, without the MEF (a key registered earlier);
 * no client registration id. *ret_kc is the caller's: tep_kc_free(). TEP_ESTATE: not
 * enrolled; TEP_EEXPIRED; TEP_EINVAL: another suid or a malformed target_id. */
TEP_API int tep_mef_key(tep_device *dev, unsigned suid, const char *target_id, tep_kc **ret_kc);
/* MEF Key Retrieval (8.3.5.2.8) by a target of an ESData key (SUID 24/25, registered by
 * its source with tep_mef_register_key() for this device's AE-ID): key_id is the kid of an
 * object it received (tep_esdata_kid), the Key Identifier of this device's MEF; in a MEF
 * Handshake as this enrolee. End-Point-B-ID is this device's AE-ID. TEP_EINVAL: not a Key
 * Identifier of the enrolment's MEF; TEP_EDENIED: not a target (4.03) or no live
 * enrolment; TEP_ENOTFOUND: unknown, expired or de-registered key, or its source's
 * enrolment ended; TEP_EPROTO: a malformed answer. *ret_key: tep_e2e_key_free(). */
TEP_API int tep_mef_retrieve_e2e_key(tep_device *dev, const char *key_id, tep_e2e_key **ret_key);
/* MEF Key Registration Update (8.3.5.2.9): a new expiry lifetime seconds from now (the
 * MEF may shorten it; kc's expiry follows its answer); the target learns it. TEP_ENOTFOUND:
 * not a live key of this enrolee; TEP_EDENIED: its client registration or enrolment is
 * gone. */
TEP_API int tep_mef_update_key(tep_device *dev, tep_kc *kc, int64_t lifetime);
/* MEF Key De-Registration (8.3.5.2.10): the target drops the key and closes its
 * sessions. kc is borrowed. TEP_ENOTFOUND: not a key of this enrolee; otherwise errors
 * as tep_mef_register_key(). */
TEP_API int tep_mef_deregister_key(tep_device *dev, const tep_kc *kc);
/* MEF Client Registration Update (8.3.5.2.5): a new expirationTime lifetime seconds
 * from now (the MEF may shorten it; *ret_expires, may be NULL, gets its answer). Errors
 * as tep_mef_register_key(); TEP_ENOTFOUND: no such registration. */
TEP_API int tep_mef_update_client(tep_device *dev, const char *reg_id, int64_t lifetime,
                                  int64_t *ret_expires);
/* MEF Client De-Registration (8.3.5.2.6): every key registered under it is
 * de-registered too. Errors as tep_mef_update_client(). */
TEP_API int tep_mef_deregister_client(tep_device *dev, const char *reg_id);

#ifdef __cplusplus
}
#endif

#endif
