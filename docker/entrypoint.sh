#!/bin/sh
# tep container entrypoint: one service per container (docker/README.md).
#
#   enroller | authz | cse | bsf [ARGS]  run that daemon in the foreground (logs on stderr)
#   health SERVICE                   exit 0 when SERVICE answers "tepctl status" on its
#                                    admin socket (the compose health check)
#   tepctl ARGS                      tepctl against the admin socket of this container's
#                                    daemon ($TEP_SERVICE), with its configuration
#   provision NAME[=TARGET]...       one-shot: pre-provision each enrolee NAME at the
#                                    enroller (for the CSE TARGET, e.g. /mn-cse1, when
#                                    given), writing /var/lib/tep/device/NAME.prov (kept
#                                    if present)
#   pki [--renew]                    one-shot: tep-cse's and tep-authz's certificates from
#                                    the tep CA into /var/lib/tep/cert-{cse,authz} (reused
#                                    while valid for another day, unless --renew); then
#                                    each gateway of $TEP_PKI_GATEWAYS (mn-cse1 ...):
#                                    enrolee NAME with Enrolee-ID /NAME, its provisioning
#                                    file into /var/lib/tep/gw/NAME/registrar.prov
#   keygen NAME...                   a CURVE key pair per NAME (as every daemon makes
#                                    its own), printed as "NAME SECRET PUBLIC" lines (Z85)
#                                    for docker/stack.sh to store as Swarm secrets/configs
#   stack-bootstrap GATEWAY...       inside a first, bare tep-enroller (docker/stack.sh):
#                                    tep-cse's and tep-authz's certificates and each
#                                    gateway's provisioning file into /tmp/tep-stack
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
    sed -n '2,32s/^# \{0,1\}//p' "$0"
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

# gateway_enrolee NAME: the MN-CSE NAME (CSE-ID /NAME) as an enrolee like any device
# (docs/cse.md "CSE registration"): provisioned once with its CSE-ID as Enrolee-ID (the
# file kept in $pkidir), copied into the gateway's own volume, mounted here at
# /var/lib/tep/gw/NAME, where its tep-cse reads it ([registrar] provisioning); it enrols
# itself at its first start.
gateway_enrolee() {
    name=$1
    prov=$pkidir/$name.prov dest=/var/lib/tep/gw/$name/registrar.prov
    if [ ! -d "/var/lib/tep/gw/$name" ] || [ ! -w "/var/lib/tep/gw/$name" ]; then
        say "pki: gateway $name: its volume is not mounted at /var/lib/tep/gw/$name"
        return 1
    fi
    if [ ! -s "$prov" ]; then
        say "pki: gateway $name: provisioning enrolee $name with identifier /$name at the enroller"
        if ! tepctl --config "$conf/pki.ini" enrolee add "$name" --ae-id "/$name" \
            --mef-uri "$mef" --out "$prov" >/dev/null; then
            say "pki: gateway $name: the enroller refused enrolee $name (provisioned before," \
                "and its provisioning file lost with the pki-data volume? 'docker compose" \
                "down -v' starts the platform over)"
            return 1
        fi
    fi
    if cmp -s "$prov" "$dest"; then
        say "pki: gateway $name: provisioning file in place"
        return 0
    fi
    cp "$prov" "$dest.tmp"
    chmod 0600 "$dest.tmp"
    mv -f "$dest.tmp" "$dest"
    say "pki: gateway $name: provisioning file written to $dest"
}

# resolve HOST: its IPv4 address (the first), HOST itself when it is one, else nothing.
resolve() {
    case $1 in
    *[!0-9.]*) getent ahostsv4 "$1" 2>/dev/null | awk '{ print $1; exit }' ;;
    *) printf '%s\n' "$1" ;;
    esac
}

# mn_cse POA [ARGS]: tep-cse as an MN-CSE whose [registrar] poa names its registrar by
# host name (coaps://cse:5684). tep-cse takes a numeric address there (it never waits
# for DNS in its loop), so the name is resolved here and given as TEP_REGISTRAR_POA;
# every 5 s it is resolved again, and when the registrar has moved (its container
# re-created with another address) tep-cse is stopped and this exits 75: the restart
# policy starts the gateway again, which registers at the new address. A numeric poa:
# tep-cse is simply exec'd.
mn_cse() {
    poa=$1
    shift
    rest=${poa#*://}
    host=${rest%%:*}
    [ -n "$(printf '%s' "$host" | tr -d '0-9.')" ] || return 0
    addr=
    while [ -z "$addr" ]; do
        addr=$(resolve "$host")
        [ -n "$addr" ] || { say "registrar $host does not resolve yet"; sleep 2; }
    done
    TEP_REGISTRAR_POA=${poa%%://*}://$addr${rest#"$host"}
    export TEP_REGISTRAR_POA
    say "starting tep-cse with $conf/cse.ini; registrar $poa at $TEP_REGISTRAR_POA"
    tep-cse --config "$conf/cse.ini" "$@" &
    pid=$!
    stopping=
    trap 'stopping=1; kill -TERM "$pid" 2>/dev/null' TERM INT
    while [ -z "$stopping" ] && kill -0 "$pid" 2>/dev/null; do
        sleep 5 &
        wait $! || true
        now=$(resolve "$host")
        if [ -z "$stopping" ] && [ -n "$now" ] && [ "$now" != "$addr" ]; then
            say "registrar $host moved from $addr to $now: restarting tep-cse"
            kill -TERM "$pid"
            wait "$pid" || true
            exit 75
        fi
    done
    rc=0
    wait "$pid" || rc=$?
    exit "$rc"
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
enroller | authz | bsf)
    say "starting tep-$cmd with $conf/$cmd.ini"
    exec "tep-$cmd" --config "$conf/$cmd.ini" "$@"
    ;;
cse)
    poa=$(ini_get "$conf/cse.ini" registrar poa)
    if [ "$(ini_get "$conf/cse.ini" cse type)" = MN ] && [ -n "$poa" ]; then
        mn_cse "$poa" "$@"
    fi
    say "starting tep-cse with $conf/cse.ini"
    exec tep-cse --config "$conf/cse.ini" "$@"
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
    for arg in "$@"; do
        name=${arg%%=*}
        out=$devdir/$name.prov
        if [ -s "$out" ]; then
            say "$out exists: $name is already provisioned"
            continue
        fi
        if [ "$name" = "$arg" ]; then
            set --
            say "provisioning $name at the enroller"
        else
            set -- --target "${arg#*=}"
            say "provisioning $name at the enroller for the CSE ${arg#*=}"
        fi
        tepctl --config "$conf/tepctl.ini" enrolee add "$name" "$@" \
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
    for gw in ${TEP_PKI_GATEWAYS:-}; do
        gateway_enrolee "$gw"
    done
    ;;
keygen)
    [ $# -gt 0 ] || { say "keygen NAME..."; exit 1; }
    umask 077
    kd=$(mktemp -d)
    for name in "$@"; do
        # tepctl makes its key pair on first use, as the daemons do ([bus] curve_key,
        # curve_name); nothing listens at the admin endpoint, so it stops there
        printf '[bus]\ncurve = true\ncurve_dir = %s\ncurve_key = %s/%s.key\ncurve_name = %s\n' \
            "$kd" "$kd" "$name" "$name" >"$kd/keygen.ini"
        tepctl --config "$kd/keygen.ini" --admin tcp://127.0.0.1:9 --timeout 50 status enroller \
            >/dev/null 2>&1 || true
        if [ ! -s "$kd/$name.key" ] || [ ! -s "$kd/$name.pub" ]; then
            say "keygen: no key pair made for $name"
            rm -rf "$kd"
            exit 1
        fi
        printf '%s %s %s\n' "$name" "$(cat "$kd/$name.key")" "$(cat "$kd/$name.pub")"
    done
    rm -rf "$kd"
    ;;
stack-bootstrap)
    # The tep CA and the gateways' enrolees exist only once tep-enroller ran: this runs
    # in a first tep-enroller started alone on the stack's enroller volume, before the
    # stack (docker/stack.sh init), with the container's own bus-keys (tepctl's key pair
    # from conf/pki.ini). Files for Swarm secrets go to /tmp/tep-stack.
    umask 077
    sb=/tmp/tep-stack
    pkidir=$sb renew=1 mef=coaps://127.0.0.1:5784
    mkdir -p "$sb/cert-cse" "$sb/cert-authz"
    platform_cert tep-cse "$(ini_get "$conf/cse.ini" cse cse_id)" "$sb/cert-cse"
    platform_cert tep-maf "$(ini_get "$conf/authz.ini" authz maf_id)" "$sb/cert-authz"
    for gw in "$@"; do
        say "stack-bootstrap: gateway $gw: provisioning enrolee $gw with identifier /$gw"
        tepctl --config "$conf/pki.ini" enrolee add "$gw" --ae-id "/$gw" \
            --mef-uri coaps://enroller:5784 --out "$sb/$gw.prov" >/dev/null
    done
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
