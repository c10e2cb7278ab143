"""240: tep-cse does not send requests to this host's loopback or link-local services,
nor to itself, for a client (server-side request forgery through notifications and
forwarding). TS-0001 V3.36 10.2.10 / TS-0004 7.3.8.2.1 and 7.5.1 (tep-cse sends the
verification request and the notifications to each nu, an AE-ID's through its poa),
TS-0004 7.3.2.6 (a request forwarded to a registered CSE's pointOfAccess).

Attack: an AE names as its poa, or a subscription's nu, a service on the CSE host's
loopback (here a UDP socket on 127.0.0.1 standing for any local service that trusts the
host: plain CoAP admin ports, a metadata service on 169.254.169.254); a CSE registers
with such a coap:// poa. tep-cse sent the verification, every notification, and every
request routed to that CSE there. Now a target on the loopback, unspecified, link-local,
multicast or broadcast addresses is refused unless inside `[cse] local_targets` (empty by
default), and this CSE's own ports always: a subscription is 5204
SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, a forward 5103 TARGET_NOT_REACHABLE
(`next_hop_target_not_allowed`), a notification is not sent; the log says
`event=target_refused`."""

import socket

import pytest

from onem2m_client import CseSession, TY_AE, TY_CIN, TY_CNT, TY_SUB

TY_CSR = 16


class Victim:
    """A UDP service on the loopback that records every datagram it gets."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.setblocking(False)
        self.uri = "coap://127.0.0.1:%d/svc" % self.s.getsockname()[1]

    def got(self):
        n = 0
        while True:
            try:
                self.s.recv(65535)
                n += 1
            except BlockingIOError:
                return n


@pytest.fixture(scope="module")
def strict():
    s = CseSession(local_targets="")  # tep-cse's default
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def victim():
    v = Victim()
    yield v
    v.s.close()


def _container(s, originator, rn, **attrs):
    c, ae, _ = s.ae(originator, rn, **attrs)
    r = c.create(ae, TY_CNT, {"rn": "box"})
    assert r.rsc == 2001, str(r)
    return c, ae + "/box"


def test_nu_on_loopback_or_link_local_is_refused(strict, victim):
    c, cnt = _container(strict, "Cssrf1", "ssrf1")
    for i, nu in enumerate([victim.uri, "coap://[::1]:%s/svc" % victim.uri.rsplit(":", 1)[1],
                            "coap://169.254.169.254:5683/latest", "coap://0.0.0.0:5683/"]):
        r = c.create(cnt, TY_SUB, {"rn": "s%d" % i, "nu": [nu], "enc": {"net": [3]}})
        assert r.rsc == 5204, "%s %s" % (nu, r)
    assert victim.got() == 0
    log = strict.platform["cse"].log()
    assert "event=target_refused reason=local_address target=%s" % victim.uri in log


def test_poa_on_loopback_gets_no_notification(strict, victim):
    """The AE's own AE-ID as nu needs no verification; its notifications go to its poa."""
    c, cnt = _container(strict, "Cssrf2", "ssrf2", poa=[victim.uri])
    r = c.create(cnt, TY_SUB, {"rn": "self", "nu": [c.originator], "enc": {"net": [3]}})
    assert r.rsc == 2001, str(r)
    assert c.create(cnt, TY_CIN, {"con": "x"}).rsc == 2001
    strict.platform["cse"].wait_log("event=target_refused reason=local_address target=%s"
                                    % victim.uri, 5)
    assert victim.got() == 0


def test_registree_poa_on_loopback_is_not_forwarded_to(strict, victim):
    """A CSE registered over plain CoAP with a loopback coap:// poa: requests routed to
    it are 5103, and nothing reaches the service."""
    evil = strict.client("/evil")
    r = evil.create(strict.name, TY_CSR, {"csi": "/evil", "cb": "/evil/evil", "rr": True,
                                          "srv": ["3"], "poa": [victim.uri]})
    assert r.rsc == 2001, str(r)
    r = strict.admin.retrieve("~/evil/evil")
    assert r.rsc == 5103 and "next_hop_target_not_allowed" in r.json["m2m:dbg"], str(r)
    assert victim.got() == 0


def test_the_cse_itself_is_refused_even_where_loopback_is_allowed(victim):
    """With the loopback allowed (the test platforms' setting), a nu naming tep-cse's own
    plain CoAP port is still refused (reason own_port); another loopback port is not."""
    s = CseSession()
    try:
        c, cnt = _container(s, "Cssrf3", "ssrf3")
        own = "coap://127.0.0.1:%d/%s" % (s.port, s.name)
        r = c.create(cnt, TY_SUB, {"rn": "own", "nu": [own], "enc": {"net": [3]}})
        assert r.rsc == 5204, str(r)
        assert "event=target_refused reason=own_port" in s.platform["cse"].log()
        r = c.create(cnt, TY_SUB, {"rn": "other", "nu": [victim.uri], "enc": {"net": [3]}})
        assert r.rsc == 5204, str(r)  # sent, not answered
        assert victim.got() >= 1
    finally:
        s.close()
