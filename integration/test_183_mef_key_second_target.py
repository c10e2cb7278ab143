"""183: the MEF procedures of TS-0003 8.3.5.2 for a device with more than one target: MEF
Client Registration (8.3.5.2.3), Registration Update (8.3.5.2.5) and De-Registration
(8.3.5.2.6), MEF Key Registration of a usage-constrained key (8.3.5.2.7, SUID 22 =
RSPF-provisioned key for the SAEF; the key is Kuc of 10.3.7) and Key De-Registration
(8.3.5.2.10). A device enrolled for the IN-CSE /tep-cse registers a key for the MN-CSE
/mn1, which gets it from the enroller (sync, target /mn1 only), and opens the
provisioned-symmetric-key SAEF to /mn1 with it; de-registration ends it there."""

import re
import time

import pytest

from harness import gateway_platform, wait_refused


@pytest.fixture
def gw():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        dev = p.add_enrolee("dev7")
        r = dev.run("enrol")
        assert r.rc == 0, "%s\n%s" % (r, p.logs())
        yield p, mn, dev
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _mef_run(dev, mn, *extra):
    return dev.run("mef-run", "/mn1", mn.coaps, "mn1", *extra)


def test_key_for_a_second_target(gw):
    p, mn, dev = gw
    # without a key for /mn1 the device's Kpsa (for /tep-cse) opens nothing there
    r = dev.run("mef-run", "/nowhere", mn.coaps, "mn1")
    assert r.rc == 2 and "denied" in r.err.lower(), "%s\n%s" % (r, p.logs())
    p["enroller"].wait_log(r"event=mef_key_registered_refused kpm_id=dev7 .*code=403", 5)

    r = _mef_run(dev, mn)
    assert r.rc == 0, "%s\n%s\n%s" % (r, p.logs(), mn.tail())
    key_id, reg_id = r.get("KEY_ID"), r.get("MEF_CLIENT_REG_ID")
    assert key_id.endswith("@mef.tep.local") and len(reg_id) == 32, str(r)
    assert r.rsc in (2001, 4105), str(r)
    p["enroller"].wait_log(r"event=mef_client_registered kpm_id=dev7 ", 5)
    p["enroller"].wait_log(r"event=mef_key_registered kpm_id=dev7 .*events=1", 5)
    mn.wait_log(r"event=session_bound .*%s" % key_id.split("@")[0], 5)
    # the IN-CSE, not a target of that key, never holds it
    assert key_id not in p["cse"].log()
    events = p.tepctl("events").out
    assert re.search(r"key_registered +dev7 +Cdev7 +\S+ +%s" % key_id, events), events

    # a second key for the registrar itself is another key (another SUID, another ID);
    # SUID 23 is an ESPrim key (TS-0004 6.3.4.2.39): the registrar takes it for ESPrim
    # (integration 212), never as a DTLS PSK (key separation)
    r = dev.run("mef-run", "/tep-cse", p.env["CSE_COAPS"], "tep-cse", "--suid", "23")
    assert r.rc == 2 and r.get("KEY_ID") not in (None, key_id), "%s\n%s" % (r, p.logs())
    p["cse"].wait_log(r"event=handshake_refused reason=not_a_saef_key identity=%s"
                      % re.escape(r.get("KEY_ID")), 5)

    # Key Registration Update: a new expiry, which /mn1 learns (sync)
    r = dev.run("mef-update-key", "/mn1", "--lifetime", "120")
    assert r.rc == 0 and r.get("KEY_ID") == key_id, "%s\n%s" % (r, p.logs())
    assert 0 < int(r.get("KEY_EXPIRES")) - time.time() <= 121, str(r)
    p["enroller"].wait_log(r"event=mef_key_updated kpm_id=dev7 id=%s code=204 events=1"
                           % key_id.split("@")[0], 5)

    # Registration Update: a new expirationTime (bounded by the MEF)
    r = dev.run("mef-update-client", reg_id, "--lifetime", "600")
    assert r.rc == 0 and int(r.get("EXPIRES")) > 0, "%s\n%s" % (r, p.logs())

    # the same key again, computed from Ke: no MEF session needed
    r = dev.run("mef-connect", "/mn1", mn.coaps, "mn1")
    assert r.rc == 0 and r.get("KEY_ID") == key_id, "%s\n%s" % (r, mn.tail())

    # Key De-Registration: /mn1 refuses the key from then on
    r = dev.run("mef-deregister-key", "/mn1")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    p["enroller"].wait_log(r"event=mef_key_deregistered kpm_id=dev7 .*events=1", 5)
    mn.wait_log(r"event=sync_applied .*revocations=1", 5)
    r = dev.run("mef-connect", "/mn1", mn.coaps, "mn1")
    assert r.rc == 2, "%s\n%s" % (r, mn.tail())
    mn.wait_log(r"event=handshake_refused reason=revoked identity=%s" % key_id, 5)
    r = _mef_run(dev, mn)  # a new registration of the same key works again
    assert r.rc == 0, "%s\n%s" % (r, p.logs())


def test_client_deregistration_ends_its_keys(gw):
    p, mn, dev = gw
    r = _mef_run(dev, mn)
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    reg_id = r.get("MEF_CLIENT_REG_ID")
    r = dev.run("mef-deregister-client", reg_id)
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    p["enroller"].wait_log(r"event=mef_client_deregistered kpm_id=dev7 id=%s .*events=1"
                           % reg_id, 5)
    # the key is gone at /mn1: the SAEF with it is refused
    r = dev.run("mef-connect", "/mn1", mn.coaps, "mn1")
    assert r.rc == 2, "%s\n%s" % (r, mn.tail())
    r = dev.run("mef-deregister-client", reg_id)  # and the registration is gone
    assert r.rc != 0 and "not found" in r.err.lower(), str(r)


def test_revoked_enrolee_loses_its_keys_at_every_target(gw):
    """TS-0003 10.7: the usage-constrained key ends with the enrolment it comes from."""
    p, mn, dev = gw
    r = _mef_run(dev, mn)
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    assert p.tepctl("enrolee", "revoke", "dev7").rc == 0
    mn.wait_log(r"event=sync_applied .*revocations=1", 5)
    r = dev.run("mef-connect", "/mn1", mn.coaps, "mn1")
    assert r.rc == 2, "%s\n%s" % (r, mn.tail())


def test_another_enrolee_cannot_touch_the_registration(gw):
    p, mn, dev = gw
    r = _mef_run(dev, mn)
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    reg_id = r.get("MEF_CLIENT_REG_ID")
    other = p.add_enrolee("dev8")
    assert other.run("enrol").rc == 0
    r = other.run("mef-deregister-client", reg_id)
    assert r.rc != 0 and "not found" in r.err.lower(), str(r)
    r = other.run("mef-deregister-key", "/mn1")  # dev8's own key id: never registered
    assert r.rc != 0, str(r)


def test_bad_mef_requests_get_their_code(gw):
    """The MEF's own JSON from a DTLS stack nobody here wrote (tinydtls, pskclient.py),
    the enrolee's Kpm: malformed bodies 4.00, wrong methods 4.05, unknown items 4.04,
    a body over 1024 bytes 4.13, another Content-Format 4.15; nothing is recorded for any
    of them and the session still registers afterwards."""
    import json

    import pskclient
    from onem2m_client import DELETE, GET, POST, PUT

    if pskclient.available() is not None:
        pytest.skip(str(pskclient.available()))
    p, mn, dev = gw
    prov = pskclient.provisioning(dev)
    with pskclient.PskClient(p.ports["enroller_coaps"], prov["kpm_id"],
                             bytes.fromhex(prov["kpm"]), sni=p.env["MEF_FQDN"]) as c:
        # over 1024 bytes, sent block-wise (Block1) by aiocoap: 4.13 as for /enrol
        big = b'{"labels": ["' + b"a" * 1124 + b'"]}'
        assert c.request(POST, "mef/clients", big).code == "4.13"
        for body in (b'{"suid": ', b"[1]", b'{"mefFQDN": "other.example"}',
                     b'{"labels": "x"}', b'{"expirationTime": 5}'):
            r = c.request(POST, "mef/clients", body)
            assert r.code == "4.00", "%r -> %s" % (body, r)
        r = c.request(POST, "mef/clients", b"{}")
        assert r.code == "2.01", str(r)
        reg_id = json.loads(r.text)["mefClientRegID"]
        for body in (b"{}", b'{"mefClientRegID": "%s", "suid": 32, "targetIDs": ["/mn1"]}'
                     % reg_id.encode(), b'{"mefClientRegID": "%s", "suid": 22, '
                     b'"targetIDs": "/mn1"}' % reg_id.encode()):
            r = c.request(POST, "mef/keys", body)
            assert r.code == "4.00", "%r -> %s" % (body, r)
        assert c.request(POST, "mef/keys", b"{}", cf=0).code == "4.15"
        assert c.request(PUT, "mef/keys/00", b"{}").code == "4.00"  # expirationTime only
        assert c.request(PUT, "mef/keys/" + "0" * 32, b'{"expirationTime": %d}'
                         % (int(time.time()) + 60)).code == "4.04"
        assert c.request(GET, "mef/clients/" + reg_id).code == "4.05"
        assert c.request(DELETE, "mef/other/x").code == "4.04"
        assert c.request(DELETE, "mef/keys/" + "0" * 32).code == "4.04"
        assert c.request(DELETE, "mef/clients/" + "0" * 32).code == "4.04"
        r = c.request(POST, "mef/keys", b'{"mefClientRegID": "%s", "suid": 22, '
                      b'"targetIDs": ["/mn1"]}' % reg_id.encode())
        assert r.code == "2.01", str(r)
    assert "event=mef_key_registered kpm_id=dev7 " in p["enroller"].log()
    assert p["enroller"].log().count("event=mef_key_registered kpm_id=dev7 ") == 1
