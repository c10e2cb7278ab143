"""54: the certificate-based SAEF at tep-cse. TS-0003 8.2.2.2 (ECDHE-ECDSA DTLS between
AE and registrar CSE, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8), 10.1.1 / 10.2.3 (the
certificate's subjectAltName carries the AE-ID; the CSE checks the chain to its trust
anchor) and 7.2.1 (the From of every request must equal the identity bound to the
session: 4106). tep-cse's own certificate comes from the tep CA like any enrolee's: the
operator enrols an enrolee whose identifier is the CSE-ID and runs certificate
enrolment for it (docs/internals.md "Certificate SAEF")."""

import os
import subprocess

import pytest

import tepenv
from harness import (COAP_CLIENT_OPENSSL, ae_path, binary, cert_of, coap_cert,
                     restart_cse_with_certificate, run_tool)

pytestmark = pytest.mark.skipif(COAP_CLIENT_OPENSSL is None, reason="coap-client-openssl (libcoap3-bin) missing")


@pytest.fixture
def pki_platform(platform):
    """The platform with tep-cse restarted with a certificate issued to /tep-cse."""
    return restart_cse_with_certificate(platform)


def _openssl_ca(tmp, name):
    """A CA nobody in tep knows and a certificate from it with SAN onem2m:<name>."""
    def run(*a):
        subprocess.run(["openssl", *a], cwd=tmp, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "oca.key", "-out", "oca.pem", "-days", "2", "-subj", "/CN=other CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "o.key", "-out", "o.csr", "-subj", "/CN=" + name)
    with open(os.path.join(tmp, "ext"), "w") as f:
        f.write("subjectAltName=URI:onem2m:%s\n" % name)
    run("x509", "-req", "-in", "o.csr", "-CA", "oca.pem", "-CAkey", "oca.key",
        "-CAcreateserial", "-out", "o.pem", "-days", "1", "-extfile", "ext")
    return [os.path.join(tmp, n) for n in ("o.pem", "o.key", "oca.pem")]


def test_ae_with_enroller_certificate_registers_and_writes(pki_platform):
    p = pki_platform
    dev, crt, key, ca = cert_of(p, "device01")
    ae_id, api = dev.state_values()["enrolee_id"], dev.state_values()["app_id"] or "Napp"
    base = p.env["CSE_NAME"]
    log = coap_cert(p, crt, key, ca, "post", base, ae_id,
                {"m2m:ae": {"rn": "app1", "api": api, "rr": False, "srv": ["3"]}}, ty=2)
    assert "session connected" in log, log + "\n" + p.logs()
    assert "c:2.01" in log, log + "\n" + p.logs()
    p["cse"].wait_log(r"event=session_bound identity=cert:[0-9a-f]+ enrolee_id=%s" % ae_id, 5)
    log = coap_cert(p, crt, key, ca, "post", base + "/app1", ae_id, {"m2m:cnt": {"rn": "data"}},
                ty=3)
    assert "c:2.01" in log, log + "\n" + p.logs()
    log = coap_cert(p, crt, key, ca, "post", base + "/app1/data", ae_id,
                {"m2m:cin": {"con": "hello-cert"}}, ty=4)
    assert "c:2.01" in log and "hello-cert" in log, log + "\n" + p.logs()


def test_from_other_than_san_is_4106(pki_platform):
    p = pki_platform
    _, crt, key, ca = cert_of(p, "device01")
    log = coap_cert(p, crt, key, ca, "get", p.env["CSE_NAME"], "Cdevice99")
    assert "session connected" in log, log + "\n" + p.logs()
    assert "c:4.03" in log and "307:\\x10\\x0A" in log, log + "\n" + p.logs()  # RSC 4106


def test_certificate_from_another_ca_is_refused(pki_platform, tmp_path):
    p = pki_platform
    crt, key, _ = _openssl_ca(str(tmp_path), "Cdevice01")
    ca = os.path.join(p.env["DATA_DIR"], "enroller", "ca.pem")
    log = coap_cert(p, crt, key, ca, "get", p.env["CSE_NAME"], "Cdevice01")
    # a CoAP response shows as "c:2.05" in coap-client's trace; a bare "2.05" could be
    # part of a timestamp (…:32.056)
    assert "session connected" not in log and "c:2.05" not in log, log
    assert "unknown ca" in log.lower(), log
    # OpenSSL's chain check fails before tep's callback: libcoap logs why
    p["cse"].wait_log(r"DTLS: unable to get local issuer certificate", 5)
    assert "event=session_bound" not in p["cse"].log()


def test_psk_still_works_beside_pki(pki_platform):
    dev = pki_platform.enrolled_device("device02")  # registered over DTLS-PSK (Kpsa)
    r = dev.run("retrieve", ae_path(pki_platform, dev))
    assert r.rc == 0, "%s\n%s" % (r, pki_platform.logs())


def test_sdk_cert_run_registers_and_writes(pki_platform):
    """libtepae's tep_connect_cert(): the device's own certificate, the CSE's checked to
    the trust anchor and to SAN onem2m:/tep-cse."""
    p = pki_platform
    dev, _, _, _ = cert_of(p, "device03")
    r = dev.run("cert-run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    p["cse"].wait_log(r"event=session_bound identity=cert:[0-9a-f]+ enrolee_id=Cdevice03", 5)
    r = dev.run("cert-run", from_="Cdevice01")
    assert r.rc == 3 and "4106" in r.out + r.err, "%s\n%s" % (r, p.logs())


def test_sdk_without_certificate_cannot_cert_run(pki_platform):
    dev = pki_platform.enrolled_device("device04")
    r = dev.run("cert-run")
    assert r.rc == 1 and "certificate" in r.err, str(r)


def test_mandatory_ecdhe_ecdsa_ccm8_suite(pki_platform):
    """TS-0003 10.2.3: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (OpenSSL: ECDHE-ECDSA-AES128-CCM8),
    measured with an independent client (openssl s_client) and an enroller certificate."""
    p = pki_platform
    _, crt, key, ca = cert_of(p, "device05")
    port = p.env["CSE_COAPS"].rsplit(":", 1)[1]
    argv = ["openssl", "s_client", "-dtls1_2", "-connect", "127.0.0.1:" + port,
            "-cipher", "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0", "-cert", crt, "-key", key,
            "-CAfile", ca, "-noservername"]
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
        out = (r.stdout + r.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as e:  # s_client waits on stdin-less DTLS
        out = ((e.stdout or b"") + (e.stderr or b"")).decode(errors="replace")
    assert "Cipher is ECDHE-ECDSA-AES128-CCM8" in out, out + "\n" + p.logs()
    assert "Verify return code: 0 (ok)" in out, out


def test_revoked_enrolee_certificate_is_refused(pki_platform):
    """TS-0003 10.7: revoking the enrolee ends what its enrolment gave, its certificate
    included: a new certificate handshake is refused."""
    p = pki_platform
    dev, _, _, _ = cert_of(p, "device06")
    r = dev.run("cert-run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    r = p.tepctl("enrolee", "revoke", "device06")
    assert r.rc == 0, str(r)
    p["cse"].wait_log(r"revocations=1", 5)
    r = dev.run("retrieve", p.env["CSE_NAME"])  # PSK: refused as in test 52
    assert r.rc == 2, "%s\n%s" % (r, p.logs())
    r = dev.run("cert-run")
    assert r.rc == 2, "%s\n%s" % (r, p.logs())
    p["cse"].wait_log(r"event=handshake_refused reason=revoked identity=cert:[0-9a-f]+ "
                      r"enrolee_id=Cdevice06", 5)


def test_sdk_refuses_a_cse_certificate_for_another_id(platform):
    """The AE authenticates the CSE too (TS-0003 8.2.2.2: mutual): a tep CA certificate
    whose SAN is not onem2m:<registrar CSE-ID> is refused by tep_connect_cert()."""
    _, crt, key, ca = cert_of(platform, "imposter")
    platform["cse"].stop()
    platform.configure(cse_cert_file=crt, cse_key_file=key, cse_ca_file=ca)
    platform["cse"].start()
    dev, _, _, _ = cert_of(platform, "device07")
    r = dev.run("cert-run")
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    assert "event=session_bound identity=cert:" not in platform["cse"].log()


def test_check_config_and_start_refuse_bad_pki_files(platform, monkeypatch):
    """[cse] cert_file/key_file/ca_file: all three or none, each readable PEM; checked by
    --check-config and at start (exit 1, event=pki_refused), never at the first
    handshake."""
    _, crt, key, ca = cert_of(platform, "tep-cse", "--ae-id", "/tep-cse")
    platform["cse"].stop()
    argv = [binary("cse"), "--config", tepenv.config_path(platform.dir, "cse")]
    cases = [({"CERT_FILE": crt}, "reason=incomplete"),
             ({"CERT_FILE": crt, "KEY_FILE": key, "CA_FILE": crt + ".gone"},
              "reason=bad_file file=%s.gone" % crt)]
    for settings, reason in cases:
        for k, v in settings.items():
            monkeypatch.setenv("TEP_CSE_" + k, v)
        for extra in (["--check-config"], []):
            r = run_tool(argv + extra)
            assert r.rc == 1 and "event=pki_refused " + reason in r.out + r.err, str(r)
    monkeypatch.setenv("TEP_CSE_CA_FILE", ca)
    r = run_tool(argv + ["--check-config"])
    assert r.rc == 0, str(r)
    platform["cse"].start()
