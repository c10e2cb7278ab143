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
