"""310: bounded libFuzzer runs of every parser that takes outside input, each target
calling the real code (fuzz/meson.build lists them): tep-cse's request handling from the
datagram up (TS-0008 V3.9.0 6.2: every oneM2M option and the Uri-Path mapping come from
the network; TS-0004 V3.32 6.6/8: any request gets a response status code, never a
crash), the CBOR codec, tokens and the wildcard matcher (linear: more than 8 steps a
byte is a finding), the Uri-Query parser, tep-enroller's /enrol and /cert bodies and the
CSR check, tep-authz's bus messages, POST /token and MAF handlers, and the bus messages
of tep-enroller (admin, sync requests) and tep-cse (sync answers), and the JOSE objects of
end-to-end security (JWE "dir", JWS over any payload). Regression
corpora: fuzz/corpus/<target>.

The fuzzer needs clang (./tep deps installs it) and its own build directory
(<build>-fuzz, ASan+UBSan, libraries instrumented). TEP_FUZZ_SECONDS sets the run time
of fuzz_cse_request (default 60), TEP_FUZZ_SECONDS_EACH that of each other target
(default 30): about 4 minutes in all."""

import os
import shutil
import subprocess
import tempfile

import pytest

from harness import BUILD, ROOT

FUZZ_BUILD = BUILD.rstrip("/") + "-fuzz"
TARGETS = ["cse_request", "cbor", "token", "query", "enroller", "authz", "bus", "digest",
           "jose"]
SECONDS = int(os.environ.get("TEP_FUZZ_SECONDS", "60"))
SECONDS_EACH = int(os.environ.get("TEP_FUZZ_SECONDS_EACH", "30"))
SETUP_ARGS = ["-Db_sanitize=address,undefined", "-Db_lundef=false",
              "-Dc_args=-fsanitize=fuzzer-no-link", "-Dwerror=false", "-Dtests=false",
              "-Dbuildtype=debugoptimized"]


def _run(argv, env, timeout):
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, errors="replace", timeout=timeout)
    assert p.returncode == 0, "$ %s\n%s\n%s" % (" ".join(argv), p.stdout[-3000:],
                                                 p.stderr[-3000:])


def _build_fuzzer():
    env = dict(os.environ, CC="clang",
               PKG_CONFIG_PATH=os.path.join(ROOT, ".deps", "libcoap", "lib", "pkgconfig"))
    if not os.path.exists(os.path.join(FUZZ_BUILD, "build.ninja")):
        _run(["meson", "setup", FUZZ_BUILD] + SETUP_ARGS, env, 600)
    jobs = os.environ.get("TEP_JOBS", "2")
    _run(["ninja", "-C", FUZZ_BUILD, "-j", jobs] + ["fuzz/fuzz_" + t for t in TARGETS], env,
         1500)


@pytest.fixture(scope="module")
def fuzz_build():
    _build_fuzzer()


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang is not installed "
                    "(./tep deps installs it)")
@pytest.mark.parametrize("name", TARGETS)
def test_fuzz_bounded_run(fuzz_build, name):
    TARGET = os.path.join(FUZZ_BUILD, "fuzz", "fuzz_" + name)
    CORPUS = os.path.join(ROOT, "fuzz", "corpus", name)
    seconds = SECONDS if name == "cse_request" else SECONDS_EACH
    work = tempfile.mkdtemp(prefix="tep-fuzz-run-")
    scratch = os.path.join(work, "corpus")
    shutil.copytree(CORPUS, scratch)
    argv = [TARGET, "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2048",
            "-max_len=4096", "-print_final_stats=1", "-artifact_prefix=" + work + "/",
            scratch, CORPUS]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", timeout=seconds + 120,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1",
                                UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"))
    found = sorted(f for f in os.listdir(work) if f.startswith(("crash-", "leak-", "timeout-",
                                                                  "oom-")))
    if p.returncode == 0 and not found:
        shutil.rmtree(work, ignore_errors=True)
        return
    raise AssertionError(
        "fuzz_%s found a problem (exit %d); inputs kept in %s: %s\n"
        "replay: %s %s/<input>; once fixed, add the input to fuzz/corpus/%s/\n%s"
        % (name, p.returncode, work, found, TARGET, work, name, p.stderr[-6000:]))
