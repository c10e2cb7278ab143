"""190: GBA bootstrapping over Ub against the real tep-bsf (3GPP TS 33.220 4.5.2, HTTP
Digest AKA of RFC 3310 / TS 24.109 4.4; TS-0003 8.3.2.3 "Bootstrap Enrolment Handshake").
The device is an independent Python UE (tepgba.py: Milenage on the `cryptography` AES,
its own Digest code, urllib): it names its IMPI, checks the network's AUTN with its
USIM, answers with RES as the Digest password and receives a B-TID with the key lifetime.
The operator sees the B-TID, live, with that lifetime (`tepctl gba btids`), and the
subscriber's SQN advanced by the one challenge (`tepctl gba list`); K never shows."""

import base64
import calendar
import time

import gba_common
import tepgba


def test_device_bootstraps_and_operator_sees_the_btid(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    t0 = int(time.time())
    out = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert out["status"] == 200, (out, p["bsf"].tail())
    # B-TID = base64(RAND)@BSF server name (TS 33.220 4.5.2)
    assert out["btid"] == base64.b64encode(out["rand"]).decode() + "@bsf.tep.local", out
    life = calendar.timegm(time.strptime(out["lifetime"], "%Y-%m-%dT%H:%M:%SZ"))
    assert t0 + 3600 - 5 <= life <= int(time.time()) + 3600, out
    assert usim.sqn_ms == 1  # the first challenge carried SQN_HE + 1

    rows = gba_common.table(p.tepctl("gba", "btids", admin="bsf"))
    assert [(r[0], r[1], r[-1]) for r in rows] == [(out["btid"], gba_common.IMPI, "live")], rows
    assert rows[0][3] == out["lifetime"], rows
    listed = p.tepctl("gba", "list", admin="bsf")
    assert gba_common.table(listed) and gba_common.table(listed)[0][:3] == \
        [gba_common.IMPI, "1", "0"], listed.out
    assert usim.k.hex() not in listed.out and usim.opc.hex() not in listed.out

    st = p.tepctl("status", "bsf", admin="bsf")
    assert (st.get("bootstraps"), st.get("challenges"), st.get("refused")) == ("1", "1", "0"), \
        str(st)
    # a second bootstrapping: a new RAND, a new B-TID, SQN one further
    again = tepgba.bootstrap(p.env["BSF_UB"], gba_common.IMPI, usim)
    assert again["status"] == 200 and again["btid"] != out["btid"], again
    assert usim.sqn_ms == 2
