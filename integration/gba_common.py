"""What the GBA scenarios (integration 190-199) share: a subscriber provisioned with
`tepctl gba add` and the software USIM of tepgba.py holding the same K and OPc."""

import tepgba

IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org"


def add_subscriber(platform, impi=IMPI, sqn=0):
    """tepctl gba add IMPI (random K, OPc); returns the device's Usim."""
    r = platform.tepctl("gba", "add", impi, "--sqn", str(sqn), admin="bsf")
    assert r.rc == 0, str(r)
    assert r.get("impi") == impi and r.get("sqn") == str(sqn), str(r)
    return tepgba.Usim(bytes.fromhex(r.get("k")), bytes.fromhex(r.get("opc")))


def table(result):
    """Rows of a `tepctl gba list|btids` table as lists of columns (header dropped)."""
    return [line.split() for line in result.out.splitlines()[1:] if line.strip()]


def gba_device(platform, name, usim, impi=IMPI):
    """A GBA enrolee at the MEF (tepctl enrolee add NAME --gba-impi IMPI) and the device's
    provisioning file: [device] the MEF, [gba] the USIM's IMPI, K, OPc and tep-bsf's Ub."""
    r = platform.tepctl("enrolee", "add", name, "--gba-impi", impi)
    assert r.rc == 0, str(r)
    dev = platform.device(name)
    with open(dev.prov, "w") as f:
        f.write("[device]\nmef_uri = %s\nmef_fqdn = %s\n[gba]\nimpi = %s\nk = %s\nopc = %s\n"
                "bsf_uri = %s\n" % (platform.env["ENROLLER_COAPS"], platform.env["MEF_FQDN"],
                                     impi, usim.k.hex(), usim.opc.hex(), platform.env["BSF_UB"]))
    return dev
