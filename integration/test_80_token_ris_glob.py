"""80: a wildcard in a token's ris cannot stall tep-cse (TS-0003 7.3.2.4 ris, 7.1.3 scope
of '*'). A device holding a wildcard grant ("/tep-cse/Cdevice02/*") asks tep-authz for
tokens whose ris is the shape that makes a backtracking matcher exponential:

- a run of stars ("/tep-cse/Cdevice02/****..."): refused by tep-authz (4.00, the run
  means no more than one '*'); a star where the grant has none is refused too (4.03);
- alternating stars and letters ("*a*a*a...*b", allowed under a lone '*' segment): issued,
  and presented to tep-cse against a container named "aaaa...": tep-cse's one matcher
  (cmn_glob, linear time) answers 4103 at once, keeps serving another device, and exits 0
  on SIGTERM. Before the fix this one request held tep-cse's only thread for hours."""

import time

from test_41_dynauth_tokens import _setup, dyn  # noqa: F401 (fixture)

import harness

PROMPT_S = 3.0


def test_star_runs_refused_and_pathological_ris_answered_promptly(dyn):  # noqa: F811
    d = dyn()
    owner, reader, cnt = _setup(d)
    cse = d.p.env["CSE_NAME"]
    long_rn = "a" * 60
    r = owner.run("create-cnt", long_rn)
    assert r.rc == 0, str(r)
    long_cnt = harness.created_path(r, harness.ae_path(d.p, owner))

    code, ans = d.ask_token(reader, ["/%s/Cdevice02/%s" % (cse, "*" * 200)])
    assert code == "4.00", ans
    assert ans["error"] == "ris entries may not hold a run of '*'", ans
    code, ans = d.ask_token(reader, ["/%s/*/data" % cse])
    assert code == "4.03", ans

    code, ans = d.ask_token(reader, ["/%s/Cdevice02/%s*b" % (cse, "*a" * 50)])
    assert code == "2.01", ans
    t0 = time.monotonic()
    r = d.read(reader, long_cnt, query="tids=" + ans["tkid"])
    elapsed = time.monotonic() - t0
    assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
    assert elapsed < PROMPT_S, "tep-cse took %.1f s" % elapsed
    d.p["cse"].wait_log("event=decision permit=0 rule=no acp: not creator originator=Cdevice01 "
                        "target=/%s acop=2" % long_cnt, 5)

    # tep-cse still serves the owner, promptly; then SIGTERM exits 0 (d.stop()).
    t0 = time.monotonic()
    r = d.read(owner, cnt)
    assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
    assert time.monotonic() - t0 < PROMPT_S
