"""74: acor entries in every originator form match the AE registered here, and malformed
access-control contexts are refused when the policy is written, in both decision modes.
The attack (or the outage): tep-cse did not give the PDP its CSE-ID and SP-ID, so
`/<cse-id>/*` or `/<cse-id>/Cabc*` never matched the AE whose From is `Cabc...`; and a
policy with a context that can never be met (a bad CIDR, a 6-field crontab) was stored
silently.
TS-0001 V3.36 7.2 table 7.2-1 (AE-ID-Stem "C..." is CSE-relative: SP-relative
"/<cse-id>/C...", absolute "//<sp>/<cse-id>/C..."; a stem "S..." is SP-relative "/S...",
absolute "//<sp>/S..."); TS-0003 7.1.3 ('*' scoped to one segment); TS-0004 V3.32
7.3.3.15 table 7.3.3.15-1; TS-0004 7.4.9.1 (scheduleEntry), 6.3.5.27-28 (acip, aclr):
a context that is not of its type is 4000 BAD_REQUEST; docs/access-control.md."""

import pytest

from onem2m_client import TY_ACP, TY_AE, TY_CNT, TY_GRP

ALL_OPS, RETRIEVE = 63, 2
SP_ID = "tep.local"  # tep-cse's [cse] sp_id default (cse_config.c)


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def parties(cse):
    """(owner, owner path, reader "Cabc-reader", other "Cxyz-other", S-type AE)."""
    owner, path, _ = cse.ae("Cform-owner", "form-owner")
    reader, rpath, _ = cse.ae("Cabc-reader", "abc-reader")
    other, _, _ = cse.ae("Cxyz-other", "xyz-other")
    s_ae, spath, _ = cse.ae("S", "form-s-ae")  # the CSE assigns an S-stem (TS-0001 7.2)
    assert s_ae.originator.startswith("S"), s_ae.originator
    reader.path, s_ae.path = rpath, spath
    return owner, path, reader, other, s_ae


def _guarded(owner, path, rn, acor):
    acp = owner.create(path, TY_ACP, {
        "rn": "acp-" + rn, "pv": {"acr": [{"acor": acor, "acop": RETRIEVE}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert acp.rsc == 2001, str(acp)
    cnt = owner.create(path, TY_CNT, {"rn": rn, "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert cnt.rsc == 2001, str(cnt)
    return cnt.location


@pytest.mark.parametrize("form", [
    "{cse}/*", "{cse}/Cabc*", "//{sp}{cse}/Cabc*", "//{sp}{cse}/*", "Cabc*", "Cabc-reader",
    "{cse}/Cabc-reader", "//{sp}{cse}/Cabc-reader", "//*{cse}/Cabc*", "//{sp}",
])
def test_every_form_matches_the_ae_registered_here(cse, parties, form):
    """Each form lets Cabc-reader (From "Cabc-reader") read; the forms naming Cabc* keep
    Cxyz-other out (4103)."""
    owner, path, reader, other, _ = parties
    entry = form.format(cse=cse.env["CSE_ID"], sp=SP_ID)
    rn = "f%d" % abs(hash(form))
    loc = _guarded(owner, path, rn, [entry])
    r = reader.retrieve(loc)
    assert r.rsc == 2000, "%s: %s" % (entry, r)
    want = 2000 if entry.endswith("/*") or entry == "//" + SP_ID else 4103
    assert other.retrieve(loc).rsc == want, entry


@pytest.mark.parametrize("form", ["/other-cse/*", "/other-cse/Cabc*", "//other.sp{cse}/*",
                                  "{cse}/*/Cabc*", "{cse}"])
def test_forms_of_others_do_not_match(cse, parties, form):
    """Another CSE's AEs, another SP's, a deeper path, and the CSE-ID alone (it names the
    CSE, not its AEs): 4103."""
    owner, path, reader, _, _ = parties
    entry = form.format(cse=cse.env["CSE_ID"])
    loc = _guarded(owner, path, "n%d" % abs(hash(form)), [entry])
    r = reader.retrieve(loc)
    assert (r.rsc, r.code) == (4103, "4.03"), "%s: %s" % (entry, r)


def test_s_type_ae_is_sp_relative(cse, parties):
    """An S-stem is "/S..." in its SP (TS-0001 7.2): "/S*" and "//sp/S..." name it, a
    pattern under this CSE does not."""
    owner, path, _, _, s_ae = parties
    for rn, acor, want in (("s1", ["/S*"], 2000),
                           ("s2", ["//%s/%s" % (SP_ID, s_ae.originator)], 2000),
                           ("s3", [s_ae.originator], 2000),
                           ("s4", ["%s/S*" % cse.env["CSE_ID"]], 4103)):
        loc = _guarded(owner, path, rn, acor)
        assert s_ae.retrieve(loc).rsc == want, acor


def test_group_in_acor(cse, parties):
    """An acor entry naming a <group> of AEs (TS-0004 7.3.3.15 table 7.3.3.15-1), by its
    resource ID or SP-relative: its members are permitted, others 4103; a member removed
    from mid is refused at once."""
    owner, path, reader, other, s_ae = parties
    g = owner.create(path, TY_GRP, {"rn": "grp-readers", "mt": TY_AE, "mnm": 10,
                                    "mid": [reader.path, s_ae.path]})
    assert g.rsc == 2001, str(g)
    ri = g.resource(TY_GRP)["ri"]
    for rn, entry in (("g-ri", ri), ("g-sp", "%s/%s" % (cse.env["CSE_ID"], ri))):
        loc = _guarded(owner, path, rn, [entry])
        assert reader.retrieve(loc).rsc == 2000, entry
        assert s_ae.retrieve(loc).rsc == 2000, entry
        r = other.retrieve(loc)
        assert (r.rsc, r.code) == (4103, "4.03"), "%s: %s" % (entry, r)
    assert owner.update(g.location, TY_GRP, {"mid": [s_ae.path]}).rsc == 2004
    r = reader.retrieve(loc)
    assert (r.rsc, r.code) == (4103, "4.03"), str(r)
    assert s_ae.retrieve(loc).rsc == 2000


BAD_CONTEXTS = [
    {"acip": {"ipv4": ["10.0.0.0/33"]}},
    {"acip": {"ipv4": ["not-an-address"]}},
    {"acip": {"ipv4": ["fd00::/8"]}},           # an IPv6 range in the IPv4 list
    {"acip": {"ipv6": ["10.0.0.0/8"]}},
    {"acip": {"ipv4": "10.0.0.0/8"}},           # not a list
    {"acip": {"ip": ["10.0.0.0/8"]}},           # no such list
    {"actw": ["* * * * * *"]},                  # a 6-field crontab
    {"actw": ["* * 24 * * * *"]},               # hour out of range
    {"actw": ["5/2 * * * * * *"]},              # a step after a single number
    {"actw": "* * * * * * *"},                  # not a list
    {"aclr": {"accc": ["FR"], "accr": [0, 0, 1]}},  # both choices
    {"aclr": {"accr": [91, 0, 10]}},            # latitude out of range
    {"color": "red"},                           # no such context
]


@pytest.mark.parametrize("ctx", BAD_CONTEXTS)
def test_malformed_context_is_4000_at_create_and_update(parties, ctx):
    owner, path, reader, _, _ = parties
    pvs = {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}
    bad = {"acr": [{"acor": [reader.originator], "acop": RETRIEVE, "acco": [ctx]}]}
    r = owner.create(path, TY_ACP, {"rn": "acp-bad", "pv": bad, "pvs": pvs})
    assert (r.rsc, r.code) == (4000, "4.00"), "%s: %s" % (ctx, r)
    good = owner.create(path, TY_ACP, {"rn": "acp-good-%d" % abs(hash(str(ctx))),
                                       "pv": {"acr": []}, "pvs": pvs})
    assert good.rsc == 2001, str(good)
    for attr in ("pv", "pvs"):
        r = owner.update(good.location, TY_ACP, {attr: bad})
        assert (r.rsc, r.code) == (4000, "4.00"), "%s %s: %s" % (attr, ctx, r)
    assert owner.retrieve(good.location).resource(TY_ACP)["pv"] == {"acr": []}


def test_well_formed_contexts_are_stored(parties):
    """The forms docs/access-control.md allows are accepted as given."""
    owner, path, reader, _, _ = parties
    acco = [{"actw": ["* * 6-18 * * 1-5 *", "*/10 0-30/5 * * * * 2025-2030"],
             "acip": {"ipv4": ["10.0.0.0/8", "192.0.2.1"], "ipv6": ["fd00::/8"]}},
            {"aclr": {"accc": ["DE", "fr"]}}, {"aclr": {"accr": [48.85, 2.35, 1000.0]}},
            {"actw": []}]
    r = owner.create(path, TY_ACP, {
        "rn": "acp-ctx-ok",
        "pv": {"acr": [{"acor": [reader.originator], "acop": RETRIEVE, "acco": acco}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert r.rsc == 2001, str(r)
    assert r.resource(TY_ACP)["pv"]["acr"][0]["acco"] == acco


def test_creator_in_every_form(cse, parties):
    """The default access policy (no acpi: only the creator, TS-0001 9.6.1.3.2) knows the
    creator in every form of its AE-ID; another AE in those forms is still refused."""
    owner, path, _, other, _ = parties
    cnt = owner.create(path, TY_CNT, {"rn": "creator-forms"}).location
    cse_id = cse.env["CSE_ID"]
    for frm in (owner.originator, "%s/%s" % (cse_id, owner.originator),
                "//%s%s/%s" % (SP_ID, cse_id, owner.originator)):
        r = cse.client(frm).retrieve(cnt)
        assert r.rsc == 2000, "%s: %s" % (frm, r)
        r = cse.client("%s/%s" % (cse_id, other.originator)).retrieve(cnt)
        assert (r.rsc, r.code) == (4103, "4.03"), str(r)
