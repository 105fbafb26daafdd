#!/usr/bin/env bash
# tests/bench/smoke.sh - the benchmark harness run tiny: every row measured, both files written, table left as seeded.
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
# One connection count: every row and both files are what is checked here (make bench measures).
conns="4"

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

# A table line for LABEL at CONNS: positive req/s, then p50, p99, non-2xx and socket errors as numbers.
has_row() {
	local label=$1 c esc
	esc=$(printf '%s' "$label" | sed 's/[][().+*]/\\&/g')
	for c in $conns; do
		grep -Eq "^\| $esc \| $c \| [1-9][0-9]* \| [0-9]+\.[0-9]+ \| [0-9]+\.[0-9]+ \| [0-9]+ \| [0-9]+ \|" \
			"$tmp/out/results.md" || { echo "  no numbers for '$label' at $c connections" >&2; return 1; }
	done
}

is_png() {
	[ "$(head -c 8 "$tmp/out/throughput.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
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
		&& grep -Eq '^\| first \| [0-9]+ \| 8 \|' "$tmp/out/results.md"
}

check "ref_pg.c prepares the statements of cgi/db.c, text for text" \
	python3 tests/bench/same_sql.py cgi/db.c tests/bench/ref_pg.c
rc=0
BENCH_SECONDS=1 BENCH_RUNS=1 BENCH_CONNS=$conns BENCH_MEM_REQUESTS=20000 BENCH_OUT="$tmp/out" \
	BENCH_DB_DUMPS="$tmp" bash tests/bench/run.sh >"$tmp/run.log" 2>&1 || rc=$?
check "run.sh exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 30 "$tmp/run.log"
for label in "${labels[@]}"; do
	check "results.md has '$label' with numbers at connections $conns" has_row "$label"
done
check "throughput.png is a PNG" is_png
check "imagereg rows: zero non-2xx and zero socket errors" imagereg_clean
check "results.md has targets and memory (8 workers sampled)" has_sections
check "the registry table has the same 20 rows afterwards" same_rows

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
