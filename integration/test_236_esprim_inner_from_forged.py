"""236: an ESPrim inner request (TS-0003 V3.x 8.4.2, 7.1.2: the originator is the one the
ESPrim key authenticates) cannot name another originator in any spelling: another CSE's
AE (`/mn1/C...`), this CSE's own CSE-ID, the admin originator, an SP-absolute ID of
another AE: each 4116 (TS-0004 Table 6.6.3.6-1 "impersonation"), none acts. The key
owner's own SP-relative and SP-absolute spellings are that owner (2000)."""

from harness import created_path
from test_204_esprim_jose_refusals import Originator


def test_inner_from_naming_someone_else_is_refused(platform):
    dev = platform.enrolled_device("py236")
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    o = Originator(platform, dev)
    try:
        cnt = created_path(r, "%s/%s" % (o.cse, o.ae))
        cse_id = platform.env["CSE_ID"]
        sp = "//" + platform.env.get("SP_ID", "tep.example").strip("/")
        for fr in ("/mn1/" + o.ae, cse_id, platform.env["ADMIN_ORIGINATOR"],
                   "%s%s/Cother" % (sp, cse_id), o.ae + "/x", "/" + o.ae):
            r = o.send(o.seal(o.inner(to=cnt, fr=fr)))
            assert r.rsc == 4116, "%s: %s" % (fr, r)
        for fr in (o.ae, "%s/%s" % (cse_id, o.ae)):
            o.new_session()
            rsp = o.open(o.send(o.seal(o.inner(to=cnt, fr=fr))))
            assert rsp["rsc"] == 2000, (fr, rsp)
    finally:
        o.client.close()
