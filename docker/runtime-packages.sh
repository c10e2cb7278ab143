#!/bin/sh
# Prints the Debian packages that own the shared libraries the given binaries load
# (Dockerfile builder stage -> the runtime stage installs exactly these). Fails when a
# library belongs to no package (e.g. one built here), so the image never ships a
# binary that cannot start. Usage: runtime-packages.sh BINARY...
set -eu
for lib in $(ldd "$@" | awk '$3 ~ /^\// {print $3}' | sort -u); do
    # usrmerge: dpkg knows a library under /usr/lib or /lib, ldd may name either.
    real=$(readlink -f "$lib")
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null ||
        dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null) ||
        { echo "runtime-packages: no package owns $lib" >&2; exit 1; }
    printf '%s\n' "$owner" | head -n1 | cut -d: -f1
done | sort -u
