"""A DTLS-PSK CoAP client nobody here wrote (tinydtls through PyPI's DTLSSocket and
aiocoap's `tinydtls` transport, with tep's patch: PSK 32 bytes, identity 64, SNI), for
scenarios that send tep's CoAPS endpoints what tep's own SDK never would: malformed or
oversized bodies, other methods and paths, a MAF client update (integration 20, 21).

The keys come from the provisioning file (Kpm) or from tepkeys.py (Km, KmID), never from
tep's C code. `available()` says why the client cannot run (None when it can)."""

import asyncio
import os

try:
    import aiocoap
    from aiocoap.message import UndecidedRemote
    from DTLSSocket import dtls
except ImportError:  # pragma: no cover - reported by available()
    aiocoap = dtls = None

import onem2m_client as oc

TIMEOUT = 10.0


def available():
    """None when the patched tinydtls is installed, else the reason it cannot run."""
    if dtls is None:
        return "DTLSSocket (tinydtls) is not installed: ./tep deps"
    try:
        dtls.DTLS(serverName=b"tep")
    except TypeError:
        return "DTLSSocket is the stock 0.2.3 (no SNI, PSK <= 16 bytes): ./tep deps installs " \
            "it with tep's patch"
    return None


def provisioning(dev):
    """The [device] keys of a provisioning file as a dict (kpm_id, kpm, ...)."""
    with open(dev.prov) as f:
        return {k.strip(): v.strip() for k, v in (l.split("=", 1) for l in f if "=" in l)}


class Answer:
    """code ("4.00"), payload (bytes), text, json (or None), cf, size1 (RFC 7959)."""

    def __init__(self, msg):
        self.code = "%d.%02d" % (int(msg.code) >> 5, int(msg.code) & 31)
        self.payload = msg.payload
        self.text = msg.payload.decode(errors="replace")
        self.cf = msg.opt.content_format
        self.size1 = msg.opt.size1
        self.block2 = msg.opt.block2  # (num, more, szx) or None
        self.etag = msg.opt.etag
        rsc = msg.opt.get_option(oc.OptionNumber(oc.OPT["RSC"]))
        self.rsc = rsc[0].value if rsc else None
        try:
            import json
            self.json = json.loads(msg.payload) if msg.payload else None
        except ValueError:
            self.json = None

    def __str__(self):
        return "CoAP %s cf=%s size1=%s payload=%r" % (self.code, self.cf, self.size1,
                                                      self.payload[:300])


class PskClient:
    """One DTLS-PSK association (identity, psk) to 127.0.0.1:port; requests reuse it.
    sni: the server_name to send (the MEF requires its FQDN), None for none. Close with
    close() or use as a context manager."""

    def __init__(self, port, identity, psk, sni=None):
        self.port = port
        self._sni = sni
        self._remote = None  # block1(): the connection its blocks keep using
        self._old_sni = os.environ.get("DTLSSOCKET_SERVER_NAME")
        self._set_sni(sni)
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(
            aiocoap.Context.create_client_context(transports=["tinydtls"]))
        self.ctx.client_credentials.load_from_dict({"coaps://127.0.0.1:%d/*" % port: {
            "dtls": {"psk": bytes(psk), "client-identity": identity.encode()}}})

    @staticmethod
    def _set_sni(sni):
        # DTLSSocket reads it when the connection is made (patches/README.md)
        if sni is None:
            os.environ.pop("DTLSSOCKET_SERVER_NAME", None)
        else:
            os.environ["DTLSSOCKET_SERVER_NAME"] = sni

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.ctx is not None:
            self.loop.run_until_complete(self.ctx.shutdown())
            self.ctx = None
            self.loop.close()
        if self._old_sni is None:
            os.environ.pop("DTLSSOCKET_SERVER_NAME", None)
        else:
            os.environ["DTLSSOCKET_SERVER_NAME"] = self._old_sni

    def request(self, method, path, payload=b"", cf=oc.CF_JSON, timeout=TIMEOUT):
        """A plain CoAP request (no oneM2M options: the MEF and the MAF take none)."""
        self._set_sni(self._sni)
        msg = aiocoap.Message(code=method, uri_path=[s for s in path.split("/") if s],
                              payload=payload)
        if payload and cf is not None:
            msg.opt.content_format = cf
        msg.remote = UndecidedRemote("coaps", "127.0.0.1:%d" % self.port)
        rsp = self.loop.run_until_complete(
            asyncio.wait_for(self.ctx.request(msg).response, timeout))
        return Answer(rsp)

    def onem2m(self, method, path, frm, block2=None, body=None, ty=None, timeout=TIMEOUT):
        """A oneM2M request (From frm, a fresh RQI, RVI 3, TY) on this one association;
        block2 (num, szx): ask for that Block2 block, sent as given (aiocoap neither
        continues nor reassembles it)."""
        from aiocoap.optiontypes import BlockOption
        self._set_sni(self._sni)
        payload = oc._body_bytes(body)
        msg = aiocoap.Message(code=method, uri_path=[s for s in path.split("/") if s],
                              payload=payload)
        if payload:
            msg.opt.content_format = oc.CF_JSON
        opts = [(oc.OPT["FR"], frm), (oc.OPT["RQI"], "psk-%d" % next(oc._rqi_counter)),
                (oc.OPT["RVI"], "3")] + ([(oc.OPT["TY"], ty)] if ty is not None else [])
        for num, value in opts:
            msg.opt.add_option(oc.OptionNumber(num).create_option(value=value))
        if block2 is not None:
            msg.opt.block2 = BlockOption.BlockwiseTuple(block2[0], False, block2[1])
        msg.remote = self._remote or UndecidedRemote("coaps", "127.0.0.1:%d" % self.port)
        rsp = self.loop.run_until_complete(
            asyncio.wait_for(self.ctx.request(msg, handle_blockwise=False).response, timeout))
        self._remote = rsp.remote
        return Answer(rsp)

    def block1(self, path, num, more, payload, size1=None, szx=6, cf=oc.CF_JSON,
               timeout=TIMEOUT):
        """One block of a Block1 (RFC 7959) request, sent as given (aiocoap does not
        split or continue it): block num of 2**(szx+4) bytes, More = more, Size1."""
        from aiocoap.optiontypes import BlockOption
        self._set_sni(self._sni)
        msg = aiocoap.Message(code=aiocoap.POST, uri_path=[s for s in path.split("/") if s],
                              payload=payload)
        msg.opt.content_format = cf
        msg.opt.block1 = BlockOption.BlockwiseTuple(num, more, szx)
        if size1 is not None:
            msg.opt.size1 = size1
        # the same DTLS connection for every block: aiocoap's tinydtls transport pools its
        # connections weakly, and a new one (a new server session) loses the transfer
        msg.remote = self._remote or UndecidedRemote("coaps", "127.0.0.1:%d" % self.port)
        rsp = self.loop.run_until_complete(
            asyncio.wait_for(self.ctx.request(msg, handle_blockwise=False).response, timeout))
        self._remote = rsp.remote
        return Answer(rsp)
