"""313: the resource rules of <container>, row by row (docs/cse.md "Resource rules:
container"). TS-0004 V3.32 Table 7.4.6.1-2/-3 (request optionality: creator O at CREATE
and NP at UPDATE; stateTag, currentNrOfInstances, currentByteSize NP; maxNrOfInstances,
maxByteSize, maxInstanceAge xs:nonNegativeInteger), 6.2.4 (resource-name), 7.3.3.3
(an UPDATE may carry no attribute: lastModifiedTime only), 6.6 (4000 BAD_REQUEST)."""

import time

import pytest

from onem2m_client import TY_CNT
from rules_common import create_refused, update_refused


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Crules-cnt", "rules-cnt")
    return c, path


@pytest.mark.parametrize("rn", ["a b", "a~b", "_c", "c/d", "..", "\u00e9t\u00e9", "x" * 256])
def test_bad_rn_is_4000_not_created(cse, ae, rn):
    c, path = ae
    before = c.retrieve(path, query=["rcn=6"]).json
    create_refused(c, path, TY_CNT, {"rn": rn}, "bad_value:rn", cse.admin)
    assert c.retrieve(path, query=["rcn=6"]).json == before


@pytest.mark.parametrize("attr,value", [
    ("ri", "x"), ("pi", "x"), ("ty", 3), ("ct", "20260101T000000"), ("lt", "20260101T000000"),
    ("st", 0), ("cni", 0), ("cbs", 0),          # maintained by the CSE: NP
    ("con", "x"), ("api", "Nx"), ("nu", ["x"]),  # other types' attributes
    ("foo", 1),
])
def test_attribute_not_permitted_at_create_is_4000(cse, ae, attr, value):
    c, path = ae
    create_refused(c, path, TY_CNT, {"rn": "np" + attr, attr: value},
                   "unknown_or_readonly_attribute:" + attr, cse.admin)


@pytest.mark.parametrize("attr,value", [
    ("mni", -1), ("mni", "5"), ("mni", 1.5), ("mbs", -1), ("mbs", True), ("mia", "60"),
    ("lbl", "k"), ("lbl", [1]), ("acpi", "acp"), ("et", 20260101), ("cr", "Cother"),
])
def test_value_of_the_wrong_type_is_4000(cse, ae, attr, value):
    c, path = ae
    create_refused(c, path, TY_CNT, {"rn": "fmt" + attr, attr: value}, "bad_value:" + attr,
                   cse.admin)


def test_acpi_naming_no_acp_and_past_et_are_4000(cse, ae):
    c, path = ae
    for attrs in ({"rn": "noacp", "acpi": ["acp-nowhere"]}, {"rn": "past", "et": "20000101T000000"}):
        r = c.create(path, TY_CNT, attrs)
        assert (r.rsc, r.code) == (4000, "4.00"), str(r)
        assert cse.admin.retrieve(path + "/" + attrs["rn"]).rsc == 4004


def test_creator_asked_by_null_is_recorded(ae):
    c, path = ae
    r = c.create(path, TY_CNT, {"rn": "withcr", "cr": None, "mni": 0, "mbs": 10, "mia": 60})
    assert r.rsc == 2001 and r.resource(TY_CNT)["cr"] == c.originator, str(r)
    r = c.create(path, TY_CNT, {"rn": "nocr"})
    assert r.rsc == 2001 and "cr" not in r.resource(TY_CNT), str(r)


def test_update_rules(cse, ae):
    c, path = ae
    cnt = c.create(path, TY_CNT, {"rn": "upd"}).location
    for attrs, reason in (({"rn": "x"}, "unknown_or_readonly_attribute:rn"),
                          ({"cr": None}, "unknown_or_readonly_attribute:cr"),
                          ({"cni": 1}, "unknown_or_readonly_attribute:cni"),
                          ({"mni": "3"}, "bad_value:mni")):
        update_refused(c, cnt, TY_CNT, attrs, reason, cse.admin, "m2m:cnt")
    lt0 = c.retrieve(cnt).resource(TY_CNT)["lt"]
    time.sleep(1.1)
    u = c.update(cnt, TY_CNT, {})
    assert (u.rsc, u.code) == (2004, "2.04") and u.resource(TY_CNT)["lt"] > lt0, str(u)
    u = c.update(cnt, TY_CNT, {"mni": 2, "lbl": ["a"]})
    assert u.rsc == 2004 and u.resource(TY_CNT)["mni"] == 2, str(u)
    u = c.update(cnt, TY_CNT, {"mni": None})   # null deletes an optional attribute
    assert u.rsc == 2004 and "mni" not in u.resource(TY_CNT), str(u)


def test_strings_and_lists_are_bounded(cse, ae):
    """tep's bounds where TS-0004 has none: a string of at most 2048 bytes, a list of at
    most 1024 entries (docs/cse.md "All types")."""
    c, path = ae
    create_refused(c, path, TY_CNT, {"rn": "biglbl", "lbl": ["k"] * 1025}, "bad_value:lbl",
                   cse.admin)
    create_refused(c, path, TY_CNT, {"rn": "longlbl", "lbl": ["k" * 2049]}, "bad_value:lbl",
                   cse.admin)
    r = c.create(path, TY_CNT, {"rn": "maxlbl", "lbl": ["k"] * 1023 + ["k" * 2048]})
    assert r.rsc == 2001, str(r)
    assert c.create(path, TY_CNT, {"rn": "after"}).rsc == 2001  # still serving
