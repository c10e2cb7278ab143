#!/bin/sh
# tep as a Docker Swarm stack (docker/README.md "Swarm"). Run on a swarm manager, with
# the image (TEP_IMAGE, default tep:latest) on every node that runs a task.
#
#   stack.sh init [STACK]      once: the stack's Swarm secrets and configs, named
#                              STACK_*: a CURVE key pair per service (secret key as a
#                              secret, public key as a config); then a first tep-enroller,
#                              alone on the volume STACK_enroller-data, makes the tep CA
#                              and issues tep-cse's and tep-authz's certificates and the
#                              gateways' provisioning files, which become secrets too.
#                              Whatever exists already is kept.
#   stack.sh deploy [STACK]    docker stack deploy -c docker-stack.yml STACK
#   stack.sh rm [STACK] [--purge]   docker stack rm, waits until its tasks are gone;
#                              --purge also removes its secrets, configs and volumes
#                              (a fresh platform at the next init)
# STACK defaults to "tep".
set -eu

here=$(cd "$(dirname "$0")" && pwd)
image=${TEP_IMAGE:-tep:latest}
services="enroller authz pdp1 pdp2 cse mn-cse1 mn-cse2"
gateways="mn-cse1 mn-cse2"

say() { printf 'stack.sh: %s\n' "$*" >&2; }

has_secret() { docker secret inspect "$1" >/dev/null 2>&1; }

# secret NAME FILE-IN-CONTAINER: docker secret create NAME from a file of the bootstrap
# container, never written on this host
secret_from() {
    docker exec "$boot" cat "$2" | docker secret create "$1" - >/dev/null
    say "secret $1"
}

init() {
    stack=$1
    for n in $services; do
        if has_secret "${stack}_curve_$n"; then
            continue
        fi
        line=$(docker run --rm "$image" keygen "$n")
        set -- $line
        docker config rm "${stack}_pub_$n" >/dev/null 2>&1 || true
        printf '%s\n' "$2" | docker secret create "${stack}_curve_$n" - >/dev/null
        printf '%s\n' "$3" | docker config create "${stack}_pub_$n" - >/dev/null
        say "CURVE key pair of $n: secret ${stack}_curve_$n, config ${stack}_pub_$n"
    done
    missing=
    for s in ca cse_cert cse_key authz_cert authz_key; do
        has_secret "${stack}_$s" || missing=1
    done
    for g in $gateways; do
        has_secret "${stack}_prov_$g" || missing=1
    done
    [ -n "$missing" ] || { say "secrets of $stack complete"; return 0; }
    if docker service inspect "${stack}_enroller" >/dev/null 2>&1; then
        say "$stack is deployed but lacks PKI secrets: 'stack.sh rm $stack --purge' first"
        return 1
    fi
    # A first tep-enroller, alone, on the stack's enroller volume: it makes the tep CA
    # and its event log, which the stack's enroller then carries on.
    boot=${stack}-bootstrap
    docker rm -f "$boot" >/dev/null 2>&1 || true
    docker volume create "${stack}_enroller-data" >/dev/null
    trap 'docker rm -f "$boot" >/dev/null 2>&1 || true' EXIT
    docker run -d --name "$boot" --hostname enroller --init -e TEP_BUS_ZN= \
        -v "${stack}_enroller-data:/var/lib/tep/enroller" "$image" enroller >/dev/null
    i=0
    until why=$(docker exec "$boot" tep-entrypoint health enroller 2>&1); do
        i=$((i + 1))
        if [ "$i" -gt 60 ]; then
            docker logs "$boot" 2>&1 | tail -20 >&2
            say "the bootstrap enroller did not answer its health check: $why"
            return 1
        fi
        sleep 1
    done
    docker exec "$boot" tep-entrypoint stack-bootstrap $gateways
    secret_from "${stack}_ca" /tmp/tep-stack/cert-cse/ca.pem
    secret_from "${stack}_cse_cert" /tmp/tep-stack/cert-cse/cert.pem
    secret_from "${stack}_cse_key" /tmp/tep-stack/cert-cse/key.pem
    secret_from "${stack}_authz_cert" /tmp/tep-stack/cert-authz/cert.pem
    secret_from "${stack}_authz_key" /tmp/tep-stack/cert-authz/key.pem
    for g in $gateways; do
        secret_from "${stack}_prov_$g" "/tmp/tep-stack/$g.prov"
    done
    docker stop -t 10 "$boot" >/dev/null
    # its throw-away bus key: the stack's enroller uses its secret
    docker run --rm --entrypoint rm -v "${stack}_enroller-data:/var/lib/tep/enroller" "$image" \
        -f /var/lib/tep/enroller/bus-curve.key
    docker rm -f "$boot" >/dev/null
    trap - EXIT
    say "secrets of $stack complete"
}

deploy() {
    TEP_STACK=$1 TEP_IMAGE=$image docker stack deploy --resolve-image never \
        -c "$here/docker-stack.yml" "$1"
}

rm_stack() {
    stack=$1
    docker stack rm "$stack" >/dev/null 2>&1 || true
    i=0
    while [ -n "$(docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] ||
        docker network inspect "${stack}_tep" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 90 ] || { say "$stack: tasks still there after 90 s"; return 1; }
        sleep 1
    done
    [ "${2:-}" = --purge ] || return 0
    for n in $services; do
        docker secret rm "${stack}_curve_$n" >/dev/null 2>&1 || true
        docker config rm "${stack}_pub_$n" >/dev/null 2>&1 || true
    done
    for s in ca cse_cert cse_key authz_cert authz_key; do
        docker secret rm "${stack}_$s" >/dev/null 2>&1 || true
    done
    for g in $gateways; do
        docker secret rm "${stack}_prov_$g" >/dev/null 2>&1 || true
    done
    for v in enroller-data authz-data pdp1-data pdp2-data cse-data mn-cse1-data mn-cse2-data; do
        docker volume rm "${stack}_$v" >/dev/null 2>&1 || true
    done
    say "$stack: secrets, configs and volumes removed"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
init) init "${1:-tep}" ;;
deploy) deploy "${1:-tep}" ;;
rm) rm_stack "${1:-tep}" "${2:-}" ;;
*)
    sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
    exit 1
    ;;
esac
