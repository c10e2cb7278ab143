"""111: one pass per request in remote mode (issue 12 item 2). A request parked while
tep-authz decides is resumed with the target its first pass loaded and the facts
(policies, creator, groups) of the decision it asked, not read and rebuilt from the store
again (cse_pass_memo, docs/internals.md "Asynchronous decisions"); tepctl status cse
counts them as pep_resumed_from_memo. What was kept is used only while nothing was
written in between: a write between the two passes (here the admin, decided in tep-cse
without a round trip, updates the container while tep-authz is frozen) makes the resumed
pass read the target afresh, so the answer shows the container as it is when answered,
as before."""

import json
import os
import signal
import socket
import threading
import time

import pytest

import coapmsg
from onem2m_client import TY_ACP, TY_AE, TY_CIN, TY_CNT, OneM2MClient

N = 20


def _port(p):
    return int(p.env["CSE_COAP"].rsplit(":", 1)[1])


def _setup(p, originator, rn):
    with OneM2MClient("127.0.0.1", _port(p), originator) as c:
        r = c.create(p.env["CSE_NAME"], TY_AE,
                     {"rn": rn, "api": "Ntep.pass", "rr": False, "srv": ["3"]})
        assert r.rsc == 2001, str(r)
        cnt = p.env["CSE_NAME"] + "/" + rn + "/data"
        assert c.create(p.env["CSE_NAME"] + "/" + rn, TY_CNT,
                        {"rn": "data", "lbl": ["v:1"]}).rsc == 2001
        assert c.create(cnt, TY_CIN, {"con": "first"}).rsc == 2001
    return cnt


def _hits(p):
    return int(p.tepctl("status", "cse", admin="cse").kv["pep_resumed_from_memo"])


def test_resumed_pass_does_not_read_again(platform_factory):
    p = platform_factory()
    cnt = _setup(p, "Cpass", "pass")
    h0 = _hits(p)
    parked0 = p["cse"].log().count("event=request_parked")
    for i in range(N):
        m = coapmsg.exchange(_port(p), coapmsg.onem2m_request(coapmsg.GET, cnt + "/la",
                                                              "Cpass", rqi="p-%d" % i))
        assert m is not None and m.rsc == 2000, m and vars(m)
        assert json.loads(m.payload)["m2m:cin"]["con"] == "first"
    assert p["cse"].log().count("event=request_parked") - parked0 >= N
    # each resumed pass took its target and its decision's facts from the first pass
    assert _hits(p) - h0 >= 2 * N, (h0, _hits(p))


def test_write_between_passes_is_read_afresh(platform_factory):
    p = platform_factory()
    cnt = _setup(p, "Cfresh", "fresh")
    authz = p["authz"].proc.pid
    offset = len(p["cse"].log())
    got = {}

    def read():
        got["m"] = coapmsg.exchange(_port(p), coapmsg.onem2m_request(coapmsg.GET, cnt,
                                                                     "Cfresh"), timeout=10)

    os.kill(authz, signal.SIGSTOP)
    try:
        th = threading.Thread(target=read)
        th.start()
        end = time.monotonic() + 5
        while "event=request_parked path=%s" % cnt not in p["cse"].log()[offset:]:
            assert time.monotonic() < end, p["cse"].tail()
            time.sleep(0.02)
        with OneM2MClient("127.0.0.1", _port(p), p.env["ADMIN_ORIGINATOR"]) as admin:
            r = admin.update(cnt, TY_CNT, {"lbl": ["v:2"]})
            assert r.rsc == 2004, str(r)
    finally:
        os.kill(authz, signal.SIGCONT)
    th.join(15)
    m = got["m"]
    assert m is not None and m.rsc == 2000, m and vars(m)
    assert json.loads(m.payload)["m2m:cnt"]["lbl"] == ["v:2"], m.payload


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_policy_change_is_seen_by_the_next_request(platform_factory, mode):
    """Policies are cached (read from the store while nothing was written, parsed by their
    text): an ACP updated between two requests decides the second one."""
    p = platform_factory(authz_mode=mode)
    cnt = _setup(p, "Cowner", "owner")
    port = _port(p)
    with OneM2MClient("127.0.0.1", port, p.env["ADMIN_ORIGINATOR"]) as admin, \
            OneM2MClient("127.0.0.1", port, "Creader") as reader:
        acp = admin.create(p.env["CSE_NAME"] + "/owner", TY_ACP, {
            "rn": "acp", "pv": {"acr": [{"acor": ["Creader"], "acop": 2}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        ri = acp.resource(TY_ACP)["ri"]
        assert admin.update(cnt, TY_CNT, {"acpi": [ri]}).rsc == 2004
        acp_path = p.env["CSE_NAME"] + "/owner/acp"
        for allowed in (True, False, True, False):
            for _ in range(3):  # the same question again: what a cache would answer
                r = reader.retrieve(cnt)
                assert r.rsc == (2000 if allowed else 4103), (allowed, str(r))
            acor = ["Cnobody"] if allowed else ["Creader"]
            u = admin.update(acp_path, TY_ACP, {"pv": {"acr": [{"acor": acor, "acop": 2}]}})
            assert u.rsc == 2004, str(u)
