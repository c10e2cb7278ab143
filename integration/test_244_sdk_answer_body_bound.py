"""244: libtepae bounds an answer it reassembles from Block2 blocks (RFC 7959 2.4, 4;
patches/README.md item 9). `tep-device esprim ... --plain URI` (TS-0003 8.4: ESPrim
protects the primitive end to end, so the transport may be plain CoAP) sends its
requests in the clear: whoever answers there (the server named, or anyone on the path)
could announce Size2 = 4 GiB or send blocks without end, and the SDK asked for them all
and grew without bound (its context had no max_body). Now a connection stops at
TAE_ANSWER_MAX (1 MiB): the request fails at once with TEP_ERANGE, after at most 1024
blocks of 1024 bytes (none past the first when Size2 announces more)."""

import pytest

from test_237_notify_block2_body_bound import BLOCK, EndlessBlock2Target

ANSWER_MAX = 1024 * 1024  # ae-sdk/tae_client.h TAE_ANSWER_MAX


@pytest.fixture(scope="module")
def device(request):
    from harness import Platform
    p = Platform()
    p.start()
    try:
        yield p, p.enrolled_device("sdk244")
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


@pytest.mark.parametrize("size2", [None, 0xFFFFFFFF], ids=["no-size2", "size2-4gib"])
def test_endless_answer_ends_the_request(device, size2):
    p, dev = device
    target = EndlessBlock2Target(size2=size2)
    try:
        r = dev.run("esprim", "retrieve", p.env["CSE_NAME"], "--plain",
                    "coap://127.0.0.1:%d" % target.port)
        asked = list(target.asked)
    finally:
        target.close()
    assert r.rc != 0 and "out of range" in (r.out + r.err).lower(), str(r)
    assert asked == list(range(len(asked))) and len(asked) <= ANSWER_MAX // BLOCK, len(asked)
    if size2 is not None:
        assert asked == [0], asked
