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

import json

import pytest

from onem2m_client import OneM2MClient, TY_ACP, TY_CNT

ALL_OPS, RETRIEVE, UPDATE = 63, 2, 4


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


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


# ---- dynamic authorization grants privileges, never selfPrivileges ---------------------

from test_41_dynauth_tokens import dyn  # noqa: E402,F401  (the DynPlatform fixture)
import harness  # noqa: E402


def _probe(d, dev, method, path, body=None, query=None):
    ae = dev.state_values()["enrolee_id"]
    return d.probe(d.kpsa(dev), d.p.ports["cse_coaps"], method, path, body=body,
                   query=query, from_=ae)


def test_token_with_update_cannot_replace_acpi(dyn):
    """A token granting Update (TS-0003 7.3.2.3, indirect flow) lets its holder update
    the container's labels, but not its acpi: a token carries privileges, and an acpi
    change needs selfPrivileges (TS-0001 9.6.1.3.2): 4103, acpi unchanged."""
    d = dyn(grants=[{"or": "Cdevice01", "ris": ["/tep-cse/Cdevice02/*"], "acop": 4,
                     "lt": 600}])
    assert d.p.env["CSE_NAME"] == "tep-cse"
    owner, cnt, _ = harness.device_with_data(d.p, "device02")
    holder = d.p.enrolled_device("device01")
    code, ans = d.ask_token(holder, ["/" + cnt], acop=4)
    assert code == "2.01", ans
    q = "tids=" + ans["tkid"]
    r = _probe(d, holder, "PUT", cnt, body=json.dumps({"m2m:cnt": {"lbl": ["by-token"]}}),
               query=q)
    assert r.rsc == 2004, "%s\n%s" % (r, d.p.logs())
    admin = OneM2MClient("127.0.0.1", d.p.ports["cse_coap"], d.p.env["ADMIN_ORIGINATOR"])
    try:
        acp = admin.create(d.p.env["CSE_NAME"], TY_ACP, {
            "rn": "acp-holder", "pv": {"acr": [{"acor": ["Cdevice01"], "acop": ALL_OPS}]},
            "pvs": {"acr": [{"acor": ["Cdevice01"], "acop": ALL_OPS}]}})
        assert acp.rsc == 2001, str(acp)
        ri = acp.resource(TY_ACP)["ri"]
        r = _probe(d, holder, "PUT", cnt, body=json.dumps({"m2m:cnt": {"acpi": [ri]}}), query=q)
        assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
        got = admin.retrieve(cnt)
        assert got.rsc == 2000 and "acpi" not in got.resource(TY_CNT), str(got)
    finally:
        admin.close()
