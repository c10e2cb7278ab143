"""112: a discovery with a limit costs what it returns (issue 12 item 1; TS-0004
7.3.3.17.14 limit, 7.3.3.17.15 offset). In remote mode every candidate of a discovery
needs its own access decision (TS-0001 9.6.1: Discover privilege on each resource); tep-cse
stops asking once as many candidates as `lim` can return (plus those `ofst` skips) are
permitted or waiting for their answer, instead of asking one decision per resource of
the subtree. tep-authz counts the decisions it made (tepctl status authz `decisions`), so
a walk of the whole container would show as one decision per instance."""

from onem2m_client import TY_CIN, TY_CNT, CseSession

N = 24


def _decisions(s):
    return int(s.platform.status("authz")["decisions"])


def test_discovery_asks_no_more_decisions_than_lim_uses():
    s = CseSession(authz_mode="remote")
    failed = True
    try:
        owner, ae, _ = s.ae("Cdisclim", "disclim")
        r = owner.create(ae, TY_CNT, {"rn": "data"})
        assert r.rsc == 2001, str(r)
        cnt = r.location or ae + "/data"
        for i in range(N):
            assert owner.create(cnt, TY_CIN, {"rn": "i%02d" % i, "con": str(i)}).rsc == 2001

        before = _decisions(s)
        r = owner.retrieve(cnt, query="fu=1&ty=4&lim=5")
        assert r.rsc == 2000, str(r)
        uril = r.json["m2m:uril"]
        assert [u.rsplit("/", 1)[1] for u in uril] == ["i%02d" % i for i in range(5)], uril
        asked = _decisions(s) - before
        # the container itself, then the five instances returned: not one per instance
        assert asked <= 1 + 5, asked

        before = _decisions(s)
        r = owner.retrieve(cnt, query="fu=1&ty=4&lim=5&ofst=4")
        assert r.rsc == 2000, str(r)
        uril = r.json["m2m:uril"]
        assert [u.rsplit("/", 1)[1] for u in uril] == ["i%02d" % i for i in range(3, 8)], uril
        asked = _decisions(s) - before
        assert asked <= 1 + 3 + 5, asked

        # without a limit every instance is a candidate, and each is decided
        before = _decisions(s)
        r = owner.retrieve(cnt, query="fu=1&ty=4")
        assert r.rsc == 2000, str(r)
        assert len(r.json["m2m:uril"]) == N
        assert _decisions(s) - before >= N
        failed = False
    finally:
        s.close(keep=failed)
