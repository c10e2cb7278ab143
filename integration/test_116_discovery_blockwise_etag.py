"""116: a discovery answer larger than one CoAP block reads back whole, in both decision
modes. RFC 7959 2.4 (the blocks of one representation carry the same ETag; a client
fetching a later block re-issues the request, and aiocoap refuses a block whose ETag
differs with ResourceChanged), TS-0008 V3.9.0 5.2.3 and 6.5 (Block2 for payloads larger
than one message), TS-0004 V3.32 7.3.3.x (fu=1 discovery answers m2m:uril)."""

import pytest

from onem2m_client import TY_CNT

CSE_AUTHZ_MODES = ["remote", "local"]
CHILDREN = 40  # about 40 x 40-byte references: past tep-cse's 1024-byte Block2 size


@pytest.fixture(scope="module")
def tree(cse):
    c, path, _ = cse.ae("Cdblk01", "dblk01")
    names = ["container-with-a-longish-name-%02d" % i for i in range(CHILDREN)]
    for n in names:
        r = c.create(path, TY_CNT, {"rn": n})
        assert r.rsc == 2001, str(r)
    return c, path, names


def test_discovery_over_several_blocks_reads_back_whole(tree):
    c, path, names = tree
    r = c.retrieve(path, query={"fu": 1, "ty": TY_CNT})
    assert r.rsc == 2000, str(r)
    assert len(r.payload) > 1024, len(r.payload)  # the answer did need several blocks
    uril = r.json["m2m:uril"]
    assert sorted(u.rstrip("/").split("/")[-1] for u in uril) == names, uril


def test_twice_in_a_row_reads_back_the_same(tree):
    """The second discovery starts a new transfer; it too reads back whole."""
    c, path, names = tree
    first = c.retrieve(path, query={"fu": 1, "ty": TY_CNT})
    second = c.retrieve(path, query={"fu": 1, "ty": TY_CNT})
    assert first.rsc == second.rsc == 2000, (str(first), str(second))
    assert sorted(first.json["m2m:uril"]) == sorted(second.json["m2m:uril"])
