"""45: accessControlContexts decide access through the real tep-cse and tep-authz, in
both decision modes (remote PDP over the bus, local evaluator): a time window (actw,
7-field scheduleEntry in UTC), an IP range (acip, CIDR against the peer's real address:
these clients come from loopback), a location region (aclr: tep-cse learns no rq_loc over
plain CoAP, so the context cannot be met and the rule never permits: fail closed), and
the OR over several contexts of one rule.
TS-0003 7.1.3 table 7.1.3-3, 7.1.4 (indeterminate is Deny), 7.1.5 (res_ctxts);
TS-0004 7.4.9.1 (scheduleEntry), 6.3.5.27/6.3.5.28 (acip, aclr)."""

import datetime

import pytest

from onem2m_client import TY_ACP, TY_CNT

ALL_OPS = 63
RETRIEVE = 2
LOOPBACK = {"ipv4": ["127.0.0.0/8"], "ipv6": ["::1/128"]}


CSE_AUTHZ_MODES = ["remote", "local"]  # the conftest cse fixture runs the module in each


@pytest.fixture(scope="module")
def owners(cse):
    owner, path, _ = cse.ae("Cctx-owner", "ctx-owner")
    reader, _, _ = cse.ae("Cctx-reader", "ctx-reader")
    return owner, path, reader


def _hours(now, delta_hours):
    return (now + datetime.timedelta(hours=delta_hours)).hour


def _protected(owner, path, rn, acco, reader):
    """A container whose ACP lets the reader RETRIEVE under the given contexts."""
    acp = owner.create(path, TY_ACP, {
        "rn": "acp-" + rn,
        "pv": {"acr": [{"acor": [reader.originator], "acop": RETRIEVE, "acco": acco}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert acp.rsc == 2001, str(acp)
    cnt = owner.create(path, TY_CNT, {"rn": rn, "acpi": [acp.resource(TY_ACP)["ri"]]})
    assert cnt.rsc == 2001, str(cnt)
    return cnt.location


def _expect(reader, location, rsc):
    r = reader.retrieve(location)
    assert r.rsc == rsc, str(r)


def test_time_window(owners):
    """actw: a window around the current UTC hour permits, one that excludes it denies."""
    owner, path, reader = owners
    now = datetime.datetime.now(datetime.timezone.utc)
    inside = "* * %d,%d * * * *" % (now.hour, _hours(now, 1))   # survives an hour change
    outside = "* * %s * * * *" % ",".join(
        str(h) for h in range(24) if h not in (now.hour, _hours(now, 1)))
    _expect(reader, _protected(owner, path, "tw-in", [{"actw": [inside]}], reader), 2000)
    _expect(reader, _protected(owner, path, "tw-out", [{"actw": [outside]}], reader), 4103)
    # a 6-field crontab is not a scheduleEntry: refused when the policy is written
    # (integration/test_74_acp_originator_forms.py has the other malformed contexts)
    r = owner.create(path, TY_ACP, {
        "rn": "acp-tw-bad",
        "pv": {"acr": [{"acor": [reader.originator], "acop": RETRIEVE,
                        "acco": [{"actw": ["* * * * * *"]}]}]},
        "pvs": {"acr": [{"acor": [owner.originator], "acop": ALL_OPS}]}})
    assert (r.rsc, r.code) == (4000, "4.00"), str(r)


def test_ip_range(owners):
    """acip: loopback ranges permit these clients; other ranges deny them."""
    owner, path, reader = owners
    _expect(reader, _protected(owner, path, "ip-in", [{"acip": LOOPBACK}], reader), 2000)
    elsewhere = {"ipv4": ["10.0.0.0/8", "128.0.0.0/1"], "ipv6": ["fd00::/8"]}
    _expect(reader, _protected(owner, path, "ip-out", [{"acip": elsewhere}], reader), 4103)


def test_location_region_without_location_fails_closed(owners):
    """aclr: with no rq_loc for the originator, neither a country nor a circle is met."""
    owner, path, reader = owners
    for rn, region in (("lr-cc", {"accc": ["KR", "FR"]}),
                       ("lr-circ", {"accr": [48.8566, 2.3522, 2.0e7]})):
        _expect(reader, _protected(owner, path, rn, [{"aclr": region}], reader), 4103)


def test_contexts_combine(owners):
    """Inside one context all parts must hold (AND); the rule holds when one context of
    acco does (OR)."""
    owner, path, reader = owners
    both = [{"acip": LOOPBACK, "aclr": {"accc": ["KR"]}}]
    _expect(reader, _protected(owner, path, "and", both, reader), 4103)
    either = [{"aclr": {"accc": ["KR"]}}, {"acip": LOOPBACK, "actw": ["* * * * * * *"]}]
    _expect(reader, _protected(owner, path, "or", either, reader), 2000)
    # the owner, creator of the container, is not in the ACP: the ACP decides for it too
    _expect(owner, _protected(owner, path, "not-owner", either, reader), 4103)
