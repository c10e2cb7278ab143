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
