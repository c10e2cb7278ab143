"""56: the MAF's lifecycle procedures (TS-0003 8.8.2.6, 8.8.2.9, 8.8.2.10) against the real
daemons: MAF Key Registration Update (a new expiry reaches the target), MAF Key
De-Registration and MAF Client De-Registration (the MAF keeps the key revoked, gives it to
no target and announces it on maf_events), someone else's key or registration refused
(4.03), and the operator's `tepctl maf keys` / `tepctl maf revoke`. Each procedure runs in
a new MAF Handshake session (DTLS-PSK KmID/Km) through libtepae (ctypes).

The tests named *_at_the_target assert tep-cse's reaction to a revoked KeyEvent (drop Kc,
close the sessions opened with it): that part is tep-cse's (cse_maf.c)."""

import ctypes
import re
import time

import pytest

from maf_coaps_common import TEP_EDENIED, Response
from test_53_maf_saef import MafPlatform

TEP_ENOTFOUND = -3


def _lifecycle(lib):
    vp = ctypes.c_void_p
    lib.tep_maf_update_key.argtypes = [vp, ctypes.c_char_p, vp, ctypes.c_int64, ctypes.c_char_p]
    lib.tep_maf_deregister_key.argtypes = [vp, ctypes.c_char_p, vp]
    lib.tep_maf_deregister_client.argtypes = [vp, ctypes.c_char_p, vp]
    lib.tep_kc_client_reg_id.argtypes = [vp]
    lib.tep_kc_client_reg_id.restype = ctypes.c_char_p
    return lib


class Lifecycle(MafPlatform):
    def __init__(self, monkeypatch):
        super().__init__(monkeypatch)
        _lifecycle(self.lib)

    def uri(self):
        return self.maf_uri.encode()

    def key(self, h, lifetime=600):
        rc, kc = self.register_key(h, self.p.env["CSE_ID"], lifetime)
        assert rc == 0, self.p.logs()
        return kc, self.lib.tep_kc_key_id(kc).decode()

    def stored_at_cse(self, key_id):
        self.p["cse"].wait_log(r"event=maf_key_stored key_id=%s " % re.escape(key_id), 5)

    def live_session(self, h, kc):
        rc, conn = self.connect(h, kc)
        assert rc == 0, self.p.logs()
        assert self.create(conn, self.p.env["CSE_NAME"], 2, "") == 2001
        return conn

    def still_served(self, conn):
        rsp = ctypes.POINTER(Response)()
        ae = "%s/Cdevice01" % self.p.env["CSE_NAME"]
        rc = self.lib.tep_create(conn, ae.encode(), 3, b'{"m2m:cnt":{}}', ctypes.byref(rsp))
        if rc != 0:
            return False
        rsc = rsp.contents.rsc
        self.lib.tep_response_free(rsp)
        return rsc == 2001

    def keys_listed(self):
        r = self.p.tepctl("maf", "keys", admin="authz")
        assert r.rc == 0, str(r)
        return {line.split()[0]: line.split() for line in r.out.splitlines()[1:]}


def assert_dropped_at_target(m, h, kc, key_id):
    """tep-cse revoked its copy of Kc on the revoked KeyEvent: a handshake is refused."""
    m.p["cse"].wait_log(r"event=maf_key_revoked key_id=%s reason=deregistered"
                        % re.escape(key_id), 5)
    rc, _ = m.connect(h, kc)
    assert rc == TEP_EDENIED


@pytest.fixture
def m(monkeypatch):
    platform = Lifecycle(monkeypatch)
    yield platform
    platform.close()


def test_key_update_changes_the_expiry_the_target_sees(m):
    h = m.enrolled("device01")
    kc, key_id = m.key(h, lifetime=600)
    m.stored_at_cse(key_id)
    assert m.lib.tep_maf_update_key(h, m.uri(), kc, 2, None) == 0, m.p.logs()
    new_expiry = m.lib.tep_kc_expires(kc)
    assert time.time() < new_expiry <= time.time() + 3
    m.p["authz"].wait_log(r"event=maf_key_updated source=Cdevice01 key_id=%s"
                          % re.escape(key_id), 5)
    # published: tep-cse fetches the key again and holds the new expiry
    m.p["cse"].wait_log(r"event=maf_key_stored key_id=%s enrolee_id=Cdevice01 expires=%d "
                        r"update=true" % (re.escape(key_id), new_expiry), 5)
    time.sleep(max(0.0, new_expiry - time.time()) + 0.2)
    rc, _ = m.connect(h, kc)
    assert rc == TEP_EDENIED
    m.p["cse"].wait_log(r"event=handshake_refused reason=expired identity=%s"
                        % re.escape(key_id), 5)
    # an expired key is not updated any more (8.8.2.9 pre-condition)
    assert m.lib.tep_maf_update_key(h, m.uri(), kc, 600, None) == TEP_EDENIED
    m.p["authz"].wait_log(r"event=maf_key_update_refused client=Cdevice01 id=[0-9a-f]{32} "
                          r"code=403 reason=\"key registration expired\"", 5)
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_someone_elses_key_and_registration_refused(m):
    h1 = m.enrolled("device01")
    h2 = m.enrolled("device02")
    kc1, key_id = m.key(h1)
    rel = key_id.split("@")[0]
    # device02's own MAF session naming device01's key / registration
    assert m.lib.tep_maf_deregister_key(h2, m.uri(), kc1) == TEP_EDENIED
    m.p["authz"].wait_log(r"event=maf_key_deregistration_refused client=Cdevice02 id=%s "
                          r"code=403 reason=\"not the source of the key\"" % rel, 5)
    assert m.lib.tep_maf_update_key(h2, m.uri(), kc1, 60, None) == TEP_EDENIED
    assert m.lib.tep_maf_deregister_client(h2, m.uri(), kc1) == TEP_EDENIED
    m.p["authz"].wait_log(r"event=maf_client_deregistration_refused client=Cdevice02 "
                          r"id=%s code=403" % m.lib.tep_kc_client_reg_id(kc1).decode(), 5)
    # nothing changed: device01's key still works
    assert m.keys_listed()[key_id][5] == "-"
    conn = m.live_session(h1, kc1)
    m.lib.tep_conn_free(conn)
    for h in (h1, h2):
        m.lib.tep_device_free(h)
    m.lib.tep_kc_free(kc1)


def test_key_deregistration(m):
    h = m.enrolled("device01")
    kc, key_id = m.key(h)
    m.stored_at_cse(key_id)
    assert m.lib.tep_maf_deregister_key(h, m.uri(), kc) == 0, m.p.logs()
    m.p["authz"].wait_log(r"event=maf_key_deregistered source=Cdevice01 key_id=%s"
                          % re.escape(key_id), 5)
    row = m.keys_listed()[key_id]
    assert row[1] == "Cdevice01" and row[2].startswith("km:") and row[5] != "-", row
    assert m.p.tepctl("status", "authz", admin="authz").get("maf_keys") == "0"
    # gone for its source too
    assert m.lib.tep_maf_deregister_key(h, m.uri(), kc) == TEP_ENOTFOUND
    assert m.lib.tep_maf_update_key(h, m.uri(), kc, 60, None) == TEP_ENOTFOUND
    assert kc_hex_absent(m)
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def kc_hex_absent(m):
    """No 64-hex-digit value (a Kc) in tep-authz's log."""
    return re.search(r"\b[0-9a-f]{64}\b", m.p["authz"].log()) is None


def test_key_deregistration_at_the_target(m):
    """tep-cse drops a de-registered Kc: the live session opened with it is closed and a
    new handshake is refused."""
    h = m.enrolled("device01")
    kc, key_id = m.key(h)
    conn = m.live_session(h, kc)
    assert m.lib.tep_maf_deregister_key(h, m.uri(), kc) == 0
    m.p["cse"].wait_log(r"event=maf_key_revoked key_id=%s reason=deregistered"
                        % re.escape(key_id), 5)
    m.p["cse"].wait_log(r"event=session_closed reason=credential_revoked identity=%s"
                        % re.escape(key_id), 5)
    assert not m.still_served(conn), m.p.logs()
    m.lib.tep_conn_free(conn)
    rc, _ = m.connect(h, kc)
    assert rc == TEP_EDENIED
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_client_deregistration_revokes_its_keys(m):
    h = m.enrolled("device01")
    kc1, id1 = m.key(h)
    kc2, id2 = m.key(h)
    assert id1 != id2
    reg_id = m.lib.tep_kc_client_reg_id(kc2).decode()
    assert re.fullmatch(r"[0-9a-f]{16}", reg_id)
    assert m.lib.tep_maf_deregister_client(h, m.uri(), kc2) == 0, m.p.logs()
    m.p["authz"].wait_log(r"event=maf_client_deregistered client=Cdevice01 reg_id=%s "
                          r"keys_revoked=\d+" % reg_id, 5)
    rows = m.keys_listed()
    # the keys of that client registration (its Km) are revoked, the record is gone
    assert rows[id1][5] != "-" and rows[id2][5] != "-", rows
    for key_id in (id1, id2):
        m.p["authz"].wait_log(r"event=maf_key_deregistered key_id=%s source=Cdevice01"
                              % re.escape(key_id), 5)
    assert m.lib.tep_maf_update_key(h, m.uri(), kc1, 60, None) == TEP_EDENIED
    m.p["authz"].wait_log(r"event=maf_key_update_refused client=Cdevice01 id=[0-9a-f]{32} "
                          r"code=403 reason=\"no client registration\"", 5)
    assert m.lib.tep_maf_deregister_client(h, m.uri(), kc2) == TEP_ENOTFOUND
    for kc in (kc1, kc2):
        m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_tepctl_maf_keys_and_revoke(m):
    h = m.enrolled("device01")
    kc, key_id = m.key(h)
    row = m.keys_listed()[key_id]
    assert row[1] == "Cdevice01" and row[5] == "-" and row[6] == m.p.env["CSE_ID"], row
    r = m.p.tepctl("maf", "revoke", key_id, admin="authz")
    assert r.rc == 0 and r.out.strip() == "revoked=" + key_id, str(r)
    m.p["authz"].wait_log(r"event=maf_key_revoked key_id=%s by=operator"
                          % re.escape(key_id), 5)
    assert m.keys_listed()[key_id][5] != "-"
    assert m.lib.tep_maf_update_key(h, m.uri(), kc, 60, None) == TEP_ENOTFOUND
    # again: fine; unknown: refused (3); no subcommand: usage (1)
    assert m.p.tepctl("maf", "revoke", key_id, admin="authz").rc == 0
    assert m.p.tepctl("maf", "revoke", "00@" + m.p.env["MAF_ID"], admin="authz").rc == 3
    assert m.p.tepctl("maf", admin="authz").rc == 1
    assert m.p.tepctl("maf", "--help", admin="authz").rc == 0
    assert_dropped_at_target(m, h, kc, key_id)  # tep-cse's part
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)
