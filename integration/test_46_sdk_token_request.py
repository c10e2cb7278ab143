"""46: the AE side of the indirect flow through libtepae (TS-0003 7.3.2.3): the public
tep_token_request() derives Km/KmID from the enrolment (TS-0003 10.3), asks tep-authz
over DTLS-PSK for a token and returns its Token-ID, JWS and holder; presenting the
Token-ID to tep-cse (tids) then permits the read the target's own policies deny. A
request no grant covers is refused (TEP_EDENIED). The shared library is driven through
ctypes, as any application binding would."""

import ctypes
import os

import harness
from test_41_dynauth_tokens import DynPlatform

TEP_EDENIED = -15


class Token(ctypes.Structure):
    _fields_ = [("id", ctypes.c_char_p), ("jws", ctypes.c_char_p),
                ("holder", ctypes.c_char_p), ("expires", ctypes.c_int64)]


def _lib():
    lib = ctypes.CDLL(os.path.join(harness.BUILD, "ae-sdk", "libtepae.so"))
    lib.tep_device_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_void_p)]
    lib.tep_device_free.argtypes = [ctypes.c_void_p]
    lib.tep_token_request.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                                      ctypes.c_uint, ctypes.c_int64,
                                      ctypes.POINTER(ctypes.POINTER(Token))]
    lib.tep_token_free.argtypes = [ctypes.POINTER(Token)]
    return lib


def _request(lib, dev, uri, ris, acop):
    h = ctypes.c_void_p()
    assert lib.tep_device_load(dev.prov.encode(), dev.state.encode(), ctypes.byref(h)) == 0
    arr = (ctypes.c_char_p * len(ris))(*[r.encode() for r in ris])
    tok = ctypes.POINTER(Token)()
    try:
        rc = lib.tep_token_request(h, uri.encode(), arr, len(ris), acop, 0, ctypes.byref(tok))
        got = None
        if rc == 0:
            t = tok.contents
            got = (t.id.decode(), t.jws.decode(), t.holder.decode(), t.expires)
            lib.tep_token_free(tok)
        return rc, got
    finally:
        lib.tep_device_free(h)


def test_sdk_token_request_then_tids(monkeypatch, request):
    d = DynPlatform(monkeypatch)
    try:
        _, cnt, _ = harness.device_with_data(d.p, "device02")
        reader = d.p.enrolled_device("device01")
        lib = _lib()
        uri = "coaps://127.0.0.1:%d" % d.authz_port
        assert d.read(reader, cnt).rsc == 4103

        rc, got = _request(lib, reader, uri, ["/" + cnt], 2)
        for _ in range(10):  # the Km reaches tep-authz by event right after enrolment
            if rc == 0:
                break
            rc, got = _request(lib, reader, uri, ["/" + cnt], 2)
        assert rc == 0, d.p.logs()
        tkid, jws, holder, expires = got
        assert jws.count(".") == 2 and holder.endswith("/Cdevice01") and expires > 0
        r = d.read(reader, cnt, query="tids=" + tkid)
        assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
        assert r.get("ati").endswith(":" + tkid)

        rc, _ = _request(lib, reader, uri, ["/" + cnt], 8)  # DELETE: no grant
        assert rc == TEP_EDENIED
        d.stop()
    finally:
        d.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def test_tep_device_token_then_tids(monkeypatch, request):
    """The example program does the same: `tep-device token PATH ACOP` (the MAF URI from
    the enrolment when the enroller announces one, else --maf-uri), then the Token-ID
    presented as a query of the path (`retrieve "PATH?tids=<id>"`, Uri-Query)."""
    d = DynPlatform(monkeypatch)
    try:
        _, cnt, _ = harness.device_with_data(d.p, "device02")
        reader = d.p.enrolled_device("device01")
        uri = "coaps://127.0.0.1:%d" % d.authz_port
        r = reader.run("retrieve", cnt)
        assert r.rc == 3 and r.get("RSC") == "4103", str(r)
        for _ in range(10):  # the Km reaches tep-authz by event right after enrolment
            r = reader.run("token", cnt, "2", "--maf-uri", uri)
            if r.rc == 0:
                break
        assert r.rc == 0, "%s\n%s" % (r, d.p.logs())
        tkid = r.get("TOKEN_ID")
        assert tkid and tkid.endswith("@" + d.p.env["MAF_ID"]), str(r)
        assert r.get("HOLDER").endswith("/Cdevice01"), str(r)
        r = reader.run("retrieve", "%s?tids=%s" % (cnt, tkid))
        assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s" % (r, d.p.logs())
        r = reader.run("token", cnt, "8", "--maf-uri", uri)  # DELETE: no grant
        assert r.rc == 2 and "token request: denied" in r.err, str(r)
        d.p["authz"].wait_log(r'event=token_refused holder=\S*Cdevice01 code=\d+ reason="', 1)
        d.stop()
    finally:
        d.p.cleanup(keep=getattr(request.node, "tep_failed", False))
