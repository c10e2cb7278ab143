"""Self-check of a test helper, not a tep test: the Python key derivations the scenarios use (tepkeys.py) agree with the known
answers pinned for tep's C code (common/test_kdf.c, docs/keys.md), so scenario 07 tests
the daemons against an independent implementation that is itself checked.
TS-0003 10.3 (Kpsa, Km from Ke)."""

import tepkeys

KE = bytes(range(32))


def test_kpsa_and_kpsa_id():
    kpsa = tepkeys.kpsa(KE, "/tep-cse")
    assert kpsa.hex() == "43385c78eb238860e59a16382e1e011a3bc9937113969f01a2325255d26a817c"
    assert tepkeys.kpsa_id(kpsa, "mef.tep.local") == \
        "a3c17bd1c9c8dabf840873d1ffe1f1b9@mef.tep.local"


def test_km():
    assert tepkeys.km(KE, "maf.tep.local").hex() == \
        "75da875b90ca316aa52329d7e51ecd37d3ea933c6bd825b2b7cca2cb164238e6"


def test_km_id():
    km = tepkeys.km(KE, "maf.tep.local")
    assert tepkeys.km_id(km, "maf.tep.local") == "ab0627e2b159b194f290447a0cce2d4e@maf.tep.local"


def test_kuc_and_kuc_id():
    """docs/keys.md item 7 and "Usage-constrained keys registered at the MEF"."""
    assert tepkeys.kuc(KE, 22, "/tep-cse").hex() == \
        "5c56fc023d0ba21b86ea9c4b73d80ebab65ed0a7c82a53e24002a64fb37f4b53"
    assert tepkeys.kuc(KE, 22, "/mn1").hex() == \
        "6e012ba7ba9fa1da1fd49826dc5555b8433438fa040d6a817aa9722bb853923a"
    assert tepkeys.kuc_id(tepkeys.kuc(KE, 22, "/tep-cse"), "mef.tep.local") == \
        "cc16e30d63c989e7f7d44fa81606ef18@mef.tep.local"


def test_kuc_as_end_to_end_pair_key():
    """docs/keys.md item 22 (the same values as common/test_e2e.c test_kuc_pair_chain)."""
    kuc = tepkeys.kuc(KE, 24, "Capp01")
    assert tepkeys.kuc_id(kuc, "mef.tep.local") == \
        "453d569ba3f26b3473d06b3e0390eb71@mef.tep.local"
    assert tepkeys.e2e_master(kuc, "Capp01").hex() == \
        "c6b6d4bc8090280a4647cf0624984693221f92122ad565562804adb587d8fb3f"
    assert tepkeys.e2e_keys(kuc, "Capp01")["att_conf"].hex() == \
        "6f9f6749c3c60dab50db4faebecfa49998c5f74f0ff96bdfc63f6a078887203b"
    assert tepkeys.e2e_keys(tepkeys.kuc(KE, 25, "Capp01"), "Capp01")["att_auth"].hex() == \
        "58403deac56f37f5a591ce19b38c152231267881a81d421da089c3b97e8f0a2c"
    assert tepkeys.e2e_keys(tepkeys.kuc(KE, 23, "/tep-cse"), "/tep-cse")["msg_conf"].hex() == \
        "0333455639b117fff883040c2f62da8591a9822029f0764c98516c8dc790c2ca"
