"""91: `./tep test` tells the truth about a broken run. The `tep` script is sourced (it
defines its functions without running main) and its test command runs with the build
steps and both runners replaced by fakes that replay crafted records and exit codes:
meson (testlog.json) and pytest (junit xml), for the plain and the ASan+UBSan build.
A runner killed part way, an interrupted pytest, a truncated record, a failure and a
skip each give the exact summary line, always printed last, and the exit code.
(README "Quick start": the last line is "N passed, N failed, N skipped"; exit 0 only
when nothing failed.)"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness import ROOT

TEP = os.path.join(ROOT, "tep")

# meson, replaced by a shell function: "meson test -C DIR [--list]" replays
# DIR/meson-logs/testlog.json.{listed,fake,rc}; rc "kill" = the runner dies of SIGKILL
# after writing what the record holds.
FAKE_MESON = r'''
meson() {
    local dir= list=0 a prev=
    for a; do
        [[ $prev == -C ]] && dir=$a
        [[ $a == --list ]] && list=1
        prev=$a
    done
    local log=$dir/meson-logs/testlog.json
    if ((list)); then cat "$log.listed"; return 0; fi
    mkdir -p "$dir/meson-logs"
    cp "$log.fake" "$log"
    local rc
    rc=$(cat "$log.rc")
    if [[ $rc == kill ]]; then (kill -KILL $BASHPID); return $?; fi
    return "$rc"
}
test_build() { :; }
test_build_asan() { :; }
'''

# pytest, replaced in a fake venv: replays $TEP_BUILD_DIR/fake-{selfcheck,scenarios}.*
FAKE_PYTEST = r'''#!/usr/bin/env bash
kind=scenarios junit= collect=0
for a; do
    case $a in
    --junitxml=*) junit=${a#*=} ;;
    --collect-only) collect=1 ;;
    integration/selfcheck) kind=selfcheck ;;
    esac
done
f=$TEP_BUILD_DIR/fake-$kind
if ((collect)); then
    [[ -f $f.collect-hang ]] && { : >"$f.started"; exec sleep 60; }
    cat "$f.listed"; exit 0
fi
[[ -f $f.collect-hang ]] && { : >"$f.ran"; exit 0; }
[[ -f $f.xml ]] && cp "$f.xml" "$junit"
rc=$(cat "$f.rc")
[[ $rc == kill ]] && kill -KILL $$
[[ $rc == hang ]] && { : >"$f.started"; exec sleep 60; }
exit "$rc"
'''


def meson_lines(*results):
    return "".join(json.dumps({"name": "unit-%d" % i, "result": r,
                               "stdout": "skipped: needs %d\n" % i if r == "SKIP" else ""})
                   + "\n" for i, r in enumerate(results))


def junit(*cases):
    """cases: "pass", "fail", "error", "skip"."""
    body = []
    for i, c in enumerate(cases):
        inner = {"pass": "", "fail": '<failure message="assert 1 == 2">x</failure>',
                 "error": '<error message="fixture broke">x</error>',
                 "skip": '<skipped type="pytest.skip" message="tool-%d missing">x</skipped>'
                 % i}[c]
        body.append('<testcase classname="integration.test_x" name="t%d">%s</testcase>'
                    % (i, inner))
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
            'tests="%d">%s</testsuite></testsuites>' % (len(cases), "".join(body)))


def _sigint_default():
    # a shell started with SIGINT ignored (any job started in the background, e.g. `./tep
    # test &` or under nohup) cannot trap it: the Ctrl-C these tests send would be lost
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class FakeRun:
    """A directory with the fake venv and the two build directories; every runner is
    green (3 unit tests, 1 self-check, 2 scenarios) until a test changes one."""

    def __init__(self, tmp):
        self.tmp = str(tmp)
        venv = os.path.join(self.tmp, "venv", "bin")
        os.makedirs(venv)
        os.symlink(sys.executable, os.path.join(venv, "python"))
        with open(os.path.join(venv, "pytest"), "w") as f:
            f.write(FAKE_PYTEST)
        os.chmod(os.path.join(venv, "pytest"), 0o755)
        self.build = os.path.join(self.tmp, "build")
        self.asan = os.path.join(self.tmp, "build-asan")
        for b in (self.build, self.asan):
            self.meson(b, meson_lines("OK", "OK", "OK"), 0)
            self.pytest(b, "scenarios", junit("pass", "pass"), 0)
        self.pytest(self.build, "selfcheck", junit("pass"), 0)

    def meson(self, build, record, rc, listed=3):
        log = os.path.join(build, "meson-logs", "testlog.json")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        self._write(log + ".fake", record)
        self._write(log + ".rc", str(rc))
        self._write(log + ".listed", "".join("unit-%d\n" % i for i in range(listed)))

    def pytest(self, build, kind, xml, rc, listed=None):
        f = os.path.join(build, "fake-" + kind)
        if xml is None:
            if os.path.exists(f + ".xml"):
                os.remove(f + ".xml")
        else:
            self._write(f + ".xml", xml)
        self._write(f + ".rc", str(rc))
        if listed is None:
            listed = xml.count("<testcase") if xml else 0
        self._write(f + ".listed", "".join("integration/test_x.py::t%d\n" % i
                                           for i in range(listed)))

    @staticmethod
    def _write(path, text):
        with open(path, "w") as f:
            f.write(text)

    def test(self, ci=False, interrupt_when=None):
        """`cmd_test` of the sourced script: (exit code, stdout lines); with
        interrupt_when (a file), a Ctrl-C (SIGINT to its process group) as soon as that
        file exists (a hanging fake runner makes it when it starts)."""
        script = ('set -euo pipefail; source "$1"; VENV=$2; BUILD=$3; ASAN_BUILD=$4\n'
                  + FAKE_MESON + "cmd_test\n")
        env = dict(os.environ, CI="true" if ci else "")
        env.pop("TEP_BUILD_DIR", None)
        p = subprocess.Popen(["bash", "-c", script, "tep-test", TEP,
                              os.path.join(self.tmp, "venv"), self.build, self.asan],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, start_new_session=True,
                             preexec_fn=_sigint_default)
        if interrupt_when is not None:
            deadline = time.monotonic() + 60
            while not os.path.exists(interrupt_when) and p.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=60)
        return p.returncode, out.splitlines(), out + err


@pytest.fixture
def run(tmp_path):
    return FakeRun(tmp_path)


def test_green_run_counts_every_runner_and_exits_0(run):
    rc, lines, out = run.test()
    # 3 + 3 unit tests, 2 + 2 scenarios; the self-check is not counted
    assert lines[-1] == "10 passed, 0 failed, 0 skipped", out
    assert rc == 0, out
    assert "test helpers' self-checks: 1 passed (not counted as tep tests)" in out


def test_killed_meson_is_a_failure_even_with_what_it_recorded(run):
    # killed after writing two of the three results it listed, the last line cut short
    run.meson(run.build, meson_lines("OK", "OK") + '{"name": "unit-2", "res', "kill")
    rc, lines, out = run.test()
    assert lines[-1] == "9 passed, 3 failed, 0 skipped", out
    assert rc == 1, out
    assert "is truncated at line 3" in out
    assert "2 of 3 listed tests recorded" in out
    assert "the runner ended with exit code 137 (killed by signal 9)" in out


def test_interrupted_pytest_with_a_green_partial_record_fails(run):
    # pytest interrupted (exit code 2) after one of its two listed scenarios
    run.pytest(run.build, "scenarios", junit("pass"), 2, listed=2)
    rc, lines, out = run.test()
    assert lines[-1] == "9 passed, 2 failed, 0 skipped", out
    assert rc == 1, out
    assert "integration scenarios: 1 of 2 listed tests recorded" in out
    assert "integration scenarios: the runner ended with exit code 2" in out


def test_missing_and_truncated_records_are_failures(run):
    run.pytest(run.build, "scenarios", None, 0, listed=2)            # no junit at all
    run.pytest(run.asan, "scenarios", junit("pass", "pass")[:120], 0)  # cut short
    rc, lines, out = run.test()
    assert lines[-1] == "6 passed, 4 failed, 0 skipped", out
    assert rc == 1, out
    assert "no record" in out and "unreadable or truncated" in out


def test_injected_failures_of_every_kind_are_counted(run):
    run.meson(run.build, meson_lines("OK", "FAIL", "INTERRUPT"), 1)
    run.pytest(run.build, "scenarios", junit("pass", "fail", "error"), 1)
    rc, lines, out = run.test()
    # 1 unit test and 1 scenario pass, and the ASan+UBSan runs' 3 + 2
    assert lines[-1] == "7 passed, 4 failed, 0 skipped", out
    assert rc == 1, out
    assert "FAILED  unit tests: unit-2 (INTERRUPT)" in out
    assert "FAILED  integration scenarios: integration.test_x::t1 (assert 1 == 2)" in out
    assert "FAILED  integration scenarios: integration.test_x::t2 (fixture broke)" in out


def test_runner_exit_code_without_a_recorded_failure_is_a_failure(run):
    run.meson(run.asan, meson_lines("OK", "OK", "OK"), 1)  # e.g. a sanitizer at exit
    rc, lines, out = run.test()
    assert lines[-1] == "10 passed, 1 failed, 0 skipped", out
    assert rc == 1, out


def test_skips_are_shown_with_their_reason_and_fail_in_ci(run):
    run.meson(run.build, meson_lines("OK", "SKIP", "OK"), 0)
    run.pytest(run.build, "scenarios", junit("pass", "skip"), 0)
    rc, lines, out = run.test()
    assert lines[-1] == "8 passed, 0 failed, 2 skipped", out
    assert rc == 0, out
    assert "SKIPPED unit tests: unit-1: skipped: needs 1" in out
    assert "SKIPPED integration scenarios: integration.test_x::t1: tool-1 missing" in out
    rc, lines, out = run.test(ci=True)
    assert lines[-1] == "8 passed, 2 failed, 0 skipped", out
    assert rc == 1, out
    assert "skipped with CI=true (tool-1 missing)" in out


def test_failing_self_check_fails_the_run(run):
    run.pytest(run.build, "selfcheck", junit("fail"), 1)
    rc, lines, out = run.test()
    assert lines[-1] == "10 passed, 1 failed, 0 skipped", out
    assert rc == 1, out


def test_nothing_run_is_not_a_pass(run):
    for b in (run.build, run.asan):
        run.meson(b, "", 0, listed=0)
        run.pytest(b, "scenarios", junit(), 5)  # pytest: no tests collected
    rc, lines, out = run.test()
    assert lines[-1] == "0 passed, 2 failed, 0 skipped", out
    assert rc == 1, out


def test_interrupted_tep_test_counts_what_ran_and_fails(run):
    run.pytest(run.build, "scenarios", junit("pass", "pass"), "hang")
    rc, lines, out = run.test(interrupt_when=os.path.join(run.build, "fake-scenarios.started"))
    # the unit tests ran (3 passed); pytest had written a green record of its 2 scenarios
    # when it died of SIGINT; nothing ran after it
    assert lines[-1] == "5 passed, 2 failed, 0 skipped", out
    assert rc == 130, out
    assert ("FAILED  integration scenarios: the runner ended with exit code 130 (killed by "
            "signal 2)") in out
    assert "FAILED  tep test interrupted" in out
    assert "ASan+UBSan" not in out


def test_interrupted_while_collecting_runs_nothing_more_and_fails(run):
    # Ctrl-C while pytest lists the scenarios: they do not start (no run after the
    # interruption), the interruption fails the run
    fake = os.path.join(run.build, "fake-scenarios")
    open(fake + ".collect-hang", "w").close()
    rc, lines, out = run.test(interrupt_when=fake + ".started")
    assert not os.path.exists(fake + ".ran"), out
    assert lines[-1] == "3 passed, 1 failed, 0 skipped", out
    assert rc == 130, out
    assert "FAILED  tep test interrupted" in out
