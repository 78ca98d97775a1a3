#!/bin/sh
# export.sh — the transcript export of a large room (issue 6's benchmark):
# fills a room with N records (default 100,000) through a real potluckd on
# loopback, then times `potluckd export` in each format (wall time and peak
# RSS, from /usr/bin/time).
#
#   tests/bench/export.sh [N]
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
n=${1:-100000}
bin="$root/${BUILD:-build}/potluckd"
dir=$(mktemp -d /tmp/potluck-export-bench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --host 127.0.0.1 --port "$port" --data-dir "$dir" --rate 1000000 --burst 1000000 \
	--log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "potluckd did not start" >&2; exit 1; }
	sleep 0.05
done
start=$(date +%s.%N)
room=$(cd "$root" && node tests/bench/fill-room.mjs "http://127.0.0.1:$port" "$n")
end=$(date +%s.%N)
kill $pid; wait $pid 2>/dev/null || true
echo "filled room $room with $n chat records in $(awk "BEGIN { printf \"%.2f\", $end - $start }") s ($(du -h "$dir/rooms/$room.log" | cut -f1) of log)"
for f in json md html csv; do
	/usr/bin/time -f "export $f: %e s wall, %M KiB peak RSS" \
		"$bin" export --room "$room" --data-dir "$dir" --format "$f" --out "$dir/out.$f" 2>&1 |
		grep '^export [a-z]*:'
done
