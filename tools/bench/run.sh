#!/usr/bin/env bash
# tools/bench/run.sh [--seconds S]: builds and runs every benchmark, prints their results,
# and rewrites their rows in docs/benchmarks.md (between the bench-decide, bench-replicas, bench-costs, bench-gateways, bench-coap,
# bench-enrol and bench-cert markers; rows of other blocks are left alone). Run by
# "./tep bench". TEP_BUILD_DIR picks the build. The CoAP benchmark's peer, the ACME CSE
# (PyPI acmecse, pinned below), is installed here into its own venv .deps/acme-venv,
# not by "./tep deps" or "./tep test".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${TEP_BUILD_DIR:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SECONDS_PER_PHASE=3
if [[ ${1:-} == --seconds && -n ${2:-} ]]; then
    SECONDS_PER_PHASE=$2
elif [[ $# -gt 0 ]]; then
    echo "usage: tools/bench/run.sh [--seconds S]" >&2
    exit 1
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="$(nproc) cores ($cpu), $(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"

# write_rows MARKER ROWS MACHINE: replaces the MARKER block of docs/benchmarks.md (between
# <!-- MARKER:begin --> and <!-- MARKER:end -->) with one row per line of ROWS
# ("measurement<TAB>result<TAB>ratio"), each with today's date, MACHINE and the command.
write_rows() {
    BENCH_MARKER=$1 BENCH_ROWS=$2 BENCH_MACHINE=$3 BENCH_DATE=$(date -u +%Y-%m-%d) \
    BENCH_CMD="./tep bench (tools/bench/run.sh --seconds $SECONDS_PER_PHASE)" \
    python3 - "$ROOT/docs/benchmarks.md" <<'PY'
import os, re, sys

path, e = sys.argv[1], os.environ
marker = e["BENCH_MARKER"]
rows = [l.split("\t") for l in e["BENCH_ROWS"].splitlines() if l]
block = "\n".join("| %s | %s | %s | %s | %s | `%s` |"
                  % (e["BENCH_DATE"], name, result, ratio, e["BENCH_MACHINE"], e["BENCH_CMD"])
                  for name, result, ratio in rows)
text = open(path).read()
begin, end = "<!-- %s:begin -->" % marker, "<!-- %s:end -->" % marker
if begin not in text:
    sys.exit("docs/benchmarks.md: %s markers not found" % marker)
new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: begin + "\n" + block + "\n" + end,
             text, flags=re.S)
open(path, "w").write(new)
print("docs/benchmarks.md updated (%s)" % marker, file=sys.stderr)
PY
}

# The rows of one benchmark: the python code on stdin sees kv (the benchmark's KEY=value
# lines, in BENCH_OUT) and f(key) = float(kv[key]), and sets rows = [(measurement,
# result, ratio), ...]; printed one a line, tab-separated, for write_rows.
rows_of() {
    BENCH_OUT=$1 python3 -c '
import os, sys
kv = dict(l.split("=", 1) for l in os.environ["BENCH_OUT"].splitlines() if "=" in l)
f = lambda k: float(kv[k])
exec(sys.stdin.read())
print("\n".join("\t".join(r) for r in rows))'
}

ACME_VERSION=2026.5.3
ACME_VENV=$ROOT/.deps/acme-venv
started=$(date +%s)
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

ninja -C "$BUILD" tools/bench/bench-decide authz/tep-authz >&2
out=$("$BUILD/tools/bench/bench-decide" --seconds "$SECONDS_PER_PHASE" "$BUILD/authz/tep-authz")
printf '%s\n' "$out"

rows=$(rows_of "$out" <<'PY'
rows = [
    ("access decision, in process: cmn_acp_evaluate (policies pre-parsed)",
     "%.0f decisions/s" % f("evaluate_per_s"), "%.0f x bus decide" % (f("evaluate_per_s") / f("bus_decide_per_s"))),
    ("access decision, in process: authz_decide (PDP handler, JSON parsed per decision)",
     "%.0f decisions/s" % f("pdp_per_s"), "%.0f x bus decide" % (f("pdp_per_s") / f("bus_decide_per_s"))),
    ("access decision over the bus: DEALER -> tep-authz ROUTER, 1 in flight (incl. audit commit)",
     "%.0f decisions/s (%.0f us)" % (f("bus_decide_per_s"), f("bus_decide_latency_us")),
     "%.3f x bare echo" % f("bus_decide_over_echo")),
    ("access decision over the bus: %s DEALERs (PEPs) -> tep-authz, 1 in flight each (audit group commit)" % kv["peps"],
     "%.0f decisions/s" % f("bus_decide_many_per_s"),
     "%.2f x 1 in flight" % f("bus_decide_many_over_one")),
    ("access decision over the bus: DEALER -> bare ROUTER running authz_decide (no audit, no store)",
     "%.0f decisions/s (%.0f us)" % (f("bus_pdp_per_s"), f("bus_pdp_latency_us")),
     "%.3f x bare echo" % f("bus_pdp_over_echo")),
    ("bare ZeroMQ DEALER -> ROUTER echo, %s-byte message, same run" % kv["msg_bytes"],
     "%.0f round trips/s (%.0f us)" % (f("bus_echo_per_s"), f("bus_echo_latency_us")), "1 (baseline)"),
]
PY
)
write_rows bench-decide "$rows" "$machine"

# Decisions per second through 1, 2 and 4 PDP replicas (tep-authz role = pdp, issue 17;
# tools/bench/bench_replicas.c); rewrites the bench-replicas block of docs/benchmarks.md.
ninja -C "$BUILD" tools/bench/bench-replicas authz/tep-authz >&2
load=$(cut -d' ' -f1 /proc/loadavg)
out=$("$BUILD/tools/bench/bench-replicas" --seconds "$SECONDS_PER_PHASE" "$BUILD/authz/tep-authz")
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
peps = kv["peps"]
def row(n, ratio):
    return ("access decisions through %d PDP replica(s) (tep-authz role = pdp, own audit log "
            "each, committed before the answer): %s DEALERs (PEPs) connected to every replica, "
            "1 in flight each; median of %s interleaved runs (%s); CPU per decision: replicas "
            "%.0f us, load generator %.0f us" % (n, peps, kv["rounds"], kv["replicas%d_runs" % n],
            f("replicas%d_cpu_us" % n), f("replicas%d_client_cpu_us" % n)),
            "%.0f decisions/s" % f("replicas%d_per_s" % n), ratio)
rows = [row(1, "1 (baseline)"),
        row(2, "**%.2f** x 1 replica" % f("replicas2_over_1")),
        row(4, "**%.2f** x 1 replica (%s cores: replicas and load generator share them)"
            % (f("replicas4_over_1"), kv["cores"]))]
PY
)
write_rows bench-replicas "$rows" "$machine, load $load"

# CPU per operation of each daemon and disk per device/decision, for docs/capacity.md
# (tools/bench/bench_costs.py); rewrites the bench-costs block of docs/benchmarks.md.
ninja -C "$BUILD" enroller/tep-enroller authz/tep-authz cse-node/tep-cse tools/tepctl \
    ae-sdk/examples/tep-device >&2
load=$(cut -d' ' -f1 /proc/loadavg)
out=$(TEP_BUILD_DIR="$BUILD" "$ROOT/.deps/venv/bin/python" "$ROOT/tools/bench/bench_costs.py" \
    --devices 100 --requests 3000)
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
def cpu(op):
    return "tep-enroller %s us, tep-authz %s us, tep-cse %s us" % tuple(
        kv["%s_%s_cpu_us" % (op, d)] for d in ("enroller", "authz", "cse"))
n, m = kv["devices"], kv["requests"]
rows = [
    ("CPU per enrolment (tep-device enrol, DTLS-PSK + POST /enrol; tep-authz and tep-cse: "
     "the event and the sync of their credential), %s devices one after the other" % n,
     cpu("enrol"), "-"),
    ("CPU per AE registration (tep-device register: a DTLS-PSK session + CREATE AE), %s devices" % n,
     cpu("register"), "-"),
    ("CPU per fresh DTLS-PSK session + one RETRIEVE (authz=remote: one decision), %s sessions" % n,
     cpu("session"), "-"),
    ("CPU per fresh DTLS-PSK session + one CREATE <contentInstance> (durable commit; one "
     "decision), %s sessions" % n, cpu("session_create"), "-"),
    ("CPU per RETRIEVE over one open session (authz=remote, one decision each, 1 in flight: "
     "one audit commit per decision), %s requests" % m, cpu("request"), "-"),
    ("event-log fan-out, tep-enroller CPU per sync answer holding only the newest event, one "
     "subscriber (tepctl bus sync as the registrar CSE; includes the client's connection set-up, "
     "which cmn_sync's standing DEALER does not pay), %s answers" % kv["syncs"],
     "%s us" % kv["sync_newest_enroller_cpu_us"], "-"),
    ("event-log fan-out, tep-enroller CPU per event of a 64-event catch-up answer (a subscriber "
     "that was away), %s answers" % kv["syncs"],
     "%s us" % kv["sync_catchup_event_enroller_cpu_us"], "-"),
    ("disk per enrolled and registered device (LMDB blocks allocated), %s devices" % n,
     "tep-enroller %s B, tep-authz %s B, tep-cse %s B" % (
         kv["enroller_bytes_per_device"], kv["authz_bytes_per_device"], kv["cse_bytes_per_device"]),
     "-"),
    ("disk per audited decision (tep-authz audit log, LMDB blocks allocated), %s decisions"
     % kv["decisions"], "%s B" % kv["audit_bytes_per_decision"], "-"),
    ("resident memory after the run (VmRSS)", "tep-enroller %s kB, tep-authz %s kB, tep-cse %s kB"
     % (kv["enroller_rss_kb"], kv["authz_rss_kb"], kv["cse_rss_kb"]), "-"),
]
PY
)
write_rows bench-costs "$rows" "$machine, load $load"

# Requests per second through 1, 2 and 3 gateways (MN-CSEs registered to the IN-CSE;
# tools/bench/bench_gateways.py); rewrites the bench-gateways block of docs/benchmarks.md.
ninja -C "$BUILD" enroller/tep-enroller authz/tep-authz cse-node/tep-cse tools/tepctl \
    ae-sdk/examples/tep-device >&2
load=$(cut -d' ' -f1 /proc/loadavg)
out=$(TEP_BUILD_DIR="$BUILD" "$ROOT/.deps/venv/bin/python" "$ROOT/tools/bench/bench_gateways.py")
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
def row(k, ratio):
    return ("oneM2M RETRIEVE <cnt>/la through %d gateway(s) (tep-cse MN-CSEs registered to the "
            "IN-CSE, authz=local), %s tep-device clients per gateway, each one DTLS-PSK session "
            "and %s requests one after the other; median of %s interleaved runs (%s); gateway "
            "CPU per request %s us" % (k, kv["clients_per_gateway"], kv["requests_per_client"],
            kv["rounds"], kv["gateways%d_runs" % k], kv["gateways%d_cpu_us" % k]),
            "%.0f req/s" % f("gateways%d_per_s" % k), ratio)
rows = [row(1, "1 (baseline)"),
        row(2, "**%.2f** x 1 gateway" % f("gateways2_over_1")),
        row(3, "**%.2f** x 1 gateway (%s cores: gateways and clients share them)"
            % (f("gateways3_over_1"), kv["cores"]))]
PY
)
write_rows bench-gateways "$rows" "$machine, load $load"

# oneM2M requests per second over CoAP and CoAPS: bare libcoap, tep-cse local and remote,
# the ACME CSE, and tep-cse against idle DTLS sessions (tools/bench/bench_coap.py, which
# rewrites the bench-coap block itself).
if [[ ! -x $ACME_VENV/bin/python ]] ||
    ! "$ACME_VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("acmecse") != sys.argv[1])' \
        "$ACME_VERSION" 2>/dev/null; then
    echo "run.sh: installing acmecse $ACME_VERSION into $ACME_VENV" >&2
    rm -rf "$ACME_VENV"
    python3 -m venv "$ACME_VENV"
    "$ACME_VENV/bin/pip" install --quiet "acmecse==$ACME_VERSION" >&2
fi
ninja -C "$BUILD" tools/bench/bench-coap tools/bench/bench-coap-server tools/bench/bench-lmdb enroller/tep-enroller \
    authz/tep-authz cse-node/tep-cse tools/tepctl ae-sdk/examples/tep-device >&2
TEP_BUILD_DIR=$BUILD "$ROOT/.deps/venv/bin/python" "$ROOT/tools/bench/bench_coap.py" \
    --seconds "$SECONDS_PER_PHASE" --acme "$ACME_VENV/bin/python" --write-doc

# Enrolments per second against a real tep-enroller vs bare DTLS-PSK handshakes
# (tools/bench/bench_enrol.c); rewrites the bench-enrol block of docs/benchmarks.md.
ninja -C "$BUILD" tools/bench/bench-enrol tools/bench/bench-coap-server enroller/tep-enroller \
    tools/tepctl >&2
out=$("$BUILD/tools/bench/bench-enrol" --seconds "$SECONDS_PER_PHASE" "$BUILD")
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
k = kv["inflight"]
rows = [
    ("enrolment, complete (DTLS-PSK KpmID/Kpm + SNI, exporter, POST /enrol, LMDB commit, event), "
     "libtepae tep_enrol, 1 in flight",
     "%.0f enrolments/s (%.0f us)" % (f("enrol_per_s"), f("enrol_latency_us")),
     "**%.3f** x bare handshake" % f("enrol_over_bare")),
    ("DTLS-PSK handshake alone to tep-enroller (same client, KpmID/Kpm + SNI), 1 in flight",
     "%.0f handshakes/s" % f("mef_handshake_per_s"), "%.3f x bare handshake" % f("mef_handshake_over_bare")),
    ("bare DTLS-PSK handshake to a bare libcoap server (bench-coap-server), same client, same run, 1 in flight",
     "%.0f handshakes/s (%.0f us)" % (f("bare_handshake_per_s"), f("bare_handshake_latency_us")), "1 (baseline)"),
    ("enrolment, complete, %s clients at once (1 in flight each)" % k,
     "%.0f enrolments/s" % f("enrol_many_per_s"),
     "**%.3f** x bare handshake, %s at once" % (f("enrol_many_over_bare_many"), k)),
    ("bare DTLS-PSK handshake, %s clients at once (1 in flight each)" % k,
     "%.0f handshakes/s" % f("bare_handshake_many_per_s"), "1 (baseline)"),
]
PY
)
write_rows bench-enrol "$rows" "$machine"

# Certificate SAEF handshakes (+ one request) per second to a real tep-cse and MAF key
# registrations per second to a real tep-authz, each vs a bare libcoap server in the same
# run (tools/bench/bench_cert.c); rewrites the bench-cert block of docs/benchmarks.md.
ninja -C "$BUILD" tools/bench/bench-cert tools/bench/bench-coap-server enroller/tep-enroller \
    cse-node/tep-cse authz/tep-authz tools/tepctl >&2
load=$(cut -d' ' -f1 /proc/loadavg)
out=$("$BUILD/tools/bench/bench-cert" --seconds "$SECONDS_PER_PHASE" "$BUILD")
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
rows = [
    ("certificate SAEF to tep-cse (authz=local): ECDHE-ECDSA DTLS handshake with an "
     "enroller-issued certificate (chain + SAN checked both ways, enrolment store check, "
     "session bound) + one oneM2M RETRIEVE of the AE (RSC 2000), libtepae client, 1 in flight",
     "%.0f handshakes+requests/s (%.0f us)" % (f("cse_req_per_s"), f("cse_req_latency_us")),
     "**%.3f** x bare libcoap" % f("cse_req_over_bare")),
    ("certificate SAEF handshake alone to tep-cse (same client), 1 in flight",
     "%.0f handshakes/s" % f("cse_hs_per_s"), "%.3f x bare handshake" % f("cse_hs_over_bare")),
    ("certificate SAEF through the public SDK: tep_connect_cert + tep_retrieve to tep-cse, 1 in flight",
     "%.0f handshakes+requests/s" % f("sdk_req_per_s"), "%.3f x bare libcoap" % f("sdk_req_over_bare")),
    ("bare libcoap DTLS server with the same certificate, key and CA (no tep code; GET -> "
     "2.05 RSC 2000), same client, same run: handshake + one GET, 1 in flight",
     "%.0f handshakes+requests/s (%.0f us; client CPU %.0f us)"
     % (f("bare_req_per_s"), f("bare_req_latency_us"), f("client_cpu_us_bare_req")),
     "1 (baseline)"),
    ("bare libcoap DTLS server, same certificate: handshake alone, 1 in flight",
     "%.0f handshakes/s" % f("bare_hs_per_s"), "1 (baseline)"),
]
if "maf_reg_per_s" in kv:
    rows += [
        ("MAF-based SAEF set-up at tep-authz: tep_maf_register_key (DTLS-PSK KmID/Km handshake, "
         "MAF Client Registration, MAF Key Registration: exporter, KeyEvent; two LMDB commits), 1 in flight",
         "%.0f key registrations/s (%.0f us)" % (f("maf_reg_per_s"), f("maf_reg_latency_us")),
         "**%.3f** x bare PSK handshake" % f("maf_reg_over_psk_hs")),
        ("bare DTLS-PSK handshake to a bare libcoap server (bench-coap-server), the client of "
         "tep_maf_register_key, same run, 1 in flight",
         "%.0f handshakes/s (%.0f us)" % (f("psk_hs_per_s"), f("psk_hs_latency_us")), "1 (baseline)"),
    ]
PY
)
write_rows bench-cert "$rows" "$machine, load $load"

# Legitimate DTLS-PSK handshake latency (median, p99) against the rate of a handshake
# flood on tep-cse: half-open handshakes and unanswered ClientHellos (issue 18;
# tools/bench/bench_flood.py); rewrites the bench-flood block of docs/benchmarks.md.
ninja -C "$BUILD" enroller/tep-enroller authz/tep-authz cse-node/tep-cse tools/tepctl \
    ae-sdk/examples/tep-device ae-sdk/libtepae.so.0.1.0 >&2
load=$(cut -d' ' -f1 /proc/loadavg)
out=$(TEP_BUILD_DIR="$BUILD" python3 "$ROOT/tools/bench/bench_flood.py" --seconds "$SECONDS_PER_PHASE")
printf '%s\n' "$out"
rows=$(rows_of "$out" <<'PY'
def lat(p):
    return "median %.1f ms, p99 %.1f ms, %d/%d failed" % (
        f(p + "_median_ms"), f(p + "_p99_ms"), f(p + "_failed"), f(p + "_tries"))
idle = f("idle_median_ms")
limits = "max_handshakes %s, per address %s, timeout %s s" % (
    kv["max_handshakes"], kv["max_handshakes_per_addr"], kv["handshake_timeout_s"])
rows = [("legitimate DTLS-PSK handshake to tep-cse (libtepae tep_connect, 1 in flight), "
         "no flood (%s)" % limits, lat("idle"), "1 (baseline)")]
phases = [k[:-len("_flood_per_s")] for k in kv
          if k.endswith("_flood_per_s") and k != "idle_flood_per_s"]
for p in sorted(phases, key=lambda p: (not p.startswith("halfopen"), int(p.split("_")[1]))):
    k = p + "_flood_per_s"
    what = ("half-open handshakes (cookie answered, then silent) from 200 addresses"
            if p.startswith("halfopen") else
            "ClientHellos that never answer the cookie (bound sockets, as spoofed)")
    rows.append(("... during a flood of %.0f/s %s" % (f(k), what), lat(p),
                 "median %.2f x no flood" % (f(p + "_median_ms") / idle)))
rows.append(("tep-cse resident memory after the floods ended (heap trimmed), over before",
             "%+d kB" % f("rss_growth_kb"), "-"))
PY
)
write_rows bench-flood "$rows" "$machine, load $load"
echo "run.sh: every benchmark ran in $(( $(date +%s) - started )) s; load now $(cut -d' ' -f1-3 /proc/loadavg)" >&2
