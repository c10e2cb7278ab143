"""193: an IMPI tep-bsf holds no subscriber for gets 403 at the first request, no
challenge (TS 33.220 4.5.2 step 2: the BSF fetches the subscriber's data first; TS 24.109
4.4.3), and a second subscriber with the same IMPI cannot be provisioned (exit 3)."""

import tepgba

import gba_common


def test_unknown_impi_is_refused(platform_factory):
    p = platform_factory(bsf=True)
    gba_common.add_subscriber(p)
    status, headers, _ = tepgba.ub_get(p.env["BSF_UB"], tepgba._auth(
        "999990000000001@ims.mnc999.mcc999.3gppnetwork.org", "bsf.tep.local", "/"))
    assert status == 403 and "WWW-Authenticate" not in headers
    p["bsf"].wait_log("event=refused reason=unknown_impi", 5)
    st = p.tepctl("status", "bsf", admin="bsf")
    assert (st.get("challenges"), st.get("refused")) == ("0", "1"), str(st)
    again = p.tepctl("gba", "add", gba_common.IMPI, admin="bsf")
    assert again.rc == 3, str(again)
