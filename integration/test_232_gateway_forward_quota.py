"""232: forwards waiting for a next hop that never answers are bounded per session (64)
and in all (1024), so one client cannot hold every parked request slot of the IN-CSE.
TS-0004 V3.32 7.3.2.6 (forwarding), Table 6.6.3.6-1 (5103 TARGET_NOT_REACHABLE).

Attack: a CSE with a valid enrolment (/mn3) registers with a poa that swallows every
datagram; a plain-CoAP client then sends 100 requests at once to ~/mn3/x. Each was
parked for the 8 s forward timeout (4096 parked slots in all: a few thousand such
requests and no request needing a remote decision could park). Now the 65th and later
are answered at once, 5103 `forward_quota`, and the IN-CSE still answers another client."""

import asyncio
import json
import socket

from harness import enrol_argv_safe_psk
from onem2m_client import GET, NON, OneM2MClient
from thirdparty import COAP_CLIENTS, coap_client

import pytest

pytestmark = pytest.mark.skipif(COAP_CLIENTS["openssl"] is None,
                                reason="coap-client-openssl (libcoap3-bin) missing")


def _rogue_registered(p, poa):
    psk = enrol_argv_safe_psk(p, p.add_enrolee("mn3", "--ae-id", "/mn3"))
    body = json.dumps({"m2m:csr": {"csi": "/mn3", "cb": "/mn3/mn3", "rr": True,
                                   "srv": ["3"], "poa": [poa]}})
    reply, trace = coap_client("openssl", p.env["CSE_COAPS"] + "/" + p.env["CSE_NAME"],
                               "post", "/mn3", ty=16, body=body,
                               psk=psk)
    assert reply is not None and reply.rsc == 2001, trace + p["cse"].tail()


def test_forwards_to_a_silent_next_hop_are_bounded_per_session(platform):
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))  # receives, never answers
    try:
        _rogue_registered(platform, "coap://127.0.0.1:%d" % hole.getsockname()[1])
        port = platform.ports["cse_coap"]
        with OneM2MClient("127.0.0.1", port, "Cflood") as c:
            async def burst():
                reqs = [c.ctx.request(c.message(GET, "~/mn3/mn3/x%d" % i, mtype=NON)).response
                        for i in range(100)]
                return await asyncio.gather(*reqs, return_exceptions=True)

            answers = c.run(burst(), timeout=30)
        quota = [a for a in answers if not isinstance(a, Exception) and
                 b"forward_quota" in a.payload]
        assert len(quota) >= 100 - 64, [a.payload[:80] for a in answers[:3]]
        assert "event=not_forwarded reason=forward_quota" in platform["cse"].log()
        # the IN-CSE still answers someone else at once
        with OneM2MClient("127.0.0.1", port, platform.env["ADMIN_ORIGINATOR"]) as admin:
            assert admin.retrieve(platform.env["CSE_NAME"]).rsc == 2000
    finally:
        hole.close()
