"""25: group fan-out UPDATE and DELETE. TS-0004 V3.32 7.4.14 (<fanOutPoint>: a request to
<group>/fopt goes to every member, to <group>/fopt/x/y to each member's x/y; 7.4.14.2
UPDATE and DELETE, the member answers aggregated in m2m:agr, one m2m:rsp per member
with its own rsc) and TS-0001 10.2.7.x: each member's request is access-checked on its
own, as the originator of the fan-out (docs/cse.md "group"). A member the originator may
not write is refused (4103) and left as it was while the others change; a member that
is gone is 4004 in the same m2m:rsp shape (rsc, rqi, fr, to, pc)."""

import pytest

from onem2m_client import TY_CIN, TY_CNT, TY_GRP


@pytest.fixture
def group(cse, request):
    """(owner client, group path, [own containers], foreign container): a group of the
    owner's two containers (one contentInstance each) and a container of another AE."""
    tag = request.node.name[-12:].replace("[", "").replace("]", "")
    c, path, _ = cse.ae("Cfan" + tag, "fan-" + tag)
    o, opath, _ = cse.ae("Cown" + tag, "own-" + tag)
    mine = []
    for i in range(2):
        cnt = c.create(path, TY_CNT, {"rn": "m%d" % i}).location
        assert c.create(cnt, TY_CIN, {"con": "v%d" % i}).rsc == 2001
        mine.append(cnt)
    foreign = o.create(opath, TY_CNT, {"rn": "foreign", "lbl": ["theirs"]}).location
    assert o.create(foreign, TY_CIN, {"con": "keep"}).rsc == 2001
    g = c.create(path, TY_GRP, {"rn": "g", "mt": TY_CNT, "mid": mine + [foreign], "mnm": 5})
    assert g.rsc == 2001, str(g)
    return c, g.location, mine, foreign, o


def _rsps(r):
    assert (r.rsc, r.code) == (2000, "2.04"), str(r)
    return {x["to"]: x for x in r.json["m2m:agr"]["m2m:rsp"]}


def test_fanout_update_changes_the_members_it_may_and_no_other(cse, group):
    c, g, mine, foreign, o = group
    r = c.update(g + "/fopt", TY_CNT, {"lbl": ["fanned"], "mni": 5}, rqi="fan-upd")
    rsps = _rsps(r)
    assert sorted(rsps) == sorted(mine + [foreign]), rsps
    for cnt in mine:
        x = rsps[cnt]
        assert (x["rsc"], x["rqi"], x["fr"]) == (2004, "fan-upd", cse.env["CSE_ID"]), x
        assert x["pc"]["m2m:cnt"]["lbl"] == ["fanned"], x
        got = c.retrieve(cnt).resource(TY_CNT)
        assert (got["lbl"], got["mni"]) == (["fanned"], 5), got
    assert rsps[foreign]["rsc"] == 4103, rsps[foreign]
    assert rsps[foreign]["pc"] == {"m2m:dbg": "ORIGINATOR_HAS_NO_PRIVILEGE"}
    assert o.retrieve(foreign).resource(TY_CNT)["lbl"] == ["theirs"]


def test_fanout_update_with_a_bad_body_changes_nothing(group):
    """Each member validates the body (a read-only attribute: 4000 naming it)."""
    c, g, mine, foreign, o = group
    rsps = _rsps(c.update(g + "/fopt", TY_CNT, {"ri": "x", "lbl": ["no"]}))
    for cnt, x in rsps.items():
        assert (x["rsc"], x["pc"]) == (4000, {"m2m:dbg": "BAD_REQUEST: "
                                              "unknown_or_readonly_attribute:ri"}), x
    for cnt in mine:
        assert "lbl" not in c.retrieve(cnt).resource(TY_CNT)
    assert o.retrieve(foreign).resource(TY_CNT)["lbl"] == ["theirs"]


def test_fanout_delete_below_fopt_reaches_each_members_child(cse, group):
    """DELETE <group>/fopt/la: the latest contentInstance of each member."""
    c, g, mine, foreign, o = group
    rsps = _rsps(c.delete(g + "/fopt/la"))
    for cnt in mine:
        assert rsps[cnt]["rsc"] == 2002, rsps[cnt]
        assert c.retrieve(cnt).resource(TY_CNT)["cni"] == 0
    assert rsps[foreign]["rsc"] == 4103, rsps[foreign]
    assert o.retrieve(foreign + "/la").resource(TY_CIN)["con"] == "keep"


def test_fanout_delete_removes_the_members_it_may_and_reports_the_gone(cse, group):
    c, g, mine, foreign, o = group
    rsps = _rsps(c.delete(g + "/fopt", rqi="fan-del"))
    for cnt in mine:
        assert (rsps[cnt]["rsc"], rsps[cnt]["rqi"]) == (2002, "fan-del"), rsps[cnt]
        assert c.retrieve(cnt).rsc == 4004
    assert rsps[foreign]["rsc"] == 4103
    assert o.retrieve(foreign).rsc == 2000
    # the group itself stays; its members that are gone answer 4004, same shape
    assert c.retrieve(g).rsc == 2000
    rsps = _rsps(c.delete(g + "/fopt", rqi="fan-again"))
    for cnt in mine:
        assert rsps[cnt] == {"rsc": 4004, "rqi": "fan-again", "fr": cse.env["CSE_ID"],
                             "to": cnt, "pc": {"m2m:dbg": "NOT_FOUND"}}, rsps[cnt]
    assert rsps[foreign]["rsc"] == 4103
