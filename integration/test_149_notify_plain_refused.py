"""149: plain CoAP notification targets only where configured (issue 14 item 5).

A notification over plain CoAP carries the resource in the clear and its answer is
unauthenticated. tep-cse sends one only where `[cse] notify_plain` allows it: the
default, `loopback`, allows 127.0.0.0/8 and ::1 (the datagram never leaves the host);
`off` refuses every plain target; `any` allows every address (closed networks). A
subscription whose verification request would go to a refused target is refused with
5204 SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, the RSC TS-0004 7.4.8.2.1 (Recv-6.4 a)
names when the Hosting CSE cannot send a verification request, before anything is sent;
a notification to a refused target (an AE's own coap:// pointOfAccess) is not sent and is
logged. The refusal is the policy, not the network: with `any` the same target gets the
verification request and the notification."""

import asyncio
import json
import select
import socket
import threading
import time

import pytest

from harness import ae_path, free_udp_ports, until


def _local_address():
    """A non-loopback address of this host (the source address towards a documentation
    network; nothing is sent), or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.123", 9))
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


ADDR = _local_address()
pytestmark = pytest.mark.skipif(ADDR is None, reason="this host has no non-loopback address")


class PlainReceiver:
    """aiocoap's plain CoAP server on (host, port) in a thread of its own: records every
    request, answers 2.04 RSC 2000."""

    def __init__(self, host, port):
        import aiocoap
        import onem2m_client as oc

        self.received, self.refuse = [], None
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(aiocoap.Context.create_server_context(
            oc._NotifySite(self), bind=(host, port)))
        self.uri = "coap://%s:%d/n" % (host, port)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self):
        asyncio.run_coroutine_threadsafe(self.ctx.shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def _device(platform, name):
    dev = platform.enrolled_device(name)
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    return dev


def test_plain_target_off_loopback_refused_by_default(platform):
    dev = _device(platform, "pln01")
    rx = PlainReceiver(ADDR, free_udp_ports(1)[0])
    try:
        # a subscription naming it: 5204 at once, nothing sent
        r = dev.run("subscribe", "data", rx.uri)
        assert r.rc == 3 and r.rsc == 5204, str(r)
        assert "plain_coap_target_not_allowed" in r.err, r.err
        # the AE's own pointOfAccess (no verification: nu is the AE itself): the
        # subscription is made, its notification is not sent
        r = dev.run("update-poa", rx.uri)
        assert r.rc == 0 and r.rsc == 2004, str(r)
        r = dev.run("subscribe", "data", dev.state_values()["enrolee_id"])
        assert r.rc == 0 and r.rsc == 2001, str(r)
        r = dev.run("create-cin", "data", "secret")
        assert r.rc == 0, str(r)
        platform["cse"].wait_log("reason=plain_coap_not_allowed", timeout=5)
        time.sleep(0.5)
    finally:
        rx.close()
    assert rx.received == [], [m.json for m in rx.received]
    log = platform["cse"].log()
    assert "event=notification_refused reason=plain_coap_not_allowed" in log
    assert "originator=%s secure=1 rsc=5204" % dev.state_values()["enrolee_id"] in log


def test_plain_target_allowed_with_any_and_refused_with_off(platform):
    platform["cse"].stop()
    platform.configure(cse_notify_plain="any")
    platform["cse"].start()
    dev = _device(platform, "pln02")
    rx = PlainReceiver(ADDR, free_udp_ports(1)[0])
    try:
        r = dev.run("subscribe", "data", rx.uri)
        assert r.rc == 0 and r.rsc == 2001, "%s\n%s" % (r, platform["cse"].tail())
        r = dev.run("create-cin", "data", "in-the-clear")
        assert r.rc == 0, str(r)
        assert until(lambda: len(rx.received) >= 2, timeout=5), rx.received
    finally:
        rx.close()
    assert rx.received[0].json["m2m:sgn"]["vrq"] is True
    assert rx.received[1].json["m2m:sgn"]["nev"]["rep"]["m2m:cin"]["con"] == "in-the-clear"

    # off: not even a loopback target
    platform["cse"].stop()
    platform.configure(cse_notify_plain="off")
    platform["cse"].start()
    lo = PlainReceiver("127.0.0.1", free_udp_ports(1)[0])
    try:
        r = dev.run("subscribe", "data", lo.uri)
        assert r.rc == 3 and r.rsc == 5204, str(r)
        assert "plain_coap_target_not_allowed" in r.err, r.err
        time.sleep(0.3)
    finally:
        lo.close()
    assert lo.received == []
