"""Shared by integration 53 and 175-177: libtepae's MAF calls driven through ctypes (sdk(),
request()), for the devices that need more than `tep-device maf-run` (a key for another
target, a live session, de-registration), and, for 175-177, an MN-CSE that gets Kc from
the MAF over CoAPS (TS-0003 8.8.2.8 MAF Key Retrieval in its own MAF Handshake; `[maf]
retrieval = coaps`), with no bus to tep-authz."""

import ctypes
import datetime
import os
import re

import harness

TEP_EDENIED = -15
RECHECK_S = 1


class Response(ctypes.Structure):
    _fields_ = [("rsc", ctypes.c_uint), ("coap_code", ctypes.c_uint), ("rqi", ctypes.c_char_p),
                ("body", ctypes.c_char_p), ("body_len", ctypes.c_size_t),
                ("location", ctypes.c_char_p)]


def sdk():
    lib = ctypes.CDLL(os.path.join(harness.BUILD, "ae-sdk", "libtepae.so"))
    vp, P = ctypes.c_void_p, ctypes.POINTER
    lib.tep_device_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, P(vp)]
    lib.tep_device_free.argtypes = [vp]
    lib.tep_enrol.argtypes = [vp]
    lib.tep_maf_register_key.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64,
                                         P(vp)]
    lib.tep_kc_key_id.argtypes = [vp]
    lib.tep_kc_key_id.restype = ctypes.c_char_p
    lib.tep_kc_expires.argtypes = [vp]
    lib.tep_kc_expires.restype = ctypes.c_int64
    lib.tep_kc_free.argtypes = [vp]
    lib.tep_maf_update_key.argtypes = [vp, ctypes.c_char_p, vp, ctypes.c_int64, ctypes.c_char_p]
    lib.tep_maf_deregister_key.argtypes = [vp, ctypes.c_char_p, vp]
    lib.tep_device_maf_poa.argtypes = [vp]
    lib.tep_device_maf_poa.restype = ctypes.c_char_p
    lib.tep_connect_kc.argtypes = [vp, vp, ctypes.c_char_p, P(vp)]
    lib.tep_conn_free.argtypes = [vp]
    lib.tep_register_ae.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p, P(P(Response))]
    lib.tep_create.argtypes = [vp, ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p,
                               P(P(Response))]
    lib.tep_response_free.argtypes = [P(Response)]
    return lib


def request(lib, conn, parent, ty, body=""):
    """(rc, rsc) of an AE registration (ty 2) or a CREATE under parent over conn; rsc None
    when the request got no answer."""
    rsp = ctypes.POINTER(Response)()
    if ty == 2:
        rc = lib.tep_register_ae(conn, None, None, ctypes.byref(rsp))
    else:
        rc = lib.tep_create(conn, parent.encode(), ty, body.encode(), ctypes.byref(rsp))
    if rc != 0:
        return rc, None
    rsc = rsp.contents.rsc
    lib.tep_response_free(rsp)
    return rc, rsc


def log_time(log, pattern):
    """The ts= (UTC, ms) of the first log line matching pattern, as a Unix time."""
    for line in log.splitlines():
        if re.search(pattern, line):
            ts = re.search(r"ts=(\S+)Z", line).group(1)
            return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    raise AssertionError("no line matches " + pattern)


def mn_platform():
    """The three daemons (tep-authz's MAF on CoAPS; the IN-CSE gets Kc over the bus) and
    the MN-CSE /mn1 registered to the IN-CSE (Kpsa), configured with `[maf] retrieval =
    coaps` and its [registrar] enrolment (Enrolee-ID /mn1) as the MAF client: its
    configuration names no keys socket and decides locally (no bus to tep-authz)."""
    p, mns = harness.gateway_platform(
        ("mn1",), maf=True,
        mn_extra=[("maf", [("retrieval", "coaps"), ("recheck_s", str(RECHECK_S))])])
    mn = mns["mn1"]
    with open(mn.config) as f:
        ini = f.read()
    assert "retrieval = coaps" in ini and "keys" not in ini and "maf_events" not in ini, ini
    assert re.search(r"^mode = local$", ini, re.M), ini
    mn.wait_log(r"event=maf_retrieval over=coaps maf=mpoa enrolment=registrar", 5)
    return p, mn


class Dev:
    """An enrolee provisioned for /mn1, enrolled, loaded in libtepae."""

    def __init__(self, p, lib, name):
        self.p, self.lib = p, lib
        self.dev = p.add_enrolee(name, "--target", "/mn1")
        self.h = ctypes.c_void_p()
        assert lib.tep_device_load(self.dev.prov.encode(), self.dev.state.encode(),
                                   ctypes.byref(self.h)) == 0
        assert lib.tep_enrol(self.h) == 0, p.logs()
        self.kcs, self.conns = [], []

    def register_key(self, target, lifetime=0):
        kc = ctypes.c_void_p()
        rc = self.lib.tep_maf_register_key(self.h, None, target.encode(), lifetime,
                                           ctypes.byref(kc))
        assert rc == 0, "%d\n%s" % (rc, self.p.logs())
        self.kcs.append(kc)
        return kc, self.lib.tep_kc_key_id(kc).decode()

    def connect(self, kc, uri=None):
        """(rc, conn): DTLS-PSK with Kc to uri (None: the registrar's, the MN-CSE)."""
        conn = ctypes.c_void_p()
        rc = self.lib.tep_connect_kc(self.h, kc, uri.encode() if uri else None,
                                     ctypes.byref(conn))
        if rc == 0:
            self.conns.append(conn)
        return rc, conn

    def request(self, conn, parent, ty, body=""):
        """(rc, rsc): rsc None when the request got no answer."""
        return request(self.lib, conn, parent, ty, body)

    def free(self):
        for conn in self.conns:
            self.lib.tep_conn_free(conn)
        for kc in self.kcs:
            self.lib.tep_kc_free(kc)
        self.lib.tep_device_free(self.h)
