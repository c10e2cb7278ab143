"""130: a request body is bounded while it is reassembled, not after. RFC 7959 2.9.3 and
RFC 7252 5.9.2.9: a Block1 transfer whose Size1 announces more than tep-cse's
`[cse] max_body` (default 65536), or one of whose blocks ends beyond it, is answered
4.13 Request Entity Too Large with Size1 = the bound, and its partial body is freed
(patches/README.md item 8; stock libcoap 4.3.1 reassembled up to about 1 GB, and
allocated a body of the announced Size1 at the first block). A session may have
`block1_per_session` (4) transfers in progress and tep-cse `block1_total` (256) in all;
one more is 5.03. Meanwhile other clients are served, and a body under the bound is
still a Block1 CREATE of a contentInstance (TS-0008 5.2.3).

Raw datagrams from coapmsg.py (an encoder that is not libcoap's), one UDP socket per
client: tep-cse keeps a session per source address and port."""

import socket

import pytest

import coapmsg as cm
from onem2m_client import TY_CIN, TY_CNT

OPT_BLOCK1, OPT_SIZE1, OPT_RTAG = 27, 60, 292
MAX_BODY = 65536    # [cse] max_body default
PER_SESSION = 4     # [cse] block1_per_session default
TOTAL = 256         # [cse] block1_total default
SZX = 6             # 1024-byte blocks
BLOCK = 1024


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


class Uploader:
    """One client (UDP socket, so one tep-cse session) sending the blocks of a oneM2M
    CREATE of a contentInstance under path as originator."""

    def __init__(self, port, path, originator):
        self.port, self.path, self.frm = port, path, originator
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(5.0)

    def close(self):
        self.s.close()

    def send(self, num, more, payload, size1=None, rtag=None):
        extra = [(OPT_BLOCK1, cm.uint_bytes((num << 4) | (8 if more else 0) | SZX))]
        if size1 is not None:
            extra.append((OPT_SIZE1, cm.uint_bytes(size1)))
        if rtag is not None:
            extra.append((OPT_RTAG, rtag))
        dgram = cm.onem2m_request(cm.POST, self.path, self.frm, body=payload, ty=TY_CIN,
                                  rqi="blk", extra=extra)
        self.s.sendto(dgram, ("127.0.0.1", self.port))
        m = cm.decode(self.s.recv(65535))
        if m.mtype == cm.ACK and m.code == 0:  # parked: the separate response follows
            m = cm.decode(self.s.recv(65535))
            if m.mtype == cm.CON:
                self.s.sendto(cm.encode(0, mtype=cm.ACK, mid=m.mid, token=b""),
                              ("127.0.0.1", self.port))
        return m

    def upload(self, body, size1=None):
        """Sends body block by block until an answer other than 2.31 Continue; returns
        (index of the block answered so, the answer)."""
        n = (len(body) + BLOCK - 1) // BLOCK
        for i in range(n):
            m = self.send(i, i < n - 1, body[i * BLOCK:(i + 1) * BLOCK],
                          size1=size1 if i == 0 else None)
            if m.code_str != "2.31":
                return i, m
        return n, m


def cin_body(n):
    head, tail = b'{"m2m:cin":{"con":"', b'"}}'
    return head + b"a" * (n - len(head) - len(tail)) + tail


def size1(m):
    v = m.opt(OPT_SIZE1)
    return None if v is None else int.from_bytes(v, "big")


@pytest.fixture(scope="module")
def cnt(cse):
    c, path, r = cse.ae("Cblk130", "blk130")
    cnt = c.create(path, TY_CNT, {"rn": "up", "mbs": 10 * MAX_BODY})
    assert cnt.rsc == 2001, str(cnt)
    return c, cnt.location


def served(cse):
    r = cse.admin.retrieve(cse.name)
    assert r.rsc == 2000, str(r)


def test_body_under_the_bound_is_a_block1_create(cse, cnt):
    c, path = cnt
    up = Uploader(cse.port, path, c.originator)
    try:
        body = cin_body(60000)
        i, m = up.upload(body, size1=len(body))
        assert (i, m.code_str, m.rsc) == (58, "2.01", 2001), (i, m.code_str, m.payload[:200])
        got = c.retrieve(path + "/la")
        assert got.resource(TY_CIN)["cs"] == 60000 - len(cin_body(0)), str(got)
    finally:
        up.close()


def test_size1_over_the_bound_is_refused_at_the_first_block(cse, cnt):
    c, path = cnt
    pid = cse.platform["cse"].proc.pid
    base = rss_kb(pid)
    ups = [Uploader(cse.port, path, c.originator) for _ in range(20)]
    try:
        for up in ups:  # each announces 1 GB: stock libcoap allocated it at once
            m = up.send(0, True, b"a" * BLOCK, size1=1 << 30)
            assert (m.code_str, size1(m), m.payload) == ("4.13", MAX_BODY, b"body too large")
            # nothing was kept: the next block of that transfer continues nothing
            m = up.send(1, True, b"a" * BLOCK)
            assert m.code_str.startswith("4."), (m.code_str, m.payload)
        served(cse)
        assert rss_kb(pid) - base < 2048, (base, rss_kb(pid))
    finally:
        for up in ups:
            up.close()


def test_blocks_past_the_bound_are_refused_when_they_pass_it(cse, cnt):
    """Sixteen clients each send a 1 MB body, without Size1 or with a Size1 of 1024 (an
    estimate, RFC 7959 4; stock libcoap grew the body past it): every one is refused at
    the block that passes 64 KiB (block 64), while another client is served; tep-cse's
    RSS grows by much less than the 16 MB stock libcoap held."""
    c, path = cnt
    pid = cse.platform["cse"].proc.pid
    base = rss_kb(pid)
    ups = [Uploader(cse.port, path, c.originator) for _ in range(16)]
    try:
        for k, up in enumerate(ups):
            i, m = up.upload(cin_body(1 << 20), size1=BLOCK if k % 2 else None)
            assert (i, m.code_str, size1(m)) == (MAX_BODY // BLOCK, "4.13", MAX_BODY), m.payload
            served(cse)
        grown = rss_kb(pid) - base
        assert grown < 4096, grown
    finally:
        for up in ups:
            up.close()
    assert cse.platform["cse"].alive()


def test_body_without_size1_is_reassembled(cse, cnt):
    """Size1 is optional (RFC 7959 4): stock libcoap 4.3.1 then handed each block to
    tep-cse as if it were the body (4.00); the body is now as long as its blocks go."""
    c, path = cnt
    up = Uploader(cse.port, path, c.originator)
    try:
        i, m = up.upload(cin_body(5000))
        assert (i, m.code_str, m.rsc) == (4, "2.01", 2001), (i, m.code_str, m.payload[:200])
        got = c.retrieve(path + "/la")
        assert got.resource(TY_CIN)["cs"] == 5000 - len(cin_body(0)), str(got)
    finally:
        up.close()


def test_transfers_per_session_are_bounded(cse, cnt):
    c, path = cnt
    up = Uploader(cse.port, path, c.originator)
    try:
        for k in range(PER_SESSION):
            m = up.send(0, True, b"a" * BLOCK, rtag=bytes([k + 1]))
            assert m.code_str == "2.31", m.code_str
        m = up.send(0, True, b"a" * BLOCK, rtag=b"\x09")
        assert (m.code_str, m.payload) == ("5.03", b"too many block transfers")
        # a request in one block still is one
        m = up.send(0, False, cin_body(500), rtag=b"\x0a")
        assert (m.code_str, m.rsc) == ("2.01", 2001)
        served(cse)
    finally:
        up.close()


def test_transfers_in_total_are_bounded(cse, cnt):
    """Last Block1 test in this module: the transfers it leaves open take tep-cse's 256 slots
    (they expire after libcoap's MAX_TRANSMIT_WAIT, about 93 s)."""
    c, path = cnt
    ups = [Uploader(cse.port, path, c.originator) for _ in range(TOTAL // PER_SESSION + 2)]
    answers = []
    try:
        for up in ups:
            for k in range(PER_SESSION):
                answers.append(up.send(0, True, b"a" * BLOCK, rtag=bytes([k + 1])).code_str)
        # the test before left PER_SESSION transfers open
        assert answers.count("2.31") == TOTAL - PER_SESSION, answers
        assert set(answers) == {"2.31", "5.03"}
        served(cse)
    finally:
        for up in ups:
            up.close()


@pytest.mark.parametrize("key,value", [("MAX_BODY", "100"), ("MAX_BODY", "16777217"),
                                       ("BLOCK1_PER_SESSION", "0"), ("BLOCK1_TOTAL", "0")])
def test_out_of_range_bounds_are_configuration_errors(cse, key, value):
    import os
    import subprocess

    import harness
    import tepenv

    env = dict(os.environ, **{"TEP_CSE_" + key: value})
    p = subprocess.run([harness.binary("cse"), "--config",
                        tepenv.config_path(cse.platform.dir, "cse"), "--check-config"],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 1 and "cse.%s: %s is out of range" % (key.lower(), value) \
        in p.stderr, p.stderr
