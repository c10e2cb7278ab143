"""114: with the PEP's decision cache on ([authz] cache_ms), reading the latest instance
of a container stays warm while a device keeps writing (issue 12: remote decisions
close to local once warm). A contentInstance is decided by its container's policies
(TS-0001 9.6.7); the rule set reads the target's type, specialization, policies and
creator, never its path, so each new instance is the same question for tep-authz and
is answered from the cache: tep-authz audits the reader's first `la` only, each answer
is still the newest instance, and a policy change still reaches the next read
(docs/internals.md "Decision cache")."""

import json
import os

from onem2m_client import TY_ACP, TY_CIN, TY_CNT, CseSession

READ = 2
WRITES = 5


def _audited(s, originator, cnt):
    """Decisions on cnt's instances audited for originator."""
    return sum(1 for l in s.platform.audit_lines(originator) if " target=/%s/" % cnt in l)


def test_latest_instance_read_from_cache_while_written(monkeypatch):
    monkeypatch.setenv("TEP_AUTHZ_CACHE_MS", "60000")
    s = CseSession(authz_mode="remote")
    failed = True
    try:
        owner, path, _ = s.ae("Cwarm-owner", "warm-owner")
        reader, _, _ = s.ae("Cwarm-reader", "warm-reader")
        r = owner.create(path, TY_ACP, {"rn": "acp1",
                                        "pv": {"acr": [{"acor": [reader.originator], "acop": READ},
                                                       {"acor": [owner.originator], "acop": 63}]},
                                        "pvs": {"acr": [{"acor": [owner.originator], "acop": 63}]}})
        assert r.rsc == 2001, str(r)
        acp, acp_ri = r.location or path + "/acp1", r.resource(TY_ACP)["ri"]
        r = owner.create(path, TY_CNT, {"rn": "data", "acpi": [acp_ri]})
        assert r.rsc == 2001, str(r)
        cnt = r.location or path + "/data"

        for i in range(WRITES):
            assert owner.create(cnt, TY_CIN, {"con": "v%d" % i}).rsc == 2001
            r = reader.retrieve(cnt + "/la")
            assert r.rsc == 2000, str(r)
            assert json.loads(r.payload)["m2m:cin"]["con"] == "v%d" % i
        assert _audited(s, reader.originator, cnt) == 1  # the others came from the cache

        r = owner.update(acp, TY_ACP, {"pv": {"acr": [{"acor": ["Cnobody"], "acop": READ},
                                                      {"acor": [owner.originator], "acop": 63}]}})
        assert r.rsc == 2004, str(r)
        assert owner.create(cnt, TY_CIN, {"con": "after"}).rsc == 2001
        assert reader.retrieve(cnt + "/la").rsc == 4103
        failed = False
    finally:
        s.close(keep=failed or bool(os.environ.get("TEP_KEEP_RUN")))
