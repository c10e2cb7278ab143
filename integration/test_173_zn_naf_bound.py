"""173: the NAF key over Zn only to the authenticated NAF (3GPP TS 33.220 4.5.3: the BSF
gives Ks_NAF to the NAF named in NAF_Id, after authenticating it; TS-0003 8.3.2.3 with the
MEF as the NAF). With tep-bsf's zn socket on tcp:// + CURVE and `[bus] peers =
mef.tep.local=<the enroller's key>`, a GBA device enrols end to end (the enroller, the
MEF, got its Ks_NAF over Zn), while a bus client whose key is trusted but bound to no NAF,
naming the MEF's FQDN for the same B-TID, gets nothing; with the enroller's own key the
same request is answered (docs/internals.md "Authenticated credential hand-off")."""

import os
import re

import gba_common
import harness

ZN_HOST = "127.0.0.5"


def curve_zn(p, name, zn, key_name, peers=None):
    """name's config with [bus] zn = zn and CURVE on (its own key pair as key_name)."""
    path = harness.tepenv.config_path(p.dir, name)
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^zn = .*$", "zn = " + zn, text)
    text += "curve = true\ncurve_dir = %s\ncurve_key = %s\ncurve_name = %s\n" % (
        os.path.join(p.dir, "bus-keys"), os.path.join(p.env["DATA_DIR"], name, "bus-curve.key"),
        key_name)
    if peers:
        text += "peers = %s\n" % peers
    with open(path, "w") as f:
        f.write(text)


def test_zn_answers_only_the_bound_naf(request):
    p = harness.Platform(bsf=True)
    try:
        zn = "tcp://%s:%d" % (ZN_HOST, harness.free_tcp_port())
        curve_zn(p, "bsf", zn, ZN_HOST, peers="%s=naf-mef" % p.env["MEF_FQDN"])
        curve_zn(p, "enroller", zn, "naf-mef")
        p.start()
        usim = gba_common.add_subscriber(p)
        dev = gba_common.gba_device(p, "gbadev173", usim)
        r = dev.run("enrol")                        # the MEF got Ks_NAF over Zn
        assert r.rc == 0, "%s\n%s" % (r, p.logs())
        btid = dev.state_values()["ke_id"]

        keys = os.path.join(p.dir, "bus-keys")
        ini = os.path.join(p.dir, "forger.ini")
        with open(ini, "w") as f:
            f.write("[bus]\ncurve = true\ncurve_dir = %s\ncurve_key = %s\ncurve_name = forger\n"
                    % (keys, os.path.join(p.dir, "forger.key")))
        probe = lambda cfg: harness.run_tool([harness.binary("tepctl"), "--config", cfg,
                                              "bus", "zn", zn, btid, p.env["MEF_FQDN"]])
        r = probe(ini)
        assert r.rc == 3 and r.out == "", str(r)
        assert os.path.exists(os.path.join(keys, "forger.pub"))   # trusted on the bus
        p["bsf"].wait_log(r'event=zn_refused reason=not_the_authenticated_naf '
                          r'naf="%s" bound=none' % re.escape(p.env["MEF_FQDN"]), 5)
        with open(ini, "w") as f:                   # the enroller's own key pair
            f.write("[bus]\ncurve = true\ncurve_dir = %s\ncurve_key = %s\ncurve_name = naf-mef\n"
                    % (keys, os.path.join(p.env["DATA_DIR"], "enroller", "bus-curve.key")))
        r = probe(ini)
        assert r.rc == 0 and r.get("IMPI") == gba_common.IMPI, str(r)
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=getattr(request.node, "tep_failed", False))
