"""192: SQN out of range and re-synchronisation (TS 33.102 6.3.3 and 6.3.5, RFC 3310
3.4; TS 33.220 4.5.2). The device's USIM is ahead of the network (SQN_MS = 1000 while
tep-bsf's SQN_HE is 0, as after a restore of the HSS): the first challenge's SQN is not
fresh, so the USIM answers with AUTS (and an empty password); tep-bsf checks MAC-S,
moves SQN_HE to SQN_MS and challenges again with SQN 1001, which the USIM accepts, and
the bootstrapping completes. A forged AUTS is refused (403) and changes nothing."""

import base64

import gba_common
import tepgba


def test_usim_ahead_resynchronises_and_bootstraps(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    usim.sqn_ms = 1000
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200 and out["resyncs"] == 1, (out, p["bsf"].tail())
    assert usim.sqn_ms == 1001
    row = gba_common.table(p.tepctl("gba", "list", admin="bsf"))[0]
    assert row[:3] == [gba_common.IMPI, "1001", "1"], row
    assert p.tepctl("status", "bsf", admin="bsf").get("resyncs") == "1"
    p["bsf"].wait_log("event=resynchronised sqn_ms=1000", 5)


def test_network_far_ahead_of_the_window_resynchronises_too(platform_factory):
    """SQN_HE more than delta above SQN_MS (TS 33.102 C.2.2): the USIM refuses it as
    well, and tep-bsf steps back to SQN_MS."""
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p, sqn=(1 << 28) + 100)
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200 and out["resyncs"] == 1, out
    assert usim.sqn_ms == 1


def test_forged_auts_is_refused(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    url, realm, impi = p.env["BSF_UB"], "bsf.tep.local", gba_common.IMPI
    status, headers, _ = tepgba.ub_get(url, tepgba._auth(impi, realm, "/"))
    nonce = tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"]
    rand = base64.b64decode(nonce)[:16]
    auts = bytearray(tepgba.auts(usim.k, usim.opc, rand, 5000))
    auts[-1] ^= 1
    resp = tepgba.digest_response(impi, realm, b"", "GET", "/", nonce, "00000001", "ab")
    extra = (', qop=auth-int, nc=00000001, cnonce="ab", algorithm=AKAv1-MD5, auts="%s"'
             % base64.b64encode(bytes(auts)).decode())
    status, _, _ = tepgba.ub_get(url, tepgba._auth(impi, realm, "/", nonce, resp, extra))
    assert status == 403
    row = gba_common.table(p.tepctl("gba", "list", admin="bsf"))[0]
    assert row[:3] == [impi, "0", "0"], row  # a challenge itself writes no SQN (239)
