"""180: the certificate-based Remote Security Provisioning Framework, TS-0003 8.3.2.2
(8.3.1.2 "MEF Client Credential Configuration": the device holds a certificate and the
MEF is configured with what it needs to verify it). A device holding only a
manufacturer certificate (no Kpm anywhere) enrols in a certificate MEF Handshake
(ECDHE-ECDSA DTLS, both sides verifying the other's certificate), gets Ke/KeID from the
same exporter as the PSK path, then runs the same provisioned-symmetric-key SAEF to
tep-cse (8.2.2.1) as any other device."""

import subprocess

from harness import add_cert_enrolee, cert_enrol, mef_ca, mfr_ca, mfr_device_cert


def test_device_with_only_a_manufacturer_certificate_enrols(platform_factory, tmp_path):
    ca = mfr_ca(str(tmp_path))
    crt, key = mfr_device_cert(ca, str(tmp_path), "meter7", uri="urn:dev:acme:meter7")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    platform["enroller"].wait_log(r"event=pki_on .*mfr_anchors=1", 5)

    dev = add_cert_enrolee(platform, "meter7", "urn:dev:acme:meter7")
    with open(dev.prov) as f:
        prov = f.read()
    assert "credential = certificate" in prov and "kpm =" not in prov, prov
    show = platform.tepctl("enrolee", "show", "meter7")
    assert show.rc == 0 and show.get("CERT_IDENTITY") == "urn:dev:acme:meter7", str(show)
    # without its certificate the device has nothing to enrol with
    r = dev.run("enrol")
    assert r.rc != 0 and "invalid in current state" in r.err, str(r)

    r = cert_enrol(platform, dev, crt, key)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert r.get("AE_ID") == "Cmeter7", str(r)
    ke_id = r.get("KE_ID")
    assert ke_id.endswith("@mef.tep.local") and len(ke_id.split("@")[0]) == 32, ke_id
    platform["enroller"].wait_log(r"event=cert_accepted kpm_id=meter7 .*kind=manufacturer", 5)
    platform["enroller"].wait_log(r"event=enrolled kpm_id=meter7 ke_id=%s" % ke_id, 5)

    # then the same SAEF to tep-cse as any device: DTLS-PSK with KpsaID/Kpsa
    r = dev.run("run")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert r.get("KE_ID") == ke_id, str(r)
    assert "hello-tep" in r.out, str(r)


def test_certificate_identity_from_the_subject_cn(platform_factory, tmp_path):
    """A manufacturer certificate without a SAN URI is known by its subject CN."""
    ca = mfr_ca(str(tmp_path))
    crt, key = mfr_device_cert(ca, str(tmp_path), "SN-0042")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    dev = add_cert_enrolee(platform, "pump42", "SN-0042", "--ae-id", "Cpump42")
    r = cert_enrol(platform, dev, crt, key)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert r.get("AE_ID") == "Cpump42", str(r)


def test_the_mef_certificate_is_checked_by_the_device(platform_factory, tmp_path):
    """The device verifies the MEF too (8.3.2.2 Bootstrap Security Handshake): with
    another trust anchor than the tep CA it refuses the MEF and nothing is enrolled."""
    ca = mfr_ca(str(tmp_path))
    crt, key = mfr_device_cert(ca, str(tmp_path), "meter8", uri="urn:dev:acme:meter8")
    platform = platform_factory(mfr_trust_anchors=ca[0])
    dev = add_cert_enrolee(platform, "meter8", "urn:dev:acme:meter8")
    r = dev.run("--cert", crt, "--key", key, "--mef-ca", ca[0], "enrol")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    assert "event=enrolled kpm_id=meter8" not in platform["enroller"].log()
    # the MEF's certificate names the MEF-FQDN and chains to the tep CA
    out = subprocess.run(["openssl", "verify", "-CAfile", mef_ca(platform),
                          platform.env["DATA_DIR"] + "/enroller/mef.crt.pem"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                           platform.env["DATA_DIR"] + "/enroller/mef.crt.pem"],
                          capture_output=True, text=True).stdout
    assert "URI:onem2m:mef.tep.local" in text, text
