"""330: CoAPthon3 (PyPI coapthon3, a CoAP stack nobody here wrote, the one oneM2M tools
in Python build on) against tep-cse over plain CoAP, in both decision modes ([authz]
mode local: tep-cse decides in process; remote: tep-authz decides over the bus):
full CRUD of AE, container and contentInstance, discovery, a subscription whose
verification and notification a CoAPthon3 server receives, and access control (a
Permit through an ACP, a 4103 without one).
TS-0008 V3.9.0 6.2.1 (CREATE POST+TY, RETRIEVE GET, UPDATE PUT, DELETE DELETE),
6.2.2.4 (oneM2M options), 6.2.4 (RSC -> CoAP code), TS-0004 V3.32 7.3.3 (discovery,
fu=1), 7.4.8 (subscription: verification, notification), TS-0003 7.1 (access
decision, 4103 ORIGINATOR_HAS_NO_PRIVILEGE)."""

import pytest

import thirdparty
from harness import free_udp_ports
from onem2m_client import CseSession
from thirdparty import TY_ACP, TY_AE, TY_CIN, TY_CNT, TY_SUB

pytestmark = pytest.mark.skipif(not thirdparty.COAPTHON, reason="coapthon3 not installed")

RETRIEVE, ALL_OPS = 2, 63
NET_CREATE_CHILD = 3


@pytest.fixture(scope="module", params=["local", "remote"])
def cse(request):
    s = CseSession(authz_mode=request.param)
    s.mode = request.param
    clients = []

    def client(originator):
        c = thirdparty.CoapthonClient(s.port, originator, timeout=5.0)
        clients.append(c)
        return c
    s.coapthon = client
    try:
        yield s
    finally:
        for c in clients:
            c.close()
        s.close()


def _register(cse, name):
    """A registered AE (From C<name>, rn <name>): (client as its AE-ID, AE path)."""
    c = cse.coapthon("C" + name)
    r = c.create(cse.name, TY_AE, {"rn": name, "api": "Ntep.test", "rr": False,
                                   "srv": ["3"]})
    assert r is not None and (r.rsc, r.code) == (2001, "2.01"), "%s\n%s" % (
        r, cse.platform.logs())
    c.originator = r.resource(TY_AE)["aei"]
    return c, r.location


class NoAnswer(AssertionError):
    """The client saw no answer within its timeout."""


def _answered(r):
    if r is None:
        raise NoAnswer("no answer within the client's timeout")
    return r


def test_crud(cse):
    c, ae = _register(cse, "ct-crud-" + cse.mode)
    got = _answered(c.retrieve(ae))
    assert (got.rsc, got.code) == (2000, "2.05") and got.resource(TY_AE)["aei"] == c.originator

    cnt = _answered(c.create(ae, TY_CNT, {"rn": "box", "lbl": ["k:v"]}))
    assert (cnt.rsc, cnt.code, cnt.location) == (2001, "2.01", ae + "/box"), str(cnt)
    cin = _answered(c.create(cnt.location, TY_CIN, {"con": "hello-coapthon"}))
    assert (cin.rsc, cin.code) == (2001, "2.01"), str(cin)
    got = _answered(c.retrieve(cin.location))
    assert got.rsc == 2000 and got.resource(TY_CIN)["con"] == "hello-coapthon", str(got)
    latest = _answered(c.retrieve(cnt.location + "/la"))
    assert latest.rsc == 2000 and latest.resource(TY_CIN)["con"] == "hello-coapthon"

    upd = _answered(c.update(cnt.location, TY_CNT, {"lbl": ["k:w"]}))
    assert (upd.rsc, upd.code) == (2004, "2.04") and upd.resource(TY_CNT)["lbl"] == ["k:w"]
    assert _answered(c.retrieve(cnt.location)).resource(TY_CNT)["lbl"] == ["k:w"]

    for path in (cin.location, cnt.location, ae):
        d = _answered(c.delete(path))
        assert (d.rsc, d.code) == (2002, "2.02"), str(d)
    gone = _answered(c.retrieve(cnt.location))
    assert (gone.rsc, gone.code) == (4004, "4.04"), str(gone)


def test_discovery(cse):
    c, ae = _register(cse, "ct-disc-" + cse.mode)
    for rn, lbl in (("red", "color:red"), ("blue", "color:blue")):
        assert _answered(c.create(ae, TY_CNT, {"rn": rn, "lbl": [lbl]})).rsc == 2001
    r = _answered(c.retrieve(ae, query="fu=1&ty=%d" % TY_CNT))
    assert r.rsc == 2000, str(r)
    assert sorted(u.rstrip("/").split("/")[-1] for u in r.json["m2m:uril"]) == ["blue", "red"], \
        str(r)
    r = _answered(c.retrieve(ae, query="fu=1&lbl=color:red"))
    assert r.rsc == 2000 and [u.split("/")[-1] for u in r.json["m2m:uril"]] == ["red"], str(r)


def test_subscription_notification_reaches_a_coapthon_server(cse):
    c, ae = _register(cse, "ct-sub-" + cse.mode)
    cnt = _answered(c.create(ae, TY_CNT, {"rn": "watched"})).location
    target = thirdparty.CoapthonNotificationTarget(free_udp_ports(1)[0])
    try:
        sub = _answered(c.create(cnt, TY_SUB, {"rn": "s", "nu": [target.uri],
                                               "enc": {"net": [NET_CREATE_CHILD]}, "nct": 1}))
        assert (sub.rsc, sub.code) == (2001, "2.01"), "%s\n%s" % (sub, cse.platform.logs())
        vrq = target.wait(lambda b: b.get("m2m:sgn", {}).get("vrq") is True)
        assert vrq is not None and vrq["m2m:sgn"].get("cr") == c.originator, target.received
        assert _answered(c.create(cnt, TY_CIN, {"con": "event!"})).rsc == 2001
        ntf = target.wait(lambda b: "nev" in b.get("m2m:sgn", {}))
        assert ntf is not None, target.received
        sgn = ntf["m2m:sgn"]
        assert sgn["nev"]["net"] == NET_CREATE_CHILD and sgn["nev"]["rep"]["m2m:cin"][
            "con"] == "event!", sgn
        got = _answered(c.retrieve(sub.location))
        assert got.rsc == 2000 and got.resource(TY_SUB)["nu"] == [target.uri]
        assert _answered(c.delete(sub.location)).rsc == 2002
    finally:
        target.close()


def test_access_permit_and_4103(cse):
    owner, ae = _register(cse, "ct-own-" + cse.mode)
    other, _ = _register(cse, "ct-other-" + cse.mode)
    cnt = _answered(owner.create(ae, TY_CNT, {"rn": "shared"})).location
    assert _answered(owner.create(cnt, TY_CIN, {"con": "for a reader"})).rsc == 2001

    denied = _answered(other.retrieve(cnt + "/la"))
    assert (denied.rsc, denied.code) == (4103, "4.03"), str(denied)

    acp = _answered(owner.create(ae, TY_ACP, {
        "rn": "readers", "pv": {"acr": [{"acor": [other.originator], "acop": RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}}))
    assert acp.rsc == 2001, str(acp)
    upd = _answered(owner.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]}))
    assert upd.rsc == 2004, str(upd)

    permitted = _answered(other.retrieve(cnt + "/la"))
    assert (permitted.rsc, permitted.code) == (2000, "2.05"), str(permitted)
    assert permitted.resource(TY_CIN)["con"] == "for a reader"
    still = _answered(other.delete(cnt))
    assert (still.rsc, still.code) == (4103, "4.03"), str(still)
    assert cse.platform["cse"].alive()
