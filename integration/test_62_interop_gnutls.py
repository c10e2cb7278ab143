"""62: GnuTLS (Debian's coap-client-gnutls, libcoap 4.3.1 with its GnuTLS DTLS backend), a
DTLS stack nobody here wrote, against the three ways into tep (TS-0003 10.2.1: DTLS 1.2,
SNI):

- the PSK bootstrap to tep-enroller (8.3.2.1; KpmID/Kpm): coap-client sends the URI's
  host as SNI (RFC 6066), so the platform's MEF-FQDN is `localhost` and the URI
  coaps://localhost:<port>/enrol; POST /enrol answers 2.01 with the enrolment;
- the provisioned-symmetric-key SAEF to tep-cse (8.2.2.1; KpsaID/Kpsa from tepkeys.py);
- the certificate SAEF to tep-cse (8.2.2.2, 10.1.1) with an enroller-issued certificate
  (-c/-j/-C, as integration 54 does with OpenSSL): AE registration, a container and a
  contentInstance created, all 2.01, on an ECDHE-ECDSA suite.

Each runs through harness.DtlsRelay, which reads the handshake in clear (SNI, suite).
coap-client 4.3.1 takes -k as a C string, so a PSK with a NUL byte is re-drawn; it drops
responses carrying oneM2M options it does not know, so a response is read from -v 7's
trace of the decrypted message: "c:2.01" (a bare "2.01" could be part of a timestamp)."""

import json
import re
import shutil
import socket
import subprocess
import time

import pytest

import harness
import tepkeys
from harness import cert_of, coap_cert_argv, restart_cse_with_certificate

CLIENT = shutil.which("coap-client-gnutls")
pytestmark = pytest.mark.skipif(CLIENT is None, reason="coap-client-gnutls (libcoap3-bin) missing")

# GnuTLS names of the ECDHE-ECDSA suites tep-cse may choose (all AEAD)
# coap-client waits out -B after a response it drops (oneM2M options it does not know);
# on loopback the handshake and the answer take milliseconds
WAIT_S = 2
ECDHE_ECDSA_AEAD = {0xC0AC: "ECDHE_ECDSA_AES_128_CCM", 0xC0AD: "ECDHE_ECDSA_AES_256_CCM",
                    0xC0AE: "ECDHE_ECDSA_AES_128_CCM_8", 0xC0AF: "ECDHE_ECDSA_AES_256_CCM_8",
                    0xC02B: "ECDHE_ECDSA_AES_128_GCM_SHA256",
                    0xC02C: "ECDHE_ECDSA_AES_256_GCM_SHA384",
                    0xCCA9: "ECDHE_ECDSA_CHACHA20_POLY1305"}


@pytest.fixture
def relay():
    made = []

    def make(server_port, host="127.0.0.1"):
        made.append(harness.DtlsRelay(server_port, host))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def _run(argv, timeout=30):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return (p.stdout + p.stderr).decode(errors="replace")


def _prov(dev):
    with open(dev.prov) as f:
        return {k.strip(): v.strip() for k, v in (l.split("=", 1) for l in f if "=" in l)}


# ---- tep-enroller: PSK bootstrap with SNI -----------------------------------------------

def test_gnutls_psk_bootstrap_to_enroller_with_sni(platform_factory, relay):
    p = platform_factory(mef_fqdn="localhost")
    for i in range(10):  # a Kpm with a NUL byte cannot go through -k: another enrolee
        dev = p.add_enrolee("gnutls%02d" % i)
        prov = _prov(dev)
        kpm = bytes.fromhex(prov["kpm"])
        if b"\0" not in kpm:
            break
    else:
        pytest.fail("ten enrolees in a row got a Kpm with a NUL byte")
    # coap-client connects to the first address of "localhost": the relay listens there
    host = socket.getaddrinfo("localhost", None, type=socket.SOCK_DGRAM)[0][4][0]
    r = relay(p.ports["enroller_coaps"], host)
    out = _run([CLIENT, "-v", "7", "-B", str(WAIT_S), "-m", "post", "-t", "application/json",
                "-e", json.dumps({"cei": False}), "-u", prov["kpm_id"].encode(), "-k", kpm,
                b"coaps://localhost:%d/enrol" % r.port])
    assert r.sni == "localhost", (r.sni, out)
    assert re.search(r"v:1 t:(ACK|CON) c:2\.01", out), out + "\n" + p.logs()
    assert '"keid"' in out and '"eid"' in out, out
    assert "event=handshake_refused" not in p["enroller"].log()


# ---- tep-cse: provisioned symmetric key SAEF --------------------------------------------

def test_gnutls_psk_saef_to_cse(platform, relay):
    """Its own AE read back over Kpsa (the request is the SDK-registered AE's)."""
    dev = platform.add_enrolee("device01")
    for _ in range(10):
        res = dev.run("enrol")
        assert res.rc == 0, "%s\n%s" % (res, platform.logs())
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        if b"\0" not in kpsa:
            break
    else:
        pytest.fail("ten enrolments in a row gave a Kpsa with a NUL byte")
    ident, ae_id = tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"]), st["enrolee_id"]
    res = dev.run("register")
    assert res.rc == 0, "%s\n%s" % (res, platform.logs())
    r = relay(platform.ports["cse_coaps"])
    url = "coaps://127.0.0.1:%d/%s" % (r.port, harness.ae_path(platform, dev))
    argv = [CLIENT, "-v", "7", "-B", str(WAIT_S), "-m", "get", "-O", "279,%s" % ae_id,
            "-O", "283,rq-gnutls", "-O", "271,3", "-u", ident.encode(), "-k", kpsa,
            url.encode()]
    out = _run(argv)
    assert re.search(r"v:1 t:(ACK|CON) c:2\.05", out), out + "\n" + platform.logs()
    assert "m2m:ae" in out and ae_id in out, out
    assert harness.TLS_PSK_WITH_AES_128_CCM_8 in r.offered, r.offered
    assert "event=session_bound identity=%s enrolee_id=%s" % (ident, ae_id) \
        in platform["cse"].log()


# ---- tep-cse: certificate SAEF ----------------------------------------------------------

def test_gnutls_certificate_saef_registers_and_writes(platform, relay):
    p = restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(p, "device01")
    ae_id, api = dev.state_values()["enrolee_id"], dev.state_values()["app_id"] or "Ntepdemo"
    r = relay(p.ports["cse_coaps"])
    base = p.env["CSE_NAME"]

    def coap(method, path, body=None, ty=None):
        argv = coap_cert_argv(p, crt, key, ca, method, path, ae_id, body, ty, wait_s=WAIT_S)
        argv[0] = CLIENT
        argv[-1] = "coaps://127.0.0.1:%d/%s" % (r.port, path)
        return _run(argv)

    out = coap("post", base, {"m2m:ae": {"rn": "app1", "api": api, "rr": False, "srv": ["3"]}},
               ty=2)
    assert re.search(r"v:1 t:(ACK|CON) c:2\.01", out), out + "\n" + p.logs()
    p["cse"].wait_log(r"event=session_bound identity=cert:[0-9a-f]+ enrolee_id=%s" % ae_id, 5)
    assert r.chosen in ECDHE_ECDSA_AEAD, "0x%04x" % (r.chosen or 0)
    assert harness.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 in r.offered, r.offered
    out = coap("post", base + "/app1", {"m2m:cnt": {"rn": "data"}}, ty=3)
    assert re.search(r"v:1 t:(ACK|CON) c:2\.01", out), out + "\n" + p.logs()
    out = coap("post", base + "/app1/data", {"m2m:cin": {"con": "hello-gnutls"}}, ty=4)
    assert re.search(r"v:1 t:(ACK|CON) c:2\.01", out) and "hello-gnutls" in out, out
    out = coap("get", base + "/app1/data/la")
    assert re.search(r"v:1 t:(ACK|CON) c:2\.05", out) and "hello-gnutls" in out, out
