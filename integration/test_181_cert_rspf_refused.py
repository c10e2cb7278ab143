"""181: what the MEF refuses in the certificate-based RSPF, TS-0003 8.3.2.2 (each entity
"verifies the other entity's certificate as described in clause 8.1.2.5") and 8.3.1.2
(the MEF is configured with the information to verify the MEF Client's certificate):
a certificate of an unknown issuer, a certificate whose identity is no enrolee, a
revoked enrolee, a manufacturer trust anchor removed on SIGHUP; and a trust-anchor
configuration that is no CA is a configuration error naming file and line."""

import os
import re
import signal
import subprocess

from harness import add_cert_enrolee, binary, cert_enrol, mfr_ca, mfr_device_cert


def _no_enrolment(platform, name):
    assert "event=enrolled kpm_id=%s " % name not in platform["enroller"].log()


def test_unknown_issuer_is_refused(platform_factory, tmp_path):
    acme = mfr_ca(str(tmp_path), "acme")
    rogue = mfr_ca(str(tmp_path), "rogue")
    crt, key = mfr_device_cert(rogue, str(tmp_path), "meter7", uri="urn:dev:acme:meter7")
    platform = platform_factory(mfr_trust_anchors=acme[0])
    dev = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    r = cert_enrol(platform, dev, crt, key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    # OpenSSL (through libcoap) stops the chain before any enrolee is looked at
    platform["enroller"].wait_log(r"unable to get local issuer certificate", 5)
    _no_enrolment(platform, "meter7")


def test_identity_that_is_no_enrolee_is_refused(platform_factory, tmp_path):
    ca = mfr_ca(str(tmp_path))
    crt, key = mfr_device_cert(ca, str(tmp_path), "meter9", uri="urn:dev:acme:meter9")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    dev = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    r = cert_enrol(platform, dev, crt, key)  # meter9's certificate, meter7's record
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(
        r"event=handshake_refused reason=not_an_enrolee .*identity=urn:dev:acme:meter9", 5)
    _no_enrolment(platform, "meter7")


def test_revoked_enrolee_is_refused(platform_factory, tmp_path):
    ca = mfr_ca(str(tmp_path))
    crt, key = mfr_device_cert(ca, str(tmp_path), "meter7", uri="urn:dev:acme:meter7")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    dev = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    assert cert_enrol(platform, dev, crt, key).rc == 0, platform.logs()
    assert platform.tepctl("enrolee", "revoke", "meter7").rc == 0
    r = cert_enrol(platform, dev, crt, key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    platform["enroller"].wait_log(r"event=handshake_refused reason=revoked .*"
                                  r"identity=urn:dev:acme:meter7", 5)


def test_trust_anchor_removed_on_sighup(platform_factory, tmp_path):
    """The operator drops a manufacturer's CA (its devices are no longer trusted, e.g.
    its key leaked) and sends SIGHUP: from the next handshake on, its certificates enrol
    nobody, while the other manufacturer's still do; a broken list on SIGHUP keeps the
    current one."""
    acme, globex = mfr_ca(str(tmp_path), "acme"), mfr_ca(str(tmp_path), "globex")
    a_crt, a_key = mfr_device_cert(acme, str(tmp_path), "meter7", uri="urn:dev:acme:meter7")
    g_crt, g_key = mfr_device_cert(globex, str(tmp_path), "valve3", uri="urn:dev:globex:valve3")
    platform = platform_factory(mfr_trust_anchors=acme[0] + " " + globex[0])
    meter = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    valve = add_cert_enrolee(platform, "valve3", "urn:dev:globex:valve3")
    assert cert_enrol(platform, meter, a_crt, a_key).rc == 0, platform.logs()

    enroller = platform["enroller"]
    platform.configure(mfr_trust_anchors=globex[0])
    os.kill(enroller.proc.pid, signal.SIGHUP)
    enroller.wait_log(r"event=reloaded key=mfr_trust_anchors mfr_anchors=1 mfr_crls=0 err=none", 5)
    r = cert_enrol(platform, meter, a_crt, a_key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    # the anchor bundle is read again for each handshake: OpenSSL no longer knows acme
    enroller.wait_log(r"unable to get local issuer certificate: 'meter7'", 5)
    assert len(re.findall(r"event=enrolled kpm_id=meter7 ", enroller.log())) == 1
    r = cert_enrol(platform, valve, g_crt, g_key)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())

    # a list naming a file that is not there: refused, the anchors stay as they were
    platform.configure(mfr_trust_anchors=str(tmp_path / "missing.pem"))
    os.kill(enroller.proc.pid, signal.SIGHUP)
    enroller.wait_log(r"event=reload_refused .*missing\.pem: not readable", 5)
    assert cert_enrol(platform, valve, g_crt, g_key).rc == 0, platform.logs()


def test_anchor_that_is_no_ca_is_a_configuration_error(platform_factory, tmp_path):
    """--check-config exits 1 naming the file, line and key, and which certificate."""
    ca = mfr_ca(str(tmp_path))
    leaf, _ = mfr_device_cert(ca, str(tmp_path), "meter7")
    ini = tmp_path / "enroller.ini"
    ini.write_text("[enroller]\ndata_dir = %s\nmfr_trust_anchors = %s\n"
                   % (tmp_path / "data", leaf))
    p = subprocess.run([binary("enroller"), "--config", str(ini), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "enroller.ini:3" in p.stderr and "mfr_trust_anchors" in p.stderr, p.stderr
    assert "certificate 1 is not a CA certificate" in p.stderr, p.stderr
    ini.write_text("[enroller]\ndata_dir = %s\nmfr_trust_anchors = %s\n"
                   % (tmp_path / "data", ca[0]))
    p = subprocess.run([binary("enroller"), "--config", str(ini), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
