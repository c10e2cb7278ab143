"""177: revocation and expiry of a Kc that the MN-CSE fetched over CoAPS (no bus to
tep-authz, so no KeyEvents): the MN-CSE fetches every stored live Kc again every `[maf]
recheck_s` (1 s here) in its own MAF Handshake. When the MAF no longer gives the key out
(de-registered by its source, or its source's enrolment revoked: 4.04) or no longer to
this CSE (moved to another target: 4.03), the MN-CSE revokes its copy (`maf_key_revoked
reason=deregistered|not_target`) and closes the live, bound session in the same loop
turn, within recheck_s plus one retrieval; a new handshake with the key is refused as
revoked. A key past its expirationTime (from the MAF's answer) is refused at the
handshake and its live session closed by the expiry sweep."""

import re
import time

import pytest

import maf_coaps_common as mc


@pytest.fixture(scope="module")
def gw():
    p, mn = mc.mn_platform()
    try:
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _live_session(p, mn, name, lifetime=0):
    """A device for /mn1 with a Kc for /mn1, a DTLS session with it to the MN-CSE and its
    AE registered over it: (Dev, kc, key_id, conn)."""
    d = mc.Dev(p, mc.sdk(), name)
    kc, key_id = d.register_key("/mn1", lifetime)
    rc, conn = d.connect(kc)
    assert rc == 0, mn.tail()
    rc, rsc = d.request(conn, "mn1", 2)
    assert rc == 0 and rsc == 2001, (rc, rsc, mn.tail())
    mn.wait_log(r"event=maf_key_stored key_id=%s enrolee_id=C%s .*over=coaps"
                % (re.escape(key_id), name), 5)
    return d, kc, key_id, conn


def _deregister(p, d, kc, name):
    assert d.lib.tep_maf_deregister_key(d.h, None, kc) == 0, p.logs()


def _move_to_the_in_cse(p, d, kc, name):
    assert d.lib.tep_maf_update_key(d.h, None, kc, 0, p.env["CSE_ID"].encode()) == 0, p.logs()


def _revoke_source(p, d, kc, name):
    assert p.tepctl("enrolee", "revoke", name).rc == 0


@pytest.mark.parametrize("end, name, reason", [
    (_deregister, "dev177d", "deregistered"),  # MAF Key De-registration: 4.04
    (_move_to_the_in_cse, "dev177m", "not_target"),  # Key Registration Update: 4.03
    (_revoke_source, "dev177r", "deregistered"),  # the source's enrolment revoked: 4.04
], ids=["deregistered", "moved", "source_revoked"])
def test_live_session_closed_at_the_next_recheck(gw, end, name, reason):
    p, mn = gw
    d, kc, key_id, conn = _live_session(p, mn, name)
    k = re.escape(key_id)
    try:
        assert "event=session_closed reason=credential_revoked identity=%s" % key_id \
            not in mn.log()
        t0 = time.time()
        end(p, d, kc, name)
        closed = r"event=session_closed reason=credential_revoked identity=%s" % k
        mn.wait_log(closed, mc.RECHECK_S + 5)
        mn.wait_log(r"event=maf_key_revoked key_id=%s reason=%s" % (k, reason), 1)
        delay = mc.log_time(mn.log(), closed) - t0
        assert delay <= mc.RECHECK_S + 1.0, "closed %.3f s after\n%s" % (delay, mn.tail())
        # the session is gone: no answer on it; a new handshake is refused as revoked
        rc, rsc = d.request(conn, "mn1/C" + name, 3, '{"m2m:cnt":{"rn":"after"}}')
        assert rc != 0 and rsc is None, (rc, rsc)
        rc, _ = d.connect(kc)
        assert rc == mc.TEP_EDENIED, rc
        mn.wait_log(r"event=handshake_refused reason=revoked identity=%s" % k, 5)
    finally:
        d.free()


def test_expired_kc_refused_and_its_session_closed(gw):
    """A 3 s key: stored with the MAF's expirationTime, served before it, refused after it
    (the device's retries do not bring it back), its live session closed not before it:
    by the expiry sweep, or by the recheck (the MAF answers 4.04 for an expired key),
    whichever comes first."""
    p, mn = gw
    d, kc, key_id, conn = _live_session(p, mn, "dev177e", lifetime=3)
    k = re.escape(key_id)
    try:
        expires = int(re.search(r"event=maf_key_stored key_id=%s enrolee_id=Cdev177e expires=(\d+)"
                                % k, mn.log()).group(1))
        assert expires <= time.time() + 4, expires
        # the expiry sweep, or the recheck (the MAF: 4.04 past the expiry), whichever first
        closed = r"event=session_closed reason=credential_(expired|revoked) identity=%s" % k
        mn.wait_log(closed, 15)
        assert mc.log_time(mn.log(), closed) >= expires, mn.tail()
        rc, _ = d.connect(kc)
        assert rc == mc.TEP_EDENIED, rc
        mn.wait_log(r"event=handshake_refused reason=(expired|revoked) identity=%s" % k, 5)
        after = mn.log()[re.search(closed, mn.log()).end():]
        assert not re.search(r"event=session_bound identity=%s" % k, after), mn.tail()
    finally:
        d.free()


def test_own_enrolment_refused_revokes_nothing():
    """The MN-CSE's own MAF Handshake refused (its enrolment revoked) is not the MAF's
    4.03 for the key: the recheck logs the failure of its own standing and revokes no
    device's Kc (a revocation is for good, so it needs the MAF's word about the key: a
    session of the same enrolment that gets 4.04 for a key nobody has)."""
    p, mn = mc.mn_platform()
    try:
        d, kc, key_id, conn = _live_session(p, mn, "dev177o")
        try:
            assert p.tepctl("enrolee", "revoke", "mn1").rc == 0
            mn.wait_log(r"event=maf_retrieval_failed step=maf_handshake key_id=%s"
                        % re.escape(key_id), 20)
            time.sleep(mc.RECHECK_S + 0.5)  # more rechecks, the same
            assert "event=maf_key_revoked key_id=%s" % key_id not in mn.log(), mn.tail()
            assert "identity=%s" % key_id not in \
                mn.log()[mn.log().index("event=maf_retrieval_failed"):].replace(
                    "key_id=%s" % key_id, ""), mn.tail()
        finally:
            d.free()
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)
