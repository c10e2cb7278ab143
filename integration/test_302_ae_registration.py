"""302: AE registration with every kind of originator, and re-registration.
TS-0001 V3.36 10.2.2.2 (AE registration: From absent or "C" -> CSE-assigned "C..." AE-ID,
"S" -> CSE-assigned "S..." AE-ID, explicit "C..."/"S..." AE-ID kept), TS-0004 7.3.5.2.1
(CREATE AE; 4117 ORIGINATOR_HAS_ALREADY_REGISTERED), TS-0008 Table 6.2.4-1 (4117 -> 4.03)."""

import pytest

from onem2m_client import TY_AE


def _register(cse, originator, rn):
    c = cse.client(originator)
    body = {"rn": rn, "api": "Ntep.test", "rr": False, "srv": ["3"]}
    return c, c.create(cse.name, TY_AE, body, fr=originator)


def test_from_absent_gets_a_c_ae_id(cse):
    c, r = _register(cse, None, "reg-absent")
    aei = r.resource(TY_AE)["aei"]
    assert r.rsc == 2001 and aei.startswith("C") and len(aei) > 1, str(r)
    assert r.location == cse.name + "/reg-absent"
    c.originator = aei
    got = c.retrieve(r.location)
    assert got.rsc == 2000 and got.resource(TY_AE)["aei"] == aei, str(got)


def test_from_c_gets_a_fresh_c_ae_id(cse):
    _, r1 = _register(cse, "C", "reg-c1")
    _, r2 = _register(cse, "C", "reg-c2")
    a1, a2 = r1.resource(TY_AE)["aei"], r2.resource(TY_AE)["aei"]
    assert a1.startswith("C") and len(a1) > 1 and a1 != a2, (str(r1), str(r2))


def test_from_s_gets_an_s_ae_id(cse):
    _, r = _register(cse, "S", "reg-s")
    aei = r.resource(TY_AE)["aei"]
    assert r.rsc == 2001 and aei.startswith("S") and len(aei) > 1, str(r)


def test_explicit_originator_is_the_ae_id(cse):
    c, r = _register(cse, "Creg-explicit", "reg-explicit")
    ae = r.resource(TY_AE)
    assert r.rsc == 2001 and ae["aei"] == "Creg-explicit" and ae["api"] == "Ntep.test", str(r)
    assert r.resource(TY_AE)["ty"] == TY_AE and ae["pi"]


def test_re_registration_is_4117(cse):
    _register(cse, "Creg-twice", "reg-twice")
    _, r = _register(cse, "Creg-twice", "reg-twice-2")
    assert (r.rsc, r.code) == (4117, "4.03"), str(r)


def test_ae_missing_mandatory_attribute_is_4000(cse):
    """TS-0004 7.4.5.1 (api, rr mandatory at CREATE) -> 4000 BAD_REQUEST."""
    c = cse.client("Creg-bad")
    r = c.create(cse.name, TY_AE, {"rn": "reg-bad", "srv": ["3"]})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_ae_delete_then_register_again(cse):
    """TS-0004 7.3.5.2.4 (DELETE AE): deregistration frees the AE-ID."""
    c, r = _register(cse, "Creg-again", "reg-again")
    c.originator = "Creg-again"
    d = c.delete(r.location)
    assert (d.rsc, d.code) == (2002, "2.02"), str(d)
    _, r2 = _register(cse, "Creg-again", "reg-again")
    assert r2.rsc == 2001, str(r2)
