"""303: container and contentInstance over the binding.
TS-0001 V3.36 9.6.6/9.6.7 and TS-0004 V3.32 7.4.6/7.4.7 (container: mni, mbs, cni, cbs,
st, la/ol virtual children; contentInstance: con, cnf, cs, st; a contentInstance cannot
be updated), TS-0004 7.3.x (CREATE/RETRIEVE/UPDATE/DELETE), 6.6 (4000 BAD_REQUEST with a
reason, read-only attributes refused)."""

import time

import pytest

from onem2m_client import TY_CIN, TY_CNT


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Ccnt01", "cnt01")
    return c, path


def _cnt(ae, rn, **attrs):
    c, path = ae
    r = c.create(path, TY_CNT, dict({"rn": rn}, **attrs))
    assert r.rsc == 2001, str(r)
    return r.location


def test_container_create_retrieve_delete(ae):
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": "crd", "lbl": ["k:v"]})
    cnt = r.resource(TY_CNT)
    assert (r.rsc, r.code, r.location) == (2001, "2.01", path + "/crd"), str(r)
    assert cnt["ty"] == TY_CNT and cnt["cni"] == 0 and cnt["cbs"] == 0 and cnt["ri"]
    assert cnt["ct"] and cnt["lt"] and cnt["et"] and cnt["lbl"] == ["k:v"]
    assert c.retrieve(r.location).resource(TY_CNT)["ri"] == cnt["ri"]
    d = c.delete(r.location)
    assert (d.rsc, d.code) == (2002, "2.02"), str(d)
    assert c.retrieve(r.location).rsc == 4004


def test_content_instance_attributes_and_counters(ae):
    c, _ = ae
    cnt = _cnt(ae, "counters")
    r = c.create(cnt, TY_CIN, {"con": "21.5", "cnf": "text/plain:0"})
    cin = r.resource(TY_CIN)
    assert r.rsc == 2001 and cin["con"] == "21.5" and cin["cnf"] == "text/plain:0", str(r)
    assert cin["cs"] == 4 and cin["st"] == 0 and cin["ty"] == TY_CIN
    c.create(cnt, TY_CIN, {"con": "abc"})
    got = c.retrieve(cnt).resource(TY_CNT)
    assert (got["cni"], got["cbs"]) == (2, 7), got
    assert got["st"] >= 1


def test_mni_keeps_only_the_newest(ae):
    """TS-0001 9.6.6: with mni reached, the oldest contentInstance is removed."""
    c, _ = ae
    cnt = _cnt(ae, "mni2", mni=2)
    locs = [c.create(cnt, TY_CIN, {"con": "v%d" % i}).location for i in range(3)]
    got = c.retrieve(cnt).resource(TY_CNT)
    assert got["cni"] == 2 and got["cbs"] == 4, got
    assert c.retrieve(locs[0]).rsc == 4004
    assert c.retrieve(locs[2]).resource(TY_CIN)["con"] == "v2"


def test_mbs_limits_bytes(ae):
    c, _ = ae
    cnt = _cnt(ae, "mbs8", mbs=8)
    for v in ("aaaa", "bbbb", "cccc"):
        c.create(cnt, TY_CIN, {"con": v})
    got = c.retrieve(cnt).resource(TY_CNT)
    assert got["cbs"] <= 8 and got["cni"] == 2, got


def test_latest_and_oldest(ae):
    """TS-0004 7.4.6.2.x: <latest> (la) and <oldest> (ol) of a container."""
    c, _ = ae
    cnt = _cnt(ae, "laol")
    for v in ("first", "middle", "last"):
        c.create(cnt, TY_CIN, {"con": v})
    la, ol = c.retrieve(cnt + "/la"), c.retrieve(cnt + "/ol")
    assert la.rsc == 2000 and la.resource(TY_CIN)["con"] == "last", str(la)
    assert ol.rsc == 2000 and ol.resource(TY_CIN)["con"] == "first", str(ol)


def test_container_update(ae):
    """TS-0004 7.3.3.x UPDATE -> 2004, PUT answered 2.04; lt moves, lbl replaced."""
    c, _ = ae
    cnt = _cnt(ae, "upd")
    r = c.update(cnt, TY_CNT, {"lbl": ["new"], "mni": 5})
    assert (r.rsc, r.code) == (2004, "2.04"), str(r)
    got = c.retrieve(cnt).resource(TY_CNT)
    assert got["lbl"] == ["new"] and got["mni"] == 5, got


def test_content_instance_update_not_allowed(ae):
    """TS-0004 7.4.7: a contentInstance cannot be updated -> 4005 OPERATION_NOT_ALLOWED."""
    c, _ = ae
    cnt = _cnt(ae, "cinupd")
    cin = c.create(cnt, TY_CIN, {"con": "fixed"}).location
    r = c.update(cin, TY_CIN, {"con": "changed"})
    assert (r.rsc, r.code) == (4005, "4.05"), str(r)


@pytest.mark.parametrize("ty,attrs", [
    (TY_CNT, {"rn": "ro-ct", "ct": "20200101T000000"}),      # creationTime
    (TY_CNT, {"rn": "ro-cni", "cni": 3}),                    # currentNrOfInstances
    (TY_CNT, {"rn": "ro-ri", "ri": "mine"}),                 # resourceID
    (TY_CIN, {"con": "x", "cs": 1}),                         # contentSize
])
def test_read_only_attribute_refused(ae, ty, attrs):
    """TS-0004 6.6 / 7.4.x: a read-only (RO) attribute in a CREATE -> 4000."""
    c, _ = ae
    parent = _cnt(ae, "ro-parent-%s" % list(attrs)[-1]) if ty == TY_CIN else ae[1]
    r = c.create(parent, ty, attrs)
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


@pytest.mark.parametrize("attrs", [{"rn": "bad-mni", "mni": "many"},
                                   {"rn": "bad-mni2", "mni": -1},
                                   {"rn": "bad-lbl", "lbl": "not-a-list"}])
def test_bad_attribute_is_4000(ae, attrs):
    """TS-0004 6.6: a badly typed attribute -> 4000 BAD_REQUEST."""
    c, path = ae
    r = c.create(path, TY_CNT, attrs)
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_4000_names_the_attribute(ae):
    """TS-0004 6.6/7.2.2 (debugInfo): 4000 says what is wrong: the attribute's name."""
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": "bad-mni3", "mni": "many"})
    assert r.rsc == 4000 and "mni" in str(r.dbg), str(r)


def test_unknown_attribute_is_4000(ae):
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": "bad-unknown", "zzz": 1})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_duplicate_name_is_4105(ae):
    """TS-0004 6.6 (4105 CONFLICT: a sibling has the name) -> 4.03."""
    c, _ = ae
    _cnt(ae, "twin")
    r = c.create(ae[1], TY_CNT, {"rn": "twin"})
    assert (r.rsc, r.code) == (4105, "4.03"), str(r)


def test_delete_container_deletes_its_instances(ae):
    c, _ = ae
    cnt = _cnt(ae, "cascade")
    cin = c.create(cnt, TY_CIN, {"con": "gone"}).location
    assert c.delete(cnt).rsc == 2002
    assert c.retrieve(cin).rsc == 4004


def test_expired_resource_disappears(ae):
    """TS-0001 9.6.1.3 (expirationTime): once et has passed the resource is gone."""
    c, path = ae
    et = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() + 2))
    r = c.create(path, TY_CNT, {"rn": "short-lived", "et": et})
    assert r.rsc == 2001 and r.resource(TY_CNT)["et"] == et, str(r)
    assert c.retrieve(r.location).rsc == 2000
    time.sleep(3.5)
    assert c.retrieve(r.location).rsc == 4004


def test_et_in_the_past_is_4000(ae):
    """TS-0004 7.3.2 (CREATE: an expirationTime already passed is a bad request)."""
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": "stillborn", "et": "20000101T000000"})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)
