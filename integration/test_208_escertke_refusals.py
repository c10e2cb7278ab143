"""208: ESCertKE refusals at tep-cse, the Terminating End-Point (TS-0003 8.7.2.2 C.1: the
handshake of TLS v1.2 [5]; TS-0001 11.4.3 C.1c: Message 3 correlated by the From;
TS-0003 10.7: a revoked certificate authenticates nothing). The initiator here is
Python's ssl module (OpenSSL) over memory BIOs, so tep-cse's wolfSSL end also meets a TLS
implementation nobody here wrote: it first completes a handshake, then a tampered
Message 3, a Message 3 of no handshake in progress (unknown session), a certificate from
another CA, a tep CA certificate that names someone else than the From and a revoked
certificate are refused, none with a key."""

import subprocess
import time

from harness import (EscertkeInitiator, cert_of, escertke_eckm, escertke_send, mfr_ca,
                     mfr_device_cert, restart_cse_with_certificate)

_Initiator, _send, _eckm = EscertkeInitiator, escertke_send, escertke_eckm


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


def test_revoked_certificate_refused(platform):
    restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(platform, "eck208r")
    ae_id = dev.state_values()["enrolee_id"]
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", crt], check=True,
                            capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    r = platform.tepctl("cert", "revoke", serial)
    assert r.rc == 0, str(r)
    # tep-cse applies revocations from sync (under a second): retry until refused
    deadline = time.monotonic() + 5
    while True:
        i = _Initiator(crt, key, ca)
        m2 = _eckm(_send(platform, ae_id, i.step()))
        r = _send(platform, ae_id, i.step(m2))
        if r.rsc != 2000 or time.monotonic() > deadline:
            break
    assert r.rsc == 4103 and "no longer usable" in r.dbg, str(r)
    platform["cse"].wait_log(r"event=escertke_cert_refused reason=cert_revoked serial=%s"
                             % serial.lower(), 5)
