"""308: large payloads in both directions with block-wise transfer.
TS-0008 V3.9.0 5.2.3 and 6.5 (Block1/Block2 of RFC 7959 for payloads larger than one
message), driven by aiocoap's own block-wise implementation."""

import pytest

from onem2m_client import TY_CIN, TY_CNT

BIG = 5000  # bytes of con: five 1024-byte blocks at least


@pytest.fixture(scope="module")
def cnt(cse):
    c, path, _ = cse.ae("Cblk01", "blk01")
    return c, c.create(path, TY_CNT, {"rn": "big"}).location


def _value(n):
    return "".join(chr(ord("a") + i % 26) for i in range(n))


def test_large_create_block1_and_retrieve_block2(cnt):
    c, path = cnt
    value = _value(BIG)
    r = c.create(path, TY_CIN, {"con": value})
    assert r.rsc == 2001, str(r)
    got = c.retrieve(r.location)
    assert got.rsc == 2000 and len(got.payload) > 1024, str(got)
    cin = got.resource(TY_CIN)
    assert cin["con"] == value and cin["cs"] == BIG


def test_large_body_reaches_the_cse_whole(cnt):
    """Block1: the CSE sees the reassembled body (its cs counts every byte)."""
    c, path = cnt
    r = c.create(path, TY_CIN, {"con": _value(3 * 1024 + 7)})
    assert r.rsc == 2001 and r.resource(TY_CIN)["cs"] == 3 * 1024 + 7, str(r)
    assert c.retrieve(path).resource(TY_CNT)["cbs"] >= 3 * 1024 + 7
