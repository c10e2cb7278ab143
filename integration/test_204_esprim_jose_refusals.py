"""204: ESPrim at tep-cse with an Originator nobody here wrote: PyPI joserfc makes the JWE
"dir" objects, integration/tepkeys.py derives pairwiseESPrimKey (Ke2e_msg_conf of Kpsa,
End-Point-B = /tep-cse) and sessionESPrimKey (10.3.8) on the Python side, aiocoap sends
the outer NOTIFY over plain CoAP. A good object is answered with a protected inner
response that joserfc opens; then every refusal of TS-0004 Table 7.6.2-1 that an
Originator can provoke, and a replay: altered ciphertext or header and a wrong key 4115,
an unknown kid 4112, unknown or expired originator rand object 4113, a replay 4113, an
unknown receiver rand object 4114, alg/enc/espa tep does not do 4111, an inner From that
is not the key's owner 4116, an inner plaintext that is no primitive 5210, no JWE at all
4000. TS-0003 8.4.2 C.6, 8.4.3.2."""

import base64
import json
import os

import pytest

import tepkeys
from harness import EsprimOriginator, created_path, kpsa_identity
from onem2m_client import OneM2MClient

class Originator(EsprimOriginator):
    """An ESPrim Originator in Python for an enrolled device (its Ke from the state file)."""

    def __init__(self, platform, dev):
        self.dev = dev
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        super().__init__(platform, st["enrolee_id"], kpsa_identity(platform, dev),
                         tepkeys.e2e_keys(kpsa, st["registrar_cse_id"])["msg_conf"])


@pytest.fixture
def orig(platform):
    dev = platform.enrolled_device("py204")
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    o = Originator(platform, dev)
    o.cnt = created_path(r, "%s/%s" % (o.cse, o.ae))
    yield o
    o.client.close()


def test_joserfc_originator_and_replay(orig):
    epo = orig.seal(orig.inner(op=1, to=orig.cnt, ty=4, pc={"m2m:cin": {"con": "from-py"}}))
    rsp = orig.open(orig.send(epo))
    assert rsp["rsc"] == 2001 and rsp["pc"]["m2m:cin"]["con"] == "from-py", rsp
    assert rsp["rqi"].startswith("py-")
    # the same object again: a replay
    r = orig.send(epo)
    assert r.rsc == 4113 and "replay" in json.dumps(r.json), str(r)
    # later objects of the session name the originator rand object by its ID only
    rsp = orig.open(orig.send(orig.seal(orig.inner(to=orig.cnt + "/la"), oro=False)))
    assert rsp["rsc"] == 2000 and rsp["pc"]["m2m:cin"]["con"] == "from-py", rsp
    # A128GCM with the first 16 bytes of the session key, when both offered it
    orig.new_session(espa=(10, 12))
    rsp = orig.open(orig.send(orig.seal(orig.inner(to=orig.cnt), enc="A128GCM")), "A128GCM")
    assert rsp["rsc"] == 2000, rsp


def _rsc(r):
    return r.rsc, r.json.get("m2m:dbg", "") if isinstance(r.json, dict) else ""


def test_refusals(orig, platform):
    good = orig.inner(to=orig.cnt)

    epo = orig.seal(good)
    parts = epo.split(".")
    ct = parts[3]
    parts[3] = ct[:3] + ("A" if ct[3] != "A" else "B") + ct[4:]
    assert orig.send(".".join(parts)).rsc == 4115                  # altered ciphertext
    assert orig.send(orig.seal(good, key=os.urandom(32))).rsc == 4115  # wrong key
    other = platform.enrolled_device("py204b")
    assert orig.send(orig.seal(good, kid=kpsa_identity(platform, other))).rsc == 4115

    assert orig.send(orig.seal(good, kid="00" * 16 + "@mef.tep.local")).rsc == 4112
    assert orig.send(orig.seal(good, rri="s0000000000000000")).rsc == 4114
    orig.new_session()
    assert orig.send(orig.seal(good, oro=False)).rsc == 4113          # never sent its oro
    orig.new_session(esrx=-10)
    assert orig.send(orig.seal(good)).rsc == 4113                     # oro expired
    orig.new_session(esrx=7 * 86400)
    assert orig.send(orig.seal(good)).rsc == 4113                     # outlives the receiver's

    orig.new_session(espa=(12,))
    assert orig.send(orig.seal(good, enc="A128GCM")).rsc == 4111      # enc not in its espa
    orig.new_session(esk=2)
    assert orig.send(orig.seal(good)).rsc == 4111                     # unknown key generation
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    kw = b64(json.dumps({"alg": "A128KW", "enc": "A128GCM", "kid": orig.kid}).encode())
    assert orig.send(kw + ".AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA").rsc == 4111
    assert orig.send("not-a-jwe").rsc == 4000

    orig.new_session()
    r = orig.send(orig.seal(orig.inner(to=orig.cnt, fr=other.state_values()["enrolee_id"])))
    assert r.rsc == 4116, str(r)                                      # impersonation
    orig.new_session()
    assert orig.send(orig.seal(b"\x00not json")).rsc == 5210
    # after all this the session still works
    orig.new_session()
    assert orig.open(orig.send(orig.seal(good)))["rsc"] == 2000
    platform["cse"].wait_log(r"event=esprim_refused rsc=4116", 5)
