"""206: e2eSecInfo on <remoteCSE> (TS-0003 8.4.2 A "Receiver indicates support for
ESPrim": the Receiver's <remoteCSE> on the CSEs registered with it, or it registered with,
carries e2eSecInfo; TS-0004 6.3.5.52, 7.4.4). An MN-CSE registering to the IN-CSE sends
its own e2eSecInfo (esf [23], its shared receiver rand object) in the <remoteCSE> it
creates there, and copies the IN-CSE's from its CSEBase into its <remoteCSE> of the
registrar: an Originator on either side finds the other's ESPrim support and shared rand
object where 8.4.2 B.2a looks for it."""

from harness import gateway_platform
from onem2m_client import OneM2MClient

TY_CSR = 16


def test_remote_cses_carry_e2e_sec_info():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as in_admin, \
                OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin") as mn_admin:
            mn_base = mn_admin.retrieve("mn1")
            in_base = in_admin.retrieve(p.env["CSE_NAME"])
            assert mn_base.rsc == 2000 and in_base.rsc == 2000, (str(mn_base), str(in_base))
            mn_esi = mn_base.json["m2m:cb"]["esi"]
            in_esi = in_base.json["m2m:cb"]["esi"]
            assert mn_esi["esf"] == [23] and in_esi["esf"] == [23]
            assert mn_esi["esro"]["esri"] != in_esi["esro"]["esri"]

            at_in = in_admin.retrieve(p.env["CSE_NAME"] + "/mn1")
            assert at_in.rsc == 2000, str(at_in)
            assert at_in.json["m2m:csr"]["esi"] == mn_esi, at_in.json
            at_mn = mn_admin.retrieve("mn1/" + p.env["CSE_ID"].lstrip("/"))
            assert at_mn.rsc == 2000, str(at_mn)
            assert at_mn.json["m2m:csr"]["esi"] == in_esi, at_mn.json
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)
