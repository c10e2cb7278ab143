"""86: a DTLS handshake flood against tep-enroller (the MEF's bootstrap endpoint, TS-0003
8.3.2.1 DTLS-PSK with Kpm and SNI) does not lock enrolees out (issue 18; RFC 6347 4.2.1).
Thousands of clients from 200 bound 127.10.x.y addresses send the MEF's server_name,
answer the HelloVerifyRequest and go silent; meanwhile a provisioned device runs the
bootstrap (a fresh handshake each time) and must enrol within 5 s every time. As
scenario 85: bounded, shown in tepctl status and a rate-limited event=handshake_flood
line, and gone after the flood with the memory back near its baseline."""

import dtlsflood


def test_half_open_flood_enroller(platform):
    dev = platform.add_enrolee("device01")
    port = int(platform.env["ENROLLER_COAPS"].rsplit(":", 1)[1])

    def try_once():
        r = dev.run("--timeout", "5000", "enrol", timeout=15)
        return r.rc == 0, str(r)

    ok, detail = try_once()
    assert ok, detail
    dtlsflood.run_flood_scenario(platform, "enroller", port, try_once,
                                 sni=platform.env["MEF_FQDN"])
