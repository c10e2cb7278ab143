"""306: group resources and fan-out.
TS-0001 V3.36 9.6.13 / TS-0004 V3.32 7.4.13 (group: mid, mt, mnm, cnm, mtv; members of
another type than mt: 4110 GROUP_MEMBER_TYPE_INCONSISTENT; more than mnm members: 6010
MAX_NUMBER_OF_MEMBER_EXCEEDED), TS-0004 7.3.x / TS-0001 10.2.7.x (fanOutPoint `fopt`:
the request is sent to every member and the answers come back aggregated, m2m:agr)."""

import pytest

from onem2m_client import TY_CIN, TY_CNT, TY_GRP


@pytest.fixture(scope="module")
def members(cse):
    """(client, AE path, [container paths]) with one contentInstance in each."""
    c, path, _ = cse.ae("Cgrp01", "grp01")
    cnts = []
    for i in range(2):
        cnt = c.create(path, TY_CNT, {"rn": "m%d" % i}).location
        c.create(cnt, TY_CIN, {"con": "member-%d" % i})
        cnts.append(cnt)
    return c, path, cnts


def test_group_create_counts_members(members):
    c, path, cnts = members
    r = c.create(path, TY_GRP, {"rn": "g-count", "mt": TY_CNT, "mid": cnts, "mnm": 5})
    assert r.rsc == 2001, str(r)
    grp = r.resource(TY_GRP)
    assert grp["cnm"] == 2 and grp["mnm"] == 5 and grp["mt"] == TY_CNT, grp
    assert c.retrieve(r.location).resource(TY_GRP)["mid"] == grp["mid"]


def test_group_missing_mid_is_4000(members):
    c, path, _ = members
    r = c.create(path, TY_GRP, {"rn": "g-nomid", "mt": TY_CNT, "mnm": 5})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_more_members_than_mnm_is_refused(members):
    c, path, cnts = members
    r = c.create(path, TY_GRP, {"rn": "g-mnm", "mt": TY_CNT, "mid": cnts, "mnm": 1})
    assert r.rsc == 6010 and r.code == "4.00", str(r)


def test_member_of_another_type_is_4110(cse, members):
    c, path, cnts = members
    r = c.create(path, TY_GRP, {"rn": "g-mt", "mt": TY_CIN, "mid": cnts, "mnm": 5, "csy": 1})
    assert (r.rsc, r.code) == (4110, "4.00"), str(r)


def test_fanout_retrieve_aggregates_member_answers(members):
    """TS-0004 7.3.x fanOutPoint: RETRIEVE <group>/fopt -> m2m:agr with one m2m:rsp per
    member, each with its rsc and pc."""
    c, path, cnts = members
    g = c.create(path, TY_GRP, {"rn": "g-fan", "mt": TY_CNT, "mid": cnts, "mnm": 5})
    assert g.rsc == 2001, str(g)
    r = c.retrieve(g.location + "/fopt")
    assert r.rsc == 2000, str(r)
    rsps = r.json["m2m:agr"]["m2m:rsp"]
    assert len(rsps) == 2 and all(x["rsc"] == 2000 for x in rsps), rsps
    assert sorted(x["pc"]["m2m:cnt"]["rn"] for x in rsps) == ["m0", "m1"]


def test_fanout_create_reaches_every_member(members):
    """fopt with a path below it: CREATE <group>/fopt creates in every member."""
    c, path, cnts = members
    g = c.create(path, TY_GRP, {"rn": "g-fan-c", "mt": TY_CNT, "mid": cnts, "mnm": 5})
    r = c.create(g.location + "/fopt", TY_CIN, {"con": "to all"})
    assert r.rsc == 2000 and len(r.json["m2m:agr"]["m2m:rsp"]) == 2, str(r)
    for cnt in cnts:
        assert c.retrieve(cnt).resource(TY_CNT)["cni"] == 2
