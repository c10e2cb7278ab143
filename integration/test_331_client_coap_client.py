"""331: Debian's coap-client (libcoap3-bin 4.3.1, a CoAP client nobody here wrote) against
tep-cse, in both decision modes ([authz] mode local and remote), over plain CoAP
(coap-client-notls, From trusted on loopback) and over DTLS-PSK (coap-client-openssl and
coap-client-gnutls with an enrolled device's KpsaID/Kpsa, From bound to the session):
full CRUD of AE, container and contentInstance, discovery, a subscription whose
verification and notification reach its notification URI (a CoAPthon3 server:
coap-client cannot receive requests), and access control (a Permit through an ACP, a
4103 without one). coap-client drops answers carrying oneM2M options (it does not know
them and they are critical), so the answer is read from its -v 7 trace
(thirdparty.coap_client).
TS-0008 V3.9.0 6.2.1, 6.2.2.4, 6.2.4 (binding, options, RSC -> CoAP code), TS-0003
8.2.2.1 and 10.3 (PSK SAEF, Kpsa), 7.2.1 (From bound to the session), 7.1 (access
decision), TS-0004 V3.32 7.3.3 (discovery), 7.4.8 (subscription)."""

import itertools
import re
import time

import pytest

import tepkeys
import thirdparty
from harness import free_udp_ports
from onem2m_client import CseSession
from thirdparty import COAP_CLIENTS, TY_ACP, TY_AE, TY_CIN, TY_CNT, TY_SUB, body_of

RETRIEVE, ALL_OPS = 2, 63
NET_CREATE_CHILD = 3
_names = itertools.count(1)

# (variant, secure): plain CoAP with -notls, DTLS-PSK with the two DTLS backends
CLIENTS = [("notls", False), ("openssl", True), ("gnutls", True)]


@pytest.fixture(scope="module", params=["local", "remote"])
def cse(request):
    s = CseSession(authz_mode=request.param)
    s.mode = request.param
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(params=CLIENTS, ids=[v for v, _ in CLIENTS])
def client(request):
    variant, secure = request.param
    if COAP_CLIENTS[variant] is None:
        pytest.skip("coap-client-%s (libcoap3-bin) missing" % variant)
    return variant, secure


class Peer:
    """One AE driven by coap-client: sends as `originator`, over coap:// or coaps://
    with a PSK."""

    def __init__(self, cse, variant, originator, psk=None):
        self.cse, self.variant, self.originator, self.psk = cse, variant, originator, psk
        p = cse.platform
        self.base = p.env["CSE_COAPS"] if psk else p.env["CSE_COAP"]
        self.trace = ""

    def request(self, method, path, ty=None, body=None, query=None):
        url = "%s/%s%s" % (self.base, path, "?" + query if query else "")
        r, self.trace = thirdparty.coap_client(self.variant, url, method, self.originator,
                                               ty=ty, body=body, psk=self.psk,
                                               rqi="cc-%d" % next(_names))
        assert r is not None, "no answer in coap-client's trace:\n%s\n%s" % (
            self.trace[-3000:], self.cse.platform.logs())
        return r

    def create(self, path, ty, attrs):
        return self.request("post", path, ty=ty, body=body_of(ty, attrs))

    def retrieve(self, path, query=None):
        return self.request("get", path, query=query)

    def update(self, path, ty, attrs):
        return self.request("put", path, body=body_of(ty, attrs))

    def delete(self, path):
        return self.request("delete", path)


def _psk_device(cse, name):
    """An enrolled device whose Kpsa has no NUL byte (coap-client takes -k as a C
    string): (enrolee ID, App-ID, KpsaID, Kpsa), Kpsa computed from its Ke as in
    integration 07."""
    p = cse.platform
    dev = p.add_enrolee(name)
    for _ in range(10):
        r = dev.run("enrol")
        assert r.rc == 0, "%s\n%s" % (r, p.logs())
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        if b"\0" not in kpsa:
            return (st["enrolee_id"], st["app_id"], tepkeys.kpsa_id(kpsa, p.env["MEF_FQDN"]),
                    kpsa)
    pytest.fail("ten enrolments in a row gave a Kpsa with a NUL byte")


def _register(cse, client, role):
    """A registered AE driven by coap-client: (Peer sending as its AE-ID, AE path)."""
    variant, secure = client
    name = "cc-%s-%s-%s-%d" % (role, variant, cse.mode, next(_names))
    if secure:
        ae_id, api, ident, kpsa = _psk_device(cse, name)
        peer = Peer(cse, variant, ae_id, (ident, kpsa))
    else:
        peer, api = Peer(cse, variant, "C" + name), "Ntep.test"
    # api: on a secure session, the App-ID of the enrolment (4126 otherwise)
    body = body_of(TY_AE, {"rn": name, "api": api, "rr": False, "srv": ["3"]})
    url = "%s/%s" % (peer.base, cse.name)
    for _ in range(5):  # tep-cse learns a new Kpsa from the enroller's event stream
        r, trace = thirdparty.coap_client(variant, url, "post", peer.originator, ty=TY_AE,
                                          body=body, psk=peer.psk)
        if r is not None:
            break
        time.sleep(0.5)
    assert r is not None and (r.rsc, r.code) == (2001, "2.01"), "%s\n%s\n%s" % (
        r, trace[-3000:], cse.platform.logs())
    peer.originator = r.resource(TY_AE)["aei"]
    # tep-cse saw it on the DTLS session (secure=1), From bound to the session's identity
    cse.platform["cse"].wait_log(r"event=request op=create path=%s originator=%s secure=%d "
                                 r"rsc=2001" % (cse.name, re.escape(peer.originator),
                                                int(secure)), 5)
    return peer, r.location


def test_crud(cse, client):
    c, ae = _register(cse, client, "crud")
    got = c.retrieve(ae)
    assert (got.rsc, got.code) == (2000, "2.05") and got.resource(TY_AE)["aei"] == c.originator

    cnt = c.create(ae, TY_CNT, {"rn": "box", "lbl": ["k:v"]})
    assert (cnt.rsc, cnt.code, cnt.location) == (2001, "2.01", ae + "/box"), str(cnt)
    cin = c.create(cnt.location, TY_CIN, {"con": "hello-coap-client"})
    assert (cin.rsc, cin.code) == (2001, "2.01"), str(cin)
    got = c.retrieve(cin.location)
    assert got.rsc == 2000 and got.resource(TY_CIN)["con"] == "hello-coap-client", str(got)
    latest = c.retrieve(cnt.location + "/la")
    assert latest.rsc == 2000 and latest.resource(TY_CIN)["con"] == "hello-coap-client"

    upd = c.update(cnt.location, TY_CNT, {"lbl": ["k:w"]})
    assert (upd.rsc, upd.code) == (2004, "2.04") and upd.resource(TY_CNT)["lbl"] == ["k:w"]
    assert c.retrieve(cnt.location).resource(TY_CNT)["lbl"] == ["k:w"]

    for path in (cin.location, cnt.location, ae):
        d = c.delete(path)
        assert (d.rsc, d.code) == (2002, "2.02"), str(d)
    gone = c.retrieve(cnt.location)
    assert (gone.rsc, gone.code) == (4004, "4.04"), str(gone)


@pytest.mark.parametrize("variant", [v for v, secure in CLIENTS if secure])
def test_a_client_restarted_on_the_same_port_is_answered(cse, variant):
    """A device that restarts and sends from the port of its last DTLS session (no
    close_notify: coap-client is killed once answered, as a device that loses power)
    starts a new association there: tep-cse answers its ClientHello at once (RFC 6347
    4.2.8; patches/README.md item 8) instead of feeding it to the old session, whose
    DTLS state dropped it until the idle timeout ([dtls] idle_timeout_s, 300 s). The
    kernel hands out a recently used ephemeral port often enough that this lost a
    request in 3 of 50 runs of this module."""
    if COAP_CLIENTS[variant] is None:
        pytest.skip("coap-client-%s (libcoap3-bin) missing" % variant)
    c, ae = _register(cse, (variant, True), "port")
    port = free_udp_ports(1)[0]
    url = "%s/%s" % (c.base, ae)
    for run in ("first", "restarted"):
        r, trace = thirdparty.coap_client(variant, url, "get", c.originator, psk=c.psk,
                                          rqi="cc-%s-%d" % (run, next(_names)),
                                          local_port=port)
        assert r is not None and r.rsc == 2000, "%s run: %s\n%s\n%s" % (
            run, r, trace[-3000:], cse.platform["cse"].tail())
        assert "127.0.0.1:%d <-> " % port in trace, trace[-3000:]  # from that port


def test_discovery(cse, client):
    c, ae = _register(cse, client, "disc")
    for rn, lbl in (("red", "color:red"), ("blue", "color:blue")):
        assert c.create(ae, TY_CNT, {"rn": rn, "lbl": [lbl]}).rsc == 2001
    r = c.retrieve(ae, query="fu=1&ty=%d" % TY_CNT)
    assert r.rsc == 2000, str(r)
    assert sorted(u.rstrip("/").split("/")[-1] for u in r.json["m2m:uril"]) == ["blue", "red"], \
        str(r)
    r = c.retrieve(ae, query="fu=1&lbl=color:red")
    assert r.rsc == 2000 and [u.split("/")[-1] for u in r.json["m2m:uril"]] == ["red"], str(r)


@pytest.mark.skipif(not thirdparty.COAPTHON, reason="coapthon3 (the notification target) missing")
def test_subscription_notification_reaches_its_target(cse, client):
    c, ae = _register(cse, client, "sub")
    cnt = c.create(ae, TY_CNT, {"rn": "watched"}).location
    target = thirdparty.CoapthonNotificationTarget(free_udp_ports(1)[0])
    try:
        sub = c.create(cnt, TY_SUB, {"rn": "s", "nu": [target.uri],
                                     "enc": {"net": [NET_CREATE_CHILD]}, "nct": 1})
        assert (sub.rsc, sub.code) == (2001, "2.01"), "%s\n%s" % (sub, cse.platform.logs())
        vrq = target.wait(lambda b: b.get("m2m:sgn", {}).get("vrq") is True)
        assert vrq is not None and vrq["m2m:sgn"].get("cr") == c.originator, target.received
        assert c.create(cnt, TY_CIN, {"con": "event!"}).rsc == 2001
        ntf = target.wait(lambda b: "nev" in b.get("m2m:sgn", {}))
        assert ntf is not None, target.received
        sgn = ntf["m2m:sgn"]
        assert sgn["nev"]["net"] == NET_CREATE_CHILD and sgn["nev"]["rep"]["m2m:cin"][
            "con"] == "event!", sgn
        got = c.retrieve(sub.location)
        assert got.rsc == 2000 and got.resource(TY_SUB)["nu"] == [target.uri]
        assert c.delete(sub.location).rsc == 2002
    finally:
        target.close()


def test_access_permit_and_4103(cse, client):
    owner, ae = _register(cse, client, "own")
    other, _ = _register(cse, client, "other")
    cnt = owner.create(ae, TY_CNT, {"rn": "shared"})
    assert (cnt.rsc, cnt.code) == (2001, "2.01"), "%s\n%s\n%s" % (
        cnt, owner.trace[-3000:], cse.platform.logs())
    cnt = cnt.location
    assert owner.create(cnt, TY_CIN, {"con": "for a reader"}).rsc == 2001

    denied = other.retrieve(cnt + "/la")
    assert (denied.rsc, denied.code) == (4103, "4.03"), str(denied)

    acp = owner.create(ae, TY_ACP, {
        "rn": "readers", "pv": {"acr": [{"acor": [other.originator], "acop": RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert acp.rsc == 2001, str(acp)
    upd = owner.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]})
    assert upd.rsc == 2004, str(upd)

    permitted = other.retrieve(cnt + "/la")
    assert (permitted.rsc, permitted.code) == (2000, "2.05"), str(permitted)
    assert permitted.resource(TY_CIN)["con"] == "for a reader"
    still = other.delete(cnt)
    assert (still.rsc, still.code) == (4103, "4.03"), str(still)
    assert cse.platform["cse"].alive()
