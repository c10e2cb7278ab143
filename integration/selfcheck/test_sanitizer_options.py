"""Self-check of the test set-up, not a tep test: the sanitizer options `./tep test`
gives the ASan+UBSan run (SAN_ASAN, SAN_UBSAN in the tep script) make a report fail,
and the harness recognises one. A small program with undefined behaviour and one with
a heap overflow, built with the same -fsanitize flags as build-asan, must exit with the
script's code 86, their output must fail harness.assert_no_sanitizer_report."""

import os
import shutil
import subprocess

import pytest

import harness

UB = "#include <limits.h>\nint main(int c, char **v) { int i = INT_MAX - 1 + c; (void)v;" \
     " i += c; return i & 1; }\n"
OVERFLOW = "#include <stdlib.h>\nint main(int c, char **v) { char *p = malloc(4); (void)v;" \
           " p[c + 3] = 1; free(p); return 0; }\n"


def _tep_options():
    out = subprocess.run(["bash", "-c", 'source "$1"; echo "$SAN_ASAN=0"; echo "$SAN_UBSAN"',
                          "x", os.path.join(harness.ROOT, "tep")],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"ASAN_OPTIONS": out[0], "UBSAN_OPTIONS": out[1]}


@pytest.mark.parametrize("source", [UB, OVERFLOW], ids=["ubsan", "asan"])
def test_a_report_fails(tmp_path, source):
    gcc = shutil.which("gcc") or shutil.which("cc")
    src, exe = tmp_path / "t.c", tmp_path / "t"
    src.write_text(source)
    subprocess.run([gcc, "-O0", "-fsanitize=address,undefined", "-o", str(exe), str(src)],
                   check=True)
    env = dict(os.environ, **_tep_options())
    env.pop("LD_PRELOAD", None)
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=env)
    assert p.returncode == harness.SANITIZER_EXIT_CODE, (p.returncode, p.stderr)
    with pytest.raises(AssertionError, match="sanitizer report"):
        harness.assert_no_sanitizer_report("t", p.stderr)
    with pytest.raises(AssertionError, match="sanitizer report"):
        harness.assert_no_sanitizer_report("t", "", p.returncode)
