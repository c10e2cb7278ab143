"""121: tep-cse opens a store written by a tep-cse of schema 1 (before the child and age
indexes, issue 12) and migrates it at start-up, once: the containers' instances keep
their order, la/ol, cni/cbs and limits, and go on after it. docs/internals.md tep-cse
(store schema), DESIGN.md 5 (a store from a newer schema is refused, never
overwritten; an older one is upgraded).

fixtures/cse-store-schema1.tar.gz is tep-cse's data.mdb as written by tep-cse at commit
97bc734 (CSE_SCHEMA 1), plain CoAP, no enrolee: AE "mig" (Cmig01) holding container c
(mni 5, 12 instances v00..v11 created: v07..v11 left), container d (a, bb, ccc) and
d/in (mbs 10: 5678, 9abc left)."""

import os
import tarfile

import harness
from onem2m_client import OneM2MClient, TY_CIN, TY_CNT

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "cse-store-schema1.tar.gz")


def _edges(c, cnt):
    la = c.retrieve(cnt + "/la").resource(TY_CIN)["con"]
    ol = c.retrieve(cnt + "/ol").resource(TY_CIN)["con"]
    return ol, la


def _counts(c, cnt):
    got = c.retrieve(cnt).resource(TY_CNT)
    return got["cni"], got["cbs"]


def test_schema1_store_migrated_once_and_kept(platform, tmp_path):
    with tarfile.open(FIXTURE) as t:
        t.extractall(tmp_path)
    platform["cse"].stop()
    harness.replace_data_dir(platform, "cse", str(tmp_path))
    platform["cse"].start()
    log = platform["cse"].log()
    assert "event=store_migrated" in log and "from=1 to=3 instances=10" in log, log[-2000:]

    c = OneM2MClient("127.0.0.1", platform.ports["cse_coap"], "Cmig01")
    try:
        base = platform.env["CSE_NAME"] + "/mig"
        assert _edges(c, base + "/c") == ("v07", "v11")
        assert _counts(c, base + "/c") == (5, 15)
        assert _edges(c, base + "/d") == ("a", "ccc")
        assert _counts(c, base + "/d") == (3, 6)
        assert _edges(c, base + "/d/in") == ("5678", "9abc")
        # the child index: direct children only (d holds 3 instances and one container)
        kids = c.retrieve(base + "/d", query="rcn=6").resource()
        assert len(kids["rrf"]) == 4, kids
        got = c.retrieve(base + "/d", query="fu=1&ty=4&lvl=1").resource()
        assert len(got) == 3, got

        # the index goes on: order and the limits
        assert c.create(base + "/c", TY_CIN, {"con": "v12"}).rsc == 2001
        assert _edges(c, base + "/c") == ("v08", "v12")
        assert _counts(c, base + "/c") == (5, 15)
        assert c.create(base + "/d/in", TY_CIN, {"con": "defg"}).rsc == 2001
        assert _edges(c, base + "/d/in") == ("9abc", "defg")
        assert _counts(c, base + "/d/in") == (2, 8)

        # once: the next start finds schema 3
        platform["cse"].stop()
        platform["cse"].start()
        assert "store_migrated" not in platform["cse"].log(), "migrated twice"
        assert _edges(c, base + "/c") == ("v08", "v12")
    finally:
        c.close()
