#!/bin/sh
# run.sh — the whole suite: C unit tests, then integration and end-to-end
# tests (node --test) against a real potluckd. Ends with one line:
#   N passed, N failed
# Exits non-zero if anything failed. Output of each part goes to the
# terminal; machine-readable results land in test-output/.
set -u
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
export POTLUCKD="$root/$BUILD/potluckd"
export POTLUCK_BENCH="$root/$BUILD/bench" # loadgen and the floor
out="$root/test-output"
mkdir -p "$out"
passed=0
failed=0

echo "== unit tests ($BUILD)"
for t in $(find "$BUILD/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	log="$out/unit-$(basename "$t").log"
	"$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed before cmocka could count
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $t"
		cat "$log"
	else
		echo "ok   $t ($p)"
	fi
done

echo "== integration and end-to-end tests"
tap="$out/node.tap"
node --test --test-concurrency=2 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=tap --test-reporter-destination="$tap" \
	tests/integration/ tests/e2e/
node_rc=$?
p=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$tap" | tail -1)
f=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$tap" | tail -1)
if [ -z "$p" ]; then
	echo "node --test produced no summary"
	f=$((${f:-0} + 1))
fi
if [ "$node_rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
	echo "node --test exited with $node_rc (a hook failed?)"
	f=1
fi
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
