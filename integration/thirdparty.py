"""oneM2M over CoAP with two clients nobody here wrote, for integration 330 and 331:

- CoAPthon3 (PyPI `coapthon3`, import name `coapthon`), a pure-Python CoAP stack: the
  client oneM2M tools built on it use, and its CoAP server as a notification target.
  It knows no oneM2M option: like every oneM2M tool built on it, this module enters
  them in CoAPthon's option registry (TS-0008 V3.9.0 Table 6.2.2.4.0-1).
- Debian's `coap-client` (libcoap3-bin 4.3.1: -notls, -openssl, -gnutls). It sends
  any option (-O num,value) but drops a response carrying oneM2M options it does not
  know (all are critical) and exits without printing it; its -v 7 trace shows every
  received message, so coap_client() reads the answer from that trace and stops the
  tool as soon as it is there (instead of waiting out its -B timeout).

Both return a Reply: CoAP code ("2.01"), RSC, RQI, Location-Path, parsed JSON body."""

import itertools
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time

# ---- the oneM2M options (TS-0008 V3.9.0 Table 6.2.2.4.0-1) ------------------------------

OPT_TY, OPT_RVI, OPT_FR, OPT_RQI, OPT_RSC = 267, 271, 279, 283, 307
STRING_OPTIONS = (259, 263, 271, 275, 279, 283, 291, 295, 299, 311, 327, 331, 335, 339)
UINT_OPTIONS = (267, 303, 307, 319, 323)

TY_ACP, TY_AE, TY_CNT, TY_CIN, TY_SUB = 1, 2, 3, 4, 23
WRAPPER = {TY_ACP: "m2m:acp", TY_AE: "m2m:ae", TY_CNT: "m2m:cnt", TY_CIN: "m2m:cin",
           TY_SUB: "m2m:sub"}
CF_JSON = 50


class Reply:
    """One oneM2M response as a client saw it."""

    def __init__(self, code, rsc, rqi, location, payload, mtype=None):
        self.code, self.rsc, self.rqi, self.location = code, rsc, rqi, location
        self.payload, self.mtype = payload, mtype
        try:
            self.json = json.loads(payload) if payload else None
        except ValueError:
            self.json = None

    def resource(self, ty):
        return self.json[WRAPPER[ty]]

    def __str__(self):
        return "CoAP %s rsc=%s rqi=%s loc=%s payload=%r" % (
            self.code, self.rsc, self.rqi, self.location, (self.payload or "")[:300])


def body_of(ty, attrs):
    return json.dumps({WRAPPER[ty]: attrs})


# ---- CoAPthon3 -------------------------------------------------------------------------

try:
    from coapthon import defines as _ct_defines
    from coapthon.client.helperclient import HelperClient as _HelperClient
    from coapthon.messages.option import Option as _Option
    from coapthon.resources.resource import Resource as _Resource
    from coapthon.server.coap import CoAP as _CoapServer
except ImportError:  # the test modules skip; `./tep deps` installs it
    _ct_defines = None

COAPTHON = _ct_defines is not None

if COAPTHON:
    for _n in STRING_OPTIONS:
        _ct_defines.OptionRegistry.LIST[_n] = _ct_defines.OptionItem(
            _n, "oneM2M-%d" % _n, _ct_defines.STRING, False, None)
    for _n in UINT_OPTIONS:
        _ct_defines.OptionRegistry.LIST[_n] = _ct_defines.OptionItem(
            _n, "oneM2M-%d" % _n, _ct_defines.INTEGER, False, None)


def _ct_option(num, value):
    o = _Option()
    o.number = num
    o.value = value
    return o


def _ct_opt(msg, num):
    for o in msg.options:
        if o.number == num:
            return o.value
    return None


_CT_METHODS = {"get": "GET", "post": "POST", "put": "PUT", "delete": "DELETE"}


class CoapthonClient:
    """oneM2M requests over plain CoAP with CoAPthon3's HelperClient, as `originator`."""

    def __init__(self, port, originator, timeout=10.0):
        self.originator, self.timeout = originator, timeout
        self.client = _HelperClient(server=("127.0.0.1", port))
        self._rqi = 0

    def close(self):
        self.client.stop()

    def request(self, method, path, ty=None, body=None, query=None):
        """One request; a Reply, or None when no answer came within the timeout."""
        code = getattr(_ct_defines.Codes, _CT_METHODS[method])
        req = self.client.mk_request(code, path + ("?" + query if query else ""))
        self._rqi += 1
        rqi = "ct-%d" % self._rqi
        for num, value in ((OPT_FR, self.originator), (OPT_RQI, rqi), (OPT_RVI, "3")):
            req.add_option(_ct_option(num, value))
        if ty is not None:
            req.add_option(_ct_option(OPT_TY, ty))
        if body is not None:
            req.payload = body
            req.content_type = CF_JSON
        rsp = self.client.send_request(req, timeout=self.timeout)
        if rsp is None:
            return None
        code = "%d.%02d" % (rsp.code >> 5, rsp.code & 31)
        return Reply(code, _ct_opt(rsp, OPT_RSC), _ct_opt(rsp, OPT_RQI), rsp.location_path,
                     rsp.payload, rsp.type)

    def create(self, path, ty, attrs):
        return self.request("post", path, ty=ty, body=body_of(ty, attrs))

    def retrieve(self, path, query=None):
        return self.request("get", path, query=query)

    def update(self, path, ty, attrs):
        return self.request("put", path, body=body_of(ty, attrs))

    def delete(self, path):
        return self.request("delete", path)


if COAPTHON:
    class _NotifyResource(_Resource):
        def __init__(self, target):
            super().__init__("notify", coap_server=None, visible=True, observable=False,
                             allow_children=False)
            self.target = target

        def render_POST_advanced(self, request, response):
            self.target.add(request)
            response.code = _ct_defines.Codes.CHANGED.number
            response.add_option(_ct_option(OPT_RSC, 2000))
            rqi = _ct_opt(request, OPT_RQI)
            if rqi is not None:
                response.add_option(_ct_option(OPT_RQI, rqi))
            response.add_option(_ct_option(OPT_RVI, "3"))
            return self, response


class CoapthonNotificationTarget:
    """A CoAPthon3 CoAP server on 127.0.0.1:port with a resource /notify that records
    every request (its JSON body) and answers 2.04 with RSC 2000: the notification URI
    of a subscription (TS-0004 7.4.8, verification and notifications)."""

    def __init__(self, port):
        self.port = port
        self.received = []
        self._cond = threading.Condition()
        self.server = _CoapServer(("127.0.0.1", port))
        self.server.add_resource("notify/", _NotifyResource(self))
        self.thread = threading.Thread(target=self.server.listen, args=(0.2,), daemon=True)
        self.thread.start()

    @property
    def uri(self):
        return "coap://127.0.0.1:%d/notify" % self.port

    def add(self, request):
        try:
            body = json.loads(request.payload)
        except (TypeError, ValueError):
            body = None
        with self._cond:
            self.received.append(body)
            self._cond.notify_all()

    def wait(self, pred, timeout=10.0):
        """The first received body for which pred(body) holds, or None after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for b in self.received:
                    if b is not None and pred(b):
                        return b
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def close(self):
        self.server.close()
        self.thread.join(5)


# ---- Debian's coap-client ----------------------------------------------------------------

COAP_CLIENTS = {v: shutil.which("coap-client-" + v) for v in ("notls", "openssl", "gnutls")}

# one received message in coap-client's -v 7 trace (libcoap's coap_show_pdu):
# v:1 t:ACK c:2.01 i:c7d7 {01} [ Location-Path:tep-cse, ..., 307:\x07\xD1 ] :: '{...}'
_TRACE_PDU = re.compile(r"v:1 t:(ACK|CON|NON|RST) c:(\d\.\d\d) i:[0-9a-f]+ \{[0-9a-f]*\}"
                        r" \[ ?(.*?) ?\](?: :: '(.*)')?$")


def _hex_value(text):
    return bytes(int(h, 16) for h in re.findall(r"\\x([0-9A-Fa-f]{2})", text))


def parse_trace_pdu(line):
    """The Reply of one trace line holding a non-empty received response, else None."""
    m = _TRACE_PDU.search(line)
    if not m or m.group(2) == "0.00" or int(m.group(2)[0]) < 2:
        return None
    opts = [o.split(":", 1) for o in m.group(3).split(", ") if ":" in o] if m.group(3) else []
    rsc = rqi = None
    location = []
    for name, value in opts:
        if name == str(OPT_RSC):
            rsc = int.from_bytes(_hex_value(value), "big")
        elif name == str(OPT_RQI):
            rqi = _hex_value(value).decode()
        elif name == "Location-Path":
            location.append(value)
    return Reply(m.group(2), rsc, rqi, "/".join(location), m.group(4), m.group(1))


_rqis = itertools.count(1)


def coap_client(variant, url, method, originator, ty=None, body=None, psk=None, timeout=10.0,
                rqi=None, local_port=None):
    """One request with coap-client-<variant>; (Reply or None, the whole trace).
    psk: (identity, key bytes) for coaps:// URLs. The oneM2M options From, RQI, RVI and
    TY are sent with -O (TY as a one-byte uint), the body as application/json. rqi: the
    Request Identifier (default: one unique to this process); the answer is the first
    received response that echoes it (or carries none, as libcoap's own 4.xx do).
    local_port: the client's own UDP port (-p; default: one the kernel picks)."""
    if rqi is None:
        rqi = "cc-%d-%d" % (os.getpid(), next(_rqis))
    argv = [COAP_CLIENTS[variant], "-v", "7", "-B", str(int(timeout)), "-m", method,
            "-O", "%d,%s" % (OPT_FR, originator), "-O", "%d,%s" % (OPT_RQI, rqi),
            "-O", "%d,3" % OPT_RVI]
    if local_port is not None:
        argv += ["-p", str(local_port)]
    if ty is not None:
        argv += ["-O", "%d,0x%02x" % (OPT_TY, ty)]
    if body is not None:
        argv += ["-t", str(CF_JSON), "-e", body]
    if psk is not None:
        argv += ["-u", psk[0].encode(), "-k", psk[1]]
    argv.append(url.encode())
    for _ in range(3):
        reply, trace = _until_response(argv, timeout + 2, rqi)
        if reply is not None or not _talked_to_itself(trace):
            break
    return reply, trace


# "*  127.0.0.1:50633 <-> 127.0.0.1:50633 DTLS: sent 204 bytes": the kernel gave
# coap-client (SO_REUSEADDR) the server's own port as its source port, so it sent its
# request to itself and nothing reached the server; another run gets another port.
_SESSION = re.compile(r"(\S+:\d+) <-> (\S+:\d+) ")


def _talked_to_itself(trace):
    return any(m.group(1) == m.group(2) for m in _SESSION.finditer(trace))


def _until_response(argv, timeout, rqi=None):
    """Runs argv, reading its trace until a response shows (then stops it) or timeout.
    With rqi, a response echoing another RQI is not the answer: the kernel may hand
    coap-client a port an earlier, killed coap-client had, and tep-cse may still be
    retransmitting a separate (CON) response to that one there; coap-client drops it (its
    token is unknown) but the trace shows it."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    trace, buf, reply = [], b"", None
    deadline = time.monotonic() + timeout
    try:
        while reply is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                break
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf and reply is None:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                trace.append(text)
                reply = parse_trace_pdu(text)
                if reply is not None and reply.code == "2.31":
                    reply = None  # Block1 Continue: the answer comes with the last block
                elif reply is not None and rqi is not None and reply.rqi not in (None, rqi):
                    reply = None  # another request's answer (see above)
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
    return reply, "\n".join(trace)
