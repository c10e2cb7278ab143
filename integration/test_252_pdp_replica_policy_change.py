"""252: a policy change at the writer reaches every PDP replica (issue 17 item 1). The
writer (tep-authz, role = all) issues tokens and answers the DAS; two replicas decide.
A token is presented (tids: the DAS look-up the replica forwards to the writer), then
used by its Local-Token-ID on both replicas; `tepctl token revoke` at the writer is
applied by each replica from the writer's policy log (cmn_sync: same log, same
position, both caught up), and both then deny it (rule "token revoked" in each
replica's own audit log).

Fail closed: with the writer stopped, a replica cannot know of a revocation, so after
policy_max_lag_ms a token no longer permits anything (rule policy_stale), while what
needs no writer (an ACP the CSE sends with the question) is still decided. With the
writer back, the token permits again."""

import time

import harness
import pdpreplicas
from test_41_dynauth_tokens import _setup, dyn  # noqa: F401 (the fixture)

MAX_LAG_MS = 1000


def _both_permit(d, reps, reader, cnt, query):
    """Reads until each replica has permitted through the token (ZeroMQ round-robin
    alternates them, so a few reads do)."""
    ae = reader.state_values()["enrolee_id"]
    for _ in range(8):
        r = d.read(reader, cnt, query=query)
        assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
        if all(any('permit=1' in l and 'rule="token[0].' in l for l in rep.audit(ae, 20))
               for rep in reps):
            return
    raise AssertionError("not both replicas: %s" % [rep.audit(ae, 5) for rep in reps])


def _wait(cond, what, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, what
        time.sleep(0.1)


def test_revocation_reaches_every_replica_and_stale_fails_closed(dyn):
    reps = []
    d = dyn(before_start=lambda p: reps.extend(
        pdpreplicas.add_replicas(p, 2, max_lag_ms=MAX_LAG_MS)))
    owner, reader, cnt = _setup(d)
    ae = reader.state_values()["enrolee_id"]

    code, tok = d.ask_token(reader, ["/" + cnt])
    assert code == "2.01", tok
    r = d.read(reader, cnt, query="tids=" + tok["tkid"])  # DAS look-up via a replica
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    assert sum(int(rep.status()["das_forwarded"]) for rep in reps) >= 1
    lti = r.get("ati").split(":", 1)[0]
    _both_permit(d, reps, reader, cnt, "ltids=" + lti)

    rv = d.p.tepctl("token", "revoke", tok["tkid"], admin="authz")
    assert rv.rc == 0, str(rv)
    seq = d.p.status("authz")["policy_seq"]
    assert int(seq) >= 1
    for rep in reps:
        _wait(lambda: rep.status()["policy_seq"] == seq, "%s did not apply the revocation: %s"
              % (rep.name, rep.tail()))
        assert "event=token_revoked tkid=%s by=policy_log" % tok["tkid"] in rep.log()
    for _ in range(4):
        r = d.read(reader, cnt, query="ltids=" + lti)
        assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
    for rep in reps:
        assert any('permit=0' in l and 'rule="token revoked"' in l
                   for l in rep.audit(ae, 10)), (rep.name, rep.audit(ae, 10))

    # the writer gone: tokens stop permitting after policy_max_lag_ms, ACPs do not
    code, tok2 = d.ask_token(reader, ["/" + cnt])
    assert code == "2.01", tok2
    r = d.read(reader, cnt, query="tids=" + tok2["tkid"])
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    lti2 = r.get("ati").split(":", 1)[0]
    d.p["authz"].stop()
    time.sleep(MAX_LAG_MS / 1000 + 1.5)
    for _ in range(4):  # in a row: the round-robin gives both replicas some
        r = d.read(reader, cnt, query="ltids=" + lti2)
        assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
    for _ in range(4):
        r = owner.run("retrieve", cnt)
        assert r.rc == 0 and r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    for rep in reps:
        assert int(rep.status()["policy_age_ms"]) > MAX_LAG_MS
        assert any('permit=0' in l and 'rule="policy_stale' in l
                   for l in rep.audit(ae, 10)), (rep.name, rep.audit(ae, 10))

    d.p["authz"].start()
    for rep in reps:
        _wait(lambda: 0 <= int(rep.status()["policy_age_ms"]) < MAX_LAG_MS,
              "%s: the writer's policy log not heard again" % rep.name)
    for _ in range(4):
        r = d.read(reader, cnt, query="ltids=" + lti2)
        assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
