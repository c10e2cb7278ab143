"""182: certificate re-provisioning, TS-0003 8.3.1.2 ("If an MEF provisions an MEF Client
then the MEF Client shall authenticate itself to the MEF using the latest provisioned
certificate from the MEF") with the certificate MEF Handshake of 8.3.2.2: a device
renews its tep certificate in a session authenticated with the current one, with no
Kpm session and no new Ke; a revoked, expired or superseded current certificate
renews nothing."""

import subprocess
import time

from harness import add_cert_enrolee, cert_enrol, mef_ca, mfr_ca, mfr_device_cert


def _serial(crt):
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-serial"],
                         capture_output=True, text=True).stdout
    return out.strip().split("=")[1].lower()


def _check(platform, crt, ae_id):
    v = subprocess.run(["openssl", "verify", "-CAfile", mef_ca(platform), crt],
                       capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"],
                          capture_output=True, text=True).stdout
    assert "URI:onem2m:" + ae_id in text, text


def test_psk_enrolee_renews_with_its_certificate(platform):
    dev = platform.add_enrolee("device01")
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    crt, ke_id = r.get("CERT"), r.get("KE_ID")
    first = _serial(crt)

    r = dev.run("cert-renew")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    second = _serial(crt)
    assert second != first
    assert r.get("KE_ID") == ke_id  # the same enrolment: no new Ke
    _check(platform, crt, "Cdevice01")
    log = platform["enroller"].log()
    assert log.count("event=enrolled kpm_id=device01 ") == 1, log
    platform["enroller"].wait_log(r"event=cert_accepted kpm_id=device01 serial=%s kind=tep"
                                  % first, 5)
    platform["enroller"].wait_log(r"event=cert_renewed kpm_id=device01 ke_id=%s .*serial=%s "
                                  r".*previous=%s" % (ke_id, second, first), 5)
    listed = platform.tepctl("cert", "list").out
    assert first in listed and second in listed, listed
    # and the renewed one is the latest: it renews again
    assert dev.run("cert-renew").rc == 0, platform.logs()


def test_manufacturer_device_gets_and_renews_a_tep_certificate(platform_factory, tmp_path):
    ca = mfr_ca(str(tmp_path))
    m_crt, m_key = mfr_device_cert(ca, str(tmp_path), "meter7", uri="urn:dev:acme:meter7")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    dev = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    r = cert_enrol(platform, dev, m_crt, m_key, "cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    crt = r.get("CERT")
    first = _serial(crt)
    _check(platform, crt, "Cmeter7")
    r = dev.run("cert-renew")  # with the tep certificate, not the manufacturer's
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert _serial(crt) != first
    platform["enroller"].wait_log(r"event=cert_renewed kpm_id=meter7 .*previous=%s" % first, 5)


def test_revoked_certificate_renews_nothing(platform):
    dev = platform.add_enrolee("device01")
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    serial = _serial(r.get("CERT"))
    assert platform.tepctl("cert", "revoke", serial).rc == 0
    r = dev.run("cert-renew")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(r"event=handshake_refused reason=cert_revoked serial=%s"
                                  % serial, 5)
    assert "event=cert_renewed" not in platform["enroller"].log()


def test_certificate_of_a_replaced_enrolment_renews_nothing(platform):
    """Enrolling again (a new Ke) ends the certificates of the previous enrolment."""
    dev = platform.add_enrolee("device01")
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    serial = _serial(r.get("CERT"))
    assert dev.run("enrol").rc == 0, platform.logs()
    r = dev.run("cert-renew")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(r"event=handshake_refused "
                                  r"reason=cert_not_of_current_enrolment serial=%s" % serial, 5)


def test_expired_certificate_renews_nothing(platform):
    """A tep certificate never outlives its enrolment; once both expired, the device
    has to enrol again (here with its Kpm)."""
    dev = platform.add_enrolee("device01", "--lifetime", "6")
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    time.sleep(max(0.0, int(r.get("EXPIRES")) - time.time()) + 1.5)
    r = dev.run("cert-renew")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(r"certificate has expired", 5)
    assert "event=cert_renewed" not in platform["enroller"].log()
