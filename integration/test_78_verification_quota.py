"""78: one originator cannot hold every subscription verification (issue 10, attack).
TS-0004 V3.32 7.3.8.2.1 / 7.4.8.2.1 (a subscription is created only after its
notification targets answered the verification request; when the verification cannot be
started: 5204 SUBSCRIPTION_VERIFICATION_INITIATION_FAILED). tep-cse waits up to 5 s for
the answers, and had 32 verifications at once for the whole CSE: one AE sending
subscription CREATEs with silent targets kept them all busy, and every other AE's
subscription failed with 5204. Now an originator has at most `[cse]
verify_per_originator` (default 4) verifications on their way; its others are refused
at once with 5204 (whichever way it spells its From), and another AE's subscription is
still verified and created."""

import json
import select
import socket
import time

import coapmsg as cm
from harness import free_udp_ports
from onem2m_client import NotificationTarget, OneM2MClient, TY_ACP, TY_AE, TY_CNT, TY_SUB

FLOOD = 40
QUOTA = 4


def _ae_with_container(c, rn):
    """An AE and a container of it that its ACP opens to the AE, in every spelling of
    its AE-ID (acor matching, docs/access-control.md)."""
    r = c.create("tep-cse", TY_AE, {"rn": rn, "api": "Ntep.test", "rr": False,
                                    "srv": ["3"]})
    assert r.rsc == 2001, str(r)
    acp = c.create("tep-cse/" + rn, TY_ACP, {"rn": "acp",
                                              "pv": {"acr": [{"acor": [rn], "acop": 63}]},
                                              "pvs": {"acr": [{"acor": [rn], "acop": 63}]}})
    assert acp.rsc == 2001, str(acp)
    r = c.create("tep-cse/" + rn, TY_CNT, {"rn": "watched",
                                            "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert r.rsc == 2001, str(r)
    return r.location


def test_one_originator_cannot_take_every_verification(platform):
    port = platform.ports["cse_coap"]
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # never answers
    silent.bind(("127.0.0.1", 0))
    silent_uri = "coap://127.0.0.1:%d/n" % silent.getsockname()[1]
    hog = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with OneM2MClient("127.0.0.1", port, "Chog01") as h:
            cnt = _ae_with_container(h, "Chog01")
        for i in range(FLOOD):
            body = json.dumps({"m2m:sub": {"rn": "h%d" % i, "nu": [silent_uri],
                                           "enc": {"net": [3]}}}).encode()
            fr = ("Chog01", "/tep-cse/Chog01", "//tep.local/tep-cse/Chog01")[i % 3]
            hog.sendto(cm.onem2m_request(cm.POST, cnt, fr, body=body, ty=TY_SUB,
                                         rqi="hog-%d" % i), ("127.0.0.1", port))

        # the hog's requests beyond its quota are refused at once: 5204
        refused, end = set(), time.monotonic() + 3
        while len(refused) < FLOOD - QUOTA and time.monotonic() < end:
            if not select.select([hog], [], [], 0.1)[0]:
                continue
            m = cm.decode(hog.recv(65535))
            if m.mtype == cm.CON:
                hog.sendto(cm.encode(0, mtype=cm.ACK, mid=m.mid, token=b""), ("127.0.0.1", port))
            if m.code != 0:
                assert m.rsc == 5204, (m.code_str, m.rsc, m.payload)
                refused.add(m.opt(cm.OPT_RQI))
        assert len(refused) == FLOOD - QUOTA, (len(refused), platform["cse"].tail())
        assert platform["cse"].log().count("reason=originator_quota") >= FLOOD - QUOTA

        # meanwhile (the hog's 4 still waiting) another AE subscribes: verified, created
        with OneM2MClient("127.0.0.1", port, "Cother01") as c:
            mine = _ae_with_container(c, "Cother01")
            target = NotificationTarget(c, free_udp_ports(1)[0])
            try:
                t0 = time.monotonic()
                r = c.create(mine, TY_SUB, {"rn": "s", "nu": [target.uri], "enc": {"net": [3]}})
                elapsed = time.monotonic() - t0
            finally:
                target.close()
        assert r.rsc == 2001, "%s\n%s" % (r, platform.logs())
        assert elapsed < 2, elapsed
        assert len(silent.recv(65535)) > 0  # the hog's own verifications did go out
    finally:
        silent.close()
        hog.close()
