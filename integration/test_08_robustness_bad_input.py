"""08: bad input from the network never takes tep-cse down.
TS-0008 (CoAP binding: a malformed message is rejected or ignored, RFC 7252 4.2/5.4),
TS-0004 (4000 BAD_REQUEST for an unparsable body), and the regression test for the
libcoap 4.3.1 one-byte heap over-read on a request ending with a zero-length Proxy-Uri
option, which tep's libcoap patch closes (docs: spec/COAP-binding-notes.md). That one
asserts what a client sees, so it fails without a sanitizer too: the datagram is
rejected as malformed (RST, RFC 7252 4.2 and 5.10: Proxy-Uri is 1..1034 bytes) and
never reaches tep-cse's request handling; it also runs against the ASan+UBSan build in
`./tep test`."""

import socket

import coapmsg as c


def _cse_answers(platform):
    """A oneM2M RETRIEVE of the CSEBase by the admin originator over plain CoAP."""
    port = platform.ports["cse_coap"]
    m = c.exchange(port, c.onem2m_request(c.GET, platform.env["CSE_NAME"],
                                          platform.env["ADMIN_ORIGINATOR"]))
    assert m is not None, "no answer from tep-cse\n" + platform.logs()
    return m


def test_malformed_datagrams_are_survived(platform):
    port = platform.ports["cse_coap"]
    junk = [b"", b"\x00", b"\xff" * 3, b"\x40\x01", b"\x4f\x01\x00\x01" + b"\x00" * 3,
            b"\x40\x01\x00\x02\xee", b"\x40\x01\x00\x03\xd0", b"\x40\x01\x00\x04\xe1\xff",
            bytes(range(256))]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in junk:
            s.sendto(d, ("127.0.0.1", port))
    m = _cse_answers(platform)
    assert m.code_str == "2.05" and m.rsc == 2000, (m.code_str, m.rsc, m.payload)
    assert platform["cse"].alive()


def test_bad_json_body_is_4000_and_cse_still_serves(platform):
    port = platform.ports["cse_coap"]
    req = c.onem2m_request(c.POST, platform.env["CSE_NAME"], platform.env["ADMIN_ORIGINATOR"],
                           body=b'{"m2m:cnt": {"rn": "x", ', ty=3)
    m = c.exchange(port, req)
    assert m is not None, platform.logs()
    assert m.code_str == "4.00" and m.rsc == 4000, (m.code_str, m.rsc, m.payload)
    assert _cse_answers(platform).rsc == 2000


def test_zero_length_proxy_uri_at_end(platform):
    port = platform.ports["cse_coap"]
    # CON GET, Uri-Path "tep-cse", then option 35 (Proxy-Uri) of length 0 as the very
    # last bytes of the datagram: libcoap 4.3.1 read one byte past it.
    req = c.encode(c.GET, [(c.OPT_URI_PATH, platform.env["CSE_NAME"].encode()),
                           (c.OPT_PROXY_URI, b"")])
    assert req.endswith(b"\xd0\x0b")
    for _ in range(20):
        mid = int.from_bytes(req[2:4], "big")
        m = c.exchange(port, req, timeout=2)
        # rejected: a Reset for that message, nothing else (no 2.05 of the CSEBase)
        assert m is not None and (m.mtype, m.code, m.mid) == (c.RST, 0, mid), \
            (m and (m.mtype, m.code_str, m.mid, m.payload), platform["cse"].tail())
        req = c.encode(c.GET, [(c.OPT_URI_PATH, platform.env["CSE_NAME"].encode()),
                               (c.OPT_PROXY_URI, b"")])
    log = platform["cse"].log()
    assert log.count("option 35 has bad length 0") == 20, platform["cse"].tail()
    assert "event=request " not in log, platform["cse"].tail()
    assert platform["cse"].alive(), platform["cse"].tail()
    assert _cse_answers(platform).rsc == 2000
