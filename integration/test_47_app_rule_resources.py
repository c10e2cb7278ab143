"""47: <serviceSubscribedAppRule> resources (TS-0001 9.6.29, TS-0004 7.4.29: ty 19,
"m2m:asar", apci/aai/aae/ari, child of the CSEBase) and their use at AE registration
(TS-0001 10.2.2.2, TS-0003 8.2.1): the admin creates, reads, updates and deletes them,
nobody else can; bad content (an aai entry not starting with '*', 'R' or 'N', TS-0004
7.4.29.2.1) is 4000; a registration passes when some rule allows its (Credential-ID,
App-ID, AE-ID-Stem), else 4126 APP_RULE_VALIDATION_FAILED; with no rule, every
registration passes. The order of the tests matters (one platform, rules added and
removed as they go)."""

import json

import pytest

import harness
from onem2m_client import POST, PUT

TY_ASAR = 19


def _asar_body(attrs):
    return json.dumps({"m2m:asar": attrs}).encode()


def _create(c, cse, attrs):
    return c.request(POST, cse.name, ty=TY_ASAR, body=_asar_body(attrs))


def _update(c, path, attrs):
    return c.request(PUT, path, body=_asar_body(attrs))


def _register(cse, name, app_id):
    """Enrols name with App-ID app_id and registers its AE over CoAPS (Kpsa)."""
    dev = cse.platform.add_enrolee(name, "--app-id", app_id)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, cse.platform.logs())
    return dev.run("register")


def _plain_ae(cse, rn):
    """An AE registering over plain CoAP: no security association, Credential-ID ""."""
    c = cse.client("C" + rn)
    body = {"rn": rn, "api": "Ntep.test", "rr": False, "srv": ["3"]}
    return c.create(cse.name, 2, body)


MEF = harness.tepenv.DEFAULTS["mef_fqdn"]
RULE = {"apci": ["12-*@" + MEF], "aai": ["Ntepdemo"], "aae": ["Cdevice0*"]}


@pytest.fixture(scope="module")
def stranger(cse):
    """An AE registered before any rule exists (no rule: every registration passes)."""
    c, _, _ = cse.ae("Casar-stranger", "asar-stranger")
    return c


def test_admin_creates_reads_updates_deletes(cse, stranger):
    r = _create(cse.admin, cse, dict(RULE, rn="rule-crud"))
    assert (r.rsc, r.code) == (2001, "2.01"), "%s\n%s" % (r, cse.platform.logs())
    made = r.resource()
    assert made["ty"] == TY_ASAR and made["aai"] == ["Ntepdemo"] and "ri" in made
    path = r.location or "%s/rule-crud" % cse.name
    got = cse.admin.retrieve(path)
    assert got.rsc == 2000 and got.json["m2m:asar"]["apci"] == RULE["apci"], str(got)
    up = _update(cse.admin, path, {"aai": ["Ntepdemo", "R*"], "ari": ["r1"]})
    assert up.rsc == 2004 and up.resource()["aai"] == ["Ntepdemo", "R*"], str(up)
    assert cse.admin.delete(path).rsc == 2002
    assert cse.admin.retrieve(path).rsc == 4004


def test_nobody_else_touches_app_rules(cse, stranger):
    """Created under the CSEBase (no policy opens it) and never given an acpi: only the
    admin, whatever the AE tries."""
    r = _create(stranger, cse, dict(RULE, rn="rule-by-ae"))
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    r = _create(cse.admin, cse, dict(RULE, rn="rule-private"))
    assert r.rsc == 2001, str(r)
    path = r.location or "%s/rule-private" % cse.name
    for got in (stranger.retrieve(path), _update(stranger, path, {"aai": ["*"]}),
                stranger.delete(path)):
        assert (got.rsc, got.code) == (4103, "4.03"), str(got)
    assert cse.admin.delete(path).rsc == 2002


@pytest.mark.parametrize("attrs,reason", [
    ({"aai": ["Xapp"]}, "bad_value:aai"),        # TS-0004 7.4.29.2.1: '*', 'R' or 'N'
    ({"aae": "Cdevice*"}, "bad_value:aae"),      # a list
    ({"apci": [""]}, "bad_value:apci"),          # empty pattern
    ({"acpi": ["acp1"]}, "acpi_not_allowed"),    # tep: app rules stay the admin's
    ({"foo": 1}, "unknown_or_readonly_attribute:foo"),
])
def test_bad_content_is_4000(cse, attrs, reason):
    r = _create(cse.admin, cse, attrs)
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)
    cse.platform["cse"].wait_log(reason, 5)


def test_update_with_bad_app_id_pattern_is_4000(cse):
    r = _create(cse.admin, cse, dict(RULE, rn="rule-upd"))
    path = r.location or "%s/rule-upd" % cse.name
    assert _update(cse.admin, path, {"aai": ["Sbad"]}).rsc == 4000
    assert cse.admin.retrieve(path).json["m2m:asar"]["aai"] == ["Ntepdemo"]
    assert cse.admin.delete(path).rsc == 2002


def test_registration_follows_the_rules(cse, stranger):
    assert _plain_ae(cse, "asar-free1").rsc == 2001  # no rule at all: allowed

    r = _create(cse.admin, cse, dict(RULE, rn="rule-devices"))
    assert r.rsc == 2001, str(r)
    devices = r.location or "%s/rule-devices" % cse.name
    r = _register(cse, "device01", "Ntepdemo")
    assert r.rc == 0, "%s\n%s" % (r, cse.platform.logs())
    cse.platform["cse"].wait_log("event=app_rule_ok ae_id=Cdevice01 rule=asar:", 5)
    r = _register(cse, "device02", "Nother")         # App-ID not allowed
    assert r.rc == 3 and r.rsc == 4126, "%s\n%s" % (r, cse.platform.logs())
    r = _register(cse, "sensor01", "Ntepdemo")       # AE-ID-Stem not allowed
    assert r.rc == 3 and r.rsc == 4126, str(r)
    r = _plain_ae(cse, "asar-plain1")                # no SA: empty Credential-ID
    assert r.rsc == 4126, str(r)

    # A rule without apci is the one for AEs without a security association.
    r = _create(cse.admin, cse, {"rn": "rule-plain", "aai": ["N*"], "aae": ["C*"]})
    assert r.rsc == 2001, str(r)
    plain = r.location or "%s/rule-plain" % cse.name
    assert _plain_ae(cse, "asar-plain2").rsc == 2001
    r = _register(cse, "sensor02", "Ntepdemo")       # has an SA: rule-plain is not its
    assert r.rc == 3 and r.rsc == 4126, str(r)

    # An update applies to the next registration; deleting every rule allows all again.
    assert _update(cse.admin, devices, {"aae": ["Cdevice0*", "Csensor*"]}).rsc == 2004
    r = _register(cse, "sensor03", "Ntepdemo")
    assert r.rc == 0, "%s\n%s" % (r, cse.platform.logs())
    assert cse.admin.delete(devices).rsc == 2002
    assert cse.admin.delete(plain).rsc == 2002
    r = _register(cse, "device03", "Nother")
    assert r.rc == 0, "%s\n%s" % (r, cse.platform.logs())
    # The refused AE does not exist: its container cannot be made.
    r = cse.platform.device("device02").run("create-cnt", "data")
    assert r.rc == 3 and r.rsc == 4004, str(r)
