#!/bin/sh
# tep container entrypoint: one service per container (docker/README.md).
#
#   enroller | authz | cse [ARGS]    run that daemon in the foreground (logs on stderr)
#   health SERVICE                   exit 0 when SERVICE answers "tepctl status" on its
#                                    admin socket (the compose health check)
#   tepctl ARGS                      tepctl against the admin socket of this container's
#                                    daemon ($TEP_SERVICE), with its configuration
#   provision NAME                   one-shot: pre-provision enrolee NAME at the enroller,
#                                    writing /var/lib/tep/device/NAME.prov (kept if present)
#   device NAME [COMMAND ARGS]       tep-device for NAME (default command: run)
#
# Configuration: $TEP_CONF_DIR (default /etc/tep)/<service>.ini, each key overridable by
# TEP_<SECTION>_<KEY> in the environment (read by the programs themselves).
set -eu

conf=${TEP_CONF_DIR:-/etc/tep}
devdir=${TEP_DEVICE_DIR:-/var/lib/tep/device}

say() { printf 'tep-entrypoint: %s\n' "$*" >&2; }

usage() {
    sed -n '2,14s/^# \{0,1\}//p' "$0"
}

# ini_get FILE SECTION KEY: the environment override TEP_<SECTION>_<KEY>, else the value
# in FILE (first match), else nothing.
ini_get() {
    var=$(printf 'TEP_%s_%s' "$2" "$3" | tr 'a-z.-' 'A-Z__')
    val=$(printenv "$var" || true)
    if [ -n "$val" ]; then
        printf '%s\n' "$val"
        return 0
    fi
    awk -v s="$2" -v k="$3" '
        /^[ \t]*[;#]/ { next }
        /^[ \t]*\[/ { gsub(/[][ \t]/, ""); sec = $0; next }
        sec == s && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1); gsub(/[ \t]/, "", key)
            if (key != k) next
            v = substr($0, index($0, "=") + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]*;.*$/, "", v)
            sub(/[ \t]+$/, "", v); print v; exit
        }' "$1"
}

# The admin socket of SERVICE as a client reaches it: a tcp:// bind address has its host
# replaced by the CURVE name (the compose service name), which is also the name of the
# server key clients must use.
admin_endpoint() {
    ini=$conf/$1.ini
    ep=$(ini_get "$ini" bus admin)
    case $ep in
    tcp://*) printf 'tcp://%s:%s\n' "$(ini_get "$ini" bus curve_name)" "${ep##*:}" ;;
    *) printf '%s\n' "$ep" ;;
    esac
}

check_service() {
    case ${1:-} in
    enroller | authz | cse) ;;
    *) say "unknown service '${1:-}' (enroller, authz or cse)"; exit 1 ;;
    esac
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case $cmd in
enroller | authz | cse)
    say "starting tep-$cmd with $conf/$cmd.ini"
    exec "tep-$cmd" --config "$conf/$cmd.ini" "$@"
    ;;
health)
    check_service "${1:-}"
    exec tepctl --config "$conf/$1.ini" --admin "$(admin_endpoint "$1")" --timeout 2000 \
        status "$1" >/dev/null
    ;;
tepctl)
    svc=${TEP_SERVICE:-enroller}
    check_service "$svc"
    exec tepctl --config "$conf/$svc.ini" --admin "$(admin_endpoint "$svc")" "$@"
    ;;
provision)
    name=${1:?provision NAME}
    out=$devdir/$name.prov
    if [ -s "$out" ]; then
        say "$out exists: $name is already provisioned"
        exit 0
    fi
    say "provisioning $name at the enroller"
    exec tepctl --config "$conf/tepctl.ini" enrolee add "$name" \
        --mef-uri "${TEP_DEVICE_MEF_URI:-coaps://enroller:5784}" --out "$out"
    ;;
device)
    name=${1:?device NAME [COMMAND]}
    shift
    [ $# -gt 0 ] || set -- run
    exec tep-device --provisioning "$devdir/$name.prov" --state "$devdir/$name.state" "$@"
    ;;
help | --help | -h)
    usage
    ;;
*)
    say "unknown command '$cmd'"
    usage >&2
    exit 1
    ;;
esac
