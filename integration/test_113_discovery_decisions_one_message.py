"""113: the access decisions of a discovery's candidates travel in one bus message
(issue 12; TS-0001 9.6.1: the Discover privilege is decided per resource; DESIGN.md 4,
the decide socket). In remote mode tep-cse sends the questions one pass of a request
asks together as one DecisionBatchRequest when the pass ends, and tep-authz decides and
audits each as if sent alone and answers them in one DecisionBatchResponse
(`tepctl status authz`: decide_messages, decide_batches, decisions). A batch that is
not answered within the deadline fails closed: every candidate it carried is denied,
and the discovery returns none of them (the container's own decision, cached before
tep-authz stopped, lets the discovery run)."""

import os
import signal
import time

from onem2m_client import TY_CIN, TY_CNT, CseSession

N = 24
LIM = 20
DEADLINE_MS = 1000


def _status(s):
    kv = s.platform.status("authz")
    return {k: int(kv[k]) for k in ("decide_messages", "decide_batches", "decisions")}


def _names(r):
    return [u.rsplit("/", 1)[1] for u in r.json["m2m:uril"]]


def _setup(s, orig, rn):
    owner, ae, _ = s.ae(orig, rn)
    r = owner.create(ae, TY_CNT, {"rn": "data"})
    assert r.rsc == 2001, str(r)
    cnt = r.location or ae + "/data"
    for i in range(N):
        assert owner.create(cnt, TY_CIN, {"rn": "i%02d" % i, "con": str(i)}).rsc == 2001
    return owner, cnt


def test_discovery_candidates_decided_in_one_message():
    s = CseSession(authz_mode="remote")
    failed = True
    try:
        owner, cnt = _setup(s, "Cbatch", "batch")
        before = _status(s)
        r = owner.retrieve(cnt, query="fu=1&ty=4&lim=%d" % LIM)
        assert r.rsc == 2000, str(r)
        assert _names(r) == ["i%02d" % i for i in range(LIM)], r.json
        after = _status(s)
        # the container's own decision, then the twenty candidates' in one message
        assert after["decisions"] - before["decisions"] == 1 + LIM, (before, after)
        assert after["decide_messages"] - before["decide_messages"] == 2, (before, after)
        assert after["decide_batches"] - before["decide_batches"] == 1, (before, after)
        failed = False
    finally:
        s.close(keep=failed)


def test_unanswered_batch_denies_its_candidates(monkeypatch):
    monkeypatch.setenv("TEP_AUTHZ_CACHE_MS", "60000")
    s = CseSession(authz_mode="remote", deadline_ms=DEADLINE_MS)
    failed = True
    authz = s.platform["authz"].proc.pid
    try:
        owner, cnt = _setup(s, "Cbatchstop", "batchstop")
        # the container's decision is cached (no container below it: no candidate asked)
        r = owner.retrieve(cnt, query="fu=1&ty=3")
        assert r.rsc == 2000 and _names(r) == [], str(r)
        before = _status(s)
        os.kill(authz, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = owner.retrieve(cnt, query="fu=1&ty=4&lim=5", timeout=20)
            took = time.monotonic() - t0
        finally:
            os.kill(authz, signal.SIGCONT)
        assert r.rsc == 2000, str(r)
        assert _names(r) == [], r.json  # the batch went unanswered: all denied
        assert took >= DEADLINE_MS / 1000.0 * 0.9, took
        log = s.platform["cse"].log()
        assert "event=decision_timeout" in log or "rule=decision_timeout" in log, \
            s.platform["cse"].tail()
        after = _status(s)
        assert after["decide_batches"] - before["decide_batches"] == 1, (before, after)
        failed = False
    finally:
        s.close(keep=failed)
