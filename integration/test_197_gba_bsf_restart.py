"""197: tep-bsf's state survives a restart (DESIGN 5: a write that acknowledges anything
is committed first; TS 33.220 4.5.2: the BSF keeps Ks with its B-TID for the key
lifetime). A B-TID issued before the restart still gives the MEF its NAF key over Zn
after it (an independent UE enrols with it), the subscriber's SQN_HE is where it was, so
the next challenge is fresh for the USIM without a re-synchronisation."""

import pytest

import gba_common
import pskclient
import tepgba
from test_195_gba_naf_key_independent import enrol_with

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))


def test_btid_and_sqn_survive_a_restart(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    assert p.tepctl("enrolee", "add", "keeper", "--gba-impi", gba_common.IMPI).rc == 0
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200, out
    p["bsf"].stop()
    p["bsf"].start()
    rows = gba_common.table(p.tepctl("gba", "btids", admin="bsf"))
    assert [(r[0], r[-1]) for r in rows] == [(out["btid"], "live")], rows
    ks_naf = tepgba.ks_naf(out["ck"], out["ik"], out["rand"], gba_common.IMPI,
                           p.env["MEF_FQDN"])
    ans = enrol_with(p, out["btid"], ks_naf)
    assert ans is not None and ans.code == "2.01", (ans, p.logs())
    again = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert again["status"] == 200 and again["resyncs"] == 0 and usim.sqn_ms == 2, again
