/* libcoap server for the MEF: DTLS-PSK identity/SNI callbacks and POST /enrol. */
#include "enr_coap.h"

#include <coap3/coap.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmn_coap.h"
#include "cmn_crypto.h"
#include "cmn_dtls_guard.h"
#include "cmn_err.h"
#include "cmn_exporter.h"
#include "cmn_kdf.h"
#include "cmn_log.h"
#include "cmn_pki.h"
#include "enr_admin.h"
#include "enr_enrol.h"
#include "enr_mef.h"
#include "enr_trust.h"
#include "enr_gba.h"
#include "cmn_gba.h"

#include <stdbool.h>

#define SUB "coap"
#define ENR_BODY_MAX 1024
#define ENR_CERT_BODY_MAX 4096 /* a P-256 CSR in PEM is about 500 bytes */

/* A DTLS session whose PSK identity we accepted (coap_session app data). Kept in a
 * list so that whatever libcoap frees without telling us is released at the end. */
typedef struct enr_peer {
    struct enr_peer *next;
    coap_session_t *session;
    char kpm_id[128]; /* the enrolee's name (its KpmID for a PSK enrolee) */
    /* certificate MEF Handshake (TS-0003 8.3.2.2): the client certificate's serial, and
     * for a certificate the tep CA issued, the enrolment it is bound to (renewal) */
    char cert_serial[CMN_CA_SERIAL_MAX];
    char renew_ke_id[CMN_KEY_ID_MAX];
    coap_tick_t accepted; /* when the PSK identity or certificate was accepted */
    bool established;     /* DTLS handshake completed */
    bool reported;        /* a failed handshake was logged */
    bool gba;             /* GBA MEF Handshake: Ke = Ks_NAF, KeID = B-TID */
    char btid[CMN_GBA_BTID_MAX];
    uint8_t ks_naf[CMN_KEY_LEN];
    int64_t ks_expires; /* the B-TID's lifetime */
} enr_peer;

/* A handshake whose identity we accepted but that does not complete in this time is
 * logged as failed: with a wrong Kpm the peer's Finished does not decrypt and DTLS
 * drops it silently (RFC 6347 4.1.2.7), so no error event ever comes. */
#define ENR_HANDSHAKE_DEADLINE_MS 3000

struct enr_coap {
    coap_context_t *ctx;
    const enr_config *cfg;
    cmn_store *store;
    enr_events_fn on_events;
    void *arg;
    enr_ca *ca;
    coap_dtls_spsk_t spsk;          /* libcoap keeps a shallow copy: must live here */
    coap_dtls_spsk_info_t sni_info; /* answer of the SNI callback (no hint, no key) */
    uint8_t psk[ENR_KPM_LEN];       /* Kpm handed to libcoap (it copies): wiped after use */
    coap_bin_const_t psk_bin;
    enr_peer *peers;
    cmn_dtls_guard *guard;
    enr_trust *trust;                /* manufacturer anchors; NULL: no certificate handshake */
    enr_trust_files files;           /* the MEF's certificate, key and anchor bundle */
    cmn_tls_sni_check sni;           /* with certificates on, libcoap checks no SNI */
    uint8_t unused_psk[CMN_KEY_LEN]; /* libcoap 4.3.1's default PSK with PKI (cmn_pki.h) */
    enr_gba *gba;                    /* NULL: no GBA ([bus] zn empty) */
};

/* ---- peers ---------------------------------------------------------------------- */

static void peer_forget(enr_coap *c, coap_session_t *session)
{
    for (enr_peer **pp = &c->peers; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->session == session) {
            enr_peer *p = *pp;
            *pp = p->next;
            cmn_free_secret(p, sizeof(*p));
            break;
        }
    }
    coap_session_set_app_data(session, NULL);
}

static enr_peer *peer_bind(enr_coap *c, coap_session_t *session, const char *kpm_id)
{
    enr_peer *p;

    peer_forget(c, session);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->session = session;
    snprintf(p->kpm_id, sizeof(p->kpm_id), "%s", kpm_id);
    coap_ticks(&p->accepted);
    p->next = c->peers;
    c->peers = p;
    coap_session_set_app_data(session, p);
    return p;
}

static void peer_str(const coap_session_t *session, char *buf, size_t len);

static void log_handshake_failed(enr_peer *p, const char *reason)
{
    char peer[64];

    if (p->established || p->reported)
        return;
    p->reported = true;
    peer_str(p->session, peer, sizeof(peer));
    CMN_WARN(SUB, "event=handshake_failed reason=%s kpm_id=%s peer=%s hint=%s", reason, p->kpm_id,
             peer, "wrong_kpm_or_peer_gone");
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    enr_coap *c = coap_get_app_data(coap_session_get_context(session));
    enr_peer *p = coap_session_get_app_data(session);

    if (c == NULL)
        return 0;
    if (p != NULL && event == COAP_EVENT_DTLS_CONNECTED)
        p->established = true;
    if (p != NULL && (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED ||
                      event == COAP_EVENT_SERVER_SESSION_DEL))
        log_handshake_failed(p, "dtls_error");
    if (event == COAP_EVENT_SERVER_SESSION_DEL)
        peer_forget(c, session);
    return 0;
}

/* Logs the accepted handshakes that did not complete within the deadline. */
static void check_handshakes(enr_coap *c, coap_tick_t now)
{
    coap_tick_t deadline = (coap_tick_t)ENR_HANDSHAKE_DEADLINE_MS * COAP_TICKS_PER_SECOND / 1000;

    for (enr_peer *p = c->peers; p != NULL; p = p->next)
        if (!p->established && now - p->accepted > deadline)
            log_handshake_failed(p, "not_completed");
}

/* ---- DTLS-PSK callbacks ----------------------------------------------------------- */

static void peer_str(const coap_session_t *session, char *buf, size_t len)
{
    const coap_address_t *a = coap_session_get_addr_remote(session);

    buf[0] = '\0';
    if (a == NULL || coap_print_addr(a, (unsigned char *)buf, len - 1) == 0)
        snprintf(buf, len, "-");
}

static void log_refused(const coap_session_t *session, const char *reason, const char *kpm_id)
{
    char peer[64];

    peer_str(session, peer, sizeof(peer));
    CMN_WARN(SUB, "event=handshake_refused reason=%s kpm_id=%s peer=%s", reason, kpm_id, peer);
}

/* Why enrolee e may not handshake now, or NULL. */
static const char *refusal(const Tep__Enrolee *e, int64_t now)
{
    if (e->gba_impi[0] != '\0')
        return "gba_enrolee"; /* enrols with its B-TID only */
    if (e->state != TEP__ENROLEE__STATE__ACTIVE)
        return "revoked";
    if (e->expires != 0 && e->expires <= now)
        return "expired";
    return NULL;
}

/* Why enrolee e may not make a PSK handshake now, or NULL. */
static const char *psk_refusal(const Tep__Enrolee *e, int64_t now)
{
    if (e->kpm.len == 0 && e->cert_identity[0] != '\0')
        return "cert_only"; /* a certificate enrolee has no Kpm */
    if (e->kpm.len != ENR_KPM_LEN)
        return "bad_record";
    return refusal(e, now);
}

/* The GBA MEF Handshake (TS-0003 8.3.2.3): psk_identity = B-TID, psk = Ks_NAF from
 * tep-bsf (enr_gba.h). The first handshake of a B-TID is refused while Zn answers. */
static const coap_bin_const_t *psk_for_btid(enr_coap *c, const char *btid, coap_session_t *session)
{
    char kpm_id[128];
    int64_t expires = 0;
    enr_peer *p;
    int rc =
        enr_gba_lookup(c->gba, btid, (int64_t)time(NULL), c->psk, kpm_id, sizeof(kpm_id), &expires);

    if (rc == 0 && peer_bind(c, session, kpm_id) == NULL)
        rc = CMN_ENOMEM;
    if (rc != 0) {
        cmn_wipe(c->psk, sizeof(c->psk));
        log_refused(session,
                    rc == CMN_EAGAIN     ? "gba_key_pending"
                    : rc == CMN_EEXPIRED ? "btid_expired"
                                         : "gba_refused",
                    "-");
        return NULL;
    }
    p = coap_session_get_app_data(session);
    p->gba = true;
    snprintf(p->btid, sizeof(p->btid), "%s", btid);
    memcpy(p->ks_naf, c->psk, CMN_KEY_LEN);
    p->ks_expires = expires;
    c->psk_bin.s = c->psk;
    c->psk_bin.length = CMN_KEY_LEN;
    CMN_DEBUG(SUB, "event=psk_identity btid=%s kpm_id=%s", btid, kpm_id);
    return &c->psk_bin;
}

static const coap_bin_const_t *psk_for_identity(coap_bin_const_t *identity, coap_session_t *session,
                                                void *arg)
{
    enr_coap *c = arg;
    char kpm_id[128];
    Tep__Enrolee *e = NULL;
    const char *why;
    int rc;

    if (c->gba != NULL && enr_gba_is_btid((const char *)identity->s, identity->length)) {
        char btid[CMN_GBA_BTID_MAX];

        memcpy(btid, identity->s, identity->length); /* < CMN_GBA_BTID_MAX: checked */
        btid[identity->length] = '\0';
        return psk_for_btid(c, btid, session);
    }
    if (!enr_valid_kpm_id((const char *)identity->s, identity->length)) {
        log_refused(session, "unknown_identity", "-");
        return NULL;
    }
    memcpy(kpm_id, identity->s, identity->length);
    kpm_id[identity->length] = '\0';
    rc = enr_db_enrolee_get(c->store, kpm_id, &e);
    if (rc != 0) {
        log_refused(session, rc == CMN_ENOTFOUND ? "unknown_identity" : "store_error", kpm_id);
        return NULL;
    }
    why = psk_refusal(e, time(NULL));
    if (why == NULL && peer_bind(c, session, kpm_id) == NULL)
        why = "no_memory";
    if (why != NULL) {
        log_refused(session, why, kpm_id);
        enr_enrolee_free(e);
        return NULL;
    }
    memcpy(c->psk, e->kpm.data, ENR_KPM_LEN);
    enr_enrolee_free(e);
    c->psk_bin.s = c->psk;
    c->psk_bin.length = ENR_KPM_LEN;
    CMN_DEBUG(SUB, "event=psk_identity kpm_id=%s", kpm_id);
    return &c->psk_bin;
}

/* SNI as given when it is a plain host name, else "-" (it goes into a log line). */
static const char *sni_for_log(const char *sni)
{
    size_t n = strlen(sni);

    if (n == 0 || n > 253)
        return "-";
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)sni[i]) && sni[i] != '.' && sni[i] != '-')
            return "-";
    return sni;
}

static const coap_dtls_spsk_info_t *psk_for_sni(const char *sni, coap_session_t *session, void *arg)
{
    enr_coap *c = arg;
    char peer[64];

    if (strcasecmp(sni, c->cfg->mef_fqdn) == 0)
        return &c->sni_info;
    peer_str(session, peer, sizeof(peer));
    CMN_WARN(SUB, "event=handshake_refused reason=%s sni=%s peer=%s",
             sni[0] ? "wrong_sni" : "no_sni", sni_for_log(sni), peer);
    return NULL;
}

/* ---- the certificate MEF Handshake (TS-0003 8.3.2.2, 8.3.1.2) --------------------------- */

/* The SNI check of every handshake once certificates are on (cmn_pki_setup_sni). */
static bool sni_ok(const char *sni, void *arg)
{
    enr_coap *c = arg;

    if (strcasecmp(sni, c->cfg->mef_fqdn) == 0)
        return true;
    CMN_WARN(SUB, "event=handshake_refused reason=%s sni=%s peer=-",
             sni[0] ? "wrong_sni" : "no_sni", sni_for_log(sni));
    return false;
}

/* A certificate the tep CA issued (re-provisioning, 8.3.1.2): the enrolee is the one of
 * the enrolment the certificate is bound to, which must be live and current, and the
 * certificate must not be revoked on its own. */
static const char *tep_cert_peer(enr_coap *c, const cmn_cert_info *info, char *kpm_id,
                                 size_t kpm_len, char *ke_id, size_t ke_len)
{
    Tep__IssuedCert *ic = NULL;
    Tep__Enrolment *en = NULL;
    Tep__Enrolee *e = NULL;
    int64_t now = time(NULL);
    const char *why = NULL;

    if (enr_ca_cert_get(c->store, info->serial, &ic) != 0)
        return "unknown_tep_cert";
    if (ic->revoked != 0)
        why = "cert_revoked";
    else if (enr_db_enrolment_get(c->store, ic->ke_id, &en) != 0 || en->revoked ||
             !cmn_ca_serial_bound_to(info->serial, en->ke_id))
        why = "cert_not_of_current_enrolment";
    else if (en->expires != 0 && en->expires <= now)
        why = "expired";
    else if (enr_db_enrolee_get(c->store, ic->kpm_id, &e) != 0)
        why = "unknown_identity";
    else
        why = refusal(e, now);
    if (why == NULL) {
        snprintf(kpm_id, kpm_len, "%s", ic->kpm_id);
        snprintf(ke_id, ke_len, "%s", ic->ke_id);
    }
    enr_enrolee_free(e);
    enr_enrolment_free(en);
    tep__issued_cert__free_unpacked(ic, NULL);
    return why;
}

/* A manufacturer certificate: issued by a configured anchor (checked again here, so an
 * anchor removed on SIGHUP stops at once), its identity (first SAN URI, else subject
 * CN) an enrolee's certificate identity. */
static const char *mfr_cert_peer(enr_coap *c, const uint8_t *der, size_t len, const char *identity,
                                 char *kpm_id, size_t kpm_len)
{
    Tep__Enrolee *e = NULL;
    const char *why;
    int rc;

    if (enr_trust_check(c->trust, der, len) != 0)
        return "unknown_issuer";
    rc = enr_trust_revoked(c->trust, der, len, time(NULL));
    if (rc != 0)
        return rc == CMN_EDENIED    ? "mfr_cert_revoked"
               : rc == CMN_EEXPIRED ? "mfr_crl_expired"
                                    : "cert_undecodable";
    if (identity[0] == '\0')
        return "cert_no_identity";
    rc = enr_db_enrolee_by_cert(c->store, identity, &e);
    if (rc != 0)
        return rc == CMN_ENOTFOUND ? "not_an_enrolee" : "store_error";
    why = refusal(e, time(NULL));
    if (why == NULL)
        snprintf(kpm_id, kpm_len, "%s", e->kpm_id);
    enr_enrolee_free(e);
    return why;
}

/* libcoap calls this at each depth of the client's chain once OpenSSL has checked it
 * against mef-trust.pem (validated); at depth 0 the certificate names the enrolee. */
static int validate_cert(const char *cn, const uint8_t *der, size_t len, coap_session_t *session,
                         unsigned depth, int validated, void *arg)
{
    enr_coap *c = arg;
    char kpm_id[128] = "", ke_id[CMN_KEY_ID_MAX] = "", peer[64], shown[CMN_CA_ID_MAX];
    const uint8_t *ca_der;
    cmn_cert_info info;
    const char *identity, *why;
    size_t ca_len;
    enr_peer *p;

    (void)cn;
    peer_str(session, peer, sizeof(peer));
    if (!validated || depth > 0) {
        if (!validated)
            CMN_WARN(SUB, "event=handshake_refused reason=cert_chain depth=%u peer=%s", depth,
                     peer);
        return validated;
    }
    if (cmn_ca_cert_info(der, len, &info) != 0) {
        CMN_WARN(SUB, "event=handshake_refused reason=cert_undecodable peer=%s", peer);
        return 0;
    }
    identity = info.san_uri[0] ? info.san_uri : info.subject_cn;
    ca_der = enr_ca_der(c->ca, &ca_len);
    if (cmn_ca_verify(ca_der, ca_len, der, len) == 0)
        why = tep_cert_peer(c, &info, kpm_id, sizeof(kpm_id), ke_id, sizeof(ke_id));
    else
        why = mfr_cert_peer(c, der, len, identity, kpm_id, sizeof(kpm_id));
    if (why == NULL && (p = peer_bind(c, session, kpm_id)) != NULL) {
        snprintf(p->cert_serial, sizeof(p->cert_serial), "%s", info.serial);
        snprintf(p->renew_ke_id, sizeof(p->renew_ke_id), "%s", ke_id);
        CMN_INFO(SUB, "event=cert_accepted kpm_id=%s serial=%s kind=%s peer=%s", kpm_id,
                 info.serial, ke_id[0] ? "tep" : "manufacturer", peer);
        return 1;
    }
    CMN_WARN(SUB, "event=handshake_refused reason=%s serial=%s identity=%s peer=%s",
             why ? why : "no_memory", info.serial,
             cmn_log_value(identity[0] ? identity : NULL, shown, sizeof(shown)), peer);
    return 0;
}

/* ---- POST /enrol ------------------------------------------------------------------ */

static void answer(coap_pdu_t *resp, coap_pdu_code_t code, const char *diag)
{
    coap_pdu_set_code(resp, code);
    if (diag != NULL)
        coap_add_data(resp, strlen(diag), (const uint8_t *)diag);
}

/* RFC 7252 5.9.2.9 (and RFC 7959 2.9.3 for a Block1 transfer): a body over the limit is
 * 4.13 Request Entity Too Large, with Size1 telling the largest one accepted. */
static void answer_too_large(coap_pdu_t *resp, size_t max)
{
    uint8_t size1[4];

    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(413));
    coap_add_option(resp, COAP_OPTION_SIZE1,
                    coap_encode_var_safe(size1, sizeof(size1), (unsigned)max), size1);
    coap_add_data(resp, strlen("body too large"), (const uint8_t *)"body too large");
}

static int request_format_ok(const coap_pdu_t *req)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(req, COAP_OPTION_CONTENT_FORMAT, &it);
    unsigned cf;

    if (opt == NULL)
        return 1;
    cf = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
    return cf == CMN_CF_JSON;
}

/* Ke and KeID from the session's exporter (TS-0003 10.3.1, split per cmn_kdf.h); in a
 * GBA session Ke = Ks_NAF and KeID = B-TID (TS-0003 8.3.2.3, docs/keys.md "GBA"). */
static int export_ke(const enr_coap *c, coap_session_t *session, uint8_t ke[CMN_KEY_LEN],
                     char ke_id[CMN_KEY_ID_MAX])
{
    const enr_peer *p = coap_session_get_app_data(session);
    uint8_t exp[CMN_EXPORTER_LEN], rel_id[CMN_REL_ID_LEN];
    int rc;

    if (p != NULL && p->gba) {
        memcpy(ke, p->ks_naf, CMN_KEY_LEN);
        return snprintf(ke_id, CMN_KEY_ID_MAX, "%s", p->btid) < CMN_KEY_ID_MAX ? 0 : CMN_ERANGE;
    }
    rc = cmn_tls_export(session, CMN_LABEL_BOOTSTRAP, exp, sizeof(exp));

    if (rc == 0) {
        cmn_kdf_split_exporter(exp, rel_id, ke);
        rc = cmn_kdf_key_id(rel_id, c->cfg->mef_fqdn, ke_id, CMN_KEY_ID_MAX);
    }
    cmn_wipe(exp, sizeof(exp));
    cmn_wipe(rel_id, sizeof(rel_id));
    return rc;
}

static coap_pdu_code_t enrol_error_code(int rc)
{
    switch (rc) {
    case CMN_EDENIED:
    case CMN_EEXPIRED:
    case CMN_ENOTFOUND:
        return COAP_RESPONSE_CODE_FORBIDDEN;
    case CMN_EEXIST:  /* an application instance's AE-ID is taken: enrol again */
    case CMN_ECONFIG: /* the enrolee's target is not one of this enroller's */
        return COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE;
    default:
        return COAP_RESPONSE_CODE_INTERNAL_ERROR;
    }
}

/* The trust anchor goes with the answer when the enrolee indicated certificate
 * enrolment (cei): it is then about to ask for a certificate in this session. */
static void send_created(const enr_coap *c, coap_pdu_t *resp, const char *ke_id,
                         const enr_enrol_result *r, bool cei)
{
    enr_targets tgt = {r->registrar_cse_id, enr_config_target_poa(c->cfg, r->registrar_cse_id),
                       c->cfg->maf_id, cei && c->ca != NULL ? enr_ca_pem(c->ca) : NULL,
                       c->cfg->maf_poa};
    uint8_t cf[4];
    char *json = NULL;

    if (enr_enrol_answer(ke_id, r, &tgt, &json) != 0) {
        /* Committed but unanswerable: the enrolee retries in the same session and gets
         * the same record (r->repeated). */
        answer(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
        return;
    }
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
    coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(cf, sizeof(cf), CMN_CF_JSON), cf);
    coap_add_data(resp, strlen(json), (const uint8_t *)json);
    free(json);
}

/* The enrolee's enrolment target must still be one of this enroller's (its targets
 * may have changed since the enrolee was added): else CMN_ECONFIG, nothing recorded. */
static int check_target(const enr_coap *c, const char *kpm_id)
{
    Tep__Enrolee *e = NULL;
    int rc = enr_db_enrolee_get(c->store, kpm_id, &e);

    if (rc == 0 && e->target_cse_id[0] && enr_config_target_poa(c->cfg, e->target_cse_id) == NULL) {
        CMN_WARN(SUB, "event=enrol_failed kpm_id=%s reason=unknown_target target=%s", kpm_id,
                 e->target_cse_id);
        rc = CMN_ECONFIG;
    }
    enr_enrolee_free(e);
    return rc == CMN_ENOTFOUND ? 0 : rc; /* enr_db_enrol says so */
}

/* Records the enrolment of the session's KpmID: 0 and *r, or a CMN_E* code. */
static int enrol_session(enr_coap *c, coap_session_t *session, const char *kpm_id,
                         char ke_id[CMN_KEY_ID_MAX], enr_enrol_result *r)
{
    uint8_t ke[CMN_KEY_LEN];
    enr_enrol_input in;
    int rc = check_target(c, kpm_id);

    if (rc != 0)
        return rc;
    rc = export_ke(c, session, ke, ke_id);
    if (rc != 0) {
        CMN_ERR(SUB, "event=enrol_failed kpm_id=%s reason=exporter err=%s", kpm_id,
                cmn_strerror(rc));
        goto out;
    }
    in = (enr_enrol_input){kpm_id, ke_id, ke, c->cfg->registrar_cse_id, c->cfg->maf_id, time(NULL)};
    {
        const enr_peer *p = coap_session_get_app_data(session);
        rc = enr_db_enrol_until(c->store, &in, p != NULL && p->gba ? p->ks_expires : 0, r);
    }
    if (rc != 0)
        CMN_WARN(SUB, "event=enrol_failed kpm_id=%s ke_id=%s err=%s", kpm_id, ke_id,
                 cmn_strerror(rc));
out:
    cmn_wipe(ke, sizeof(ke));
    return rc;
}

static void log_enrolled(const char *kpm_id, const char *ke_id, const enr_enrol_result *r,
                         const enr_indications *ind)
{
    uint64_t seq = r->events.n ? r->events.ev[r->events.n - 1].seq : 0;

    if (r->repeated) {
        CMN_INFO(SUB, "event=enrol_repeated kpm_id=%s ke_id=%s enrolee_id=%s", kpm_id, ke_id,
                 r->enrolee_id);
        return;
    }
    CMN_INFO(SUB, "event=enrolled kpm_id=%s ke_id=%s enrolee_id=%s seq=%llu cei=%d mei=%d rmi=%d",
             kpm_id, ke_id, r->enrolee_id, (unsigned long long)seq, ind->cei, ind->mei, ind->rmi);
}

static void handle_enrol(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *req,
                         const coap_string_t *query, coap_pdu_t *resp)
{
    enr_coap *c = coap_get_app_data(coap_session_get_context(session));
    const enr_peer *peer = coap_session_get_app_data(session);
    enr_indications ind;
    enr_enrol_result r;
    char ke_id[CMN_KEY_ID_MAX];
    const uint8_t *body = NULL;
    size_t len = 0;
    int rc;

    if (c == NULL || peer == NULL)
        return answer(resp, COAP_RESPONSE_CODE_FORBIDDEN, "no enrolee session");
    if (!request_format_ok(req))
        return answer(resp, COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT, "want 50");
    if (!coap_get_data(req, &len, &body))
        len = 0;
    if (len > ENR_BODY_MAX)
        return answer_too_large(resp, ENR_BODY_MAX);
    if (enr_enrol_parse(body, len, &ind) != 0)
        return answer(resp, COAP_RESPONSE_CODE_BAD_REQUEST, "bad JSON");
    rc = enrol_session(c, session, peer->kpm_id, ke_id, &r);
    if (rc != 0)
        return answer(resp, enrol_error_code(rc),
                      rc == CMN_EDENIED   ? "revoked"
                      : rc == CMN_EEXIST  ? "instance AE-ID taken: enrol again"
                      : rc == CMN_ECONFIG ? "enrolment target not configured"
                                          : NULL);
    send_created(c, resp, ke_id, &r, ind.cei);
    log_enrolled(peer->kpm_id, ke_id, &r, &ind);
    if (r.events.n > 0 && c->on_events != NULL)
        c->on_events(&r.events, c->arg);
}

/* ---- POST /cert (TS-0003 8.3.6) ----------------------------------------------------- */

static void release_body(coap_session_t *session, void *app_ptr)
{
    free(app_ptr);
}

/* The answer (certificate + trust anchor, ~1.6 kB) goes out in Block2 as needed. */
static void send_cert(const enr_coap *c, coap_resource_t *res, coap_session_t *session,
                      const coap_pdu_t *req, coap_pdu_t *resp, const Tep__IssuedCert *ic)
{
    char pem[CMN_CA_PEM_MAX], *json = NULL;

    if (cmn_ca_to_pem(ic->der.data, ic->der.len, "CERTIFICATE", pem, sizeof(pem)) != 0 ||
        enr_cert_answer(pem, ic->serial, ic->not_after, enr_ca_pem(c->ca), &json) != 0)
        return answer(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CREATED);
    /* libcoap owns json from here: release_body frees it, also when this fails. */
    coap_add_data_large_response(res, session, req, resp, NULL, CMN_CF_JSON, -1, 0, strlen(json),
                                 (const uint8_t *)json, release_body, json);
}

static coap_pdu_code_t cert_error_code(int rc)
{
    if (rc == CMN_EINVAL)
        return COAP_RESPONSE_CODE_BAD_REQUEST;
    return enrol_error_code(rc);
}

/* The diagnostic payload of a refused POST /cert (never secret). */
static const char *cert_error_text(int rc)
{
    switch (rc) {
    case CMN_EINVAL:
        return "bad JSON or CSR";
    case CMN_EDENIED:
        return "identity not yours or revoked";
    case CMN_ENOTFOUND:
    case CMN_EEXPIRED:
        return "no live enrolment in this session";
    default:
        return NULL;
    }
}

/* Issues a certificate for the CSR in body to the session's enrolment: the one this
 * session's exporter names (POST /enrol came first), else, in a session authenticated
 * with a tep certificate, the enrolment that certificate is bound to (re-provisioning,
 * TS-0003 8.3.1.2: a new certificate without a new Kpm session or a new Ke). */
static int cert_session(enr_coap *c, coap_session_t *session, const enr_peer *peer,
                        const uint8_t *body, size_t len, Tep__IssuedCert **ret)
{
    uint8_t ke[CMN_KEY_LEN], csr[CMN_CA_CERT_DER_MAX];
    char ke_id[CMN_KEY_ID_MAX];
    size_t csr_len = sizeof(csr);
    const char *why = "bad_json", *kpm_id = peer->kpm_id;
    bool renewal = false;
    int rc = enr_cert_parse(body, len, csr, &csr_len);

    if (rc == 0 && (rc = export_ke(c, session, ke, ke_id)) != 0)
        why = "exporter";
    cmn_wipe(ke, sizeof(ke));
    if (rc == 0)
        rc = enr_ca_issue(
            c->ca, c->store,
            &(enr_cert_input){kpm_id, ke_id, csr, csr_len, time(NULL), c->cfg->cert_lifetime_s},
            ret, &why);
    if (rc == CMN_ENOTFOUND && peer->renew_ke_id[0] != '\0') {
        renewal = true;
        snprintf(ke_id, sizeof(ke_id), "%s", peer->renew_ke_id);
        rc = enr_ca_issue(
            c->ca, c->store,
            &(enr_cert_input){kpm_id, ke_id, csr, csr_len, time(NULL), c->cfg->cert_lifetime_s},
            ret, &why);
    }
    if (rc != 0)
        CMN_WARN(SUB, "event=cert_refused kpm_id=%s reason=%s err=%s", kpm_id, why,
                 cmn_strerror(rc));
    else
        CMN_INFO(SUB, "event=%s kpm_id=%s ke_id=%s enrolee_id=%s serial=%s not_after=%lld%s%s",
                 renewal ? "cert_renewed" : "cert_issued", kpm_id, ke_id, (*ret)->enrolee_id,
                 (*ret)->serial, (long long)(*ret)->not_after, renewal ? " previous=" : "",
                 renewal ? peer->cert_serial : "");
    return rc;
}

static void handle_cert(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *req,
                        const coap_string_t *query, coap_pdu_t *resp)
{
    enr_coap *c = coap_get_app_data(coap_session_get_context(session));
    const enr_peer *peer = coap_session_get_app_data(session);
    Tep__IssuedCert *ic = NULL;
    const uint8_t *body = NULL;
    size_t len = 0;
    int rc;

    if (c == NULL || peer == NULL || c->ca == NULL)
        return answer(resp, COAP_RESPONSE_CODE_FORBIDDEN, "no enrolee session");
    if (!request_format_ok(req))
        return answer(resp, COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT, "want 50");
    if (!coap_get_data(req, &len, &body))
        return answer(resp, COAP_RESPONSE_CODE_BAD_REQUEST, "bad body");
    if (len > ENR_CERT_BODY_MAX)
        return answer_too_large(resp, ENR_CERT_BODY_MAX);
    rc = cert_session(c, session, peer, body, len, &ic);
    if (rc != 0)
        return answer(resp, cert_error_code(rc), cert_error_text(rc));
    send_cert(c, resource, session, req, resp, ic);
    tep__issued_cert__free_unpacked(ic, NULL);
}

/* ---- MEF procedures (TS-0003 8.3.5.2; enr_mef.h) ------------------------------------- */

static void mef_reply(enr_coap *c, coap_pdu_t *resp, enr_mef_answer *a, const char *what,
                      const enr_peer *peer, const char *id)
{
    uint8_t cf[4];

    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(a->code));
    if (a->body != NULL) {
        coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                        coap_encode_var_safe(cf, sizeof(cf), CMN_CF_JSON), cf);
        coap_add_data(resp, strlen(a->body), (const uint8_t *)a->body);
    }
    if (a->code < 300)
        CMN_INFO(SUB, "event=mef_%s kpm_id=%s id=%s code=%u events=%zu", what, peer->kpm_id, id,
                 a->code, a->events.n);
    else
        CMN_WARN(SUB, "event=mef_%s_refused kpm_id=%s id=%s code=%u", what, peer->kpm_id, id,
                 a->code);
    if (a->events.n > 0 && c->on_events != NULL)
        c->on_events(&a->events, c->arg);
    free(a->body);
}

/* The session's MEF Client, with the request body; NULL after answering a refusal. */
static const enr_peer *mef_request(enr_coap *c, coap_session_t *session, const coap_pdu_t *req,
                                   coap_pdu_t *resp, const uint8_t **body, size_t *len)
{
    const enr_peer *peer = coap_session_get_app_data(session);

    *body = NULL;
    *len = 0;
    if (c == NULL || peer == NULL) {
        answer(resp, COAP_RESPONSE_CODE_FORBIDDEN, "no MEF Handshake");
        return NULL;
    }
    if (!request_format_ok(req)) {
        answer(resp, COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT, "want 50");
        return NULL;
    }
    if (!coap_get_data(req, len, body))
        *len = 0;
    if (*len > ENR_BODY_MAX) {
        answer_too_large(resp, ENR_BODY_MAX);
        return NULL;
    }
    return peer;
}

/* POST /mef/clients (8.3.5.2.3) and POST /mef/keys (8.3.5.2.7). */
static void handle_mef_post(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *req, const coap_string_t *query, coap_pdu_t *resp)
{
    enr_coap *c = coap_get_app_data(coap_session_get_context(session));
    coap_str_const_t *uri = coap_resource_get_uri_path(resource);
    bool keys = uri != NULL && uri->length == 8 && memcmp(uri->s, "mef/keys", 8) == 0;
    const uint8_t *body;
    size_t len;
    const enr_peer *peer = mef_request(c, session, req, resp, &body, &len);
    enr_mef_answer a;
    enr_mef_ctx x;

    (void)query;
    if (peer == NULL)
        return;
    x = (enr_mef_ctx){c->store, c->cfg, peer->kpm_id, (int64_t)time(NULL)};
    if (keys)
        enr_mef_key_register(&x, body, len, &a);
    else
        enr_mef_client_register(&x, body, len, &a);
    mef_reply(c, resp, &a, keys ? "key_registered" : "client_registered", peer, "-");
}

/* MEF Key Retrieval answers hold a key: the body is wiped when libcoap releases it. */
static void release_secret_body(coap_session_t *session, void *app_ptr)
{
    (void)session;
    if (app_ptr != NULL)
        cmn_wipe(app_ptr, strlen(app_ptr));
    free(app_ptr);
}

/* GET /mef/keys/<relativeKeyID> (8.3.5.2.8): the key to its target. */
static void mef_retrieve(enr_coap *c, coap_resource_t *resource, coap_session_t *session,
                         const coap_pdu_t *req, coap_pdu_t *resp, const enr_peer *peer,
                         const char *id)
{
    enr_mef_ctx x = {c->store, c->cfg, peer->kpm_id, (int64_t)time(NULL)};
    enr_mef_answer a;

    enr_mef_key_retrieve(&x, id, &a);
    if (a.code != 205)
        return mef_reply(c, resp, &a, "key_retrieved", peer, id);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE(205));
    if (coap_add_data_large_response(resource, session, req, resp, NULL, CMN_CF_JSON, -1, 0,
                                     strlen(a.body), (const uint8_t *)a.body, release_secret_body,
                                     a.body))
        a.body = NULL;
    release_secret_body(session, a.body);
    CMN_INFO(SUB, "event=mef_key_retrieved kpm_id=%s id=%s code=205", peer->kpm_id, id);
}

/* PUT / DELETE /mef/clients/<mefClientRegID> (8.3.5.2.5, 8.3.5.2.6),
 * /mef/keys/<relativeKeyID> (8.3.5.2.9, 8.3.5.2.10) and GET /mef/keys/<relativeKeyID>
 * (8.3.5.2.8); any other unknown path is 4.04. */
static void handle_unknown(coap_resource_t *resource, coap_session_t *session,
                           const coap_pdu_t *req, const coap_string_t *query, coap_pdu_t *resp)
{
    enr_coap *c = coap_get_app_data(coap_session_get_context(session));
    coap_pdu_code_t code = coap_pdu_get_code(req);
    coap_string_t *path = coap_get_uri_path(req);
    char kind[16], id[80];
    bool item = path != NULL && cmn_coap_item_path("mef/", (const char *)path->s, path->length,
                                                   kind, sizeof(kind), id, sizeof(id));
    bool clients = item && strcmp(kind, "clients") == 0, keys = item && strcmp(kind, "keys") == 0;
    const uint8_t *body;
    size_t len;
    const enr_peer *peer;
    enr_mef_answer a;
    enr_mef_ctx x;

    (void)query;
    coap_delete_string(path);
    if (!clients && !keys)
        return answer(resp, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
    if (code != COAP_REQUEST_CODE_DELETE && code != COAP_REQUEST_CODE_PUT &&
        !(keys && code == COAP_REQUEST_CODE_GET))
        return answer(resp, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
    if ((peer = mef_request(c, session, req, resp, &body, &len)) == NULL)
        return;
    if (code == COAP_REQUEST_CODE_GET)
        return mef_retrieve(c, resource, session, req, resp, peer, id);
    x = (enr_mef_ctx){c->store, c->cfg, peer->kpm_id, (int64_t)time(NULL)};
    if (keys && code == COAP_REQUEST_CODE_PUT)
        enr_mef_key_update(&x, id, body, len, &a);
    else if (keys)
        enr_mef_key_deregister(&x, id, &a);
    else if (code == COAP_REQUEST_CODE_PUT)
        enr_mef_client_update(&x, id, body, len, &a);
    else
        enr_mef_client_deregister(&x, id, &a);
    mef_reply(c, resp, &a,
              keys ? (code == COAP_REQUEST_CODE_PUT ? "key_updated" : "key_deregistered")
              : code == COAP_REQUEST_CODE_PUT ? "client_updated"
                                              : "client_deregistered",
              peer, id);
}

/* ---- set-up ------------------------------------------------------------------------- */

static void coap_log_to_cmn(coap_log_t level, const char *message)
{
    char msg[256];
    size_t j = 0;

    for (size_t i = 0; message[i] && j + 1 < sizeof(msg); i++) {
        char ch = message[i];
        if (ch == '\n' || ch == '\r')
            continue;
        msg[j++] = ch == '"' ? '\'' : ch;
    }
    msg[j] = '\0';
    if (level <= LOG_WARNING)
        CMN_WARN("libcoap", "msg=\"%s\"", msg);
    else
        CMN_DEBUG("libcoap", "msg=\"%s\"", msg);
}

static int setup_psk(enr_coap *c)
{
    memset(&c->spsk, 0, sizeof(c->spsk));
    c->spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    c->spsk.validate_id_call_back = psk_for_identity;
    c->spsk.id_call_back_arg = c;
    c->spsk.validate_sni_call_back = psk_for_sni;
    c->spsk.sni_call_back_arg = c;
    return coap_context_set_psk2(c->ctx, &c->spsk) ? 0 : CMN_ECOAP;
}

/* cmn_pki gives each handshake the whole bundle (libcoap 4.3.1 would trust only its last
 * certificate); with PKI on, libcoap calls the PKI SNI callback for PSK handshakes too. */
static int set_pki(enr_coap *c, const cmn_pki_files *f)
{
    c->sni = (cmn_tls_sni_check){sni_ok, c};
    return cmn_pki_setup_sni(c->ctx, &c->spsk, c->unused_psk, f, validate_cert, c, &c->sni);
}

/* The certificate MEF Handshake beside DTLS-PSK: the MEF's certificate from the tep CA
 * and the anchor bundle are written to data_dir at every start. */
static int setup_pki(enr_coap *c)
{
    const cmn_pki_files f = {c->files.cert_file, c->files.key_file, c->files.ca_file};
    char err[512];
    bool on = false;
    int rc;

    if (!c->cfg->cert_rspf || c->ca == NULL)
        return 0;
    rc = enr_trust_load(c->cfg->mfr_trust_anchors, time(NULL), &c->trust, err, sizeof(err));
    if (rc == 0)
        rc = enr_trust_load_crls(c->trust, c->cfg->mfr_crls, time(NULL), err, sizeof(err));
    if (rc != 0) {
        CMN_ERR(SUB, "event=pki_refused reason=mfr_trust_anchors msg=\"%s\"", err);
        return rc;
    }
    rc =
        enr_trust_write(c->trust, c->ca, c->cfg->data_dir, c->cfg->mef_fqdn, time(NULL), &c->files);
    if (rc == 0)
        rc = cmn_pki_check(SUB, "enroller", &f, c->cfg->mef_fqdn, &on);
    if (rc == 0)
        rc = set_pki(c, &f);
    if (rc == 0)
        CMN_INFO(SUB, "event=pki_on cert_file=%s ca_file=%s mfr_anchors=%zu mfr_crls=%zu",
                 f.cert_file, f.ca_file, enr_trust_count(c->trust), enr_trust_crl_count(c->trust));
    return rc;
}

int enr_coap_reload_trust(enr_coap *c, const char *list, const char *crls)
{
    const cmn_pki_files f = {c->files.cert_file, c->files.key_file, c->files.ca_file};
    enr_trust *t = NULL;
    char err[512];
    int rc;

    if (c->trust == NULL)
        return 0; /* no certificate handshake */
    rc = enr_trust_load(list, time(NULL), &t, err, sizeof(err));
    if (rc == 0)
        rc = enr_trust_load_crls(t, crls, time(NULL), err, sizeof(err));
    if (rc != 0) {
        CMN_ERR(SUB,
                "event=reload_refused key=mfr_trust_anchors msg=\"%s\" kept=%zu "
                "kept_crls=%zu",
                err, enr_trust_count(c->trust), enr_trust_crl_count(c->trust));
        enr_trust_free(t);
        return rc;
    }
    enr_trust_free(c->trust);
    c->trust = t;
    /* new anchors reach OpenSSL's store through a fresh bundle; removed ones stay in
     * that store but validate_cert checks c->trust, so they no longer enrol anyone */
    rc =
        enr_trust_write(c->trust, c->ca, c->cfg->data_dir, c->cfg->mef_fqdn, time(NULL), &c->files);
    if (rc == 0)
        rc = set_pki(c, &f);
    CMN_INFO(SUB, "event=reloaded key=mfr_trust_anchors mfr_anchors=%zu mfr_crls=%zu err=%s",
             enr_trust_count(c->trust), enr_trust_crl_count(c->trust),
             rc ? cmn_strerror(rc) : "none");
    return rc;
}

static int setup_resources(enr_coap *c)
{
    coap_resource_t *r = coap_resource_init(coap_make_str_const("enrol"), 0);

    if (r == NULL)
        return CMN_ENOMEM;
    coap_register_handler(r, COAP_REQUEST_POST, handle_enrol);
    coap_add_resource(c->ctx, r);
    r = coap_resource_init(coap_make_str_const("cert"), 0);
    if (r == NULL)
        return CMN_ENOMEM;
    coap_register_handler(r, COAP_REQUEST_POST, handle_cert);
    coap_add_resource(c->ctx, r);
    for (int i = 0; i < 2; i++) {
        r = coap_resource_init(coap_make_str_const(i ? "mef/keys" : "mef/clients"), 0);
        if (r == NULL)
            return CMN_ENOMEM;
        coap_register_handler(r, COAP_REQUEST_POST, handle_mef_post);
        coap_add_resource(c->ctx, r);
    }
    if ((r = coap_resource_unknown_init2(handle_unknown, 0)) == NULL)
        return CMN_ENOMEM;
    coap_register_request_handler(r, COAP_REQUEST_DELETE, handle_unknown);
    coap_register_request_handler(r, COAP_REQUEST_POST, handle_unknown);
    coap_register_request_handler(r, COAP_REQUEST_GET, handle_unknown);
    coap_add_resource(c->ctx, r);
    return 0;
}

static int setup_context(enr_coap *c)
{
    coap_address_t addr;
    int rc = cmn_coap_parse_listen(c->cfg->listen, &addr) == 0 ? 0 : CMN_ECONFIG;

    if (rc != 0)
        return rc;
    if (!coap_dtls_is_supported())
        return CMN_ECOAP;
    c->ctx = coap_new_context(NULL);
    if (c->ctx == NULL)
        return CMN_ECOAP;
    coap_set_app_data(c->ctx, c);
    coap_context_set_block_mode(c->ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    cmn_coap_set_body_limits(c->ctx, &c->cfg->body);
    rc = cmn_dtls_guard_new(c->ctx, &c->cfg->dtls, on_event, &c->guard);
    if (rc == 0)
        rc = setup_psk(c);
    if (rc == 0)
        rc = setup_pki(c);
    if (rc == 0)
        rc = setup_resources(c);
    if (rc == 0 &&
        (!cmn_coap_port_free(&addr) || coap_new_endpoint(c->ctx, &addr, COAP_PROTO_DTLS) == NULL))
        rc = CMN_EIO;
    if (rc == 0 && coap_context_get_coap_fd(c->ctx) < 0)
        rc = CMN_ECOAP; /* libcoap without epoll: cannot share our poll loop */
    return rc;
}

int enr_coap_new(const enr_config *cfg, cmn_store *store, enr_ca *ca, enr_events_fn on_events,
                 void *arg, enr_coap **ret)
{
    enr_coap *c = calloc(1, sizeof(*c));
    int rc;

    *ret = NULL;
    if (c == NULL)
        return CMN_ENOMEM;
    c->cfg = cfg;
    c->store = store;
    c->ca = ca;
    c->on_events = on_events;
    c->arg = arg;
    coap_startup();
    coap_set_log_handler(coap_log_to_cmn);
    coap_set_log_level(cfg->level >= CMN_LOG_DEBUG ? LOG_DEBUG : LOG_WARNING);
    coap_dtls_set_log_level(cfg->level >= CMN_LOG_DEBUG ? LOG_DEBUG : LOG_WARNING);
    rc = setup_context(c);
    if (rc != 0) {
        enr_coap_free(c);
        return rc;
    }
    *ret = c;
    return 0;
}

void enr_coap_set_gba(enr_coap *c, enr_gba *gba)
{
    c->gba = gba;
}

void enr_coap_free(enr_coap *c)
{
    if (c == NULL)
        return;
    cmn_dtls_guard_free(c->guard);
    if (c->ctx != NULL)
        coap_free_context(c->ctx);
    while (c->peers != NULL) {
        enr_peer *p = c->peers;
        c->peers = p->next;
        cmn_free_secret(p, sizeof(*p));
    }
    cmn_wipe(c->psk, sizeof(c->psk));
    enr_trust_free(c->trust);
    free(c);
    coap_cleanup();
}

int enr_coap_fd(const enr_coap *c)
{
    return coap_context_get_coap_fd(c->ctx);
}

int enr_coap_process(enr_coap *c)
{
    coap_tick_t now;
    char line[320];
    int rc = coap_io_process(c->ctx, COAP_IO_NO_WAIT);

    /* libcoap copied the Kpm of any handshake in this round: drop ours. */
    cmn_wipe(c->psk, sizeof(c->psk));
    if (rc < 0)
        return CMN_ECOAP;
    coap_ticks(&now);
    check_handshakes(c, now);
    if (cmn_dtls_guard_poll(c->guard, line, sizeof(line)))
        CMN_WARN(SUB, "%s", line);
    return (int)coap_io_prepare_epoll(c->ctx, now);
}

void enr_coap_dtls_stats(const enr_coap *c, cmn_dtls_stats *ret)
{
    cmn_dtls_guard_stats(c->guard, ret);
}
