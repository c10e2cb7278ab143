"""50: certificate enrolment. TS-0003 8.3.6 (certificate provisioning inside the MEF
session) and 10.1.4 / 10.1.1.5 (the CSR's and certificate's subjectAltName carries the
AE-ID): the enrolee gets a certificate for its own AE-ID, signed by the tep CA, bounded
by its enrolment's expiry; a CSR for someone else's ID is refused with 4.03."""

import os
import re
import stat
import subprocess
import time


def _openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True)


def test_device_gets_a_certificate_for_its_own_ae_id(platform):
    dev = platform.add_enrolee("device01", "--lifetime", "86400")
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    crt, key, ca = r.get("CERT"), r.get("KEY"), r.get("TRUST_ANCHOR")
    for path in (crt, key, ca):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    # An independent X.509 stack (OpenSSL's CLI) checks chain and identity.
    v = _openssl("verify", "-CAfile", ca, crt)
    assert v.returncode == 0, v.stdout + v.stderr
    text = _openssl("x509", "-in", crt, "-noout", "-text").stdout
    assert "URI:onem2m:Cdevice01" in text, text
    assert re.search(r"Subject:.*CN ?= ?Cdevice01", text), text
    end = _openssl("x509", "-in", crt, "-noout", "-enddate").stdout.strip()
    not_after = time.mktime(time.strptime(end.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z"))
    assert not_after <= time.time() + 86400 + 60, end  # never outlives the enrolment
    # the key matches the certificate
    pub_c = _openssl("x509", "-in", crt, "-noout", "-pubkey").stdout
    pub_k = _openssl("pkey", "-in", key, "-pubout").stdout
    assert pub_c and pub_c == pub_k
    # the trust anchor is the CA certificate the enroller publishes for operators
    with open(os.path.join(platform.env["DATA_DIR"], "enroller", "ca.pem")) as f:
        assert f.read() == open(ca).read()
    # the device is enrolled as usual (a new enrolment in the same session)
    assert dev.state_values()["enrolee_id"] == "Cdevice01"
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())

    # the operator sees the certificate
    r = platform.tepctl("cert", "list")
    assert r.rc == 0, str(r)
    serial = _openssl("x509", "-in", crt, "-noout", "-serial").stdout.strip().split("=")[1]
    assert serial.lower() in r.out and "Cdevice01" in r.out, r.out
    platform["enroller"].wait_log(r"event=cert_issued .*enrolee_id=Cdevice01", 5)


def test_csr_for_someone_elses_id_is_refused(platform):
    """The enrolment of device02 asks for device01's AE-ID: 4.03 and a log line."""
    platform.add_enrolee("device01")
    dev = platform.add_enrolee("device02")
    r = dev.run("cert", "--csr-id", "Cdevice01")
    assert r.rc == 2 and "denied" in r.err.lower(), "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(r"event=cert_refused kpm_id=device02 reason=wrong_identity", 5)
    assert "Cdevice01" not in platform.tepctl("cert", "list").out


def test_expired_enrolment_gets_no_certificate(platform):
    dev = platform.add_enrolee("device01", "--lifetime", "2")
    time.sleep(2.5)
    r = dev.run("cert")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())  # the handshake is refused
    platform["enroller"].wait_log(r"event=handshake_refused reason=expired kpm_id=device01", 5)
