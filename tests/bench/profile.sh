#!/bin/sh
# profile.sh — `make profile`: user-space instructions per chat message, the
# figure BENCHMARKS.md's "What changed" table quotes.
#
# potluckd runs under callgrind (valgrind) with an empty temporary data dir
# on a free loopback port; loadgen joins PROFILE_ROOMS x PROFILE_MEMBERS
# (100 x 20) and chats at PROFILE_RATE deliveries/s (2,000: slow enough for
# a server under valgrind to keep up, so every message is its own event-loop
# iteration, as at 10,000/s without valgrind). The counters are zeroed 1.5 s
# into the warm-up, after the joins, and dumped PROFILE_SECONDS (5) later,
# inside the window and before any client leaves, so the profile holds the
# steady state only: PROFILE_RATE / PROFILE_MEMBERS x PROFILE_SECONDS chat
# messages (500), each with its 20 deliveries, its log append and its reply.
#
# Prints instructions per message and the PROFILE_TOP (25) functions with
# the most instructions per message (inclusive, below the event loop); the
# whole profile stays in test-output/profile/ for callgrind_annotate or
# kcachegrind.
set -u
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
cd "$root"
. tests/bench/lib.sh
BUILD=${BUILD:-build}
POTLUCKD=${POTLUCKD:-$BUILD/potluckd}
ROOMS=${PROFILE_ROOMS:-100}
MEMBERS=${PROFILE_MEMBERS:-20}
RATE=${PROFILE_RATE:-2000}
SECS=${PROFILE_SECONDS:-5}
TOP=${PROFILE_TOP:-25}
out=test-output/profile
mkdir -p "$out"
rm -f "$out"/callgrind.out*

tmp=$(mktemp -d)
srv=""
lg=""
cleanup() {
	kill_wait "$lg" "$srv"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port) || exit 1

valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
	"$POTLUCKD" --host 127.0.0.1 --port "$port" --data-dir "$tmp/data" \
	--log-level warn --rate 1000 --burst 1000 >"$out/server.log" 2>&1 &
srv=$!

# valgrind starts slowly: wait (at most 60 s) until the server listens.
if ! wait_until 600 "$srv" listening "$port"; then
	echo "profile: potluckd did not start (see $out/server.log)" >&2
	exit 1
fi

"$BUILD/bench/loadgen" --mode potluck --port "$port" --rooms "$ROOMS" \
	--members "$MEMBERS" --rates "$RATE" --warmup 2 --duration "$((SECS + 2))" \
	--drain 1 --quiet-wait 0 --retries 0 --join-timeout 120 >"$out/loadgen.log" 2>&1 &
lg=$!

if ! wait_until 1200 "$lg" grep -q "connected and joined" "$out/loadgen.log"; then
	echo "profile: the clients did not join (see $out/loadgen.log)" >&2
	exit 1
fi
sleep 1.5
callgrind_control --zero "$srv" >/dev/null 2>&1
sleep "$SECS"
callgrind_control --dump "$srv" >/dev/null 2>&1
wait "$lg"
rc=$?
lg=""
grep '^RESULT' "$out/loadgen.log" | grep -q ' lost=0 ' || rc=1
if [ "$rc" -ne 0 ]; then
	echo "profile: the load did not go through (see $out/loadgen.log)" >&2
	exit 1
fi

dump=$(ls "$out"/callgrind.out.* 2>/dev/null | head -1)
[ -n "$dump" ] || { echo "profile: no dump from callgrind" >&2; exit 1; }
msgs=$((RATE / MEMBERS * SECS))
callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | awk -v m="$msgs" -v top="$TOP" \
	-v rooms="$ROOMS" -v members="$MEMBERS" -v rate="$RATE" -v secs="$SECS" '
function num(s) { gsub(",", "", s); return s + 0 }
/PROGRAM TOTALS/ {
	total = num($1)
	printf "profile: %d x %d at %d deliveries/s, %d s: %d chat messages\n", rooms, members, rate, secs, m
	printf "profile: %.0f user-space instructions per chat message (callgrind, potluckd and its libraries)\n", total / m
	printf "\n%12s  function (inclusive, per message)\n", "instr/msg"
	next
}
# left out: main and the loop (all of it), and the per-file lines of inlined code
total && /^ *[0-9,]+ +\(/ && /\[/ && num($1) < total && n < top {
	name = $0
	sub(/^ *[0-9,]+ +\([^)]*\) +/, "", name)
	printf "%12.0f  %s\n", num($1) / m, name
	n++
}'
echo "(the whole profile: callgrind_annotate $dump)"
