#!/bin/sh
# install-deps.sh — installs what potluck needs, and nothing when all is there.
#
#   deploy/install-deps.sh build   compilers, C libraries, Node.js (web build)
#   deploy/install-deps.sh test    build + cmocka, redis-server, chromium, nginx, python3
#   deploy/install-deps.sh run     what potluckd needs at run time
#   deploy/install-deps.sh cluster build + redis-server and nginx (make cluster)
#   deploy/install-deps.sh bench   build + redis-server and iproute2 (make
#                                  bench; its Socket.IO peer is an npm module)
#   deploy/install-deps.sh profile bench + valgrind (make profile)
#
# Debian 12 packages through apt-get (as root, or through sudo), npm modules
# through `npm ci` when package-lock.json is newer than node_modules.
# Idempotent; a run with everything in place takes a fraction of a second.
set -eu

what=${1:-build}
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)

run_pkgs="libwebsockets17 libwebsockets-evlib-uv libuv1 libmsgpackc2 libhiredis0.14 libjansson4 liburing2"
build_pkgs="gcc make pkg-config libc6-dev libwebsockets-dev libwebsockets-evlib-uv libuv1-dev
            libmsgpack-dev libhiredis-dev libjansson-dev libssl-dev liburing-dev"
test_pkgs="libcmocka-dev redis-server chromium nginx python3"
cluster_pkgs="redis-server nginx"
bench_pkgs="redis-server iproute2" # iproute2: ss, for free ports
profile_pkgs="valgrind"

case "$what" in
run) want="$run_pkgs" ;;
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
cluster) want="$build_pkgs $cluster_pkgs" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
profile) want="$build_pkgs $bench_pkgs $profile_pkgs" ;;
*) echo "usage: $0 build|test|run|cluster|bench|profile" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	# one dpkg-query per package is cheap (a few ms)
	if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
		missing="$missing $p"
	fi
done
# Node.js may come from Debian or elsewhere: ask for the commands, not a package.
if [ "$what" != run ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing
fi

if [ "$what" != run ]; then
	lock="$root/package-lock.json"
	stamp="$root/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ "$root/package.json" -nt "$stamp" ]; then
		echo "install-deps: installing npm modules"
		(cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
