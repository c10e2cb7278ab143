"""312: the resource rules of <CSEBase>, and its policy as the operator sets it
(docs/cse.md "Resource rules: CSEBase", docs/access-control.md "The CSEBase's policy").
TS-0004 V3.32 7.4.3.1 (Table 7.4.3.1-3: currentTime ctm), 7.4.3.2.3/7.4.3.2.4 (the
<CSEBase> is not updated or deleted via the API: OPERATION_NOT_ALLOWED, 4005, 4.05),
TS-0001 V3.36 9.6.1.3.2 (accessControlPolicyIDs of the CSEBase decide what may be
created under it; AE registration is not such a decision)."""

import json
import re

import pytest

from harness import binary, run_tool
from onem2m_client import TY_ACP, TY_AE, TY_CNT, TY_CSE, TY_GRP, cse_session
import tepenv

OPEN_CREATE = {"acr": [{"acor": ["all"], "acop": 1}]}


def test_csebase_shows_its_attributes_and_current_time(cse):
    r = cse.admin.retrieve(cse.name)
    cb = r.resource(TY_CSE)
    assert r.rsc == 2000 and cb["ty"] == TY_CSE and cb["csi"] == cse.env["CSE_ID"], str(r)
    assert cb["cst"] == 1 and 2 in cb["srt"] and cb["srv"]
    assert re.fullmatch(r"\d{8}T\d{6}", cb["ctm"]), cb
    assert "acpi" not in cb  # default: no policy


@pytest.mark.parametrize("who", ["admin", "ae", "stranger"])
def test_update_and_delete_are_4005_for_anyone(cse, who):
    c = {"admin": cse.admin, "stranger": cse.client("Cstranger-cb")}.get(who)
    if c is None:
        c, _, _ = cse.ae("Ccb-" + who, "cb-" + who)
    for r in (c.update(cse.name, TY_CSE, {"lbl": ["x"]}), c.update(cse.name, TY_CSE, {}),
              c.update(cse.name, TY_CSE, b""), c.update(cse.name, TY_CSE, {"acpi": ["x"]}),
              c.delete(cse.name)):
        assert (r.rsc, r.code) == (4005, "4.05"), str(r)
    assert cse.admin.retrieve(cse.name).rsc == 2000  # still there


def test_default_policy_ae_registers_but_creates_nothing_else(cse):
    """Default ([cse] csebase_pv empty): the CSEBase has no acpi, so only the admin
    creates under it; an AE's registration is not an access decision."""
    c, _, r = cse.ae("Ccb-default", "cb-default")
    assert r.rsc == 2001
    for ty, attrs in ((TY_CNT, {"rn": "cb-cnt"}),
                      (TY_GRP, {"rn": "cb-grp", "mid": [], "mnm": 2}),
                      (TY_ACP, {"rn": "cb-acp", "pv": {"acr": []},
                                "pvs": {"acr": [{"acor": [c.originator], "acop": 63}]}})):
        got = c.create(cse.name, ty, attrs)
        assert (got.rsc, got.code) == (4103, "4.03"), str(got)
    assert c.retrieve(cse.name).rsc == 4103
    assert cse.admin.create(cse.name, TY_CNT, {"rn": "cb-admin"}).rsc == 2001


@pytest.fixture(scope="module", params=["remote", "local"])
def open_cse(request):
    """The configured policy, decided by tep-authz's PDP and by the local one."""
    yield from cse_session(csebase_pv=json.dumps(OPEN_CREATE), authz_mode=request.param)


def test_configured_policy_lets_aes_create_under_the_csebase(open_cse):
    cse = open_cse
    cb = cse.admin.retrieve(cse.name).resource(TY_CSE)
    acp = cse.admin.retrieve(cse.name + "/acp-csebase")
    assert acp.rsc == 2000 and cb["acpi"] == [acp.resource(TY_ACP)["ri"]], (cb, str(acp))
    assert acp.resource(TY_ACP)["pv"] == OPEN_CREATE
    c, _, _ = cse.ae("Ccb-open", "cb-open")
    r = c.create(cse.name, TY_CNT, {"rn": "shared"})
    assert r.rsc == 2001, str(r)
    assert c.retrieve(r.location).rsc == 2000        # its creator
    assert c.retrieve(cse.name).rsc == 4103          # Create only, no Retrieve
    # the policy's ACP is the admin's: an AE cannot widen it
    u = c.update(cse.name + "/acp-csebase", TY_ACP, {"pv": {"acr": [{"acor": ["all"],
                                                                      "acop": 63}]}})
    assert (u.rsc, u.code) == (4103, "4.03"), str(u)
    # the admin may change it at runtime: Retrieve as well
    u = cse.admin.update(cse.name + "/acp-csebase", TY_ACP,
                         {"pv": {"acr": [{"acor": ["all"], "acop": 3}]}})
    assert u.rsc == 2004, str(u)
    assert c.retrieve(cse.name).rsc == 2000


def test_configuration_is_reapplied_at_start_and_can_be_removed(open_cse):
    p = open_cse.platform
    p["cse"].stop()
    p["cse"].start()
    acp = open_cse.admin.retrieve(open_cse.name + "/acp-csebase").resource(TY_ACP)
    assert acp["pv"] == OPEN_CREATE  # the configuration wins over the runtime change
    p.configure(csebase_pv="")
    p["cse"].stop()
    p["cse"].start()
    cb = open_cse.admin.retrieve(open_cse.name).resource(TY_CSE)
    assert "acpi" not in cb, cb
    assert open_cse.admin.retrieve(open_cse.name + "/acp-csebase").rsc == 4004
    c, _, _ = open_cse.ae("Ccb-closed", "cb-closed")
    assert c.create(open_cse.name, TY_CNT, {"rn": "closed"}).rsc == 4103


@pytest.mark.parametrize("bad", ['{"acr":[{"acor":["all"],"acop":64}]}', "not json", '{"acr":7}'])
def test_bad_csebase_pv_refused_by_check_config(open_cse, monkeypatch, bad):
    monkeypatch.setenv("TEP_CSE_CSEBASE_PV", bad)
    argv = [binary("cse"), "--config", tepenv.config_path(open_cse.platform.dir, "cse")]
    r = run_tool(argv + ["--check-config"])
    assert r.rc != 0 and "csebase_pv" in r.out + r.err, str(r)
    monkeypatch.setenv("TEP_CSE_CSEBASE_PV", json.dumps(OPEN_CREATE))
    assert run_tool(argv + ["--check-config"]).rc == 0


def test_ae_registration_unaffected_by_the_policy(open_cse):
    c = open_cse.client(None)
    r = c.create(open_cse.name, TY_AE, {"api": "Ntep.cb", "rr": False, "srv": ["3"]}, fr=None)
    assert r.rsc == 2001, str(r)


def test_policy_name_taken_by_an_ae_refuses_the_start(cse):
    """An AE registered as "acp-csebase" while no policy is set: setting csebase_pv then
    does not write privileges into that AE; tep-cse refuses to start and says why."""
    _, _, r = cse.ae("Ccb-squat", "acp-csebase")
    assert r.rsc == 2001
    p = cse.platform
    p["cse"].stop()
    p.configure(csebase_pv=json.dumps(OPEN_CREATE))
    r = run_tool([binary("cse"), "--config", tepenv.config_path(p.dir, "cse")])
    assert r.rc != 0 and "event=csebase_policy_refused" in r.out + r.err, str(r)
    p.configure(csebase_pv="")
    p["cse"].start()
    got = cse.admin.retrieve(cse.name + "/acp-csebase")
    assert got.rsc == 2000 and "pv" not in got.resource(TY_AE), str(got)


@pytest.mark.parametrize("name", ["tep cse", "-", "_cse", "tep~cse", "a/b", "x" * 256])
def test_cse_name_must_be_a_resource_name(cse, monkeypatch, name):
    """[cse] cse_name is the CSEBase's resourceName: the same rule as any rn."""
    monkeypatch.setenv("TEP_CSE_CSE_NAME", name)
    argv = [binary("cse"), "--config", tepenv.config_path(cse.platform.dir, "cse")]
    r = run_tool(argv + ["--check-config"])
    assert r.rc != 0 and "cse_name" in r.out + r.err, str(r)
    monkeypatch.setenv("TEP_CSE_CSE_NAME", "tep-cse.2_b")
    assert run_tool(argv + ["--check-config"]).rc == 0
