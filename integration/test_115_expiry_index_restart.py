"""115: the expiry sweep reads an index by expirationTime, kept in the store (issue 12;
TS-0001 9.6.1.3 expirationTime: once it has passed the resource is gone; DESIGN.md 5).
tep-cse keeps the resources that have an `et` in LMDB keys sorting by it (store schema
3), so its periodic sweep reads what is due and stops at the first later key instead of
walking the whole tree. The index is part of the store: after a restart the sweep still
finds a resource that expires then, with no request touching it (a request would delete
it on sight), and leaves the others alone."""

import time

from onem2m_client import TY_CNT, CseSession


def _et(seconds):
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() + seconds))


def test_expiry_index_survives_restart():
    s = CseSession(authz_mode="local")
    failed = True
    try:
        c, ae, _ = s.ae("Cexpiry", "expiry")
        for rn, attrs in (("soon", {"et": _et(3)}), ("later", {"et": _et(3600)}),
                          ("never", {})):
            r = c.create(ae, TY_CNT, dict({"rn": rn}, **attrs))
            assert r.rsc == 2001, str(r)
        cse = s.platform["cse"]
        cse.stop()
        cse.start()
        # the sweep (every 5 s) deletes it: no request names it before
        cse.wait_log(r"event=expired count=1\b", 20)
        assert c.retrieve(ae + "/soon").rsc == 4004
        assert c.retrieve(ae + "/later").rsc == 2000
        assert c.retrieve(ae + "/never").rsc == 2000
        assert "store_migrated" not in cse.log()  # a fresh store is at the current schema
        failed = False
    finally:
        s.close(keep=failed)
