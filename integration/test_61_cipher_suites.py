"""61: the DTLS versions and cipher suites of every tep DTLS endpoint, measured with a
client nobody here wrote (Debian's `openssl s_client`, OpenSSL 3).

TS-0003 10.2.1: UDP payloads are secured with DTLS 1.2; every implementation supports SNI;
servers on an IN support every suite of 10.2.2 and 10.2.3. 10.2.2: the PSK frameworks
(provisioned symmetric key SAEF, MAF-based SAEF, PSK bootstrap) implement at least
TLS_PSK_WITH_AES_128_CCM_8 over DTLS (OpenSSL: PSK-AES128-CCM8). 10.2.3: the certificate
frameworks implement TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.

Endpoints: tep-enroller (MEF, identity KpmID, SNI = MEF-FQDN required), tep-cse (PSK SAEF,
identity KpsaID), tep-authz (MAF, identity KmID). What tep accepts, as measured and pinned
here (libcoap 4.3.1's OpenSSL backend, unchanged by tep's patch): DTLS 1.2 only (a DTLS
1.0 ClientHello gets alert protocol_version); AEAD suites only: PSK and ECDHE-PSK with
AES-128/256-CCM_8, AES-CCM, AES-GCM, ChaCha20-Poly1305 and ARIA-GCM, the mandatory
PSK-AES128-CCM8 among them; NULL-encryption and CBC suites get alert handshake_failure
(TS-0003's TLS_PSK_WITH_AES_128_CBC_SHA256 is the TLS-over-TCP suite; tep has no TLS
endpoint). SNI: the MEF refuses a handshake without it or with another name (alert
unrecognized_name); tep-cse and tep-authz serve one authority each and accept either.

tep-cse's certificate SAEF (8.2.2.2; a tep CA certificate for /tep-cse as in integration
54, the client with an enroller-issued one): DTLS 1.2 only;
TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (ECDHE-ECDSA-AES128-CCM8) and the other ECDHE-ECDSA
AEAD suites accepted, tep-cse's chain verified; NULL and every CBC suite (SHA-1 and the
TLS 1.2 SHA-256/384 ones) get alert handshake_failure: libcoap is built with
COAP_OPENSSL_CIPHERS narrowed to AEAD suites (patches/build-libcoap.sh; its default
"TLSv1.3:TLSv1.2:!NULL" let the TLS 1.2 CBC suites through)."""

import os
import re
import shutil
import subprocess

import pytest

import harness
import tepkeys

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl (the CLI) missing")

MANDATORY_PSK = "PSK-AES128-CCM8"          # TLS_PSK_WITH_AES_128_CCM_8, TS-0003 10.2.2
AEAD_PSK = ["PSK-AES128-CCM8", "PSK-AES128-CCM", "PSK-AES128-GCM-SHA256",
            "PSK-AES256-CCM8", "ECDHE-PSK-CHACHA20-POLY1305"]
REFUSED_PSK = ["PSK-NULL-SHA256", "PSK-NULL-SHA", "ECDHE-PSK-NULL-SHA256",
               "PSK-AES128-CBC-SHA256", "PSK-AES128-CBC-SHA", "ECDHE-PSK-AES128-CBC-SHA256"]
AEAD = re.compile(r"(CCM|GCM|CHACHA20)")
# TLS alert descriptions (RFC 5246 7.2, RFC 6066 3)
HANDSHAKE_FAILURE, PROTOCOL_VERSION, UNRECOGNIZED_NAME = 40, 70, 112
S_CLIENT_TIMEOUT = 6


class Endpoints:
    """One platform with tep-authz's CoAPS endpoint on, and an enrolled device: for each
    daemon, (port, psk identity, psk, SNI)."""

    def __init__(self, platform, dev, authz_port):
        env = platform.env
        prov = {}
        with open(dev.prov) as f:
            for line in f:
                if "=" in line:
                    k, v = line.split("=", 1)
                    prov[k.strip()] = v.strip()
        ke = bytes.fromhex(dev.state_values()["ke"])
        kpsa = tepkeys.kpsa(ke, dev.state_values()["registrar_cse_id"])
        km = tepkeys.km(ke, env["MAF_ID"])
        km_id = tepkeys._hmac(km, b"tep KmID")[:16].hex() + "@" + env["MAF_ID"]
        self.platform = platform
        self.by_name = {
            "enroller": (platform.ports["enroller_coaps"], prov["kpm_id"],
                         bytes.fromhex(prov["kpm"]), env["MEF_FQDN"]),
            "cse": (platform.ports["cse_coaps"], tepkeys.kpsa_id(kpsa, env["MEF_FQDN"]),
                    kpsa, env["CSE_NAME"]),
            "authz": (authz_port, km_id, km, env["MAF_ID"]),
        }


@pytest.fixture(scope="module")
def endpoints():
    authz_port = harness.free_udp_ports(1)[0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEP_AUTHZ_COAPS_LISTEN", "127.0.0.1:%d" % authz_port)
        p = harness.Platform()
        ok = False
        try:
            p.start()
            dev = p.add_enrolee("device01")
            r = dev.run("enrol")
            assert r.rc == 0, "%s\n%s" % (r, p.logs())
            e = Endpoints(p, dev, authz_port)
            _wait_credentials_delivered(e)
            yield e
            p.assert_clean_stop()
            ok = True
        finally:
            p.cleanup(keep=not ok or bool(os.environ.get("TEP_KEEP_RUN")))


def _wait_credentials_delivered(e):
    """Kpsa and Km reach tep-cse and tep-authz by event right after the enrolment."""
    for name in ("cse", "authz"):
        for _ in range(20):
            if _s_client(e, name, MANDATORY_PSK).cipher == MANDATORY_PSK:
                break
        else:
            pytest.fail("%s never accepted the device's key\n%s" % (name, e.platform.logs()))


class Handshake:
    def __init__(self, out):
        self.out = out
        m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
        self.version, self.cipher = (m.group(1), m.group(2)) if m else (None, None)
        if self.cipher == "(NONE)":
            self.cipher = None
        m = re.search(r"SSL alert number (\d+)", out)
        self.alert = int(m.group(1)) if m else None
        m = re.search(r"^\s*Protocol\s*:\s*(\S+)", out, re.M)
        self.protocol = m.group(1) if m else None


def _s_client(e, name, cipher=None, dtls="-dtls1_2", sni=..., psk=None,
              timeout=S_CLIENT_TIMEOUT):
    port, ident, key, default_sni = e.by_name[name]
    sni = default_sni if sni is ... else sni
    argv = [OPENSSL, "s_client", dtls, "-connect", "127.0.0.1:%d" % port,
            "-psk_identity", ident, "-psk", (psk or key).hex()]
    argv += ["-servername", sni] if sni else ["-noservername"]
    return _run_s_client(argv, cipher, timeout)


def _run_s_client(argv, cipher, timeout):
    if cipher:
        argv += ["-cipher", cipher + ":@SECLEVEL=0"]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        out = (p.stdout + p.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as t:
        out = ((t.stdout or b"") + (t.stderr or b"")).decode(errors="replace") + "\n[timeout]"
    return Handshake(out)


DAEMONS = ["enroller", "cse", "authz"]


@pytest.mark.parametrize("name", DAEMONS)
def test_mandatory_psk_ccm8_over_dtls12(endpoints, name):
    h = _s_client(endpoints, name, MANDATORY_PSK)
    assert (h.version, h.cipher, h.protocol) == ("TLSv1.2", MANDATORY_PSK, "DTLSv1.2"), h.out


@pytest.mark.parametrize("name", DAEMONS)
def test_full_offer_negotiates_an_aead_suite(endpoints, name):
    h = _s_client(endpoints, name)
    assert h.protocol == "DTLSv1.2" and h.cipher and AEAD.search(h.cipher), h.out


@pytest.mark.parametrize("name", DAEMONS)
@pytest.mark.parametrize("cipher", AEAD_PSK)
def test_aead_psk_suites_accepted(endpoints, name, cipher):
    assert _s_client(endpoints, name, cipher).cipher == cipher


@pytest.mark.parametrize("name", DAEMONS)
@pytest.mark.parametrize("cipher", REFUSED_PSK)
def test_null_and_cbc_suites_refused(endpoints, name, cipher):
    h = _s_client(endpoints, name, cipher)
    assert h.cipher is None and h.alert == HANDSHAKE_FAILURE, h.out


@pytest.mark.parametrize("name", DAEMONS)
def test_dtls10_refused(endpoints, name):
    h = _s_client(endpoints, name, "PSK", dtls="-dtls1")
    assert h.cipher is None and h.alert == PROTOCOL_VERSION, h.out


@pytest.mark.parametrize("name", DAEMONS)
def test_wrong_psk_never_completes(endpoints, name):
    key = endpoints.by_name[name][2]
    # the server cannot decrypt the client's Finished and drops it (DTLS): no answer
    h = _s_client(endpoints, name, MANDATORY_PSK, psk=bytes([key[0] ^ 1]) + key[1:],
                  timeout=3)
    assert h.cipher is None, h.out
    assert endpoints.platform[name].alive()


@pytest.mark.parametrize("sni", [None, "other.tep.local"])
def test_enroller_requires_its_sni(endpoints, sni):
    h = _s_client(endpoints, "enroller", MANDATORY_PSK, sni=sni)
    assert h.cipher is None and h.alert == UNRECOGNIZED_NAME, h.out
    reason = "no_sni" if sni is None else "wrong_sni"
    assert "event=handshake_refused reason=%s" % reason in endpoints.platform["enroller"].log()


@pytest.mark.parametrize("name", ["cse", "authz"])
def test_sni_optional_where_one_authority(endpoints, name):
    assert _s_client(endpoints, name, MANDATORY_PSK, sni=None).cipher == MANDATORY_PSK


# ---- the certificate frameworks: tep-cse's certificate SAEF (TS-0003 8.2.2.2, 10.2.3) --

MANDATORY_ECDSA = "ECDHE-ECDSA-AES128-CCM8"  # TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
AEAD_ECDSA = ["ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-AES128-CCM", "ECDHE-ECDSA-AES256-CCM8",
              "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
              "ECDHE-ECDSA-CHACHA20-POLY1305"]
# NULL and every CBC suite (SHA-1 and the TLS 1.2 SHA-256/384 ones): libcoap's default
# certificate cipher list lets the latter through; patches/build-libcoap.sh narrows it.
REFUSED_ECDSA = ["ECDHE-ECDSA-NULL-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                 "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"]


@pytest.fixture(scope="module")
def pki():
    """tep-cse with a tep CA certificate for /tep-cse (integration 54), and a device's
    enroller-issued certificate: (platform, crt, key, trust anchor)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TEP_AUTHZ_COAPS_LISTEN", raising=False)  # set by `endpoints` for its own
        p = harness.Platform()
        ok = False
        try:
            p.start()
            harness.restart_cse_with_certificate(p)
            _, crt, key, ca = harness.cert_of(p, "device01")
            yield p, crt, key, ca
            p.assert_clean_stop()
            ok = True
        finally:
            p.cleanup(keep=not ok or bool(os.environ.get("TEP_KEEP_RUN")))


def _s_client_cert(pki, cipher=None, dtls="-dtls1_2"):
    p, crt, key, ca = pki
    argv = [OPENSSL, "s_client", dtls, "-connect", "127.0.0.1:%d" % p.ports["cse_coaps"],
            "-cert", crt, "-key", key, "-CAfile", ca, "-noservername"]
    return _run_s_client(argv, cipher, S_CLIENT_TIMEOUT)


def test_certificate_mandatory_ecdhe_ecdsa_ccm8_over_dtls12(pki):
    h = _s_client_cert(pki, MANDATORY_ECDSA)
    assert (h.version, h.cipher, h.protocol) == ("TLSv1.2", MANDATORY_ECDSA, "DTLSv1.2"), h.out
    assert "Verify return code: 0 (ok)" in h.out, h.out  # tep-cse's chain to the tep CA


def test_certificate_full_offer_negotiates_an_aead_suite(pki):
    h = _s_client_cert(pki)
    assert h.protocol == "DTLSv1.2" and h.cipher and AEAD.search(h.cipher), h.out
    assert h.cipher.startswith("ECDHE-ECDSA-"), h.out


@pytest.mark.parametrize("cipher", AEAD_ECDSA)
def test_certificate_aead_suites_accepted(pki, cipher):
    assert _s_client_cert(pki, cipher).cipher == cipher


@pytest.mark.parametrize("cipher", REFUSED_ECDSA)
def test_certificate_null_and_cbc_suites_refused(pki, cipher):
    h = _s_client_cert(pki, cipher)
    assert h.cipher is None and h.alert == HANDSHAKE_FAILURE, h.out


def test_certificate_dtls10_refused(pki):
    h = _s_client_cert(pki, "ECDHE-ECDSA-AES128-SHA", dtls="-dtls1")
    assert h.cipher is None and h.alert == PROTOCOL_VERSION, h.out
