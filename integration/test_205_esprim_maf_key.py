"""205: ESPrim with a pairwiseESPrimKey from the MAF (TS-0003 8.4.2 A "MAF ESPrim
Framework", C.6a.1-C.6a.6; 8.8.2.7 Key Registration with SUID 33 for the Receiver,
8.8.2.8 Key Retrieval by it). The device registers an ESPrim key for tep-cse at
tep-authz's MAF; tep-cse gets Kc over the bus (on the MAF's key event, or on first sight
of the kid, answering 4112 until then) and derives the same pairwiseESPrimKey
(Ke2e_msg_conf of Kc, End-Point-B = /tep-cse). The inner request is authenticated as the
key's source. Key separation: tep-cse never accepts such a key as a DTLS PSK (a Kc of
SUID 33 used for the MAF-based SAEF is refused), and the MAF gives it to no AE."""

import ctypes
import re

from harness import created_path, sdk_device, with_maf

TEP_EDENIED = -15


def _lines(result, key):
    return [line.split("=", 1)[1] for line in result.out.splitlines()
            if line.startswith(key + "=")]


def test_esprim_with_a_maf_key(platform):
    p = with_maf(platform)
    dev = p.enrolled_device("esp205")
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (p.env["CSE_NAME"], dev.state_values()["enrolee_id"]))

    r = dev.run("esprim", "create", cnt, "--ty", "4", "--pc", '{"m2m:cin":{"con":"maf-esp"}}',
                "--count", "2", "--maf", "--plain", p.env["CSE_COAP"])
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    key_id = r.get("KEY_ID")
    assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(p.env["MAF_ID"]), key_id), key_id
    assert _lines(r, "RSC") == ["2001", "2001"], str(r)
    p["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s" %
                      (re.escape(key_id), dev.state_values()["enrolee_id"]), 5)
    p["authz"].wait_log(r"event=maf_key_registered source=%s key_id=%s suid=" %
                        (dev.state_values()["enrolee_id"], re.escape(key_id)), 5)

    # An ESPrim key is no Kc for the MAF-based SAEF: tep-cse has it (the object above
    # opened) and still refuses it as a DTLS PSK; and no AE can fetch it (its target is
    # tep-cse).
    lib, h = sdk_device(dev)
    vp, P = ctypes.c_void_p, ctypes.POINTER
    lib.tep_maf_register_e2e_key.argtypes = [vp, ctypes.c_char_p, ctypes.c_uint,
                                             ctypes.c_char_p, ctypes.c_int64, P(vp)]
    lib.tep_connect_kc.argtypes = [vp, vp, ctypes.c_char_p, P(vp)]
    lib.tep_kc_key_id.argtypes = [vp]
    lib.tep_kc_key_id.restype = ctypes.c_char_p
    lib.tep_kc_free.argtypes = [vp]
    kc, conn = vp(), vp()
    try:
        assert lib.tep_maf_register_e2e_key(h, None, 33, b"/tep-cse", 0, ctypes.byref(kc)) == 0
        kid = lib.tep_kc_key_id(kc).decode()
        p["cse"].wait_log(r"event=maf_key_stored key_id=%s" % re.escape(kid), 5)
        rc = lib.tep_connect_kc(h, kc, None, ctypes.byref(conn))
        assert rc == TEP_EDENIED, rc
    finally:
        if conn:
            lib.tep_conn_free(conn)
        lib.tep_kc_free(kc)
        lib.tep_device_free(h)

    other = p.enrolled_device("esp205b")
    bad = other.run("esdata-open", _fake_object(key_id), "--maf")
    assert bad.rc != 0 and "denied" in bad.err.lower(), str(bad)


def _fake_object(kid):
    """A JWE naming kid: only its header is read before the MAF is asked."""
    import base64
    import json
    h = base64.urlsafe_b64encode(json.dumps({"alg": "dir", "enc": "A256GCM", "kid": kid})
                                 .encode()).rstrip(b"=").decode()
    return h + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"
