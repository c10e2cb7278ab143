"""04: the From of every request must be the identity bound to the DTLS session.
TS-0003 7.2.1 (impersonation prevention: the registrar checks that From equals the
identity bound to the security association, else 4106 ORIGINATOR_NOT_AUTHENTICATED)."""

import coapmsg as c
from harness import device_with_data


def test_spoofed_from_over_coaps_is_refused_4106(platform):
    dev1, cnt, _ = device_with_data(platform, "device01")
    dev2 = platform.enrolled_device("device02")

    # device02's session, but claiming to be device01 (the owner) or someone unknown
    for spoof in ("Cdevice01", "Cother"):
        r = dev2.run("retrieve", cnt, from_=spoof)
        assert r.rc == 3 and r.rsc == 4106, "%s\n%s" % (r, platform.logs())

    r = dev1.run("retrieve", cnt)
    assert r.rc == 0, str(r)


def test_enrolled_originator_over_plain_coap_needs_an_sa_4107(platform):
    """TS-0003 7.2.1: plain CoAP carries no authenticated identity; an originator that
    is an enrolled AE must use its security association (4107 SECURITY_ASSOCIATION_REQUIRED)."""
    _, cnt, _ = device_with_data(platform, "device01")
    m = c.exchange(platform.ports["cse_coap"], c.onem2m_request(c.GET, cnt, "Cdevice01"))
    assert m is not None, platform.logs()
    assert m.rsc == 4107, (m.code_str, m.rsc, m.payload)
