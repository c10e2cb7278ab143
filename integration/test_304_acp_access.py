"""304: accessControlPolicy resources and the access rules of the hosting CSE.
TS-0001 V3.36 9.6.2 and TS-0004 V3.32 7.4.2 (accessControlPolicy: pv and pvs are
setOfAcrs, acor/acop mandatory in each rule; acop 1..63), TS-0003 7.1 (access decision:
acpi of the target; without acpi only the creator/custodian; permit-overrides; deny is
4103 ORIGINATOR_HAS_NO_PRIVILEGE), TS-0001 9.6.2 (pvs governs the ACP itself); the admin
originator has full access (tep's operator, docs/internals.md)."""

import pytest

from onem2m_client import TY_ACP, TY_CIN, TY_CNT

ALL_OPS = 63
RETRIEVE = 2


@pytest.fixture(scope="module")
def owners(cse):
    """Two AEs: (owner client, owner AE path, stranger client)."""
    owner, path, _ = cse.ae("Cacp-owner", "acp-owner")
    stranger, _, _ = cse.ae("Cacp-stranger", "acp-stranger")
    return owner, path, stranger


def _acp(c, parent, rn, pv_acr, pvs_acr):
    return c.create(parent, TY_ACP, {"rn": rn, "pv": {"acr": pv_acr}, "pvs": {"acr": pvs_acr}})


def test_acp_create_retrieve_delete(owners):
    owner, path, _ = owners
    r = _acp(owner, path, "acp-crd", [{"acor": ["all"], "acop": RETRIEVE}],
             [{"acor": [owner.originator], "acop": ALL_OPS}])
    assert (r.rsc, r.code) == (2001, "2.01"), str(r)
    acp = r.resource(TY_ACP)
    assert acp["pv"]["acr"][0]["acop"] == RETRIEVE and acp["ty"] == TY_ACP
    got = owner.retrieve(r.location)
    assert got.rsc == 2000 and got.resource(TY_ACP)["pvs"] == acp["pvs"], str(got)
    assert owner.delete(r.location).rsc == 2002


@pytest.mark.parametrize("pv,pvs", [
    ({"acr": [{"acor": "Cx", "acop": 2}]}, {"acr": [{"acor": ["Cx"], "acop": 63}]}),  # acor
    ({"acr": [{"acor": ["Cx"], "acop": 64}]}, {"acr": [{"acor": ["Cx"], "acop": 63}]}),  # acop
    ({"acr": [{"acor": ["Cx"]}]}, {"acr": [{"acor": ["Cx"], "acop": 63}]}),           # no acop
    ({"acr": [{"acor": ["Cx"], "acop": 2}]}, None),                                    # no pvs
    ("all", {"acr": [{"acor": ["Cx"], "acop": 63}]}),                                  # not a set
])
def test_acp_bad_shape_is_4000(owners, pv, pvs):
    """TS-0004 7.4.2.1: pv and pvs mandatory; acr entries need acor (list) and acop
    (1..63)."""
    owner, path, _ = owners
    body = {"rn": "acp-bad", "pv": pv}
    if pvs is not None:
        body["pvs"] = pvs
    r = owner.create(path, TY_ACP, body)
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_without_acp_only_the_creator(cse, owners):
    """TS-0003 7.1: no acpi -> only the creator; others 4103 on every operation."""
    owner, path, stranger = owners
    cnt = owner.create(path, TY_CNT, {"rn": "private"}).location
    assert owner.retrieve(cnt).rsc == 2000
    for r in (stranger.retrieve(cnt), stranger.create(cnt, TY_CIN, {"con": "x"}),
              stranger.delete(cnt)):
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert owner.retrieve(cnt).rsc == 2000


def test_admin_has_full_access(cse, owners):
    """The admin originator (plain CoAP, loopback) may do anything on any resource."""
    owner, path, _ = owners
    cnt = owner.create(path, TY_CNT, {"rn": "admin-can"}).location
    assert cse.admin.retrieve(cnt).rsc == 2000
    cin = cse.admin.create(cnt, TY_CIN, {"con": "by admin"})
    assert cin.rsc == 2001, str(cin)
    assert cse.admin.delete(cnt).rsc == 2002


def test_acpi_grants_retrieve_only(cse, owners):
    """TS-0003 7.1: an ACP listing the stranger with acop RETRIEVE lets it read and
    nothing more."""
    owner, path, stranger = owners
    acp = _acp(owner, path, "acp-read", [{"acor": [stranger.originator], "acop": RETRIEVE}],
               [{"acor": [owner.originator], "acop": ALL_OPS}])
    assert acp.rsc == 2001, str(acp)
    acp_ri = acp.resource(TY_ACP)["ri"]
    cnt = owner.create(path, TY_CNT, {"rn": "shared", "acpi": [acp_ri]})
    assert cnt.rsc == 2001, str(cnt)
    r = stranger.retrieve(cnt.location)
    assert r.rsc == 2000, str(r)
    r = stranger.create(cnt.location, TY_CIN, {"con": "x"})
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    r = stranger.delete(cnt.location)
    assert r.rsc == 4103, str(r)


def test_acp_itself_is_governed_by_pvs(cse, owners):
    """TS-0001 9.6.2: pv does not open the ACP; its pvs does."""
    owner, path, stranger = owners
    acp = _acp(owner, path, "acp-self", [{"acor": ["all"], "acop": ALL_OPS}],
               [{"acor": [owner.originator], "acop": ALL_OPS}])
    assert acp.rsc == 2001, str(acp)
    r = stranger.retrieve(acp.location)
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert owner.retrieve(acp.location).rsc == 2000


def test_update_acpi_opens_access(cse, owners):
    """TS-0004 7.3.3.x: adding an acpi by UPDATE changes the decision."""
    owner, path, stranger = owners
    acp = _acp(owner, path, "acp-later", [{"acor": [stranger.originator], "acop": RETRIEVE}],
               [{"acor": [owner.originator], "acop": ALL_OPS}])
    cnt = owner.create(path, TY_CNT, {"rn": "later"}).location
    assert stranger.retrieve(cnt).rsc == 4103
    u = owner.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]})
    assert u.rsc == 2004, str(u)
    assert stranger.retrieve(cnt).rsc == 2000


def test_csebase_without_acpi_only_the_admin(cse, owners):
    """The CSEBase has no creator and, here, no acpi: an AE may register under it (AE
    registration is not an access decision) but not read it or create anything else in
    it (4103); the admin may (docs/access-control.md "Who decides what")."""
    _, _, stranger = owners
    base = cse.name
    for r in (stranger.retrieve(base), stranger.create(base, TY_CNT, {"rn": "squat"})):
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert cse.admin.retrieve(base).rsc == 2000
    r = cse.admin.create(base, TY_CNT, {"rn": "by-admin"})
    assert r.rsc == 2001, str(r)
    assert cse.admin.delete(r.location).rsc == 2002
