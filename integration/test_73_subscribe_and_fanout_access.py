"""73: subscribing needs Retrieve on the subscribed-to resource, and a group's fanOutPoint
is checked against the group before any fan-out, in both decision modes. The attacks: a
write-only AE (Create) subscribed to a container and received every instance by
notification; a stranger retrieved <group>/fopt and read the group's member IDs.
TS-0004 V3.32 7.4.8.2.1 Recv-6.3 ("Check if the Originator has privileges for retrieving
the subscribed-to resource ... ORIGINATOR_HAS_NO_PRIVILEGE"), in addition to Create
(7.3.3.15), TS-0001 V3.36 9.6.8 and 10.2.10.2; TS-0001 9.6.14 (<fanOutPoint> has no acpi:
the group's membersAccessControlPolicyIDs decides) and 10.2.7.6-10.2.7.10 ("Check if the
Originator has ... privilege in the <accessControlPolicy> resource referenced by the
membersAccessControlPolicyIDs ... In the case membersAccessControlPolicyIDs is not
provided the access control policy defined for the <group> resource shall be used";
then the members); docs/access-control.md "Who decides what"."""

import json

import pytest

from harness import free_udp_ports
from onem2m_client import NotificationTarget, TY_ACP, TY_CIN, TY_CNT, TY_GRP, TY_SUB

ALL_OPS, CREATE, RETRIEVE = 63, 1, 2


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def site(cse):
    """(owner, owner path, writer: Create only, reader: Create+Retrieve, stranger,
    container path)."""
    owner, path, _ = cse.ae("Cpol-owner", "pol-owner")
    writer, _, _ = cse.ae("Cpol-writer", "pol-writer")
    reader, _, _ = cse.ae("Cpol-reader", "pol-reader")
    stranger, _, _ = cse.ae("Cpol-stranger", "pol-stranger")
    acp = owner.create(path, TY_ACP, {
        "rn": "acp-site",
        "pv": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS},
                       {"acor": [writer.originator], "acop": CREATE},
                       {"acor": [reader.originator], "acop": CREATE | RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert acp.rsc == 2001, str(acp)
    cnt = owner.create(path, TY_CNT, {"rn": "site", "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert cnt.rsc == 2001, str(cnt)
    return owner, path, writer, reader, stranger, cnt.location


def _subscribe(c, cnt, target, rn):
    return c.create(cnt, TY_SUB, {"rn": rn, "nu": [target.uri], "enc": {"net": [3]},
                                  "nct": 1})


def test_write_only_ae_cannot_subscribe(site):
    """Create alone: 4103, no verification request and no notification reach its target."""
    owner, _, writer, _, _, cnt = site
    target = NotificationTarget(writer, free_udp_ports(1)[0])
    try:
        r = _subscribe(writer, cnt, target, "sub-writer")
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
        assert owner.create(cnt, TY_CIN, {"con": "secret"}).rsc == 2001
        assert target.wait(1, timeout=1.0) == [], "the write-only AE was contacted"
    finally:
        target.close()


def test_reader_subscribes_and_is_notified(site):
    """Create+Retrieve: the subscription is made and the next instance is notified."""
    owner, _, _, reader, _, cnt = site
    target = NotificationTarget(reader, free_udp_ports(1)[0])
    try:
        r = _subscribe(reader, cnt, target, "sub-reader")
        assert r.rsc == 2001, str(r)
        target.wait(1)  # the verification request
        assert owner.create(cnt, TY_CIN, {"con": "for-reader"}).rsc == 2001
        got = target.wait(2, timeout=5.0)
        bodies = [json.loads(m.payload) for m in got]
        assert any(b.get("m2m:sgn", {}).get("nev", {}).get("rep", {})
                   .get("m2m:cin", {}).get("con") == "for-reader" for b in bodies), bodies
    finally:
        target.close()


def _group(owner, path, rn, mids, **extra):
    g = owner.create(path, TY_GRP, dict({"rn": rn, "mt": TY_CNT, "mid": mids, "mnm": 10},
                                        **extra))
    assert g.rsc == 2001, str(g)
    return g


def test_stranger_gets_4103_at_fopt_and_no_member_ids(site):
    """A stranger retrieving or writing through <group>/fopt: 4103 before any fan-out; the
    answer names no member."""
    owner, path, _, _, stranger, cnt = site
    g = _group(owner, path, "grp-private", [cnt])
    mid = g.resource(TY_GRP)["mid"][0]
    for r in (stranger.retrieve(g.location + "/fopt"),
              stranger.create(g.location + "/fopt", TY_CIN, {"con": "x"}),
              stranger.delete(g.location + "/fopt")):
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
        assert mid not in r.payload.decode() and "m2m:agr" not in r.payload.decode(), str(r)
    assert owner.retrieve(cnt).rsc == 2000  # the delete reached nothing
    r = owner.retrieve(g.location + "/fopt")
    assert r.rsc == 2000 and len(r.json["m2m:agr"]["m2m:rsp"]) == 1, str(r)


def test_macp_decides_the_fanout(site):
    """With macp, its ACP (not the group's acpi) opens fopt: the reader granted Retrieve
    there reads through the fan-out (each member still decides: 2000 for the container it
    may read); the stranger, not in macp, 4103; a macp granting the stranger Retrieve
    lets it in, and the member then refuses it (rsc 4103 in the aggregate)."""
    owner, path, _, reader, stranger, cnt = site
    macp = owner.create(path, TY_ACP, {
        "rn": "acp-members", "pv": {"acr": [{"acor": [reader.originator], "acop": RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    g = _group(owner, path, "grp-macp", [cnt], macp=[macp.resource(TY_ACP)["ri"]])
    r = reader.retrieve(g.location + "/fopt")
    assert r.rsc == 2000 and [x["rsc"] for x in r.json["m2m:agr"]["m2m:rsp"]] == [2000], str(r)
    assert reader.retrieve(g.location).rsc == 4103  # the group itself: its own policy
    r = stranger.retrieve(g.location + "/fopt")
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    open_macp = owner.create(path, TY_ACP, {
        "rn": "acp-members-all", "pv": {"acr": [{"acor": ["all"], "acop": RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    g2 = _group(owner, path, "grp-macp-all", [cnt], macp=[open_macp.resource(TY_ACP)["ri"]])
    r = stranger.retrieve(g2.location + "/fopt")
    assert r.rsc == 2000 and [x["rsc"] for x in r.json["m2m:agr"]["m2m:rsp"]] == [4103], str(r)


def test_macp_must_name_policies(site):
    """macp entries are ACP IDs like acpi: an unknown one is 4000."""
    owner, path, _, _, _, cnt = site
    r = owner.create(path, TY_GRP, {"rn": "grp-bad-macp", "mt": TY_CNT, "mid": [cnt],
                                    "mnm": 10, "macp": ["no-such-acp"]})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)
