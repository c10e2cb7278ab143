"""120: a container's instances through restarts and concurrent creators (issue 12 items
1 and 3). TS-0001 9.6.6 (mni: the oldest contentInstances are removed; cni, cbs),
TS-0004 7.4.6.2.x (<latest> la, <oldest> ol), docs/internals.md Storage (an answer is
sent only after the commit that holds its write: group commit keeps that).

Eight clients create at once into one container: their writes share durable commits
(tepctl status store_commits < store_writes); what is left is mni instances with la/ol
at its ends, cni/cbs/st count every create and eviction exactly, before and after a
restart. A tep-cse killed (SIGKILL) while twelve clients create loses none of the
instances it acknowledged."""

import os
import subprocess
import threading
import time

import harness

from onem2m_client import OneM2MClient, TY_CIN, TY_CNT
from harness import Platform

CREATORS = 8


def _bench_coap():
    path = os.path.join(harness.BUILD, "tools", "bench", "bench-coap")
    assert os.access(path, os.X_OK), "%s is not built" % path
    return path

EACH = 150
MNI = 20


def _ae(plat, name):
    port = plat.ports["cse_coap"]
    c = OneM2MClient("127.0.0.1", port, name)
    r = c.create(plat.env["CSE_NAME"], 2, {"rn": name, "api": "Ntep.test", "rr": False,
                                           "srv": ["3"]})
    assert r.rsc == 2001, str(r)
    c.originator = r.resource(2)["aei"]
    return c, r.location


def _creators(plat, originator, cnt, each, stop=None):
    """CREATORS threads, each with its own client, creating `each` instances (or until
    stop is set); returns {ri: (con, cs)} of every instance answered 2001, and the list of
    other answers."""
    made, other, lock = {}, [], threading.Lock()

    def run(k):
        c = OneM2MClient("127.0.0.1", plat.ports["cse_coap"], originator)
        try:
            for i in range(each):
                if stop is not None and stop.is_set():
                    break
                con = "c%d-%03d" % (k, i)
                try:
                    r = c.create(cnt, TY_CIN, {"con": con}, timeout=5)
                except Exception as e:  # the daemon was killed under it
                    with lock:
                        other.append(repr(e))
                    break
                with lock:
                    if r.rsc == 2001:
                        made[r.resource(TY_CIN)["ri"]] = (con, len(con))
                    else:
                        other.append(str(r))
        finally:
            c.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(CREATORS)]
    for t in threads:
        t.start()
    return threads, made, other


def _store_counts(plat):
    r = plat.tepctl("status", "cse", admin="cse")
    assert r.rc == 0, str(r)
    return int(r.kv["store_writes"]), int(r.kv["store_commits"])


def _state(c, cnt):
    """The container, its la and ol, and the ri of each of its instances (discovery)."""
    got = c.retrieve(cnt).resource(TY_CNT)
    la = c.retrieve(cnt + "/la").resource(TY_CIN)
    ol = c.retrieve(cnt + "/ol").resource(TY_CIN)
    uril = c.retrieve(cnt, query="fu=1&ty=4&drt=2").resource()
    return got, la, ol, uril


def _bench_creators(plat, originator, cnt, count, con=None):
    """CREATORS bench-coap processes (C clients: their requests do arrive together), each
    creating `count` instances (con "21.5" unless given); returns their ok counts."""
    argv = [_bench_coap(), "--uri", plat.env["CSE_COAP"],
            "--from", originator, "--path", cnt, "--op", "create", "--count", str(count),
            "--seconds", "60"]
    if con is not None:
        argv += ["--body", '{"m2m:cin":{"con":"%s"}}' % con]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
             for _ in range(CREATORS)]
    oks = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, out
        oks.append(int(harness.parse_kv(out)["ok"]))
    return oks


def test_newest_mni_kept_by_eight_creators_and_after_restart():
    # local decisions: this is about the store (index, counters, group commit); with remote
    # decisions a PDP slowed by another process's disk syncs makes tep-cse shed some of the
    # burst with 5103 by design (admission, integration 43 and 85-89), and every create
    # must be answered 2001 here
    plat = Platform(authz_mode="local")
    try:
        plat.start()
        c, ae = _ae(plat, "Cidx01")
        r = c.create(ae, TY_CNT, {"rn": "idx", "mni": MNI})
        assert r.rsc == 2001, str(r)
        cnt = r.location
        r = c.create(cnt, TY_CIN, {"con": "first"})
        first = r.resource(TY_CIN)["ri"]
        writes0, commits0 = _store_counts(plat)
        oks = _bench_creators(plat, c.originator, cnt, EACH)
        assert oks == [EACH] * CREATORS
        # group commit: the creates arriving together shared durable commits
        writes, commits = _store_counts(plat)
        assert writes - writes0 >= CREATORS * EACH
        assert commits - commits0 < 0.8 * (writes - writes0), (writes, commits)

        # every create and every eviction counted once: st = creates + evictions
        made = 1 + CREATORS * EACH
        got, la, ol, kids = _state(c, cnt)
        assert (got["cni"], got["cbs"]) == (MNI, MNI * 4), got
        assert got["st"] == made + (made - MNI), got
        assert len(kids) == MNI and (la["ri"], ol["ri"]) == (max(kids), min(kids))
        assert c.retrieve(first).rsc == 4004  # the oldest went first

        plat["cse"].stop()
        plat["cse"].start()
        got2, la2, ol2, kids2 = _state(c, cnt)
        assert (got2["cni"], got2["cbs"], got2["st"]) == (got["cni"], got["cbs"], got["st"])
        assert (la2["ri"], ol2["ri"]) == (la["ri"], ol["ri"])
        assert sorted(kids2) == sorted(kids)

        # after the restart the age order goes on: the new one is la, ol moves by one
        r = c.create(cnt, TY_CIN, {"con": "after"})
        assert r.rsc == 2001, str(r)
        got3, la3, ol3, _ = _state(c, cnt)
        assert got3["cni"] == MNI and la3["con"] == "after"
        assert ol3["ri"] == sorted(kids)[1]
        c.close()
        plat.assert_clean_stop()
    finally:
        plat.cleanup()


def _bench_load(plat, originator, cnt):
    """Creators in C beside the Python ones until tep-cse dies (their answers unused)."""
    argv = [_bench_coap(), "--uri", plat.env["CSE_COAP"],
            "--from", originator, "--path", cnt, "--op", "create", "--seconds", "5"]
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL) for _ in range(4)]
    for p in procs:
        p.wait(60)


def test_killed_under_eight_creators_loses_no_acknowledged_instance():
    plat = Platform()
    try:
        plat.start()
        c, ae = _ae(plat, "Cidx02")
        r = c.create(ae, TY_CNT, {"rn": "kill"})
        assert r.rsc == 2001, str(r)
        cnt = r.location
        stop = threading.Event()
        load = threading.Thread(target=lambda: _bench_load(plat, c.originator, cnt))
        load.start()
        threads, made, _ = _creators(plat, c.originator, cnt, 100000, stop)
        time.sleep(1.5)
        plat["cse"].kill()  # SIGKILL: no clean shutdown, no final commit
        stop.set()
        for t in threads + [load]:
            t.join(60)
        acknowledged = dict(made)
        assert len(acknowledged) > CREATORS, "too few creates before the kill"

        plat["cse"].start()
        got = c.retrieve(cnt).resource(TY_CNT)
        lost = [ri for ri in acknowledged if c.retrieve(ri).rsc != 2000]
        assert lost == [], "%d acknowledged instances lost, e.g. %s" % (len(lost), lost[:3])
        # what survived is counted as it is (acknowledged or not: at most one batch more)
        assert got["cni"] >= len(acknowledged), got
        la = c.retrieve(cnt + "/la").resource(TY_CIN)
        ol = c.retrieve(cnt + "/ol").resource(TY_CIN)
        assert la["ri"] >= max(acknowledged) and ol["ri"] <= min(acknowledged)
        c.close()
        plat.assert_clean_stop()
    finally:
        plat.cleanup()
