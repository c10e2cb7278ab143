"""233: tep-bsf's Ub under a client with a valid subscription (its own IMPI) that asks
challenges in a loop or holds connections open. TS 33.220 4.5.2 (bootstrapping: the BSF
keeps RAND and XRES until the UE answers), RFC 3310 / RFC 7616 (Digest AKA).

Attack 1: 260 challenges for the attacker's IMPI (tep-bsf keeps 256 pending challenges
and dropped the oldest): a victim's challenge issued before was pushed out and its right
answer got a new challenge (401 stale) instead of a B-TID. Now one IMPI holds at most 4
pending challenges (its own oldest is replaced) and the victim bootstraps.
Attack 2: 150 TCP connections from one address sending a header line now and then
(slowloris) held all 128 of libmicrohttpd's connections; now one address gets 32.
Attack 3: a body of 10 GB was read to the end; now the connection closes at once."""

import base64
import socket
import time

import gba_common
import tepgba

ATTACKER = "001010000000666@ims.mnc001.mcc001.3gppnetwork.org"
REALM = "bsf.tep.local"


def test_challenge_flood_of_one_impi_leaves_others_pending(platform_factory):
    p = platform_factory(bsf=True)
    victim = gba_common.add_subscriber(p)
    gba_common.add_subscriber(p, ATTACKER)
    url, impi = p.env["BSF_UB"], gba_common.IMPI
    status, headers, _ = tepgba.ub_get(url, tepgba._auth(impi, REALM, "/"))
    assert status == 401
    nonce = tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"]
    for _ in range(260):
        assert tepgba.ub_get(url, tepgba._auth(ATTACKER, REALM, "/"))[0] == 401
    raw = base64.b64decode(nonce)
    kind, res, _, _ = victim.authenticate(raw[:16], raw[16:])
    assert kind == "ok"
    resp = tepgba.digest_response(impi, REALM, res, "GET", "/", nonce, "00000001", "ab")
    extra = ', qop=auth-int, nc=00000001, cnonce="ab", algorithm=AKAv1-MD5'
    status, headers, body = tepgba.ub_get(url, tepgba._auth(impi, REALM, "/", nonce, resp,
                                                            extra))
    assert status == 200 and "<btid>" in body, (status, dict(headers), body)


def test_slow_connections_from_one_address_leave_room_for_others(platform_factory):
    p = platform_factory(bsf=True)
    gba_common.add_subscriber(p)
    host, port = p.env["BSF_UB"].split("//")[1].split("/")[0].rsplit(":", 1)
    held = []
    try:
        for _ in range(150):  # from 127.0.0.2: the device below comes from 127.0.0.1
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(2)
            try:
                s.connect((host, int(port)))
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                s.close()
                continue
            held.append(s)
        time.sleep(0.5)
        t0 = time.monotonic()
        status, _, _ = tepgba.ub_get(p.env["BSF_UB"], tepgba._auth(gba_common.IMPI, REALM, "/"))
        assert status == 401 and time.monotonic() - t0 < 5
    finally:
        for s in held:
            s.close()


def test_a_request_body_closes_the_connection_unread(platform_factory):
    """Attack 3: a request announcing 10 GB of body, streamed: tep-bsf read (and dropped)
    all of it before answering; now the connection is closed at the first body bytes."""
    p = platform_factory(bsf=True)
    host, port = p.env["BSF_UB"].split("//")[1].split("/")[0].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    closed, sent, end = False, 0, time.monotonic() + 5
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n"
                  b"Authorization: Digest username=\"%s\"\r\n\r\n" % gba_common.IMPI.encode())
        s.settimeout(0.2)
        while not closed and time.monotonic() < end:
            try:
                sent += s.send(b"x" * 65536)
                closed = s.recv(4096) == b""
            except socket.timeout:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed and sent < 100 * 2**20, sent
        p["bsf"].wait_log("event=refused reason=request_body", 5)
    finally:
        s.close()
