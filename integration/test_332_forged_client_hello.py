"""332: a forged ClientHello cannot end a live DTLS session (RFC 6347 4.2.8: the server
"MUST NOT destroy the existing association until the client has demonstrated
reachability"; patches/README.md item 11, docs/internals.md "A restarted client on its
old port").

tep's libcoap answers an epoch-0 ClientHello with another client random from the address
and port of an established session with a stateless HelloVerifyRequest, and frees the old
session only when the cookie comes back, since a restarted client sends from its old port.
Attack: a device holds an established DTLS-PSK session with tep-cse (tinydtls through
aiocoap, and libtepae's OpenSSL-backed libcoap: two client stacks); an off-path attacker
sends tep-cse, from a raw socket (IP_HDRINCL), a DTLS 1.2 ClientHello (epoch 0, a fresh
client random, the PSK suites tep serves, no cookie) whose source is the device's
address and port, and in a second variant a second ClientHello with a made-up cookie.
tep-cse answers each with a HelloVerifyRequest to the device's port (seen on loopback
with a packet socket) and keeps nothing; the device's next requests on its session are
answered (2000, its content) with no new handshake (the same association and port on
the client side; tep-cse's dtls_handshakes_started and its session_bound lines for that
identity unchanged), the HelloVerifyRequest does not disturb the device, and tep-cse
serves another device.

Control (so the test can fail): the same forged ClientHello sent again with the cookie
the HelloVerifyRequest carried (what an on-path attacker or the device itself after a
restart can send) does end the session: a handshake starts and the device's next
request on its old session gets no answer. The honest restart from the same port is
what a restarted device does, and replaces the session as well (the last test: the
tinydtls device vanishes without a close_notify and coap-client-openssl, started on its
port, is answered; integration 331's test_a_client_restarted_on_the_same_port_is_answered
does the same with coap-client alone).

A cookie does not stay valid (patches/README.md item 12, RFC 6347 4.2.1): with [dtls]
cookie_lifetime_s = 1 the cookie secret is replaced every second and the previous one
accepted for one more, so the cookie the HelloVerifyRequest carried, replayed more than
2 s later (someone who was on the path once, a device that held the address and port
earlier), is refused like a made-up one: a new HelloVerifyRequest with another cookie,
no handshake, the session answered. The fresh cookie of that HelloVerifyRequest, sent at
once, still ends it."""

import asyncio
import ctypes
import json
import os
import select
import socket
import struct
import time

import pytest

import dtlsflood
import harness
import pskclient
import tepkeys
import thirdparty
from maf_coaps_common import Response

GET = 1  # aiocoap's code
ETH_P_IP = 0x0800
VALUE = "kept-332"


def _raw_socket():
    """A raw IPv4 socket that writes its own headers, or a skip saying why there is none."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    except PermissionError as e:
        pytest.skip("raw sockets unavailable (not root / no CAP_NET_RAW): %s" % e)
    return s


class Sniffer:
    """The UDP datagrams on loopback (a packet socket) from sport to dport."""

    def __init__(self, sport, dport):
        self.sport, self.dport = sport, dport
        try:
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        except PermissionError as e:
            pytest.skip("packet sockets unavailable (not root / no CAP_NET_RAW): %s" % e)
        self.s.bind(("lo", ETH_P_IP))

    def datagram(self, timeout):
        """The payload of the next such datagram, None if none within timeout."""
        end = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                return None
            ip = self.s.recv(65535)
            ihl = (ip[0] & 15) * 4
            if ip[9] != socket.IPPROTO_UDP or len(ip) < ihl + 8:
                continue
            if struct.unpack("!HH", ip[ihl:ihl + 4]) == (self.sport, self.dport):
                return ip[ihl + 8:]

    def hello_verify_request(self, timeout=3.0):
        """The cookie of the next HelloVerifyRequest seen, None if none within timeout."""
        end = time.monotonic() + timeout
        while True:
            data = self.datagram(max(0.0, end - time.monotonic()))
            if data is None or dtlsflood.hvr_cookie(data) is not None:
                return None if data is None else dtlsflood.hvr_cookie(data)

    def close(self):
        self.s.close()


class TinyDtlsDevice:
    """The device on one tinydtls association (aiocoap keeps it: PskClient reuses the
    remote of its first answer)."""

    def __init__(self, p, dev):
        self.frm = dev.state_values()["enrolee_id"]
        self.c = pskclient.PskClient(p.ports["cse_coaps"], *_psk(p, dev))
        self.association = None

    def vanish(self):
        """The device loses power: its socket is gone, no close_notify sent."""
        self.association._transport.abort()
        self.c.loop.run_until_complete(asyncio.sleep(0.1))  # abort closes it in the loop

    def retrieve(self, path, timeout=5.0):
        """(rsc, body as a dict); (None, why) without an answer within timeout."""
        try:
            a = self.c.onem2m(GET, path, self.frm, timeout=timeout)
        except (asyncio.TimeoutError, OSError) as e:
            return None, repr(e)
        if self.association is None:
            self.association = self.c._remote
        assert self.c._remote is self.association, "a new DTLS association was made"
        return a.rsc, a.json

    @property
    def port(self):
        return self.association._transport.get_extra_info("socket").getsockname()[1]

    def close(self):
        self.c.close()


def _udp_ports_to(port):
    """Local ports of the UDP sockets (this network namespace's) connected to
    127.0.0.1:port."""
    want = "0100007F:%04X" % port
    out = set()
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            local, remote = line.split()[1:3]
            if remote == want:
                out.add(int(local.split(":")[1], 16))
    return out


class SdkDevice:
    """The device on one libtepae connection (tep_connect: one libcoap DTLS session, its
    socket connected to tep-cse)."""

    def __init__(self, p, dev):
        self.lib, self.h = harness.sdk_device(dev)
        self.conn = ctypes.c_void_p()
        self.cse_port = p.ports["cse_coaps"]
        before = _udp_ports_to(self.cse_port)
        assert self.lib.tep_connect(self.h, ctypes.byref(self.conn)) == 0, p.logs()
        new = _udp_ports_to(self.cse_port) - before
        assert len(new) == 1, new
        self.port = new.pop()

    def retrieve(self, path, timeout=5.0):
        """As TinyDtlsDevice.retrieve."""
        self.lib.tep_conn_set_timeout(self.conn, int(timeout * 1000))
        rsp = ctypes.c_void_p()
        rc = self.lib.tep_retrieve(self.conn, path.encode(), ctypes.byref(rsp))
        if rc != 0:
            return None, "tep_retrieve: %d" % rc
        r = ctypes.cast(rsp, ctypes.POINTER(Response)).contents
        out = r.rsc, json.loads(r.body) if r.body else None
        self.lib.tep_response_free(rsp)
        # the connection still has the socket it had: the same session
        assert self.port in _udp_ports_to(self.cse_port), "the connection's socket changed"
        return out

    def close(self):
        self.lib.tep_conn_free(self.conn)
        self.lib.tep_device_free(self.h)


def _device(kind, p, dev):
    if kind == "tinydtls":
        why = pskclient.available()
        if why is not None:
            pytest.skip(why)
        return TinyDtlsDevice(p, dev)
    return SdkDevice(p, dev)


def _psk(p, dev):
    """(KpsaID, Kpsa) of dev."""
    st = dev.state_values()
    return (harness.kpsa_identity(p, dev),
            tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"]))


def _bound(p, dev):
    """tep-cse's session_bound lines for dev's KpsaID (one per handshake)."""
    return p["cse"].log().count("event=session_bound identity=%s " %
                                harness.kpsa_identity(p, dev))


class Attack:
    """tep-cse, a device holding a session to it (its content instance reads VALUE), and an
    off-path attacker that forges datagrams from the device's address and port."""

    def __init__(self, p, kind):
        self.p = p
        # a Kpsa without NUL bytes: coap-client takes it too (the last test)
        self.dev, _, self.cin = harness.device_with_data(p, "device01", value=VALUE,
                                                         argv_safe_psk=True)
        self.d = _device(kind, p, self.dev)
        self.cse_port = p.ports["cse_coaps"]
        self.raw = _raw_socket()
        self.sniffer = None
        self.assert_served("before the attack")
        self.sniffer = Sniffer(self.cse_port, self.d.port)
        self.before = p.status("cse")
        self.bound = _bound(p, self.dev)
        self.log_at = len(p["cse"].log())

    def assert_served(self, when):
        rsc, body = self.d.retrieve(self.cin)
        assert rsc == 2000, "%s: %s %s\n%s" % (when, rsc, body, self.p["cse"].tail())
        assert body["m2m:cin"]["con"] == VALUE, body

    def forge(self, record):
        pkt = dtlsflood.spoofed_packet("127.0.0.1", self.d.port, self.cse_port, record)
        assert self.raw.sendto(pkt, ("127.0.0.1", 0)) == len(pkt)

    def status_delta(self, key):
        return int(self.p.status("cse")[key]) - int(self.before[key])

    def assert_cookie_ends_the_session(self, rnd, cookie):
        """A forged ClientHello with cookie starts a handshake, and the device's next
        request on its old session gets no answer."""
        self.forge(dtlsflood.client_hello(rnd, cookie=cookie, seq=1))
        deadline = time.monotonic() + 5
        while self.status_delta("dtls_handshakes_started") < 1:
            assert time.monotonic() < deadline, (self.before, self.p.status("cse"))
            time.sleep(0.1)
        rsc, body = self.d.retrieve(self.cin, timeout=3.0)
        assert rsc is None, "the old session still answered: %s %s" % (rsc, body)

    def close(self):
        self.d.close()
        self.raw.close()
        if self.sniffer is not None:
            self.sniffer.close()


@pytest.fixture(params=["tinydtls", "libtepae"])
def attack(platform, request):
    a = Attack(platform, request.param)
    try:
        yield a
    finally:
        a.close()


@pytest.mark.parametrize("cookie", ["none", "made_up"])
def test_forged_client_hello_leaves_the_session(attack, cookie):
    a, p = attack, attack.p
    rnd = os.urandom(32)
    a.forge(dtlsflood.client_hello(rnd))
    seen = a.sniffer.hello_verify_request()
    assert seen is not None, "no HelloVerifyRequest to the device's port 127.0.0.1:%d\n%s" % (
        a.d.port, p["cse"].tail())
    forged = 1
    if cookie == "made_up":
        # its length is public (libcoap's HMAC-SHA256), its value unknown off the path
        wrong = os.urandom(len(seen))
        a.forge(dtlsflood.client_hello(rnd, cookie=wrong, seq=1))
        forged += 1
        assert a.sniffer.hello_verify_request() is not None, \
            "a made-up cookie got no HelloVerifyRequest\n%s" % p["cse"].tail()

    # the device's session goes on: answered, same association, no new handshake
    for i in range(3):
        a.assert_served("request %d after the forged ClientHello" % (i + 1))
    assert a.status_delta("dtls_stateless_hellos") == forged, (a.before, p.status("cse"))
    assert a.status_delta("dtls_handshakes_started") == 0, (a.before, p.status("cse"))
    assert p.status("cse")["dtls_handshakes"] == "0"
    assert _bound(p, a.dev) == a.bound, p["cse"].tail()
    since = p["cse"].log()[a.log_at:]
    assert "session_closed" not in since and "session_unbound" not in since, since

    # and tep-cse serves another device
    other = p.enrolled_device("device02")
    r = other.run("retrieve", harness.ae_path(p, other))
    assert r.rc == 0 and r.rsc == 2000, "%s\n%s" % (r, p.logs())
    a.assert_served("after another device's request")


def test_control_the_cookie_from_the_hello_verify_request_ends_the_session(attack):
    """What the forged ClientHellos above lack: the cookie. Sent with the one tep-cse
    gave the device's port (an on-path attacker sees it; a restarted device receives
    it), the old session is replaced: a handshake starts and the device's next request
    on its old session is not answered."""
    a, p = attack, attack.p
    rnd = os.urandom(32)
    a.forge(dtlsflood.client_hello(rnd))
    cookie = a.sniffer.hello_verify_request()
    assert cookie is not None, p["cse"].tail()
    a.assert_cookie_ends_the_session(rnd, cookie)


@pytest.mark.parametrize("attack", ["tinydtls"], indirect=True)
def test_control_a_device_restarted_on_its_port_replaces_the_session(attack):
    """The honest case the cookie lets through: the device vanishes (no close_notify)
    and a new client on its port completes the cookie exchange: a new handshake (a
    session_bound line for the identity) and an answer."""
    if thirdparty.COAP_CLIENTS["openssl"] is None:
        pytest.skip("coap-client-openssl (libcoap3-bin) missing")
    a, p = attack, attack.p
    port = a.d.port
    outgoing = Sniffer(port, a.cse_port)
    try:
        a.d.vanish()
        sent = outgoing.datagram(0.5)
    finally:
        outgoing.close()
    assert sent is None, "the vanished device sent %r" % sent  # no close_notify: kept
    r, trace = thirdparty.coap_client("openssl", "%s/%s" % (p.env["CSE_COAPS"], a.cin), "get",
                                      a.d.frm, psk=_psk(p, a.dev), local_port=port)
    assert r is not None and r.rsc == 2000, "%s\n%s\n%s" % (r, trace[-3000:], p["cse"].tail())
    assert r.resource(thirdparty.TY_CIN)["con"] == VALUE, str(r)
    assert "127.0.0.1:%d <-> " % port in trace, trace[-3000:]  # from the device's port
    assert a.status_delta("dtls_handshakes_started") == 1, (a.before, p.status("cse"))
    assert _bound(p, a.dev) == a.bound + 1, p["cse"].tail()


@pytest.fixture(params=["tinydtls", "libtepae"])
def short_cookie_attack(platform_factory, monkeypatch, request):
    """Attack on a platform whose cookie secrets last 1 s ([dtls] cookie_lifetime_s)."""
    monkeypatch.setenv("TEP_DTLS_COOKIE_LIFETIME_S", "1")
    a = Attack(platform_factory(), request.param)
    try:
        yield a
    finally:
        a.close()


def test_a_cookie_older_than_two_lifetimes_does_not_end_the_session(short_cookie_attack):
    a = short_cookie_attack
    p = a.p
    rnd = os.urandom(32)
    a.forge(dtlsflood.client_hello(rnd))
    old = a.sniffer.hello_verify_request()
    assert old is not None, p["cse"].tail()
    time.sleep(2.5)  # two rotations: neither secret made the cookie
    a.forge(dtlsflood.client_hello(rnd, cookie=old, seq=1))
    fresh = a.sniffer.hello_verify_request()
    assert fresh is not None, "an expired cookie got no HelloVerifyRequest\n%s" % p["cse"].tail()
    # same addresses and ports: only a new secret gives another cookie
    assert fresh != old, "the cookie secret was not replaced in 2.5 s"
    time.sleep(0.5)  # what a handshake started by the expired cookie would show by now
    assert a.status_delta("dtls_handshakes_started") == 0, (a.before, p.status("cse"))
    assert a.status_delta("dtls_stateless_hellos") == 2, (a.before, p.status("cse"))
    for i in range(2):
        a.assert_served("request %d after the expired cookie" % (i + 1))
    assert _bound(p, a.dev) == a.bound, p["cse"].tail()
    since = p["cse"].log()[a.log_at:]
    assert "session_closed" not in since and "session_unbound" not in since, since

    # control: the cookie tep-cse just gave, within its lifetime, still ends the session
    a.assert_cookie_ends_the_session(rnd, fresh)
