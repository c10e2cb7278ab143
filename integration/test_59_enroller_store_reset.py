"""59: the enroller's store restored from a backup or replaced by a fresh one. Sequence
numbers only mean something within one store: a subscriber whose last_applied is
higher than the store's newest seq (a restored backup), or that sees another store epoch
(a fresh store), starts over from the new log (event=enroller_reset) instead of
skipping its events up to its old position. Without that, a revocation made on the
restored store, whose seq tep-cse had already applied from the lost history, was never
applied: the revoked device kept connecting (TS-0003 10.7, fail closed)."""

import re
import shutil

import pytest

from harness import daemon_data_dir, device_with_data, replace_data_dir, wait_refused


def backup_then_revoke_device01(platform):
    """device01 and device02 served; a backup of the enroller's store (both enrolled,
    newest seq N); then device01 revoked (seq N+1, applied at tep-cse and tep-authz).
    Returns (device01, its cin, device02, its cin, the backup's path)."""
    d1, _, cin1 = device_with_data(platform, "device01")
    d2, _, cin2 = device_with_data(platform, "device02")
    enroller = platform["enroller"]

    # the backup: taken while the enroller is stopped
    assert enroller.stop() == 0
    backup = daemon_data_dir(platform, "enroller") + ".backup"
    shutil.copytree(daemon_data_dir(platform, "enroller"), backup)
    enroller.start()

    r = platform.tepctl("enrolee", "revoke", "device01")
    assert r.rc == 0, str(r)
    wait_refused(platform, d1, cin1, "revoked")
    platform["authz"].wait_log(r"event=credential_stored .*enrolee_id=Cdevice01 .*revoked=1", 5)
    return d1, cin1, d2, cin2, backup


def test_restored_backup_then_revocation(platform):
    d1, cin1, d2, cin2, backup = backup_then_revoke_device01(platform)
    enroller, cse, authz = platform["enroller"], platform["cse"], platform["authz"]

    # the backup comes back: the enroller's newest seq is N again
    assert enroller.stop() == 0
    replace_data_dir(platform, "enroller", backup)
    enroller.start()
    # seen when tep-cse's SUB reconnects (it asks then, with no event): before the
    # restored store's seq catches up with tep-cse's position (the window this leaves
    # is in docs/internals.md)
    cse.wait_log(r"event=enroller_reset reason=seq_went_back .*last_applied=(\d+) "
                 r"enroller_last_seq=\d+", 5)
    authz.wait_log(r"event=enroller_reset reason=seq_went_back", 5)

    # the restored store's next event (seq N+1 again) revokes device02: applied
    r = platform.tepctl("enrolee", "revoke", "device02")
    assert r.rc == 0, str(r)
    wait_refused(platform, d2, cin2, "revoked")
    # the restored store is the truth now: device01 was not revoked there
    r = d1.run("retrieve", cin1)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())


def test_restored_backup_went_past_while_subscribers_down(platform):
    """The window seqs and epoch cannot close: the restored store makes new events up
    to and past tep-cse's position before tep-cse asks (here: tep-cse and tep-authz are
    down meanwhile). Its event at tep-cse's last_applied is another one (device02
    revoked, not device01), which the digest of that Event shows: reset, reason
    history_diverged, and the restored log applied from its start."""
    d1, cin1, d2, cin2, backup = backup_then_revoke_device01(platform)
    enroller, cse, authz = platform["enroller"], platform["cse"], platform["authz"]

    # the subscribers are down while the backup comes back and goes on
    assert cse.stop() == 0
    assert authz.stop() == 0
    assert enroller.stop() == 0
    replace_data_dir(platform, "enroller", backup)
    enroller.start()
    r = platform.tepctl("enrolee", "revoke", "device02")  # seq N+1 again
    assert r.rc == 0, str(r)
    d3 = platform.add_enrolee("device03")
    r = d3.run("enrol")  # seq N+2: past tep-cse's last_applied
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())

    authz.start()
    cse.start()
    cse.wait_log(r"event=enroller_reset reason=history_diverged ", 5)
    authz.wait_log(r"event=enroller_reset reason=history_diverged ", 5)
    m = re.search(r"event=enroller_reset reason=history_diverged old_epoch=([0-9a-f]{32}) "
                  r"new_epoch=([0-9a-f]{32}) last_applied=(\d+) enroller_last_seq=(\d+)",
                  cse.log())
    assert m and m.group(1) == m.group(2), cse.tail()  # the same store (a backup)
    assert int(m.group(4)) > int(m.group(3)), cse.tail()  # the window: seqs alone agree

    # the restored log's revocation of device02 is applied: refused
    wait_refused(platform, d2, cin2, "revoked")
    # device01 was not revoked there: served again; device03, enrolled meanwhile, works
    r = d1.run("retrieve", cin1)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    r = d3.run("register")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())


def fresh_enroller_store(platform):
    """device01 enrolled and served; then the enroller's store is replaced by an empty
    one: tep-cse and tep-authz reset (epoch_changed). Returns (device01, its cin)."""
    d1, _, cin1 = device_with_data(platform, "device01")
    enroller, cse, authz = platform["enroller"], platform["cse"], platform["authz"]
    assert enroller.stop() == 0
    replace_data_dir(platform, "enroller")  # seq restarts at 1, another epoch
    enroller.start()
    cse.wait_log(r"event=enroller_reset reason=epoch_changed old_epoch=[0-9a-f]{32} "
                 r"new_epoch=[0-9a-f]{32} last_applied=[1-9]\d* enroller_last_seq=0", 5)
    authz.wait_log(r"event=enroller_reset reason=epoch_changed", 5)
    return d1, cin1


def test_fresh_store_events_applied(platform):
    fresh_enroller_store(platform)
    # the new store's events (seq 1, 2, ... again) are applied: device03 enrols,
    # registers and is served
    d3, _, cin3 = device_with_data(platform, "device03", value="after-reset")
    r = d3.run("retrieve", cin3)
    assert r.rc == 0 and "after-reset" in r.out, "%s\n%s" % (r, platform.logs())


def test_fresh_store_forgets_old_credentials(platform):
    d1, cin1 = fresh_enroller_store(platform)
    # what came from the old store is gone at tep-cse: device01 is unknown there
    wait_refused(platform, d1, cin1, "unknown_identity")
