"""60: tinydtls (Eclipse; PyPI's DTLSSocket 0.2.3 through aiocoap's `tinydtls`
transport), a DTLS stack nobody here wrote, against tep's DTLS-PSK endpoints (TS-0003
10.2.1: DTLS 1.2, SNI; 10.2.2: TLS_PSK_WITH_AES_128_CCM_8 mandatory).

Stock DTLSSocket 0.2.3 cannot talk to tep: its tinydtls holds a PSK of at most 16 bytes
(and builds the PSK premaster secret in a 40-byte key block), an identity of at most 32
bytes, and sends no SNI. Every tep PSK is 32 bytes, a KpsaID 46, and tep-enroller
requires SNI = MEF-FQDN. `./tep deps` installs it with tep's patch
(patches/build-dtlssocket.sh, patches/README.md): PSK 32, identity 64, a key block that
holds the premaster secret, and the server_name extension from DTLS(serverName=...) or,
since aiocoap gives DTLSSocket no host name, from DTLSSOCKET_SERVER_NAME.

Every scenario runs through harness.DtlsRelay, which reads the handshake in clear:
(1) the PSK bootstrap to tep-enroller (8.3.2.1; KpmID/Kpm, SNI = MEF-FQDN): POST /enrol
answers 2.01 (aiocoap cannot export Ke, so a dedicated enrolee); (2) the provisioned
symmetric key SAEF to tep-cse (8.2.2.1; KpsaID/Kpsa derived in Python by tepkeys.py):
AE registration with the oneM2M options (TS-0008), data written and read back. Both
negotiate TLS_PSK_WITH_AES_128_CCM_8. (3) The certificate SAEF (8.2.2.2) cannot be done
with tinydtls: its ECDHE-ECDSA knows raw public keys only (RFC 7250), while tep-cse
serves and asks for X.509 certificates (10.1.1), and DTLSSocket exposes no ECDSA key
callbacks: the last test checks this in the source, the SAEF test in the ClientHello
(no ECDHE-ECDSA suite offered)."""

import asyncio
import os
import re
import tarfile
import time

import pytest

import harness
import onem2m_client as oc
import tepkeys

import aiocoap
from aiocoap.message import UndecidedRemote

try:
    from DTLSSocket import dtls
except ImportError:
    dtls = None


def _patched():
    try:
        dtls.DTLS(serverName=b"tep")
        return True
    except TypeError:  # stock 0.2.3: no serverName
        return False


pytestmark = [
    pytest.mark.skipif(dtls is None, reason="DTLSSocket (tinydtls) is not installed: ./tep deps"),
    pytest.mark.skipif(dtls is not None and not _patched(),
                       reason="DTLSSocket is the stock 0.2.3 (PSK <= 16 bytes, identity <= 32, "
                       "no SNI): ./tep deps installs it with tep's patch"),
]

HANDSHAKE_TIMEOUT = 10.0
PSK_CCM_8, PSK_CCM, SCSV = harness.TLS_PSK_WITH_AES_128_CCM_8, 0xC0A4, 0x00FF
UNRECOGNIZED_NAME = 112  # TLS alert, RFC 6066 3
SDIST = os.path.join(harness.ROOT, ".deps", "src", "dtlssocket-0.2.3.tar.gz")


class TinyDtlsClient(oc.OneM2MClient):
    """onem2m_client's requests over aiocoap's tinydtls transport with one PSK."""

    def __init__(self, host, port, identity, psk, originator=None):
        self.host, self.port, self.originator, self.rvi = host, port, originator, "3"
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(
            aiocoap.Context.create_client_context(transports=["tinydtls"]))
        self.ctx.client_credentials.load_from_dict({"coaps://%s:%d/*" % (host, port): {
            "dtls": {"psk": bytes(psk), "client-identity": identity.encode()}}})

    def message(self, *args, **kw):
        msg = super().message(*args, **kw)
        msg.remote = UndecidedRemote("coaps", "%s:%d" % (self.host, self.port))
        return msg

    def enrol(self, timeout=HANDSHAKE_TIMEOUT):
        """POST /enrol {"cei": false}: a plain CoAP request (the MEF takes no oneM2M
        options: an RQI would get 4.02 Bad Option)."""
        msg = aiocoap.Message(code=oc.POST, uri_path=["enrol"], payload=b'{"cei": false}',
                              content_format=oc.CF_JSON)
        msg.remote = UndecidedRemote("coaps", "%s:%d" % (self.host, self.port))
        return oc.Response(self.run(self.ctx.request(msg).response, timeout), None)


@pytest.fixture
def relay():
    made = []

    def make(server_port):
        made.append(harness.DtlsRelay(server_port))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def _prov(dev):
    with open(dev.prov) as f:
        return {k.strip(): v.strip() for k, v in (l.split("=", 1) for l in f if "=" in l)}


# ---- tep-enroller ----------------------------------------------------------------------

def test_tinydtls_psk_bootstrap_to_enroller_with_sni(platform, relay, monkeypatch):
    dev = platform.add_enrolee("tinydtls01")  # dedicated: this makes a real enrolment
    prov = _prov(dev)
    monkeypatch.setenv("DTLSSOCKET_SERVER_NAME", platform.env["MEF_FQDN"])
    r = relay(platform.ports["enroller_coaps"])
    c = TinyDtlsClient("127.0.0.1", r.port, prov["kpm_id"], bytes.fromhex(prov["kpm"]))
    try:
        resp = c.enrol()
    finally:
        c.close()
    assert r.sni == platform.env["MEF_FQDN"], r.sni
    assert r.chosen == PSK_CCM_8, "%r\n%s" % (r.chosen, platform.logs())
    assert resp.code == "2.01", "%s\n%s" % (resp, platform.logs())
    assert resp.json and "keid" in resp.json, resp
    assert "event=handshake_refused" not in platform["enroller"].log()


def test_tinydtls_without_sni_is_refused_by_enroller(platform, relay, monkeypatch):
    """The same client and credential without DTLSSOCKET_SERVER_NAME: no SNI, refused."""
    dev = platform.add_enrolee("tinydtls02")
    prov = _prov(dev)
    monkeypatch.delenv("DTLSSOCKET_SERVER_NAME", raising=False)
    r = relay(platform.ports["enroller_coaps"])
    c = TinyDtlsClient("127.0.0.1", r.port, prov["kpm_id"], bytes.fromhex(prov["kpm"]))
    try:
        with pytest.raises((aiocoap.error.Error, asyncio.TimeoutError)):
            c.enrol(timeout=2.0)  # tinydtls does not give up on the alert by itself
    finally:
        c.close()
    assert r.offered and r.sni is None, (r.offered, r.sni)
    assert UNRECOGNIZED_NAME in r.alerts, r.alerts
    platform["enroller"].wait_log(r"event=handshake_refused reason=no_sni", 5)


# ---- tep-cse ---------------------------------------------------------------------------

def _kpsa(platform, dev):
    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    return tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"]), kpsa, st["enrolee_id"]


def test_tinydtls_psk_saef_to_cse_registers_and_reads(platform, relay):
    dev = platform.add_enrolee("device01")
    res = dev.run("enrol")
    assert res.rc == 0, "%s\n%s" % (res, platform.logs())
    ident, kpsa, ae_id = _kpsa(platform, dev)
    assert len(ident) > 32 and len(kpsa) == 32  # beyond stock tinydtls's limits
    cse = platform.env["CSE_NAME"]
    r = relay(platform.ports["cse_coaps"])
    body = {"rn": ae_id, "api": dev.state_values()["app_id"], "rr": False, "srv": ["3"]}
    resp = None
    for _ in range(3):  # the Kpsa reaches tep-cse by event right after the enrolment
        c = TinyDtlsClient("127.0.0.1", r.port, ident, kpsa, ae_id)
        try:
            resp = c.create(cse, oc.TY_AE, body, timeout=HANDSHAKE_TIMEOUT)
            break
        except (aiocoap.error.Error, asyncio.TimeoutError):
            c.close()
            time.sleep(0.5)
    assert resp is not None, "no handshake with tep-cse\n%s" % platform.logs()
    try:
        assert resp.rsc == 2001, "%s\n%s" % (resp, platform.logs())
        assert resp.resource(oc.TY_AE)["aei"] == ae_id
        ae = resp.location or "%s/%s" % (cse, ae_id)
        resp = c.create(ae, oc.TY_CNT, {"rn": "data"})
        assert resp.rsc == 2001, "%s\n%s" % (resp, platform.logs())
        resp = c.create(ae + "/data", oc.TY_CIN, {"cnf": "text/plain:0", "con": "tinydtls-42"})
        assert resp.rsc == 2001, "%s\n%s" % (resp, platform.logs())
        resp = c.retrieve(ae + "/data/la")
        assert resp.rsc == 2000 and resp.resource(oc.TY_CIN)["con"] == "tinydtls-42", resp
    finally:
        c.close()
    assert r.offered == [PSK_CCM_8, PSK_CCM, SCSV], r.offered  # no ECDHE-ECDSA offered
    assert r.chosen == PSK_CCM_8, r.chosen
    assert "event=session_bound identity=%s enrolee_id=%s" % (ident, ae_id) \
        in platform["cse"].log()


# ---- certificates: not with tinydtls ---------------------------------------------------

@pytest.mark.skipif(not os.path.exists(SDIST), reason="DTLSSocket's sdist is not in .deps/src "
                    "(patches/build-dtlssocket.sh keeps it)")
def test_tinydtls_cannot_do_the_certificate_saef():
    """tinydtls's only certificate type is RawPublicKey (RFC 7250): it offers it alone in
    client/server_certificate_type, refuses a ServerHello that does not choose it, and
    has no X.509 code; DTLSSocket sets no ECDSA key callback, so tinydtls does not even
    offer an ECDHE-ECDSA suite (the SAEF test sees its ClientHello)."""
    with tarfile.open(SDIST) as t:
        def src(name):
            return t.extractfile("dtlssocket-0.2.3/DTLSSocket/" + name).read().decode()
        global_h, dtls_c, pyx = src("tinydtls/global.h"), src("tinydtls/dtls.c"), src("dtls.pyx")
    assert re.findall(r"#define\s+(TLS_CERT_TYPE_\w+)\s+(\d+)", global_h) == \
        [("TLS_CERT_TYPE_RAW_PUBLIC_KEY", "2")]
    assert not re.search(r"x509|X509|TLS_CERT_TYPE_X", dtls_c)
    assert "!= TLS_CERT_TYPE_RAW_PUBLIC_KEY)\n            goto error;" in dtls_c
    assert "get_ecdsa_key" not in pyx and "verify_ecdsa_key" not in pyx
