# lib.sh — shell helpers of run.sh and profile.sh (sourced, POSIX sh).
# Their variables start with an underscore: sh has no locals.

# Kills and reaps each process given; empty arguments are skipped.
kill_wait() {
	for _p in "$@"; do
		[ -n "$_p" ] || continue
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
}

# Prints a free loopback TCP port below the ephemeral range, so that no
# client socket of an earlier run holds it (at most 1,000 tries).
free_port() {
	_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
	_i=0
	while [ "$_i" -lt 1000 ]; do
		_p=$((_low - 12000 + $(od -An -N2 -tu2 /dev/urandom) % 11000))
		if ! ss -ltnH "sport = :$_p" 2>/dev/null | grep -q .; then
			echo "$_p"
			return 0
		fi
		_i=$((_i + 1))
	done
	echo "bench: no free port below $_low" >&2
	return 1
}

# wait_until TENTHS PID CMD [ARG...]: runs CMD every 0.1 s until it
# succeeds; fails after TENTHS tries or as soon as process PID is gone.
wait_until() {
	_n=$1
	_pid=$2
	shift 2
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		if [ "$_i" -gt "$_n" ] || ! kill -0 "$_pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
}

# listening PORT: something listens on loopback port PORT.
listening() {
	ss -ltnH "sport = :$1" | grep -q .
}
