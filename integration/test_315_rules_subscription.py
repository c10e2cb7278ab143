"""315: the resource rules of <subscription>, row by row (docs/cse.md "Resource rules:
subscription"). TS-0004 V3.32 Table 7.4.8.1-2/-3 (notificationURI M; creator O at CREATE,
NP at UPDATE; eventNotificationCriteria with notificationEventType 1..4 here;
notificationContentType 1..3; expirationCounter, notificationEventCat non-negative
integers), 6.2.4, 7.3.3.3."""

import time

import pytest

from onem2m_client import TY_CNT, TY_SUB
from rules_common import create_refused, update_refused


@pytest.fixture(scope="module")
def cnt(cse):
    c, path, _ = cse.ae("Crules-sub", "rules-sub")
    return c, c.create(path, TY_CNT, {"rn": "watched"}).location


def _sub(c, **attrs):
    return dict({"nu": [c.originator]}, **attrs)  # the originator itself: no verification


@pytest.mark.parametrize("rn", ["a b", "_s", "s~", "s?x"])
def test_bad_rn_is_4000_not_created(cse, cnt, rn):
    c, path = cnt
    create_refused(c, path, TY_SUB, _sub(c, rn=rn), "bad_value:rn", cse.admin)


def test_notification_uri_is_mandatory_and_not_empty(cse, cnt):
    c, path = cnt
    create_refused(c, path, TY_SUB, {"rn": "nonu"}, "missing:nu", cse.admin)
    create_refused(c, path, TY_SUB, {"rn": "emptynu", "nu": []}, "bad_value:nu", cse.admin)
    create_refused(c, path, TY_SUB, {"rn": "strnu", "nu": c.originator}, "bad_value:nu",
                   cse.admin)


@pytest.mark.parametrize("attr,value", [
    ("enc", {"net": [5]}), ("enc", {"net": [0]}), ("enc", {"net": 1}), ("enc", [1]),
    ("nct", 0), ("nct", 4), ("exc", -1), ("exc", "1"), ("ln", "true"), ("nec", -2),
    ("su", 5), ("cr", "Cx"),
])
def test_value_of_the_wrong_format_is_4000(cse, cnt, attr, value):
    c, path = cnt
    create_refused(c, path, TY_SUB, _sub(c, rn="fmt" + attr, **{attr: value}),
                   "bad_value:" + attr, cse.admin)


@pytest.mark.parametrize("attr,value", [("ri", "x"), ("con", "x"), ("mni", 1), ("bn", {})])
def test_attribute_not_permitted_is_4000(cse, cnt, attr, value):
    c, path = cnt
    create_refused(c, path, TY_SUB, _sub(c, rn="np" + attr, **{attr: value}),
                   "unknown_or_readonly_attribute:" + attr, cse.admin)


def test_good_subscription_and_update_rules(cse, cnt):
    c, path = cnt
    r = c.create(path, TY_SUB, _sub(c, rn="good", enc={"net": [1, 3]}, nct=1, exc=5, cr=None))
    assert r.rsc == 2001 and r.resource(TY_SUB)["cr"] == c.originator, str(r)
    sub = r.location
    for attrs, reason in (({"cr": None}, "unknown_or_readonly_attribute:cr"),
                          ({"rn": "x"}, "unknown_or_readonly_attribute:rn"),
                          ({"nu": None}, "bad_value:nu"), ({"nct": 9}, "bad_value:nct")):
        update_refused(c, sub, TY_SUB, attrs, reason, cse.admin, "m2m:sub")
    lt0 = c.retrieve(sub).resource(TY_SUB)["lt"]
    time.sleep(1.1)
    u = c.update(sub, TY_SUB, {})
    assert u.rsc == 2004 and u.resource(TY_SUB)["lt"] > lt0, str(u)
    u = c.update(sub, TY_SUB, {"exc": 2, "nct": 2})
    assert u.rsc == 2004 and u.resource(TY_SUB)["exc"] == 2, str(u)
