"""DTLS 1.2 handshake floods for the flood scenarios (85..88) and the flood benchmark,
all bounded in count and time and aimed at loopback only.

- HalfOpenFlood: clients that do the cookie exchange (RFC 6347 4.2.1) from real sockets
  bound to many 127.x.y.z addresses and then go silent, so the server holds a
  cookie-verified handshake for each until it drops it.
- spoofed_burst: ClientHellos from forged 127.x.y.z source addresses (a raw socket,
  IP_HDRINCL; root only), which can never answer the HelloVerifyRequest.

The ClientHello offers the PSK suites tep serves (TLS_PSK_WITH_AES_128_CCM_8 first) and,
for tep-enroller, the server_name it requires."""

import ctypes
import os
import random
import re
import select
import socket
import struct
import threading
import time

PSK_SUITES = (0xC0A8, 0xC0A4, 0x00A8)  # PSK AES128 CCM_8, CCM, GCM-SHA256


def client_hello(rnd, cookie=b"", sni=None, seq=0):
    """One DTLS 1.2 ClientHello record (message_seq and record sequence = seq)."""
    ext = b""
    if sni:
        name = sni.encode()
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        ext += struct.pack("!HH", 0, len(entry) + 2) + struct.pack("!H", len(entry)) + entry
    ext += struct.pack("!HH", 0x0017, 0)  # extended_master_secret
    ext += struct.pack("!HHB", 0xFF01, 1, 0)  # renegotiation_info (empty)
    suites = b"".join(struct.pack("!H", s) for s in PSK_SUITES)
    body = (b"\xfe\xfd" + rnd + b"\x00" + bytes([len(cookie)]) + cookie +
            struct.pack("!H", len(suites)) + suites + b"\x01\x00" +
            struct.pack("!H", len(ext)) + ext)
    n = len(body)
    hs = (b"\x01" + n.to_bytes(3, "big") + struct.pack("!H", seq) + b"\x00\x00\x00" +
          n.to_bytes(3, "big") + body)
    return (b"\x16\xfe\xfd\x00\x00" + seq.to_bytes(6, "big") + struct.pack("!H", len(hs)) + hs)


def hvr_cookie(data):
    """The cookie of a HelloVerifyRequest record, else None."""
    if len(data) < 28 or data[0] != 22 or data[13] != 3:
        return None
    n = data[27]
    return data[28:28 + n] if len(data) >= 28 + n else None


def source_addresses(n, second_octet=10):
    """n distinct loopback addresses 127.<second_octet>.x.y (never 127.0.0.1)."""
    return ["127.%d.%d.%d" % (second_octet, 1 + i // 250, 1 + i % 250) for i in range(n)]


class HalfOpenFlood:
    """Background thread: handshakes that pass the cookie exchange and go silent, at up to
    `rate` per second, `total` at most, spread over `addresses` (bound sockets), for at
    most `seconds`. `started` counts the ClientHellos sent with a valid cookie."""

    def __init__(self, port, addresses, rate, total, seconds, sni=None, batch=50):
        self.port, self.addresses, self.rate = port, list(addresses), rate
        self.total, self.seconds, self.sni, self.batch = total, seconds, sni, batch
        self.started = 0
        self.no_cookie = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(self.seconds + 10)

    def wait(self):
        """Until the flood has sent its total or run its time."""
        self._thread.join(self.seconds + 10)

    def _run(self):
        t0 = time.monotonic()
        i = 0
        while (not self._stop.is_set() and self.started < self.total and
               time.monotonic() - t0 < self.seconds):
            n = min(self.batch, self.total - self.started)
            self._batch([self.addresses[(i + k) % len(self.addresses)] for k in range(n)])
            i += n
            # pace: the batch's share of the second
            ahead = self.started / self.rate - (time.monotonic() - t0)
            if ahead > 0:
                self._stop.wait(ahead)

    def _batch(self, addrs):
        socks = {}
        try:
            for a in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.bind((a, 0))
                rnd = os.urandom(32)
                socks[s.fileno()] = (s, rnd)
                try:
                    s.sendto(client_hello(rnd, sni=self.sni), ("127.0.0.1", self.port))
                except BlockingIOError:
                    pass
            pending = set(socks)
            deadline = time.monotonic() + 1.0
            while pending and time.monotonic() < deadline and not self._stop.is_set():
                r, _, _ = select.select(list(pending), [], [], 0.1)
                for fd in r:
                    s, rnd = socks[fd]
                    try:
                        data = s.recv(2048)
                    except OSError:
                        pending.discard(fd)
                        continue
                    cookie = hvr_cookie(data)
                    if cookie is None:
                        continue
                    pending.discard(fd)
                    try:
                        s.sendto(client_hello(rnd, cookie, self.sni, seq=1),
                                 ("127.0.0.1", self.port))
                        self.started += 1
                    except OSError:
                        pass
            self.no_cookie += len(pending)
        finally:
            for s, _ in socks.values():
                s.close()


def _csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def spoofed_packet(src, sport, dport, payload):
    """IPv4 + UDP datagram from a forged source (the kernel fills the IP checksum)."""
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, random.getrandbits(16), 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton("127.0.0.1"))
    pseudo = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack(
        "!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0)
    c = _csum(pseudo + udp + payload) or 0xFFFF
    return ip + struct.pack("!HHHH", sport, dport, udp_len, c) + payload


def spoofed_burst(port, count, rate, sni=None, second_octet=20):
    """count ClientHellos from forged sources 127.<second_octet>.x.y, at up to rate per
    second (raw socket: root, and meant for a network namespace). Returns the number
    sent."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    t0 = time.monotonic()
    sent = 0
    try:
        for i in range(count):
            src = "127.%d.%d.%d" % (second_octet, 1 + (i // 250) % 250, 1 + i % 250)
            pkt = spoofed_packet(src, 1024 + random.randrange(60000), port,
                                 client_hello(os.urandom(32), sni=sni))
            s.sendto(pkt, ("127.0.0.1", 0))
            sent += 1
            ahead = sent / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    finally:
        s.close()
    return sent


def unanswered_hellos(port, count, rate, sni=None, second_octet=20):
    """The same burst without a raw socket: ClientHellos from sockets bound to
    127.<second_octet>.x.y that never answer (for where a network namespace and raw
    sockets are not available). Returns the number sent."""
    t0 = time.monotonic()
    sent = 0
    for i in range(count):
        src = "127.%d.%d.%d" % (second_octet, 1 + (i // 250) % 250, 1 + i % 250)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            s.sendto(client_hello(os.urandom(32), sni=sni), ("127.0.0.1", port))
        sent += 1
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    return sent


class SpoofedFlood(threading.Thread):
    """spoofed_burst (raw) or unanswered_hellos in the background."""

    def __init__(self, port, count, rate, sni=None, raw=True):
        super().__init__(daemon=True)
        self.args = (port, count, rate, sni)
        self.burst = spoofed_burst if raw else unanswered_hellos
        self.sent = 0

    def run(self):
        self.sent = self.burst(*self.args)


# ---- network namespace -----------------------------------------------------------------

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetNamespace:
    """A network namespace with loopback only (`ip netns add`); inside `with ns:` this
    thread, and every process it starts, is in it."""

    def __init__(self, name):
        self.name = name

    def create(self):
        import subprocess
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        return self

    def delete(self):
        import subprocess
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def __enter__(self):
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self._home, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self._home)


def can_use_netns():
    """root and iproute2: `ip netns add` works."""
    import shutil
    return os.geteuid() == 0 and shutil.which("ip") is not None


# ---- the scenarios' common part ---------------------------------------------------------

FLOOD_ADDRESSES = 200
FLOOD_RATE = 400          # cookie-verified handshakes per second
FLOOD_TOTAL = 4000
FLOOD_SECONDS = 20
TRIES = 5
LEGIT_LIMIT_S = 5.0


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def status(platform, daemon):
    r = platform.tepctl("status", daemon, admin=daemon)
    assert r.rc == 0, str(r)
    return r.kv


def legit_tries(try_once, n=TRIES):
    """n tries, each timed; returns the list of (ok, seconds, detail)."""
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        ok, detail = try_once()
        out.append((ok, time.monotonic() - t0, detail))
        time.sleep(1.0)
    return out


def assert_all_served(tries, logs):
    bad = [t for t in tries if not t[0] or t[1] > LEGIT_LIMIT_S]
    assert not bad, "legitimate tries failed or were slow: %s\n%s" % (
        [(ok, round(s, 2), d[-300:]) for ok, s, d in tries], logs)


def wait_flood_over(platform, daemon, timeout=30):
    """The guard reports the end (no drops for 5 s, then the handshakes time out)."""
    platform[daemon].wait_log(r"event=handshake_flood_over", timeout)
    deadline = time.monotonic() + timeout
    while True:
        st = status(platform, daemon)
        if st["dtls_handshakes"] == "0" and st["dtls_flood"] == "false":
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.5)


def run_flood_scenario(platform, daemon, port, try_once, sni=None):
    pid = platform[daemon].proc.pid
    base_rss = rss_kb(pid)
    with HalfOpenFlood(port, source_addresses(FLOOD_ADDRESSES), FLOOD_RATE,
                       FLOOD_TOTAL, FLOOD_SECONDS, sni=sni) as flood:
        time.sleep(1.5)
        tries = legit_tries(try_once)
        during = status(platform, daemon)
        flood.wait()
    assert flood.started >= 2000, "the flood made only %d handshakes (%d without cookie)" % (
        flood.started, flood.no_cookie)
    assert_all_served(tries, platform.logs())
    # bounded while it lasted, and visible
    assert int(during["dtls_handshakes"]) <= 64, during
    assert during["dtls_flood"] == "true", during
    assert int(during["dtls_handshakes_dropped"]) > 0, during
    assert platform[daemon].log().count("event=handshake_flood ") <= 5, \
        "handshake_flood is not rate-limited"
    after = wait_flood_over(platform, daemon)
    assert int(after["dtls_handshakes_started"]) >= flood.started * 0.9, (after, flood.started)
    assert int(after["dtls_heap_trims"]) >= 1, after
    # memory: what a flood allocates is bounded by max_handshakes and given back
    grown = rss_kb(pid) - base_rss
    assert grown < 4096, "resident memory grew by %d kB after the flood" % grown
    # and the endpoint still serves
    ok, detail = try_once()
    assert ok, detail


