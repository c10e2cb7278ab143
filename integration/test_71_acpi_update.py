"""71: who may change a resource's accessControlPolicyIDs, in both decision modes. The
attack: an AE granted only Update in the container's ACP (pv) replaced acpi with its own
ACP, took full control and locked the owner out. Now acpi is changed only with Update in
the selfPrivileges (pvs) of the ACPs it references now, and only alone.
TS-0001 V3.36 9.6.1.3.2 accessControlPolicyIDs: "a request to Update the
accessControlPolicyIDs attribute shall be the only attribute in the UPDATE request" (else
4000 BAD_REQUEST, the generic error for a request the CSE refuses to process as given);
"To update the accessControlPolicyIDs attribute, a Hosting CSE shall check whether the
Originator has Update privilege in any current selfPrivileges"; without acpi the default
policy (only the creator); docs/access-control.md "Who decides what"."""

import pytest

from onem2m_client import TY_ACP, TY_CNT, cse_session

ALL_OPS, RETRIEVE, UPDATE = 63, 2, 4


@pytest.fixture(scope="module", params=["remote", "local"])
def cse(request):
    yield from cse_session(authz_mode=request.param)


@pytest.fixture(scope="module")
def parties(cse):
    """(owner, owner's AE path, editor: Update+Retrieve in pv, keeper: Update in pvs only,
    editor's AE path)."""
    owner, path, _ = cse.ae("Cacpi-owner", "acpi-owner")
    editor, epath, _ = cse.ae("Cacpi-editor", "acpi-editor")
    keeper, _, _ = cse.ae("Cacpi-keeper", "acpi-keeper")
    return owner, path, editor, keeper, epath


def _acp(c, parent, rn, pv_acr, pvs_acr):
    r = c.create(parent, TY_ACP, {"rn": rn, "pv": {"acr": pv_acr}, "pvs": {"acr": pvs_acr}})
    assert r.rsc == 2001, str(r)
    return r.resource(TY_ACP)["ri"]


def _shared(parties, rn):
    """A container of the owner whose ACP gives the editor Update+Retrieve (pv), the owner
    everything (pv and pvs) and the keeper Update in pvs; and the editor's own ACP."""
    owner, path, editor, keeper, epath = parties
    acp = _acp(owner, path, "acp-" + rn,
               [{"acor": [owner.originator], "acop": ALL_OPS},
                {"acor": [editor.originator], "acop": UPDATE | RETRIEVE}],
               [{"acor": [owner.originator], "acop": ALL_OPS},
                {"acor": [keeper.originator], "acop": UPDATE}])
    cnt = owner.create(path, TY_CNT, {"rn": rn, "acpi": [acp]})
    assert cnt.rsc == 2001, str(cnt)
    own = _acp(editor, epath, "acp-mine-" + rn, [{"acor": [editor.originator], "acop": ALL_OPS}],
               [{"acor": [editor.originator], "acop": ALL_OPS}])
    return cnt.location, acp, own


def test_update_in_pv_cannot_replace_acpi(parties):
    """The attack: the editor (Update in pv) points acpi at its own ACP: 4103, acpi
    unchanged, the owner keeps access. The editor's legitimate Update still works."""
    owner, _, editor, _, _ = parties
    cnt, acp, own = _shared(parties, "takeover")
    r = editor.update(cnt, TY_CNT, {"acpi": [own]})
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    r = editor.update(cnt, TY_CNT, {"acpi": None})  # removing it (default policy) likewise
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    got = owner.retrieve(cnt)
    assert got.rsc == 2000 and got.resource(TY_CNT)["acpi"] == [acp], str(got)
    u = editor.update(cnt, TY_CNT, {"lbl": ["edited"]})
    assert u.rsc == 2004, str(u)
    assert owner.update(cnt, TY_CNT, {"lbl": ["owner"]}).rsc == 2004


def test_acpi_must_be_alone(parties):
    """acpi together with another attribute is 4000, even from a party that could change
    both; nothing is changed."""
    owner, _, _, _, _ = parties
    cnt, acp, _ = _shared(parties, "alone")
    r = owner.update(cnt, TY_CNT, {"acpi": [acp], "lbl": ["both"]})
    assert (r.rsc, r.code) == (4000, "4.00") and "only" in r.dbg, str(r)
    assert "lbl" not in owner.retrieve(cnt).resource(TY_CNT)


def test_update_in_pvs_may_change_acpi(parties):
    """The keeper, with Update in pvs only, relinks the container (and may not read it,
    which pv decides); the owner (pvs) may too."""
    owner, path, editor, keeper, _ = parties
    cnt, acp, own = _shared(parties, "keeper")
    assert keeper.retrieve(cnt).rsc == 4103
    other = _acp(owner, path, "acp-keeper-next",
                 [{"acor": [owner.originator, editor.originator], "acop": ALL_OPS}],
                 [{"acor": [owner.originator], "acop": ALL_OPS}])
    r = keeper.update(cnt, TY_CNT, {"acpi": [other]})
    assert r.rsc == 2004, str(r)
    assert owner.retrieve(cnt).resource(TY_CNT)["acpi"] == [other]
    # now the ACPs referenced are `other`, whose pvs names only the owner
    r = keeper.update(cnt, TY_CNT, {"acpi": [acp]})
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert owner.update(cnt, TY_CNT, {"acpi": [acp]}).rsc == 2004


def test_without_acpi_only_the_creator_sets_it(parties):
    """No acpi yet: the default policy (TS-0001 9.6.1.3.2) gives only the creator the
    right to set one."""
    owner, path, editor, _, _ = parties
    _, acp, own = _shared(parties, "unset")
    cnt = owner.create(path, TY_CNT, {"rn": "no-acpi-yet"}).location
    r = editor.update(cnt, TY_CNT, {"acpi": [own]})
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert owner.update(cnt, TY_CNT, {"acpi": [acp]}).rsc == 2004
