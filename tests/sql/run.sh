#!/usr/bin/env bash
# tests/sql/run.sh -- run the SQL-level tests (tests/sql/tNNN-*.sql and tNNN-*.sh), each in a fresh database.
#
# Usage: tests/sql/run.sh [tNNN-name ...]
#   Needs PGHOST/PGPORT/PGUSER for a running server on which the caller may create databases (tests/lib/pg.sh gives
#   you one). Migrates a template database once, then for each test: createdb -T template, run, dropdb --force.
#   With arguments (file names with or without extension, or just tNNN) it runs only those tests.
#   .sql tests run with psql -X -q -v ON_ERROR_STOP=1, TEST_JOBS of them at a time (each has its own database);
#   .sh tests run afterwards with bash, one at a time (they measure concurrency), with PGDATABASE set.
#
# Environment:
#   IMAGEREG_MIGRATE  command that migrates the database named by PGDATABASE, run with bash -c from the current
#                     directory, with IMAGEREG_DSN and IMAGEREG_ADMIN_DSN cleared (default: the tree's
#                     cgi/imagereg migrate --dir sql: the real migrator, which also applies sql/functions/).
#   TEST_TIMEOUT      seconds one test may take (default 60: make test runs every suite at once on 2 cores).
#   TEST_JOBS         .sql tests run at the same time (default: number of CPUs, at least 2).
#   PG_BINDIR         where psql/createdb/dropdb are (default: `pg_config --bindir` if it has psql, else PATH).
#
# Output: "ok - tNNN-name" or "not ok - tNNN-name" followed by the test's output as "# " lines, in name order
# within each group; last line "N passed, N failed". Exit status 1 if a test failed or the template could not be made.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
timeout_s=${TEST_TIMEOUT:-60}
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -ge 2 ] 2>/dev/null || jobs=2

# The real binaries, not Debian's perl wrappers in /usr/bin: those add ~0.1 s to every call.
if [ -z "${PG_BINDIR:-}" ] && command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/psql" ]; then
	PG_BINDIR=$(pg_config --bindir)
fi
[ -n "${PG_BINDIR:-}" ] && PATH="$PG_BINDIR:$PATH"
export PATH
# Tests report through errors; NOTICEs from the migration or from DROP ... IF EXISTS are noise.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
unset PGDATABASE PGSERVICE

for tool in psql createdb dropdb timeout; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "Bail out! $tool not found (set PG_BINDIR?)"
		exit 1
	fi
done
if ! psql -X -q -d postgres -c 'SELECT 1' >/dev/null; then
	echo "Bail out! cannot connect to PostgreSQL at PGHOST=${PGHOST:-} PGPORT=${PGPORT:-}"
	exit 1
fi

prefix="imagereg_t$$"
template="${prefix}_template"
work=$(mktemp -d) || exit 1

cleanup() {
	local pid
	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	dropdb --if-exists --force "$template" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The migrate command must reach the template through PGDATABASE: the imagereg CLI prefers IMAGEREG_ADMIN_DSN and
# IMAGEREG_DSN over libpq's PG* variables, so those are cleared for it. Afterwards the template must have a
# schema_migration row, or the command migrated some other database.
make_template() {
	local applied
	createdb "$template" || return 1
	PGDATABASE="$template" timeout "$timeout_s" env -u IMAGEREG_DSN -u IMAGEREG_ADMIN_DSN \
		bash -c "${IMAGEREG_MIGRATE:-$repo/cgi/imagereg migrate --dir $repo/sql}" || return 1
	applied=$(psql -X -q -A -t -d "$template" -c "SELECT count(*) FROM schema_migration" 2>&1)
	if ! [ "$applied" -ge 1 ] 2>/dev/null; then   # also when psql printed an error instead of a number
		echo "the migration did not reach database $template (PGDATABASE): schema_migration: $applied"
		return 1
	fi
}

if ! make_template >"$work/template.out" 2>&1; then
	echo "Bail out! could not create and migrate the template database"
	sed 's/^/# /' "$work/template.out"
	exit 1
fi

tests=()
if [ "$#" -gt 0 ]; then
	for name in "$@"; do
		name=$(basename "$name")
		name=${name%.sql}
		name=${name%.sh}
		found=0
		for f in "$here/$name".sql "$here/$name".sh "$here/$name"-*.sql "$here/$name"-*.sh; do
			[ -f "$f" ] || continue
			tests+=("$f")
			found=1
		done
		[ "$found" -eq 1 ] || { echo "Bail out! no test named $name"; exit 1; }
	done
else
	mapfile -t tests < <(find "$here" -maxdepth 1 -type f \( -name 't[0-9]*.sql' -o -name 't[0-9]*.sh' \) | LC_ALL=C sort)
fi
if [ "${#tests[@]}" -eq 0 ]; then
	echo "Bail out! no tests found in $here"
	exit 1
fi

# run_one FILE N: run one test in its own database; leaves its output in $work/N.out, then its exit status in
# $work/N.status (written last, so its presence means the test is finished).
run_one() {
	local f=$1 n=$2 db="${prefix}_$2" out="$work/$2.out" status=0
	if ! createdb -T "$template" "$db" >"$out" 2>&1; then
		echo 1 >"$work/$n.status"
		return
	fi
	case $f in
	*.sql) timeout "$timeout_s" psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$f" >>"$out" 2>&1 || status=$? ;;
	*.sh) PGDATABASE="$db" timeout "$timeout_s" bash "$f" >>"$out" 2>&1 || status=$? ;;
	esac
	[ "$status" -eq 124 ] && echo "timed out after ${timeout_s}s" >>"$out"
	# --force: a timed-out test may leave backends behind (a pg_sleep does not notice that its client is gone).
	dropdb --if-exists --force "$db" >>"$out" 2>&1 || { [ "$status" -ne 0 ] || status=1; }
	echo "$status" >"$work/$n.status.tmp" && mv "$work/$n.status.tmp" "$work/$n.status"
}

passed=0
failed=0
names=()
next=1

# Print the results of finished tests, in order, up to the first one still running.
report_finished() {
	local status
	while [ "$next" -le "${#names[@]}" ] && [ -f "$work/$next.status" ]; do
		status=$(cat "$work/$next.status")
		if [ "$status" = 0 ]; then
			echo "ok - ${names[next - 1]}"
			passed=$((passed + 1))
		else
			echo "not ok - ${names[next - 1]}"
			sed 's/^/# /' "$work/$next.out"
			failed=$((failed + 1))
		fi
		next=$((next + 1))
	done
}

# .sql tests in parallel, then .sh tests one by one.
for kind in sql sh; do
	running=0
	for f in "${tests[@]}"; do
		[ "${f##*.}" = "$kind" ] || continue
		name=$(basename "$f")
		names+=("${name%.*}")
		run_one "$f" "${#names[@]}" &
		running=$((running + 1))
		if [ "$kind" = sh ] || [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
			report_finished
		fi
	done
	wait
	report_finished
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
