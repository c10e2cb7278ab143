"""85: a DTLS handshake flood against tep-cse's CoAPS endpoint does not lock devices out
(issue 18; RFC 6347 4.2.1, the cookie exchange as the DoS countermeasure; TS-0003 8.2.2.1
is the handshake the device makes). Thousands of clients from 200 bound 127.10.x.y
addresses answer the HelloVerifyRequest and go silent; meanwhile an enrolled device
makes a fresh DTLS-PSK (Kpsa) handshake and a request, and must be served within 5 s
every time. The half-open handshakes stay within [dtls] max_handshakes, tepctl status
shows the flood, the log has a rate-limited event=handshake_flood line, and after the
flood the handshakes are gone, the heap is trimmed and the resident memory is back
within a bound of its baseline."""

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
