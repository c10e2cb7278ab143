"""307: discovery and result content.
TS-0004 V3.32 7.3.3.x / 8.1.2 (filterCriteria in Uri-Query: fu=1 discovery answers
m2m:uril with the matching resources' IDs; ty, lbl, cra/crb, lim, lvl, ofst), TS-0004
6.3.5.x rcn (1 attributes, 4 attributes+child resources, 5 attributes+child resource
references, 6 child resource references, 8 child resources), TS-0008 6.2.2.3 (these
parameters in Uri-Query by short name)."""

import pytest

from onem2m_client import TY_CIN, TY_CNT


@pytest.fixture(scope="module")
def tree(cse):
    """AE with containers a (lbl color:red, 2 instances) and b (lbl color:blue)."""
    c, path, _ = cse.ae("Cdisc01", "disc01")
    a = c.create(path, TY_CNT, {"rn": "a", "lbl": ["color:red"]}).location
    b = c.create(path, TY_CNT, {"rn": "b", "lbl": ["color:blue"]}).location
    for v in ("1", "2"):
        c.create(a, TY_CIN, {"con": v})
    return c, path, a, b


def _uril(r):
    assert r.rsc == 2000, str(r)
    return r.json["m2m:uril"]


def test_fu1_ty_filter(tree):
    c, path, a, b = tree
    uril = _uril(c.retrieve(path, query={"fu": 1, "ty": TY_CNT}))
    assert sorted(u.rstrip("/").split("/")[-1] for u in uril) == ["a", "b"], uril


def test_fu1_label_filter(tree):
    c, path, a, b = tree
    uril = _uril(c.retrieve(path, query={"fu": 1, "lbl": "color:red"}))
    assert len(uril) == 1 and uril[0].endswith("a"), uril


def test_fu1_lim_and_ofst(tree):
    c, path, a, b = tree
    every = _uril(c.retrieve(path, query={"fu": 1, "ty": TY_CIN}))
    assert len(every) == 2, every
    assert len(_uril(c.retrieve(path, query={"fu": 1, "ty": TY_CIN, "lim": 1}))) == 1
    assert _uril(c.retrieve(path, query={"fu": 1, "ty": TY_CIN, "ofst": 2})) == every[1:]


def test_fu1_level_and_created_before(tree):
    c, path, a, b = tree
    lvl1 = _uril(c.retrieve(path, query={"fu": 1, "lvl": 1}))
    assert len(lvl1) == 2, lvl1  # a and b, not the instances below a
    assert _uril(c.retrieve(path, query={"fu": 1, "crb": "19700101T000000"})) == []


def test_discovery_does_not_leak_to_strangers(cse, tree):
    """TS-0004 7.3.3.x: discovery lists only resources the originator may DISCOVER."""
    c, path, a, b = tree
    other, _, _ = cse.ae("Cdisc02", "disc02")
    r = other.retrieve(path, query={"fu": 1})
    assert r.rsc == 4103 or r.json.get("m2m:uril") == [], str(r)


def test_rcn4_attributes_and_children(tree):
    c, path, a, b = tree
    r = c.retrieve(a, query={"rcn": 4})
    assert r.rsc == 2000, str(r)
    cnt = r.resource(TY_CNT)
    assert cnt["rn"] == "a" and len(cnt["m2m:cin"]) == 2, cnt


def test_rcn6_child_references(tree):
    c, path, a, b = tree
    r = c.retrieve(path, query={"rcn": 6})
    assert r.rsc == 2000, str(r)
    refs = r.json["m2m:rrl"]["rrf"]
    assert sorted(x["nm"] for x in refs) == ["a", "b"], refs


def test_rcn1_is_the_default_representation(tree):
    c, path, a, b = tree
    r = c.retrieve(a, query={"rcn": 1})
    assert r.rsc == 2000 and r.resource(TY_CNT)["rn"] == "a", str(r)


def test_bad_rcn_is_4000(tree):
    """TS-0004 6.3.5.x: rcn 9 is not allowed for RETRIEVE -> 4000."""
    c, path, a, b = tree
    r = c.retrieve(a, query={"rcn": 9})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)
