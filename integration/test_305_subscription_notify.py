"""305: subscription and notification, with an aiocoap server as the notification target.
TS-0001 V3.36 10.2.10 / TS-0004 V3.32 7.3.8 and 7.4.8 (subscription: nu, enc/net, nct;
verification request to each nu on CREATE, 5204 SUBSCRIPTION_VERIFICATION_INITIATION_FAILED
when the target refuses; a notification per matching event: net 3 = create of a direct
child), TS-0008 6.2.1 (NOTIFY is a POST without oneM2M-TY) and Table 6.2.4-1 (5204 ->
5.00)."""

import pytest

from harness import free_udp_ports
from onem2m_client import NotificationTarget, POST, TY_CIN, TY_CNT, TY_SUB

NET_CREATE_CHILD = 3


@pytest.fixture
def watched(cse):
    """(AE client, container path, notification target on the client's loop)."""
    port = free_udp_ports(1)[0]
    c, path, _ = cse.ae("Csub%d" % port, "sub-ae-%d" % port)
    cnt = c.create(path, TY_CNT, {"rn": "watched"}).location
    target = NotificationTarget(c, free_udp_ports(1)[0])
    yield c, cnt, target
    target.close()


def _subscribe(c, cnt, target, rn="s1"):
    return c.create(cnt, TY_SUB, {"rn": rn, "nu": [target.uri],
                                  "enc": {"net": [NET_CREATE_CHILD]}, "nct": 1})


def test_subscription_create_is_stored(watched):
    c, cnt, target = watched
    r = _subscribe(c, cnt, target)
    assert r.rsc == 2001, str(r)
    sub = r.resource(TY_SUB)
    assert sub["nu"] == [target.uri] and sub["enc"]["net"] == [NET_CREATE_CHILD]
    assert c.retrieve(r.location).resource(TY_SUB)["ri"] == sub["ri"]
    assert c.delete(r.location).rsc == 2002


def test_subscription_without_nu_is_4000(watched):
    c, cnt, _ = watched
    r = c.create(cnt, TY_SUB, {"rn": "no-nu", "enc": {"net": [3]}})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_verification_request_on_create(watched):
    """TS-0004 7.3.8.2.1 (verification): a NOTIFY with vrq=true and the creator."""
    c, cnt, target = watched
    r = _subscribe(c, cnt, target)
    assert r.rsc == 2001, str(r)
    got = target.wait(1)
    assert got, "no verification request reached the target"
    req = got[0]
    assert req.msg.code == POST and req.json["m2m:sgn"]["vrq"] is True, str(req)
    assert req.json["m2m:sgn"].get("cr") == c.originator


def test_refused_verification_is_5204(watched):
    """TS-0004 7.3.8.2.1: the target refuses -> 5204, mapped 5.00; nothing created."""
    c, cnt, target = watched
    target.refuse = 4103
    r = _subscribe(c, cnt, target, rn="refused")
    assert (r.rsc, r.code) == (5204, "5.00"), str(r)
    assert c.retrieve(cnt + "/refused").rsc == 4004


def test_notification_on_child_create(watched):
    """TS-0004 7.5.1: net 3 -> a notification with the new contentInstance (nct 1)."""
    c, cnt, target = watched
    assert _subscribe(c, cnt, target).rsc == 2001
    before = len(target.wait(1))
    c.create(cnt, TY_CIN, {"con": "event!"})
    got = target.wait(before + 1)
    sgns = [m.json.get("m2m:sgn", {}) for m in got[before:] if isinstance(m.json, dict)]
    reps = [s.get("nev", {}).get("rep", {}) for s in sgns]
    assert any(r.get("m2m:cin", {}).get("con") == "event!" for r in reps), [str(m) for m in got]
    assert all(s.get("nev", {}).get("net") == NET_CREATE_CHILD for s in sgns), sgns


def test_notification_target_answers_like_an_ae(cse, watched):
    """Self-check of the test's receiver: a NOTIFY to it is recorded and answered 2.04
    with RSC 2000 and the RQI echoed (so a failure above is the CSE's, not the receiver's)."""
    c, _, target = watched
    sender = cse.client("CAdmin")
    sender.loop.close()
    sender.loop, sender.ctx = c.loop, c.ctx  # same loop as the target
    sender.port = target.port
    r = sender.notify("notify", {"m2m:sgn": {"vrq": True, "sur": "x"}}, rqi="self-1")
    sender.ctx = None  # c owns the context
    assert (r.code, r.rsc, r.rqi) == ("2.04", 2000, "self-1"), str(r)
    assert target.received[-1].json["m2m:sgn"]["vrq"] is True
