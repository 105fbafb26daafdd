#!/usr/bin/env bash
# tests/run.sh - every test suite against a real PostgreSQL and nginx on loopback.
# Called by `make test` after the builds.  Each suite prints "N passed, N failed"
# last; this script adds them up, prints the total last and fails if any failed.
#
# Suites (default: unit sql e2e registry asan fuzz faults ops console bench):
#   unit      C unit tests (tests/unit, built in the tree)
#   sql       constraint and trigger tests (tests/sql)
#   e2e       end-to-end tests through nginx (tests/e2e)
#   registry  checks, browsing and docker-config against a real registry (Debian's
#             docker-registry) with skopeo as the client (tests/registry)
#   asan      unit and e2e again against the AddressSanitizer/UBSan build in cgi/asan
#   fuzz      libFuzzer harnesses, FUZZ_SECONDS each (default 20)
#   faults    PostgreSQL stops, killed workers, signals, failover (tests/faults)
#   ops       install/uninstall, systemd units, spawn-fcgi, man pages (tests/ops)
#   console   the browser console clicked through in headless Chromium (tests/console)
#   bench     the benchmark harness run tiny on its own stack (tests/bench/smoke.sh)
#   valgrind  e2e with every responder process under valgrind memcheck (make valgrind)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/lib/stack.sh

suites=${*:-unit sql e2e registry asan fuzz faults ops console bench}
# The suites run on their own stacks, whatever this shell points at.
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE IMAGEREG_FCGI IMAGEREG_WRAP \
	PGHOST PGPORT PGDATABASE PGUSER
work=$(mktemp -d /tmp/imagereg-test.XXXXXX)
chmod 0755 "$work"   # the postgres user must reach the clusters below it
passed=0 failed=0

cleanup() {
	local d
	for d in "$work"/*/; do
		stack_stop "$d"
	done
	[ -n "${KEEP:-}" ] || rm -rf "$work"
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

# One check that is not a suite of its own: ok/not ok and the count.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
}

# `in_stack NAME cmd...`: runs cmd with a stack of its own in $work/NAME,
# stopped afterwards (its logs stay for the checks that follow).
in_stack() {
	local name=$1 dir="$work/$1" rc
	shift
	mkdir -p "$dir"
	if ! stack_start "$dir"; then
		echo "not ok - the $name stack did not start"
		echo "0 passed, 1 failed"
		stack_stop "$dir"
		return 1
	fi
	"$@"
	rc=$?
	stack_stop "$dir"
	return $rc
}

# No sanitizer or memcheck complaint in the responder's log.
log_clean() {
	[ -s "$1" ] && ! grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$1" >&2
}

# Every valgrind log says 0 errors and 0 bytes definitely lost.
valgrind_clean() {
	local f bad=0
	for f in "$1"/valgrind.*.log; do
		[ -e "$f" ] || { echo "no valgrind logs in $1" >&2; return 1; }
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$f" || grep -Eq 'definitely lost: [1-9]' "$f"; then
			echo "memcheck complaints in $f:" >&2
			grep -E 'ERROR SUMMARY|definitely lost|Invalid|uninitialised' "$f" | head -n 20 >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}

for s in $suites; do
	case $s in
	unit)
		for t in tests/unit/test_*; do
			[ -x "$t" ] && suite "unit/$(basename "$t")" "$t"
		done
		;;
	sql)
		# The SQL runner migrates the databases it creates (PGDATABASE), not the stack's.
		suite sql in_stack sql env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN \
			IMAGEREG_MIGRATE="$root/cgi/imagereg migrate --dir $root/sql" \
			PGDATABASE=postgres bash tests/sql/run.sh
		;;
	e2e)
		suite e2e in_stack e2e python3 tests/e2e/run.py
		;;
	registry)
		suite registry in_stack registry python3 tests/registry/run.py
		;;
	asan)
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
		for t in cgi/asan/test_*; do
			[ -x "$t" ] && suite "asan/unit/$(basename "$t")" "$t"
		done
		IMAGEREG_FCGI="$root/cgi/asan/imagereg-fcgi" suite asan/e2e in_stack asan python3 tests/e2e/run.py
		check "asan: no sanitizer report in the responder log" log_clean "$work/asan/imagereg.log"
		unset ASAN_OPTIONS UBSAN_OPTIONS
		;;
	valgrind)
		# memcheck is 20-50 times slower: a lighter load, and E2E_FILTER to run a part.
		LOAD_SECONDS=5 LOAD_CONCURRENCY=8 IMAGEREG_WORKERS=2 \
		IMAGEREG_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--log-file=$work/valgrind/valgrind.%p.log" suite valgrind/e2e in_stack valgrind python3 tests/e2e/run.py ${E2E_FILTER:-}
		check "valgrind: 0 errors, 0 bytes definitely lost" valgrind_clean "$work/valgrind"
		;;
	fuzz)
		suite fuzz bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
		;;
	faults)
		suite faults bash tests/faults/run.sh
		;;
	ops)
		suite ops bash tests/ops/run.sh
		;;
	bench)
		suite bench bash tests/bench/smoke.sh
		;;
	console)
		# The screenshot goes to the work dir: the committed one is refreshed by hand.
		CONSOLE_SCREENSHOT="$work/console.png" suite console in_stack console node tests/console/console.test.mjs
		;;
	*)
		echo "unknown suite $s" >&2
		exit 2
		;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
