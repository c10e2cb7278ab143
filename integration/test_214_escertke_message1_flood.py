"""214: attack test, ESCertKE Message 1 (TS-0003 8.7.2.2; TS-0001 11.4.3 C.1c correlates
Messages 1 and 3 by the outer From, which nothing authenticates over plain CoAP). Each
Message 1 makes tep-cse hold a TLS handshake for up to 30 s. Before, 64 of them from
anyone filled the table and every initiator was refused (5103) for half a minute, and a
Message 1 claiming an initiator's From replaced that initiator's handshake in progress.
Now handshakes are held per carrier (the DTLS session's bound ID, else the IP address) and
correlated by From and carrier: one address holds at most 4, plain CoAP altogether at
most 32, so an attacker from ten addresses (127.0.0.10-19) is refused beyond those, a
device over its DTLS session still completes ESCertKE and ESPrim, and an attacker who
claims a victim's From from another address does not disturb the victim's handshake."""

import random
import socket

import aiocoap

from harness import (EscertkeInitiator, ae_path, cert_of, escertke_eckm, escertke_send,
                     escertke_seci, restart_cse_with_certificate)
from onem2m_client import OneM2MClient, POST, Response

def _send_from(platform, src, frm, msg):
    """One small ESCertKE Message (a Message 1: one datagram, no Block1) over plain CoAP
    from the loopback address src."""
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], frm) as c:
        m = c.message(POST, platform.env["CSE_NAME"], body=escertke_seci(msg))
    m.mid = random.randrange(1 << 16)
    m.token = random.randbytes(4)
    m.mtype = aiocoap.CON
    rqi = [o.value for o in m.opt.option_list() if int(o.number) == 283][0]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.settimeout(10)
        s.sendto(m.encode(), ("127.0.0.1", platform.ports["cse_coap"]))
        while True:
            rsp = aiocoap.Message.decode(s.recv(65536))
            if rsp.code == aiocoap.EMPTY:  # separate response: wait for it, ack it
                continue
            if rsp.mtype == aiocoap.CON:
                ack = aiocoap.Message(mtype=aiocoap.ACK, mid=rsp.mid, code=aiocoap.EMPTY)
                s.sendto(ack.encode(), ("127.0.0.1", platform.ports["cse_coap"]))
            return Response(rsp, rqi)


def test_message1_flood_is_bounded_per_carrier(platform):
    p = restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(p, "eck214")
    ae = dev.state_values()["enrolee_id"]
    assert dev.run("register").rc == 0

    # the victim starts a handshake over plain CoAP (from 127.0.0.1) ...
    victim = EscertkeInitiator(crt, key, ca)
    m2 = escertke_eckm(escertke_send(p, ae, victim.step()))
    # ... an attacker claims its From from 127.0.0.51 with a Message 1 of its own
    r = _send_from(p, "127.0.0.51", ae, EscertkeInitiator(crt, key, ca).step())
    assert r.rsc == 2000, str(r)  # a handshake of the attacker's, beside the victim's
    # ... and the victim finishes its own (before, the attacker's had replaced it: 4103)
    m4 = escertke_eckm(escertke_send(p, ae, victim.step(m2)))
    assert victim.step(m4) == b""
    p["cse"].wait_log(r"event=escertke_established originator=%s kid=[0-9a-f]{32}" % ae, 5)
    # a Message 3 from another address than its Message 1's belongs to no handshake
    i = EscertkeInitiator(crt, key, ca)
    m2 = escertke_eckm(_send_from(p, "127.0.0.52", ae, i.step()))
    r = escertke_send(p, ae, i.step(m2))
    assert r.rsc == 4000 and "no handshake in progress" in r.dbg, str(r)

    # the flood: ten addresses, six Messages 1 each, each with another From
    hello = EscertkeInitiator(crt, key, ca).step()
    accepted, per_peer, plain_full = 0, 0, 0
    for a in range(10, 20):
        for n in range(6):
            r = _send_from(p, "127.0.0.%d" % a, "Cflood%d-%d" % (a, n), hello)
            if r.rsc == 2000:
                accepted += 1
            elif r.rsc == 5103 and "for this peer" in r.dbg:
                per_peer += 1
            else:
                assert r.rsc == 5103 and "unauthenticated" in r.dbg, str(r)
                plain_full += 1
    # 32 plain ones at most, the two left by this test's earlier steps (127.0.0.51, .52)
    # included: 127.0.0.10-16 get 4 each (their 5th and 6th: "for this peer"), .17 two,
    # then the plain pool is full for everyone unauthenticated
    assert (accepted, per_peer, plain_full) == (30, 7 * 2, 4 + 2 * 6)
    p["cse"].wait_log(r"event=escertke_refused rsc=5103 reason=\"too many unauthenticated", 5)

    # a device over its DTLS session is not affected: ESCertKE, then an ESPrim request
    r = dev.run("esprim", "retrieve", ae_path(p, dev), "--escertke")
    assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s" % (r, p["cse"].tail())
