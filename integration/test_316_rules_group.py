"""316: the resource rules of <group>, row by row (docs/cse.md "Resource rules: group").
TS-0004 V3.32 Table 7.4.13.1-2/-3 (memberIDs and maxNrOfMembers M at CREATE; memberType
and consistencyStrategy O at CREATE, NP at UPDATE; creator O at CREATE, NP at UPDATE;
currentNrOfMembers, memberTypeValidated NP), 6.2.4, 7.3.3.3."""

import time

import pytest

from onem2m_client import TY_CNT, TY_GRP
from rules_common import create_refused, update_refused


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Crules-grp", "rules-grp")
    c.create(path, TY_CNT, {"rn": "m1"})
    return c, path


def _grp(path, **attrs):
    return dict({"mid": [path + "/m1"], "mnm": 5}, **attrs)


@pytest.mark.parametrize("rn", ["g 1", "_g", "g~", "g%"])
def test_bad_rn_is_4000_not_created(cse, ae, rn):
    c, path = ae
    create_refused(c, path, TY_GRP, _grp(path, rn=rn), "bad_value:rn", cse.admin)


@pytest.mark.parametrize("missing", ["mid", "mnm"])
def test_mandatory_attribute_missing_is_4000(cse, ae, missing):
    c, path = ae
    attrs = _grp(path, rn="miss" + missing)
    del attrs[missing]
    create_refused(c, path, TY_GRP, attrs, "missing:" + missing, cse.admin)


@pytest.mark.parametrize("attr,value", [
    ("mnm", 0), ("mnm", -1), ("mnm", "5"), ("mid", "x"), ("mid", [1]), ("mt", -1),
    ("csy", 0), ("csy", 4), ("gn", 1), ("macp", "a"), ("cr", "Cx"),
])
def test_value_of_the_wrong_format_is_4000(cse, ae, attr, value):
    c, path = ae
    create_refused(c, path, TY_GRP, _grp(path, rn="fmt" + attr, **{attr: value}),
                   "bad_value:" + attr, cse.admin)


@pytest.mark.parametrize("attr,value", [("cnm", 1), ("mtv", True), ("ri", "x"), ("con", "x")])
def test_attribute_not_permitted_is_4000(cse, ae, attr, value):
    c, path = ae
    create_refused(c, path, TY_GRP, _grp(path, rn="np" + attr, **{attr: value}),
                   "unknown_or_readonly_attribute:" + attr, cse.admin)


def test_good_group_and_update_rules(cse, ae):
    c, path = ae
    r = c.create(path, TY_GRP, _grp(path, rn="good", mt=TY_CNT, csy=1, gn="g", cr=None))
    assert r.rsc == 2001 and r.resource(TY_GRP)["cr"] == c.originator, str(r)
    grp = r.location
    for attrs, reason in (({"mt": 0}, "unknown_or_readonly_attribute:mt"),
                          ({"csy": 2}, "unknown_or_readonly_attribute:csy"),
                          ({"cr": None}, "unknown_or_readonly_attribute:cr"),
                          ({"mnm": 0}, "bad_value:mnm"), ({"mnm": None}, "bad_value:mnm")):
        update_refused(c, grp, TY_GRP, attrs, reason, cse.admin, "m2m:grp")
    lt0 = c.retrieve(grp).resource(TY_GRP)["lt"]
    time.sleep(1.1)
    u = c.update(grp, TY_GRP, {})
    assert u.rsc == 2004 and u.resource(TY_GRP)["lt"] > lt0, str(u)
    u = c.update(grp, TY_GRP, {"mnm": 7, "gn": "h"})
    assert u.rsc == 2004 and u.resource(TY_GRP)["mnm"] == 7, str(u)
