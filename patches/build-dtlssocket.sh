#!/usr/bin/env bash
# Installs DTLSSocket 0.2.3 (Cython wrapper of Eclipse tinydtls, aiocoap's "tinydtls"
# transport) with tep's patch (patches/dtlssocket-0.2.3-tep.patch) into the venv given
# as $1: PSK up to 32 bytes, identity up to 64, SNI in the ClientHello. The source is
# the sdist from PyPI, fetched with pip (its hash is checked below); nothing is vendored.
# Idempotent: does nothing when the venv's build matches the patch and this script.
set -euo pipefail

venv=${1:?usage: build-dtlssocket.sh VENV}
top=$(cd "$(dirname "$0")/.." && pwd)
[[ $venv == /* ]] || venv=$top/$venv
deps="$top/.deps"
patch="$top/patches/dtlssocket-0.2.3-tep.patch"
version=0.2.3
# sha256 of PyPI's dtlssocket-0.2.3.tar.gz
sdist_sha256=f06cbe32df8562dbbccbe274aaf27d2773e8492a86c41c334b3a0a70a50037cf
stamp="$venv/.tep-dtlssocket-stamp"
want=$(cat "$patch" "$0" | sha256sum | cut -d" " -f1)  # contents only, not paths

up_to_date() {
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
        "$venv/bin/python" -c "import DTLSSocket.dtls" 2>/dev/null
}
up_to_date && exit 0

# one build at a time (./tep deps may run from several commands at once): they share
# the sdist and the work tree
mkdir -p "$deps"
exec 9>"$deps/.dtlssocket.lock"
flock 9
up_to_date && exit 0

say() { echo "build-dtlssocket: $*" >&2; }

src_root="$deps/src"
sdist="$src_root/dtlssocket-$version.tar.gz"
mkdir -p "$src_root"
if [ ! -f "$sdist" ]; then
    say "fetching the DTLSSocket $version sdist from PyPI"
    # --no-binary for DTLSSocket only: its build requirements (Cython, setuptools)
    # come as wheels, not built from source (":all:" costs minutes on a fresh cache)
    "$venv/bin/pip" download --quiet --no-binary DTLSSocket --no-deps -d "$src_root" \
        "DTLSSocket==$version" >/dev/null
fi
echo "$sdist_sha256  $sdist" | sha256sum --check --quiet ||
    { say "$sdist: unexpected sha256 (not PyPI's DTLSSocket $version sdist?)"; exit 1; }

work="$deps/build/dtlssocket-src"
rm -rf "$work"
mkdir -p "$work"
tar -xzf "$sdist" -C "$work" --strip-components=1
say "applying $(basename "$patch")"
(cd "$work" && patch -p1 --quiet < "$patch")

say "building and installing into $venv (tinydtls: autogen.sh, configure, Cython)"
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$work" \
    >"$deps/build/dtlssocket-build.log" 2>&1 ||
    { tail -30 "$deps/build/dtlssocket-build.log"; exit 1; }
"$venv/bin/python" -c "import DTLSSocket.dtls" ||
    { say "the installed DTLSSocket does not import"; exit 1; }
echo "$want" > "$stamp"
say "installed DTLSSocket $version with tep's patch"
