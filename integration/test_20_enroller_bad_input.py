"""20: tep-enroller's error paths and bad input. TS-0003 8.3.2.1 (the bootstrap: DTLS-PSK
with KpmID/Kpm and SNI = MEF-FQDN, then the enrolment request) and 8.3.6 / 10.1.4
(certificate enrolment: a PKCS#10 CSR inside the MEF session, for the enrolee's own
identifier); RFC 7252 5.9.2 / RFC 7959 2.9.3 for the CoAP codes; the exchange and its
errors as docs/internals.md "Enrolment over CoAPS" and "Certificate enrolment" define
them (4.00 bad JSON or CSR, 4.03 not yours / not enrolled, 4.13 too large, 4.15 not
JSON), and tepctl's exit codes ("tepctl": 3 refused, 2 unreachable).

Requests come from tinydtls (pskclient.py: a DTLS stack nobody here wrote) with the
enrolee's Kpm from its provisioning file; CSRs from OpenSSL's CLI. After every refusal
the enroller is still serving: the same session or a real device enrols."""

import base64
import json
import os
import subprocess

import pytest

import harness
import pskclient
from onem2m_client import GET, POST

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))

ENROL_BODY_MAX = 1024   # enroller/enr_coap.c ENR_BODY_MAX
CERT_BODY_MAX = 4096    # ENR_CERT_BODY_MAX


def _session(platform, dev, sni=None):
    prov = pskclient.provisioning(dev)
    return pskclient.PskClient(platform.ports["enroller_coaps"], prov["kpm_id"],
                               bytes.fromhex(prov["kpm"]), sni=sni or platform.env["MEF_FQDN"])


def _csr(tmp_path, ident, key="ec", san=True):
    """A PEM CSR made by OpenSSL: P-256 (or RSA) key, SAN URI onem2m:<ident>."""
    args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" \
        else ["-newkey", "rsa:2048"]
    argv = ["openssl", "req", "-new", *args, "-nodes", "-keyout", str(tmp_path / "k.pem"),
            "-subj", "/CN=" + ident]
    if san:
        argv += ["-addext", "subjectAltName=URI:onem2m:" + ident]
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _tampered(pem):
    """The same CSR with the last byte of its signature changed: no proof of possession."""
    lines = pem.strip().splitlines()
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    der[-1] ^= 0x01
    b64 = base64.b64encode(bytes(der)).decode()
    return "\n".join([lines[0]] + [b64[i:i + 64] for i in range(0, len(b64), 64)]
                     + [lines[-1]]) + "\n"


def _cert_body(pem):
    return json.dumps({"csr": pem}).encode()


def test_bad_enrolment_requests_get_their_code_and_the_session_still_enrols(platform):
    dev = platform.add_enrolee("device01")
    with _session(platform, dev) as c:
        for body in (b'{"cei": ', b"[1, 2]", b'{"cei": "yes"}', b"\xff\xfe"):
            r = c.request(POST, "enrol", body)
            assert (r.code, r.text) == ("4.00", "bad JSON"), "%r -> %s" % (body, r)
        r = c.request(POST, "enrol", b"{}", cf=0)                    # text/plain
        assert (r.code, r.text) == ("4.15", "want 50"), str(r)
        assert c.request(GET, "enrol").code == "4.05"
        assert c.request(POST, "enrolment", b"{}").code == "4.04"
        # over the limit, sent block-wise (Block1) by aiocoap: 4.13 with Size1 = the limit
        big = b'{"cei": false, "x": "' + b"a" * (ENROL_BODY_MAX + 100) + b'"}'
        r = c.request(POST, "enrol", big)
        assert (r.code, r.text, r.size1) == ("4.13", "body too large", ENROL_BODY_MAX), str(r)
        r = c.request(POST, "enrol", b'{"x": "' + b"a" * 200000 + b'"}')
        assert r.code == "4.13", str(r)
        # nothing of that was an enrolment; the same session then enrols
        assert "event=enrolled" not in platform["enroller"].log()
        r = c.request(POST, "enrol", b'{"cei": false}')
        assert r.code == "2.01" and r.json["eid"] == "Cdevice01", str(r)
        assert r.json["keid"].endswith("@" + platform.env["MEF_FQDN"])
    # and a device of tep's SDK enrols, connects to the CSE and registers
    other = platform.enrolled_device("device02")
    assert other.state_values()["enrolee_id"] == "Cdevice02"
    assert platform["enroller"].alive()


def test_bad_certificate_requests_get_their_code_and_nothing_is_issued(platform, tmp_path):
    dev = platform.add_enrolee("device01")
    good = _csr(tmp_path, "Cdevice01")
    with _session(platform, dev) as c:
        # a session that has not enrolled (no KeID from its exporter): 4.03
        r = c.request(POST, "cert", _cert_body(good))
        assert (r.code, r.text) == ("4.03", "no live enrolment in this session"), str(r)
        platform["enroller"].wait_log(r"event=cert_refused kpm_id=device01 reason=not_enrolled", 5)
        assert c.request(POST, "enrol", b'{"cei": true}').code == "2.01"
        malformed = {
            "not JSON": b"csr",
            "no csr member": b"{}",
            "not PEM": _cert_body("MIIB..."),
            "PEM of nothing": _cert_body("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                         "-----END CERTIFICATE REQUEST-----\n"),
            "RSA key": _cert_body(_csr(tmp_path, "Cdevice01", key="rsa")),
            "bad signature": _cert_body(_tampered(good)),
            "no subjectAltName": _cert_body(_csr(tmp_path, "Cdevice01", san=False)),
        }
        for what, body in malformed.items():
            r = c.request(POST, "cert", body)
            assert (r.code, r.text) == ("4.00", "bad JSON or CSR"), "%s -> %s" % (what, r)
        r = c.request(POST, "cert", _cert_body(_csr(tmp_path, "Cdevice02")))  # not its ID
        assert (r.code, r.text) == ("4.03", "identity not yours or revoked"), str(r)
        platform["enroller"].wait_log(r"event=cert_refused kpm_id=device01 "
                                      r"reason=wrong_identity", 5)
        r = c.request(POST, "cert", b'{"csr": "' + b"A" * CERT_BODY_MAX + b'"}')
        assert (r.code, r.size1) == ("4.13", CERT_BODY_MAX), str(r)
        assert "event=cert_issued" not in platform["enroller"].log()
        # the same session then gets its certificate for the well-formed CSR
        r = c.request(POST, "cert", _cert_body(good))
        assert r.code == "2.01", "%s\n%s" % (r, platform.logs())
    crt, ca = tmp_path / "crt.pem", tmp_path / "ca.pem"
    crt.write_text(r.json["crt"])
    ca.write_text(r.json["tas"][0])
    v = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(crt)],
                       capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    listed = platform.tepctl("cert", "list")
    assert listed.rc == 0 and listed.out.count("Cdevice01") == 1, str(listed)


def test_malformed_identity_and_wrong_sni_are_refused_in_the_handshake(platform):
    """An identity the MEF cannot even look up is refused without being echoed in the
    log; a wrong SNI is refused (TS-0003 10.2.1); the MEF then serves a real device."""
    port = platform.ports["enroller_coaps"]
    with pskclient.PskClient(port, "../etc/passwd x", b"\x11" * 32,
                             sni=platform.env["MEF_FQDN"]) as c:
        with pytest.raises(Exception):
            c.request(POST, "enrol", b"{}", timeout=2.0)
    platform["enroller"].wait_log(r"event=handshake_refused reason=unknown_identity "
                                  r"kpm_id=- peer=", 5)
    assert "passwd" not in platform["enroller"].log()
    dev = platform.add_enrolee("device01")
    with _session(platform, dev, sni="other.example") as c:
        with pytest.raises(Exception):
            c.request(POST, "enrol", b"{}", timeout=2.0)
    platform["enroller"].wait_log(r"event=handshake_refused reason=wrong_sni "
                                  r"sni=other\.example", 5)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())


def test_admin_refusals_exit_3_and_change_nothing(platform, tmp_path):
    """tepctl against the enroller's admin socket (docs/internals.md "tepctl"): a refused
    request exits 3 with the daemon's reason, an unreachable daemon 2; the enroller's
    records are unchanged and it goes on answering."""
    platform.add_enrolee("device01")
    cases = [
        (("enrolee", "add", "device01", "--out", str(tmp_path / "again.prov")),
         "already exists"),
        (("enrolee", "add", "bad name/..", "--out", str(tmp_path / "bad.prov")),
         "kpm_id must be 1..127 of [A-Za-z0-9._-]"),
        (("enrolee", "revoke", "nobody"), "no such enrolee"),
        (("cert", "revoke", "zz"), "cert_serial must be 1..40 hex digits"),
        (("cert", "revoke", "00ff"), "no certificate with this serial"),
        (("app", "revoke", "Nnothing"), None),
        (("audit",), "unknown op"),            # tep-authz's operations, asked of the enroller
        (("maf", "keys"), "unknown op"),
    ]
    for args, reason in cases:
        r = platform.tepctl(*args)
        assert r.rc == 3, str(r)
        assert "tepctl: refused:" in r.err and (reason is None or reason in r.err), str(r)
    assert not os.path.exists(tmp_path / "again.prov")
    assert not os.path.exists(tmp_path / "bad.prov")
    st = platform.tepctl("status", "enroller")
    assert (st.rc, st.get("ready"), st.get("enrolees"), st.get("last_seq")) == \
        (0, "true", "1", "0"), str(st)
    r = harness.run_tool([harness.binary("tepctl"), "--admin",
                          "ipc://" + str(tmp_path / "nobody.ipc"), "status", "enroller"])
    assert r.rc == 2 and "unreachable" in r.err, str(r)
