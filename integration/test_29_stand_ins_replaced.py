"""29: what the unit tests' stand-ins stood for, against the real daemons (issue 19 item 5).

- ae-sdk/test_glue.c plays MEF and CSE in one in-test peer; its side of the key agreement
  was derived with the SDK's own code, so "both ends agree" proved nothing. Here the SDK
  (libtepae through ctypes, as an application binding would call it) enrols with the real
  tep-enroller and connects to the real tep-cse: the KeID the SDK stores is the one the
  MEF recorded from its own exporter side (TS-0003 8.3.2.1, 10.3.1), the SDK's KpsaID is
  the one tepkeys.py derives independently from Ke (10.3, docs/keys.md), tep-cse binds
  the session to it (8.2.2.1) and answers the registration; the SDK's refusal codes for a
  wrong Kpm (TEP_ETIMEOUT, RFC 6347 4.1.2.7: the server drops the Finished), an unknown
  and a revoked KpmID (TEP_EDENIED) are those the real MEF causes.
- authz/test_decide_bus.c feeds tep-authz credentials from a stand-in enroller; here the
  real enroller's events bring tep-authz the Km of an enrolment and take it away on
  revocation (TS-0003 10.7), and no key reaches any daemon's log.
- The stand-ins stay in the unit tests only where a fault is injected (a 4.03 after an
  accepted handshake, a wrong RQI, silence, lost or late bus answers): each names it."""

import ctypes
import os
import stat
import time

import harness
import tepkeys

TEP_ETIMEOUT, TEP_EDENIED = -11, -15


class Response(ctypes.Structure):
    _fields_ = [("rsc", ctypes.c_uint), ("coap_code", ctypes.c_uint), ("rqi", ctypes.c_char_p),
                ("body", ctypes.c_char_p), ("body_len", ctypes.c_size_t),
                ("location", ctypes.c_char_p)]


def _lib():
    lib = ctypes.CDLL(os.path.join(harness.BUILD, "ae-sdk", "libtepae.so"))
    vp, P, s = ctypes.c_void_p, ctypes.POINTER, ctypes.c_char_p
    lib.tep_device_load.argtypes = [s, s, P(vp)]
    lib.tep_device_free.argtypes = [vp]
    lib.tep_device_set_timeout.argtypes = [vp, ctypes.c_int]
    lib.tep_device_is_enrolled.argtypes = [vp]
    for name in ("ke_id", "enrolee_id", "app_id", "kpsa_id", "registrar_cse_id"):
        f = getattr(lib, "tep_device_" + name)
        f.argtypes, f.restype = [vp], s
    lib.tep_enrol.argtypes = [vp]
    lib.tep_connect.argtypes = [vp, P(vp)]
    lib.tep_conn_free.argtypes = [vp]
    lib.tep_register_ae.argtypes = [vp, s, s, P(P(Response))]
    lib.tep_create.argtypes = [vp, s, ctypes.c_uint, s, P(P(Response))]
    lib.tep_retrieve.argtypes = [vp, s, P(P(Response))]
    lib.tep_response_free.argtypes = [P(Response)]
    return lib


LIB = _lib()


def _load(dev, timeout_ms=5000):
    h = ctypes.c_void_p()
    assert LIB.tep_device_load(dev.prov.encode(), dev.state.encode(), ctypes.byref(h)) == 0
    LIB.tep_device_set_timeout(h, timeout_ms)
    return h


def _call(fn, *args):
    rsp = ctypes.POINTER(Response)()
    rc = fn(*args, ctypes.byref(rsp))
    assert rc == 0, rc
    r = rsp.contents
    out = (r.rsc, r.coap_code, r.rqi.decode(), (r.body or b"").decode(),
           (r.location or b"").decode())
    LIB.tep_response_free(rsp)
    return out


def _prov_with(platform, name, kpm_id, kpm_hex):
    dev = platform.device(name)
    with open(dev.prov, "w") as f:
        f.write("[device]\nkpm_id = %s\nkpm = %s\nmef_uri = %s\nmef_fqdn = %s\n" % (
            kpm_id, kpm_hex, platform.env["ENROLLER_COAPS"], platform.env["MEF_FQDN"]))
    os.chmod(dev.prov, 0o600)
    return dev


def test_sdk_agrees_with_the_real_mef_and_cse(platform):
    dev = platform.add_enrolee("device01")
    h = _load(dev)
    assert LIB.tep_enrol(h) == 0, platform.logs()
    ke_id = LIB.tep_device_ke_id(h).decode()
    assert (LIB.tep_device_enrolee_id(h), LIB.tep_device_registrar_cse_id(h)) == \
        (b"Cdevice01", platform.env["CSE_ID"].encode())
    assert stat.S_IMODE(os.stat(dev.state).st_mode) == 0o600
    # the MEF exported the same KeID on its side of the session and recorded it
    events = platform.tepctl("events")
    assert events.rc == 0 and [l.split() for l in events.out.splitlines()
                               if " enrolled " in l][0][3:6] == \
        ["device01", "Cdevice01", ke_id], events.out
    # KpsaID: the SDK's equals an independent derivation from the stored Ke
    st = dev.state_values()
    assert st["ke_id"] == ke_id
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    kpsa_id = tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"])
    assert LIB.tep_device_kpsa_id(h).decode() == kpsa_id

    conn = ctypes.c_void_p()
    for _ in range(20):          # the Kpsa reaches tep-cse by event right after enrolment
        rc = LIB.tep_connect(h, ctypes.byref(conn))
        if rc == 0:
            break
        time.sleep(0.1)
    assert rc == 0, platform.logs()
    platform["cse"].wait_log(r"event=session_bound identity=%s enrolee_id=Cdevice01"
                             % kpsa_id, 5)
    rsc, code, rqi, body, location = _call(LIB.tep_register_ae, conn, None, None)
    assert (rsc, code, location, len(rqi)) == (2001, 201, "tep-cse/Cdevice01", 32), body
    assert '"aei":"Cdevice01"' in body.replace(" ", ""), body
    rsc, _, _, _, cnt = _call(LIB.tep_create, conn, b"tep-cse/Cdevice01", 3,
                              b'{"m2m:cnt":{"rn":"data"}}')
    assert (rsc, cnt) == (2001, "tep-cse/Cdevice01/data")
    # "?a&b": each part one Uri-Query option, read by tep-cse as filter criteria
    rsc, _, _, body, _ = _call(LIB.tep_retrieve, conn, b"tep-cse/Cdevice01?fu=1&ty=3")
    assert rsc == 2000 and "tep-cse/Cdevice01/data" in body and "m2m:uril" in body, body
    LIB.tep_conn_free(conn)
    LIB.tep_device_free(h)


def test_sdk_refusal_codes_from_the_real_mef(platform):
    good = platform.add_enrolee("device01")
    kpm = dict(l.split(" = ", 1) for l in open(good.prov).read().splitlines() if " = " in l)
    wrong = kpm["kpm"].strip()
    wrong = ("0" if wrong[0] != "0" else "1") + wrong[1:]
    cases = [
        (_prov_with(platform, "wrongkpm", "device01", wrong), TEP_ETIMEOUT,
         r"event=handshake_failed reason=\w+ kpm_id=device01"),
        (_prov_with(platform, "stranger", "stranger", kpm["kpm"].strip()), TEP_EDENIED,
         r"event=handshake_refused reason=unknown_identity kpm_id=stranger"),
    ]
    platform.add_enrolee("gone")
    assert platform.tepctl("enrolee", "revoke", "gone").rc == 0
    cases.append((platform.device("gone"), TEP_EDENIED,
                  r"event=handshake_refused reason=revoked kpm_id=gone"))
    for dev, want, logged in cases:
        h = _load(dev, timeout_ms=1500)
        assert LIB.tep_enrol(h) == want, dev.name
        assert not LIB.tep_device_is_enrolled(h) and not os.path.exists(dev.state), dev.name
        platform["enroller"].wait_log(logged, 5)
        LIB.tep_device_free(h)
    h = _load(good)                                      # the MEF serves on
    assert LIB.tep_enrol(h) == 0
    LIB.tep_device_free(h)


def test_authz_credentials_follow_the_real_enroller(platform):
    def credentials():
        r = platform.tepctl("status", "authz", admin="authz")
        assert r.rc == 0, str(r)
        return r.get("credentials")

    def wait_credentials(want):
        deadline = time.monotonic() + 5
        while credentials() != want:
            assert time.monotonic() < deadline, platform.logs()
            time.sleep(0.1)

    assert credentials() == "0"
    dev = platform.add_enrolee("device01")
    assert dev.run("enrol").rc == 0
    wait_credentials("1")                                  # its Km, from sync
    assert platform.tepctl("enrolee", "revoke", "device01").rc == 0
    wait_credentials("0")
    st = dev.state_values()
    ke = bytes.fromhex(st["ke"])
    secrets = [ke.hex(), tepkeys.km(ke, platform.env["MAF_ID"]).hex(),
               tepkeys.kpsa(ke, st["registrar_cse_id"]).hex()]
    for name in harness.Platform.ORDER:
        log = platform[name].log(since_start=False).lower()
        assert not any(s in log for s in secrets), name
