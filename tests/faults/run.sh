#!/usr/bin/env bash
# tests/faults/run.sh - fault-injection tests of imagereg: PostgreSQL stopping under load, a worker killed with
# SIGKILL, a worker that cannot wait for connections again, SIGTERM and SIGHUP to the supervisor, failover to a
# streaming-replication standby.
#
#   bash tests/faults/run.sh [NAME...]      (NAME: pg-stop-under-load kill-9-worker epoll-readd
#                                            sigterm-graceful sighup-reload failover; default: all)
#
# Each test runs as `python3 -u tests/faults/t_*.py DIR` in its own directory DIR under /tmp (mktemp -d, mode 0755)
# with its own PostgreSQL, responder and nginx on loopback or unix sockets; its `# ...` lines (the measured figures)
# are shown, then one `ok - NAME` or `not ok - NAME: reason` line. Every test has a time limit: past it the test
# gets SIGTERM (it then stops what it started), then SIGKILL. Whatever is still running afterwards is stopped by the
# PIDs recorded under DIR (nginx.pid, imagereg.pid, the clusters' postmaster.pid) - never by name. DIR is removed
# when the test passed and kept (its path printed) when it failed; KEEP=1 keeps every DIR. FAULTS_TIME_LIMIT=N
# replaces every time limit by N seconds (to try the clean-up of an overrunning test).
# Last line: `N passed, N failed`; the exit status is 1 when any test failed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
. tests/lib/stack.sh

# name, script, time limit in seconds
TESTS="
pg-stop-under-load t_pg_stop_under_load.py 150
kill-9-worker t_kill9_worker.py 120
epoll-readd t_epoll_readd.py 90
sigterm-graceful t_sigterm_graceful.py 120
sighup-reload t_sighup_reload.py 150
failover t_failover.py 240
"
GRACE=30 # seconds between SIGTERM and SIGKILL when a test overruns
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in tests/faults or tests/e2e

# The tests start their own stacks, whatever this shell points at.
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE IMAGEREG_URL IMAGEREG_TOKEN PGHOST PGPORT PGUSER PGDATABASE

passed=0 failed=0
current_pid='' current_dir=''

# Stops by PID whatever a test left under DIR: nginx, the responder, the stack's cluster and extra clusters.
cleanup_dir() {
	local dir=$1 pg
	[ -d "$dir" ] || return 0
	stack_stop "$dir" >/dev/null 2>&1
	for pg in "$dir"/pg-*; do
		[ -d "$pg/data" ] && pg_stop "$pg" >/dev/null 2>&1
	done
	return 0
}

on_exit() {
	if [ -n "$current_pid" ] && kill -0 "$current_pid" 2>/dev/null; then
		kill -TERM "$current_pid" 2>/dev/null
		wait "$current_pid" 2>/dev/null
	fi
	[ -n "$current_dir" ] && cleanup_dir "$current_dir"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

selected() {
	[ $# -eq 1 ] && return 0
	local want=$1 n
	shift
	for n in "$@"; do
		[ "$n" = "$want" ] && return 0
	done
	return 1
}

if ! make -s build >/tmp/imagereg-faults-build.$$ 2>&1; then
	cat /tmp/imagereg-faults-build.$$
	rm -f /tmp/imagereg-faults-build.$$
	echo "not ok - build: make build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f /tmp/imagereg-faults-build.$$

mapfile -t specs <<<"$TESTS"
for spec in "${specs[@]}"; do
	read -r name script limit <<<"$spec"
	[ -n "${name:-}" ] || continue
	limit=${FAULTS_TIME_LIMIT:-$limit}
	selected "$name" "$@" || continue
	dir=$(mktemp -d "/tmp/imagereg-faults-$name.XXXXXX") || exit 2
	chmod 0755 "$dir"
	current_dir=$dir
	echo "=== $name"
	# Bounded by timeout(1): SIGTERM at the limit, SIGKILL after the grace period (one process, not a sleep loop).
	timeout -k "$GRACE" "$limit" python3 -u "tests/faults/$script" "$dir" >"$dir/test.out" 2>&1 &
	current_pid=$!
	timed_out=''
	wait "$current_pid" 2>/dev/null
	rc=$?
	case $rc in 124 | 137) timed_out=1 ;; esac
	current_pid=''
	cleanup_dir "$dir"
	current_dir=''
	grep -E '^# ' "$dir/test.out"
	if [ "$rc" -eq 0 ] && [ -z "$timed_out" ]; then
		echo "ok - $name"
		passed=$((passed + 1))
		[ -n "${KEEP:-}" ] || rm -rf "$dir"
	else
		reason=$(grep -E '^FAIL: ' "$dir/test.out" | tail -n 1 | sed 's/^FAIL: //')
		if [ -n "$timed_out" ]; then
			reason="timed out after ${limit}s${reason:+: $reason}"
		elif [ -z "$reason" ]; then
			reason="exit status $rc: $(tail -n 3 "$dir/test.out" | tr '\n' ' ')"
		fi
		echo "not ok - $name: $reason (logs kept in $dir)"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
