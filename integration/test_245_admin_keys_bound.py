"""245: administration is bound to keys (docs/internals.md "Bus security"). On a tcp://
CURVE bus every key of the trust directory reaches every daemon's admin socket (the ZAP
handler admits the trust list); a gateway's key or another daemon's used to be answered
there as the operator's (docker/README.md: mn-cse1's key revoked another gateway's
device). Now each admin socket answers only `[bus] admin_keys` and the daemon's own key.

Real daemons on tcp:// + CURVE: tep-enroller, tep-authz with its MAF, the IN-CSE
/tep-cse, a second tep-cse /mn-cse1 (the gateway) and tep-bsf, each with `[bus]
admin_keys = operator` (the operator's tepctl key). With the gateway's key, and with the
keys of the IN-CSE, tep-authz, tep-enroller and tep-bsf, every admin socket but the key's
own daemon's refuses every request (`tepctl` exit 3, "not a key allowed to administer"),
logs `event=admin_refused peer_key=<the first 8 Z85 characters> op=...`, and does
nothing: the gateway's device and the IN-CSE's stay enrolled and served, the Kc stays
registered, no GBA subscriber is added. The operator's key is answered on all four, a
daemon's own key at that daemon. Keys are logged by their first 8 characters only."""

import os
import re

import pytest

import harness
import tepenv

MN = "/mn-cse1"
IN_HOST = harness.CURVE_HOSTS["cse"]
BSF_HOST = "127.0.0.5"
PEERS = "/tep-cse=%s, maf.tep.local=%s, %s=mn-cse1" % (IN_HOST, harness.CURVE_HOSTS["authz"], MN)
IMPI = "001010000000245@ims.mnc001.mcc001.3gppnetwork.org"
REFUSED = "not a key allowed to administer"


@pytest.fixture
def plat(monkeypatch, request):
    cp = harness.CurvePlatform(maf=True, bsf=True, peers={"enroller": PEERS, "authz": PEERS})
    mn = cp.second_cse(MN, "mn-cse1")
    monkeypatch.setenv("TEP_ENROLLER_TARGETS", "%s=%s" % (MN, mn.poa))
    # tep-bsf: its admin socket on tcp:// + CURVE as well (Zn stays on ipc://)
    cp.admin["bsf"] = "tcp://%s:%d" % (BSF_HOST, harness.free_tcp_port())
    path = tepenv.config_path(cp.p.dir, "bsf")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^admin = .*$", "admin = " + cp.admin["bsf"], text)
    text += "curve = true\ncurve_dir = %s\ncurve_key = %s\ncurve_name = %s\nadmin_keys = %s\n" % (
        cp.keys, os.path.join(cp.p.env["DATA_DIR"], "bsf", "bus-curve.key"), BSF_HOST,
        harness.CURVE_OPERATOR)
    with open(path, "w") as f:
        f.write(text)
    try:
        cp.start()
        mn.start()
        yield cp, mn
        assert mn.stop() == 0
        cp.p.assert_clean_stop()
    finally:
        mn.kill()
        cp.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def device(cp, name, *extra):
    dev = cp.p.device(name)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "add", name, "--mef-uri",
                  cp.p.env["ENROLLER_COAPS"], *extra, "--out", dev.prov)
    assert r.rc == 0, str(r)
    for step in ("enrol", "register"):
        r = dev.run(step)
        assert r.rc == 0, "%s %s\n%s" % (step, r, cp.p.logs())
    return dev


def public(cp, name):
    with open(os.path.join(cp.keys, name + ".pub")) as f:
        return f.read().strip()


def test_admin_sockets_answer_only_admin_keys(plat):
    cp, mn = plat
    p = cp.p
    daemons = ("enroller", "authz", "cse", "bsf")
    for d in daemons:                                        # the operator administers
        st = cp.tepctl(cp.ops, d, "status", d)
        assert st.rc == 0, "%s\n%s" % (st, p.logs())
    indev = device(cp, "indev01")
    gwdev = device(cp, "gwdev01", "--target", MN)
    r = indev.run("maf-run")                                 # a Kc registered at the MAF
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    kc_id = r.get("KC_ID")

    # every key of the trust directory that is not the operator's: the gateway's and the
    # daemons' own (each tepctl config uses that key pair, published under its name)
    attackers = {
        "gateway": cp.tepctl_ini("as-mn", key=os.path.join(mn.data, "bus-curve.key"),
                                 curve_name="mn-cse1"),
        "in-cse": cp.tepctl_ini("as-in", key=os.path.join(p.env["DATA_DIR"], "cse",
                                                          "bus-curve.key"), curve_name=IN_HOST),
        "authz": cp.tepctl_ini("as-authz", key=os.path.join(p.env["DATA_DIR"], "authz",
                                                            "bus-curve.key"),
                               curve_name=harness.CURVE_HOSTS["authz"]),
        "enroller": cp.tepctl_ini("as-enroller", key=os.path.join(p.env["DATA_DIR"], "enroller",
                                                                  "bus-curve.key"),
                                  curve_name=harness.CURVE_HOSTS["enroller"]),
        "bsf": cp.tepctl_ini("as-bsf", key=os.path.join(p.env["DATA_DIR"], "bsf",
                                                        "bus-curve.key"), curve_name=BSF_HOST),
    }
    own = {"in-cse": "cse", "authz": "authz", "enroller": "enroller", "bsf": "bsf"}
    key_of = {"gateway": public(cp, "mn-cse1"), "in-cse": public(cp, IN_HOST),
              "authz": public(cp, harness.CURVE_HOSTS["authz"]),
              "enroller": public(cp, harness.CURVE_HOSTS["enroller"]),
              "bsf": public(cp, BSF_HOST)}
    attacks = [
        ("enroller", ("enrolee", "revoke", "gwdev01"), "enrolee_revoke"),
        ("enroller", ("enrolee", "revoke", "indev01"), "enrolee_revoke"),
        ("enroller", ("enrolee", "list"), "enrolee_list"),
        ("enroller", ("status", "enroller"), "status"),
        ("authz", ("audit",), "audit_query"),
        ("authz", ("maf", "revoke", kc_id), "maf_key_revoke"),
        ("authz", ("token", "revoke", "tk245"), "token_revoke"),
        ("authz", ("status", "authz"), "status"),
        ("cse", ("cse", "deregister"), "cse_deregister"),
        ("cse", ("status", "cse"), "status"),
        ("bsf", ("gba", "add", IMPI), "gba_subscriber_add"),
        ("bsf", ("gba", "list"), "gba_subscriber_list"),
        ("bsf", ("status", "bsf"), "status"),
    ]
    for who, ini in attackers.items():
        for daemon, args, op in attacks:
            if own.get(who) == daemon:
                continue                           # its own key: below
            r = cp.tepctl(ini, daemon, *args)
            assert r.rc == 3 and REFUSED in r.err and r.out == "", "%s %s %s: %s" % (
                who, daemon, args, r)
            p[daemon].wait_log(r"event=admin_refused peer_key=%s op=%s reason=not_an_admin_key"
                               % (re.escape(key_of[who][:8]), op), 5)
    for daemon in daemons:                                   # 8 characters, never a key
        assert not any(k in p[daemon].log() for k in key_of.values()), daemon

    # a daemon's own key administers that daemon (its health check), nothing else
    for who, daemon in own.items():
        st = cp.tepctl(attackers[who], daemon, "status", daemon)
        assert st.rc == 0, "%s at %s: %s" % (who, daemon, st)

    # nothing was done: the devices are enrolled and served by their CSEs, the Kc is
    # registered, no subscriber was added, the MN-CSE is still registered
    for name in ("gwdev01", "indev01"):
        r = cp.tepctl(cp.ops, "enroller", "enrolee", "show", name)
        assert r.rc == 0 and r.get("STATE") == "active", str(r)
    assert gwdev.run("create-cnt", "data").rc == 0, mn.tail()
    assert indev.run("retrieve", harness.ae_path(p, indev)).rc == 0, p.logs()
    r = cp.tepctl(cp.ops, "authz", "maf", "keys")
    assert r.rc == 0 and kc_id in r.out, str(r)
    r = cp.tepctl(cp.ops, "bsf", "gba", "list")
    assert r.rc == 0 and IMPI not in r.out, str(r)
    r = cp.tepctl(cp.ops, "authz", "audit", "--originator", "Cindev01")
    assert r.rc == 0 and "permit=1" in r.out, str(r)
