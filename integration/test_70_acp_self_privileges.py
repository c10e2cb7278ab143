"""70: an <accessControlPolicy> as target is decided by its own selfPrivileges (pvs), in
both decision modes (remote PDP, local evaluator). The attack: the parties named in pvs
were refused and the ACP's creator kept control through the creator rule; now pvs alone
decides, the creator has no right it does not grant itself.
TS-0001 V3.36 9.6.2.0 ("The CSE Access Decision for <accessControlPolicy> resource shall
follow ... the selfPrivileges attributes defined in the <accessControlPolicy> resource
itself"), TS-0004 V3.32 7.3.3.15 ("If the target is <accessControlPolicy> resource, it
retrieves the rules from selfPrivilege attribute instead"), TS-0003 7.1.1; an ACP has no
accessControlPolicyIDs attribute (TS-0001 table 9.6.2.0-2): 4000 BAD_REQUEST;
docs/access-control.md "Who decides what"."""

import pytest

from onem2m_client import TY_ACP, TY_CNT

ALL_OPS, RETRIEVE, UPDATE, DELETE = 63, 2, 4, 8
SP_ID = "tep.local"  # tep-cse's [cse] sp_id default (cse_config.c)


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def parties(cse):
    """(creator, creator's AE path, steward named in pvs, reader named in pv, stranger)."""
    creator, path, _ = cse.ae("Cself-creator", "self-creator")
    steward, _, _ = cse.ae("Cself-steward", "self-steward")
    reader, _, _ = cse.ae("Cself-reader", "self-reader")
    stranger, _, _ = cse.ae("Cself-stranger", "self-stranger")
    return creator, path, steward, reader, stranger


def _acp(c, parent, rn, pv_acr, pvs_acr, **extra):
    return c.create(parent, TY_ACP, dict({"rn": rn, "pv": {"acr": pv_acr},
                                          "pvs": {"acr": pvs_acr}}, **extra))


def _rsc(r):
    return (r.rsc, r.code)


def test_party_in_pvs_acts_per_pvs_creator_refused(parties):
    """The steward (pvs: Retrieve+Update) reads and updates the ACP; it may not delete it
    (no Delete in pvs). The creator, not in pvs, is refused everything: 4103."""
    creator, path, steward, reader, _ = parties
    acp = _acp(creator, path, "acp-steward", [{"acor": [reader.originator], "acop": RETRIEVE}],
               [{"acor": [steward.originator], "acop": RETRIEVE | UPDATE}])
    assert acp.rsc == 2001, str(acp)
    loc = acp.location
    got = steward.retrieve(loc)
    assert got.rsc == 2000 and got.resource(TY_ACP)["pvs"]["acr"][0]["acor"] == \
        [steward.originator], str(got)
    new_pv = {"acr": [{"acor": [reader.originator], "acop": RETRIEVE | UPDATE}]}
    u = steward.update(loc, TY_ACP, {"pv": new_pv})
    assert u.rsc == 2004 and u.resource(TY_ACP)["pv"] == new_pv, str(u)
    assert _rsc(steward.delete(loc)) == (4103, "4.03")
    for r in (creator.retrieve(loc), creator.update(loc, TY_ACP, {"lbl": ["mine"]}),
              creator.delete(loc)):
        assert _rsc(r) == (4103, "4.03"), str(r)
    assert steward.retrieve(loc).resource(TY_ACP)["pv"] == new_pv  # nothing changed


def test_pv_does_not_open_the_acp_itself(parties):
    """A party granted everything in pv (the rules for the resources linking the ACP) has
    no right on the ACP: 4103 for read, update and delete; a stranger likewise."""
    creator, path, steward, reader, stranger = parties
    acp = _acp(creator, path, "acp-pv-only", [{"acor": [reader.originator], "acop": ALL_OPS}],
               [{"acor": [creator.originator], "acop": ALL_OPS}])
    assert acp.rsc == 2001, str(acp)
    for who in (reader, stranger, steward):
        for r in (who.retrieve(acp.location), who.update(acp.location, TY_ACP, {"lbl": ["x"]}),
                  who.delete(acp.location)):
            assert _rsc(r) == (4103, "4.03"), "%s: %s" % (who.originator, r)
    assert creator.retrieve(acp.location).rsc == 2000  # named in pvs: permitted


def test_pvs_grant_to_all_and_acor_forms(cse, parties):
    """pvs entries in every originator form (TS-0001 7.2) name the same AE: SP-relative
    "/tep-cse/C..." and absolute "//sp/tep-cse/C..." both let the steward delete."""
    creator, path, steward, _, stranger = parties
    cse_id, sp = cse.env["CSE_ID"], SP_ID
    for rn, form in (("acp-sp-rel", "%s/%s" % (cse_id, steward.originator)),
                     ("acp-abs", "//%s%s/%s" % (sp, cse_id, steward.originator))):
        acp = _acp(creator, path, rn, [{"acor": ["all"], "acop": RETRIEVE}],
                   [{"acor": [form], "acop": ALL_OPS}])
        assert acp.rsc == 2001, str(acp)
        assert _rsc(stranger.delete(acp.location)) == (4103, "4.03")
        assert steward.delete(acp.location).rsc == 2002, form


def test_acp_has_no_acpi(parties):
    """TS-0001 table 9.6.2.0-2: no accessControlPolicyIDs on an ACP; giving one is 4000 at
    CREATE and UPDATE (it would suggest another policy governs the ACP)."""
    creator, path, _, _, _ = parties
    other = _acp(creator, path, "acp-other", [], [{"acor": [creator.originator],
                                                   "acop": ALL_OPS}])
    ri = other.resource(TY_ACP)["ri"]
    r = _acp(creator, path, "acp-with-acpi", [], [{"acor": [creator.originator],
                                                   "acop": ALL_OPS}], acpi=[ri])
    assert _rsc(r) == (4000, "4.00") and "acpi" in r.dbg, str(r)
    r = creator.update(other.location, TY_ACP, {"acpi": [ri]})
    assert _rsc(r) == (4000, "4.00"), str(r)


def test_container_still_follows_pv(parties):
    """The other half of the row: a container linking the ACP is decided by pv, so the
    reader (pv) reads it and the steward (pvs only) does not."""
    creator, path, steward, reader, _ = parties
    acp = _acp(creator, path, "acp-for-cnt",
               [{"acor": [reader.originator, creator.originator], "acop": RETRIEVE}],
               [{"acor": [steward.originator], "acop": ALL_OPS}])
    cnt = creator.create(path, TY_CNT, {"rn": "pv-decides",
                                        "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert cnt.rsc == 2001, str(cnt)
    assert reader.retrieve(cnt.location).rsc == 2000
    assert _rsc(steward.retrieve(cnt.location)) == (4103, "4.03")
