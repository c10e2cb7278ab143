"""77: a subscription's verification is answered by each notification target itself, once
(issue 10, attack). TS-0004 V3.32 7.3.8.2.1 / 7.4.8.2.1 (the Hosting CSE sends a
verification request to each notificationURI that is not the originator and creates the
subscription only when every one of them answered successfully, else 5204
SUBSCRIPTION_VERIFICATION_INITIATION_FAILED), TS-0008 V3.9 6.2 / RFC 7252 5.3.2 (a
response matches its request by token, on the endpoint the request went to).

The attack: a subscriber names itself and a victim as nu. tep-cse used to count any
response carrying the verification's 4-byte id, once per response, on any client session:
the subscriber answered its own verification request twice and the subscription was
created for a victim that never answered (which it would then flood). Now each request
has 8 random token bytes, counts once, and only from the session it went on: answering
twice, answering with the victim's token (leaked here on purpose) or with a guessed one
changes nothing: 5204 after the verification wait, nothing created. The same raw
responder answering once per request, honestly, gets the subscription: the refusal is
the CSE's, not a broken responder's."""

import select
import socket
import threading
import time

import coapmsg as cm
from onem2m_client import OneM2MClient, TY_AE, TY_CNT, TY_SUB

CHANGED = (2 << 5) | 4  # 2.04
VERIFY_WAIT_S = 5


def _rsp(mtype, mid, token):
    return cm.encode(CHANGED, [(cm.OPT_RSC, cm.uint_bytes(2000))], mtype=mtype, mid=mid,
                     token=token)


class RawTarget:
    """A UDP notification target on 127.0.0.1 that records the CSE's requests."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = []  # (Message, addr)

    @property
    def uri(self):
        return "coap://127.0.0.1:%d/notify" % self.port

    def poll(self):
        while select.select([self.sock], [], [], 0)[0]:
            data, addr = self.sock.recvfrom(65535)
            self.got.append((cm.decode(data), addr))

    def close(self):
        self.sock.close()


def _serve(targets, behave, stop):
    """Polls the targets; behave(targets) acts on what arrived, until stop is set."""
    while not stop.is_set():
        select.select([t.sock for t in targets], [], [], 0.05)
        for t in targets:
            t.poll()
        behave(targets)


def _subscribe_while(cse_port, behave, targets, originator):
    stop = threading.Event()
    th = threading.Thread(target=_serve, args=(targets, behave, stop), daemon=True)
    th.start()
    try:
        with OneM2MClient("127.0.0.1", cse_port, originator) as c:
            r = c.create("tep-cse", TY_AE, {"rn": originator, "api": "Ntep.test", "rr": False,
                                            "srv": ["3"]})
            assert r.rsc == 2001, str(r)
            cnt = c.create("tep-cse/" + originator, TY_CNT, {"rn": "watched"}).location
            t0 = time.monotonic()
            r = c.create(cnt, TY_SUB, {"rn": "s", "nu": [t.uri for t in targets],
                                       "enc": {"net": [3]}})
            elapsed = time.monotonic() - t0
            got = c.retrieve(cnt + "/s")
    finally:
        stop.set()
        th.join(5)
    return r, elapsed, got


def test_answering_for_another_target_does_not_verify_it(platform):
    attacker, victim = RawTarget(), RawTarget()
    sent = {"done": False}

    def attack(targets):
        if sent["done"] or not attacker.got or not victim.got:
            return
        mine, addr = attacker.got[0]
        theirs, _ = victim.got[0]
        assert mine.token != theirs.token and len(mine.token) == 8
        s = attacker.sock
        s.sendto(_rsp(cm.ACK, mine.mid, mine.token), addr)      # its own, piggy-backed
        s.sendto(_rsp(cm.NON, None, mine.token), addr)           # ... and again
        s.sendto(_rsp(cm.NON, None, mine.token), addr)
        s.sendto(_rsp(cm.NON, None, theirs.token), addr)         # the victim's token
        n = int.from_bytes(mine.token[4:], "little")             # the old id||counter scheme
        for k in (-2, -1, 1, 2):
            guess = mine.token[:4] + ((n + k) & 0xFFFFFFFF).to_bytes(4, "little")
            s.sendto(_rsp(cm.NON, None, guess), addr)
        sent["done"] = True

    try:
        r, elapsed, got = _subscribe_while(platform.ports["cse_coap"], attack,
                                           [attacker, victim], "Cevil01")
    finally:
        attacker.close()
        victim.close()
    assert sent["done"], "the verification requests never arrived\n%s" % platform.logs()
    assert (r.rsc, r.code) == (5204, "5.00"), "%s\n%s" % (r, platform.logs())
    assert VERIFY_WAIT_S - 0.5 < elapsed < VERIFY_WAIT_S + 5, elapsed
    assert got.rsc == 4004, str(got)
    # the victim got one verification request (retransmitted: it never acknowledged it)
    # and nothing else: no notification
    first = victim.got[0][0]
    assert first.code == cm.POST and b'"vrq":true' in first.payload, first.payload
    assert all((m.token, m.mid) == (first.token, first.mid) for m, _ in victim.got)


def test_each_target_answering_once_verifies(platform):
    """The control: the same raw responder, answering each request once: 2001."""
    a, b = RawTarget(), RawTarget()

    def honest(targets):
        for t in targets:
            for m, addr in t.got[getattr(t, "seen", 0):]:
                if m.mtype == cm.CON:
                    t.sock.sendto(_rsp(cm.ACK, m.mid, m.token), addr)
            t.seen = len(t.got)

    try:
        r, elapsed, got = _subscribe_while(platform.ports["cse_coap"], honest, [a, b],
                                           "Chonest01")
    finally:
        a.close()
        b.close()
    assert r.rsc == 2001, "%s\n%s" % (r, platform.logs())
    assert elapsed < 3, elapsed
    assert got.rsc == 2000, str(got)
    # random tokens: the two requests share no 4-byte prefix (the old verification id)
    assert a.got[0][0].token[:4] != b.got[0][0].token[:4]
