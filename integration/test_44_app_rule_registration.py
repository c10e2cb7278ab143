"""44: application rules at registration (TS-0001 10.2.2.2 / 9.6.29
<serviceSubscribedAppRule>, TS-0003 8.2.1, D5): the registrar CSE checks the
registering AE's (Credential-ID "12-<KpsaID>", App-ID, AE-ID-Stem) against apci, aai and
aae (wildcards allowed); a registration no rule allows fails with 4126
APP_RULE_VALIDATION_FAILED, and the AE does not exist afterwards."""

import json
import os

import harness


def _platform(monkeypatch, rules):
    p = harness.Platform()
    path = os.path.join(p.dir, "app-rules.json")
    with open(path, "w") as f:
        json.dump({"rules": rules}, f)
    monkeypatch.setenv("TEP_CSE_APP_RULES_FILE", path)
    p.start()
    return p


def _register(p, name, app_id):
    dev = p.add_enrolee(name, "--app-id", app_id)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    return dev, dev.run("register")


def test_registration_checked_against_app_rules(monkeypatch, request):
    p = None
    try:
        p = _platform(monkeypatch, [{"apci": ["12-*@" + harness.tepenv.DEFAULTS["mef_fqdn"]],
                                     "aai": ["Ntepdemo"], "aae": ["Cdevice0*"]}])
        dev, r = _register(p, "device01", "Ntepdemo")
        assert r.rc == 0, "%s\n%s" % (r, p.logs())

        _, r = _register(p, "device02", "Nother")          # App-ID not allowed
        assert r.rc == 3 and r.rsc == 4126, "%s\n%s" % (r, p.logs())
        _, r = _register(p, "sensor01", "Ntepdemo")        # AE-ID-Stem not allowed
        assert r.rc == 3 and r.rsc == 4126, "%s\n%s" % (r, p.logs())
        p["cse"].wait_log("event=app_rule_refused credential_id=12-[0-9a-f]+@", 5)

        # The refused AE was not created: device02's own container cannot be made.
        dev2 = p.device("device02")
        r = dev2.run("create-cnt", "data")
        assert r.rc == 3 and r.rsc == 4004, str(r)
        p.assert_clean_stop()
    finally:
        if p is not None:
            p.cleanup(keep=getattr(request.node, "tep_failed", False) or bool(os.environ.get("TEP_KEEP_RUN")))
