#!/usr/bin/env bash
# tests/run.sh - every test suite against a real PostgreSQL and nginx on loopback.
# Called by `make test` (and `make check`) after the builds.  Each suite prints
# "N passed, N failed" last; this script adds them up, prints a table of the
# suites with their times and the total last, and fails if any failed.
#
# The suites are independent (each starts its own stack on free ports) and run
# TEST_JOBS at a time (default 16: all at once, the longest started first, so
# that the machine's cores are busy from the first second to the last); each
# suite's output is shown whole when it ends.
# The end-to-end modules are shared among E2E_SHARDS runners (default 3; the
# plain build's share in make test, e2e-timed: 2), each on a stack of its own
# (tests/e2e/run.py, E2E_CLAIMS).
#
# make test runs each end-to-end module once against the sanitizer build (asan),
# which checks every memory access and undefined behaviour on the way, and again
# against the plain -O2 build only where the build's speed is the subject
# (E2E_TIMED: load, cache freshness under load, timeouts, two hosts; their
# bounds are the plain build's) or the module is make check's core (E2E_CORE).
# The plain build also serves every other suite (registry, console, deploy, ops,
# faults, bench).  `tests/run.sh e2e` runs every module against the plain build.
#
# Suites (default: asan e2e-timed faults ops fuzz bench sql registry console unit deploy,
# the longest first):
#   unit      C unit tests (tests/unit, built in the tree)
#   sql       constraint and trigger tests (tests/sql)
#   e2e       end-to-end tests through nginx (tests/e2e), every module
#   e2e-timed the modules of E2E_CORE and E2E_TIMED only (make test's plain share)
#   registry  checks, browsing and docker-config against a real registry (Debian's
#             docker-registry) with skopeo as the client (tests/registry)
#   asan      unit and every e2e module against the AddressSanitizer/UBSan build in cgi/asan
#   fuzz      libFuzzer harnesses, FUZZ_SECONDS each (default 3; make fuzz: 60)
#   faults    PostgreSQL stops, killed workers, signals, failover (tests/faults)
#   ops       install/uninstall, systemd units, spawn-fcgi, man pages (tests/ops)
#   deploy    README's deployment section as written, on Debian's nginx config and a Debian cluster (tests/deploy)
#   console   the browser console clicked through in headless Chromium (tests/console)
#   bench     the benchmark harness run tiny on its own stack (tests/bench/smoke.sh)
#   e2e-core  the end-to-end modules of E2E_CORE only (make check)
#   valgrind  e2e with every responder process under valgrind memcheck (make valgrind)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/lib/stack.sh

suites=${*:-asan e2e-timed faults ops fuzz bench sql registry console unit deploy}
shards=${E2E_SHARDS:-3}
# make check's end-to-end modules, and those whose subject is time or load (run.py filters).
E2E_CORE=${E2E_CORE:-t_create. t_read. t_update. t_delete. t_defaults. t_ids. t_routing. t_validation. t_field_rules. t_db_lock.}
E2E_TIMED=${E2E_TIMED:-t_load. t_cache. t_cache_bound. t_cache_rows. t_two_hosts. t_outbound. t_check_hints. t_supervisor_stop. t_concurrency.}
# The suites run on their own stacks, whatever this shell points at, and never
# read a deployment's files in /etc/imagereg (tests that want a file name one).
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE IMAGEREG_FCGI IMAGEREG_WRAP \
	PGHOST PGPORT PGDATABASE PGUSER
export IMAGEREG_CONFIG=/dev/null IMAGEREG_ADMIN_CONFIG=/dev/null
# PostgreSQL's own programs, not Debian's wrappers in /usr/bin (about 60 ms less a call).
PATH="$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin):$PATH"
export PATH
# t_load holds its load for 10 s here (30 s by default): its invariants show within
# seconds, and the parallel suites share 2 cores. make bench is where load runs long.
export LOAD_SECONDS=${LOAD_SECONDS:-10}
# Writes that fire no trigger are seen within cache_max_age: short here, so tests/e2e/t_cache_bound.py is quick.
export IMAGEREG_CACHE_MAX_AGE=${IMAGEREG_CACHE_MAX_AGE:-3}
work=$(mktemp -d /tmp/imagereg-test.XXXXXX)
chmod 0755 "$work"   # the postgres user must reach the clusters below it
# One initdb, copied by every cluster the suites start (tests/lib/pg.sh, PG_DATA_TEMPLATE).
mkdir -p "$work/pg-template"
PG_DATA_TEMPLATE=$(pg_data_template "$work/pg-template") && export PG_DATA_TEMPLATE
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

# Runs one suite with its output and time in $work/results/N.*; prints nothing.
# A suite that ends without a count line counts as one failure.
suite() {
	local name=$1 out start
	shift
	out="$work/results/${name//\//_}"
	start=$(date +%s.%N)
	"$@" >"$out.out" 2>&1
	echo "$name $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')" >"$out.time"
}

# The counts of a finished suite: "passed failed", a missing line as one failure.
suite_counts() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "0 1"
	else
		set -- $line
		echo "$1 $3"
	fi
}

# One check that is not a suite of its own: ok/not ok and a count line.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - $name"
		echo "1 passed, 0 failed"
	else
		echo "not ok - $name"
		echo "0 passed, 1 failed"
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

# run_one NAME: one suite (or group of suites) as the case below says.
run_one() {
	local s=$1 t
	case $s in
	unit)
		for t in tests/unit/test_*; do
			[ -x "$t" ] && suite "unit/$(basename "$t")" "$t"
		done
		;;
	e2e-core)
		# shellcheck disable=SC2086
		suite e2e-core in_stack e2e-core python3 tests/e2e/run.py $E2E_CORE
		;;
	sql)
		# The SQL runner migrates the databases it creates (PGDATABASE), not the stack's.
		suite sql in_stack sql env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN \
			IMAGEREG_MIGRATE="$root/cgi/imagereg migrate --dir $root/sql" \
			PGDATABASE=postgres bash tests/sql/run.sh
		;;
	e2e/*)
		E2E_CLAIMS="$work/claims-e2e" suite "$s" in_stack "e2e-${s#e2e/}" python3 tests/e2e/run.py
		;;
	e2e-timed/*)
		# shellcheck disable=SC2086
		E2E_CLAIMS="$work/claims-e2e-timed" suite "$s" in_stack "e2e-timed-${s#e2e-timed/}" \
			python3 tests/e2e/run.py $E2E_CORE $E2E_TIMED
		;;
	registry)
		suite registry in_stack registry python3 tests/registry/run.py
		;;
	asan/*)
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
		;;&
	asan/unit)
		for t in cgi/asan/test_*; do
			[ -x "$t" ] && suite "asan/unit/$(basename "$t")" "$t"
		done
		;;
	asan/e2e/*)
		t=asan-${s#asan/e2e/}
		# The loads (t_load, t_cache, t_two_hosts) are the plain build's to carry: 2 s samples here.
		LOAD_SECONDS=2 IMAGEREG_FCGI="$root/cgi/asan/imagereg-fcgi" E2E_CLAIMS="$work/claims-asan" \
			suite "$s" in_stack "$t" python3 tests/e2e/run.py
		suite "asan/log/${s#asan/e2e/}" check "asan: no sanitizer report in the $t responder log" \
			log_clean "$work/$t/imagereg.log"
		;;
	valgrind)
		# memcheck is 20-50 times slower: a lighter load, and E2E_FILTER to run a part.
		LOAD_SECONDS=5 LOAD_CONCURRENCY=8 IMAGEREG_WORKERS=2 \
		IMAGEREG_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--log-file=$work/valgrind/valgrind.%p.log" suite valgrind/e2e in_stack valgrind python3 tests/e2e/run.py ${E2E_FILTER:-}
		suite valgrind/log check "valgrind: 0 errors, 0 bytes definitely lost" valgrind_clean "$work/valgrind"
		;;
	fuzz)
		suite fuzz bash tests/fuzz/run.sh "${FUZZ_SECONDS:-3}"
		;;
	faults)
		suite faults bash tests/faults/run.sh
		;;
	ops)
		suite ops bash tests/ops/run.sh
		;;
	deploy)
		suite deploy bash tests/deploy/run.sh
		;;
	bench)
		suite bench bash tests/bench/smoke.sh
		;;
	console)
		# The screenshot goes to the work dir: the committed one is refreshed by hand.
		CONSOLE_SCREENSHOT="$work/console.png" suite console in_stack console node tests/console/console.test.mjs
		;;
	esac
}

# What runs in parallel: the suites, with e2e and asan split into their shards.
units=""
for s in $suites; do
	case " unit sql e2e e2e-core e2e-timed registry asan valgrind fuzz faults ops deploy bench console " in
	*" $s "*) ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
	case $s in
	e2e) units="$units $(seq -f 'e2e/%g' -s ' ' 1 "$shards")" ;;
	e2e-timed) units="$units $(seq -f 'e2e-timed/%g' -s ' ' 1 "${E2E_SHARDS:-2}")" ;;
	asan) units="$units asan/unit $(seq -f 'asan/e2e/%g' -s ' ' 1 "$shards")" ;;
	*) units="$units $s" ;;
	esac
done
mkdir -p "$work/results" "$work/claims-e2e" "$work/claims-e2e-timed" "$work/claims-asan"
declare -A reported=()
summary=""

# Shows the output of every suite that has ended and was not shown yet, and
# adds its counts and time to the totals and the table.
report_ended() {
	local f base name secs
	for f in $(ls -tr "$work"/results/*.time 2>/dev/null); do
		[ -z "${reported[$f]:-}" ] || continue
		reported[$f]=1
		base=${f%.time}
		cat "$base.out"
		set -- $(suite_counts "$base.out")
		passed=$((passed + $1))
		failed=$((failed + $2))
		read -r name secs <"$f"
		summary+=$(printf '%-24s %7s %7s %6ss' "$name" "$1" "$2" "$secs")$'\n'
	done
}

jobs=${TEST_JOBS:-16}
running=0
# deploy installs into the machine's own /etc, /run and /var/log as README
# says, beside the others: none of them reads those (their stacks and tests
# name their own config files, generation files and sockets).
for s in $units; do
	# Each suite picks free ports at random: give each its own sequence.
	(RANDOM=$((BASHPID ^ 10#$(date +%N))); run_one "$s") &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
		report_ended
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n
	running=$((running - 1))
	report_ended
done

echo
printf '%-24s %7s %7s %7s\n' suite passed failed time
printf '%s' "$summary"
echo "wall time: ${SECONDS} s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
