"""132: the Block1 body bound over DTLS, from an enrolled device's own session: tep-cse's
CoAPS endpoint (KpsaID/Kpsa, TS-0003 8.2.2.2) with `[cse] max_body` (65536) and
tep-authz's MAF (KmID/Km, TS-0003 8.8.2.2) with `[authz] max_body` (16384). RFC 7959
2.9.3: the block whose Size1 announces more, or that ends beyond the bound, gets 4.13
with Size1 = the bound, before the body is handed to the daemon, and nothing of it is
kept (patches/README.md item 8; docs/internals.md "Request bodies"; plain CoAP, the RSS
and the bounds on transfers in progress in integration 130). Meanwhile the daemon
serves: another device registers with tep-cse, the MAF answers the same session's next
request.

Blocks come from tinydtls and aiocoap (pskclient.py, each sent as given), the keys from
tepkeys.py."""

import pytest

import harness
import pskclient
import tepkeys
from onem2m_client import POST
from test_56_maf_lifecycle import Lifecycle

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))

BLOCK = 1024


def _refused_while_reassembled(c, path, bound):
    """Size1 announcing more: 4.13 at the first block; no Size1: the blocks up to the
    bound continue (2.31), the one that ends beyond it is 4.13, and nothing was kept (a
    later block is refused the same way)."""
    for announced in (bound + 1, 1 << 30):
        r = c.block1(path, 0, True, b" " * BLOCK, size1=announced)
        assert (r.code, r.size1, r.text) == ("4.13", bound, "body too large"), str(r)
    for i in range(bound // BLOCK):
        r = c.block1(path, i, True, b" " * BLOCK)
        assert r.code == "2.31", "block %d: %s" % (i, r)
    r = c.block1(path, bound // BLOCK, True, b" " * BLOCK)
    assert (r.code, r.size1) == ("4.13", bound), str(r)
    r = c.block1(path, bound // BLOCK + 1, True, b" " * BLOCK)
    assert (r.code, r.size1) == ("4.13", bound), str(r)


def test_cse_over_coaps(platform):
    dev = platform.enrolled_device("device01")
    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    with pskclient.PskClient(platform.ports["cse_coaps"],
                             tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"]), kpsa) as c:
        _refused_while_reassembled(c, platform.env["CSE_NAME"], 65536)
        other = platform.enrolled_device("device02")  # enrols and registers meanwhile
        assert other.state_values()["enrolee_id"] == "Cdevice02"
        _refused_while_reassembled(c, platform.env["CSE_NAME"], 65536)
    assert platform["cse"].alive()


@pytest.fixture
def m(monkeypatch):
    platform = Lifecycle(monkeypatch)
    yield platform
    platform.close()


def test_maf_over_coaps(m):
    h = m.enrolled("device01")
    st = harness.Device(m.p, "device01").state_values()
    km = tepkeys.km(bytes.fromhex(st["ke"]), m.p.env["MAF_ID"])
    with pskclient.PskClient(m.authz_port, tepkeys.km_id(km, m.p.env["MAF_ID"]), km) as c:
        _refused_while_reassembled(c, "maf/keys", 16384)
        r = c.request(POST, "maf/keys", b"{}")
        assert r.code == "4.00", str(r)
    m.lib.tep_device_free(h)
