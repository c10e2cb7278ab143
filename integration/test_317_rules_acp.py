"""317: the resource rules of <accessControlPolicy>, row by row (docs/cse.md "Resource
rules: accessControlPolicy"). TS-0004 V3.32 Table 7.4.2.1-2/-3 (privileges and
selfPrivileges M at CREATE, O at UPDATE; no creator and no accessControlPolicyIDs
attribute), 7.4.2.2.1/7.4.2.2.3 (selfPrivileges without an accessControlRule, at CREATE or
by an UPDATE: BAD_REQUEST), 6.2.4, 7.3.3.3."""

import time

import pytest

from onem2m_client import TY_ACP
from rules_common import create_refused, update_refused


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Crules-acp", "rules-acp")
    return c, path


def _acp(c, **attrs):
    return dict({"pv": {"acr": []}, "pvs": {"acr": [{"acor": [c.originator], "acop": 63}]}},
                **attrs)


@pytest.mark.parametrize("rn", ["acp 1", "_acp", "acp~"])
def test_bad_rn_is_4000_not_created(cse, ae, rn):
    c, path = ae
    create_refused(c, path, TY_ACP, _acp(c, rn=rn), "bad_value:rn", cse.admin)


@pytest.mark.parametrize("missing", ["pv", "pvs"])
def test_mandatory_attribute_missing_is_4000(cse, ae, missing):
    c, path = ae
    attrs = _acp(c, rn="miss" + missing)
    del attrs[missing]
    create_refused(c, path, TY_ACP, attrs, "missing:" + missing, cse.admin)


@pytest.mark.parametrize("attr,value", [
    ("pvs", {"acr": []}), ("pv", {"acr": [{"acor": ["all"], "acop": 0}]}),
    ("pv", {"acr": [{"acor": ["all"], "acop": 64}]}), ("pv", {"acr": [{"acor": "all", "acop": 1}]}),
    ("pv", []), ("pv", {"acr": [], "x": 1}),
])
def test_value_of_the_wrong_format_is_4000(cse, ae, attr, value):
    c, path = ae
    create_refused(c, path, TY_ACP, _acp(c, rn="fmt" + attr, **{attr: value}),
                   "bad_value:" + attr, cse.admin)


@pytest.mark.parametrize("attr,value,reason", [
    ("cr", None, "unknown_or_readonly_attribute:cr"),       # no creator in Table 7.4.2.1-2
    ("acpi", ["x"], "acpi_not_an_attribute_of:acp"),
    ("ri", "x", "unknown_or_readonly_attribute:ri"),
    ("mni", 1, "unknown_or_readonly_attribute:mni"),
])
def test_attribute_not_permitted_is_4000(cse, ae, attr, value, reason):
    c, path = ae
    create_refused(c, path, TY_ACP, _acp(c, rn="np" + attr, **{attr: value}), reason, cse.admin)


def test_update_rules(cse, ae):
    c, path = ae
    r = c.create(path, TY_ACP, _acp(c, rn="good"))
    assert r.rsc == 2001, str(r)
    acp = r.location
    for attrs, reason in (({"pvs": {"acr": []}}, "bad_value:pvs"),   # 7.4.2.2.3
                          ({"pvs": None}, "bad_value:pvs"),
                          ({"rn": "x"}, "unknown_or_readonly_attribute:rn"),
                          ({"cr": None}, "unknown_or_readonly_attribute:cr")):
        update_refused(c, acp, TY_ACP, attrs, reason, cse.admin, "m2m:acp")
    lt0 = c.retrieve(acp).resource(TY_ACP)["lt"]
    time.sleep(1.1)
    u = c.update(acp, TY_ACP, {})
    assert u.rsc == 2004 and u.resource(TY_ACP)["lt"] > lt0, str(u)
    u = c.update(acp, TY_ACP, {"pv": {"acr": [{"acor": ["all"], "acop": 2}]}})
    assert u.rsc == 2004 and u.resource(TY_ACP)["pv"]["acr"][0]["acop"] == 2, str(u)
