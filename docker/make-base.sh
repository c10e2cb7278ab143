#!/bin/sh
# Builds a Debian 12 (bookworm) base image without any image registry: debootstrap of
# the minbase variant into a temporary folder, then "docker import". Needs root,
# debootstrap and a Docker engine. The Dockerfile takes it as its BASE:
#   docker/make-base.sh                       # -> tep-base:bookworm
#   TEP_BASE=tep-base:bookworm docker compose -f docker/docker-compose.yml build
# Usage: make-base.sh [TAG]    Environment: TEP_DEBIAN_MIRROR (default: the first
# Debian mirror in this machine's apt sources, else http://deb.debian.org/debian).
set -eu

tag=${1:-tep-base:bookworm}

host_mirror() {
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -f "$f" ] || continue
        m=$(sed -n -e 's/^URIs:[ \t]*\([^ \t]*\/debian\)\/\{0,1\}[ \t]*$/\1/p' \
                   -e 's/^deb[ \t]\{1,\}\(\[[^]]*\][ \t]\{1,\}\)\{0,1\}\([^ \t]*\/debian\)\/\{0,1\}[ \t].*/\2/p' \
                   "$f" | head -n1)
        if [ -n "$m" ]; then
            printf '%s\n' "$m"
            return 0
        fi
    done
    printf '%s\n' http://deb.debian.org/debian
}

mirror=${TEP_DEBIAN_MIRROR:-$(host_mirror)}
command -v debootstrap >/dev/null || { echo "make-base: debootstrap is not installed" >&2; exit 1; }
dir=$(mktemp -d /tmp/tep-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

echo "make-base: debootstrap bookworm (minbase) from $mirror" >&2
debootstrap --variant=minbase bookworm "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    { tail -20 "$dir/debootstrap.log" >&2; exit 1; }
# The same archive for updates as the official image, and no downloaded lists kept.
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
    >"$dir/rootfs/etc/apt/sources.list"
rm -rf "$dir"/rootfs/var/lib/apt/lists/* "$dir"/rootfs/var/cache/apt/*.bin
echo "make-base: importing as $tag" >&2
tar -C "$dir/rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "$tag"
