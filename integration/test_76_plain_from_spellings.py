"""76: an enrolled AE-ID over plain CoAP needs its security association whatever its
spelling, and Local-Token-IDs cannot be guessed (issue 10, attack).
TS-0003 V3.18 7.2.1 (impersonation prevention: an originator that has a security
association must use it, 4107 SECURITY_ASSOCIATION_REQUIRED), TS-0001 V3.36 7.2 (an
AE-ID may be written CSE-relative "Cabc", SP-relative "/<CSE-ID>/Cabc" or absolute
"//<SP-ID>/<CSE-ID>/Cabc": one originator), TS-0003 7.3.2.6 / TS-0004 8.2.2 (the
Local-Token-ID a hosting CSE assigns to a token, used later in ltids).

The attack: device01 presents a token over its CoAPS session and gets a Local-Token-ID.
A plain-CoAP client sends From "/tep-cse/Cdevice01" (or the absolute form), which used
to pass the 4107 check (only the bare "Cdevice01" was looked up) while the token cache
counted it as device01, and guesses the Local-Token-ID ("lt1", "lt2", ...): it read what
device01's token grants. Now every spelling gets 4107, and a Local-Token-ID is "lt" and
128 random bits (32 hex digits)."""

import re

from onem2m_client import OneM2MClient
from test_41_dynauth_tokens import _setup, dyn  # noqa: F401 (the fixture)


def test_every_spelling_of_an_enrolled_ae_id_needs_its_sa(dyn):  # noqa: F811
    d = dyn()
    _, reader, cnt = _setup(d)
    code, ans = d.ask_token(reader, ["/" + cnt])
    assert code == "2.01", ans
    r = d.read(reader, cnt, query="tids=" + ans["tkid"])
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    lti, tkid = r.get("ati").split(":", 1)
    assert re.fullmatch(r"lt[0-9a-f]{32}", lti), lti

    cse_id = d.p.env["CSE_ID"]
    spellings = ["Cdevice01", cse_id + "/Cdevice01", "//tep.local%s/Cdevice01" % cse_id,
                 "//other.sp%s/Cdevice01" % cse_id]
    with OneM2MClient("127.0.0.1", d.p.ports["cse_coap"]) as c:
        for fr in spellings:
            for q in (["ltids=" + lti], ["ltids=lt1"], None):
                r = c.retrieve(cnt, fr=fr, query=q)
                assert (r.rsc, r.code) == (4107, "4.03"), "%s %s: %s" % (fr, q, r)
                assert r.dbg == "SECURITY_ASSOCIATION_REQUIRED", str(r)
        # another CSE's AE of that name is not device01: it is simply not allowed
        r = c.retrieve(cnt, fr="/other-cse/Cdevice01", query=["ltids=" + lti])
        assert r.rsc == 4103, str(r)

    # device01 itself, over its SA, still reads with its Local-Token-ID
    r = d.read(reader, cnt, query="ltids=" + lti)
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    assert "reason=enrolled_originator" in d.p["cse"].log()
