"""242: an answer a CSE relays for a forwarded request is bounded by its [cse] max_body,
and the originator learns why. TS-0004 V3.32 7.3.2.6 (the Receiver CSE forwards the
request and relays the answer; TARGET_NOT_REACHABLE when it cannot complete the
forwarding), TS-0008 Table 6.2.4-1 (5103 is 4.04), RFC 7959 2.4 (Block2).

Attack: a registered CSE (here over plain CoAP, its poa a raw UDP responder on the
loopback) answers a request routed to it with Block2 blocks without end, or a Size2 of
4 GiB. Patch item 9 (integration 237) made tep-cse abandon such an answer at max_body,
but the originator got 5103 `no_answer_from_next_hop`, as if the next hop were silent.
Now it gets 5103 TARGET_NOT_REACHABLE `answer_exceeds_max_body` (the hosting CSE's
answer cannot be relayed whole; narrow the request, e.g. with lim), after at most
max_body / 1024 blocks, and tep-cse keeps serving."""

import pytest

from onem2m_client import CseSession
from test_237_notify_block2_body_bound import MAX_BODY, BLOCK, EndlessBlock2Target

TY_CSR = 16


@pytest.fixture(scope="module")
def cse():
    s = CseSession()
    try:
        yield s
    finally:
        s.close()


@pytest.mark.parametrize("size2", [None, 0xFFFFFFFF], ids=["no-size2", "size2-4gib"])
def test_oversized_forwarded_answer_is_5103_answer_exceeds_max_body(cse, size2):
    target = EndlessBlock2Target(size2=size2)
    csi = "/big%d" % target.port
    try:
        reg = cse.client(csi)
        r = reg.create(cse.name, TY_CSR, {"csi": csi, "cb": csi + "/b", "rr": True,
                                         "srv": ["3"], "poa": ["coap://127.0.0.1:%d" % target.port]})
        assert r.rsc == 2001, str(r)
        r = cse.admin.retrieve("~%s/b" % csi)
        asked = list(target.asked)
    finally:
        target.close()
    assert (r.rsc, r.code) == (5103, "4.04"), str(r)
    assert r.json == {"m2m:dbg": "TARGET_NOT_REACHABLE: answer_exceeds_max_body"}, str(r)
    assert asked == list(range(len(asked))) and len(asked) <= MAX_BODY // BLOCK, asked
    assert "event=not_forwarded reason=answer_exceeds_max_body hop=%s" % csi in \
        cse.platform["cse"].log()
    assert cse.admin.retrieve(cse.name).rsc == 2000  # tep-cse keeps serving
