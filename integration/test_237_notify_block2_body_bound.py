"""237: an answer to tep-cse acting as a CoAP client is bounded while it is reassembled.
Any AE may create a subscription whose nu is its own server (TS-0001 10.2.10, TS-0004
7.3.8.2.1: tep-cse sends the verification request, a NOTIFY, to each nu); that server
answers with Block2 (RFC 7959 2.4) and may announce any Size2 (RFC 7959 4) and send
blocks without end. Stock libcoap 4.3.1 reassembled such an answer with no bound and
sized its buffer from Size2 alone; tep's patch (patches/README.md item 9) applies tep-cse's
`[cse] max_body` (default 65536) to it: a Size2 above the bound is refused at the first
block, and the transfer stops at the first block that ends beyond it. The transfer is
abandoned, the verification fails (5204 SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
mapped 5.00, TS-0004 Table 6.6.3.3-1, TS-0008 Table 6.2.4-1), nothing is created, and
tep-cse keeps serving.

The notification target is a raw UDP responder (coapmsg.py, not libcoap) that answers
every request piggy-backed with 2.04, RSC 2000 and the next Block2 block the request asks
for, always with More = 1."""

import socket
import threading

import pytest

import coapmsg as cm
from dtlsflood import rss_kb
from harness import free_udp_ports
from onem2m_client import TY_CNT, TY_SUB

OPT_BLOCK2, OPT_SIZE2 = 23, 28
MAX_BODY = 65536  # [cse] max_body default
SZX, BLOCK = 6, 1024
NET_CREATE_CHILD = 3


class EndlessBlock2Target:
    """Answers each request with the Block2 block it asks for (block 0 when it asks for
    none), More = 1, RSC 2000 and Size2 = size2 (None: no Size2). `asked` lists the
    block numbers asked for, in order."""

    def __init__(self, size2):
        self.size2 = size2
        self.asked = []
        self.log = []
        self.port = free_udp_ports(1)[0]
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", self.port))
        self.s.settimeout(0.2)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    @property
    def uri(self):
        return "coap://127.0.0.1:%d/notify" % self.port

    def _run(self):
        while not self.stop.is_set():
            try:
                data, addr = self.s.recvfrom(65535)
                m = cm.decode(data)
            except (socket.timeout, ValueError):
                continue
            if m.mtype != cm.CON or m.code == 0:
                continue
            b2 = m.opt(OPT_BLOCK2)
            num = int.from_bytes(b2, "big") >> 4 if b2 else 0
            self.asked.append(num)
            self.log.append((m.mid, m.token.hex(), b2, m.code, [n for n, _ in m.options]))
            opts = [(cm.OPT_RSC, cm.uint_bytes(2000)),
                    (OPT_BLOCK2, cm.uint_bytes((num << 4) | 8 | SZX)),
                    (cm.OPT_CONTENT_FORMAT, cm.uint_bytes(50))]
            if self.size2 is not None:
                opts.append((OPT_SIZE2, cm.uint_bytes(self.size2)))
            self.s.sendto(cm.encode(0x44, opts, b"x" * BLOCK, mtype=cm.ACK, mid=m.mid,
                                    token=m.token), addr)

    def close(self):
        self.stop.set()
        self.t.join()
        self.s.close()


@pytest.fixture
def owner(cse):
    port = free_udp_ports(1)[0]
    c, path, _ = cse.ae("Cblk2%d" % port, "blk2-ae-%d" % port)
    return c, c.create(path, TY_CNT, {"rn": "watched"}).location


def _subscribe(c, cnt, target, rn):
    return c.create(cnt, TY_SUB, {"rn": rn, "nu": [target.uri],
                                  "enc": {"net": [NET_CREATE_CHILD]}, "nct": 1})


def test_size2_above_max_body_is_refused_at_the_first_block(cse, owner):
    """Size2 = 4 GiB - 1 (the largest a 4-byte Size2 holds): tep-cse asks for no second block, allocates nothing for it, and the
    verification fails at once."""
    c, cnt = owner
    pid = cse.platform["cse"].proc.pid
    base = rss_kb(pid)
    target = EndlessBlock2Target(size2=0xFFFFFFFF)
    try:
        r = _subscribe(c, cnt, target, "huge-size2")
        assert (r.rsc, r.code) == (5204, "5.00"), str(r)
        assert rss_kb(pid) - base < 8192, (base, rss_kb(pid), len(target.asked))
        assert target.asked == [0], target.log
    finally:
        target.close()
    assert c.retrieve(cnt + "/huge-size2").rsc == 4004
    assert c.retrieve(cnt).rsc == 2000  # tep-cse keeps serving


@pytest.mark.parametrize("size2", [None, MAX_BODY], ids=["no-size2", "size2-at-bound"])
def test_endless_blocks_stop_at_max_body(cse, owner, size2):
    """Blocks without end (no Size2, or one that claims the bound and lies): tep-cse
    stops at the first block that ends beyond max_body, so at most max_body / 1024
    blocks are asked for; the verification fails and nothing is created."""
    c, cnt = owner
    target = EndlessBlock2Target(size2=size2)
    rn = "endless-%s" % size2
    try:
        r = _subscribe(c, cnt, target, rn)
        assert (r.rsc, r.code) == (5204, "5.00"), str(r)
        asked = list(target.asked)
        assert asked == list(range(len(asked))), asked
        assert len(asked) <= MAX_BODY // BLOCK, len(asked)
    finally:
        target.close()
    assert c.retrieve(cnt + "/" + rn).rsc == 4004
    assert c.retrieve(cnt).rsc == 2000  # tep-cse keeps serving
