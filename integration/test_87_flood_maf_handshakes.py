"""87: a DTLS handshake flood against tep-authz's MAF endpoint (the MAF Handshake, TS-0003
8.8.2, DTLS-PSK with KmID/Km) does not lock MAF clients out (issue 18; RFC 6347 4.2.1).
Thousands of clients from 200 bound 127.10.x.y addresses answer the HelloVerifyRequest
and go silent; meanwhile an enrolled device makes the MAF Handshake and a MAF Key
Registration for tep-cse (libtepae through ctypes) and must be answered within 5 s
every time. As scenario 85: bounded, shown in tepctl status and a rate-limited
event=handshake_flood line, and gone after the flood with the memory back near its
baseline."""

import ctypes

import dtlsflood
from test_53_maf_saef import MafPlatform


def test_half_open_flood_maf(monkeypatch):
    m = MafPlatform(monkeypatch)
    try:
        h = m.enrolled("device01")
        cse_id = m.p.env["CSE_ID"]

        def try_once():
            rc, kc = m.register_key(h, cse_id)
            if rc == 0:
                m.lib.tep_kc_free(kc)
            return rc == 0, "tep_maf_register_key: %d" % rc

        ok, detail = try_once()
        assert ok, detail
        dtlsflood.run_flood_scenario(m.p, "authz", m.authz_port, try_once)
        m.lib.tep_device_free(h)
        m.p.assert_clean_stop()
    finally:
        m.p.cleanup()
