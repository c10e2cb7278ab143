"""193: an IMPI tep-bsf holds no subscriber for gets a challenge like any other (401,
TS 24.109 4.4.3 shape) that no answer can pass: a RES is 403 "authentication failed", as
a wrong RES of a subscriber (integration 239: Ub does not tell who is a subscriber); the
BSF's own counters and log say what happened (refused, reason=unknown_impi); a second
subscriber with the same IMPI cannot be provisioned (exit 3)."""

import base64

import tepgba

import gba_common

UNKNOWN = "999990000000001@ims.mnc999.mcc999.3gppnetwork.org"
REALM = "bsf.tep.local"


def test_unknown_impi_gets_a_challenge_that_never_succeeds(platform_factory):
    p = platform_factory(bsf=True)
    gba_common.add_subscriber(p)
    url = p.env["BSF_UB"]
    status, headers, _ = tepgba.ub_get(url, tepgba._auth(UNKNOWN, REALM, "/"))
    assert status == 401, status
    nonce = tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"]
    assert len(base64.b64decode(nonce)) == 32  # RAND || AUTN
    resp = tepgba.digest_response(UNKNOWN, REALM, bytes(8), "GET", "/", nonce, "00000001", "ab")
    extra = ', qop=auth-int, nc=00000001, cnonce="ab", algorithm=AKAv1-MD5'
    status, _, body = tepgba.ub_get(url, tepgba._auth(UNKNOWN, REALM, "/", nonce, resp, extra))
    assert status == 403 and body == "authentication failed\n", (status, body)
    p["bsf"].wait_log("event=refused reason=unknown_impi", 5)
    st = p.tepctl("status", "bsf", admin="bsf")
    assert (st.get("challenges"), st.get("bootstraps"), st.get("refused")) == ("0", "0", "2"), \
        str(st)
    again = p.tepctl("gba", "add", gba_common.IMPI, admin="bsf")
    assert again.rc == 3, str(again)
