"""314: the resource rules of <contentInstance>, row by row (docs/cse.md "Resource rules:
contentInstance"). TS-0004 V3.32 Table 7.4.7.1-2/-3 (request optionality: content M,
contentInfo O, creator O, contentSize and stateTag NP, no accessControlPolicyIDs; no UPDATE
column: a contentInstance cannot be updated, 7.4.7.2.3: OPERATION_NOT_ALLOWED),
Table 6.3.3-1 (m2m:contentInfo "type/subtype:encodingType[:contentSecurity]"), 6.2.4."""

import pytest

from onem2m_client import TY_CIN, TY_CNT
from rules_common import create_refused, refused


@pytest.fixture(scope="module")
def cnt(cse):
    c, path, _ = cse.ae("Crules-cin", "rules-cin")
    return c, c.create(path, TY_CNT, {"rn": "box"}).location


def _cni(c, cnt):
    return c.retrieve(cnt).resource(TY_CNT)["cni"]


@pytest.mark.parametrize("rn", ["a b", "-v", "v~1", "v%201"])
def test_bad_rn_is_4000_not_created(cse, cnt, rn):
    c, path = cnt
    create_refused(c, path, TY_CIN, {"rn": rn, "con": "x"}, "bad_value:rn", cse.admin)
    assert _cni(c, path) == 0


def test_content_is_mandatory(cse, cnt):
    c, path = cnt
    create_refused(c, path, TY_CIN, {"rn": "nocon", "cnf": "text/plain:0"}, "missing:con",
                   cse.admin)
    create_refused(c, path, TY_CIN, {"rn": "nullcon", "con": None}, "bad_value:con", cse.admin)


@pytest.mark.parametrize("attr,value", [
    ("cs", 1), ("st", 0), ("ri", "x"), ("ct", "20260101T000000"),   # NP
    ("mni", 1), ("api", "Nx"),                                      # other types'
])
def test_attribute_not_permitted_is_4000(cse, cnt, attr, value):
    c, path = cnt
    create_refused(c, path, TY_CIN, {"rn": "np" + attr, "con": "x", attr: value},
                   "unknown_or_readonly_attribute:" + attr, cse.admin)


def test_acpi_is_not_an_attribute_of_a_content_instance(cse, cnt):
    c, path = cnt
    create_refused(c, path, TY_CIN, {"rn": "acpi", "con": "x", "acpi": ["a"]},
                   "acpi_not_an_attribute_of:cin", cse.admin)


@pytest.mark.parametrize("cnf", ["text/plain", "text:0", "text/plain:", "text/plain:a",
                                 "text/plain:0:", "text/plain:0:1:2", "/plain:0",
                                 "text/pl ain:0", "text/plain:1234", 5])
def test_content_info_of_the_wrong_format_is_4000(cse, cnt, cnf):
    c, path = cnt
    create_refused(c, path, TY_CIN, {"rn": "cnf", "con": "x", "cnf": cnf}, "bad_value:cnf",
                   cse.admin)
    assert _cni(c, path) == 0


@pytest.mark.parametrize("cnf", ["text/plain:0", "application/json:1", "application/xml:1:5",
                                 "application/vnd.onem2m-res+json:0:0"])
def test_content_info_of_the_right_format_is_kept(cnt, cnf):
    c, path = cnt
    r = c.create(path, TY_CIN, {"con": "x", "cnf": cnf, "cr": None, "lbl": ["a"]})
    got = r.resource(TY_CIN)
    assert r.rsc == 2001 and got["cnf"] == cnf and got["cr"] == c.originator, str(r)
    assert c.delete(r.location).rsc == 2002


def test_update_is_4005_even_empty(cnt):
    c, path = cnt
    cin = c.create(path, TY_CIN, {"con": "fixed"}).location
    for attrs in ({"con": "changed"}, {}, b""):
        refused(c.update(cin, TY_CIN, attrs), "type_not_updatable:4", 4005, "4.05")
    assert c.retrieve(cin).resource(TY_CIN)["con"] == "fixed"
