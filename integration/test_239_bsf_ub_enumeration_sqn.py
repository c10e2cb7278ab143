"""239: tep-bsf's Ub tells nobody who is a subscriber, and an unauthenticated request
changes no subscriber state. TS 33.220 4.5.2 (bootstrapping), RFC 3310 (HTTP Digest
AKA), TS 33.102 6.3.2 and Annex C (SQN_HE: a fresh SQN per challenge, the USIM accepting
one above SQN_MS and within delta).

Attack 1 (subscriber enumeration): an unknown IMPI was answered 403 at once and a known
one 401 with a challenge, so anyone could test IMPIs. Now both get a 401 of the same
shape (the unknown one a challenge from a random K, OPc: a phantom), and every answer to
either (a RES, an AUTS) is the same 403.
Attack 2 (state change without authentication): each challenge request committed
SQN_HE + 1, so anyone knowing a victim's IMPI moved its SQN_HE (a disk write per
request; pushed past the USIM's delta, the victim needs a re-synchronisation). Now a
challenge carries SQN_HE + 1 .. + 4 (one per pending challenge of the IMPI) and writes
nothing: SQN_HE moves only when a RES is verified, or with a verified AUTS."""

import base64
import os

import gba_common
import tepgba

UNKNOWN = "001010000000999@ims.mnc001.mcc001.3gppnetwork.org"
REALM = "bsf.tep.local"
EXTRA = ', qop=auth-int, nc=00000001, cnonce="ab", algorithm=AKAv1-MD5'


def _shape(status, headers, body):
    """What a client sees, but the nonce's value."""
    www = headers.get("WWW-Authenticate", "")
    params = tepgba.parse_challenge(www) if www else {}
    nonce = params.pop("nonce", "")
    return (status, sorted(k.lower() for k in headers.keys() if k.lower() != "date"),
            sorted(params.items()), len(nonce), body)


def _ask(url, impi):
    status, headers, body = tepgba.ub_get(url, tepgba._auth(impi, REALM, "/"))
    nonce = tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"] if status == 401 else ""
    return _shape(status, headers, body), nonce


def _answer(url, impi, nonce, pw, auts=None):
    resp = tepgba.digest_response(impi, REALM, pw, "GET", "/", nonce, "00000001", "ab")
    extra = EXTRA + (', auts="%s"' % base64.b64encode(auts).decode() if auts else "")
    return _shape(*tepgba.ub_get(url, tepgba._auth(impi, REALM, "/", nonce, resp, extra)))


def test_unknown_and_known_impi_answer_alike(platform_factory):
    p = platform_factory(bsf=True)
    gba_common.add_subscriber(p)
    url = p.env["BSF_UB"]
    seen = {}
    for impi in (gba_common.IMPI, UNKNOWN):
        first, nonce = _ask(url, impi)
        wrong_res = _answer(url, impi, nonce, os.urandom(8))
        _, nonce = _ask(url, impi)
        forged_auts = _answer(url, impi, nonce, b"", os.urandom(14))
        seen[impi] = (first, wrong_res, forged_auts)
    known, unknown = seen[gba_common.IMPI], seen[UNKNOWN]
    assert known[0][0] == 401 and known[1][0] == 403 and known[2][0] == 403, known
    assert unknown == known, (unknown, known)


def test_unauthenticated_challenges_change_no_subscriber_state(platform_factory):
    p = platform_factory(bsf=True)
    victim = gba_common.add_subscriber(p)
    url, impi = p.env["BSF_UB"], gba_common.IMPI
    before = gba_common.table(p.tepctl("gba", "list", admin="bsf"))[0]
    for _ in range(100):  # the attacker knows the victim's IMPI, nothing else
        assert tepgba.ub_get(url, tepgba._auth(impi, REALM, "/"))[0] == 401
    after = gba_common.table(p.tepctl("gba", "list", admin="bsf"))[0]
    assert after == before and after[1] == "0", (before, after)
    out = tepgba.bootstrap(url, impi, victim)
    assert out["status"] == 200 and out["resyncs"] == 0, out
    row = gba_common.table(p.tepctl("gba", "list", admin="bsf"))[0]
    assert 1 <= int(row[1]) <= 4 and int(row[1]) == victim.sqn_ms, (row, victim.sqn_ms)
