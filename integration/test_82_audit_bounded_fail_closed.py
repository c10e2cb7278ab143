"""82: the PDP's audit log is bounded, a permit it cannot record is a Deny, and one
originator cannot flood it (TS-0003 7.1.4: indeterminate is Deny; docs/internals.md
"Audit log"). The log lives in its own LMDB environment (<data_dir>/audit) with a
retention by count and age; `tepctl status authz` shows it.

- retention: with audit_max_records=16, 40 decisions leave the newest 16 records;
- fail closed: with a 64 KiB audit map and no retention to speak of, the map fills; from
  then on the owner's own read (a Permit) is answered 4103 with "audit_unavailable",
  tep-authz keeps storing credentials (a new enrolee's Km), and exits 0 on SIGTERM;
- rate: with decide_rate=5, a burst of one originator beyond 10 gets 5103, another
  originator still gets 2000."""

import pytest

from onem2m_client import TY_CNT, CseSession

RETRIEVE = 2


@pytest.fixture
def session(monkeypatch, request):
    made = []

    def make(**authz):
        for k, v in authz.items():
            monkeypatch.setenv("TEP_AUTHZ_" + k.upper(), str(v))
        s = CseSession()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close(keep=getattr(request.node, "tep_failed", False))


def _owner_with_container(s, name):
    c, ae, _ = s.ae("C" + name, name)
    r = c.create(ae, TY_CNT, {"rn": "data"})
    assert r.rsc == 2001, str(r)
    return c, ae + "/data"


def _status(s):
    r = s.platform.tepctl("status", admin="authz")
    assert r.rc == 0, str(r)
    return r


def test_retention_keeps_the_newest_records(session):
    s = session(audit_max_records=16, decide_rate=0)
    c, cnt = _owner_with_container(s, "audit-owner")
    for _ in range(40):
        assert c.retrieve(cnt).rsc == 2000
    st = _status(s)
    assert st.get("audit_max_records") == "16", st.out
    assert st.get("audit_records") == "16", st.out
    seq = int(st.get("audit_seq"))
    assert seq >= 40, st.out
    assert int(st.get("audit_oldest")) == seq - 15, st.out
    audit = s.platform.tepctl("audit", "--last", "100", admin="authz")
    assert audit.rc == 0, str(audit)
    assert len([l for l in audit.out.splitlines() if "permit=" in l]) == 16, audit.out


def test_full_audit_map_denies_permits_and_other_writes_go_on(session):
    s = session(audit_map_kib=64, decide_rate=0)
    c, cnt = _owner_with_container(s, "audit-full")
    for i in range(5000):
        r = c.retrieve(cnt)
        if r.rsc != 2000:
            break
    assert r.rsc == 4103, "%d reads, last %s\n%s" % (i, r, s.platform.logs())
    assert i > 10, i  # the map held some first
    s.platform["authz"].wait_log(r"event=audit_failed decisions=\d+ err=.* permits=denied", 5)
    s.platform["authz"].wait_log(r"permit=0 rsc=4103 rule=\"audit_unavailable\"", 5)
    assert c.retrieve(cnt).rsc == 4103  # still full: still no unrecorded permit
    st = _status(s)
    assert int(st.get("audit_failures")) >= 2, st.out
    # the keys store is another environment: a new enrolee's Km is still stored
    dev = s.platform.add_enrolee("device07")
    assert dev.run("enrol").rc == 0, s.platform.logs()
    s.platform["authz"].wait_log(r"event=credential_stored key_id=\S+ enrolee_id=Cdevice07 "
                                 r"suid=21 revoked=0", 5)


def test_one_originator_is_rate_limited_others_are_served(session):
    s = session(decide_rate=5)
    c, cnt = _owner_with_container(s, "rate-flood")
    other, other_cnt = _owner_with_container(s, "rate-other")
    codes = [c.retrieve(cnt).rsc for _ in range(40)]
    assert 5103 in codes, codes
    assert set(codes) <= {2000, 5103}, codes  # busy, never a Deny-as-Permit mix-up
    assert codes.count(2000) <= 10 + 40 // 5 + 2, codes  # burst plus refill, no more
    assert other.retrieve(other_cnt).rsc == 2000
    s.platform["authz"].wait_log(r"event=decisions_rate_limited originator=Crate-flood", 5)
    assert int(_status(s).get("rate_limited")) >= 1
