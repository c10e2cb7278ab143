"""301: the three request scopes and both ID forms in Uri-Path.
TS-0008 V3.9.0 6.2.2.3 and Table 6.2.2.3-1 (CSE-relative as is; SP-relative: first
segment "~"; absolute: first segment "_"), TS-0001 7.2 (structured and unstructured
resource IDs)."""

import pytest

from onem2m_client import TY_CIN, TY_CNT


@pytest.fixture(scope="module")
def tree(cse):
    """(client, structured cnt path, cnt ri, cse-id without '/')"""
    c, path, _ = cse.ae("Caddr01", "addr01")
    r = c.create(path, TY_CNT, {"rn": "box"})
    assert r.rsc == 2001, str(r)
    c.create(r.location, TY_CIN, {"con": "addressed"})
    return c, r.location, r.resource(TY_CNT)["ri"], cse.env["CSE_ID"].lstrip("/")


def test_structured_cse_relative(tree):
    """Table 6.2.2.3-1, CSE-relative structured: CSEBase/ae/cnt."""
    c, path, ri, _ = tree
    r = c.retrieve(path)
    assert r.rsc == 2000 and r.resource(TY_CNT)["ri"] == ri, str(r)


def test_unstructured_cse_relative(tree):
    """Table 6.2.2.3-1, CSE-relative unstructured: the resource ID alone."""
    c, path, ri, _ = tree
    r = c.retrieve(ri)
    assert r.rsc == 2000 and r.resource(TY_CNT)["rn"] == "box", str(r)


def test_structured_sp_relative(tree):
    """Table 6.2.2.3-1, SP-relative: "~", CSE-ID, then the structured path."""
    c, path, ri, cse_id = tree
    r = c.retrieve("~/%s/%s" % (cse_id, path))
    assert r.rsc == 2000 and r.resource(TY_CNT)["ri"] == ri, str(r)


def test_unstructured_sp_relative(tree):
    """Table 6.2.2.3-1, SP-relative unstructured: "~", CSE-ID, resource ID."""
    c, path, ri, cse_id = tree
    r = c.retrieve("~/%s/%s" % (cse_id, ri))
    assert r.rsc == 2000 and r.resource(TY_CNT)["rn"] == "box", str(r)


def test_structured_absolute(cse, tree):
    """Table 6.2.2.3-1, absolute: "_", SP-ID, CSE-ID, structured path."""
    c, path, ri, cse_id = tree
    sp_id = cse.env.get("SP_ID", "tep.local").lstrip("/")
    r = c.retrieve("_/%s/%s/%s" % (sp_id, cse_id, path))
    assert r.rsc == 2000 and r.resource(TY_CNT)["ri"] == ri, str(r)


def test_unknown_cse_id_in_sp_relative_is_not_found(tree):
    """TS-0004 (To of another CSE without a remoteCSE): never served as a local one."""
    c, path, ri, _ = tree
    r = c.retrieve("~/other-cse/%s" % path)
    assert (r.rsc, r.code) == (4004, "4.04"), str(r)


def test_unknown_path_is_4004(cse, tree):
    """TS-0004 6.6 (NOT_FOUND) mapped 4.04 by TS-0008 Table 6.2.4-1."""
    c, path, _, _ = tree
    r = c.retrieve(path + "/missing")
    assert (r.rsc, r.code) == (4004, "4.04"), str(r)
