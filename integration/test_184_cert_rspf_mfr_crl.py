"""184: a revoked manufacturer certificate, TS-0003 8.3.2.2 (the MEF "verifies the
other entity's certificate as described in clause 8.1.2.5", which includes its
revocation status) with tep's `[enroller] mfr_crls`: CRLs signed by a manufacturer trust
anchor. A device whose certificate's serial is on its manufacturer's CRL does not enrol;
another device of the same manufacturer does; a new CRL on SIGHUP revokes it from the
next handshake on; a CRL that no anchor signed is a configuration error naming file and
line, and on SIGHUP it is refused and the current CRLs stay."""

import os
import re
import signal
import subprocess

from harness import add_cert_enrolee, binary, cert_enrol, mfr_ca, mfr_crl, mfr_device_cert


def _serial(crt):
    p = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-serial"],
                       capture_output=True, text=True, timeout=30, check=True)
    return p.stdout.strip().split("=", 1)[1].lower()


def test_revoked_device_refused_then_second_revoked_on_sighup(platform_factory, tmp_path):
    d = str(tmp_path)
    acme = mfr_ca(d, "acme")
    m7_crt, m7_key = mfr_device_cert(acme, d, "meter7", uri="urn:dev:acme:meter7")
    m8_crt, m8_key = mfr_device_cert(acme, d, "meter8", uri="urn:dev:acme:meter8")
    crl1 = mfr_crl(acme, d, "acme-1", [m7_crt])
    platform = platform_factory(mfr_trust_anchors=acme[0], mfr_crls=crl1)
    enroller = platform["enroller"]
    enroller.wait_log(r"event=pki_on .*mfr_anchors=1 mfr_crls=1", 5)
    meter7 = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    meter8 = add_cert_enrolee(platform, "meter8", "urn:dev:acme:meter8")

    # the chain is good (OpenSSL accepts it), the serial is on acme's CRL
    r = cert_enrol(platform, meter7, m7_crt, m7_key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    enroller.wait_log(r"event=handshake_refused reason=mfr_cert_revoked serial=%s "
                      r"identity=urn:dev:acme:meter7" % _serial(m7_crt), 5)
    assert "event=enrolled kpm_id=meter7 " not in enroller.log()
    # the same manufacturer's other device enrols
    r = cert_enrol(platform, meter8, m8_crt, m8_key)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())

    # a CRL that also revokes meter8; SIGHUP
    crl2 = mfr_crl(acme, d, "acme-2", [m7_crt, m8_crt])
    platform.configure(mfr_trust_anchors=acme[0], mfr_crls=crl2)
    os.kill(enroller.proc.pid, signal.SIGHUP)
    enroller.wait_log(r"event=reloaded key=mfr_trust_anchors mfr_anchors=1 mfr_crls=1 "
                      r"err=none", 5)
    r = cert_enrol(platform, meter8, m8_crt, m8_key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    enroller.wait_log(r"event=handshake_refused reason=mfr_cert_revoked serial=%s "
                      r"identity=urn:dev:acme:meter8" % _serial(m8_crt), 5)
    assert len(re.findall(r"event=enrolled kpm_id=meter8 ", enroller.log())) == 1


def test_crl_of_another_ca_refused_at_load_and_on_sighup(platform_factory, tmp_path):
    d = str(tmp_path)
    acme, rogue = mfr_ca(d, "acme"), mfr_ca(d, "rogue")
    m7_crt, m7_key = mfr_device_cert(acme, d, "meter7", uri="urn:dev:acme:meter7")
    m8_crt, m8_key = mfr_device_cert(acme, d, "meter8", uri="urn:dev:acme:meter8")
    good = mfr_crl(acme, d, "acme", [m7_crt])
    bad = mfr_crl(rogue, d, "rogue", [m8_crt])

    # --check-config: file, line, key, the CRL file and why
    ini = tmp_path / "enroller.ini"
    ini.write_text("[enroller]\ndata_dir = %s\nmfr_trust_anchors = %s\nmfr_crls = %s, %s\n"
                   % (tmp_path / "data", acme[0], good, bad))
    p = subprocess.run([binary("enroller"), "--config", str(ini), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "enroller.ini:4: enroller.mfr_crls: %s: CRL 1 is not signed by a manufacturer " \
        "trust anchor" % bad in p.stderr, p.stderr

    # running with acme's CRL; SIGHUP with rogue's added: refused, acme's CRL stays
    platform = platform_factory(mfr_trust_anchors=acme[0], mfr_crls=good)
    enroller = platform["enroller"]
    meter7 = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    meter8 = add_cert_enrolee(platform, "meter8", "urn:dev:acme:meter8")
    platform.configure(mfr_trust_anchors=acme[0], mfr_crls=good + " " + bad)
    os.kill(enroller.proc.pid, signal.SIGHUP)
    enroller.wait_log(r"event=reload_refused .*mfr_crls: .*rogue\.crl\.pem: CRL 1 is not "
                      r"signed", 5)
    r = cert_enrol(platform, meter7, m7_crt, m7_key)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    enroller.wait_log(r"reason=mfr_cert_revoked serial=%s" % _serial(m7_crt), 5)
    assert cert_enrol(platform, meter8, m8_crt, m8_key).rc == 0, platform.logs()
