/* A tep CoAPS server's certificate set-up (see cmn_pki.h). */
#include "cmn_pki.h"

#include <stdio.h>
#include <string.h>

#include "cmn_crypto.h"
#include "cmn_err.h"
#include "cmn_log.h"

/* The DER of the first PEM block of kind in path; *inout_len = capacity on entry. */
int cmn_pki_read_pem(const char *path, const char *kind, uint8_t *der, size_t *inout_len)
{
    char pem[CMN_CA_PEM_MAX];
    FILE *f = fopen(path, "r");
    size_t n;
    int rc;

    if (f == NULL)
        return CMN_ENOTFOUND;
    n = fread(pem, 1, sizeof(pem) - 1, f);
    fclose(f);
    pem[n] = '\0';
    rc = cmn_ca_from_pem(pem, n, kind, der, inout_len);
    cmn_wipe(pem, sizeof(pem));
    return rc;
}

static bool names(const uint8_t *der, size_t len, const char *own_id)
{
    cmn_cert_info info;
    const char *id;

    return cmn_pki_peer_id(der, len, &info, &id) == 0 && strcmp(id, own_id) == 0;
}

int cmn_pki_check(const char *sub, const char *section, const cmn_pki_files *f, const char *own_id,
                  bool *ret_on)
{
    uint8_t crt[CMN_CA_CERT_DER_MAX], ca[CMN_CA_CERT_DER_MAX], key[CMN_CA_KEY_DER_MAX];
    size_t crt_len = sizeof(crt), ca_len = sizeof(ca), key_len = sizeof(key);
    const char *bad = f->cert_file;
    int rc;

    *ret_on = false;
    if (f->cert_file[0] == '\0' && f->key_file[0] == '\0' && f->ca_file[0] == '\0')
        return 0;
    if (f->cert_file[0] == '\0' || f->key_file[0] == '\0' || f->ca_file[0] == '\0') {
        CMN_ERR(sub,
                "event=pki_refused reason=incomplete msg=\"[%s] cert_file, key_file "
                "and ca_file go together\"",
                section);
        return CMN_EINVAL;
    }
    rc = cmn_pki_read_pem(f->cert_file, "CERTIFICATE", crt, &crt_len);
    if (rc == 0 && (rc = cmn_pki_read_pem(f->key_file, "EC PRIVATE KEY", key, &key_len)) != 0)
        bad = f->key_file;
    if (rc == 0 && (rc = cmn_pki_read_pem(f->ca_file, "CERTIFICATE", ca, &ca_len)) != 0)
        bad = f->ca_file;
    if (rc == 0 && (rc = cmn_ca_verify(ca, ca_len, crt, crt_len)) != 0)
        bad = f->cert_file;
    cmn_wipe(key, sizeof(key));
    if (rc != 0) {
        CMN_ERR(sub, "event=pki_refused reason=bad_file file=%s err=%s", bad, cmn_strerror(rc));
        return CMN_ECONFIG;
    }
    if (own_id != NULL && !names(crt, crt_len, own_id)) {
        CMN_ERR(sub,
                "event=pki_refused reason=wrong_san file=%s msg=\"not issued to " CMN_CA_SAN_PREFIX
                "%s\"",
                f->cert_file, own_id);
        return CMN_ECONFIG;
    }
    *ret_on = true;
    return 0;
}

/* additional_tls_setup_call_back, from libcoap's ClientHello callback of every
 * handshake: every CA of the set-up's ca_file (not only its last), and the SNI check. */
static int every_handshake(void *tls, coap_dtls_pki_t *setup)
{
    cmn_tls_sni_check *sni = setup->sni_call_back_arg;

    if (sni != NULL && cmn_tls_check_sni(tls, sni) != 0)
        return 0;
    return cmn_tls_trust_file(tls, setup->pki_key.key.pem.ca_file) == 0;
}

int cmn_pki_setup(coap_context_t *ctx, coap_dtls_spsk_t *spsk, uint8_t unused_psk[CMN_KEY_LEN],
                  const cmn_pki_files *f, coap_dtls_cn_callback_t cb, void *arg)
{
    return cmn_pki_setup_sni(ctx, spsk, unused_psk, f, cb, arg, NULL);
}

int cmn_pki_setup_sni(coap_context_t *ctx, coap_dtls_spsk_t *spsk, uint8_t unused_psk[CMN_KEY_LEN],
                      const cmn_pki_files *f, coap_dtls_cn_callback_t cb, void *arg,
                      cmn_tls_sni_check *sni)
{
    coap_dtls_pki_t pki;

    if (cmn_random(unused_psk, CMN_KEY_LEN) != 0)
        return CMN_ECRYPTO;
    spsk->psk_info.key.s = unused_psk;
    spsk->psk_info.key.length = CMN_KEY_LEN;
    if (!coap_context_set_psk2(ctx, spsk))
        return CMN_ECOAP;
    memset(&pki, 0, sizeof(pki));
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.check_common_ca = 1;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 2;
    pki.validate_cn_call_back = cb;
    pki.cn_call_back_arg = arg;
    pki.sni_call_back_arg = sni; /* for every_handshake; no validate_sni_call_back */
    pki.additional_tls_setup_call_back = every_handshake;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = f->cert_file;
    pki.pki_key.key.pem.private_key = f->key_file;
    pki.pki_key.key.pem.ca_file = f->ca_file;
    if (!coap_context_set_pki(ctx, &pki)) {
        CMN_ERR("pki", "event=pki_refused reason=bad_files cert_file=%s key_file=%s ca_file=%s",
                f->cert_file, f->key_file, f->ca_file);
        return CMN_ECOAP;
    }
    return 0;
}

int cmn_pki_peer_id(const uint8_t *der, size_t len, cmn_cert_info *info, const char **ret_id)
{
    size_t plen = strlen(CMN_CA_SAN_PREFIX);

    if (cmn_ca_cert_info(der, len, info) != 0 ||
        strncmp(info->san_uri, CMN_CA_SAN_PREFIX, plen) != 0 || info->san_uri[plen] == '\0')
        return CMN_EINVAL;
    *ret_id = info->san_uri + plen;
    return 0;
}
