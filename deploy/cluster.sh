#!/bin/sh
# cluster.sh — on loopback: redis-server (AOF on), several potluckd
# instances joined through it (through its Unix socket, D/redis.sock, when
# that path is short enough for one), and nginx in front. Ctrl-C stops them
# all.
#
#   deploy/cluster.sh [--instances N] [--port P] [--dir D]
#
# nginx listens on 127.0.0.1:P (default 8080), the instances on P+1 … P+N,
# redis on P+379. Data and logs go to D (default ./cluster/). $POTLUCKD, if
# set, is the server binary (default build/potluckd).
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
n=2
port=8080
run=""
while [ $# -gt 0 ]; do
	case "$1" in
	--instances) n=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--dir) run=$2; shift 2 ;;
	*) echo "usage: $0 [--instances N] [--port P] [--dir D]" >&2; exit 2 ;;
	esac
done
run=${run:-$root/cluster}
mkdir -p "$run"
run=$(cd "$run" && pwd)
redis_port=$((port + 379))
pids=""

stop() {
	trap - INT TERM EXIT
	echo "cluster: stopping"
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
	wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# the instances reach Redis through its Unix socket (no TCP stack per
# message) when its path fits in one (107 bytes), else on the port
sock="$run/redis.sock"
if [ "${#sock}" -lt 100 ]; then
	redis_url="unix://$sock"
	set -- --unixsocket "$sock" --unixsocketperm 700
else
	redis_url="redis://127.0.0.1:$redis_port"
	set --
fi
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run" --appendonly yes \
	--save "" --daemonize no --logfile "$run/redis.log" "$@" &
pids="$pids $!"
i=0
while ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "redis did not start" >&2; exit 1; }
	sleep 0.05
done

ups=""
k=1
while [ $k -le "$n" ]; do
	p=$((port + k))
	"${POTLUCKD:-$root/build/potluckd}" --host 127.0.0.1 --port "$p" --web-root "$root/web/dist" \
		--redis "$redis_url" --data-dir "$run/instance$k" \
		2>"$run/potluckd$k.log" &
	pids="$pids $!"
	ups="$ups		server 127.0.0.1:$p;
"
	k=$((k + 1))
done

mkdir -p "$run/nginx"
awk -v run="$run/nginx" -v port="$port" -v web="$root/web/dist" -v ups="$ups" '
	/@UPSTREAMS@/ { printf "%s", ups; next }
	{ gsub("@RUN@", run); gsub("@HOST@", "127.0.0.1"); gsub("@PORT@", port); gsub("@WEB@", web); print }
' "$root/deploy/nginx-cluster.conf.in" >"$run/nginx/nginx.conf"
nginx -t -q -c "$run/nginx/nginx.conf" -p "$run/nginx" 2>/dev/null || {
	nginx -t -c "$run/nginx/nginx.conf" -p "$run/nginx"; exit 1; }
nginx -c "$run/nginx/nginx.conf" -p "$run/nginx" &
pids="$pids $!"

echo "cluster: http://127.0.0.1:$port (nginx) -> $n instances on $((port + 1))-$((port + n)), redis on $redis_port ($redis_url)"
echo "cluster: logs in $run; Ctrl-C stops everything"
wait
