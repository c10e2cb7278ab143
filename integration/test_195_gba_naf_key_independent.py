"""195: the MEF's NAF key against an independent UE (TS-0003 8.3.2.3, Annex A; 3GPP TS
33.220 4.5.2-4.5.3, Annex B): a Python UE (tepgba.py: its own Milenage, Digest and KDF)
bootstraps with tep-bsf, derives Ks_NAF for the MEF's FQDN itself and opens the MEF
Handshake with tinydtls (pskclient.py), psk_identity = B-TID: the MEF, which got its key
from tep-bsf over Zn, accepts it and enrols with KeID = B-TID. A key made with another
NAF_Id (a NAF FQDN that is not the MEF's) is refused."""

import base64
import json
import time

import pytest

import gba_common
import pskclient
import tepgba

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))


def enrol_with(p, btid, key, tries=15):
    """POST /enrol over DTLS-PSK (B-TID, key); the first handshake of a B-TID is refused
    while the MEF asks Zn, so a refused handshake is tried again, 0.2 s later (tinydtls
    reports a refusal at once). The answer, or None."""
    for i in range(tries):
        if i:
            time.sleep(0.2)
        try:
            with pskclient.PskClient(p.ports["enroller_coaps"], btid, key,
                                     sni=p.env["MEF_FQDN"]) as c:
                return c.request(pskclient.aiocoap.POST, "enrol", b"{}", timeout=3)
        except Exception:  # noqa: BLE001 - a refused handshake, in whatever form
            continue
    return None


def test_independent_ue_enrols_with_its_own_ks_naf(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    r = p.tepctl("enrolee", "add", "pyue", "--gba-impi", gba_common.IMPI)
    assert r.rc == 0, str(r)
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200, out
    ks_naf = tepgba.ks_naf(out["ck"], out["ik"], out["rand"], gba_common.IMPI,
                           p.env["MEF_FQDN"])
    ans = enrol_with(p, out["btid"], ks_naf)
    assert ans is not None and ans.code == "2.01", (ans, p.logs())
    body = json.loads(ans.payload)
    assert body["keid"] == out["btid"] and body["eid"] == "Cpyue", body
    assert base64.b64decode(out["btid"].split("@")[0]) == out["rand"]


def test_key_for_another_naf_is_refused(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    assert p.tepctl("enrolee", "add", "pyue2", "--gba-impi", gba_common.IMPI).rc == 0
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    wrong = tepgba.ks_naf(out["ck"], out["ik"], out["rand"], gba_common.IMPI, "naf.other.local")
    assert enrol_with(p, out["btid"], wrong, tries=4) is None
    p["enroller"].wait_log("event=zn_answer btid=", 5)
