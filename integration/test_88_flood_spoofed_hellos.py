"""88: spoofed-source ClientHello bursts leave no state and do not delay real handshakes
(issue 18; RFC 6347 4.2.1: the server answers a ClientHello without a valid cookie with a
HelloVerifyRequest and keeps nothing, so a forged source, which never sees the cookie,
costs one datagram). The platform runs in a network namespace the test creates (`ip
netns add`, loopback only); a raw socket (IP_HDRINCL) sends ClientHellos from thousands
of forged 127.20.x.y addresses to each CoAPS endpoint in turn: tep-enroller (with the
MEF's server_name), tep-authz's MAF and tep-cse. Meanwhile a device bootstraps, makes
the MAF Handshake and a DTLS-PSK request to tep-cse, each within 5 s every time, and
tepctl status shows every forged hello answered statelessly, no handshake kept for them
and the flood seen. Where no namespace can be made (not root, no iproute2) the same
bursts come from sockets bound to those addresses, which never answer."""

import ctypes
import os
import time

import pytest

import dtlsflood
import harness
from maf_coaps_common import sdk as _lib

BURST = 6000
BURST_RATE = 2000   # ClientHellos per second
TRIES = 3


@pytest.fixture
def netns():
    """A fresh network namespace (loopback up), or None where one cannot be made."""
    if not dtlsflood.can_use_netns():
        yield None
        return
    ns = dtlsflood.NetNamespace("tep-flood-%d" % os.getpid()).create()
    try:
        yield ns
    finally:
        ns.delete()


class NoNamespace:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def endpoint_burst(platform, daemon, port, try_once, raw, sni=None):
    """One burst at one endpoint with legitimate tries during it; returns the status
    before and after."""
    before = dtlsflood.status(platform, daemon)
    burst = dtlsflood.SpoofedFlood(port, BURST, BURST_RATE, sni=sni, raw=raw)
    burst.start()
    time.sleep(0.5)
    tries = dtlsflood.legit_tries(try_once, TRIES)
    burst.join(BURST / BURST_RATE + 30)
    after = dtlsflood.status(platform, daemon)
    dtlsflood.assert_all_served(tries, platform.logs())
    assert burst.sent == BURST
    n = lambda st, k: int(st[k])  # noqa: E731
    hellos = n(after, "dtls_stateless_hellos") - n(before, "dtls_stateless_hellos")
    started = n(after, "dtls_handshakes_started") - n(before, "dtls_handshakes_started")
    # every forged hello that reached the socket was answered and forgotten; the
    # handshakes kept are the device's own (a retry may make one more each)
    assert hellos >= BURST * 0.5, (before, after)
    assert started <= 3 * TRIES, (before, after)
    assert after["dtls_handshakes"] == "0", after
    assert n(after, "dtls_handshakes_dropped") == n(before, "dtls_handshakes_dropped"), after
    platform[daemon].wait_log(r"event=handshake_flood .*stateless_hellos=[1-9]", 5)
    return before, after


def test_spoofed_hello_bursts(netns, monkeypatch):
    raw = netns is not None
    with netns or NoNamespace():
        p = harness.Platform()
        authz_port = harness.free_udp_ports(1)[0]
        monkeypatch.setenv("TEP_AUTHZ_COAPS_LISTEN", "127.0.0.1:%d" % authz_port)
        monkeypatch.setenv("TEP_ENROLLER_MAF_POA", "coaps://127.0.0.1:%d" % authz_port)
        lib = _lib()
        h = ctypes.c_void_p()
        try:
            p.start()
            dev = p.enrolled_device("device01")
            path = harness.ae_path(p, dev)
            fresh = p.add_enrolee("device02")
            assert lib.tep_device_load(dev.prov.encode(), dev.state.encode(),
                                       ctypes.byref(h)) == 0

            def enrol():
                r = fresh.run("--timeout", "5000", "enrol", timeout=15)
                return r.rc == 0, str(r)

            def maf():
                kc = ctypes.c_void_p()
                rc = lib.tep_maf_register_key(h, ("coaps://127.0.0.1:%d" % authz_port).encode(),
                                              p.env["CSE_ID"].encode(), 0, ctypes.byref(kc))
                if rc == 0:
                    lib.tep_kc_free(kc)
                return rc == 0, "tep_maf_register_key: %d" % rc

            def retrieve():
                r = dev.run("--timeout", "5000", "retrieve", path, timeout=15)
                return r.rc == 0 and r.rsc == 2000, str(r)

            port = lambda uri: int(uri.rsplit(":", 1)[1])  # noqa: E731
            endpoint_burst(p, "enroller", port(p.env["ENROLLER_COAPS"]), enrol, raw,
                           sni=p.env["MEF_FQDN"])
            endpoint_burst(p, "authz", authz_port, maf, raw)
            endpoint_burst(p, "cse", port(p.env["CSE_COAPS"]), retrieve, raw)
            p.assert_clean_stop()
        finally:
            if h:
                lib.tep_device_free(h)
            p.cleanup()
