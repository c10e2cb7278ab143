"""131: tep-enroller refuses an oversized body while it is reassembled. RFC 7959 2.9.3 and
RFC 7252 5.9.2.9: a Block1 transfer to /enrol or /cert whose Size1 announces more than
`[enroller] max_body` (default 4096, /cert's bound; /enrol's own 1024 is checked after
reassembly, integration 20), or one of whose blocks ends beyond it, gets 4.13 with
Size1 = 4096 at that block, and nothing of it is kept (patches/README.md item 8;
docs/internals.md "Request bodies"; the bound on transfers in progress is the same
libcoap code, integration 130). Another device enrols meanwhile and the same session
then enrols.

Blocks come from tinydtls and aiocoap (pskclient.py) with the enrolee's Kpm, each sent
as given (aiocoap's own block-wise handling off)."""

import pytest

import pskclient
from onem2m_client import POST

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))

MAX_BODY = 4096  # [enroller] max_body default
BLOCK = 1024


def _session(platform, dev):
    prov = pskclient.provisioning(dev)
    return pskclient.PskClient(platform.ports["enroller_coaps"], prov["kpm_id"],
                               bytes.fromhex(prov["kpm"]), sni=platform.env["MEF_FQDN"])


def test_enrol_body_over_the_bound_is_refused_during_reassembly(platform):
    dev = platform.add_enrolee("device01")
    with _session(platform, dev) as c:
        # Size1 announces 1 MB: refused at the first block
        r = c.block1("enrol", 0, True, b"{" + b" " * (BLOCK - 1), size1=1 << 20)
        assert (r.code, r.size1, r.text) == ("4.13", MAX_BODY, "body too large"), str(r)
        # no Size1: blocks 0..3 continue, block 4 (offset 4096) passes the bound
        for i in range(MAX_BODY // BLOCK):
            r = c.block1("enrol", i, True, b" " * BLOCK)
            assert r.code == "2.31", "block %d: %s" % (i, r)
        r = c.block1("enrol", MAX_BODY // BLOCK, True, b" " * BLOCK)
        assert (r.code, r.size1) == ("4.13", MAX_BODY), str(r)
        # and nothing was kept: a later block continues nothing
        r = c.block1("enrol", MAX_BODY // BLOCK + 1, True, b" " * BLOCK)
        assert (r.code, r.size1) == ("4.13", MAX_BODY), str(r)
        # meanwhile another device enrols
        other = platform.enrolled_device("device02")
        assert other.state_values()["enrolee_id"] == "Cdevice02"
        # the same session then enrols (its body in one request)
        r = c.request(POST, "enrol", b'{"cei": false}')
        assert r.code == "2.01" and r.json["eid"] == "Cdevice01", str(r)
    assert platform["enroller"].alive()

