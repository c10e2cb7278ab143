/* The benchmarks' own DTLS client, bare libcoap and no libtepae code: the baselines
 * (a handshake alone, a handshake and one RETRIEVE) that bench-enrol and bench-cert
 * measure against tep's daemons and against a bare libcoap server alike. Each call
 * opens its own libcoap context and frees it before returning; single-threaded. */
#ifndef TEP_BENCH_CLIENT_H
#define TEP_BENCH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Certificate (ECDHE-ECDSA) credentials, PEM files, all borrowed. The server's chain must
 * end at ca_file and its end-entity certificate carry subjectAltName "onem2m:<peer_id>". */
typedef struct {
    const char *cert_file;
    const char *key_file;
    const char *ca_file;
    const char *peer_id;
    const char *sni;
} bench_pki;

/* One DTLS-PSK handshake to uri ("coaps://host:port") with identity, psk and SNI,
 * released at once. 0, CMN_EDENIED (refused), CMN_ETIMEOUT (no handshake within
 * timeout_ms), CMN_EINVAL (bad URI), CMN_ECOAP. */
int bench_psk_once(const char *uri, const char *identity, const uint8_t *psk, size_t psk_len,
                   const char *sni, int timeout_ms);

/* One certificate handshake to uri, then, when path is not NULL, one oneM2M RETRIEVE of
 * path (From = from, a fresh RQI, RVI 3) that must be answered with RSC 2000
 * (CMN_EPROTO otherwise); the session released. Errors as bench_psk_once(). */
int bench_pki_once(const char *uri, const bench_pki *creds, const char *path, const char *from,
                   int timeout_ms);

#endif
