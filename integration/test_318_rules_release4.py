"""318: attributes of later releases, by the request's RVI (docs/cse.md "Resource rules:
all types" and "Release 4 attributes").
TS-0004 V3.32 6.4.1 (Release Version Indicator: the release whose primitives the
request complies with; absent only towards Release 1, 7.2.1.1), TS-0001 Release 4 9.6.1.3 (custodian: takes the
creator's place in the default access policy), 9.6.7 (contentInstance dataGenerationTime
and deletionCnt: the instance is deleted after it has been retrieved deletionCnt times).
A client asking for RVI 4 or 5 may send them and gets their semantics; one of an older
RVI gets 4000 and nothing is written."""

import pytest

from onem2m_client import TY_CIN, TY_CNT


# Both decision modes: the custodian reaches tep-authz's PDP and the local one.
CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Crel4", "rel4")
    return c, path


def _cnt(ae, rn, **kw):
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": rn}, **kw)
    assert r.rsc == 2001, str(r)
    return r.location


@pytest.mark.parametrize("rvi", [None, "1", "2", "2a", "3"])
def test_release4_attributes_refused_for_an_older_rvi(ae, rvi):
    c, path = ae
    cnt = _cnt(ae, "old-%s" % rvi)
    r = c.create(cnt, TY_CIN, {"con": "x", "dgt": "20260101T000000"}, rvi=rvi)
    assert (r.rsc, r.dbg) == (4000, "BAD_REQUEST: attribute_needs_release_4:dgt"), str(r)
    r = c.create(cnt, TY_CIN, {"con": "x", "dcnt": 1}, rvi=rvi)
    assert (r.rsc, r.dbg) == (4000, "BAD_REQUEST: attribute_needs_release_4:dcnt"), str(r)
    assert c.retrieve(cnt).resource(TY_CNT)["cni"] == 0
    r = c.create(path, TY_CNT, {"rn": "cst-%s" % rvi, "cstn": "Cboss"}, rvi=rvi)
    assert (r.rsc, r.dbg) == (4000, "BAD_REQUEST: attribute_needs_release_4:cstn"), str(r)
    assert c.retrieve(path + "/cst-%s" % rvi).rsc == 4004
    u = c.update(cnt, TY_CNT, {"cstn": "Cboss"}, rvi=rvi)
    assert (u.rsc, u.dbg) == (4000, "BAD_REQUEST: attribute_needs_release_4:cstn"), str(u)


@pytest.mark.parametrize("rvi", ["4", "5"])
def test_data_generation_time_kept(ae, rvi):
    c, _ = ae
    cnt = _cnt(ae, "dgt-" + rvi)
    r = c.create(cnt, TY_CIN, {"con": "x", "dgt": "20260101T120000,5"}, rvi=rvi)
    assert r.rsc == 2001 and r.resource(TY_CIN)["dgt"] == "20260101T120000,5", str(r)
    r = c.create(cnt, TY_CIN, {"con": "x", "dgt": "2026-01-01"}, rvi=rvi)
    assert (r.rsc, r.dbg) == (4000, "BAD_REQUEST: bad_value:dgt"), str(r)


def test_deletion_cnt_deletes_after_that_many_retrievals(ae):
    c, _ = ae
    cnt = _cnt(ae, "dcnt")
    r = c.create(cnt, TY_CIN, {"con": "twice", "dcnt": 2}, rvi="4")
    assert r.rsc == 2001, str(r)
    cin = r.location
    assert c.retrieve(cin, rvi="4").resource(TY_CIN)["dcnt"] == 2
    assert c.retrieve(cin, rvi="4").resource(TY_CIN)["dcnt"] == 1
    assert c.retrieve(cin, rvi="4").rsc == 4004
    assert c.retrieve(cnt).resource(TY_CNT)["cni"] == 0
    for bad in (0, -1, "2"):
        r = c.create(cnt, TY_CIN, {"con": "x", "dcnt": bad}, rvi="4")
        assert (r.rsc, r.dbg) == (4000, "BAD_REQUEST: bad_value:dcnt"), str(r)


def test_custodian_takes_the_creators_place(cse, ae):
    """Without acpi only the creator may access a resource (TS-0001 9.6.1.3.2); with a
    custodian, the custodian may and the creator no longer may."""
    c, path = ae
    boss = cse.client("Cboss-rel4")
    r = c.create(path, TY_CNT, {"rn": "kept", "cstn": "Cboss-rel4"}, rvi="5")
    assert r.rsc == 2001 and r.resource(TY_CNT)["cstn"] == "Cboss-rel4", str(r)
    cnt = r.location
    assert boss.retrieve(cnt).rsc == 2000
    assert c.retrieve(cnt).rsc == 4103
    # the custodian hands it back (UPDATE cstn: an RVI 4 request)
    u = boss.update(cnt, TY_CNT, {"cstn": "Crel4"}, rvi="4")
    assert u.rsc == 2004, str(u)
    assert c.retrieve(cnt).rsc == 2000 and boss.retrieve(cnt).rsc == 4103
    assert cse.client("Cstranger-rel4").delete(cnt).rsc == 4103
    assert c.delete(cnt).rsc == 2002
