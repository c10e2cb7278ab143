"""26: subscription events other than the creation of a child (305 has that one).
TS-0004 V3.32 6.3.4.2.19 (m2m:notificationEventType: 1 Update_of_Resource, the default;
2 Delete_of_Resource; 4 Delete_of_Direct_Child_Resource), 7.5.1 (the notification
m2m:sgn carries nev {rep, net} and sur), TS-0001 10.2.10 / TS-0004 7.4.8
(eventNotificationCriteria enc/net selects the events; expirationCounter exc: the
subscription is deleted after that many notifications and subscriberURI su is told,
sud = true). The receiver is an aiocoap server (a CoAP stack nobody here wrote); what is
asserted is what it receives."""

import pytest

from harness import free_udp_ports
from onem2m_client import NotificationTarget, TY_CIN, TY_CNT, TY_SUB

UPDATE, DELETE, CREATE_CHILD, DELETE_CHILD = 1, 2, 3, 4


@pytest.fixture
def watched(cse):
    """(AE client, container path, notification target on the client's loop)."""
    port = free_udp_ports(1)[0]
    c, path, _ = cse.ae("Cev%d" % port, "ev-ae-%d" % port)
    cnt = c.create(path, TY_CNT, {"rn": "watched"}).location
    target = NotificationTarget(c, free_udp_ports(1)[0])
    yield c, cnt, target
    target.close()


def _subscribe(c, parent, target, nets=None, rn="s", **attrs):
    body = dict({"rn": rn, "nu": [target.uri], "nct": 1}, **attrs)
    if nets is not None:
        body["enc"] = {"net": nets}
    r = c.create(parent, TY_SUB, body)
    assert r.rsc == 2001, str(r)
    assert target.wait(1) and target.received[0].json["m2m:sgn"]["vrq"] is True
    return r.location


def _events(target, n, timeout=3.0):
    """The notifications (m2m:sgn with nev) received so far, waiting for n of them."""
    def nevs():
        return [m.json["m2m:sgn"] for m in target.received
                if isinstance(m.json, dict) and "nev" in m.json.get("m2m:sgn", {})]
    target.wait(len(target.received) + max(0, n - len(nevs())), timeout)
    return nevs()


def test_update_of_resource_is_the_default_event(watched):
    c, cnt, target = watched
    sub = _subscribe(c, cnt, target)                      # no enc: net 1 only
    assert c.create(cnt, TY_CIN, {"con": "child"}).rsc == 2001
    assert c.update(cnt, TY_CNT, {"lbl": ["changed"]}).rsc == 2004
    got = _events(target, 1)
    assert len(got) == 1, got                             # the child creation is no event
    assert got[0]["nev"]["net"] == UPDATE and got[0]["sur"] == sub, got
    assert got[0]["nev"]["rep"]["m2m:cnt"]["lbl"] == ["changed"], got


def test_delete_of_direct_child(watched):
    c, cnt, target = watched
    cin = c.create(cnt, TY_CIN, {"con": "to go"}).location
    sub = _subscribe(c, cnt, target, [DELETE_CHILD])
    assert c.update(cnt, TY_CNT, {"lbl": ["x"]}).rsc == 2004      # not selected
    assert c.delete(cin).rsc == 2002
    got = _events(target, 1)
    assert len(got) == 1, got
    assert (got[0]["nev"]["net"], got[0]["sur"]) == (DELETE_CHILD, sub), got
    assert got[0]["nev"]["rep"]["m2m:cin"]["con"] == "to go", got


def test_delete_of_resource_notifies_then_the_subscription_goes_with_it(watched):
    c, cnt, target = watched
    sub = _subscribe(c, cnt, target, [DELETE, UPDATE])
    assert c.delete(cnt).rsc == 2002
    got = _events(target, 1)
    assert len(got) == 1 and got[0]["nev"]["net"] == DELETE and got[0]["sur"] == sub, got
    assert got[0]["nev"]["rep"]["m2m:cnt"]["rn"] == "watched", got
    assert c.retrieve(sub).rsc == 4004


def test_several_events_selected_each_notified_once(watched):
    c, cnt, target = watched
    _subscribe(c, cnt, target, [UPDATE, CREATE_CHILD, DELETE_CHILD])
    cin = c.create(cnt, TY_CIN, {"con": "a"}).location
    c.update(cnt, TY_CNT, {"lbl": ["b"]})
    c.delete(cin)
    got = _events(target, 3)
    # one each (UDP may reorder the CON messages: compared as a set)
    assert sorted(g["nev"]["net"] for g in got) == [UPDATE, CREATE_CHILD, DELETE_CHILD], got


def test_expiration_counter_deletes_the_subscription_and_tells_the_subscriber(watched):
    c, cnt, target = watched
    sub = _subscribe(c, cnt, target, [UPDATE], exc=2, su=target.uri)
    for i in range(3):
        assert c.update(cnt, TY_CNT, {"lbl": ["n%d" % i]}).rsc == 2004
    got = _events(target, 2)
    assert sorted(g["nev"]["rep"]["m2m:cnt"]["lbl"][0] for g in got) == ["n0", "n1"], got
    target.wait(len(target.received) + 1)
    sud = [m.json["m2m:sgn"] for m in target.received
           if isinstance(m.json, dict) and m.json.get("m2m:sgn", {}).get("sud")]
    assert sud == [{"sud": True, "sur": sub}], [m.json for m in target.received]
    assert c.retrieve(sub).rsc == 4004
