"""140: CSE registration of an MN-CSE at the IN-CSE over a security association (Mcc).
TS-0001 V3.36 10.2.2.6 (CSE registration: <remoteCSE> created at the registrar, and the
registrar represented at the registree), TS-0004 V3.32 7.4.4.2.1 (From is the CSE-ID,
csi set from it, 4117 for a second registration), TS-0003 8.2.2.1 (the MN-CSE as Entity A:
DTLS-PSK with the Kpsa of its own enrolment, CSE-ID as Enrolee-ID), 7.2.1 (the CSE-ID
bound to the security association: another CSE-ID is 4106)."""

import os
import time

import pytest

from harness import Platform, binary, run_tool, wait_registered
from onem2m_client import OneM2MClient

TY_CSR = 16




@pytest.fixture(scope="module")
def gw():
    p = Platform()
    try:
        p.start()
        p.add_enrolee("mn1", "--ae-id", "/mn1")
        mn = p.add_cse("mn1", "/mn1", registrar=p.mn_registrar("mn1"))
        mn.start()
        wait_registered(mn)
        admin = OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"])
        yield p, mn, admin
        admin.close()
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_remote_cse_created_at_the_registrar(gw):
    p, mn, admin = gw
    r = admin.retrieve("%s/mn1" % p.env["CSE_NAME"])
    assert r.rsc == 2000, str(r)
    csr = r.resource(TY_CSR)
    assert csr["csi"] == "/mn1" and csr["cst"] == 2 and csr["rr"] is True, csr
    assert csr["cb"] == "/mn1/mn1" and csr["poa"] == [mn.coaps + "/"], csr
    assert csr["dcse"] == [], csr


def test_registrar_represented_at_the_mn(gw):
    p, mn, admin = gw
    with OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin") as c:
        r = c.retrieve("mn1/tep-cse")
        assert r.rsc == 2000, "%s\n%s" % (r, mn.tail())
        csr = r.resource(TY_CSR)
        assert csr["csi"] == p.env["CSE_ID"] and csr["cst"] == 1, csr
        assert csr["poa"] == [p.env["CSE_COAPS"]], csr
        base = c.retrieve("mn1").resource(5)
        assert base["cst"] == 2 and base["csi"] == "/mn1", base


def test_enrolled_cse_id_over_plain_coap_is_4107(gw):
    """The MN-CSE's CSE-ID is enrolled: it registers over its security association only
    (TS-0004 7.4.4.2.1: the credential is checked, else SECURITY_ASSOCIATION_REQUIRED)."""
    p, mn, admin = gw
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "/mn1") as c:
        r = c.create(p.env["CSE_NAME"], TY_CSR, {"cb": "/mn1/x", "rr": True, "srv": ["3"]})
        assert r.rsc == 4107, str(r)


def test_second_registration_is_4117(gw):
    p, mn, admin = gw
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "/plain1") as c:
        body = {"cb": "/plain1/b", "rr": True, "srv": ["3"]}
        r = c.create(p.env["CSE_NAME"], TY_CSR, body)
        assert r.rsc == 2001 and r.resource(TY_CSR)["csi"] == "/plain1", str(r)
        r = c.create(p.env["CSE_NAME"], TY_CSR, dict(body, rn="other"))
        assert r.rsc == 4117, str(r)
        r = c.create(p.env["CSE_NAME"], TY_CSR, dict(body, rn="x", csi="/plain2"))
        assert r.rsc == 4106, str(r)  # a CSE claiming another CSE-ID
        assert c.delete("%s/plain1" % p.env["CSE_NAME"]).rsc == 2002
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "/bad%id") as c:
        body = {"cb": "/x/b", "rr": True, "srv": ["3"]}
        r = c.create(p.env["CSE_NAME"], TY_CSR, body)  # not a CSE-ID a path can carry
        assert r.rsc == 4005, str(r)


def test_ae_id_may_not_register_a_cse(gw):
    p, mn, admin = gw
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "Cnotacse") as c:
        r = c.create(p.env["CSE_NAME"], TY_CSR, {"cb": "/x/x", "rr": True, "srv": ["3"]})
        assert r.rsc == 4005, str(r)


def test_mn_restart_re_registers_by_update(gw):
    p, mn, admin = gw
    mn.stop()
    mn.start()
    wait_registered(mn, 2)
    assert "how=update" in mn.log(), mn.tail()
    assert admin.retrieve("%s/mn1" % p.env["CSE_NAME"]).rsc == 2000


def test_tepctl_shows_registered_cses(gw):
    """Operations: tepctl status of the IN-CSE lists /mn1 with its live security
    association (":sa"); the MN-CSE's says MN and registered to /tep-cse."""
    p, mn, admin = gw
    r = p.tepctl("status", admin="cse")
    assert r.rc == 0 and r.get("cse_type") == "IN", str(r)
    assert "/mn1:sa" in r.get("registered_cses").split(","), str(r)
    assert r.get("registrar") == "-" and int(r.get("forwarded")) >= 0, str(r)
    r = run_tool([binary("tepctl"), "--admin",
                  "ipc://" + os.path.join(p.dir, "ipc", "mn1-admin.ipc"), "status"])
    assert r.rc == 0 and r.get("cse_type") == "MN" and r.get("cse_id") == "/mn1", str(r)
    assert r.get("registrar") == "/tep-cse registered", str(r)


def test_mn_deregisters_and_registers_again(gw):
    """De-registration by the MN-CSE (TS-0001 10.2.2.10, TS-0004 7.4.4.2.4): `tepctl cse
    deregister` at the MN-CSE deletes its <remoteCSE> at the IN-CSE and the registrar's
    <remoteCSE> at the MN-CSE, and it stays so (no re-registration at its checks); `cse
    register` registers it again. An IN-CSE has no registrar to leave (exit 3)."""
    p, mn, admin = gw
    mn_admin = ["--admin", "ipc://" + os.path.join(p.dir, "ipc", "mn1-admin.ipc")]
    r = run_tool([binary("tepctl")] + mn_admin + ["cse", "deregister"])
    assert r.rc == 0, str(r)
    mn.wait_log("event=deregistered registrar=/tep-cse rsc=2002", 10)
    assert admin.retrieve("%s/mn1" % p.env["CSE_NAME"]).rsc == 4004
    with OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin") as c:
        assert c.retrieve("mn1/tep-cse").rsc == 4004
    time.sleep(2.5)  # two checks (check_s 1): still unregistered
    assert admin.retrieve("%s/mn1" % p.env["CSE_NAME"]).rsc == 4004
    r = run_tool([binary("tepctl")] + mn_admin + ["status"])
    assert r.get("registrar") == "/tep-cse unregistered", str(r)
    before = mn.log(since_start=False).count("event=registrar_represented")
    r = run_tool([binary("tepctl")] + mn_admin + ["cse", "register"])
    assert r.rc == 0, str(r)
    wait_registered(mn, before + 1)  # counted before: it may be done when tepctl returns
    assert admin.retrieve("%s/mn1" % p.env["CSE_NAME"]).rsc == 2000
    assert p.tepctl("cse", "deregister", admin="cse").rc == 3
