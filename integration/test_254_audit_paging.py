"""254: `tepctl audit` reads a whole audit trail, page by page (docs/internals.md
"Audit"): tep-authz answers at most 1000 records an AUDIT_QUERY, below a seq bound, and
says where the next page starts; tepctl asks until the listing is complete.

- one originator with more than a page of decisions (1600 reads): `--originator X
  --all` lists every one of them, oldest first, each seq once; the unfiltered `--all`
  lists exactly the records STATUS counts, seqs audit_oldest..audit_seq without a gap;
- `--last 1500` (two pages) is the newest 1500 of that listing, in order; so are
  `--last 1000` and `--last 1001` (a page boundary exactly and one past it);
- a tep-authz that stops answering after the first page: tepctl prints nothing of the
  trail, says so on stderr, exit 2 (a trail with a hole is never shown as whole);
- bad flags: a clear message each, exit 1, nothing listed."""

import asyncio
import os
import re
import socket
import tempfile
import threading

import pytest

import harness
from onem2m_client import GET, TY_CNT, CseSession, Response

READS = 1600
IN_FLIGHT = 16


@pytest.fixture
def session(monkeypatch, request):
    # no per-originator rate limit: the reads come as fast as tep-cse takes them
    monkeypatch.setenv("TEP_AUTHZ_DECIDE_RATE", "0")
    s = CseSession()
    yield s
    s.close(keep=getattr(request.node, "tep_failed", False))


def _reads(c, path, n):
    """n retrieves of path by c's originator, IN_FLIGHT at a time; their rsc values."""
    async def all_of_them():
        sem = asyncio.Semaphore(IN_FLIGHT)

        async def one():
            async with sem:
                msg = c.message(GET, path)
                return Response(await c.ctx.request(msg).response, None).rsc

        return await asyncio.gather(*(one() for _ in range(n)))

    return c.run(all_of_them(), timeout=120)


def _audit(s, *args):
    r = s.platform.tepctl("audit", *args, admin="authz")
    assert r.rc == 0, str(r)
    return r.out.splitlines()


def _seqs(lines):
    return [int(re.match(r"seq=(\d+) ", l).group(1)) for l in lines]


class AdminCut:
    """A relay of one ipc admin socket: the first `through` connections are piped to
    the daemon, every later one is accepted and never answered (a daemon that stops
    answering midway). tepctl opens one connection per request."""

    def __init__(self, target, through):
        self.dir = tempfile.mkdtemp(prefix="tep254-")
        self.path = os.path.join(self.dir, "admin.ipc")
        self.endpoint = "ipc://" + self.path
        self.target, self.through, self.conns = target, through, 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            if self.conns > self.through:
                self.held.append(c)  # read by nobody, answered never
                continue
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.target)
            for a, b in ((c, up), (up, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def test_whole_trail_page_by_page(session):
    s = session
    c, ae, _ = s.ae("Cpager", "pager")
    r = c.create(ae, TY_CNT, {"rn": "data"})
    assert r.rsc == 2001, str(r)
    cnt = ae + "/data"
    orig = c.originator
    before = _audit(s, "--originator", orig, "--all")
    assert 0 < len(before) < 10, before  # its registration and the container

    codes = _reads(c, cnt, READS)
    assert codes == [2000] * READS, sorted(set(codes))

    # every decision of the originator, oldest first, each seq once
    mine = _audit(s, "--originator", orig, "--all")
    assert len(mine) == len(before) + READS, (len(before), len(mine))
    assert mine[:len(before)] == before
    seqs = _seqs(mine)
    assert seqs == sorted(set(seqs)), "order or a repeat across a page"
    assert all(" originator=%s " % orig in l for l in mine)
    reads = mine[len(before):]
    assert all(" target=/%s " % cnt.lstrip("/") in l and " permit=1 " in l for l in reads), reads[:3]

    # the whole trail is what STATUS counts: audit_oldest..audit_seq, no gap, no repeat
    st = s.platform.status("authz")
    everything = _audit(s, "--all")
    assert len(everything) == int(st["audit_records"]), (len(everything), st)
    assert _seqs(everything) == list(range(int(st["audit_oldest"]), int(st["audit_seq"]) + 1))
    assert [l for l in everything if " originator=%s " % orig in l] == mine
    assert int(s.platform.status("authz")["audit_seq"]) == int(st["audit_seq"])  # quiet

    # the newest N, over one page boundary and exactly at one
    for n in (1500, 1000, 1001):
        assert _audit(s, "--originator", orig, "--last", str(n)) == mine[-n:], n
    assert _audit(s, "--last", "1500") == everything[-1500:]
    assert _audit(s, "--last", "1000000") == everything
    assert _audit(s, "--originator", orig) == mine[-20:]  # the default, as before

    # --from: one trail, read in pages too, each line naming it
    ep = s.platform.env["AUTHZ_ADMIN"]
    r = s.platform.tepctl("audit", "--originator", orig, "--all", "--from", ep, admin="authz")
    assert r.rc == 0, str(r)
    assert r.out.splitlines() == [l + " from=" + ep for l in mine]


def test_a_daemon_stopping_midway_shows_no_trail(session):
    s = session
    c, ae, _ = s.ae("Ccut", "cut")
    assert c.create(ae, TY_CNT, {"rn": "data"}).rsc == 2001
    codes = _reads(c, ae + "/data", 1100)
    assert codes == [2000] * 1100, sorted(set(codes))
    target = s.platform.env["AUTHZ_ADMIN"][len("ipc://"):]
    cut = AdminCut(target, through=1)
    try:
        r = harness_run(["--admin", cut.endpoint, "--timeout", "1000", "audit", "--all"])
        assert r.rc == 2, str(r)
        assert r.out == "", "a part of the trail was shown: %d lines" % len(r.out.splitlines())
        assert "unreachable at " + cut.endpoint in r.err, r.err
        assert "stopped after 1000 records in 1 answers: its trail is not shown" in r.err, r.err
        assert cut.conns == 2, cut.conns
        # merged: the cut trail is named, the whole one shown
        ep = s.platform.env["AUTHZ_ADMIN"]
        cut.conns = 0
        r = harness_run(["--timeout", "1000", "audit", "--originator", c.originator, "--all",
                         "--from", ep, "--from", cut.endpoint])
        assert r.rc == 2, str(r)
        assert "no trail from " + cut.endpoint in r.err, r.err
        whole = _audit(s, "--originator", c.originator, "--all")
        assert len(whole) > 1100, len(whole)
        assert r.out.splitlines() == [l + " from=" + ep for l in whole], r.out[-300:]
    finally:
        cut.close()


def harness_run(args):
    return harness.run_tool([harness.binary("tepctl")] + args)


@pytest.mark.parametrize("args,says", [
    (("--last", "0"), "--last wants a number from 1 to 1000000, not \"0\""),
    (("--last", "1000001"), "--last wants a number from 1 to 1000000, not \"1000001\""),
    (("--last", "many"), "--last wants a number from 1 to 1000000, not \"many\""),
    (("--last", "-3"), "--last wants a number from 1 to 1000000, not \"-3\""),
    (("--all", "--last", "5"), "--all or --last N, not both"),
    (("--originator", ""), "--originator wants an originator ID"),
    (("--all", "extra"), "unexpected argument \"extra\""),
    (("--every",), "unrecognized option"),
])
def test_bad_flags_said_plainly(args, says):
    # checked before anything is asked: no daemon needed
    r = harness_run(["--admin", "ipc:///nonexistent/authz-admin.ipc", "audit"] + list(args))
    assert r.rc == 1, str(r)
    assert says in r.err, r.err
    assert "Usage: tepctl" in r.err and r.out == "", str(r)
