"""55: revoking one certificate. TS-0003 10.7 (a credential the platform issued can be
revoked, and what it authenticated ends with it) for the certificate-based SAEF of
8.2.2.2: `tepctl cert revoke SERIAL` commits a CERT_REVOKED event at tep-enroller;
tep-cse applies it from sync, refuses new handshakes with that certificate
(handshake_refused reason=cert_revoked) and closes its live sessions (close_notify)
within a second. Another enrolee's certificate and the same enrolee's PSK credential
keep working, and the revocation survives a restart of tep-cse (docs/internals.md
"Certificate SAEF", "Revocation and expiry"). (Each `tep-device cert` is a new
enrolment, which ends the certificates of the one it replaces: test_81.)"""

import subprocess
import time

import pytest

from harness import (COAP_CLIENT_OPENSSL, cert_of, coap_cert, coap_cert_argv,
                     restart_cse_with_certificate)

pytestmark = pytest.mark.skipif(COAP_CLIENT_OPENSSL is None,
                                reason="coap-client-openssl (libcoap3-bin) missing")


def _serial(crt):
    """The serial as an operator reads it: `openssl x509 -serial` (upper-case hex)."""
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", crt], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]


@pytest.fixture
def two_certs(platform):
    """tep-cse with the certificate SAEF on; device01 with certificate A and device02 with
    certificate B, each with an AE registered over its certificate. Returns (platform,
    device01, A, B, trust anchor, A's AE path, B's AE path); A and B are (crt, key,
    serial lower-case, AE-ID)."""
    p = restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(p, "device01")
    _, crt2, key2, _ = cert_of(p, "device02")
    a = (crt, key, _serial(crt).lower(), "Cdevice01")
    b = (crt2, key2, _serial(crt2).lower(), "Cdevice02")
    assert a[2] != b[2]
    base = p.env["CSE_NAME"]
    for c, rn in ((a, "app1"), (b, "app2")):
        log = coap_cert(p, c[0], c[1], ca, "post", base, c[3],
                        {"m2m:ae": {"rn": rn, "api": "Ntepdemo", "rr": False, "srv": ["3"]}},
                        ty=2)
        assert "c:2.01" in log, log + "\n" + p.logs()
    return p, dev, a, b, ca, base + "/app1", base + "/app2"


def _refused(p, cert, ca, path):
    log = coap_cert(p, cert[0], cert[1], ca, "get", path, "Cdevice01")
    assert "session connected" not in log and "c:2.05" not in log, log
    p["cse"].wait_log(r"event=handshake_refused reason=cert_revoked identity=cert:%s "
                      r"enrolee_id=Cdevice01" % cert[2], 5)


def _works(p, cert, ca, path, rn):
    log = coap_cert(p, cert[0], cert[1], ca, "post", path, cert[3], {"m2m:cnt": {"rn": rn}},
                    ty=3)
    assert "c:2.01" in log, log + "\n" + p.logs()


def test_revoked_certificate_is_closed_and_refused_the_other_works(two_certs):
    p, dev, a, b, ca, ae, ae_b = two_certs
    # a live session on A: its GET answered, then it waits (up to 20 s)
    live = subprocess.Popen(coap_cert_argv(p, a[0], a[1], ca, "get", ae, "Cdevice01",
                                           wait_s=20),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        p["cse"].wait_log(r"event=session_bound identity=cert:%s" % a[2], 5)
        p["cse"].wait_log(r"event=request op=retrieve path=%s .*rsc=2000" % ae, 5)
        r = p.tepctl("cert", "revoke", a[2].upper())
        assert r.rc == 0 and "%s revoked at" % a[2] in r.out, str(r)
        revoked = time.monotonic()
        p["cse"].wait_log(r"event=session_closed reason=cert_revoked identity=cert:%s" % a[2],
                          1.0)
        out = live.communicate(timeout=5)[0].decode(errors="replace")
        closed_after = time.monotonic() - revoked
    finally:
        if live.poll() is None:
            live.kill()
            live.communicate()
    # the client saw its answer, then the CSE's close_notify, long before its own -B 20
    assert "c:2.05" in out and "close notify" in out, out
    assert out.index("c:2.05") < out.index("close notify"), out
    assert closed_after < 5, out

    _refused(p, a, ca, ae)
    _works(p, b, ca, ae_b, "viaB")
    r = dev.run("retrieve", ae)  # the PSK credential (Kpsa) of the same enrolee
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    # only A's session was closed
    assert len([l for l in p["cse"].log().splitlines() if "event=session_closed" in l]) == 1

    rows = {l.split()[0]: l.split() for l in p.tepctl("cert", "list").out.splitlines()[1:]}
    assert rows[a[2]][4].endswith("Z"), rows[a[2]]  # REVOKED: a time
    assert rows[b[2]][4] == "-", rows[b[2]]
    events = p.tepctl("events").out
    assert any("cert_revoked" in l and a[2] in l for l in events.splitlines()), events
    r = p.tepctl("cert", "revoke", a[2])
    assert r.rc == 0 and "already revoked" in r.out, str(r)


def test_unknown_serial_is_refused(platform):
    r = platform.tepctl("cert", "revoke", "00ff")
    assert r.rc == 3 and "no certificate with this serial" in r.err, str(r)
    r = platform.tepctl("cert", "revoke", "not-hex")
    assert r.rc == 3 and "hex" in r.err, str(r)
    r = platform.tepctl("cert", "revoke")
    assert r.rc == 1 and "cert revoke SERIAL" in r.err, str(r)


def _wait_applied(p):
    """Waits until tep-cse applied everything the enroller has logged."""
    last = p.tepctl("status", "enroller").get("last_seq")
    p["cse"].wait_log(r"event=sync_applied last_seq=%s " % last, 5)


def test_revocation_survives_a_cse_restart(two_certs):
    """tep-cse keeps the revoked serial in its own store: restarted while tep-enroller
    is down (nothing to learn it from again), it still refuses the certificate."""
    p, _, a, b, ca, ae, ae_b = two_certs
    r = p.tepctl("cert", "revoke", a[2])
    assert r.rc == 0, str(r)
    _wait_applied(p)
    _refused(p, a, ca, ae)
    p["cse"].stop()
    assert p["enroller"].stop() == 0
    p["cse"].start()
    _refused(p, a, ca, ae)
    _works(p, b, ca, ae_b, "afterRestart")
    p["enroller"].start()
