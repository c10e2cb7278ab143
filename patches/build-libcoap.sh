#!/usr/bin/env bash
# Builds libcoap 4.3.1 from Debian 12's source package with tep's patch
# (patches/libcoap-4.3.1-tep.patch), static, OpenSSL DTLS backend, into .deps/libcoap,
# with a pkg-config file "libcoap-3-openssl". Idempotent: does nothing when the
# install matches the patch. Uses apt-get only: no other download.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"
prefix="$deps/libcoap"
patch="$top/patches/libcoap-4.3.1-tep.patch"
version=4.3.1
stamp="$prefix/.tep-stamp"
want=$(cat "$patch" "$0" | sha256sum | cut -d' ' -f1) # contents only: a checkout at another path (a worktree) reuses the install

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

# One build at a time (two ./tep commands at once would delete each other's tree).
mkdir -p "$deps"
exec 9>"$deps/.libcoap.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

say() { echo "build-libcoap: $*" >&2; }

# apt-get source needs deb-src entries; derive them from the machine's own sources.
ensure_deb_src() {
    if apt-get source --print-uris -q "libcoap3=$version-1" >/dev/null 2>&1; then
        return 0
    fi
    say "adding deb-src entries derived from the apt sources"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            > /etc/apt/sources.list.d/tep-deb-src.sources
    fi
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/tep-deb-src.list
    fi
    apt-get update -q >/dev/null
}

src_root="$deps/src"
src="$src_root/libcoap3-$version"
mkdir -p "$src_root"
if [ ! -d "$src" ]; then
    ensure_deb_src
    say "fetching the Debian source package libcoap3 $version"
    (cd "$src_root" && apt-get source -q --download-only "libcoap3=$version-1" >/dev/null 2>&1 &&
        dpkg-source -x "libcoap3_$version-1.dsc" >/dev/null)
fi

work="$deps/build/libcoap-src"
rm -rf "$work" "$deps/build/libcoap"
mkdir -p "$deps/build"
cp -r "$src" "$work"
say "applying $(basename "$patch")"
(cd "$work" && patch -p1 --quiet < "$patch")

# Certificate (PKI) sessions: AEAD suites only, as the PSK ones (libcoap's default
# "TLSv1.3:TLSv1.2:!NULL" also lets the TLS 1.2 CBC-SHA256/384 suites through).
# TS-0003 10.2.3's mandatory TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 is in AESCCM.
pki_ciphers="TLSv1.3:AESCCM:AESGCM:CHACHA20:ARIAGCM:!NULL:!aNULL"
say "configuring (static, DTLS backend OpenSSL)"
cmake -S "$work" -B "$deps/build/libcoap" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DBUILD_SHARED_LIBS=OFF \
    -DENABLE_DTLS=ON -DDTLS_BACKEND=openssl \
    -DENABLE_TCP=OFF -DENABLE_EXAMPLES=OFF -DENABLE_DOCS=OFF -DENABLE_TESTS=OFF \
    "-DCMAKE_C_FLAGS=-DCOAP_OPENSSL_CIPHERS=\\\"$pki_ciphers\\\"" \
    >"$deps/build/libcoap-cmake.log" 2>&1 || { tail -30 "$deps/build/libcoap-cmake.log"; exit 1; }
say "building"
ninja -C "$deps/build/libcoap" install >"$deps/build/libcoap-build.log" 2>&1 ||
    { tail -30 "$deps/build/libcoap-build.log"; exit 1; }

lib=$(cd "$prefix" && ls lib*/libcoap-3*.a | head -n1)
libdir=$(dirname "$lib")
libname=$(basename "$lib" .a); libname=${libname#lib}
mkdir -p "$prefix/$libdir/pkgconfig"
cat > "$prefix/$libdir/pkgconfig/libcoap-3-openssl.pc" <<PC
prefix=$prefix
libdir=\${prefix}/$libdir
includedir=\${prefix}/include

Name: libcoap-3-openssl
Description: libcoap $version with tep's patch (static, OpenSSL DTLS)
Version: $version
Requires.private: openssl
Libs: -L\${libdir} -l$libname
Libs.private: -lssl -lcrypto
Cflags: -I\${includedir}
PC
if [ "$libdir" != lib ]; then
    mkdir -p "$prefix/lib"; ln -sfn "../$libdir/pkgconfig" "$prefix/lib/pkgconfig"
fi
echo "$want" > "$stamp"
say "installed into $prefix"
