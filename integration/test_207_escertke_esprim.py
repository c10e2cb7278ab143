"""207: ESCertKE (TS-0003 8.7; TS-0001 11.4.3; TS-0004 7.5.1.2.12) between libtepae (the
Initiating End-Point) and tep-cse (the Terminating End-Point, with its tep CA certificate):
a TLS 1.2 handshake whose four ESCertKE Messages travel base64 in two NOTIFYs to the
CSEBase ({"m2m:seci":{"sit":6,"eckm":...}}). The pairwiseE2EKey exported with
"EXPORTER-oneM2M-ESCertKE" (10.3.1) feeds Ke2e_master (10.3.6) and so ESPrim (8.4): over
plain CoAP, a request protected with that key alone is authenticated and succeeds.
Refusals: an initiator certificate from another CA, a tampered Message 3, a Message 3
for which no handshake is in progress (unknown session). The refusal cases drive the
handshake with Python's ssl module (OpenSSL), so tep-cse's wolfSSL end also meets a TLS
implementation nobody here wrote."""

import base64
import ssl

from harness import cert_of, created_path, mfr_ca, mfr_device_cert, restart_cse_with_certificate
from onem2m_client import OneM2MClient


def _lines(result, key):
    return [line.split("=", 1)[1] for line in result.out.splitlines()
            if line.startswith(key + "=")]


def _seci(msg):
    return {"m2m:seci": {"sit": 6, "eckm": base64.b64encode(msg).decode()}}


class _Initiator:
    """A TLS 1.2 client over memory BIOs (Python ssl), certificate required both ways."""

    def __init__(self, crt, key, ca):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = False  # the CSE is named by its SAN URI, checked below
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(crt, key)
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256")
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_side=False)

    def step(self, msg=None):
        """Feeds one ESCertKE message; returns the next one (b"" when done)."""
        if msg:
            self.inc.write(msg)
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()


def _send(platform, frm, msg):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], frm) as c:
        return c.notify(platform.env["CSE_NAME"], _seci(msg))


def _eckm(r):
    assert r.rsc == 2000, str(r)
    seci = r.json["m2m:seci"]
    assert seci["sit"] == 6, str(r)
    return base64.b64decode(seci["eckm"])


def test_escertke_key_then_esprim(platform):
    restart_cse_with_certificate(platform)
    dev, _, _, _ = cert_of(platform, "eck207")
    ae_id = dev.state_values()["enrolee_id"]
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (platform.env["CSE_NAME"], ae_id))

    # plain CoAP: the device is authenticated by the ESPrim object alone, under the key
    # ESCertKE just established (not its Kpsa: the kid is hex(pairwiseE2EKeyID))
    r = dev.run("esprim", "create", cnt, "--ty", "4", "--pc", '{"m2m:cin":{"con":"eck-1"}}',
                "--escertke", "--plain", platform.env["CSE_COAP"])
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    kid = r.get("ESCERTKE_KID")
    assert len(kid) == 32 and all(ch in "0123456789abcdef" for ch in kid), str(r)
    assert _lines(r, "RSC") == ["2001"] and '"con":"eck-1"' in r.get("BODY"), str(r)
    platform["cse"].wait_log(r"event=escertke_established originator=%s kid=%s" % (ae_id, kid), 5)
    platform["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s inner_rsc=2001"
                             % (kid, ae_id), 5)

    # a second run establishes another key
    r2 = dev.run("esprim", "retrieve", cnt + "/la", "--escertke", "--plain",
                 platform.env["CSE_COAP"])
    assert r2.rc == 0 and _lines(r2, "RSC") == ["2000"], str(r2)
    assert r2.get("ESCERTKE_KID") != kid and '"con":"eck-1"' in r2.get("BODY"), str(r2)


def test_openssl_initiator_and_refusals(platform, tmp_path):
    restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(platform, "eck207b")
    ae_id = dev.state_values()["enrolee_id"]

    # OpenSSL as the initiator completes the handshake with tep-cse (4 messages)
    i = _Initiator(crt, key, ca)
    m2 = _eckm(_send(platform, ae_id, i.step()))
    m4 = _eckm(_send(platform, ae_id, i.step(m2)))
    assert i.step(m4) == b"" and i.tls.version() == "TLSv1.2", i.tls.version()
    san = i.tls.getpeercert()["subjectAltName"]
    assert ("URI", "onem2m:/tep-cse") in san, san
    platform["cse"].wait_log(r"event=escertke_established originator=%s kid=[0-9a-f]{32}"
                             % ae_id, 5)

    # a tampered Message 3: refused, no key
    i = _Initiator(crt, key, ca)
    m2 = _eckm(_send(platform, ae_id, i.step()))
    m3 = bytearray(i.step(m2))
    m3[len(m3) // 2] ^= 0x01
    r = _send(platform, ae_id, bytes(m3))
    assert r.rsc == 4103 and "handshake refused" in r.dbg, str(r)

    # unknown session: a Message 3 whose originator has no handshake in progress (the
    # refusal above ended it; and another originator never started one)
    i = _Initiator(crt, key, ca)
    m2 = _eckm(_send(platform, ae_id, i.step()))
    m3 = i.step(m2)
    r = _send(platform, "Cnobody207", m3)
    assert r.rsc == 4000 and "no handshake in progress" in r.dbg, str(r)
    # ... the real owner may still finish it
    m4 = _eckm(_send(platform, ae_id, m3))
    assert i.step(m4) == b""
    r = _send(platform, ae_id, m3)  # and not twice
    assert r.rsc == 4000 and "no handshake in progress" in r.dbg, str(r)

    # a certificate from another CA (same identity in its SAN): refused at Message 3
    other = mfr_ca(str(tmp_path), "other")
    ocrt, okey = mfr_device_cert(other, str(tmp_path), "evil", uri="onem2m:" + ae_id)
    i = _Initiator(ocrt, okey, ca)
    m2 = _eckm(_send(platform, ae_id, i.step()))
    r = _send(platform, ae_id, i.step(m2))
    assert r.rsc == 4103 and "handshake refused" in r.dbg, str(r)

    # a tep CA certificate of someone else than the outer From
    i = _Initiator(crt, key, ca)
    m2 = _eckm(_send(platform, "Cimpostor207", i.step()))
    r = _send(platform, "Cimpostor207", i.step(m2))
    assert r.rsc == 4103 and "does not name the originator" in r.dbg, str(r)
    platform["cse"].wait_log(r"event=escertke_refused rsc=4103", 5)
