"""171: the credential hand-off is authenticated (TS-0003 8.3.2.1 "Use of Remotely
Provisioned Credential": the MEF gives a credential to the Enrolment Target it was
derived for; 8.8.2.8 MAF Key Retrieval: the Key Value only to an authenticated target
in targetIDs). Each bus client proves a CURVE key; `[bus] peers` of tep-enroller and
tep-authz binds each key to ONE identity; a request naming another target gets nothing
(docs/internals.md "Authenticated credential hand-off").

Real daemons: the enroller, tep-authz with its MAF, the IN-CSE /tep-cse and a second
tep-cse as /mn-cse1, all on tcp:// + CURVE. A device of each CSE is served by its own
CSE; probes with `tepctl bus sync|key` (what a target sends) show who gets what:
- a forged subscriber whose key is trusted on the bus but bound to no identity gets
  nothing, whichever target it names;
- the MN-CSE's key gets its own device's Kpsa and nothing when it names the IN-CSE;
- the IN-CSE's key gets its device's Kpsa, not the MN-CSE's device's;
- a Kc registered for /tep-cse goes to the IN-CSE's key, not to the MN-CSE's."""

import os

import pytest

import harness

MN = "/mn-cse1"
IN_HOST = harness.CURVE_HOSTS["cse"]
PEERS = "/tep-cse=%s, maf.tep.local=%s, %s=mn-cse1" % (IN_HOST, harness.CURVE_HOSTS["authz"], MN)


@pytest.fixture
def gw(monkeypatch, request):
    with harness.curve_platform_with_target(
            monkeypatch, MN, "mn-cse1", keep=lambda: getattr(request.node, "tep_failed", False),
            maf=True, peers={"enroller": PEERS, "authz": PEERS}) as made:
        yield made


def device(cp, name, *extra):
    dev = cp.p.device(name)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "add", name, "--mef-uri",
                  cp.p.env["ENROLLER_COAPS"], *extra, "--out", dev.prov)
    assert r.rc == 0, str(r)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, cp.p.logs())
    return dev


def probe(cp, ini, *args):
    return harness.run_tool([harness.binary("tepctl"), "--config", ini, "--timeout", "3000",
                             "bus", *args])


def held(r):
    """Enrolee-IDs of the credentials a `bus sync` printed."""
    return {l.split()[1] for l in r.out.splitlines() if l and l[0].isdigit()}


def test_each_target_gets_only_its_own_keys(gw):
    cp, mn = gw
    p = cp.p
    indev = device(cp, "indev01")
    gwdev = device(cp, "gwdev01", "--target", MN)
    assert indev.run("register").rc == 0, p.logs()          # the real targets got their Kpsa
    assert gwdev.run("register").rc == 0, mn.tail()

    as_in = cp.tepctl_ini("as-in", key=os.path.join(p.env["DATA_DIR"], "cse", "bus-curve.key"),
                          curve_name=IN_HOST)
    as_mn = cp.tepctl_ini("as-mn", key=os.path.join(mn.data, "bus-curve.key"),
                          curve_name="mn-cse1")
    forger = cp.tepctl_ini("forger")      # its own key, published: trusted on the bus
    r = probe(cp, forger, "sync", cp.sync, "/tep-cse")
    assert r.rc == 3 and "not the authenticated target" in r.err, str(r)
    assert os.path.exists(os.path.join(cp.keys, "forger.pub"))   # admitted, yet gets nothing
    for target in (MN, p.env["MAF_ID"]):
        r = probe(cp, forger, "sync", cp.sync, target)
        assert r.rc == 3 and r.out == "", str(r)
    p["enroller"].wait_log(r'event=sync_refused target="/tep-cse" bound=none', 5)

    r = probe(cp, as_mn, "sync", cp.sync, "/tep-cse")      # the MN-CSE naming the IN-CSE
    assert r.rc == 3 and r.out == "", str(r)
    p["enroller"].wait_log(r'event=sync_refused target="/tep-cse" bound=/mn-cse1', 5)
    r = probe(cp, as_mn, "sync", cp.sync, MN)
    assert r.rc == 0 and held(r) == {"Cgwdev01"} and r.get("CREDENTIALS") == "1", str(r)
    r = probe(cp, as_in, "sync", cp.sync, "/tep-cse")
    assert r.rc == 0 and held(r) == {"Cindev01"}, str(r)
    r = probe(cp, as_in, "sync", cp.sync, MN)               # the IN-CSE naming the MN-CSE
    assert r.rc == 3, str(r)

    # Kc (MAF-based SAEF, 8.2.2.3): registered by indev01 for /tep-cse; the IN-CSE
    # retrieved it (maf-run is served over it), the MN-CSE's key may not
    r = indev.run("maf-run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    kc_id = r.get("KC_ID")
    r = probe(cp, as_mn, "key", cp.keys_ep, kc_id, "/tep-cse")
    assert r.rc == 3 and r.out == "", str(r)
    p["authz"].wait_log(r"event=maf_key_retrieval_refused key_id=%s target=/tep-cse "
                        r"bound=/mn-cse1" % kc_id, 5)
    r = probe(cp, forger, "key", cp.keys_ep, kc_id, "/tep-cse")
    assert r.rc == 3 and r.out == "", str(r)
    r = probe(cp, as_mn, "key", cp.keys_ep, kc_id, MN)     # its own name: not a target
    assert r.rc == 3, str(r)
    r = probe(cp, as_in, "key", cp.keys_ep, kc_id, "/tep-cse")
    assert r.rc == 0 and r.get("ENROLEE_ID") == "Cindev01" and r.get("KEY_ID") == kc_id, str(r)
    # and the devices are still served by their own CSEs
    assert indev.run("retrieve", harness.ae_path(p, indev)).rc == 0
    assert gwdev.run("create-cnt", "data").rc == 0, mn.tail()
