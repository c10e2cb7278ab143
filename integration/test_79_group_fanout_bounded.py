"""79: a group fan-out is bounded and never holds the event loop (issue 10, attack).
TS-0004 V3.32 7.4.13 (group: memberIDs; more members than allowed: 6010
MAX_NUMBER_OF_MEMBER_EXCEEDED), 7.4.14 (<fanOutPoint>: the request goes to each member,
with the path after fopt appended, a member that is itself a <group>/fopt fans out in
turn; the answers come back aggregated, m2m:agr), TS-0001 V3.36 10.2.7.x.

The attack: groups whose mid repeat one resource under different spellings (structured,
-/..., SP-relative, unstructured ri), nested two levels (<outer>/fopt/fopt), turned one
request into about a million sub-requests (880 MB of memory). Now (docs/cse.md
"group"): members are one per resolved path (removed on CREATE/UPDATE, skipped at
fan-out), and every sub-request of one request, nested ones included, is counted before
any is sent: more than `[cse] fanout_max` is 6010 with nothing done. A fan-out that
writes in remote authz mode used to ask tep-authz one blocking round trip per member;
now its decisions are asked together without waiting and the request is parked
(separate response) while another client is served, and every member is written once
however many passes the request takes."""

import os
import signal
import threading
import time

from onem2m_client import OneM2MClient, TY_ACP, TY_AE, TY_CIN, TY_CNT, TY_GRP, TY_SUB

DEADLINE_MS = 6000


def _ae(port, aei):
    c = OneM2MClient("127.0.0.1", port, aei)
    r = c.create("tep-cse", TY_AE, {"rn": aei, "api": "Ntep.test", "rr": False,
                                    "srv": ["3"]})
    assert r.rsc == 2001, str(r)
    return c, "tep-cse/" + aei


def _cnt(c, parent, rn):
    r = c.create(parent, TY_CNT, {"rn": rn})
    assert r.rsc == 2001, str(r)
    return r.location, r.resource(TY_CNT)["ri"]


def _spellings(path, ri):
    """One resource, four member IDs: structured, "-/..." , SP-relative, unstructured."""
    rest = path.split("/", 1)[1]
    return [path, "-/" + rest, "/tep-cse/" + path, ri]


def _grp(c, parent, rn, mid, mt=TY_CNT):
    r = c.create(parent, TY_GRP, {"rn": rn, "mt": mt, "mid": mid, "mnm": 100})
    assert r.rsc == 2001, "%s" % r
    return r.location, r.resource(TY_GRP)


def _served_quickly(port):
    with OneM2MClient("127.0.0.1", port, "CAdmin") as other:
        t0 = time.monotonic()
        r = other.retrieve("tep-cse")
        assert r.rsc == 2000, str(r)
        return time.monotonic() - t0


def test_spellings_collapse_and_the_total_is_bounded(platform_factory, monkeypatch):
    monkeypatch.setenv("TEP_CSE_FANOUT_MAX", "8")
    p = platform_factory(authz_mode="local")
    port = p.ports["cse_coap"]
    c, ae = _ae(port, "Cfan01")
    try:
        # one container written four ways is one member; a group of that group four ways too
        cnt, ri = _cnt(c, ae, "c0")
        inner, g = _grp(c, ae, "inner", _spellings(cnt, ri))
        assert (g["cnm"], g["mid"]) == (1, [cnt]), g
        outer, g = _grp(c, ae, "outer", _spellings(inner, g["ri"]), mt=TY_GRP)
        assert g["cnm"] == 1, g
        t0 = time.monotonic()
        r = c.retrieve(outer + "/fopt/fopt")
        assert r.rsc == 2000 and time.monotonic() - t0 < 2, str(r)
        (one,) = r.json["m2m:agr"]["m2m:rsp"]
        (leaf,) = one["pc"]["m2m:agr"]["m2m:rsp"]
        assert leaf["rsc"] == 2000 and leaf["pc"]["m2m:cnt"]["rn"] == "c0", leaf

        # 3 groups of 3 containers: 3 + 9 = 12 sub-requests > 8: refused, nothing written
        groups, cnts = [], []
        for i in range(3):
            mine = [_cnt(c, ae, "g%dc%d" % (i, j))[0] for j in range(3)]
            cnts += mine
            groups.append(_grp(c, ae, "g%d" % i, mine)[0])
        big, _ = _grp(c, ae, "big", groups, mt=TY_GRP)
        for req in (lambda: c.retrieve(big + "/fopt/fopt"),
                    lambda: c.create(big + "/fopt/fopt", TY_CIN, {"con": "x"})):
            r = req()
            assert (r.rsc, r.code) == (6010, "4.00"), str(r)
            assert r.dbg == "MAX_NUMBER_OF_MEMBER_EXCEEDED: fanout_limit_8_exceeded", str(r)
        assert all(c.retrieve(x).resource(TY_CNT)["cni"] == 0 for x in cnts)
        assert "event=fanout_refused reason=limit max=8" in p["cse"].log()
        assert _served_quickly(port) < 1

        # 2 groups of 3: 2 + 6 = 8: served, each container written once
        small, _ = _grp(c, ae, "small", groups[:2], mt=TY_GRP)
        r = c.create(small + "/fopt/fopt", TY_CIN, {"con": "y"})
        assert r.rsc == 2000, str(r)
        inner_rsps = [x for o in r.json["m2m:agr"]["m2m:rsp"] for x in o["pc"]["m2m:agr"]["m2m:rsp"]]
        assert [x["rsc"] for x in inner_rsps] == [2001] * 6, inner_rsps
        assert [c.retrieve(x).resource(TY_CNT)["cni"] for x in cnts] == [1] * 6 + [0] * 3
    finally:
        c.close()


def test_remote_write_fanout_is_parked_and_writes_each_member_once(platform_factory,
                                                                   monkeypatch):
    """The group's own (fopt) decision is in tep-cse's decision cache from an earlier
    fan-out; the members' are not cacheable (their ACP has a time window). tep-authz
    frozen: the fan-out CREATE of a subscription (Create and Retrieve decisions per
    member, the second asked only once the first is answered) is parked instead of
    asking member after member with the loop held; another AE registers meanwhile; once
    tep-authz runs, every member answers 2001 (a member written in an earlier pass and
    written again would answer 4105)."""
    monkeypatch.setenv("TEP_AUTHZ_CACHE_MS", "60000")
    p = platform_factory(deadline_ms=DEADLINE_MS)
    port = p.ports["cse_coap"]
    c, ae = _ae(port, "Cfan02")
    acp = c.create(ae, TY_ACP, {"rn": "acp", "pvs": {"acr": [{"acor": ["Cfan02"], "acop": 63}]},
                                "pv": {"acr": [{"acor": ["Cfan02"], "acop": 63,
                                                "acco": [{"actw": ["* * * * * * *"]}]}]}})
    assert acp.rsc == 2001, str(acp)
    cnts = []
    for i in range(3):
        r = c.create(ae, TY_CNT, {"rn": "c%d" % i, "acpi": [acp.resource(TY_ACP)["ri"]]})
        assert r.rsc == 2001, str(r)
        cnts.append(r.location)
    grp, _ = _grp(c, ae, "g", cnts)
    sub = {"nu": ["Cfan02"], "enc": {"net": [3]}}
    r = c.create(grp + "/fopt", TY_SUB, dict(sub, rn="warm"))  # caches the fopt decision
    assert [x["rsc"] for x in r.json["m2m:agr"]["m2m:rsp"]] == [2001] * 3, str(r)
    authz = p["authz"].proc.pid
    out = {}

    def fan():
        with OneM2MClient("127.0.0.1", port, "Cfan02") as f:
            t0 = time.monotonic()
            out["r"] = f.create(grp + "/fopt", TY_SUB, dict(sub, rn="s1"))
            out["elapsed"] = time.monotonic() - t0

    os.kill(authz, signal.SIGSTOP)
    try:
        th = threading.Thread(target=fan)
        th.start()
        p["cse"].wait_log("event=request_parked path=%s/fopt" % grp, 5)
        t0 = time.monotonic()
        other, _ = _ae(port, "Cother02")
        other.close()
        assert time.monotonic() - t0 < DEADLINE_MS / 1000 / 2
        assert th.is_alive(), "answered while tep-authz was frozen: %s" % out
    finally:
        os.kill(authz, signal.SIGCONT)
    th.join(DEADLINE_MS / 1000 + 10)
    try:
        r = out["r"]
        assert r.rsc == 2000, "%s\n%s" % (r, p.logs())
        rsps = r.json["m2m:agr"]["m2m:rsp"]
        assert sorted(x["to"] for x in rsps) == sorted(cnts)
        assert [x["rsc"] for x in rsps] == [2001] * 3, rsps
        for cnt in cnts:
            got = c.retrieve(cnt + "/s1")
            assert got.rsc == 2000 and got.resource(TY_SUB)["nu"] == ["Cfan02"], str(got)
        assert "rule=decision_timeout" not in p["cse"].log()
    finally:
        c.close()
