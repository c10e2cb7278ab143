"""213: ESPrim state across a tep-cse restart and under a flood of rand-object requests
(TS-0003 8.4.2 B.2d/C.6b: the receiver gives a unique receiverESPrimRandObject to anyone
who asks, unauthenticated; C.6b.2 caches the originator rand object; tep-cse's replay
memory, docs/internals.md "ESPrim"). tep-cse keeps the receiver rand secret and the
shared object's ID in its LMDB store and, at a clean stop, the originator rand objects and
the replay memory: restarted with SIGTERM it still answers an ongoing session (its
originator rand object by ID only), still shows the same shared rand object, and refuses
objects answered before as replays (4113) instead of running their inner requests again.
Killed with SIGKILL it starts with a new secret and epoch: every receiver rand object
given before is unknown (4114), so no object answered before the crash (whose replay
memory was lost) runs again. Attack test: a flood of sit 3 requests (each from another
From, as an attacker over plain CoAP would send them) fills nothing, since a receiver rand
object is derived from its ID and kept nowhere: the flood is all answered and an honest
originator is served right after it (before, 255 live objects filled the table and every
further request was 5103 for ten minutes)."""

import asyncio
import json
import os

import pytest

import tepkeys
from harness import EsprimOriginator, created_path, kpsa_identity
from onem2m_client import POST, OneM2MClient

FLOOD = 600


class Originator(EsprimOriginator):
    def __init__(self, platform, dev):
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        super().__init__(platform, st["enrolee_id"], kpsa_identity(platform, dev),
                         tepkeys.e2e_keys(kpsa, st["registrar_cse_id"])["msg_conf"])


def _shared(platform):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.retrieve(platform.env["CSE_NAME"])
        assert r.rsc == 2000, str(r)
        return r.json["m2m:cb"]["esi"]["esro"]


def _count(platform, path):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.retrieve(path, query="rcn=1")
        assert r.rsc == 2000, str(r)
        return r.json["m2m:cnt"]["cni"]


@pytest.fixture
def orig(platform):
    dev = platform.enrolled_device("st213")
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    o = Originator(platform, dev)
    o.cnt = created_path(r, "%s/%s" % (o.cse, o.ae))
    yield o
    o.client.close()


def test_state_survives_a_clean_restart_not_a_crash(orig, platform):
    p = platform
    shared = _shared(p)
    create = orig.seal(orig.inner(op=1, to=orig.cnt, ty=4, pc={"m2m:cin": {"con": "once"}}))
    assert orig.open(orig.send(create))["rsc"] == 2001
    later = orig.seal(orig.inner(op=1, to=orig.cnt, ty=4, pc={"m2m:cin": {"con": "twice"}}),
                      oro=False)
    assert orig.open(orig.send(later))["rsc"] == 2001
    assert _count(p, orig.cnt) == 2

    p["cse"].stop()  # SIGTERM: the state is saved
    p["cse"].start()
    p["cse"].wait_log(r"event=esprim_state_loaded clean=1 epoch=\d+ originator_rand=1 "
                      r"replay_memory=2 shared=%s" % shared["esri"], 5)
    assert _shared(p) == shared  # the same shared object, value and expiry
    # both objects answered before the restart are replays: nothing runs again
    for epo in (create, later):
        r = orig.send(epo)
        assert r.rsc == 4113 and "replay" in json.dumps(r.json), str(r)
    assert _count(p, orig.cnt) == 2
    # the session goes on: its rand object by ID only, the receiver's still valid
    rsp = orig.open(orig.send(orig.seal(orig.inner(to=orig.cnt + "/la"), oro=False)))
    assert rsp["rsc"] == 2000 and rsp["pc"]["m2m:cin"]["con"] == "twice", rsp

    # a crash (SIGKILL): nothing was saved, so a new secret and epoch: every receiver
    # rand object given before is unknown (4114), nothing answered before runs again
    p["cse"].kill()
    p["cse"].start()
    p["cse"].wait_log(r"event=esprim_state_loaded clean=0 ", 5)
    assert _shared(p)["esri"] != shared["esri"]
    for epo in (create, later, orig.seal(orig.inner(to=orig.cnt + "/la"), oro=False)):
        r = orig.send(epo)
        assert r.rsc == 4114, str(r)
    assert _count(p, orig.cnt) == 2
    # a new session (a new receiver rand object) is served at once
    r = orig.client.notify(orig.cse, {"m2m:seci": {"sit": 3}})
    orig.rro = r.json["m2m:seci"]["ero"]
    orig.new_session()
    assert orig.open(orig.send(orig.seal(orig.inner(to=orig.cnt))))["rsc"] == 2000


async def _flood(client, cse, n):
    async def one(i):
        msg = client.message(POST, cse, fr="Cflood%d-%s" % (i, os.urandom(3).hex()),
                             body={"m2m:seci": {"sit": 3}})
        rsp = await client.ctx.request(msg).response
        return rsp
    out = []
    for start in range(0, n, 50):
        out += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 50))))
    return out


def test_rand_request_flood_fills_nothing(orig, platform):
    p = platform
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"]) as c:
        rsps = c.run(_flood(c, p.env["CSE_NAME"], FLOOD), timeout=120)
    ids = set()
    for r in rsps:
        body = json.loads(r.payload)
        assert "m2m:seci" in body, body
        ids.add(body["m2m:seci"]["ero"]["esri"])
    assert len(ids) == FLOOD  # each its own object
    # an honest originator right after: a rand object of its own, and its object answered
    r = orig.client.notify(orig.cse, {"m2m:seci": {"sit": 3}})
    assert r.rsc == 2000, str(r)
    orig.rro = r.json["m2m:seci"]["ero"]
    orig.new_session()
    rsp = orig.open(orig.send(orig.seal(orig.inner(op=2, to=orig.cnt))))
    assert rsp["rsc"] == 2000, rsp
    # a made-up receiver rand ID in the form tep gives (epoch, expiry, another nonce): its
    # value is unknown to the sender, the tag fails (4115); one beyond any lifetime tep-cse
    # gives is unknown (4114)
    orig.rro = dict(orig.rro, esri=orig.rro["esri"][:11] + os.urandom(8).hex())
    orig.new_session()
    assert orig.send(orig.seal(orig.inner(op=2, to=orig.cnt))).rsc == 4115
    orig.rro = dict(orig.rro, esri=orig.rro["esri"][:3] + "ffffffff" + os.urandom(8).hex())
    orig.new_session()
    assert orig.send(orig.seal(orig.inner(op=2, to=orig.cnt))).rsc == 4114
