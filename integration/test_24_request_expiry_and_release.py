"""24: request expiry and the release version indicator, over the CoAP binding.
TS-0004 V3.32 7.3.2 (a Request Expiration Timestamp, rqet, or Result Expiration
Timestamp, rset, in the past: the request is rejected with REQUEST_TIMEOUT 4008; an
Operation Execution Time, oet, in the future cannot be honoured by tep: 5001
NOT_IMPLEMENTED) and 7.3.2 / 6.4.x (a Release Version Indicator the Hosting CSE does not
support: RELEASE_VERSION_NOT_SUPPORTED 4001); m2m:absRelTimestamp (absolute
YYYYMMDDTHHMMSS or relative milliseconds); TS-0008 6.2.2.4 option numbers (291 RQET,
295 RSET, 299 OET, 271 RVI) and Table 6.2.4-1 (4008 -> 5.04, 4001 -> 5.01, 5001 ->
5.01). A refused request changes nothing; the RVI is echoed in every answer."""

import time

import pytest

from onem2m_client import OPT, TY_CNT


@pytest.fixture(scope="module")
def ae(cse):
    c, path, _ = cse.ae("Cexpiry", "expiry-ae")
    return c, path


def _utc(offset_s):
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() + offset_s))


def _create(c, parent, rn, *options, rvi=...):
    return c.create(parent, TY_CNT, {"rn": rn}, options=list(options), rvi=rvi)


@pytest.mark.parametrize("opt,value,reason", [
    ("RQET", "20200101T000000", "rqet_passed"),
    ("RQET", "-1000", "rqet_passed"),
    ("RSET", "20200101T000000,123", "rset_passed"),
    ("RSET", "-5000", "rset_passed"),
], ids=["rqet-absolute", "rqet-relative", "rset-absolute", "rset-relative"])
def test_expired_request_is_4008_and_not_executed(ae, opt, value, reason):
    c, path = ae
    rn = "late-%s-%d" % (opt.lower(), abs(hash(value)) % 10000)
    r = _create(c, path, rn, (OPT[opt], value))
    assert (r.rsc, r.code) == (4008, "5.04"), str(r)
    assert r.dbg == "REQUEST_TIMEOUT: " + reason, str(r)
    assert c.retrieve(path + "/" + rn).rsc == 4004           # nothing was created


@pytest.mark.parametrize("opt,value", [
    ("RQET", None), ("RQET", "60000"), ("RSET", None), ("RSET", "600000"),
    ("OET", "20200101T000000"), ("OET", "0"),
], ids=["rqet-absolute", "rqet-relative", "rset-absolute", "rset-relative", "oet-past",
        "oet-now"])
def test_times_still_ahead_are_served(ae, opt, value):
    c, path = ae
    value = value or _utc(3600)
    rn = "ontime-%s-%d" % (opt.lower(), abs(hash(value)) % 10000)
    r = _create(c, path, rn, (OPT[opt], value))
    assert r.rsc == 2001, str(r)
    assert c.retrieve(path + "/" + rn).rsc == 2000


def test_deferred_execution_is_5001_and_not_executed(ae):
    c, path = ae
    r = _create(c, path, "deferred", (OPT["OET"], _utc(3600)))
    assert (r.rsc, r.code) == (5001, "5.01"), str(r)
    assert r.dbg == "NOT_IMPLEMENTED: deferred_execution_not_supported", str(r)
    assert c.retrieve(path + "/deferred").rsc == 4004


@pytest.mark.parametrize("value", ["tomorrow", "2030-01-01T00:00:00", "20300101T0000",
                                   "12x"])
def test_malformed_expiration_timestamp_is_4000(ae, value):
    c, path = ae
    r = _create(c, path, "bad-rqet", (OPT["RQET"], value))
    assert (r.rsc, r.code, r.dbg) == (4000, "4.00", "BAD_REQUEST: bad_rqet"), str(r)
    assert c.retrieve(path + "/bad-rqet").rsc == 4004


@pytest.mark.parametrize("rvi", ["1", "2", "2a", "3", "4", "5"])
def test_supported_release_is_served_and_echoed(ae, rvi):
    c, path = ae
    r = _create(c, path, "rvi-" + rvi, rvi=rvi)
    assert (r.rsc, r.rvi) == (2001, rvi), str(r)
    r = c.retrieve(path + "/rvi-" + rvi, rvi=rvi)
    assert (r.rsc, r.rvi) == (2000, rvi), str(r)


@pytest.mark.parametrize("rvi", ["6", "9", "2b", "3a", "0", "x" * 8])
def test_unsupported_release_is_4001_and_not_executed(ae, rvi):
    c, path = ae
    r = _create(c, path, "norvi", rvi=rvi)
    assert (r.rsc, r.code) == (4001, "5.01"), str(r)
    assert r.dbg == "RELEASE_VERSION_NOT_SUPPORTED: unknown_release_version", str(r)
    assert c.retrieve(path + "/norvi").rsc == 4004
