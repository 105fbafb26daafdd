#!/usr/bin/env bash
# tests/bench/smoke.sh - the benchmark harness run tiny: every row and scale point measured, the files written,
# table left as seeded.
# A suite of tests/run.sh (`bench`); prints ok/not ok lines and "N passed, N failed" last.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/imagereg-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# The rows the table must have, as labelled by run.sh; imagereg's first.
labels=(
	"imagereg GET list" "imagereg GET one" "imagereg PUT default" "imagereg POST+DELETE"
	"ref nginx return 200 (list)" "ref libfcgi in-memory GET list" "ref libfcgi in-memory GET one"
	"ref libfcgi bare GET list" "ref libfcgi bare GET one"
	"ref libfcgi+libpq GET list" "ref libfcgi+libpq GET one" "ref libfcgi+libpq PUT default"
	"ref libfcgi+libpq POST+DELETE"
)
# Two connection counts: one, where the GET rows are measured by seq_get.c and the writes by wrk, and four (wrk
# only); every row and both files are what is checked here (make bench measures).
conns="1 4"
# Points of 1 s, the scale phase's 0.5 s (wrk stopped by SIGINT), as short as a point can be and still have answers
# beside the other suites: a PUT point of 0.2 s once had no answer at all, and so did the libfcgi+libpq PUT point
# at 0.5 s in CI (2026-12-05, 4 connections: no request through nginx, ref_pg and PostgreSQL within the half
# second while the machine ran every other suite). One size of 50 registries (the phase's steps are the same at
# every size), two workers: make test runs this beside every other suite, where each step waits for a core, and
# the phase restarts the responder and both references at each size.
workers=2
scale_sizes="50"
scale_ops=("GET list" "GET one" "GET page" "PUT")
num='[0-9]+\.[0-9]+'

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

# TEXT as an extended regular expression that matches it literally (the labels' characters).
literal() {
	printf '%s' "$1" | sed 's/[][().+*]/\\&/g'
}

# A table line for LABEL at CONNS: positive req/s, then p50, p99, non-2xx and socket errors as numbers.
has_row() {
	local label=$1 c esc
	esc=$(literal "$label")
	for c in $conns; do
		grep -Eq "^\| $esc \| $c \| [1-9][0-9]* \| [0-9]+\.[0-9]+ \| [0-9]+\.[0-9]+ \| [0-9]+ \| [0-9]+ \|" \
			"$tmp/out/results.md" || {
			echo "  no numbers for '$label' at $c connections; its lines:" >&2
			grep -E "^\| $esc \|" "$tmp/out/results.md" | sed 's/^/    /' >&2
			return 1
		}
	done
}

is_png() {	# is_png FILE
	[ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# scale_line OP WHO N WRITES R1 R2: the Scale table's line for it, with positive req/s, then p50, p99, non-2xx,
# socket errors, background writes/s and failed as numbers, and the ratio cells matching R1 and R2.
scale_line() {
	local op who
	op=$(literal "$1")
	who=$(literal "$2")
	grep -Eq "^\| $op \| $who \| $3 \| $4 \| [1-9][0-9]* \| $num \| $num \| [0-9]+ \| [0-9]+ \| $num \| [0-9]+ \| $5 \| $6 \|\$" \
		"$tmp/out/results.md" || { echo "  no line for $1, $2, $3 registries, writes $4" >&2; return 1; }
}

# Every size and writes state of operation OP: imagereg in both modes with both ratios (÷ in-mem only for
# reads), the in-memory reference for reads, the libfcgi+libpq one for all.
has_scale_rows() {
	local op=$1 n writes mem=$num ok=0
	[ "$op" != PUT ] || mem=""
	for n in $scale_sizes; do
		for writes in quiet on; do
			scale_line "$op" "imagereg host" "$n" "$writes" "$mem" "$num" || ok=1
			scale_line "$op" "imagereg cluster" "$n" "$writes" "$mem" "$num" || ok=1
			[ "$op" = PUT ] || scale_line "$op" "ref libfcgi in-memory" "$n" "$writes" "" "" || ok=1
			scale_line "$op" "ref libfcgi+libpq" "$n" "$writes" "" "" || ok=1
		done
	done
	return "$ok"
}

# Columns 9, 10 and 12 (non-2xx, socket errors, failed background writes) of every imagereg line of the Scale table are 0.
scale_clean() {
	awk -F' *\\| *' '/^## Scale/ { on = 1 } /^## / && !/^## Scale/ { on = 0 }
		on && $3 ~ /^imagereg / { n++; if ($9 != "0" || $10 != "0" || $12 != "0") { print "  " $0 > "/dev/stderr"; bad = 1 } }
		END { exit (bad || n == 0) }' "$tmp/out/results.md"
}

# Background writes (column 11, per second) on the "on" lines of the Scale table, and on no "quiet" line.
# Not every "on" line: a short point can pass while the writer's PUT waits behind wrk's PUTs.
scale_writes() {
	awk -F' *\\| *' '/^## Scale/ { on = 1 } /^## / && !/^## Scale/ { on = 0 }
		on && $5 == "on" { w += $11 }
		on && $5 == "quiet" { q++; if ($11 + 0 != 0) { print "  writes: " $0 > "/dev/stderr"; bad = 1 } }
		END { if (w <= 0) print "  no background writes on any line" > "/dev/stderr"; exit (bad || w <= 0 || q == 0) }' \
		"$tmp/out/results.md"
}

# Columns 7 and 8 (non-2xx, socket errors) of every imagereg line of the table are 0.
imagereg_clean() {
	awk -F' *\\| *' '$2 ~ /^imagereg (GET list|GET one|PUT default|POST\+DELETE)$/ { n++; if ($7 != "0" || $8 != "0") { print "  " $0 > "/dev/stderr"; bad = 1 } }
		END { exit (bad || n == 0) }' "$tmp/out/results.md"
}

# The registry table right after seeding and after the whole run: 20 rows, identical (ids, fields, default).
same_rows() {
	[ "$(wc -l <"$tmp/db-before.tsv")" -eq 20 ] && cmp "$tmp/db-before.tsv" "$tmp/db-after.tsv" >&2
}

has_sections() {
	grep -q '^## Targets' "$tmp/out/results.md" && grep -q '^## Memory' "$tmp/out/results.md" \
		&& grep -Eq "^\\| first \\| [0-9]+ \\| $workers \\|" "$tmp/out/results.md"
}

check "ref_pg.c prepares the statements of cgi/db.c, text for text" \
	python3 tests/bench/same_sql.py cgi/db.c tests/bench/ref_pg.c
rc=0
BENCH_SECONDS=1 BENCH_RUNS=1 BENCH_CONNS=$conns BENCH_MEM_REQUESTS=20000 BENCH_OUT="$tmp/out" \
	BENCH_SCALE_SIZES=$scale_sizes BENCH_SCALE_SECONDS=0.5 BENCH_SCALE_CONNS=2 BENCH_WORKERS=$workers BENCH_DB_DUMPS="$tmp" bash tests/bench/run.sh >"$tmp/run.log" 2>&1 || rc=$?
check "run.sh exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 30 "$tmp/run.log"
for label in "${labels[@]}"; do
	check "results.md has '$label' with numbers at connections $conns" has_row "$label"
done
check "throughput.png is a PNG" is_png "$tmp/out/throughput.png"
for op in "${scale_ops[@]}"; do
	check "Scale table has '$op' with numbers at $scale_sizes registries, quiet and with writes, both modes" \
		has_scale_rows "$op"
done
check "scale.png is a PNG" is_png "$tmp/out/scale.png"
check "Scale table, imagereg lines: zero non-2xx, socket errors and failed background writes" scale_clean
check "Scale table: background writes on the 'on' lines, none on a 'quiet' one" scale_writes
check "imagereg rows: zero non-2xx and zero socket errors" imagereg_clean
check "results.md has targets and memory ($workers workers sampled)" has_sections
check "the registry table has the same 20 rows afterwards" same_rows

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
