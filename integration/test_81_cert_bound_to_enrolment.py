"""81: a certificate ends with the enrolment it was issued under (TS-0003 10.7). The
tep CA writes the enrolment's KeID (its first 64 bits) into the serial it signs
(cmn_ca_issue_bound); tep-cse's certificate SAEF and tep-authz's certificate MAF
Handshake accept a certificate only when that KeID is the current enrolment of the
certificate's AE-ID (cmn_ca_serial_bound_to).

The attack: device01's enrolee is revoked; another enrolee that the operator gives the
same AE-ID enrols. Looked up by AE-ID alone, the revoked certificate would complete the
handshake again at both daemons. It is refused at both, while the new enrolee's own
certificate works; a device's certificate from an enrolment it has since replaced is
refused as well."""

import re

import pytest

import harness
from test_55_cert_revocation import _serial
from test_57_maf_cert import CertMaf

pytestmark = pytest.mark.skipif(harness.COAP_CLIENT_OPENSSL is None,
                                reason="coap-client-openssl (libcoap3-bin) missing")


@pytest.fixture
def m(monkeypatch):
    platform = CertMaf(monkeypatch)
    yield platform
    platform.close()


def _cse_answers(p, crt, key, ca, ae_id):
    """Whether tep-cse answered a request over this certificate (the handshake done)."""
    log = harness.coap_cert(p, crt, key, ca, "get", p.env["CSE_NAME"], ae_id)
    return re.search(r"t:(ACK|CON) c:[245]\.\d\d", log) is not None, log


def _cse_refused(p, crt, key, ca, serial, ae_id):
    answered, log = _cse_answers(p, crt, key, ca, ae_id)
    assert not answered, log
    p["cse"].wait_log(r"event=handshake_refused reason=cert_not_of_current_enrolment "
                      r"identity=cert:%s enrolee_id=%s" % (serial, ae_id), 5)


def _maf_refused(m, crt, key, ca, serial, ae_id):
    out = m.coap_client(crt, key, ca)
    assert "2.01" not in out, out
    m.p["authz"].wait_log(r"event=handshake_refused reason=\"certificate not of the current "
                          r"enrolment\" identity=cert:%s enrolee_id=%s" % (serial, ae_id), 5)


def test_revoked_certificate_stays_refused_when_its_ae_id_enrols_again(m):
    p = harness.restart_cse_with_certificate(m.p)
    _, crt, key, ca = harness.cert_of(p, "device01")
    serial = _serial(crt).lower()
    # bound: the CA wrote the enrolment's KeID into the serial it signed
    answered, log = _cse_answers(p, crt, key, ca, "Cdevice01")
    assert answered, log + "\n" + p.logs()
    assert "c:2.01" in m.coap_client(crt, key, ca)

    assert p.tepctl("enrolee", "revoke", "device01").rc == 0
    last = p.tepctl("status", "enroller").get("last_seq")
    p["cse"].wait_log(r"event=sync_applied last_seq=%s " % last, 5)

    # another enrolee, same AE-ID, enrols and gets its own certificate
    dev2, crt2, key2, _ = harness.cert_of(p, "device01b", "--ae-id", "Cdevice01")
    assert dev2.state_values()["enrolee_id"] == "Cdevice01"
    last = p.tepctl("status", "enroller").get("last_seq")
    p["cse"].wait_log(r"event=sync_applied last_seq=%s " % last, 5)
    m.p["authz"].wait_log(r"event=credential_stored key_id=\S+ enrolee_id=Cdevice01 "
                          r"suid=21 revoked=0", 5)

    _cse_refused(p, crt, key, ca, serial, "Cdevice01")
    _maf_refused(m, crt, key, ca, serial, "Cdevice01")
    # the new enrolee's own certificate is served at both
    answered, log = _cse_answers(p, crt2, key2, ca, "Cdevice01")
    assert answered, log + "\n" + p.logs()
    assert "c:2.01" in m.coap_client(crt2, key2, ca)


def test_certificate_of_a_replaced_enrolment_refused(m):
    p = harness.restart_cse_with_certificate(m.p)
    dev, crt, key, ca = harness.cert_of(p, "device02")
    old = (crt + ".old", key + ".old")
    for src, dst in ((crt, old[0]), (key, old[1])):
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    serial = _serial(old[0]).lower()
    r = dev.run("cert")  # a new enrolment (replacing the old one) and a new certificate
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    last = p.tepctl("status", "enroller").get("last_seq")
    p["cse"].wait_log(r"event=sync_applied last_seq=%s " % last, 5)

    _cse_refused(p, old[0], old[1], ca, serial, "Cdevice02")
    _maf_refused(m, old[0], old[1], ca, serial, "Cdevice02")
    answered, log = _cse_answers(p, crt, key, ca, "Cdevice02")
    assert answered, log + "\n" + p.logs()
