"""250: access decisions spread over PDP replicas (issue 17 item 1). Beside the platform's
tep-authz (the writer: MAF, tokens, DAS, role = all) two tep-authz run with role = pdp,
and tep-cse's [bus] decide lists both replicas: ZeroMQ's DEALER spreads the decisions
over them. Each replica decides and records its decisions in its own audit log before
it answers; the writer decides none of them. A replica refuses what keeps one writer
(MAF endpoint, grants, MAF keys, token revocation) by name."""

import harness
import pdpreplicas

READS = 40


def test_decisions_spread_over_two_replicas(request):
    p = harness.Platform()
    try:
        reps = pdpreplicas.add_replicas(p, 2)
        p.start()
        for r in reps:
            assert "event=ready role=pdp" in r.log(), r.tail()
            st = r.status()
            assert st["authz_role"] == "pdp", st
        assert p.status("authz")["authz_role"] == "all"

        owner, cnt, _ = harness.device_with_data(p, "device01")
        ae = owner.state_values()["enrolee_id"]
        before = [pdpreplicas.permits(r.audit(ae)) for r in reps]
        for _ in range(READS):
            r = owner.run("retrieve", cnt)
            assert r.rc == 0 and r.rsc == 2000, "%s\n%s" % (r, p.logs())

        after = [pdpreplicas.permits(r.audit(ae)) for r in reps]
        got = [a - b for a, b in zip(after, before)]
        # every read was decided by a replica and recorded in its audit; both took part
        assert sum(got) >= READS, (got, [r.tail() for r in reps])
        assert all(g > 0 for g in got), "not spread: %s" % got
        assert int(p.status("authz")["decisions"]) == 0, p.status("authz")

        for r in reps:
            st = r.status()
            assert int(st["decisions"]) > 0 and int(st["audit_failures"]) == 0, st
            assert 0 <= int(st["policy_age_ms"]) < 5000, st  # it hears from the writer

        # the trail collected: both replicas' records in one list, ordered by time
        r = harness.run_tool([harness.binary("tepctl"), "audit", "--originator", ae, "--last",
                              "1000"] + sum((["--from", rep.admin] for rep in reps), []))
        assert r.rc == 0, str(r)
        lines = r.out.splitlines()
        assert pdpreplicas.permits(lines) == sum(after), r.out
        assert {l.rsplit(" from=", 1)[1] for l in lines} == {rep.admin for rep in reps}
        times = [l.split(" time=", 1)[1].split(" ", 1)[0] for l in lines]
        assert times == sorted(times), r.out
        reps[1].stop()
        r = harness.run_tool([harness.binary("tepctl"), "--timeout", "1000", "audit",
                              "--originator", ae] + sum((["--from", rep.admin] for rep in reps), []))
        assert r.rc == 2 and "no trail from " + reps[1].admin in r.err, str(r)  # said, not hidden
        assert " from=" + reps[0].admin in r.out, str(r)
        reps[1].start()

        # what keeps one writer is refused at a replica
        rv = reps[0].tepctl("token", "revoke", "abc@" + p.env["MAF_ID"])
        assert rv.rc != 0 and "revoke at the writer" in rv.out + rv.err, str(rv)
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=getattr(request.node, "tep_failed", False))


def _ini(tmp, authz, bus):
    return "[authz]\ndata_dir = %s/d\n%s\n[bus]\n%s\n" % (tmp, authz, bus)


def test_replica_config_refused_by_name(tmp_path):
    ok_bus = ("decide = ipc://%s/r.ipc\npolicy_sync = ipc://%s/ps.ipc\n"
              "policy_events = ipc://%s/pe.ipc\nwriter = ipc://%s/w.ipc" % ((tmp_path,) * 4))
    rc, out = pdpreplicas.check_config(_ini(tmp_path, "role = pdp", ok_bus), str(tmp_path))
    assert rc == 0, out
    for authz, bus, why in [
        ("role = pdp\ncoaps_listen = 127.0.0.1:5999", ok_bus, "authz.coaps_listen: not with role = pdp"),
        ("role = pdp\ngrants_file = /x.json", ok_bus, "authz.grants_file: not with role = pdp"),
        ("role = pdp", ok_bus + "\nkeys = ipc://%s/k.ipc" % tmp_path, "bus.keys: not with role = pdp"),
        ("role = pdp", "decide = ipc://%s/r.ipc" % tmp_path, "role = pdp needs the writer's policy log"),
        ("role = pdp", ok_bus.replace("w.ipc", "r.ipc"), "not this replica's own"),
        ("role = all", "writer = ipc://%s/w.ipc" % tmp_path, "bus.writer: only for role = pdp"),
        ("role = replica", "", "not a role (all | pdp)"),
        ("role = pdp", ok_bus.replace("ipc://%s/ps.ipc" % tmp_path, "nowhere"), "not an endpoint"),
    ]:
        rc, out = pdpreplicas.check_config(_ini(tmp_path, authz, bus), str(tmp_path))
        assert rc == 1 and why in out, (authz, bus, rc, out)
