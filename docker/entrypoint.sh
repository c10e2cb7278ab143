#!/bin/sh
# tep container entrypoint: one service per container (docker/README.md).
#
#   enroller | authz | cse | bsf [ARGS]  run that daemon in the foreground (logs on stderr)
#   health SERVICE                   exit 0 when SERVICE answers "tepctl status" on its
#                                    admin socket (the compose health check)
#   tepctl ARGS                      tepctl against the admin socket of this container's
#                                    daemon ($TEP_SERVICE), with its configuration
#   provision NAME...                one-shot: pre-provision each enrolee NAME at the
#                                    enroller, writing /var/lib/tep/device/NAME.prov (kept
#                                    if present)
#   pki [--renew]                    one-shot: tep-cse's and tep-authz's certificates from
#                                    the tep CA into /var/lib/tep/cert-{cse,authz} (reused
#                                    while valid for another day, unless --renew)
#   device NAME [COMMAND ARGS]       tep-device for NAME (default command: run)
#   cert-device NAME                 tep-device for NAME: cert (unless it has a valid
#                                    certificate), then cert-run (the certificate SAEF)
#
# Configuration: $TEP_CONF_DIR (default /etc/tep)/<service>.ini, each key overridable by
# TEP_<SECTION>_<KEY> in the environment (read by the programs themselves).
set -eu

conf=${TEP_CONF_DIR:-/etc/tep}
devdir=${TEP_DEVICE_DIR:-/var/lib/tep/device}

say() { printf 'tep-entrypoint: %s\n' "$*" >&2; }

usage() {
    sed -n '2,21s/^# \{0,1\}//p' "$0"
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

# valid_cert CERT DAYS_SECS [ID]: CERT is valid for another DAYS_SECS seconds (and names
# onem2m:ID as its subjectAltName URI).
valid_cert() {
    [ -s "$1" ] && openssl x509 -checkend "$2" -noout -in "$1" >/dev/null 2>&1 || return 1
    [ -z "${3:-}" ] ||
        openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null | tr ',' '\n' |
        sed 's/^[[:space:]]*//' | grep -qxF "URI:onem2m:$3"
}

cert_info() { # CERT -> "serial=... notAfter=..."
    openssl x509 -noout -serial -enddate -in "$1" | tr '\n' ' ' | sed 's/ $//'
}

# platform_cert NAME ID OUT: the certificate of the platform's entity ID (tep-cse: the
# CSE-ID, tep-authz: the MAF-ID) the way any entity gets one (docs/internals.md,
# "Certificate SAEF"): enrolee NAME with identifier ID (provisioning file in $pkidir, made
# once), certificate enrolment, then OUT/{cert,key,ca}.pem (0600, replaced atomically).
# Reused as they are while valid for another day and naming ID (unless $renew).
platform_cert() {
    name=$1 id=$2 out=$3
    prov=$pkidir/$name.prov state=$pkidir/$name.state
    if [ -z "$id" ]; then
        say "pki: $name: no identifier in the configuration"
        return 1
    fi
    if [ -z "$renew" ] && [ -s "$out/key.pem" ] && [ -s "$out/ca.pem" ] && valid_cert "$out/cert.pem" 86400 "$id" &&
        openssl verify -CAfile "$out/ca.pem" "$out/cert.pem" >/dev/null 2>&1; then
        say "pki: $name: reusing $out/cert.pem ($(cert_info "$out/cert.pem"), onem2m:$id)"
        return 0
    fi
    if [ ! -s "$prov" ]; then
        say "pki: $name: provisioning enrolee $name with identifier $id at the enroller"
        if ! tepctl --config "$conf/pki.ini" enrolee add "$name" --ae-id "$id" \
            --mef-uri "$mef" --out "$prov" >/dev/null; then
            say "pki: $name: the enroller refused enrolee $name (provisioned before, and its" \
                "provisioning file lost with the pki-data volume? 'docker compose down -v'" \
                "starts the platform over)"
            return 1
        fi
    fi
    say "pki: $name: certificate enrolment at $mef"
    if ! tep-device --provisioning "$prov" --state "$state" cert >"$pkidir/$name.cert.out" 2>&1; then
        cat "$pkidir/$name.cert.out" >&2
        say "pki: $name: certificate enrolment failed"
        return 1
    fi
    if ! valid_cert "$state.crt.pem" 86400 "$id"; then
        say "pki: $name: the issued certificate does not name onem2m:$id or expires within" \
            "a day (enrolee $name was provisioned for another identifier or lifetime;" \
            "'docker compose down -v' starts the platform over)"
        return 1
    fi
    for f in crt:cert key:key ca:ca; do
        cp "$state.${f%%:*}.pem" "$out/.${f#*:}.pem.tmp"
        chmod 0600 "$out/.${f#*:}.pem.tmp"
    done
    for f in cert key ca; do
        mv -f "$out/.$f.pem.tmp" "$out/$f.pem"
    done
    say "pki: $name: issued $out/cert.pem ($(cert_info "$out/cert.pem"), onem2m:$id)"
}

check_service() {
    case ${1:-} in
    enroller | authz | cse | bsf) ;;
    *) say "unknown service '${1:-}' (enroller, authz, cse or bsf)"; exit 1 ;;
    esac
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case $cmd in
enroller | authz | cse | bsf)
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
    [ $# -gt 0 ] || { say "provision NAME..."; exit 1; }
    for name in "$@"; do
        out=$devdir/$name.prov
        if [ -s "$out" ]; then
            say "$out exists: $name is already provisioned"
            continue
        fi
        say "provisioning $name at the enroller"
        tepctl --config "$conf/tepctl.ini" enrolee add "$name" \
            --mef-uri "${TEP_DEVICE_MEF_URI:-coaps://enroller:5784}" --out "$out"
    done
    ;;
pki)
    case ${1:-} in
    '') renew= ;;
    --renew) renew=1 ;;
    *) say "pki [--renew]"; exit 1 ;;
    esac
    umask 077
    pkidir=${TEP_PKI_DIR:-/var/lib/tep/pki}
    mef=${TEP_PKI_MEF_URI:-coaps://enroller:5784}
    platform_cert tep-cse "$(ini_get "$conf/cse.ini" cse cse_id)" /var/lib/tep/cert-cse
    platform_cert tep-maf "$(ini_get "$conf/authz.ini" authz maf_id)" /var/lib/tep/cert-authz
    ;;
device)
    name=${1:?device NAME [COMMAND]}
    shift
    [ $# -gt 0 ] || set -- run
    exec tep-device --provisioning "$devdir/$name.prov" --state "$devdir/$name.state" "$@"
    ;;
cert-device)
    name=${1:?cert-device NAME}
    state=$devdir/$name.state
    set -- --provisioning "$devdir/$name.prov" --state "$state"
    if valid_cert "$state.crt.pem" 0; then
        say "$name: reusing its certificate ($(cert_info "$state.crt.pem"))"
    else
        tep-device "$@" cert
    fi
    exec tep-device "$@" cert-run
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
