"""45: the PEP's decision cache never outlives a policy change (TS-0003 7.1: the
decision is the one the current accessControlPolicy gives; docs/internals.md: decisions
may be cached in tep-cse only with invalidation when a policy changes). With
[authz] cache_ms on, a repeated RETRIEVE is answered from the cache (tep-authz audits one
decision), and once the ACP is updated or deleted the next request is decided again."""

import os

from onem2m_client import TY_ACP, TY_CNT, CseSession

READ = 2


def _audited(s, originator, target):
    return sum(1 for l in s.platform.audit_lines(originator) if " target=/%s " % target in l)


def test_acp_update_and_delete_invalidate_cached_decisions(monkeypatch):
    monkeypatch.setenv("TEP_AUTHZ_CACHE_MS", "60000")
    s = CseSession()
    failed = True
    try:
        owner, path, _ = s.ae("Ccache-owner", "cache-owner")
        reader, _, _ = s.ae("Ccache-reader", "cache-reader")
        r = owner.create(path, TY_ACP, {"rn": "acp1",
                                        "pv": {"acr": [{"acor": [reader.originator], "acop": READ}]},
                                        "pvs": {"acr": [{"acor": [owner.originator], "acop": 63}]}})
        assert r.rsc == 2001, str(r)
        acp, acp_ri = r.location or path + "/acp1", r.resource(TY_ACP)["ri"]
        r = owner.create(path, TY_CNT, {"rn": "data", "acpi": [acp_ri]})
        assert r.rsc == 2001, str(r)
        cnt = r.location or path + "/data"

        assert reader.retrieve(cnt).rsc == 2000
        assert reader.retrieve(cnt).rsc == 2000
        assert _audited(s, reader.originator, cnt) == 1  # the second came from the cache

        r = owner.update(acp, TY_ACP, {"pv": {"acr": [{"acor": ["Cnobody"], "acop": READ}]}})
        assert r.rsc == 2004, str(r)
        assert reader.retrieve(cnt).rsc == 4103

        r = owner.update(acp, TY_ACP, {"pv": {"acr": [{"acor": [reader.originator],
                                                       "acop": READ}]}})
        assert r.rsc == 2004, str(r)
        assert reader.retrieve(cnt).rsc == 2000
        assert owner.delete(acp).rsc == 2002
        assert reader.retrieve(cnt).rsc == 4103  # dangling acpi: only the creator
        failed = False
    finally:
        s.close(keep=failed or bool(os.environ.get("TEP_KEEP_RUN")))
