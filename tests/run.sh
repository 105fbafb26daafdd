#!/usr/bin/env bash
# tests/run.sh - every test suite against a real PostgreSQL and nginx on loopback.
# Called by `make test` after the build.  Each suite prints "N passed, N failed"
# last; this script adds them up, prints the total last and fails if any failed.
# Optional arguments choose suites: unit sql e2e (default: all).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/lib/stack.sh

suites=${*:-unit sql e2e}
# The suites run on their own stack, whatever this shell points at.
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE PGHOST PGPORT PGDATABASE PGUSER
work=$(mktemp -d /tmp/imagereg-test.XXXXXX)
chmod 0755 "$work"   # the postgres user must reach the cluster below it
passed=0 failed=0

cleanup() {
	stack_stop "$work/stack"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one suite, shows its output, adds its closing counts to the total.
# A suite that ends without a count line counts as one failure.
suite() {
	local name=$1 out line
	shift
	echo "=== $name"
	out="$work/${name//\//_}.out"
	"$@" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok - $name ended without a result line"
		failed=$((failed + 1))
		return
	fi
	set -- $line
	passed=$((passed + $1))
	failed=$((failed + $3))
}

for s in $suites; do
	case $s in
	unit)
		for t in tests/unit/test_*; do
			[ -x "$t" ] && suite "unit/$(basename "$t")" "$t"
		done
		;;
	sql | e2e)
		if [ ! -d "$work/stack" ]; then
			mkdir "$work/stack"
			stack_start "$work/stack" || { echo "not ok - the test stack did not start"; failed=$((failed + 1)); break; }
		fi
		if [ "$s" = sql ]; then
			# The SQL runner migrates the databases it creates (PGDATABASE), not the stack's.
			suite sql env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN IMAGEREG_MIGRATE="$root/cgi/imagereg migrate --dir $root/sql" \
				PGDATABASE=postgres bash tests/sql/run.sh
		else
			suite e2e python3 tests/e2e/run.py
		fi
		;;
	*)
		echo "unknown suite $s" >&2
		exit 2
		;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
