"""141: requests retargeted across CSEs, hop by hop over the CSE-to-CSE security
association. TS-0001 V3.36 8.2.1.1 (routing by the <remoteCSE> resources; the registrar
as default route of an MN-CSE; the IN-CSE answers an unknown CSE-ID), TS-0004 V3.32
7.3.2.6 (Forwarding: NOT_FOUND without a match; a CSE-relative From made SP-relative),
TS-0003 7.1.2 (access decided at the hosting CSE; an originator registered with another
CSE is not authenticated there), 7.2.1 (a gateway may not speak for an originator that is
not behind it: 4106), 10.7 (a revoked gateway: its session closed, its devices
unreachable).

A device enrolled for the MN-CSE /mn1 (`--target /mn1`) stores data there; an
application enrolled at the IN-CSE reads it through the IN-CSE with an SP-relative
address; the MN-CSE's policies decide."""

import select
import socket
import threading

import pytest

from harness import ae_path, gateway_with_device, until_rsc
from onem2m_client import OneM2MClient

TY_ACP = 1


@pytest.fixture(scope="module")
def gw():
    with gateway_with_device("21.5C", acp=False) as g:
        yield g


def _remote(p, mn, path):
    return "~/%s/%s" % (mn.cse_id.lstrip("/"), path)


def test_device_at_the_mn_cse(gw):
    p, mn, dev, app, mn_admin = gw
    r = dev.run("retrieve", "mn1/Cgwdev/data/la")
    assert r.rc == 0 and r.rsc == 2000 and "21.5C" in r.out, "%s\n%s" % (r, mn.tail())


def test_in_application_reads_through_the_in_cse_access_at_the_mn(gw):
    """Denied by the hosting CSE's policy first (4103 comes back from the MN-CSE), then
    permitted for the application's SP-relative ID once the MN-CSE's policy names it."""
    p, mn, dev, app, mn_admin = gw
    path = _remote(p, mn, "mn1/Cgwdev/data/la")
    r = app.run("retrieve", path)
    assert r.rsc == 4103, "%s\n%s" % (r, mn.tail())
    assert "originator=/tep-cse/Capp1" in mn.log(), mn.tail()  # From made SP-relative
    acp = {"rn": "acp-app1",
           "pv": {"acr": [{"acor": ["/tep-cse/Capp1"], "acop": 2}]},
           "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}
    r = mn_admin.create("mn1", TY_ACP, acp)
    assert r.rsc == 2001, str(r)
    ri = r.resource(TY_ACP)["ri"]
    r = mn_admin.update("mn1/Cgwdev/data", 3, {"acpi": [ri]})
    assert r.rsc == 2004, str(r)
    r = app.run("retrieve", path)
    assert r.rsc == 2000 and "21.5C" in r.out, "%s\n%s\n%s" % (r, mn.tail(), p["cse"].tail())


def test_unknown_cse_id_is_4004(gw):
    """At the IN-CSE directly, and from the device: its MN-CSE sends it up to the
    registrar, which has no route either."""
    p, mn, dev, app, mn_admin = gw
    r = app.run("retrieve", "~/nosuch/base/x")
    assert r.rsc == 4004, str(r)
    r = dev.run("retrieve", "~/nosuch/base/x")
    assert r.rsc == 4004, "%s\n%s" % (r, mn.tail())
    assert "hop=/tep-cse" in mn.log(), mn.tail()


def test_device_reads_at_the_in_cse(gw):
    """The other way: From /mn1/Cgwdev at the IN-CSE, decided by the IN-CSE's policies
    (no ACP names it: 4103, an answer of the hosting IN-CSE)."""
    p, mn, dev, app, mn_admin = gw
    r = dev.run("retrieve", "~/tep-cse/%s" % ae_path(p, app))
    assert r.rsc == 4103, "%s\n%s" % (r, p["cse"].tail())
    assert "originator=/mn1/Cgwdev" in p["cse"].log(), p["cse"].tail()


class _Relay:
    """A UDP relay on the loopback to port: what one client sends reaches port, and the
    answers come back (a path back to a CSE that is not the CSE's own address)."""

    def __init__(self, port):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(("127.0.0.1", port))
        self.uri = "coap://127.0.0.1:%d" % self.front.getsockname()[1]
        self.client, self.stop = None, threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop.is_set():
            ready, _, _ = select.select([self.front, self.back], [], [], 0.1)
            if self.front in ready:
                data, self.client = self.front.recvfrom(65535)
                self.back.send(data)
            if self.back in ready:
                data = self.back.recv(65535)
                if self.client is not None:
                    self.front.sendto(data, self.client)

    def close(self):
        self.stop.set()
        self.t.join()
        self.front.close()
        self.back.close()


def test_forwarding_loop_is_answered(gw):
    """A <remoteCSE> whose poa leads back to this CSE (through a relay: its own address
    is refused at once, integration 240): the request comes round with the same From and
    RQI and is answered 4004 instead of going round again."""
    p, mn, dev, app, mn_admin = gw
    relay = _Relay(p.ports["cse_coap"])
    try:
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "/loopy") as c:
            r = c.create(p.env["CSE_NAME"], 16, {"cb": "/loopy/b", "rr": True, "srv": ["3"],
                                                "poa": [relay.uri]})
            assert r.rsc == 2001, str(r)
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
            r = c.retrieve("~/loopy/b/x")
            assert r.rsc == 4004 and "forwarding_loop" in (r.dbg or ""), str(r)
            assert c.delete("%s/loopy" % p.env["CSE_NAME"]).rsc == 2002
    finally:
        relay.close()


def test_revoked_gateway_cuts_its_devices_off(gw):
    """Last (it revokes the gateway): its session at the IN-CSE is closed, and a request
    for its devices is TARGET_NOT_REACHABLE within a second."""
    p, mn, dev, app, mn_admin = gw
    path = _remote(p, mn, "mn1/Cgwdev/data/la")
    assert app.run("retrieve", path).rsc == 2000
    r = p.tepctl("enrolee", "revoke", "mn1")
    assert r.rc == 0, str(r)
    until_rsc(lambda: app.run("retrieve", path), 5103, 1.0, p["cse"])
    assert "event=session_closed" in p["cse"].log(), p["cse"].tail()
