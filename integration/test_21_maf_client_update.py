"""21: MAF Client Registration Update, PUT /maf/clients/<mafClientRegID> (TS-0003 8.8.2.5:
the MAF client changes its registration's expirationTime and labels; pre-condition: a
live registration of its own), as docs/internals.md "MAF lifecycle" 6 defines it: 2.04
with only the members asked for, expirationTime bounded (<= now + 30 d, <= the
enrolment), a live key of the client that would outlive the new expiry shortened to it
and published (the target, tep-cse, fetches the shorter key); 4.00 malformed, 4.03
someone else's or an expired registration, 4.04 unknown.

The registration and a key come from libtepae (tep_maf_register_key, as in 53/56); the
updates are sent by tinydtls (pskclient.py) in a MAF Handshake whose Km and KmID are
derived by tepkeys.py from the device's Ke: neither the request nor the key comes from
tep's C code."""

import json
import time

import pytest

import harness
import pskclient
import tepkeys
from onem2m_client import GET, PUT
from maf_coaps_common import TEP_EDENIED
from test_56_maf_lifecycle import Lifecycle

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))

MONTH = 30 * 86400


@pytest.fixture
def m(monkeypatch):
    platform = Lifecycle(monkeypatch)
    yield platform
    platform.close()


def _registered(m, name, lifetime=600):
    """name enrolled with a key for tep-cse: (handle, kc, Key Identifier, regID)."""
    h = m.enrolled(name)
    kc, key_id = m.key(h, lifetime=lifetime)
    return h, kc, key_id, m.lib.tep_kc_client_reg_id(kc).decode()


def _maf_session(m, name):
    """A tinydtls MAF Handshake (DTLS-PSK KmID/Km from tepkeys) of enrolee name."""
    st = harness.Device(m.p, name).state_values()
    km = tepkeys.km(bytes.fromhex(st["ke"]), m.p.env["MAF_ID"])
    return pskclient.PskClient(m.authz_port, tepkeys.km_id(km, m.p.env["MAF_ID"]), km)


def _put(c, reg, body):
    return c.request(PUT, "maf/clients/" + reg,
                     body if isinstance(body, bytes) else json.dumps(body).encode())


def _free(m, h, kc):
    m.lib.tep_kc_free(kc)
    m.lib.tep_device_free(h)


def test_update_answers_only_what_was_asked_and_bounds_the_expiry(m):
    h, kc, _, reg = _registered(m, "device01")
    enrolment_end = int(harness.Device(m.p, "device01").state_values()["expires"])
    now = int(time.time())
    with _maf_session(m, "device01") as c:
        r = _put(c, reg, {"expirationTime": now + 3600, "labels": ["site:a", "floor 2"]})
        assert (r.code, r.json) == ("2.04", {"expirationTime": now + 3600,
                                             "labels": ["site:a", "floor 2"]}), str(r)
        r = _put(c, reg, {"labels": ["site:b"]})
        assert (r.code, r.json) == ("2.04", {"labels": ["site:b"]}), str(r)
        r = _put(c, reg, {"expirationTime": now + 10 ** 8})   # ~3 years: bounded
        assert r.code == "2.04" and set(r.json) == {"expirationTime"}, str(r)
        assert now + MONTH - 5 <= r.json["expirationTime"] <= min(now + MONTH + 5,
                                                                  enrolment_end), str(r)
    m.p["authz"].wait_log(r"event=maf_client_updated client=Cdevice01 reg_id=%s "
                          r"keys_shortened=0" % reg, 5)
    _free(m, h, kc)


def test_a_shorter_registration_shortens_its_key_at_the_maf_and_the_target(m):
    h, kc, key_id, reg = _registered(m, "device01", lifetime=600)
    m.stored_at_cse(key_id)
    end = int(time.time()) + 5
    with _maf_session(m, "device01") as c:
        r = _put(c, reg, {"expirationTime": end})
        assert (r.code, r.json) == ("2.04", {"expirationTime": end}), str(r)
    m.p["authz"].wait_log(r"event=maf_client_updated client=Cdevice01 reg_id=%s "
                          r"keys_shortened=1" % reg, 5)
    m.p["authz"].wait_log(r"event=maf_key_updated key_id=%s source=Cdevice01" % key_id, 5)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end))
    assert m.keys_listed()[key_id][3] == expires, m.keys_listed()
    # published: tep-cse fetches the key again and holds the shorter expiry
    m.p["cse"].wait_log(r"event=maf_key_stored key_id=%s enrolee_id=Cdevice01 expires=%d "
                        r"update=true" % (key_id, end), 5)
    time.sleep(max(0.0, end - time.time()) + 1.2)
    rc, _ = m.connect(h, kc)
    assert rc == TEP_EDENIED
    m.p["cse"].wait_log(r"event=handshake_refused reason=expired identity=%s" % key_id, 5)
    # an expired registration is not updated (8.8.2.5 pre-condition)
    with _maf_session(m, "device01") as c:
        r = _put(c, reg, {"expirationTime": int(time.time()) + 600})
        assert (r.code, r.json) == ("4.03", {"error": "client registration expired"}), str(r)
    _free(m, h, kc)


def test_malformed_foreign_and_unknown_updates_are_refused_and_change_nothing(m):
    h1, kc1, key_id, reg1 = _registered(m, "device01")
    h2, kc2, _, reg2 = _registered(m, "device02")
    before = m.keys_listed()[key_id]
    now = int(time.time())
    malformed = [b"{}", b'{"labels": ', b"[]", b'{"foo": 1}',
                 {"mafFQDN": "other.maf.example", "labels": []},
                 {"labels": ["x"] * 17}, {"labels": [""]}, {"labels": ["y" * 65]},
                 {"labels": "x"}, {"expirationTime": now - 10}, {"expirationTime": "soon"}]
    with _maf_session(m, "device01") as c:
        for body in malformed:
            r = _put(c, reg1, body)
            assert (r.code, r.json) == ("4.00", {"error": "malformed client registration "
                                                 "update"}), "%r -> %s" % (body, r)
        r = _put(c, "xyz", {"labels": []})
        assert (r.code, r.json) == ("4.00", {"error": "malformed mafClientRegID"}), str(r)
        r = _put(c, "0123456789abcdef", {"labels": []})
        assert (r.code, r.json) == ("4.04", {"error": "unknown client registration"}), str(r)
        r = _put(c, reg2, {"expirationTime": now + 5})        # device02's registration
        assert r.code == "4.03", str(r)
        assert c.request(GET, "maf/clients/" + reg1).code == "4.04"
    m.p["authz"].wait_log(r"event=maf_client_update_refused client=Cdevice01 id=%s "
                          r"code=403" % reg2, 5)
    # nothing changed: the keys keep their expiry, both clients still update their own
    assert m.keys_listed()[key_id] == before
    for name, reg in (("device01", reg1), ("device02", reg2)):
        with _maf_session(m, name) as c:
            r = _put(c, reg, {"labels": ["ok"]})
            assert (r.code, r.json) == ("2.04", {"labels": ["ok"]}), str(r)
    assert m.p["authz"].alive()
    _free(m, h1, kc1)
    _free(m, h2, kc2)
