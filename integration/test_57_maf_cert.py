"""57: the MAF Handshake with certificates (TS-0003 8.8.2.2): tep-authz with [authz]
cert_file/key_file/ca_file (its own certificate from the tep CA, SAN onem2m:<MAF-ID>)
accepts ECDHE-ECDSA beside DTLS-PSK; the client is its certificate's SAN onem2m:<AE-ID>,
served while the MAF knows a live Km of that enrolment. A device that ran certificate
enrolment registers itself and a key at the MAF in such a session (libtepae
tep_maf_register_key_cert, ctypes), Kc comes from that session's exporter, and the AE
uses it for the MAF-based SAEF at tep-cse. A certificate from another CA and the
certificate of a revoked enrolee are refused; the start-up refuses incomplete files and a
certificate not issued to the MAF-ID."""

import ctypes
import os
import re
import subprocess

import pytest

import harness
import tepenv
from maf_coaps_common import TEP_EDENIED
from test_53_maf_saef import MafPlatform
from test_54_cert_saef import _openssl_ca
from test_56_maf_lifecycle import _lifecycle, assert_dropped_at_target


class CertMaf(MafPlatform):
    """MafPlatform with tep-authz restarted with a certificate issued to the MAF-ID."""

    def __init__(self, monkeypatch):
        super().__init__(monkeypatch)
        _lifecycle(self.lib)
        vp, P = ctypes.c_void_p, ctypes.POINTER
        self.lib.tep_maf_register_key_cert.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                       ctypes.c_int64, P(vp)]
        _, self.crt, self.key, self.ca = harness.cert_of(self.p, "maf", "--ae-id",
                                                         self.p.env["MAF_ID"])
        self.restart_authz(authz_cert_file=self.crt, authz_key_file=self.key,
                           authz_ca_file=self.ca)
        self.p["authz"].wait_log(r"event=pki_on cert_file=%s" % re.escape(self.crt), 5)

    def restart_authz(self, **pki):
        """tep-authz with pki; then tep-cse anew, so that its maf_events subscription is
        in place before the first key event (a SUB reconnecting to a restarted PUB misses
        what is published until it has resubscribed)."""
        self.p["cse"].stop()
        self.p["authz"].stop()
        self.p.configure(**pki)
        self.p["authz"].start()
        self.p["cse"].start()

    def cert_device(self, name):
        """Enrolled, certificate enrolment done; the SDK handle and the device."""
        dev = self.p.add_enrolee(name)
        r = dev.run("cert")
        assert r.rc == 0, "%s\n%s" % (r, self.p.logs())
        h = ctypes.c_void_p()
        assert self.lib.tep_device_load(dev.prov.encode(), dev.state.encode(),
                                        ctypes.byref(h)) == 0
        return h, dev, r

    def register_cert(self, h, lifetime=0):
        kc = ctypes.c_void_p()
        rc = self.lib.tep_maf_register_key_cert(h, self.maf_uri.encode(),
                                                self.p.env["CSE_ID"].encode(), lifetime,
                                                ctypes.byref(kc))
        return rc, kc

    def coap_client(self, crt, key, ca, path="maf/clients"):
        argv = [harness.COAP_CLIENT_OPENSSL, "-v", "7", "-B", "5", "-m", "post", "-c", crt,
                "-j", key, "-C", ca, "-t", "application/json", "-e", "{}",
                self.maf_uri + "/" + path]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        return (p.stdout + p.stderr).decode(errors="replace")


@pytest.fixture
def m(monkeypatch):
    platform = CertMaf(monkeypatch)
    yield platform
    platform.close()


def test_certificate_maf_handshake_end_to_end(m):
    h, _, r = m.cert_device("device01")
    rc, kc = m.register_cert(h)
    assert rc == 0, m.p.logs()
    key_id = m.lib.tep_kc_key_id(kc).decode()
    assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(m.p.env["MAF_ID"]), key_id)
    m.p["authz"].wait_log(r"event=session_bound identity=cert:[0-9a-f]+ enrolee_id=Cdevice01",
                          5)
    # no Km in this client registration: the MAF knows it by its certificate
    m.p["authz"].wait_log(r"event=maf_client_registered client=Cdevice01 cert=[0-9a-f]+$",
                          5)
    m.p["authz"].wait_log(r"event=maf_key_registered source=Cdevice01 key_id=%s suid=32"
                          % re.escape(key_id), 5)
    keys = m.p.tepctl("maf", "keys", admin="authz")
    assert keys.rc == 0, str(keys)
    row = [l.split() for l in keys.out.splitlines() if l.startswith(key_id)][0]
    assert re.fullmatch(r"cert:[0-9a-f]+", row[2]), row
    # the MAF-based SAEF with that Kc at tep-cse
    rc, conn = m.connect(h, kc)
    assert rc == 0, m.p.logs()
    assert m.create(conn, m.p.env["CSE_NAME"], 2, "") == 2001
    m.lib.tep_conn_free(conn)
    m.p["authz"].wait_log(r"event=maf_key_retrieved key_id=%s target=%s source=Cdevice01"
                          % (re.escape(key_id), re.escape(m.p.env["CSE_ID"])), 5)
    # the lifecycle runs in certificate sessions too
    assert m.lib.tep_maf_update_key(h, m.maf_uri.encode(), kc, 120, None) == 0, m.p.logs()
    assert m.lib.tep_maf_deregister_key(h, m.maf_uri.encode(), kc) == 0, m.p.logs()
    m.p["authz"].wait_log(r"event=maf_key_deregistered source=Cdevice01 key_id=%s"
                          % re.escape(key_id), 5)
    assert m.lib.tep_maf_deregister_client(h, m.maf_uri.encode(), kc) == 0, m.p.logs()
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_psk_maf_handshake_still_works_beside_pki(m):
    h = m.enrolled("device02")
    rc, kc = m.register_key(h, m.p.env["CSE_ID"])
    assert rc == 0, m.p.logs()
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


@pytest.mark.skipif(harness.COAP_CLIENT_OPENSSL is None, reason="coap-client-openssl missing")
def test_certificate_from_another_ca_refused(m, tmp_path):
    m.cert_device("device01")  # the enrolee exists and is live: only the CA is wrong
    crt, key, _ = _openssl_ca(str(tmp_path), "Cdevice01")
    log = m.coap_client(crt, key, m.ca)
    assert "session connected" not in log and "c:2.01" not in log, log
    assert "unknown ca" in log.lower(), log
    m.p["authz"].wait_log(r"DTLS: unable to get local issuer certificate", 5)
    assert "event=session_bound" not in m.p["authz"].log()
    assert "event=maf_client_registered" not in m.p["authz"].log()


def test_revoked_enrolee_refused(m):
    h, _, _ = m.cert_device("device01")
    rc, kc = m.register_cert(h)
    assert rc == 0, m.p.logs()
    m.lib.tep_kc_free(kc)
    assert m.p.tepctl("enrolee", "revoke", "device01").rc == 0
    m.p["authz"].wait_log(r"event=credential_stored key_id=\S+ enrolee_id=Cdevice01 "
                          r"suid=21 revoked=1", 5)
    rc, kc = m.register_cert(h)
    assert rc == TEP_EDENIED, m.p.logs()
    m.p["authz"].wait_log(r"event=handshake_refused reason=\"no live enrolment\" "
                          r"identity=cert:[0-9a-f]+ enrolee_id=Cdevice01", 5)
    m.lib.tep_device_free(h)


def test_certificate_revoked_on_its_own_refused(m):
    """tepctl cert revoke: tep-authz learns the serial from sync (CERT_REVOKED), refuses
    the certificate, and revokes and announces the keys registered with it: tep-cse drops
    the Kc it holds."""
    h, _, _ = m.cert_device("device01")
    rc, kc = m.register_cert(h)
    assert rc == 0, m.p.logs()
    key_id = m.lib.tep_kc_key_id(kc).decode()
    rc, conn = m.connect(h, kc)  # tep-cse holds Kc now
    assert rc == 0, m.p.logs()
    m.lib.tep_conn_free(conn)
    serial = re.search(r"event=session_bound identity=cert:([0-9a-f]+) enrolee_id=Cdevice01",
                       m.p["authz"].log()).group(1)
    assert m.p.tepctl("cert", "revoke", serial).rc == 0
    m.p["authz"].wait_log(r"event=cert_revoked serial=%s enrolee_id=Cdevice01" % serial, 5)
    rc, kc2 = m.register_cert(h)
    assert rc == TEP_EDENIED, m.p.logs()
    m.p["authz"].wait_log(r"event=handshake_refused reason=\"certificate revoked\" "
                          r"identity=cert:%s enrolee_id=Cdevice01" % serial, 5)
    # the key registered with it: revoked, announced, dropped by tep-cse
    m.p["authz"].wait_log(r"event=maf_key_revoked key_id=%s by=cert_revoked cert=%s"
                          % (re.escape(key_id), serial), 5)
    assert_dropped_at_target(m, h, kc, key_id)
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_start_refuses_bad_pki_files(m, monkeypatch):
    # a certificate that does not name the MAF-ID (tep-cse's)
    _, crt, key, ca = harness.cert_of(m.p, "tep-cse", "--ae-id", "/tep-cse")
    m.p["authz"].stop()
    m.p.configure(authz_cert_file=crt, authz_key_file=key, authz_ca_file=ca)
    r = harness.run_tool([harness.binary("authz"), "--config",
                          tepenv.config_path(m.p.dir, "authz"), "--foreground"])
    assert r.rc == 1, str(r)
    assert "event=pki_refused reason=wrong_san" in r.out + r.err, str(r)
    # --check-config says the same without starting
    r = harness.run_tool([harness.binary("authz"), "--config",
                          tepenv.config_path(m.p.dir, "authz"), "--check-config"])
    assert r.rc == 1 and "event=pki_refused reason=wrong_san" in r.out + r.err, str(r)
    # incomplete: cert_file alone
    monkeypatch.setenv("TEP_AUTHZ_CERT_FILE", m.crt)
    m.p.configure()
    r = harness.run_tool([harness.binary("authz"), "--config",
                          tepenv.config_path(m.p.dir, "authz")])
    assert r.rc == 1, str(r)
    assert "event=pki_refused reason=incomplete" in r.out + r.err, str(r)
    r = harness.run_tool([harness.binary("authz"), "--config",
                          tepenv.config_path(m.p.dir, "authz"), "--check-config"])
    assert r.rc == 1 and "event=pki_refused reason=incomplete" in r.out + r.err, str(r)
    assert os.path.exists(m.crt)


def test_tep_device_maf_run_cert(m):
    """The example program does the same: `tep-device cert` then `maf-run --cert` (needs
    the tep-device.c part of the lead's patch)."""
    _, dev, _ = m.cert_device("device03")
    r = dev.run("maf-run", "--cert", "--maf-uri", m.maf_uri)
    assert r.rc == 0, "%s\n%s" % (r, m.p.logs())
    assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(m.p.env["MAF_ID"]), r.get("KC_ID"))
    assert r.get("VALUE").startswith("hello-tep")
    m.p["authz"].wait_log(r"event=maf_client_registered client=Cdevice03 cert=[0-9a-f]+$", 5)
