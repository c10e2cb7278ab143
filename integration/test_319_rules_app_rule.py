"""319: the resource rules of <serviceSubscribedAppRule>, row by row (docs/cse.md
"Resource rules: serviceSubscribedAppRule"). TS-0004 V3.32 7.4.29 (applicableCredIDs,
allowedApp-IDs, allowedAEs, allowedRoleIDs: lists; an allowedApp-IDs entry starts with
'*', 'R' or 'N', else BAD_REQUEST), TS-0001 V3.36 9.6.29, 6.2.4 (resource-name), tep's
choice: no accessControlPolicyIDs and no creator attribute (only the admin uses them)."""

import json
import time

import pytest

from onem2m_client import POST, PUT
from rules_common import refused

TY_ASAR = 19


def _create(cse, attrs):
    body = json.dumps({"m2m:asar": attrs}).encode()
    return cse.admin.request(POST, cse.name, ty=TY_ASAR, body=body)


def _gone(cse, rn):
    assert cse.admin.retrieve(cse.name + "/" + rn).rsc == 4004


@pytest.mark.parametrize("rn", ["rule 1", "_rule", "rule~1"])
def test_bad_rn_is_4000_not_created(cse, rn):
    refused(_create(cse, {"rn": rn, "aai": ["N*"]}), "bad_value:rn")


@pytest.mark.parametrize("attr,value", [
    ("aai", ["Xapp"]), ("aai", [""]), ("aai", "N*"), ("apci", [""]), ("apci", "x"),
    ("aae", [3]), ("ari", {}),
])
def test_value_of_the_wrong_format_is_4000(cse, attr, value):
    rn = "fmt" + attr
    refused(_create(cse, {"rn": rn, attr: value}), "bad_value:" + attr)
    _gone(cse, rn)


@pytest.mark.parametrize("attr,value,reason", [
    ("acpi", ["x"], "acpi_not_allowed:asar"),
    ("cr", None, "unknown_or_readonly_attribute:cr"),
    ("api", "Nx", "unknown_or_readonly_attribute:api"),
])
def test_attribute_not_permitted_is_4000(cse, attr, value, reason):
    rn = "np" + attr
    refused(_create(cse, {"rn": rn, attr: value}), reason)
    _gone(cse, rn)


def test_update_rules(cse):
    r = _create(cse, {"rn": "good", "aai": ["Ntep*", "R1", "*"], "apci": ["12-*"]})
    assert r.rsc == 2001, str(r)
    path = r.location
    for attrs, reason in (({"aai": ["Sx"]}, "bad_value:aai"),
                          ({"rn": "x"}, "unknown_or_readonly_attribute:rn")):
        u = cse.admin.request(PUT, path, body=json.dumps({"m2m:asar": attrs}).encode())
        refused(u, reason)
    lt0 = cse.admin.retrieve(path).json["m2m:asar"]["lt"]
    time.sleep(1.1)
    u = cse.admin.request(PUT, path, body=b'{"m2m:asar":{}}')
    assert u.rsc == 2004 and u.json["m2m:asar"]["lt"] > lt0, str(u)
