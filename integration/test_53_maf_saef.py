"""53: the MAF-based SAEF (TS-0003 8.2.2.3, 8.8; 10.3.1 for Kc/KcID). An enrolled AE runs
the MAF Handshake with tep-authz (DTLS-PSK KmID/Km), MAF Client Registration and MAF Key
Registration for tep-cse (SUID 32); Kc/KcID come from EXPORTER-oneM2M-Connection on that
session. It then opens DTLS-PSK to tep-cse with psk_identity hex(KcID)@MAF-FQDN: tep-cse
refuses the unknown identity without waiting, fetches Kc from the MAF over the bus (MAF
Key Retrieval), and the SDK's retry finds it; the AE registers and writes data. An
unknown Key Identifier, an expired key and a key registered for another target are
refused (the MAF refuses the retrieval to a non-target). Revoking the source enrolee,
de-registering the key, or moving it to another target closes a live Kc session within
one second (TS-0003 10.7); after tep-authz is killed and restarted, tep-cse's keys
DEALER is rebuilt and a new Kc handshake works. libtepae
is driven through ctypes, as any application binding would."""

import ctypes
import os
import re
import time

import pytest

import harness
import maf_coaps_common as mc

class MafPlatform:
    """The three daemons; tep-authz with its CoAPS endpoint and the keys ROUTER, tep-cse
    retrieving Kc from it (environment overrides); with push, tep-authz announces each
    registered key on maf_events and tep-cse fetches it at once."""

    def __init__(self, monkeypatch, push=True):
        self.p = harness.Platform()
        self.authz_port = harness.free_udp_ports(1)[0]
        ipc = os.path.join(self.p.dir, "ipc")
        monkeypatch.setenv("TEP_AUTHZ_COAPS_LISTEN", "127.0.0.1:%d" % self.authz_port)
        # the enroller announces the MAF's point of access in the enrolment answer (mpoa)
        monkeypatch.setenv("TEP_ENROLLER_MAF_POA", "coaps://127.0.0.1:%d" % self.authz_port)
        monkeypatch.setenv("TEP_BUS_KEYS", "ipc://" + os.path.join(ipc, "keys.ipc"))
        if push:
            monkeypatch.setenv("TEP_BUS_MAF_EVENTS", "ipc://" + os.path.join(ipc, "maf-ev.ipc"))
        self.p.start()
        self.maf_uri = "coaps://127.0.0.1:%d" % self.authz_port
        self.lib = mc.sdk()

    def enrolled(self, name):
        dev = self.p.add_enrolee(name)
        r = dev.run("enrol")
        assert r.rc == 0, "%s\n%s" % (r, self.p.logs())
        h = ctypes.c_void_p()
        assert self.lib.tep_device_load(dev.prov.encode(), dev.state.encode(),
                                        ctypes.byref(h)) == 0
        return h

    def register_key(self, h, target, lifetime=0, from_enrolment=False):
        kc = ctypes.c_void_p()
        uri = None if from_enrolment else self.maf_uri.encode()
        rc = self.lib.tep_maf_register_key(h, uri, target.encode(), lifetime, ctypes.byref(kc))
        return rc, kc

    def connect(self, h, kc):
        conn = ctypes.c_void_p()
        rc = self.lib.tep_connect_kc(h, kc, None, ctypes.byref(conn))
        return rc, conn

    def unknown_key_handshake(self):
        """A DTLS-PSK handshake to tep-cse with a Key Identifier no one registered (refused
        by tep-cse, which asks the MAF for it); returns that Key Identifier."""
        probe = os.path.join(harness.BUILD, "cse-node", "cse-probe")
        key_id = "00112233445566778899aabbccddeeff@" + self.p.env["MAF_ID"]
        r = harness.run_tool([probe, "--psk", "%s:%s" % (key_id, "11" * 32), "127.0.0.1",
                              self.p.env["CSE_COAPS"].rsplit(":", 1)[1], "GET",
                              self.p.env["CSE_NAME"]])
        assert r.rc != 0, str(r)
        self.p["cse"].wait_log(r"event=handshake_refused reason=unknown_identity identity=%s"
                               % re.escape(key_id), 5)
        return key_id

    def try_create(self, conn, parent, ty, body):
        """(rc, rsc): rsc is None when the request got no answer."""
        return mc.request(self.lib, conn, parent, ty, body)

    def create(self, conn, parent, ty, body):
        rc, rsc = self.try_create(conn, parent, ty, body)
        assert rc == 0
        return rsc

    def live_kc_session(self):
        """device01 enrolled, a Kc registered for tep-cse, a DTLS session with it and an
        AE registered over it (live, bound): (h, kc, key_id, conn)."""
        h = self.enrolled("device01")
        rc, kc = self.register_key(h, self.p.env["CSE_ID"])
        assert rc == 0
        key_id = self.lib.tep_kc_key_id(kc).decode()
        rc, conn = self.connect(h, kc)
        assert rc == 0, self.p.logs()
        assert self.create(conn, self.p.env["CSE_NAME"], 2, "") == 2001
        return h, kc, key_id, conn

    def wait_closed(self, key_id, t0, limit):
        """tep-cse closes the Kc session at most limit s after t0 (from its log's ts)."""
        closed = r"event=session_closed reason=credential_revoked identity=%s" \
            % re.escape(key_id)
        self.p["cse"].wait_log(closed, 5)
        delay = mc.log_time(self.p["cse"].log(), closed) - t0
        assert delay <= limit, "Kc session closed %.3f s after the revocation\n%s" % (
            delay, self.p.logs())

    def close(self):
        try:
            self.p.assert_clean_stop()
        finally:
            self.p.cleanup()


def test_kc_registration_then_ae_over_kc(monkeypatch):
    m = MafPlatform(monkeypatch)
    try:
        h = m.enrolled("device01")
        assert m.lib.tep_device_maf_poa(h).decode() == m.maf_uri
        rc, kc = m.register_key(h, m.p.env["CSE_ID"], from_enrolment=True)
        assert rc == 0, m.p.logs()
        key_id = m.lib.tep_kc_key_id(kc).decode()
        assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(m.p.env["MAF_ID"]), key_id)
        assert m.lib.tep_kc_expires(kc) > time.time()
        status = m.p.tepctl("status", "authz", admin="authz")
        assert status.rc == 0 and status.get("maf_keys") == "1", status
        # pushed: tep-cse has Kc before the AE's first handshake, which is not refused
        m.p["cse"].wait_log(r"event=maf_key_stored key_id=%s enrolee_id=Cdevice01"
                            % re.escape(key_id), 5)
        rc, conn = m.connect(h, kc)
        assert rc == 0, m.p.logs()
        ae = "%s/Cdevice01" % m.p.env["CSE_NAME"]
        assert m.create(conn, m.p.env["CSE_NAME"], 2, "") == 2001
        assert m.create(conn, ae, 3, '{"m2m:cnt":{"rn":"data"}}') == 2001
        assert m.create(conn, ae + "/data", 4, '{"m2m:cin":{"con":"over-kc"}}') == 2001
        m.lib.tep_conn_free(conn)
        m.p["authz"].wait_log(r"event=maf_key_retrieved key_id=%s target=%s source=Cdevice01"
                              % (re.escape(key_id), re.escape(m.p.env["CSE_ID"])), 5)
        m.p["cse"].wait_log(r"event=session_bound identity=%s enrolee_id=Cdevice01"
                            % re.escape(key_id), 5)
        assert "handshake_refused reason=unknown_identity identity=" + key_id \
            not in m.p["cse"].log()
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
        # the example program does the same path: tep-device maf-run
        dev = m.p.add_enrolee("device02")
        r = dev.run("maf-run")
        assert r.rc == 0, "%s\n%s" % (r, m.p.logs())
        assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(m.p.env["MAF_ID"]), r.get("KC_ID"))
        assert r.get("VALUE").startswith("hello-tep")
    finally:
        m.close()


def _revoke_source(m, h, kc):
    assert m.p.tepctl("enrolee", "revoke", "device01").rc == 0


def _deregister_key(m, h, kc):
    assert m.lib.tep_maf_deregister_key(h, m.maf_uri.encode(), kc) == 0, m.p.logs()


def _move_key_elsewhere(m, h, kc):
    assert m.lib.tep_maf_update_key(h, m.maf_uri.encode(), kc, 0, b"/other-cse") == 0, \
        m.p.logs()


@pytest.mark.parametrize("end, reason", [
    (_revoke_source, "source_revoked"),  # tepctl enrolee revoke (sync event)
    (_deregister_key, "deregistered"),  # MAF Key De-registration: KeyEvent revoked
    (_move_key_elsewhere, "not_target"),  # Key Registration Update: re-fetched, refused
], ids=["source_revoked", "deregistered", "not_target"])
def test_live_kc_session_closed_within_1s(monkeypatch, end, reason):
    """TS-0003 10.7: once the Kc is revoked (its source enrolment revoked, the key
    de-registered, or moved to another target), tep-cse logs maf_key_revoked with the
    reason and closes the live, bound Kc session within one second (close_notify, no
    request needed); the SDK's next request on it gets no answer, and a new handshake
    with Kc is refused as revoked."""
    m = MafPlatform(monkeypatch)
    try:
        h, kc, key_id, conn = m.live_kc_session()
        assert "event=session_closed" not in m.p["cse"].log()
        t0 = time.time()
        end(m, h, kc)
        m.wait_closed(key_id, t0, 1.0)
        m.p["cse"].wait_log(r"event=maf_key_revoked key_id=%s reason=%s"
                            % (re.escape(key_id), reason), 1)
        ae = "%s/Cdevice01" % m.p.env["CSE_NAME"]
        rc, rsc = m.try_create(conn, ae, 3, '{"m2m:cnt":{"rn":"after"}}')
        assert rc != 0 and rsc is None, (rc, rsc)
        m.lib.tep_conn_free(conn)
        rc, conn = m.connect(h, kc)
        assert rc == mc.TEP_EDENIED
        m.p["cse"].wait_log(r"event=handshake_refused reason=revoked identity=%s"
                            % re.escape(key_id), 5)
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
    finally:
        m.close()


def test_authz_restart_rebuilds_keys_dealer(monkeypatch):
    """A retrieval lost while tep-authz is down: tep-cse drops it at its deadline and
    rebuilds the keys DEALER; with tep-authz back, a new Kc is fetched and its handshake
    works."""
    m = MafPlatform(monkeypatch, push=False)
    try:
        h = m.enrolled("device01")
        m.p["authz"].kill()
        lost = m.unknown_key_handshake()
        m.p["cse"].wait_log(r"event=maf_key_timeout key_id=%s" % re.escape(lost), 5)
        m.p["cse"].wait_log(r"event=maf_keys_reconnected", 1)
        m.p["authz"].start()
        rc, kc = m.register_key(h, m.p.env["CSE_ID"])
        assert rc == 0, m.p.logs()
        key_id = m.lib.tep_kc_key_id(kc).decode()
        rc, conn = m.connect(h, kc)  # refused once, fetched on the rebuilt DEALER, retried
        assert rc == 0, m.p.logs()
        assert m.create(conn, m.p.env["CSE_NAME"], 2, "") == 2001
        m.p["cse"].wait_log(r"event=maf_key_stored key_id=%s" % re.escape(key_id), 1)
        m.lib.tep_conn_free(conn)
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
    finally:
        m.close()


def test_key_deregistered_during_authz_restart(monkeypatch):
    """tep-authz restarted and a key de-registered at once, before tep-cse's maf_events
    SUB has reconnected: its KeyEvent{revoked} is lost, but the subscription's
    reconnection makes tep-cse fetch every stored live Kc again (maf_keys_resync); the
    MAF no longer gives the key out (CMN_ENOTFOUND), so tep-cse revokes it
    (reason=deregistered) and closes the live session within 2 s."""
    m = MafPlatform(monkeypatch)
    try:
        h, kc, key_id, conn = m.live_kc_session()
        m.p["authz"].stop()
        m.p["authz"].start()
        t0 = time.time()
        _deregister_key(m, h, kc)
        m.wait_closed(key_id, t0, 2.0)
        m.p["cse"].wait_log(r"event=maf_key_revoked key_id=%s reason=deregistered"
                            % re.escape(key_id), 1)
        m.p["cse"].wait_log(r"event=maf_keys_resync count=\d+ trigger=events_connected", 1)
        rc, rsc = m.try_create(conn, "%s/Cdevice01" % m.p.env["CSE_NAME"], 3,
                               '{"m2m:cnt":{"rn":"after"}}')
        assert rc != 0 and rsc is None, (rc, rsc)
        m.lib.tep_conn_free(conn)
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
    finally:
        m.close()


def test_without_push_the_first_handshake_fetches_kc(monkeypatch):
    m = MafPlatform(monkeypatch, push=False)
    try:
        h = m.enrolled("device01")
        rc, kc = m.register_key(h, m.p.env["CSE_ID"])
        assert rc == 0
        key_id = m.lib.tep_kc_key_id(kc).decode()
        rc, conn = m.connect(h, kc)  # refused once (never waiting), fetched, retried
        assert rc == 0, m.p.logs()
        assert m.create(conn, m.p.env["CSE_NAME"], 2, "") == 2001
        assert "handshake_refused reason=unknown_identity identity=" + key_id \
            in m.p["cse"].log()
        m.lib.tep_conn_free(conn)
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
    finally:
        m.close()


def test_unknown_expired_and_foreign_keys_refused(monkeypatch):
    m = MafPlatform(monkeypatch)
    try:
        h = m.enrolled("device01")
        # unknown Key Identifier: refused by tep-cse, and by the MAF it asks
        unknown = m.unknown_key_handshake()
        m.p["authz"].wait_log(r"event=maf_key_retrieval_refused key_id=%s"
                              % re.escape(unknown), 5)
        # a key for another CSE: the MAF does not give it to tep-cse
        rc, other = m.register_key(h, "/other-cse")
        assert rc == 0
        rc, conn = m.connect(h, other)
        assert rc == mc.TEP_EDENIED
        m.p["authz"].wait_log(r"event=maf_key_retrieval_refused key_id=%s target=%s "
                              r"reason=\"not a target\""
                              % (re.escape(m.lib.tep_kc_key_id(other).decode()),
                                 re.escape(m.p.env["CSE_ID"])), 5)
        m.lib.tep_kc_free(other)
        # a short-lived key works, then is refused once expired
        rc, kc = m.register_key(h, m.p.env["CSE_ID"], lifetime=2)
        assert rc == 0
        rc, conn = m.connect(h, kc)
        assert rc == 0, m.p.logs()
        m.lib.tep_conn_free(conn)
        time.sleep(max(0.0, m.lib.tep_kc_expires(kc) - time.time()) + 0.2)
        rc, conn = m.connect(h, kc)
        assert rc == mc.TEP_EDENIED
        m.p["cse"].wait_log(r"event=handshake_refused reason=expired identity=%s"
                            % re.escape(m.lib.tep_kc_key_id(kc).decode()), 5)
        m.lib.tep_kc_free(kc)
        m.lib.tep_device_free(h)
    finally:
        m.close()
