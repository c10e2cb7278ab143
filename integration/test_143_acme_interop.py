"""143: CSE registration and retargeting with a CSE nobody here wrote: the ACME CSE
(PyPI acmecse 2026.5.3, plain CoAP: it has no DTLS). TS-0001 V3.36 10.2.2.6 (CSE
registration), 8.2.1.1 and TS-0004 V3.32 7.3.2.6 (retargeting, From made SP-relative),
TS-0008 (the CoAP binding both speak).

- an ACME MN-CSE (/id-mn) registers to tep's IN-CSE; tep retargets ~/id-mn/... to it,
  and an AE at ACME reaches a tep resource through ACME (access decided by tep);
- a tep MN-CSE (/mn1) registers to an ACME IN-CSE (/id-in) over plain CoAP; ACME
  retargets ~/mn1/... to it (access decided by tep), and tep retargets ~/id-in/... up."""

import os

import pytest

import harness
from harness import AcmeCse, Platform, until, wait_registered
from onem2m_client import OneM2MClient

pytestmark = pytest.mark.skipif(not os.access(harness.ACME_PYTHON, os.X_OK),
                                reason="acmecse not installed (tools/bench/run.sh installs it)")

TY_AE, TY_CNT, TY_ACP, TY_CSR = 2, 3, 1, 16




def _acme_ae(acme, rn):
    c = OneM2MClient("127.0.0.1", acme.port, "C" + rn)
    r = c.create(acme.cse_name, TY_AE, {"rn": rn, "api": "Ntep.test", "rr": False,
                                         "srv": ["3"]})
    assert r.rsc == 2001, "%s\n%s" % (r, acme.tail())
    c.originator = r.resource(TY_AE)["aei"]
    return c


@pytest.fixture
def platform_and_acme_mn(monkeypatch):
    p = Platform()
    acme = None
    # The IN-CSE announces its plain CoAP address as its pointOfAccess ([cse] poa): ACME
    # uses the first poa of its registrar and has no DTLS ("CoAP security is not yet
    # supported"), so the default (coaps:// first) would not do for it
    monkeypatch.setenv("TEP_CSE_POA", "coap://127.0.0.1:%d" % p.ports["cse_coap"])
    try:
        p.start()
        acme = AcmeCse(p.dir, "MN", "id-mn", "cse-mn",
                       registrar=("/tep-cse", "tep-cse", p.env["CSE_COAP"]))
        acme.start()
        yield p, acme
        acme.stop()
        p.assert_clean_stop()
    finally:
        if acme is not None:
            acme.stop()
        p.cleanup(keep=False)


def test_acme_mn_registers_to_tep_and_requests_go_both_ways(platform_and_acme_mn):
    p, acme = platform_and_acme_mn
    admin = OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin")
    try:
        csr = lambda: admin.retrieve("tep-cse/id-mn")
        assert until(lambda: csr().rsc == 2000, 30), "%s\n%s" % (acme.tail(), p["cse"].tail())
        got = csr().resource(TY_CSR)
        assert got["csi"] == "/id-mn" and got["cb"] == "/id-mn/cse-mn", got
        # tep -> ACME: the hosting CSE is ACME
        r = admin.retrieve("~/id-mn/cse-mn")
        assert r.rsc == 2000 and r.resource(5)["csi"] == "/id-mn", str(r)
        # ACME -> tep: an AE at ACME reads a tep container its policy grants it
        ae = _acme_ae(acme, "acmeapp")
        who = "/id-mn/" + ae.originator
        acp = {"rn": "acp-acme", "pv": {"acr": [{"acor": [who], "acop": 2}]},
               "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}
        ri = admin.create("tep-cse", TY_ACP, acp).resource(TY_ACP)["ri"]
        assert admin.create("tep-cse", TY_CNT, {"rn": "shared", "acpi": [ri]}).rsc == 2001
        assert admin.create("tep-cse", TY_CNT, {"rn": "private"}).rsc == 2001
        # (ACME routes once its registration is complete: its own <remoteCSE> of tep)
        assert until(lambda: ae.retrieve("~/tep-cse/tep-cse/shared").rsc == 2000, 30), \
            acme.tail()
        r = ae.retrieve("~/tep-cse/tep-cse/shared")
        assert r.rsc == 2000 and r.resource(TY_CNT)["rn"] == "shared", \
            "%s\n%s" % (r, p["cse"].tail())
        assert "originator=%s" % who in p["cse"].log()
        r = ae.retrieve("~/tep-cse/tep-cse/private")
        assert r.rsc == 4103, str(r)
        ae.close()
    finally:
        admin.close()


@pytest.fixture
def acme_in_and_tep_mn():
    p = Platform()
    acme = AcmeCse(p.dir, "IN", "id-in", "cse-in")
    try:
        p.start()
        acme.start()
        mn = p.add_cse("mn1", "/mn1", registrar={
            "cse_id": "/id-in", "cse_name": "cse-in", "poa": acme.coap, "check_s": "1"})
        mn.start()
        yield p, acme, mn
        mn.stop()
        acme.stop()
        p.assert_clean_stop()
    finally:
        acme.stop()
        p.cleanup(keep=False)


def test_tep_mn_registers_to_acme_in_and_requests_go_both_ways(acme_in_and_tep_mn):
    p, acme, mn = acme_in_and_tep_mn
    wait_registered(mn, timeout=60)
    mn_port = int(mn.coap.rsplit(":", 1)[1])
    ae = _acme_ae(acme, "inapp")
    r = ae.retrieve("cse-in/mn1")  # ACME's <remoteCSE> of tep's MN-CSE
    # (ACME's own access control may keep it from the AE: what matters is retargeting)
    with OneM2MClient("127.0.0.1", mn_port, "CAdmin") as mnadmin:
        who = "/id-in/" + ae.originator
        acp = {"rn": "acp-in", "pv": {"acr": [{"acor": [who], "acop": 2}]},
               "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}
        ri = mnadmin.create("mn1", TY_ACP, acp).resource(TY_ACP)["ri"]
        assert mnadmin.create("mn1", TY_CNT, {"rn": "sensor", "acpi": [ri]}).rsc == 2001
        # ACME -> tep MN-CSE: retargeted to its poa, decided by tep
        r = ae.retrieve("~/mn1/mn1/sensor")
        assert r.rsc == 2000 and r.resource(TY_CNT)["rn"] == "sensor", \
            "%s\n%s\n%s" % (r, acme.tail(), mn.tail())
        assert "originator=%s" % who in mn.log(), mn.tail()
        # tep MN-CSE -> ACME IN-CSE: up to the registrar (ACME answers)
        r = mnadmin.retrieve("~/id-in/cse-in")
        assert r.rsc in (2000, 4103) and "hop=/id-in" in mn.log(), "%s\n%s" % (r, mn.tail())
    ae.close()
