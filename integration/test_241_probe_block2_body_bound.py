"""241: cse-probe (the oneM2M CoAP client of the tests and of manual checks) bounds an
answer as tep-cse's own client does (integration 237; RFC 7959 2.4 Block2, 4 Size2;
patches/README.md item 9). Its context had no max_body, so a server it was pointed at
could announce Size2 = 4 GiB or send blocks without end and cse-probe asked for them all,
growing without bound. Now it stops at 65536 bytes (tep-cse's default [cse] max_body):
"error=answer_too_large", exit 2, having asked for at most 64 blocks of 1024."""

import os

import pytest

import harness
from test_237_notify_block2_body_bound import EndlessBlock2Target

MAX_BODY, BLOCK = 65536, 1024


@pytest.mark.parametrize("size2", [None, 0xFFFFFFFF], ids=["no-size2", "size2-4gib"])
def test_probe_stops_at_max_body(size2):
    target = EndlessBlock2Target(size2=size2)
    try:
        r = harness.run_tool([os.path.join(harness.BUILD, "cse-node", "cse-probe"),
                              "127.0.0.1", str(target.port), "GET", "notify"], timeout=20)
        asked = list(target.asked)
    finally:
        target.close()
    assert r.rc == 2 and "error=answer_too_large max_body=65536" in r.out, str(r)
    assert asked == list(range(len(asked))) and len(asked) <= MAX_BODY // BLOCK, asked
    if size2 is not None:
        assert asked == [0], asked
