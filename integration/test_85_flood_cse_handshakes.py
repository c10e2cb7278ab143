"""85: a DTLS handshake flood against tep-cse's CoAPS endpoint does not lock devices out
(issue 18; RFC 6347 4.2.1, the cookie exchange as the DoS countermeasure; TS-0003 8.2.2.1
is the handshake the device makes). Thousands of clients from 200 bound 127.10.x.y
addresses answer the HelloVerifyRequest and go silent; meanwhile an enrolled device
makes a fresh DTLS-PSK (Kpsa) handshake and a request, and must be served within 5 s
every time. The half-open handshakes stay within [dtls] max_handshakes, tepctl status
shows the flood, the log has a rate-limited event=handshake_flood line, and after the
flood the handshakes are gone, the heap is trimmed and the resident memory is back
within a bound of its baseline. The established sessions of one PSK identity are bounded
([dtls] max_sessions_per_identity): the oldest is closed."""

import ctypes
import time

import dtlsflood
import harness


def test_half_open_flood_cse(platform):
    dev = platform.enrolled_device("device01")
    path = harness.ae_path(platform, dev)
    port = int(platform.env["CSE_COAPS"].rsplit(":", 1)[1])

    def try_once():
        r = dev.run("--timeout", "5000", "retrieve", path, timeout=15)
        return r.rc == 0 and r.rsc == 2000, str(r)

    dtlsflood.run_flood_scenario(platform, "cse", port, try_once)


def test_sessions_per_identity_bounded(platform_factory, monkeypatch):
    """[dtls] max_sessions_per_identity: one credential opening session after session
    keeps the newest ones; the oldest is closed (its next request fails) and counted."""
    monkeypatch.setenv("TEP_DTLS_MAX_SESSIONS_PER_IDENTITY", "3")
    p = platform_factory()
    dev = p.enrolled_device("device01")
    path = harness.ae_path(p, dev)
    lib, h = harness.sdk_device(dev)
    vp = ctypes.c_void_p
    conns = []
    for _ in range(5):
        c = vp()
        assert lib.tep_connect(h, ctypes.byref(c)) == 0
        lib.tep_conn_set_timeout(c, 1500)
        conns.append(c)
    time.sleep(1.5)  # the guard closes the marked sessions on its next turn

    def works(c):
        rsp = vp()
        rc = lib.tep_retrieve(c, path.encode(), ctypes.byref(rsp))
        if rc == 0:
            lib.tep_response_free(rsp)
        return rc == 0

    assert works(conns[-1]) and works(conns[-2])
    assert not works(conns[0]), "the oldest session of the identity was not closed"
    st = p.tepctl("status", "cse", admin="cse").kv
    assert st["dtls_sessions_closed_per_identity"] == "2", st
    for c in conns:
        lib.tep_conn_free(c)
    lib.tep_device_free(h)


def test_one_address_holds_at_most_its_share(platform):
    """[dtls] max_handshakes_per_addr (16): 300 half-open handshakes from one address hold
    at most 16 handshakes at once (that address's oldest is dropped each time), and a
    device elsewhere still connects."""
    dev = platform.enrolled_device("device01")
    path = harness.ae_path(platform, dev)
    port = int(platform.env["CSE_COAPS"].rsplit(":", 1)[1])
    with dtlsflood.HalfOpenFlood(port, ["127.10.9.9"], 300, 300, 10) as flood:
        flood.wait()
    st = dtlsflood.status(platform, "cse")
    assert flood.started >= 250, flood.started
    assert int(st["dtls_handshakes"]) <= 16, st
    assert int(st["dtls_handshakes_dropped"]) >= flood.started - 16, st
    r = dev.run("--timeout", "5000", "retrieve", path, timeout=15)
    assert r.rc == 0 and r.rsc == 2000, str(r)
