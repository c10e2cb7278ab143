"""191: a device answering the AKA challenge with a wrong RES gets 403 and no B-TID
(RFC 3310 3.3, TS 33.220 4.5.2 step 6: the BSF compares RES with XRES); the challenge
is used up: the right RES for the same nonce afterwards gets a fresh challenge (401,
stale), never a B-TID. A different K (a cloned USIM without the subscriber's key) fails
the device's own check of AUTN and never answers."""

import base64

import gba_common
import tepgba


def test_wrong_res_is_refused(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim, wrong_res=True)
    assert out["status"] == 403 and "btid" not in out, out
    assert gba_common.table(p.tepctl("gba", "btids", admin="bsf")) == []
    st = p.tepctl("status", "bsf", admin="bsf")
    assert (st.get("refused"), st.get("bootstraps")) == ("1", "0"), str(st)
    p["bsf"].wait_log("event=refused reason=wrong_res", 5)


def test_answer_replayed_after_refusal_gets_a_new_challenge(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    url, realm, impi = p.env["BSF_UB"], "bsf.tep.local", gba_common.IMPI
    status, headers, _ = tepgba.ub_get(url, tepgba._auth(impi, realm, "/"))
    assert status == 401
    nonce = tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"]
    raw = base64.b64decode(nonce)
    kind, res, _, _ = usim.authenticate(raw[:16], raw[16:])
    assert kind == "ok"

    def answer(pw):
        resp = tepgba.digest_response(impi, realm, pw, "GET", "/", nonce, "00000001", "ab")
        extra = ', qop=auth-int, nc=00000001, cnonce="ab", algorithm=AKAv1-MD5'
        return tepgba.ub_get(url, tepgba._auth(impi, realm, "/", nonce, resp, extra))

    assert answer(b"\x00" * 8)[0] == 403
    status, headers, _ = answer(res)
    assert status == 401 and "stale=TRUE" in headers["WWW-Authenticate"]


def test_usim_without_the_key_refuses_the_network(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    clone = tepgba.Usim(bytes(16), usim.opc)
    status, headers, _ = tepgba.ub_get(p.env["BSF_UB"],
                                       tepgba._auth(gba_common.IMPI, "bsf.tep.local", "/"))
    raw = base64.b64decode(tepgba.parse_challenge(headers["WWW-Authenticate"])["nonce"])
    assert status == 401 and clone.authenticate(raw[:16], raw[16:]) == ("mac", None)
