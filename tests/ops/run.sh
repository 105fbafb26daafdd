#!/usr/bin/env bash
# tests/ops/run.sh - the deployment tests: systemd units, spawn-fcgi, socket
# activation, the config file, the manual pages.
#
#   bash tests/ops/run.sh [NAME...]       (NAME: t_man, t_systemd, ...; default: every tests/ops/t_*.sh)
#
# Each test runs as `bash tests/ops/t_NAME.sh DIR` in a directory of its own under
# /tmp and prints one `ok - NAME` or `not ok - NAME: reason` line; the test's
# `# ` notes and last lines are shown when it fails (VERBOSE=1: always).  Each
# test has a time limit (OPS_TIME_LIMIT, default 240 s): past it the test gets
# SIGTERM (it then stops what it started), SIGKILL 20 s later.  Afterwards
# whatever it left running is stopped by the PIDs recorded under DIR (never by
# name): DIR/tracked (tests/ops/lib.sh), nginx and stack pid files, clusters.
# DIR is removed when the test passed and kept (path printed) when it failed;
# KEEP=1 keeps every DIR.  OPS_JOBS tests run at once (default 2: they
# wait on servers and timeouts more than they compute); their lines are
# printed in name order.
# Last line: `N passed, N failed`; the exit status is 1 when any test failed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
. tests/ops/lib.sh

LIMIT=${OPS_TIME_LIMIT:-240}
GRACE=20
# The tests start their own stacks, whatever this shell points at.
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE IMAGEREG_URL IMAGEREG_TOKEN IMAGEREG_CONFIG \
	IMAGEREG_LISTEN IMAGEREG_WORKERS LISTEN_FDS LISTEN_PID PGHOST PGPORT PGUSER PGDATABASE

jobs=${OPS_JOBS:-2}
passed=0 failed=0
current_pid='' current_dir=''
reports=$(mktemp -d /tmp/imagereg-ops-reports.XXXXXX) || exit 2

# Stops by PID whatever a test left under DIR.
cleanup_dir() {
	local dir=$1 d
	[ -d "$dir" ] || return 0
	ops_stop_tracked "$dir"
	# Our own nginx instances first (they talk to our responders), then stacks.
	for d in "$dir" "$dir"/*/; do
		d=${d%/}
		[ -f "$d/nginx.conf" ] && [ ! -f "$d/imagereg.pid" ] && ops_nginx_stop "$d"
	done
	for d in "$dir" "$dir"/*/; do
		d=${d%/}
		{ [ -f "$d/imagereg.pid" ] || [ -d "$d/pg" ]; } && stack_stop "$d" >/dev/null 2>&1
	done
	return 0
}

# A test's runner (a background subshell): stops its test and what it left.
on_exit() {
	if [ -n "$current_pid" ] && kill -0 "$current_pid" 2>/dev/null; then
		kill -TERM "$current_pid" 2>/dev/null
		wait "$current_pid" 2>/dev/null
	fi
	[ -n "$current_dir" ] && cleanup_dir "$current_dir"
}

# This script: stops the runners still going (each cleans up after its test).
on_main_exit() {
	local pid
	for pid in $(jobs -p); do
		kill -TERM "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$reports"
}
trap on_main_exit EXIT
trap 'exit 130' INT TERM

# run_one NAME: one test and its result lines (ok first, or not ok and what tells why).
run_one() {
	local name=$1 dir out rc reason timed_out=''
	dir=$(mktemp -d "/tmp/imagereg-ops-$name.XXXXXX") || { echo "not ok - $name: mktemp failed"; failed=$((failed + 1)); return; }
	chmod 0755 "$dir"
	out="$dir/output"
	current_dir=$dir
	# timeout(1) bounds it (TERM at LIMIT, KILL GRACE later, to the test's whole process group): one process,
	# where a loop of `sleep 0.1` forked some 2,000 over a run of the suite.
	timeout -k "$GRACE" "$LIMIT" bash "tests/ops/$name.sh" "$dir" >"$out" 2>&1 </dev/null &
	current_pid=$!
	wait "$current_pid"
	rc=$?
	case $rc in 124 | 137) timed_out=1 ;; esac
	current_pid=''
	cleanup_dir "$dir"
	current_dir=''
	if [ -z "$timed_out" ] && [ "$rc" -eq 0 ]; then
		echo "ok - $name"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$out"
		[ -n "${KEEP:-}" ] || rm -rf "$dir"
		return
	fi
	if [ -n "$timed_out" ]; then
		reason="no result within ${LIMIT}s"
	else
		# The last FAIL: line, else the last line that is not a note, else the status.
		reason=$(sed -n 's/^FAIL: //p' "$out" | tail -n 1)
		[ -n "$reason" ] || reason=$(grep -v -e '^# ' -e '^[[:space:]]*$' "$out" | tail -n 1)
		[ -n "$reason" ] || reason="exit status $rc"
	fi
	echo "not ok - $name: $reason"
	# The notes and the last lines tell what happened; the rest stays in DIR.
	{ grep '^# ' "$out"; tail -n 15 "$out" | grep -v '^# '; } | sed 's/^/    /' | head -n 60
	echo "    (kept $dir)"
}

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for t in tests/ops/t_*.sh; do
		names+=("$(basename "$t" .sh)")
	done
fi
running=0
for name in "${names[@]}"; do
	name=${name%.sh}
	if [ ! -f "tests/ops/$name.sh" ]; then
		echo "not ok - $name: no tests/ops/$name.sh" >"$reports/$name"
		continue
	fi
	(trap on_exit EXIT; trap 'exit 130' INT TERM; run_one "$name") >"$reports/$name" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for name in "${names[@]}"; do
	name=${name%.sh}
	cat "$reports/$name"
	if head -n 1 "$reports/$name" | grep -q '^ok - '; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
