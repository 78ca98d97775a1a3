#!/bin/sh
# run.sh — `make bench`: potluck side by side with the physical floor, in one
# run, at a size that fits this 2-core machine in a few minutes.
#
# Each measurement gets a fresh server (potluckd with an empty temporary data
# dir, or tests/bench/floor) on a free loopback port, so one scenario's
# disconnects (grace periods, leave records) never land in the next one's
# window. The generator (tests/bench/loadgen) reads the server's own pid's
# CPU and RSS from /proc. The floor's frames are as big as potluck's chat
# events at the same rate (loadgen reports them as evbytes=; in this run,
# or the last one when the floor goes first), so both send the same bytes,
# give or take one, to the same sockets.
#
#   s2   broadcast fan-out, BENCH_ROOMS x BENCH_MEMBERS (100 x 20), 100-byte
#        messages, at BENCH_RATES deliveries/s (10000,40000 and 0 = as fast
#        as it goes), BENCH_DURATION s windows (10: CPU time is counted in
#        10 ms ticks here)
#        beside the floor as the issue defines it: one send() per
#        connection with something queued
#   s2u  the same (BENCH_S2U_RATES, 10000,40000), beside the floor with
#        --io-uring: those sends made in one system call per batch of events,
#        as potluck makes them by default (src/net/batch.c); how far potluck
#        is from the least a server that batches its sends can do
#   big  broadcast efficiency in one room of BENCH_BIG members (1000)
#   s1   idle memory per connection at BENCH_IDLE connections (1000,10000),
#        rooms of 20: (RSS(N) - RSS(N0)) / (N - N0); s1bare the same for
#        connections upgraded but never joined (lws's share alone)
#   s1max idle memory at the descriptor limit: one instance up to
#        BENCH_IDLE_MAX (19000) connections, then two instances on one
#        redis-server up to BENCH_IDLE_PAIR (38000), members of each room
#        alternating between them (so each instance holds every room's
#        replica); RSS of the servers summed (each shown), two generator
#        processes (one cannot hold more than 20,000 descriptors)
#   s3   across instances: s2's broadcast (BENCH_S3_RATES, 10000,40000)
#        through two potluckd joined by a redis-server that this script
#        starts on a free loopback port (no persistence) and stops; members
#        of each room alternate between the instances; CPU is that of both
#        servers and Redis together (Redis's alone: the third of srv_cpus=)
#   s3f  s3's broadcast through two floors (--io-uring --redis) on one
#        redis-server: the least a pair of servers can do that fans each
#        message out through Redis pub/sub in one order everywhere (one
#        PUBLISH per message, nothing else); the table gives it as a share of
#        the floor alone (s2u's) and s3 as a share of it
#   s3big the same as s3 in one room of BENCH_BIG (1000) at BENCH_BIG_RATES,
#        beside big
#   s3fbig the same as s3f in that room, beside s3big
#   s4   poll burst: one room of BENCH_POLL answering members (1000) plus
#        a facilitator; a single-choice prompt, every member answers, spread
#        evenly over 1 s; results frames per client and the time from the
#        last answer sent to the final tally at every client
#   s5   join storm: BENCH_JOIN (5000) clients upgrade first, then all join
#        one room at once (or spread over BENCH_JOIN_SPREAD s); first join
#        request -> last snapshot, join -> snapshot per client, the
#        server's CPU, failures, and whether every client ends up knowing
#        every member (snapshot + joined events)
#   s6   resume storm: BENCH_RESUME_ROOMS x BENCH_RESUME_MEMBERS (250 x 20)
#        join instance A of a pair on one redis-server (as s3), chat at
#        BENCH_RESUME_RATE deliveries/s (2000) for 2 s, then loadgen
#        SIGKILLs A and every client resumes on B (reconnects spread over
#        BENCH_RESUME_SPREAD s, 0); kill -> last resumed, per client, replay
#        or snapshot, failures, present/online members per room on B
#        afterwards and again BENCH_RESUME_RECHECK s (10) after the kill,
#        once B has noticed that A is gone; B's and Redis's CPU
#   s7   slow readers: BENCH_ROOMS x BENCH_MEMBERS at BENCH_S7_RATE (40000)
#        deliveries/s of BENCH_S7_SIZE-byte messages (1900), windows of
#        BENCH_S7_DURATION s (20): one with everyone reading, then one in
#        which BENCH_SLOW % (1) of the members stop reading; the others'
#        latency, the server's RSS at the start and end of each window, how
#        many slow readers were closed (with 4001, or without a close frame
#        when they read nothing for the 5 s the server waits to send it).
#        The server runs with --queue-kib BENCH_S7_QUEUE_KIB (64) and its
#        default 128 KiB send buffer, and the slow readers ask for a 64 KiB
#        receive buffer (SO_RCVBUF), so that a reader that stops falls over the bound
#        within the window; with --queue-kib 1024 it takes about 30 s
#   sio  the usual alternative: s2's rooms, members, sizes and rates
#        (BENCH_SIO_RATES, default BENCH_RATES) against the reference chat
#        server on Socket.IO 4 (tests/bench/peers/socketio-server.mjs, one
#        node process, WebSocket transport, no deflate; needs `npm ci`),
#        and its idle memory per connection at BENCH_IDLE like s1; the
#        table adds potluck / Socket.IO ratios
#   sio3 Socket.IO across two instances: s3's broadcast (BENCH_SIO3_RATES,
#        default BENCH_S3_RATES) through two Socket.IO servers on
#        @socket.io/redis-adapter and one redis-server; the table adds
#        s3 / sio3 ratios
#
# BENCH_SCENARIOS picks scenarios (default: all,
# "s2 s2u big s1 s1max s3 s3f s3big s3fbig s4 s5 s6 s7 sio sio3").
#
# The machine is shared: before each generator run this waits (at most
# BENCH_QUIET_WAIT s) for other work to calm down, and loadgen itself
# re-measures a window that other work disturbed; the table leaves such
# windows out. BENCH_RUNS=3 repeats everything and the table shows
# median [min-max]. POTLUCKD=path measures another build than build/;
# `run.sh --table FILE` re-tabulates an earlier run's raw lines.
# Every line the generator printed goes to test-output/bench/; the table
# comes last. Sizes beyond these: run build/bench/loadgen --help.
set -u
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
cd "$root"
. tests/bench/lib.sh
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-1}
ROOMS=${BENCH_ROOMS:-100}
MEMBERS=${BENCH_MEMBERS:-20}
RATES=${BENCH_RATES:-10000,40000,0}
DUR=${BENCH_DURATION:-10}
SIZE=${BENCH_SIZE:-100}
BIG=${BENCH_BIG:-1000}
BIG_RATES=${BENCH_BIG_RATES:-40000,100000}
IDLE=${BENCH_IDLE:-1000,10000}
PROCS=${BENCH_PROCS:-1}
SCENARIOS=${BENCH_SCENARIOS:-s2 s2u big s1 s1max s3 s3f s3big s3fbig s4 s5 s6 s7 sio sio3}
S2U_RATES=${BENCH_S2U_RATES:-10000,40000}
FLOOR_FLAGS= # s2u: --io-uring
IDLE_MAX=${BENCH_IDLE_MAX:-19000}
IDLE_PAIR=${BENCH_IDLE_PAIR:-38000}
SIO_RATES=${BENCH_SIO_RATES:-$RATES}
NODE=${NODE:-node}
S3_RATES=${BENCH_S3_RATES:-10000,40000}
POLL=${BENCH_POLL:-1000}
S7_RATE=${BENCH_S7_RATE:-40000}
S7_SIZE=${BENCH_S7_SIZE:-1900}
S7_DUR=${BENCH_S7_DURATION:-20}
S7_QUEUE_KIB=${BENCH_S7_QUEUE_KIB:-64}
SLOW=${BENCH_SLOW:-1}
JOIN=${BENCH_JOIN:-5000}
JOIN_SPREAD=${BENCH_JOIN_SPREAD:-0}
RESUME_ROOMS=${BENCH_RESUME_ROOMS:-250}
RESUME_MEMBERS=${BENCH_RESUME_MEMBERS:-20}
RESUME_RATE=${BENCH_RESUME_RATE:-2000}
RESUME_SPREAD=${BENCH_RESUME_SPREAD:-0}
RESUME_RECHECK=${BENCH_RESUME_RECHECK:-10}
SIO3_RATES=${BENCH_SIO3_RATES:-$S3_RATES}

# The table: per scenario and rate, the median [min-max] over the runs of
# the windows that other work did not disturb (all of them, marked, when
# every one was disturbed); the ratio is of the two medians (per CPU-s; at
# the highest rate, of the rates). Below it, s2's and big's ratio in each
# run: of the two windows taken one after the other (broadcast; in raw
# files from before that, a minute apart).
table() {
	awk '
function sortv(s, a,   n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n
}
function medv(s,   a, n) { n = sortv(s, a); return n ? a[int((n + 1) / 2)] + 0 : 0 }
function med(s,   a, n) {
	n = sortv(s, a)
	if (n <= 1) return fmt(a[1] + 0)
	return sprintf("%s [%s-%s]", fmt(a[int((n + 1) / 2)]), fmt(a[1]), fmt(a[n]))
}
function fmt(v) { return (v >= 100) ? sprintf("%.0f", v) : sprintf("%.2f", v) }
function add(k, f, v) { V[k, f] = (V[k, f] == "" ? v : V[k, f] " " v) }
function fields(   i, kv) { delete F; for (i = 2; i <= NF; i++) { split($i, kv, "="); F[kv[1]] = kv[2] } }
function across(l) { return l ~ /^label=(s3|s3f|s3big|s3fbig|sio3)$/ }
# the window of label M at the rate of (L, i), in the same run: the o-th of
# its rate, as (L, i) is the o-th of its rate; 0 = none
function samerun(L, i, M,   j, o) {
	o = 0
	for (j = 1; j <= i; j++) o += Xr[L, j] == Xr[L, i]
	for (j = 1; j <= NX[M]; j++)
		if (Xr[M, j] == Xr[L, i] && --o == 0) return j
	return 0
}
/^RESULT / && !across($2) && $2 != "label=s7" {
	fields()
	k = F["label"] SUBSEP F["rate"]
	if (!(k in seen)) {
		seen[k] = 1; size[k] = F["rooms"] "x" F["members"]
		if (F["label"] == "sio") sorder[++nsio] = k; else order[++n] = k
	}
	m = F["mode"]; q = (F["other_core"] + 0 > 0.15) ? "d" : "q"
	N[k, m, q]++
	j = ++W[k, m]; WV[k, m, j] = (F["rate"] == 0) ? F["dps"] : F["dpcs"]; WD[k, m, j] = (q == "d")
	add(k, m q "dps", F["dps"]); add(k, m q "dpcs", F["dpcs"]); add(k, m q "p50", F["p50_ms"])
	add(k, m q "p99", F["p99_ms"]); add(k, m q "p999", F["p999_ms"]); add(k, m q "lost", F["lost"])
}
/^RESULT_POLL / {
	fields()
	np++
	PL[np] = sprintf("%-4s poll burst, %s answers in %s s: final tally at %s of %s clients, last answer -> final tally p50 %s / p99 %s / max %s ms; results frames per client %s-%s (mean %s)%s",
	                 F["label"], F["answers"], F["spread"], F["got_final"], F["clients"], F["final_p50_ms"],
	                 F["final_p99_ms"], F["final_max_ms"], F["frames_min"], F["frames_max"], F["frames_mean"],
	                 (F["errors"] + F["closed"] > 0) ? sprintf(" (%s errors, %s closed)", F["errors"], F["closed"]) : "")
}
/^RESULT / && across($2) {
	fields(); split(F["srv_cpus"], sc, "/")
	L = F["label"]; x = ++NX[L]
	X[L, x] = sprintf("%-4s rate %s: %s deliveries/s, %s per CPU-s of both %s + Redis (CPU s: %s = %s / %s / Redis %s), p50/p99/p99.9 %s/%s/%s ms, lost %s%s",
	                  L, F["rate"], F["dps"], F["dpcs"], (L == "sio3" ? "Socket.IO servers" : L ~ /^s3f/ ? "floors" : "servers"), F["srv_cpu"],
	                  sc[1], sc[2], sc[3], F["p50_ms"], F["p99_ms"], F["p999_ms"], F["lost"],
	                  (F["other_core"] + 0 > 0.15) ? " (disturbed)" : "")
	Xr[L, x] = F["rate"]; Xd[L, x] = F["dpcs"]; Xp[L, x] = F["p99_ms"]
}
/^RESULT_STORM / && $3 == "kind=join" {
	fields()
	nst++
	ST[nst] = sprintf("%-4s join storm, %s clients into one room (%s): %s had their snapshot, the last %s ms after the first join; join -> snapshot p50 %s / p99 %s / max %s ms; failed %s, no reply %s; server CPU %s s; members known per client %s-%s, joined events %s (at most %s)%s",
	                  F["label"], F["clients"], (F["spread"] + 0 > 0) ? "joins over " F["spread"] " s" : "all at once",
	                  F["ok"], F["total_ms"], F["p50_ms"], F["p99_ms"], F["max_ms"], F["failed"] + (F["clients"] - F["connected"]),
	                  F["timeout"], F["srv_cpu"], F["known_min"], F["known_max"], F["events"], F["events_max"],
	                  (F["other_core"] + 0 > 0.15) ? " (disturbed)" : "")
}
/^RESULT_STORM / && $3 == "kind=resume" {
	fields(); split(F["srv_cpus"], sc, "/")
	nst++
	ST[nst] = sprintf("%-4s resume storm, %s x %s, kill -> resumed: %s of %s, the last %s ms after the kill (upgraded on B: p50 %s / max %s ms); per client p50 %s / p99 %s / max %s ms; failed %s (invalid_token %s), no reply %s; replay %s (%s events, %s received), snapshot %s; members on B %s, online %s (%s rooms differ)%s; CPU s: B %s, Redis %s%s",
	                  F["label"], F["rooms"], F["members"], F["ok"], F["connected"], F["total_ms"], F["up_p50_ms"], F["up_max_ms"],
	                  F["p50_ms"], F["p99_ms"], F["max_ms"], F["failed"], F["invalid_token"], F["timeout"], F["replay"],
	                  F["replay_events"], F["replay_rx"], F["snapshot"], F["room_members"], F["room_online"], F["rooms_differ"],
	                  (F["recheck_s"] + 0 > 0) ? sprintf(", %s s after the kill %s and %s", F["recheck_s"], F["room_members2"], F["room_online2"]) : "",
	                  sc[1], sc[2], (F["other_core"] + 0 > 0.15) ? " (disturbed)" : "")
}
/^RESULT / && $2 == "label=s7" {
	fields()
	ns7++
	S7[ns7] = sprintf("s7   %s slow readers, %s/s: %s deliveries/s, others p50/p99/p99.9 %s/%s/%s ms (max %s), server RSS %s -> %s KiB, slow readers closed with 4001: %s (other code %s, no close frame %s), lost %s%s",
	                  F["slow"], F["rate"], F["dps"], F["p50_ms"], F["p99_ms"], F["p999_ms"], F["max_ms"], F["rss0_kb"],
	                  F["rss1_kb"], F["slow_4001"], F["slow_other"], F["slow_eof"], F["lost"],
	                  (F["other_core"] + 0 > 0.15) ? " (disturbed)" : "")
}
/^RESULT_IDLE / {
	fields()
	ik = F["label"] " " F["mode"] " " F["n0"] " " F["n"]
	if (!(ik in iseen)) { iseen[ik] = 1; iorder[++ni] = ik }
	I[ik] = (I[ik] == "" ? F["per_conn_b"] : I[ik] " " F["per_conn_b"])
}
function pick(k, m) { return N[k, m, "q"] ? m "q" : m "d" }
function runs(k, m) { return N[k, m, "q"] ? N[k, m, "q"] : N[k, m, "d"] "!" }
END {
	printf "%-4s %-7s %-6s | %-22s %-22s %-22s %-7s | %-17s %-17s | %-4s %s\n", "", "size", "rate",
	       "potluck deliveries/s", "potluck per CPU-s", "floor per CPU-s", "ratio",
	       "potluck p50/99/99.9", "floor p50/99/99.9", "lost", "runs p/f"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, kk, SUBSEP); p = pick(k, "potluck"); f = pick(k, "floor")
		u = (kk[2] == 0) ? "dps" : "dpcs" # the highest rate compares rates
		fd = medv(V[k, f u])
		printf "%-4s %-7s %-6s | %-22s %-22s %-22s %-7s | %-17s %-17s | %-4s %s/%s\n", kk[1], size[k],
		       (kk[2] == 0 ? "max" : kk[2]), med(V[k, p "dps"]), med(V[k, p "dpcs"]), med(V[k, f "dpcs"]),
		       (fd > 0 ? sprintf("%.0f%%", 100 * medv(V[k, p u]) / fd) : "-"),
		       sprintf("%.2f/%.2f/%.2f", medv(V[k, p "p50"]), medv(V[k, p "p99"]), medv(V[k, p "p999"])),
		       sprintf("%.2f/%.2f/%.2f", medv(V[k, f "p50"]), medv(V[k, f "p99"]), medv(V[k, f "p999"])),
		       medv(V[k, p "lost"]) + medv(V[k, f "lost"]), runs(k, "potluck"), runs(k, "floor")
	}
	print "(ms; runs = undisturbed windows used, \"!\" = all were disturbed by other work)"
	for (i = 1; i <= n; i++) { # the j-th potluck window beside the j-th floor window: one pair per run
		k = order[i]; split(k, kk, SUBSEP); s = ""
		for (j = 1; j <= W[k, "potluck"] && j <= W[k, "floor"]; j++)
			if (WV[k, "floor", j] > 0)
				s = s sprintf(" %.0f%s", 100 * WV[k, "potluck", j] / WV[k, "floor", j],
				              (WD[k, "potluck", j] || WD[k, "floor", j]) ? "d" : "")
		if (W[k, "potluck"] > 1 && s != "") {
			printf "%-4s %-7s %-6s potluck / floor per run, %%:%s\n", kk[1], size[k], (kk[2] == 0 ? "max" : kk[2]), s
			pairs++
		}
	}
	if (pairs) print "(per CPU-s; at \"max\", and in its ratio above, of deliveries/s; d = a window disturbed by other work)"
	for (i = 1; i <= ni; i++) {
		split(iorder[i], ii, " ")
		printf "%-6s idle %-7s RSS per connection, %s -> %s connections: %s bytes\n", ii[1], ii[2], ii[3], ii[4], med(I[iorder[i]])
		if (ii[1] == "s1" && ii[2] == "potluck") ipot[ii[3] " " ii[4]] = medv(I[iorder[i]])
		if (ii[1] == "sio") isio[ii[3] " " ii[4]] = medv(I[iorder[i]])
	}
	for (i = 1; i <= nsio; i++) {
		k = sorder[i]; split(k, kk, SUBSEP); s = pick(k, "socketio")
		pk = "s2" SUBSEP kk[2]; p = pick(pk, "potluck")
		sd = medv(V[k, s "dpcs"]); s99 = medv(V[k, s "p99"]); pd = medv(V[pk, p "dpcs"]); p99 = medv(V[pk, p "p99"])
		printf "sio  %s rate %s: Socket.IO %s deliveries/s, %s per CPU-s, p50/p99/p99.9 %.2f/%.2f/%.2f ms, lost %s, runs %s",
		       size[k], (kk[2] == 0 ? "max" : kk[2]), med(V[k, s "dps"]), med(V[k, s "dpcs"]), medv(V[k, s "p50"]),
		       s99, medv(V[k, s "p999"]), medv(V[k, s "lost"]), runs(k, "socketio")
		if (pd > 0 && sd > 0)
			printf "; potluck / Socket.IO: %.2fx per CPU-s, p99 %.2f / %.2f ms (%.2fx)", pd / sd, p99, s99, (s99 > 0 ? p99 / s99 : 0)
		if (kk[2] == 0 && pd > 0)
			printf ", highest rate %.2fx", medv(V[pk, p "dps"]) / medv(V[k, s "dps"])
		printf "\n"
	}
	for (ik in isio)
		if (ipot[ik] > 0 && isio[ik] > 0)
			printf "sio  idle memory per connection (%s -> %s): potluck %.0f / Socket.IO %.0f bytes = %.2fx\n",
			       substr(ik, 1, index(ik, " ") - 1), substr(ik, index(ik, " ") + 1), ipot[ik], isio[ik], ipot[ik] / isio[ik]
	split("s3 s2 s3big big", pair, " ")
	for (q = 1; q <= 3; q += 2) {
		L = pair[q]; ref = pair[q + 1]
		for (i = 1; i <= NX[L]; i++) {
			one = medv(V[ref SUBSEP Xr[L, i], pick(ref SUBSEP Xr[L, i], "potluck") "dpcs"])
			fl = (L == "s3") ? "s3f" : "s3fbig"; j = samerun(L, i, fl)
			printf "%s%s%s\n", X[L, i], (one > 0 ? sprintf("; %.0f%% of one instance (%s)", 100 * Xd[L, i] / one, ref) : ""),
			       (j && Xd[fl, j] > 0 ? sprintf("; beside the floors through Redis (%s): %.0f%% per CPU-s, p99 %.2f / %.2f ms",
			                                     fl, 100 * Xd[L, i] / Xd[fl, j], Xp[L, i], Xp[fl, j]) : "")
		}
	}
	for (i = 1; i <= NX["s3f"]; i++) { # beside the floor alone, on io_uring as they are
		one = medv(V["s2u" SUBSEP Xr["s3f", i], pick("s2u" SUBSEP Xr["s3f", i], "floor") "dpcs"])
		printf "%s%s\n", X["s3f", i], (one > 0 ? sprintf("; %.0f%% of one floor (s2u)", 100 * Xd["s3f", i] / one) : "")
	}
	for (i = 1; i <= NX["s3fbig"]; i++)
		print X["s3fbig", i]
	for (i = 1; i <= NX["sio3"]; i++) { # beside the s3 window of the same rate and run
		j = samerun("sio3", i, "s3")
		printf "%s%s\n", X["sio3", i], (j && Xd["s3", j] > 0 && Xd["sio3", i] > 0 ? sprintf("; potluck (s3) / Socket.IO (sio3): %.2fx per CPU-s, p99 %.2f / %.2f ms", Xd["s3", j] / Xd["sio3", i], Xp["s3", j], Xp["sio3", i]) : "")
	}
	for (i = 1; i <= np; i++) print PL[i]
	for (i = 1; i <= nst; i++) print ST[i]
	for (i = 1; i <= ns7; i++) print S7[i]
}' "$1"
}

if [ "${1:-}" = "--table" ]; then # tabulate an earlier run's raw lines
	table "$2"
	exit
fi

out="$root/test-output/bench"
mkdir -p "$out"
results="$out/results-$(date +%Y%m%d-%H%M%S).txt"
: >"$results"

# POTLUCKD=path measures another build (e.g. a snapshot of a commit)
if [ -z "${POTLUCKD:-}" ]; then
	make --no-print-directory potluckd >/dev/null || exit 1
	POTLUCKD="$BUILD/potluckd"
	built="built from the tree at $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet -- src 2>/dev/null || echo ' with uncommitted changes in src/')"
else
	built="given by POTLUCKD"
fi
make --no-print-directory "$BUILD/bench/loadgen" "$BUILD/bench/floor" >/dev/null || exit 1
LOADGEN="$BUILD/bench/loadgen"

tmp=$(mktemp -d)
srv= srv2= redis=
cleanup() {
	kill_wait "$srv" "$srv2" "$redis"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most 10 s) until something listens on $port.
wait_listen() {
	if ! wait_until 100 "$srv" listening "$port"; then
		echo "bench: the server on port $port did not start" >&2
		exit 1
	fi
}

# The machine is shared: wait (at most BENCH_QUIET_WAIT s, 120) until other
# work uses less than a third of a core, so it does not land in a window.
# loadgen reports what still ran meanwhile (other_core; "disturbed" notes).
busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
wait_quiet() {
	waited=0
	while [ "$waited" -lt "${BENCH_QUIET_WAIT:-120}" ]; do
		b0=$(busy)
		sleep 1
		b1=$(busy)
		[ $((b1 - b0)) -lt 33 ] && return
		waited=$((waited + 1))
	done
	echo "bench: the machine stayed busy; measuring anyway" >&2
}

# start_potluck [extra potluckd flags]
start_potluck() {
	port=$(free_port)
	data=$(mktemp -d -p "$tmp")
	"$POTLUCKD" --host 127.0.0.1 --port "$port" --data-dir "$data" \
		--web-root web/dist --log-level warn "$@" 2>>"$out/potluckd.log" &
	srv=$!
	wait_listen
}

# s3: a redis-server without persistence on a free loopback port ($rport,
# $redis), then two instances through it ($port/$srv and $port2/$srv2).
start_redis() {
	rport=$(free_port)
	redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no \
		--daemonize no --loglevel warning >>"$out/redis.log" 2>&1 &
	redis=$!
	port=$rport
	srv=$redis
	wait_listen
	srv=
}

stop_redis() {
	kill "$redis" 2>/dev/null
	wait "$redis" 2>/dev/null
	redis=
}

start_pair() {
	start_potluck --redis "redis://127.0.0.1:$rport"
	port2=$port srv2=$srv
	start_potluck --redis "redis://127.0.0.1:$rport"
}

stop_pair() {
	stop_server
	srv=$srv2
	stop_server
	srv2=
}

start_floor() {
	port=$(free_port)
	"$BUILD/bench/floor" --host 127.0.0.1 --port "$port" $FLOOR_FLAGS 2>>"$out/floor.log" &
	srv=$!
	wait_listen
}

# The reference Socket.IO 4 server (s2's usual alternative); $srv is node's
# own pid ($! of a simple command), so /proc shows its CPU and RSS.
# start_sio [extra flags, e.g. --redis URL]
start_sio() {
	port=$(free_port)
	"$NODE" tests/bench/peers/socketio-server.mjs --host 127.0.0.1 --port "$port" "$@" \
		2>>"$out/socketio.log" &
	srv=$!
	wait_listen
}

stop_server() {
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
}

loadgen() {
	wait_quiet
	"$LOADGEN" --host 127.0.0.1 --port "$port" --server-pid "${pids:-$srv}" --procs "$PROCS" "$@" \
		2>>"$out/loadgen.log" | tee -a "$results" | grep -v '^RESULT'
}

# broadcast LABEL ROOMS MEMBERS RATES [extra loadgen flags]
# Each rate gets a fresh potluck and a fresh floor, one window right after
# the other, and which goes first alternates from run to run: the machine's
# speed drifts over the minute a series of rates takes, so windows far
# apart in time make a noisier ratio (measured: the highest rate's per-run
# ratios spread over 72-109 % a minute apart, 90-107 % paired).
broadcast() {
	label=$1 r=$2 m=$3 rates=$4
	shift 4
	for rate in $(echo "$rates" | tr , ' '); do
		if [ $((run % 2)) -eq 0 ] && [ -n "$(evbytes_of "$label" "$rate")" ]; then
			broadcast_floor "$rate" "$@"
			broadcast_potluck "$rate" "$@"
		else
			broadcast_potluck "$rate" "$@"
			broadcast_floor "$rate" "$@"
		fi
	done
}

# evbytes_of LABEL RATE: the size of potluck's chat event in the last such
# window (it grows with the seq): the floor's frames.
evbytes_of() {
	sed -n "s/^RESULT label=$1 mode=potluck .* rate=$2 .* evbytes=\([0-9]*\).*/\1/p" "$results" |
		tail -1
}

broadcast_potluck() {
	rate=$1
	shift
	start_potluck
	loadgen --mode potluck --label "$label" --rooms "$r" --members "$m" --size "$SIZE" \
		--rates "$rate" --duration "$DUR" "$@"
	stop_server
}

broadcast_floor() {
	rate=$1
	shift
	evbytes=$(evbytes_of "$label" "$rate")
	start_floor
	loadgen --mode floor --label "$label" --rooms "$r" --members "$m" \
		--payload "${evbytes:-$((SIZE + 50))}" --rates "$rate" --duration "$DUR" "$@"
	stop_server
}

idle() {
	start_potluck
	loadgen --mode potluck --label s1 --members 20 --idle "$IDLE"
	stop_server
	start_potluck # the bare connection, upgraded but not joined
	loadgen --mode potluck --label s1bare --members 20 --idle "$IDLE" --no-join
	stop_server
	start_floor
	loadgen --mode floor --label s1 --members 20 --idle "$IDLE"
	stop_server
}

# s1max: as many connections as one instance's descriptors allow, then two
# instances (and Redis) for more
idle_max() {
	start_potluck
	loadgen --mode potluck --label s1max --members 20 --idle "1000,10000,$IDLE_MAX" \
		--procs 2 --sources 8
	stop_server
	start_redis
	start_pair
	pids="$srv,$srv2"
	loadgen --mode potluck --label s1pair --members 20 --idle "1000,10000,$IDLE_PAIR" \
		--procs 2 --sources 8 --port2 "$port2"
	pids=
	stop_pair
	stop_redis
}

# across LABEL ROOMS MEMBERS RATES: s3 (s2's broadcast) or s3big (big's),
# members split over two instances and Redis
across() {
	start_redis
	start_pair
	pids="$srv,$srv2,$redis"
	loadgen --mode potluck --label "$1" --rooms "$2" --members "$3" --size "$SIZE" \
		--rates "$4" --duration "$DUR" --port2 "$port2"
	pids=
	stop_pair
	stop_redis
}

# s5: $JOIN clients upgrade, then join one room at once; 8 source
# addresses, a generator process per 5,000 clients (descriptor limit)
join_storm() {
	start_potluck
	loadgen --mode potluck --label s5 --join-storm "$JOIN" --spread "$JOIN_SPREAD" \
		--sources 8 --procs "$(((JOIN + 4999) / 5000))"
	stop_server
}

# s6: join on A ($srv, $port), loadgen kills A, everyone resumes on B
# ($srv2, $port2); CPU of B and Redis
resume_storm() {
	start_redis
	start_pair
	pids="$srv2,$redis"
	loadgen --mode potluck --label s6 --resume-storm --rooms "$RESUME_ROOMS" \
		--members "$RESUME_MEMBERS" --rates "$RESUME_RATE" --duration 2 \
		--spread "$RESUME_SPREAD" --recheck "$RESUME_RECHECK" --kill-pid "$srv" \
		--port2 "$port2" --sources 8
	pids=
	stop_pair
	stop_redis
}

# s4: one room, a facilitator and $POLL members answering within 1 s
poll() {
	start_potluck
	loadgen --mode potluck --label s4 --poll --rooms 1 --members "$((POLL + 1))" \
		--spread 1 --duration 3 --warmup 0 --procs 1
	stop_server
}

# s7: a window with everyone reading, then one with $SLOW % slow readers
slow() {
	start_potluck --queue-kib "$S7_QUEUE_KIB"
	loadgen --mode potluck --label s7 --rooms "$ROOMS" --members "$MEMBERS" --size "$S7_SIZE" \
		--rates "$S7_RATE,$S7_RATE" --duration "$S7_DUR" --slow "$SLOW"
	stop_server
}

# sio: s2's broadcast and s1's idle memory against the Socket.IO server
sio() {
	if [ ! -d node_modules/socket.io ] || ! "$NODE" --version >/dev/null 2>&1; then
		echo "bench: sio needs node and node_modules (npm ci); skipped" >&2
		return
	fi
	start_sio
	loadgen --mode socketio --label sio --rooms "$ROOMS" --members "$MEMBERS" --size "$SIZE" \
		--rates "$SIO_RATES" --duration "$DUR"
	stop_server
	start_sio
	loadgen --mode socketio --label sio --members 20 --idle "$IDLE"
	stop_server
}

# across_floor LABEL ROOMS MEMBERS RATES LIKE: s3f or s3fbig, the rooms of
# LIKE (s3 or s3big) through two floors on one redis-server, a fresh pair
# per rate, frames as big as LIKE's chat events at that rate
across_floor() {
	for rate in $(echo "$4" | tr , ' '); do
		evbytes=$(evbytes_of "$5" "$rate")
		start_redis
		FLOOR_FLAGS="--io-uring --redis 127.0.0.1:$rport"
		start_floor
		port2=$port srv2=$srv
		start_floor
		FLOOR_FLAGS=
		pids="$srv,$srv2,$redis"
		loadgen --mode floor --label "$1" --rooms "$2" --members "$3" \
			--payload "${evbytes:-$((SIZE + 50))}" --rates "$rate" --duration "$DUR" --port2 "$port2"
		pids=
		stop_pair
		stop_redis
	done
}

# sio3: s3's broadcast through two Socket.IO servers on one Redis
sio_across() {
	if [ ! -d node_modules/@socket.io/redis-adapter ] || ! "$NODE" --version >/dev/null 2>&1; then
		echo "bench: sio3 needs node and node_modules (npm ci); skipped" >&2
		return
	fi
	start_redis
	start_sio --redis "redis://127.0.0.1:$rport"
	port2=$port srv2=$srv
	start_sio --redis "redis://127.0.0.1:$rport"
	pids="$srv,$srv2,$redis"
	loadgen --mode socketio --label sio3 --rooms "$ROOMS" --members "$MEMBERS" --size "$SIZE" \
		--rates "$SIO3_RATES" --duration "$DUR" --port2 "$port2"
	pids=
	stop_pair
	stop_redis
}

has() {
	case " $SCENARIOS " in *" $1 "*) return 0 ;; esac
	return 1
}

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "== server: $POTLUCKD ($("$POTLUCKD" --version 2>/dev/null), $built)"
run=1
while [ "$run" -le "$RUNS" ]; do
	echo "== run $run of $RUNS"
	if has s2; then
		echo "-- s2: broadcast fan-out, $ROOMS rooms x $MEMBERS, $SIZE-byte messages"
		broadcast s2 "$ROOMS" "$MEMBERS" "$RATES"
	fi
	if has s2u; then
		echo "-- s2u: s2 beside the floor with its sends batched on io_uring"
		FLOOR_FLAGS=--io-uring
		broadcast s2u "$ROOMS" "$MEMBERS" "$S2U_RATES"
		FLOOR_FLAGS=
	fi
	if has big; then
		echo "-- big: one room of $BIG"
		broadcast big 1 "$BIG" "$BIG_RATES"
	fi
	if has s1; then
		echo "-- s1: idle connections in rooms of 20"
		idle
	fi
	if has s1max; then
		echo "-- s1max: idle connections up to $IDLE_MAX on one instance, $IDLE_PAIR on two"
		idle_max
	fi
	if has s3; then
		echo "-- s3: across two instances and Redis, $ROOMS rooms x $MEMBERS"
		across s3 "$ROOMS" "$MEMBERS" "$S3_RATES"
	fi
	if has s3f; then
		echo "-- s3f: the floor across two instances and Redis, $ROOMS rooms x $MEMBERS"
		across_floor s3f "$ROOMS" "$MEMBERS" "$S3_RATES" s3
	fi
	if has s3big; then
		echo "-- s3big: across two instances and Redis, one room of $BIG"
		across s3big 1 "$BIG" "$BIG_RATES"
	fi
	if has s3fbig; then
		echo "-- s3fbig: the floor across two instances and Redis, one room of $BIG"
		across_floor s3fbig 1 "$BIG" "$BIG_RATES" s3big
	fi
	if has s4; then
		echo "-- s4: poll burst, $POLL answers within 1 s"
		poll
	fi
	if has s5; then
		echo "-- s5: join storm, $JOIN clients into one room"
		join_storm
	fi
	if has s6; then
		echo "-- s6: resume storm, $RESUME_ROOMS rooms x $RESUME_MEMBERS, instance A killed, resumed on B"
		resume_storm
	fi
	if has s7; then
		echo "-- s7: slow readers ($SLOW %), $ROOMS rooms x $MEMBERS at $S7_RATE/s, $S7_SIZE-byte messages"
		slow
	fi
	if has sio; then
		echo "-- sio: Socket.IO 4 reference server, $ROOMS rooms x $MEMBERS, and idle memory"
		sio
	fi
	if has sio3; then
		echo "-- sio3: Socket.IO 4 across two instances and Redis, $ROOMS rooms x $MEMBERS"
		sio_across
	fi
	run=$((run + 1))
done

echo
echo "== results (median [min-max] over $RUNS run(s)); raw lines in $results"
table "$results" | tee "$out/table.txt"
