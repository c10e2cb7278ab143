"""311: the resource rules of <AE>, row by row (docs/cse.md "Resource rules: AE").
TS-0004 V3.32 Table 7.4.5.1-2/-3 (request optionality: App-ID, requestReachability and
supportedReleaseVersions M at CREATE, App-ID NP at UPDATE, creator not an attribute of an
AE), 6.2.4 (resource-name = 1*unreserved), Table 6.3.3-1 (m2m:poaList,
m2m:serializations, m2m:supportedReleaseVersions), TS-0001 V3.36 7.2 (App-ID starts with
R or N), 10.2.2.2 (From absent, "C" or "S": a CSE-assigned AE-ID), TS-0004 7.3.5.2.1
(4117 for an AE-ID already registered), 6.6 (4000 BAD_REQUEST). Every refused CREATE is
checked not to have made the AE."""

import time

import pytest

from onem2m_client import TY_AE, TY_CNT

GOOD = {"api": "Ntep.rules", "rr": False, "srv": ["3"]}


def _ae(cse, fr, rn, **attrs):
    c = cse.client(fr)
    body = dict(GOOD, rn=rn, **attrs)
    for k in [k for k, v in attrs.items() if v is ...]:
        del body[k]
    return c, c.create(cse.name, TY_AE, body, fr=fr)


def _aes(cse):
    """Every AE's address (discovery as the admin)."""
    q = cse.admin.retrieve(cse.name, query=["fu=1", "ty=2"])
    assert q.rsc == 2000, str(q)
    return sorted(q.json["m2m:uril"])


def _refused(cse, r, reason, path):
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)
    assert r.dbg == "BAD_REQUEST: " + reason, str(r)
    if path is not None:
        assert cse.admin.retrieve(path).rsc == 4004, "refused but created: " + path


@pytest.mark.parametrize("rn", ["a b", "a~b", "_ae", "-ae", ".ae", "a?b", "caf\u00e9", "x" * 256,
                                "a%2Fb", ""])
def test_rn_outside_unreserved_is_4000_not_created(cse, rn):
    before = _aes(cse)
    _, r = _ae(cse, "Crn-%d" % abs(hash(rn)), rn)
    _refused(cse, r, "bad_value:rn", None)
    assert _aes(cse) == before


def test_rn_of_unreserved_characters_is_created(cse):
    rn = "Ae-1.x_Y" + "z" * 200
    _, r = _ae(cse, "Crn-good", rn)
    assert r.rsc == 2001 and r.location == cse.name + "/" + rn, str(r)


@pytest.mark.parametrize("missing", ["api", "rr", "srv"])
def test_mandatory_attribute_missing_is_4000(cse, missing):
    _, r = _ae(cse, "Cmiss-" + missing, "miss-" + missing, **{missing: ...})
    _refused(cse, r, "missing:" + missing, cse.name + "/miss-" + missing)


@pytest.mark.parametrize("attr,value", [
    ("cr", None),                         # creator: NP for an AE (Table 7.4.5.1-2)
    ("aei", "Cmine"), ("ri", "x"), ("ct", "20260101T000000"),  # assigned by the CSE
    ("mni", 3),                           # a container's attribute
    ("cstn", "Cboss"),                    # custodian: not an AE attribute
])
def test_attribute_not_permitted_at_create_is_4000(cse, attr, value):
    rn = "np-" + attr
    _, r = _ae(cse, "C" + rn, rn, **{attr: value})
    _refused(cse, r, "unknown_or_readonly_attribute:" + attr, cse.name + "/" + rn)


@pytest.mark.parametrize("attr,value", [
    ("api", "Xtep"), ("api", "N"), ("api", "nlower"), ("api", 7),
    ("rr", "false"),
    ("srv", []), ("srv", ["9"]), ("srv", "3"),
    ("poa", []), ("poa", ["127.0.0.1:5683"]), ("poa", ["coap://"]), ("poa", ["coap://a b"]),
    ("poa", "coap://h"),
    ("csz", []), ("csz", ["text/plain"]), ("csz", ["json", "yaml"]),
    ("lbl", "k:v"), ("acpi", "acp1"), ("et", 5),
])
def test_value_of_the_wrong_format_is_4000(cse, attr, value):
    rn = "fmt-%s-%d" % (attr, abs(hash(repr(value))) % 100000)
    _, r = _ae(cse, "C" + rn, rn, **{attr: value})
    _refused(cse, r, "bad_value:" + attr, cse.name + "/" + rn)


def test_app_id_r_n_and_lowercase_r(cse):
    for api in ("Ra01.com.example.app", "ra01.com.example.app", "Nk836-t071"):
        _, r = _ae(cse, "Capi-" + api[:2], "api-" + api[:2], api=api)
        assert r.rsc == 2001 and r.resource(TY_AE)["api"] == api, str(r)


def test_values_of_the_right_format_are_kept(cse):
    attrs = {"api": "Rorg.example.rules", "srv": ["2a", "3", "4"], "csz": ["json", "application/cbor"],
             "poa": ["coap://127.0.0.1:5999/n", "http://h.example:8080/x"], "apn": "rules",
             "lbl": ["k:v"]}
    _, r = _ae(cse, "Cfmt-good", "fmt-good", **attrs)
    assert r.rsc == 2001, str(r)
    got = r.resource(TY_AE)
    assert {k: got[k] for k in attrs} == attrs


def test_update_rules(cse):
    c, r = _ae(cse, "Cupd", "upd")
    assert r.rsc == 2001, str(r)
    path, lt0 = r.location, r.resource(TY_AE)["lt"]
    for attrs, reason in (({"api": "Nother"}, "unknown_or_readonly_attribute:api"),
                          ({"rn": "other"}, "unknown_or_readonly_attribute:rn"),
                          ({"cr": None}, "unknown_or_readonly_attribute:cr"),
                          ({"rr": None}, "bad_value:rr"),      # mandatory: cannot be deleted
                          ({"poa": ["nope"]}, "bad_value:poa")):
        u = c.update(path, TY_AE, attrs)
        assert (u.rsc, u.dbg) == (4000, "BAD_REQUEST: " + reason), "%s: %s" % (attrs, u)
    time.sleep(1.1)
    # an empty resource is a valid UPDATE: it refreshes lastModifiedTime only
    u = c.update(path, TY_AE, {})
    assert (u.rsc, u.code) == (2004, "2.04"), str(u)
    lt1 = u.resource(TY_AE)["lt"]
    assert lt1 > lt0, (lt0, lt1)
    time.sleep(1.1)
    u = c.update(path, TY_AE, b"")  # no body at all: the same
    assert u.rsc == 2004 and u.resource(TY_AE)["lt"] > lt1, str(u)
    u = c.update(path, TY_AE, {"rr": True, "srv": ["3", "4"], "csz": ["cbor"]})
    got = u.resource(TY_AE)
    assert u.rsc == 2004 and got["rr"] is True and got["srv"] == ["3", "4"], str(u)


@pytest.mark.parametrize("fr,prefix", [(None, "C"), ("", "C"), ("C", "C"), ("S", "S")])
def test_from_absent_empty_c_s_gets_a_cse_assigned_ae_id(cse, fr, prefix):
    rn = "assign-%s" % ("none" if fr is None else fr or "empty")
    _, r = _ae(cse, fr, rn)
    assert r.rsc == 2001, str(r)
    aei = r.resource(TY_AE)["aei"]
    assert aei[0] == prefix and len(aei) > 8 and aei not in ("C", "S"), aei


def test_re_registration_after_deletion_works(cse):
    """Both for an explicit AE-ID and for a CSE-assigned one, with the same rn."""
    for fr in ("Cagain-x", "C"):
        c, r = _ae(cse, fr, "again-" + fr[-1])
        assert r.rsc == 2001, str(r)
        c.originator = r.resource(TY_AE)["aei"]
        assert c.delete(r.location).rsc == 2002
        _, r2 = _ae(cse, fr, "again-" + fr[-1])
        assert r2.rsc == 2001, "%s: %s" % (fr, r2)


def test_4105_and_4117_only_for_a_registered_ae_id(cse):
    c, r = _ae(cse, "Cowner-1", "owner-1")
    assert r.rsc == 2001, str(r)
    # another AE naming itself after Cowner-1's AE-ID: 4105 while it is registered
    _, sq = _ae(cse, "Csquat-1", "Cowner-1")
    assert (sq.rsc, sq.code) == (4105, "4.03"), str(sq)
    _, twice = _ae(cse, "Cowner-1", "owner-1b")
    assert (twice.rsc, twice.code) == (4117, "4.03"), str(twice)
    c.originator = "Cowner-1"
    assert c.delete(r.location).rsc == 2002
    # deregistered: the name is free again, for the AE and for anyone
    _, again = _ae(cse, "Cowner-1", "owner-1")
    assert again.rsc == 2001, str(again)
    c2 = cse.client("Cowner-1")
    assert c2.delete(again.location).rsc == 2002
    _, other = _ae(cse, "Cother-1", "Cowner-1")
    assert other.rsc == 2001, str(other)


def test_the_daemon_keeps_serving(cse):
    c, r = _ae(cse, "Clast", "last")
    assert r.rsc == 2001 and c.create(r.location, TY_CNT, {"rn": "d"}).rsc == 2001
