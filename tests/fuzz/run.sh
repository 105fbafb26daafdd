#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer harnesses, fuzzes each for a while, then replays the corpus.
#
# Usage: tests/fuzz/run.sh [SECONDS [HARNESS...]]
#        tests/fuzz/run.sh build
#   SECONDS   fuzzing time per harness (default: $FUZZ_SECONDS, else 60)
#   HARNESS   body, route, resp ... (default: every tests/fuzz/fuzz_*.c)
#   build     only build (what changed), two compilers at a time: make test does it before the suites start,
#             when the cores are free, instead of inside the suite beside fifteen others.
# Prints "ok - fuzz_NAME: N execs in S s" or "not ok - fuzz_NAME: reason" per
# harness and "N passed, N failed" last; exits 1 when any failed.
#
# Everything it makes goes under tests/fuzz/build/: objects, binaries, the
# scratch corpus libFuzzer grows (the committed seeds in corpus/ stay as they
# are), logs and crash artifacts (build/artifacts/fuzz_NAME/crash-...).
# corpus/fuzz_NAME/ holds the seeds, regressions/fuzz_NAME/ inputs that once
# broke something; both are replayed once after fuzzing.
# Replay one artifact with: tests/fuzz/build/fuzz_NAME ARTIFACT  (FUZZ_LOG=1 shows the responder's log).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_only=0
if [ "${1:-}" = build ]; then
	build_only=1
	shift
fi
secs=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS [HARNESS...]]" >&2
	exit 2
	;;
esac
cc=${FUZZ_CC:-clang}
build=$here/build
passed=0 failed=0

if [ $# -gt 0 ]; then
	names=("${@/#/fuzz_}")
	names=("${names[@]/#fuzz_fuzz_/fuzz_}")
else
	names=()
	for f in "$here"/fuzz_*.c; do
		names+=("$(basename "$f" .c)")
	done
fi

flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra '-DIMAGEREG_SQLDIR="x"')
# build/include first: the generated constraints.inc, when cgi/ has none.
incs=(-I"$build/include" -I"$root/cgi" -I"$(pg_config --includedir)" $(pkg-config --cflags json-c))
libs=(-lfcgi $(pkg-config --libs json-c) -lpq -lssl -lcrypto -lcurl)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fail() {
	echo "not ok - $1: $2"
	failed=$((failed + 1))
}

# The responder's core objects, as the Makefile lists them for the unit tests.
core=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory -C "$root" --eval 'fuzz-print-core: ; @echo $(CORE)' fuzz-print-core 2>/dev/null)
if [ -z "$core" ]; then
	core="cgi/app.o cgi/auth.o cgi/config.o cgi/crypto.o cgi/db.o cgi/handlers.o cgi/json_check.o
	      cgi/log.o cgi/resp.o cgi/routes.o cgi/validate.o"
fi

# up_to_date TARGET [FILE...]: TARGET exists and is newer than this script, the FILEs and every file its
# dependency list TARGET.d (clang -MMD) names: a make test run after another compiles only what changed.
up_to_date() {
	local target=$1 dep
	shift
	[ -f "$target" ] && [ -f "$target.d" ] && [ "$target" -nt "$0" ] || return 1
	for dep in "$@" $(sed -e 's/^[^:]*://' -e 's/\\$//' "$target.d"); do
		[ "$dep" -nt "$target" ] && return 1
	done
	return 0
}

# Build: every core source, then one binary per harness.  A failure fails them all.
rm -rf "$build/logs"
mkdir -p "$build/obj" "$build/include" "$build/logs"
buildlog=$build/logs/build.log
: >"$buildlog"
# Same awk as the Makefile's cgi/constraints.inc rule, without writing into cgi/; replaced only when it changed.
awk -F'\t' 'NF == 2 && $1 !~ /^#/ { printf "\t{ \"%s\", \"%s\" },\n", $1, $2 }' \
	"$root/sql/CONSTRAINTS.txt" >"$build/include/constraints.inc.new"
if cmp -s "$build/include/constraints.inc.new" "$build/include/constraints.inc"; then
	rm -f "$build/include/constraints.inc.new"
else
	mv "$build/include/constraints.inc.new" "$build/include/constraints.inc"
fi
# compile SRC OBJ: one core object; a failed one is removed (so the next run compiles it again).
compile() {
	local out rc=0
	out=$("$cc" "${flags[@]}" "${incs[@]}" -MMD -MF "$2.d" -c -o "$2" "$1" 2>&1) || rc=$?
	# One write per object, so that two compilers at once do not interleave their lines in the log.
	[ -z "$out" ] || printf '%s -c %s\n%s\n' "$cc" "$1" "$out" >>"$buildlog"
	[ "$rc" -eq 0 ] || rm -f "$2"
	return "$rc"
}
built=1
objs=()
running=0
for o in $core; do
	src=$root/${o%.o}.c
	obj=$build/obj/$(basename "$o")
	objs+=("$obj")
	up_to_date "$obj" && continue
	compile "$src" "$obj" &
	running=$((running + 1))
	if [ "$running" -ge 2 ]; then
		wait -n || built=0
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || built=0
	running=$((running - 1))
done
if [ $built = 1 ]; then
	for name in "${names[@]}"; do
		up_to_date "$build/$name" "${objs[@]}" && continue
		echo "$cc -o $build/$name" >>"$buildlog"
		if ! "$cc" "${flags[@]}" "${incs[@]}" -MMD -MF "$build/$name.d" -o "$build/$name" "$here/$name.c" \
			"${objs[@]}" "${libs[@]}" >>"$buildlog" 2>&1; then
			rm -f "$build/$name"
			built=0
			break
		fi
	done
fi
if [ $built = 0 ]; then
	tail -n 20 "$buildlog" | sed 's/^/# /'
	for name in "${names[@]}"; do
		fail "$name" "build failed (see $buildlog)"
	done
	echo "$passed passed, $failed failed"
	exit 1
fi
[ $build_only = 0 ] || exit 0

# The first line that says what went wrong in a libFuzzer log, and the saved input.
why() {
	local log=$1 line unit
	line=$(grep -m 1 -E 'invariant broken|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error|Assertion' "$log")
	unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "${line:-exited with status $2, no error line (see $log)}${unit:+; input: $unit}"
}

for name in "${names[@]}"; do
	bin=$build/$name
	short=${name#fuzz_}
	work=$build/work/$name
	art=$build/artifacts/$name
	log=$build/logs/$name.log
	rm -rf "$work"
	mkdir -p "$work" "$art"
	[ -d "$here/corpus/$name" ] && cp -R "$here/corpus/$name/." "$work/"
	dict=()
	[ -f "$here/$short.dict" ] && dict=(-dict="$here/$short.dict")

	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -detect_leaks=1 \
		-print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$work" >"$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - start))
	if [ $rc != 0 ]; then
		fail "$name" "$(why "$log" $rc)"
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_\(runs\|units\): *\([0-9]*\).*/\2/p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)
	if [ -z "$execs" ]; then
		fail "$name" "no execution count in $log"
		continue
	fi

	# Regression run: every committed seed and regression input once.
	inputs=()
	for dir in "$here/corpus/$name" "$here/regressions/$name"; do
		[ -d "$dir" ] || continue
		while IFS= read -r -d '' f; do
			inputs+=("$f")
		done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
	done
	if [ ${#inputs[@]} -gt 0 ]; then
		rlog=$build/logs/$name.replay.log
		"$bin" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -artifact_prefix="$art/" "${inputs[@]}" \
			>"$rlog" 2>&1
		rc=$?
		if [ $rc != 0 ]; then
			input=$(sed -n 's/^Running: \(.*\)$/\1/p' "$rlog" | tail -n 1)
			fail "$name" "replay of ${input#"$root"/} failed: $(why "$rlog" $rc)"
			continue
		fi
	fi
	echo "ok - $name: $execs execs in $elapsed s"
	passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
[ $failed = 0 ]
