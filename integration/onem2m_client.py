"""A thin oneM2M-over-CoAP client and notification target on top of aiocoap, a CoAP
library nobody here wrote (PyPI), for the TS-0008 binding scenarios (test_3NN_*.py).

aiocoap knows nothing about oneM2M: this module registers the oneM2M options with their
TS-0008 V3.9.0 Table 6.2.2.4.0-1 formats (string or uint), then builds requests the way any oneM2M client would (From, RQI, RVI, TY options, JSON
body, Uri-Query for rcn/fu/filter criteria) and reads RSC, RQI, RVI and Location-Path
back. It is synchronous for the tests: each OneM2MClient owns an asyncio loop, and a
NotificationTarget (an aiocoap server) runs on that same loop, so it answers while the
client waits for the CSE's response.

Content formats are compared as numbers: aiocoap names 50 application/json, but 10001
(TS-0008's vnd.onem2m-res+json) is application/oscore in IANA's registry."""

import asyncio
import itertools
import json

import aiocoap
import aiocoap.resource
from aiocoap import optiontypes
from aiocoap.numbers.optionnumbers import OptionNumber
from aiocoap.numbers import codes

# TS-0008 V3.9.0 Table 6.2.2.4.0-1: number -> (short name, format)
ONEM2M_OPTIONS = {
    259: ("OT", optiontypes.StringOption), 263: ("RTURI", optiontypes.StringOption),
    267: ("TY", optiontypes.UintOption), 271: ("RVI", optiontypes.StringOption),
    275: ("ASRI", optiontypes.StringOption), 279: ("FR", optiontypes.StringOption),
    283: ("RQI", optiontypes.StringOption), 291: ("RQET", optiontypes.StringOption),
    295: ("RSET", optiontypes.StringOption), 299: ("OET", optiontypes.StringOption),
    303: ("EC", optiontypes.UintOption), 307: ("RSC", optiontypes.UintOption),
    311: ("GID", optiontypes.StringOption), 319: ("CTO", optiontypes.UintOption),
    323: ("CTS", optiontypes.UintOption), 327: ("ATI", optiontypes.StringOption),
    331: ("VSI", optiontypes.StringOption), 335: ("GTM", optiontypes.StringOption),
    339: ("AUS", optiontypes.StringOption),
}
OPT = {name: num for num, (name, _) in ONEM2M_OPTIONS.items()}
for _num, (_name, _fmt) in ONEM2M_OPTIONS.items():
    OptionNumber(_num).set_format(_fmt)

CF_JSON = 50           # application/json (TS-0008 Table 6.2.2.2-1)
CF_RES_JSON = 10001    # application/vnd.onem2m-res+json
CF_NTFY_JSON = 10003

GET, POST, PUT, DELETE = codes.GET, codes.POST, codes.PUT, codes.DELETE
CON, NON = aiocoap.CON, aiocoap.NON

# oneM2M resource types (TS-0004 Table 6.3.4.2.1-1) and their JSON wrappers
TY_ACP, TY_AE, TY_CNT, TY_CIN, TY_CSE, TY_GRP, TY_SUB = 1, 2, 3, 4, 5, 9, 23
WRAPPER = {TY_ACP: "m2m:acp", TY_AE: "m2m:ae", TY_CNT: "m2m:cnt", TY_CIN: "m2m:cin",
           TY_CSE: "m2m:cb", TY_GRP: "m2m:grp", TY_SUB: "m2m:sub", 16: "m2m:csr"}

DEFAULT_TIMEOUT = 20.0
_rqi_counter = itertools.count(1)


def _opt_value(msg, num):
    opts = msg.opt.get_option(OptionNumber(num))
    return opts[0].value if opts else None


class Response:
    """One oneM2M response: CoAP code ("2.05"), mtype, rsc, rqi, rvi, location (the
    Location-Path joined with '/'), content format, raw payload and parsed JSON (or
    None), the sending request's rqi."""

    def __init__(self, msg, sent_rqi):
        self.msg = msg
        self.code = "%d.%02d" % (int(msg.code) >> 5, int(msg.code) & 31)
        self.mtype = msg.mtype
        self.rsc = _opt_value(msg, OPT["RSC"])
        self.rqi = _opt_value(msg, OPT["RQI"])
        self.rvi = _opt_value(msg, OPT["RVI"])
        self.location = "/".join(msg.opt.location_path)
        self.cf = msg.opt.content_format
        self.payload = msg.payload
        self.sent_rqi = sent_rqi
        try:
            self.json = json.loads(msg.payload) if msg.payload else None
        except ValueError:
            self.json = None

    def resource(self, ty=None):
        """The one resource of the body ({"m2m:xxx": {...}}), by wrapper of ty or the
        only key."""
        assert isinstance(self.json, dict), "no JSON object in %s" % self
        if ty is not None:
            return self.json[WRAPPER[ty]]
        (v,) = self.json.values()
        return v

    @property
    def dbg(self):
        return self.json.get("m2m:dbg") if isinstance(self.json, dict) else None

    def __str__(self):
        return "CoAP %s rsc=%s rqi=%s rvi=%s loc=%s cf=%s payload=%r" % (
            self.code, self.rsc, self.rqi, self.rvi, self.location, self.cf,
            self.payload[:400])


def _query_list(query):
    if query is None:
        return []
    if isinstance(query, str):
        return [query]
    if isinstance(query, (list, tuple)) and all(isinstance(q, str) for q in query):
        return list(query)
    out = []
    for k, v in (query.items() if isinstance(query, dict) else query):
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            out.append("%s=%s" % (k, one))
    return out


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return json.dumps(body).encode()


class OneM2MClient:
    """oneM2M requests to one CSE over plain CoAP (host, port), with a default
    originator. Close with close() (or use as a context manager)."""

    def __init__(self, host, port, originator=None, rvi="3"):
        self.host, self.port, self.originator, self.rvi = host, port, originator, rvi
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(aiocoap.Context.create_client_context())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.ctx is not None:
            self.loop.run_until_complete(self.ctx.shutdown())
            self.ctx = None
        self.loop.close()

    def run(self, coro, timeout=DEFAULT_TIMEOUT):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def message(self, method, path, fr=..., ty=None, body=None, cf=CF_JSON, query=None,
                rqi=None, rvi=..., accept=None, mtype=CON, options=()):
        """The aiocoap Message of one oneM2M request. fr=None sends no From (fr=...
        means the default originator); rqi=None makes a fresh one; rvi=None sends no
        RVI; options: extra (number, value) pairs."""
        fr = self.originator if fr is ... else fr
        rvi = self.rvi if rvi is ... else rvi
        payload = _body_bytes(body)
        tuning = aiocoap.Unreliable if mtype == NON else aiocoap.Reliable
        msg = aiocoap.Message(code=method, payload=payload, transport_tuning=tuning)
        msg.opt.uri_host = self.host
        msg.opt.uri_port = self.port
        msg.opt.uri_path = [s for s in path.split("/") if s != ""] if path else []
        msg.opt.uri_query = _query_list(query)
        msg.remote = aiocoap.message.UndecidedRemote("coap", "%s:%d" % (self.host, self.port))
        if payload and cf is not None:
            msg.opt.content_format = cf
        if accept is not None:
            msg.opt.accept = accept
        opts = []
        if fr is not None:
            opts.append((OPT["FR"], fr))
        opts.append((OPT["RQI"], rqi if rqi is not None else "rq-%d" % next(_rqi_counter)))
        if rvi is not None:
            opts.append((OPT["RVI"], rvi))
        if ty is not None:
            opts.append((OPT["TY"], ty))
        for num, value in list(opts) + list(options):
            msg.opt.add_option(OptionNumber(num).create_option(value=value))
        return msg

    def send(self, msg, timeout=DEFAULT_TIMEOUT):
        sent_rqi = _opt_value(msg, OPT["RQI"])
        rsp = self.run(self.ctx.request(msg).response, timeout)
        return Response(rsp, sent_rqi)

    def request(self, method, path, timeout=DEFAULT_TIMEOUT, **kw):
        return self.send(self.message(method, path, **kw), timeout)

    # ---- the oneM2M operations (TS-0008 6.2.1: CREATE POST+TY, NOTIFY POST) ----------

    def create(self, path, ty, attrs, **kw):
        """attrs: the inner attributes (wrapped as {"m2m:xxx": attrs}), or bytes."""
        body = attrs if isinstance(attrs, (bytes, bytearray)) else {WRAPPER[ty]: attrs}
        return self.request(POST, path, ty=ty, body=body, **kw)

    def retrieve(self, path, **kw):
        return self.request(GET, path, **kw)

    def update(self, path, ty, attrs, **kw):
        body = attrs if isinstance(attrs, (bytes, bytearray)) else {WRAPPER[ty]: attrs}
        return self.request(PUT, path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request(DELETE, path, **kw)

    def notify(self, path, body, **kw):
        return self.request(POST, path, body=body, **kw)


class _NotifySite(aiocoap.resource.Resource):
    """Records every request; answers 2.04 with RSC 2000, or refuses with `refuse`
    (an RSC) when set."""

    def __init__(self, target):
        super().__init__()
        self.target = target

    async def render(self, request):
        self.target.received.append(Response(request, None))
        rsc = self.target.refuse or 2000
        code = codes.CHANGED if rsc < 3000 else codes.FORBIDDEN
        rsp = aiocoap.Message(code=code)
        rsp.opt.add_option(OptionNumber(OPT["RSC"]).create_option(value=rsc))
        rqi = _opt_value(request, OPT["RQI"])
        if rqi is not None:
            rsp.opt.add_option(OptionNumber(OPT["RQI"]).create_option(value=rqi))
        rsp.opt.add_option(OptionNumber(OPT["RVI"]).create_option(value="3"))
        return rsp

    async def needs_blockwise_assembly(self, request):
        return True


class NotificationTarget:
    """An aiocoap CoAP server on 127.0.0.1:port, on the client's loop: the receiver of
    the CSE's notifications (and verification requests). `received` lists Responses
    (each a request really: .json, .msg.opt, .msg.code); `refuse` set to an RSC makes
    it refuse every request."""

    def __init__(self, client, port):
        self.client, self.port = client, port
        self.received = []
        self.refuse = None
        site = _NotifySite(self)  # the root: it gets every path
        self.ctx = client.loop.run_until_complete(
            aiocoap.Context.create_server_context(site, bind=("127.0.0.1", port)))

    @property
    def uri(self):
        return "coap://127.0.0.1:%d/notify" % self.port

    def wait(self, n, timeout=3.0):
        """Runs the loop until n requests have arrived (or timeout); returns them."""
        async def _wait():
            deadline = self.client.loop.time() + timeout
            while len(self.received) < n and self.client.loop.time() < deadline:
                await asyncio.sleep(0.05)
        self.client.loop.run_until_complete(_wait())
        return list(self.received)

    def close(self):
        if self.ctx is not None:
            self.client.loop.run_until_complete(self.ctx.shutdown())
            self.ctx = None


# ---- a platform for a module of scenarios ---------------------------------------------

class CseSession:
    """The three daemons (harness.Platform) and aiocoap clients of tep-cse's plain CoAP
    endpoint: `admin` sends as the admin originator; client(orig) makes others; ae(...)
    registers an AE and returns its client. close() stops the daemons (exit 0 asserted).
    The decision deadline is the harness's generous one (harness.FUNCTIONAL_DEADLINE_MS):
    these scenarios are about the binding and the resources. The fail-closed deadline has
    its own scenarios (test_06, test_43)."""

    def __init__(self, **settings):
        import harness
        self.platform = harness.Platform(**settings)
        try:
            self.platform.start()
        except BaseException:
            self.platform.cleanup(keep=True)
            raise
        self.env = self.platform.env
        self.name = self.env["CSE_NAME"]
        self.port = self.platform.ports["cse_coap"]
        self._clients = []
        self.admin = self.client(self.env["ADMIN_ORIGINATOR"])

    def client(self, originator=None):
        c = OneM2MClient("127.0.0.1", self.port, originator)
        self._clients.append(c)
        return c

    def ae(self, originator, rn, **attrs):
        """Registers AE rn with From originator ("C..." or "S..."); returns (client
        sending as the assigned AE-ID, AE path, create Response)."""
        c = self.client(originator)
        body = dict({"rn": rn, "api": "Ntep.test", "rr": False, "srv": ["3"]}, **attrs)
        r = c.create(self.name, TY_AE, body)
        assert r.rsc == 2001, "AE %s not registered: %s\n%s" % (rn, r, self.platform.logs())
        c.originator = r.resource(TY_AE)["aei"]
        return c, r.location or "%s/%s" % (self.name, rn), r

    def close(self, keep=False):
        for c in self._clients:
            c.close()
        try:
            self.platform.assert_clean_stop()
        finally:
            self.platform.cleanup(keep=keep)


def cse_session(**settings):
    """Generator for a module-scoped pytest fixture yielding a CseSession."""
    import os
    s = CseSession(**settings)
    try:
        yield s
    finally:
        s.close(keep=bool(os.environ.get("TEP_KEEP_RUN")))
