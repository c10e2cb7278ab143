"""196: an expired B-TID enrols nothing (TS 33.220 4.5.2: the key lifetime; 4.5.3: the
BSF gives no NAF key past it; TS-0003 8.3.2.3). tep-bsf issues B-TIDs for 1 s here; once
that has passed, the MEF Handshake with the B-TID and its (correct) Ks_NAF is refused:
tep-bsf answers Zn with "expired" and tep-enroller logs the refusal; `tepctl gba btids`
shows the B-TID expired."""

import time

import pytest

import gba_common
import pskclient
import tepgba
from test_195_gba_naf_key_independent import enrol_with

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))


def test_expired_btid_is_refused(platform_factory):
    p = platform_factory(bsf=True, bsf_key_lifetime=1)
    usim = gba_common.add_subscriber(p)
    assert p.tepctl("enrolee", "add", "late", "--gba-impi", gba_common.IMPI).rc == 0
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200, out
    time.sleep(2.1)  # past the lifetime whatever the load: no race left to lose
    ks_naf = tepgba.ks_naf(out["ck"], out["ik"], out["rand"], gba_common.IMPI,
                           p.env["MEF_FQDN"])
    assert enrol_with(p, out["btid"], ks_naf, tries=4) is None
    p["bsf"].wait_log(r"event=zn btid=\S+ naf=mef.tep.local err=\"[^\"]+\"", 5)
    p["enroller"].wait_log("reason=btid_expired", 5)
    rows = gba_common.table(p.tepctl("gba", "btids", admin="bsf"))
    assert rows and rows[0][0] == out["btid"] and rows[0][-1] == "expired", rows
