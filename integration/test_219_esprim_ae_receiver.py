"""219: an AE as End-Point B of ESPrim (TS-0003 8.4: the Receiver may be an AE; TS-0004
7.3.3.10: a NOTIFY to an AE goes to its pointOfAccess). The device registers Kuc with SUID
23 for the AE's AE-ID at the MEF (8.6.2 with 8.3.5.2.7; End-Point-B-ID = that AE-ID) and
sends ESPrim NOTIFYs to the AE's resource; tep-cse, the AE's registrar, relays a NOTIFY
carrying m2m:seci to the AE's pointOfAccess and answers with the AE's own answer (a plain
notification it still answers itself). The AE here is Python (aiocoap; joserfc and
integration/tepkeys.py for the keys, Kuc derived from the device's Ke): it gives a
receiver rand object (sit 3), opens the object and answers the inner request sealed
(sit 5). tep-cse sees neither the inner request nor the answer. An originator the AE's
access control policy does not let NOTIFY it is refused at tep-cse (4103)."""

import asyncio
import json
import os
import threading

import aiocoap
import aiocoap.resource
from aiocoap import numbers

import tepkeys
from harness import _jwe_registry, esprim_ts, free_udp_ports
from onem2m_client import OPT, TY_ACP, TY_AE, OneM2MClient

AE_ID = "Cpy219"
SECRET = "hello-from-the-ae-219"


class Receiver(aiocoap.resource.Resource):
    """The AE's ESPrim Receiver: its rand objects, and the pairwise key of the source's
    Kuc (SUID 23, End-Point-B = this AE-ID)."""

    def __init__(self, pairwise, source):
        super().__init__()
        self.pairwise, self.source = pairwise, source
        self.rand = {}
        self.seen = []

    def _answer(self, request, body):
        rsp = aiocoap.Message(code=numbers.codes.CHANGED, payload=json.dumps(body).encode())
        rsp.opt.content_format = 50
        rsp.opt.add_option(numbers.OptionNumber(OPT["RSC"]).create_option(value=2000))
        rsp.opt.add_option(numbers.OptionNumber(OPT["RVI"]).create_option(value="3"))
        return rsp

    async def render_post(self, request):
        from joserfc import jwe
        from joserfc.jwk import OctKey
        seci = json.loads(request.payload)["m2m:seci"]
        self.seen.append(seci)
        if seci["sit"] == 3:
            v, rid = os.urandom(16), "u" + os.urandom(8).hex()
            self.rand[rid] = v
            ero = {"esri": rid, "esrv": tepkeys.rand_text(v), "esrx": esprim_ts(600),
                   "esks": [1], "espa": [10, 11, 12]}
            return self._answer(request, {"m2m:seci": {"sit": 4, "ero": ero}})
        head = json.loads(tepkeys_b64(seci["epo"].split(".")[0]))
        orv = bytes.fromhex(head["oro"]["esrv"][1:])
        session = tepkeys.session_esprim_key(self.pairwise, self.rand[head["rri"]], orv)
        obj = jwe.decrypt_compact(seci["epo"], OctKey.import_key(session),
                                  registry=_jwe_registry())
        inner = json.loads(obj.plaintext)
        assert inner["fr"] == self.source, inner
        out = {"rsc": 2000, "rqi": inner["rqi"], "to": inner["fr"], "fr": AE_ID, "rvi": "3",
               "pc": {"m2m:cin": {"con": SECRET}}}
        h = {"kid": head["kid"], "ori": head["ori"], "rri": head["rri"],
             "cty": "application/vnd.onem2m-prsp+json", "alg": "dir", "enc": "A256GCM"}
        epo = jwe.encrypt_compact(h, json.dumps(out).encode(), OctKey.import_key(session),
                                  registry=_jwe_registry())
        return self._answer(request, {"m2m:seci": {"sit": 5, "epo": epo}})


def tepkeys_b64(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class AeServer:
    """The AE's CoAP endpoint in a thread of its own (tep-device runs meanwhile)."""

    def __init__(self, site, port):
        self.loop = asyncio.new_event_loop()
        root = aiocoap.resource.Site()
        root.add_resource(["ae"], site)
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.ctx = self.loop.run_until_complete(
                aiocoap.Context.create_server_context(root, bind=("127.0.0.1", port)))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def close(self):
        asyncio.run_coroutine_threadsafe(self.ctx.shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_esprim_with_an_ae_as_receiver(platform):
    p = platform
    dev = p.enrolled_device("dev219")
    src = dev.state_values()["enrolee_id"]
    ke = bytes.fromhex(dev.state_values()["ke"])
    pairwise = tepkeys.e2e_keys(tepkeys.kuc(ke, 23, AE_ID), AE_ID)["msg_conf"]
    port = free_udp_ports(1)[0]
    site = Receiver(pairwise, src)
    server = AeServer(site, port)
    try:
        base = p.env["CSE_NAME"]
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], AE_ID) as ae:
            r = ae.create(base, TY_AE, {"rn": AE_ID, "api": "Npy219", "rr": True, "srv": ["3"],
                                        "poa": ["coap://127.0.0.1:%d/ae" % port]})
            assert r.rsc == 2001, str(r)
        ae_path = "%s/%s" % (base, AE_ID)

        # no policy lets dev219 NOTIFY the AE yet: refused at tep-cse, nothing relayed
        r = dev.run("esprim", "retrieve", AE_ID + "/state", "--to-ae", ae_path, "--mef")
        assert r.rc != 0 and r.get("OUTER_RSC") == "4103", "%s\n%s" % (r, p["cse"].tail())
        assert site.seen == []

        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
            acp = admin.create(base, TY_ACP, {
                "rn": "acp219", "pv": {"acr": [{"acor": [src], "acop": 16},
                                               {"acor": [AE_ID], "acop": 63}]},
                "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
            assert acp.rsc == 2001, str(acp)
            assert admin.update(ae_path, TY_AE, {"acpi": [acp.resource(TY_ACP)["ri"]]}).rsc \
                == 2004

        r = dev.run("esprim", "retrieve", AE_ID + "/state", "--to-ae", ae_path, "--mef")
        assert r.rc == 0, "%s\n%s" % (r, p["cse"].tail())
        assert r.get("RSC") == "2000" and SECRET in r.get("BODY"), str(r)
        assert [s["sit"] for s in site.seen] == [3, 5], site.seen
        kid = r.get("KEY_ID")
        assert kid == tepkeys.kuc_id(tepkeys.kuc(ke, 23, AE_ID), p.env["MEF_FQDN"]), kid
        p["cse"].wait_log(r"event=request_forwarded op=notify path=%s originator=%s hop=%s"
                          % (ae_path, src, ae_path), 5)
        assert SECRET not in p["cse"].log()  # relayed, never read
    finally:
        server.close()


def _read_line(proc, key, timeout=10):
    import select
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            line = proc.stdout.readline()
            if line.startswith(key + "="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("no %s= from the receiver" % key)


def test_esprim_with_a_libtepae_ae_as_receiver(platform):
    """The same with the Receiver in libtepae (tep_esprim_receiver + tep_listener_set_esprim:
    `tep-device esprim-serve`): an enrolled AE whose pointOfAccess is its SA2 listener
    fetches the SUID 23 key by MEF Key Retrieval when it meets the kid, opens the inner
    request and answers it sealed; tep-cse relays over SA2 and reads nothing."""
    import subprocess
    from harness import binary, kpsa_identity  # noqa: F401 (binary: the built tool)

    p = platform
    app = p.enrolled_device("app219")
    dev = p.enrolled_device("dev219b")
    app_id = app.state_values()["enrolee_id"]
    src = dev.state_values()["enrolee_id"]
    base = p.env["CSE_NAME"]
    app_path = "%s/%s" % (base, app_id)
    uri = "coaps://127.0.0.1:%d/poa" % free_udp_ports(1)[0]
    r = app.run("update-poa", uri)
    assert r.rc == 0 and r.rsc == 2004, str(r)
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(base, TY_ACP, {
            "rn": "acp219b", "pv": {"acr": [{"acor": [src], "acop": 16},
                                            {"acor": [app_id], "acop": 63}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.update(app_path, TY_AE, {"acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2004
    argv = [binary("tep-device"), "--provisioning", app.prov, "--state", app.state,
            "esprim-serve", uri, "--count", "2", "--wait-ms", "20000"]
    rx = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _read_line(rx, "LISTENING") == uri
        r = dev.run("esprim", "retrieve", app_id + "/state", "--to-ae", app_path, "--mef",
                    "--count", "2")
        assert r.rc == 0, "%s\n%s" % (r, p["cse"].tail())
        assert [line for line in r.out.splitlines() if line.startswith("RSC=")] == \
            ["RSC=2000", "RSC=2000"], r.out
        assert "served-by-" + app_id in r.get("BODY"), str(r)
        out, err = rx.communicate(timeout=20)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert rx.returncode == 0 and "SERVED=2" in out, (out, err)
    inner = [json.loads(line.split("=", 1)[1]) for line in out.splitlines()
             if line.startswith("INNER=")]
    assert [i["fr"] for i in inner] == [src, src] and inner[0]["to"] == app_id + "/state", inner
    p["enroller"].wait_log(r"event=mef_key_retrieved kpm_id=app219 .*code=205", 5)
    assert "served-by-" not in p["cse"].log()  # relayed, never read


def test_escertke_then_esprim_with_a_libtepae_ae(platform):
    """ESCertKE with the AE as the Terminating End-Point (TS-0003 8.7): its registrar relays
    the sit 6 NOTIFYs as it does sit 3 and 5; libtepae completes the handshake with the
    AE's tep certificate, checks that the initiator's names the From, and the key
    (End-Point-B = the AE-ID, kid = hex(pairwiseE2EKeyID)) serves the ESPrim object that
    follows. No MEF key involved."""
    import subprocess
    from harness import binary, cert_of

    p = platform
    app, _, _, _ = cert_of(p, "app219c")
    dev, _, _, _ = cert_of(p, "dev219c")
    for d in (app, dev):
        assert d.run("register").rc == 0
    app_id = app.state_values()["enrolee_id"]
    src = dev.state_values()["enrolee_id"]
    base = p.env["CSE_NAME"]
    app_path = "%s/%s" % (base, app_id)
    uri = "coaps://127.0.0.1:%d/poa" % free_udp_ports(1)[0]
    assert app.run("update-poa", uri).rc == 0
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(base, TY_ACP, {
            "rn": "acp219c", "pv": {"acr": [{"acor": [src], "acop": 16},
                                            {"acor": [app_id], "acop": 63}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.update(app_path, TY_AE, {"acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2004
    argv = [binary("tep-device"), "--provisioning", app.prov, "--state", app.state,
            "esprim-serve", uri, "--count", "1", "--wait-ms", "20000", "--cert"]
    rx = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _read_line(rx, "LISTENING") == uri
        r = dev.run("esprim", "retrieve", app_id + "/state", "--to-ae", app_path, "--escertke")
        assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s" % (r, p["cse"].tail())
        assert "served-by-" + app_id in r.get("BODY"), str(r)
        assert len(r.get("ESCERTKE_KID")) == 32, str(r)
        out, err = rx.communicate(timeout=20)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    assert rx.returncode == 0 and "SERVED=1" in out, (out, err)
    assert "served-by-" not in p["cse"].log()
    assert p["cse"].log().count("event=request_forwarded op=notify path=%s" % app_path) == 4
