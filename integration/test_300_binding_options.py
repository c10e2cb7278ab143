"""300: the oneM2M CoAP binding as an independent client (aiocoap) sees it.
TS-0008 V3.9.0 6.2.2.4 (oneM2M options: RQI and RVI echoed, RSC on every response),
6.2.4 Table 6.2.4-1 (RSC -> CoAP response code), 6.2.2.3 (Location-Path on CREATE),
6.2.1 (CON and NON), 6.2.2.2 (Accept: 4.06 when not supported), 6.2.2.3 (Uri-Query),
6.1 (a POST without oneM2M-TY is a NOTIFY), 6.2.2.2 with TS-0004 8.5 (CBOR: 60 and
vnd.onem2m-res+cbor 10010, in and out)."""

import cbor2
import pytest

import coapmsg
from onem2m_client import (CF_JSON, CF_RES_JSON, CON, GET, NON, POST, TY_AE, TY_CIN,
                           TY_CNT, TY_CSE)

CF_CBOR = 60         # application/cbor (TS-0008 Table 6.2.2.2-1)
CF_RES_CBOR = 10010  # application/vnd.onem2m-res+cbor


@pytest.fixture(scope="module")
def ae(cse):
    """An AE with a container: (client, AE path, container path)."""
    c, path, _ = cse.ae("Cbind01", "bind01")
    r = c.create(path, TY_CNT, {"rn": "box"})
    assert r.rsc == 2001, str(r)
    return c, path, r.location


def test_rqi_and_rvi_are_echoed_rsc_always_present(cse, ae):
    """TS-0008 6.2.2.4: RQI echoed, RVI echoed, RSC on success and on error."""
    c, path, _ = ae
    for target, want in ((path, 2000), (cse.name + "/no-such", 4004)):
        r = c.retrieve(target, rqi="rqi-" + str(want), rvi="3")
        assert (r.rsc, r.rqi, r.rvi) == (want, "rqi-" + str(want), "3"), str(r)


def test_rvi_absent_is_answered_with_a_release(cse):
    """TS-0008 6.2.2.4 (RVI, Table 6.2.2.4.0-1): a response carries RVI."""
    r = cse.admin.retrieve(cse.name, rvi=None)
    assert r.rsc == 2000 and r.rvi, str(r)


def test_rsc_to_coap_code_table(cse, ae):
    """TS-0008 6.2.4 Table 6.2.4-1, for the RSCs a client meets first."""
    c, path, cnt = ae
    other, _, _ = cse.ae("Cbind02", "bind02")
    seen = {
        "retrieve 2000": c.retrieve(cnt),
        "create 2001": c.create(cnt, TY_CIN, {"con": "x"}),
        "not found 4004": c.retrieve(cse.name + "/nothing-here"),
        "bad body 4000": c.create(cnt, TY_CIN, b'{"m2m:cin": ', ),
        "no privilege 4103": other.retrieve(cnt),
        "already registered 4117": cse.client("Cbind01").create(
            cse.name, TY_AE, {"rn": "bind01-again", "api": "Ntep.test", "rr": False,
                              "srv": ["3"]}),
        "media type 4015": c.request(POST, cnt, ty=TY_CIN, body=b"<cin/>", cf=41),
    }
    d = c.create(cnt, TY_CIN, {"con": "y"})
    seen["delete 2002"] = c.delete(d.location)
    want = {"retrieve 2000": (2000, "2.05"), "create 2001": (2001, "2.01"),
            "not found 4004": (4004, "4.04"), "bad body 4000": (4000, "4.00"),
            "no privilege 4103": (4103, "4.03"), "already registered 4117": (4117, "4.03"),
            "media type 4015": (4015, "4.15"), "delete 2002": (2002, "2.02")}
    got = {k: (r.rsc, r.code) for k, r in seen.items()}
    assert got == want


def test_create_answers_location_path(cse, ae):
    """TS-0008 6.2.2.3/6.2.3: the URI of the created resource in Location-Path."""
    c, path, cnt = ae
    r = c.create(cnt, TY_CIN, {"con": "located"})
    assert r.rsc == 2001 and r.location.startswith(cnt + "/"), str(r)
    got = c.retrieve(r.location)
    assert got.rsc == 2000 and got.resource(TY_CIN)["con"] == "located", str(got)


def test_non_request_gets_a_response(cse):
    """TS-0008 6.2.1 (V3.7+): a NON request is allowed and answered."""
    r = cse.admin.request(GET, cse.name, mtype=NON)
    assert r.rsc == 2000 and r.code == "2.05", str(r)


def test_con_request_content_format_is_json(cse):
    """TS-0008 6.2.2.2: the CSE answers JSON (50) for a JSON request."""
    r = cse.admin.request(GET, cse.name, mtype=CON)
    assert r.rsc == 2000 and int(r.cf) == CF_JSON and r.resource()["csi"], str(r)


def test_accept_json_is_honoured(cse):
    """TS-0008 6.2.2.2: Accept 50 -> answered in 50."""
    r = cse.admin.retrieve(cse.name, accept=CF_JSON)
    assert r.rsc == 2000 and int(r.cf) == CF_JSON, str(r)


def test_unsupported_accept_is_4_06(cse):
    """TS-0008 6.2.2.2: an Accept the CSE does not support -> 4.06 Not Acceptable."""
    r = cse.admin.retrieve(cse.name, accept=41)  # application/xml
    assert r.code == "4.06", str(r)


def test_empty_uri_query_is_tolerated(cse):
    """TS-0008 6.2.2.3 / RFC 7252 5.10: Uri-Query of length 0 is legal; the request is
    served as if it had none. (aiocoap cannot send one: a hand-made datagram.) libcoap
    4.3.1 refused it as malformed; tep's libcoap patch allows length 0."""
    req = coapmsg.encode(coapmsg.GET, [(coapmsg.OPT_URI_PATH, cse.name.encode()), (15, b""),
                                       (coapmsg.OPT_FR, cse.env["ADMIN_ORIGINATOR"].encode()),
                                       (coapmsg.OPT_RQI, b"empty-q")])
    m = coapmsg.exchange(cse.port, req)
    assert m is not None and m.rsc == 2000 and m.code_str == "2.05", m and m.code_str


def test_post_without_ty_is_a_notify_not_a_create(cse, ae):
    """TS-0008 6.2.1 / Table 6.2.1-1: POST without oneM2M-TY maps to NOTIFY: nothing is
    created, no Location-Path; the container's creator may notify it (TS-0004 7.3.3.10:
    accepted, 2000 OK)."""
    c, path, cnt = ae
    before = c.retrieve(cnt).resource(TY_CNT)["cni"]
    r = c.notify(cnt, {"m2m:cin": {"con": "not a create"}})
    assert r.rsc == 2000 and not r.location, str(r)
    assert c.retrieve(cnt).resource(TY_CNT)["cni"] == before


def test_notify_is_handled(cse, ae):
    """TS-0004 7.3.3.10 (NOTIFY operation): a NOTIFY to an AE is processed (2000 OK),
    not refused 5001."""
    c, path, _ = ae
    r = c.notify(path, {"m2m:sgn": {"nev": {"rep": {"m2m:cin": {"con": "n"}}, "net": 3},
                                    "sur": "/tep-cse/x"}})
    assert r.rsc == 2000, str(r)
    cse.platform["cse"].wait_log(r"event=notify_received target=\S+ bytes=\d+", 1)


def test_vnd_res_json_content_format_accepted(cse, ae):
    """TS-0008 6.2.2.2 / Table 6.2.2.2-1: vnd.onem2m-res+json (10001) inbound."""
    c, path, _ = ae
    r = c.create(path, TY_CNT, {"rn": "vnd"}, cf=CF_RES_JSON)
    assert (r.rsc, r.code) == (2001, "2.01"), str(r)


def test_accept_vnd_res_json_answered_in_it(cse, ae):
    """TS-0008 6.2.2.2: a supported Accept is the Content-Format of the answer."""
    c, path, _ = ae
    r = c.retrieve(path, accept=CF_RES_JSON)
    assert r.rsc == 2000 and int(r.cf) == CF_RES_JSON and r.resource(TY_AE)["rn"], str(r)


def _cbor_text(s):
    b = s.encode()
    assert len(b) < 24
    return bytes([0x60 | len(b)]) + b


def test_cbor_body_accepted(cse, ae):
    """TS-0008 6.2.2.2 (application/cbor, 60) inbound, TS-0004 8.5 (same short names as
    JSON): {"m2m:cnt": {"rn": "cbor"}}, hand-encoded; the answer comes back in CBOR."""
    c, path, _ = ae
    body = b"\xa1" + _cbor_text("m2m:cnt") + b"\xa1" + _cbor_text("rn") + _cbor_text("cbor")
    r = c.create(path, TY_CNT, body, cf=CF_CBOR)
    assert (r.rsc, r.code, int(r.cf)) == (2001, "2.01", CF_CBOR), str(r)
    assert cbor2.loads(r.payload)["m2m:cnt"]["rn"] == "cbor"
    assert c.retrieve(path + "/cbor").resource(TY_CNT)["rn"] == "cbor"


def test_accept_cbor_answered_in_cbor(cse, ae):
    """TS-0008 6.2.2.2 (Accept 60 honoured), TS-0004 8.5.1 (text strings, integers as
    major types 0/1): a JSON-created resource retrieved as CBOR decodes to the same
    attributes as its JSON retrieve."""
    c, path, cnt = ae
    as_json = c.retrieve(cnt).resource(TY_CNT)
    r = c.retrieve(cnt, accept=CF_CBOR)
    assert (r.rsc, r.code, int(r.cf)) == (2000, "2.05", CF_CBOR), str(r)
    assert r.json is None  # not JSON text
    got = cbor2.loads(r.payload)["m2m:cnt"]
    assert got == as_json and isinstance(got["ty"], int) and isinstance(got["rn"], str), got


def test_res_cbor_vnd_format_both_ways(cse, ae):
    """TS-0004 6.7 / TS-0008 Table 6.2.2.2-1: vnd.onem2m-res+cbor (10010) inbound, and as
    Accept the Content-Format of the answer."""
    c, path, _ = ae
    body = cbor2.dumps({"m2m:cnt": {"rn": "vndcbor", "mni": 5, "lbl": ["k"]}})
    r = c.create(path, TY_CNT, body, cf=CF_RES_CBOR, accept=CF_RES_CBOR)
    assert (r.rsc, int(r.cf)) == (2001, CF_RES_CBOR), str(r)
    got = cbor2.loads(r.payload)["m2m:cnt"]
    assert (got["mni"], got["lbl"]) == (5, ["k"]), got


def test_cbor_request_json_accept_answered_in_json(cse, ae):
    """TS-0008 6.2.2.2: Accept decides the answer's format, not the request's."""
    c, path, _ = ae
    body = cbor2.dumps({"m2m:cnt": {"rn": "cbor-json"}})
    r = c.create(path, TY_CNT, body, cf=CF_CBOR, accept=CF_JSON)
    assert (r.rsc, int(r.cf)) == (2001, CF_JSON) and r.resource(TY_CNT)["rn"] == "cbor-json"


def test_undecodable_cbor_is_bad_request(cse, ae):
    """TS-0004 8.5.1 (a CBOR body that gives no valid JSON object is an error) -> 4000
    with a reason, answered in CBOR like any answer to a CBOR request: truncated
    CBOR, a map with an integer key, nesting deeper than 32."""
    c, path, _ = ae
    for body, why in ((b"\xa1\x67m2m:cn", "bad_cbor"),
                      (b"\xa1\x01\x02", "cbor_value_not_json"),
                      (b"\x81" * 40 + b"\x80", "cbor_too_deep")):
        r = c.create(path, TY_CNT, body, cf=CF_CBOR)
        assert (r.rsc, r.code, int(r.cf)) == (4000, "4.00", CF_CBOR), str(r)
        assert cbor2.loads(r.payload)["m2m:dbg"] == "BAD_REQUEST: " + why


def test_csebase_cannot_be_deleted_or_updated(cse):
    """TS-0004 7.4.3 (CSEBase: no UPDATE, no DELETE by oneM2M requests) -> 4005, 4.05."""
    for r in (cse.admin.delete(cse.name), cse.admin.update(cse.name, TY_CSE, {"lbl": ["x"]})):
        assert (r.rsc, r.code) == (4005, "4.05"), str(r)
    assert cse.admin.retrieve(cse.name).rsc == 2000


def test_error_debug_info_is_json(cse):
    """TS-0004 6.6 (debugInfo, m2m:dbg) in every error response body."""
    r = cse.admin.retrieve(cse.name + "/nothing")
    assert r.rsc == 4004 and isinstance(r.dbg, str) and r.dbg, str(r)
