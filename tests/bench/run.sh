#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: imagereg and three reference responders through nginx, measured with wrk in one run.
#
# Starts its own stack (tests/lib/stack.sh: PostgreSQL, imagereg-fcgi, nginx), seeds 20 registries, builds and starts
# the references of this directory behind a second nginx of the same build and settings, then measures every row at
# each connection count, restarts the responder and drives it to BENCH_MEM_REQUESTS for the memory check.  Prints the
# table and the targets, writes results.md and throughput.png.  Exits 0 when targets fail: it measures, it does not
# judge (tests/bench/smoke.sh is the test).
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [5]            length of one wrk run
#   BENCH_RUNS [3]               runs per point; the medians of req/s, p50 and p99 are reported
#   BENCH_CONNS ["1 8 32 128"]   connection counts
#   BENCH_TARGET_CONNS [32]      where the throughput and p99 targets are read
#   BENCH_MEM_REQUESTS [1000000] requests of the memory phase; RSS is sampled at a tenth of it and at the end
#   BENCH_WORKERS [8]            FastCGI workers, for imagereg and both libfcgi references alike
#   BENCH_KEEP_CONN [off]        `on` turns on nginx fastcgi_keep_conn (+ upstream keepalive) for all of them
#   BENCH_TIMEOUT [10s]          wrk's per-request timeout; a slower answer is a socket error, left out of p99
#   BENCH_OUT [tests/bench]      where results.md and throughput.png go
#   BENCH_DB_DUMPS [none]        a directory that gets db-before.tsv and db-after.tsv (the registry table)
#   BENCH_SCALE_SIZES ["10 100 1000 10000"]  registries at each point of the scale phase; "" skips the phase
#   BENCH_SCALE_CONNS [BENCH_TARGET_CONNS]   connections of the scale phase
#   BENCH_SCALE_SECONDS [BENCH_SECONDS]      length of one wrk run there; a fraction (0.25) ends wrk by SIGINT
#   BENCH_SCALE_RUNS [BENCH_RUNS]            runs per point there (120 points at the four sizes)
#   BENCH_ONE_CONN_CLIENT [seq]  the GET rows' client at one connection: seq (seq_get.c) or wrk
#   BENCH_KEEP [unset]           keep the work directory under /tmp (logs, raw wrk output)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench="$root/tests/bench"
cd "$root"
. tests/lib/stack.sh

bench_seconds=${BENCH_SECONDS:-5}
bench_runs=${BENCH_RUNS:-3}
scale_runs=${BENCH_SCALE_RUNS:-$bench_runs}
bench_conns=${BENCH_CONNS:-1 8 32 128}
target_conns=${BENCH_TARGET_CONNS:-32}
mem_requests=${BENCH_MEM_REQUESTS:-1000000}
workers=${BENCH_WORKERS:-8}
keep_conn=${BENCH_KEEP_CONN:-off}
out=${BENCH_OUT:-$bench}
# Long enough that a queue of serialised writes at 128 connections shows in p99, not as missing samples.
wrk_timeout=${BENCH_TIMEOUT:-10s}
mem_conns=32
one_conn_client=${BENCH_ONE_CONN_CLIENT:-seq}
case $one_conn_client in seq | wrk) ;; *) echo "bench: BENCH_ONE_CONN_CLIENT is seq or wrk, not '$one_conn_client'" >&2; exit 2 ;; esac
seed_count=20
scale_sizes=${BENCH_SCALE_SIZES-10 100 1000 10000}
scale_conns=${BENCH_SCALE_CONNS:-$target_conns}
scale_seconds=${BENCH_SCALE_SECONDS:-$bench_seconds}
# The scale phase's filtered page: the first page of the native registries, half of the table (scale_fill
# alternates harbor and native).  Page 1 has rows at every size (5 at 10 registries, 20 from 40 up); imagereg
# looks at every row whichever page is asked, to count the matches for X-Total-Count.
scale_query="provider=native&page=1&page_size=20"

# Our own stack, whatever this shell points at; authentication on, as the targets require.
unset IMAGEREG_DSN IMAGEREG_ADMIN_DSN IMAGEREG_KEY_FILE IMAGEREG_FCGI IMAGEREG_WRAP IMAGEREG_AUTH \
	PGHOST PGPORT PGDATABASE PGUSER
export IMAGEREG_WORKERS=$workers

work=$(mktemp -d /tmp/imagereg-bench.XXXXXX)
chmod 0755 "$work"   # the postgres user must reach the cluster below it
mkdir -p "$work/stack" "$work/ref" "$work/raw" "$work/scale" "$out"
declare -A ref_pids=()   # socket name -> PID of the reference serving it
writer_pid="" writer_writes=0 writer_failed=0 wrk_pid="" gaps_pid="" point_stats=""

die() {
	echo "bench: $*" >&2
	exit 1
}

# Stops what we started, by PID: a wrk run, the background writer, reference nginx, the references, the stack.
cleanup() {
	local pid sock
	[ -z "$wrk_pid" ] || kill -TERM "$wrk_pid" 2>/dev/null || true
	[ -z "$gaps_pid" ] || kill -TERM "$gaps_pid" 2>/dev/null || true
	[ -z "$writer_pid" ] || writer_stop >/dev/null
	pid=$(cat "$work/ref/nginx.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null \
		&& stack_wait 10 bash -c "! kill -0 $pid"
	for sock in "${!ref_pids[@]}"; do
		stop_ref "$sock"
	done
	stack_stop "$work/stack"
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: work directory kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap 'cleanup || true' EXIT
trap 'exit 130' INT TERM

# --- building and starting -----------------------------------------------------------------------------------------

# The references are built here, not by the Makefile, so `make test` (which cleans first) can run the smoke test.
build_refs() {
	local flags="-std=c11 -Wall -Wextra -Werror -O2"
	# shellcheck disable=SC2086
	cc $flags -o "$work/ref_mem" "$bench/ref_mem.c" "$bench/prefork.c" -lfcgi
	# shellcheck disable=SC2086
	cc $flags -o "$work/ref_bare" "$bench/ref_bare.c" "$bench/prefork.c" -lfcgi
	# shellcheck disable=SC2086
	cc $flags -o "$work/seq_get" "$bench/seq_get.c"
	# shellcheck disable=SC2086
	cc $flags -o "$work/vcpu_gaps" "$bench/vcpu_gaps.c"
	# shellcheck disable=SC2086,SC2046
	cc $flags -I"$(pg_config --includedir)" $(pkg-config --cflags json-c) -o "$work/ref_pg" \
		"$bench/ref_pg.c" "$bench/prefork.c" -lfcgi -lpq $(pkg-config --libs json-c)
}

# api METHOD PATH [BODY]: one request with the write token; prints the body, fails unless 200.
api() {
	local args=(-sS -o "$work/api.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $IMAGEREG_TOKEN")
	[ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
	local code
	code=$(curl "${args[@]}" "$IMAGEREG_URL/openapi/system/registry$2")
	cat "$work/api.out"
	[ "$code" = 200 ] || { echo >&2; die "$1 $2 answered $code"; }
}

# The registry ids in a list response, one a line, in order.
ids_of() {
	grep -o '"registry_id":"[0-9a-f]*"' | cut -d'"' -f4
}

# The body seed N was created with; is_default as given.
seed_body() {
	local n=$1 default=$2 provider=native
	[ $((n % 2)) -eq 0 ] || provider=harbor
	printf '{"address":"https://r%02d.example.com","provider":"%s","namespace":"ns%02d","region":"",' "$n" "$provider" "$n"
	printf '"is_default":%s,"enable_tls":false}' "$default"
}

# 20 registries through the API, the first one default; their ids in seed_ids.
seed() {
	local n id
	seed_ids=()
	for n in $(seq 1 "$seed_count"); do
		id=$(api POST "" "$(seed_body "$n" "$([ "$n" -eq 1 ] && echo true || echo false)")" | sed -n 's/.*"registry_id":"\([0-9a-f]*\)".*/\1/p')
		[ -n "$id" ] || die "seed $n: no registry_id in the answer"
		seed_ids+=("$id")
	done
	# What the wrk scripts ask for (the scale phase sets its own): GET one reads the third row,
	# PUT default moves the default between the first two.
	read_id=${seed_ids[2]}
	put_a="${seed_ids[0]} $(seed_body 1 true)"
	put_b="${seed_ids[1]} $(seed_body 2 true)"
	# What the references serve: the real responses, byte for byte.
	api GET "" >"$work/list.json"
	api GET "/$read_id" >"$work/one.json"
	[ "$(ids_of <"$work/list.json" | wc -l)" -eq "$seed_count" ] || die "the list does not have $seed_count rows"
}

# The registry table as the admin sees it, for before/after comparisons.
db_dump() {
	psql -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 -c \
		"SELECT id, address, provider, namespace, region, is_default, enable_tls FROM registry ORDER BY created_at, id"
}

# Puts the table back as seeded: rows a POST+DELETE run left behind go, the default returns to seed 1.
restore_table() {
	local id
	for id in $(api GET "" | ids_of); do
		case " ${seed_ids[*]} " in
		*" $id "*) ;;
		*) api DELETE "/$id" >/dev/null ;;
		esac
	done
	api PUT "/${seed_ids[0]}" "$(seed_body 1 true)" >/dev/null
}

# free_ports VAR...: a free port into each variable named, no two the same.
free_ports() {
	local var port taken=" "
	for var in "$@"; do
		port=$(pg_free_port)
		while [[ $taken == *" $port "* ]]; do port=$(pg_free_port); done
		taken+="$port "
		printf -v "$var" '%s' "$port"
	done
}

# Fills tests/bench/nginx.conf.in: three servers, one per reference, on free ports.
write_ref_nginx() {
	local list tpl keepalive=""
	list=$(cat "$work/list.json")
	# nginx expands $variables in return's text, and a quote or backslash would need escaping: the seed has none.
	case $list in *"'"* | *'$'* | *\\*) die "the list JSON has a character nginx's return cannot carry" ;; esac
	[ "$keep_conn" != on ] || keepalive="keepalive $workers;"
	free_ports port_nginx port_mem port_pg port_bare
	tpl=$(cat "$bench/nginx.conf.in")
	shopt -u patsub_replacement 2>/dev/null || true   # bash 5.2 would read & in the JSON as "the match"
	tpl=${tpl//@LIST@/$list}
	tpl=${tpl//@KEEPALIVE@/$keepalive}
	tpl=${tpl//@KEEP_CONN@/$keep_conn}
	tpl=${tpl//@DIR@/$work/ref}
	tpl=${tpl//@USER@/$(id -un)}
	tpl=${tpl//@PORT_NGINX@/$port_nginx}
	tpl=${tpl//@PORT_MEM@/$port_mem}
	tpl=${tpl//@PORT_PG@/$port_pg}
	tpl=${tpl//@PORT_BARE@/$port_bare}
	printf '%s\n' "$tpl" >"$work/ref/nginx.conf"
	cp /etc/nginx/fastcgi_params "$work/ref/"
}

# The stack's nginx gets the same keep-alive setting as the references' when BENCH_KEEP_CONN=on.
stack_keep_conn() {
	local dir="$work/stack"
	[ "$keep_conn" = on ] || return 0
	sed -i 's/fastcgi_keep_conn off;/fastcgi_keep_conn on;/' "$dir/imagereg-location.conf"
	sed -i "s|server unix:$dir/imagereg.sock;|&\n        keepalive $workers;|" "$dir/nginx.conf"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" -s reload
	sleep 1
}

# start_ref BINARY SOCKET [ARG...]: the reference $work/BINARY with its workers on $work/ref/SOCKET.sock (the
# name nginx.conf.in's upstream uses), ARGs after; logs in $work/ref/BINARY.log.  The scale phase restarts
# ref_mem and ref_pg at every size.
start_ref() {
	local bin=$1 sock=$2
	shift 2
	"$work/$bin" "$work/ref/$sock.sock" "$workers" "$@" </dev/null >>"$work/ref/$bin.log" 2>&1 &
	ref_pids[$sock]=$!
	stack_wait 10 test -S "$work/ref/$sock.sock" || die "$sock did not start: $(tail -n 5 "$work/ref/$bin.log")"
}

# stop_ref SOCKET: stops the reference serving it, by PID, and waits for it (its socket is gone then).
stop_ref() {
	[ -n "${ref_pids[$1]:-}" ] || return 0
	kill -TERM "${ref_pids[$1]}" 2>/dev/null && wait "${ref_pids[$1]}" 2>/dev/null
	unset "ref_pids[$1]"
}

start_refs() {
	start_ref ref_mem ref_mem "$work/list.json" "$work/one.json"
	start_ref ref_pg ref_pg
	start_ref ref_bare ref_bare_list "$work/list.json"
	start_ref ref_bare ref_bare_one "$work/one.json"
	nginx -p "$work/ref" -c "$work/ref/nginx.conf" -e "$work/ref/nginx-error.log" </dev/null >/dev/null 2>&1 \
		|| die "reference nginx did not start: $(cat "$work/ref/nginx-error.log")"
	stack_wait 10 test -s "$work/ref/nginx.pid" || die "reference nginx wrote no pid"
	# Each reference answers before anything is measured against it.  ref_pg's workers exit
	# when a statement does not prepare (cgi/db.c and sql/ changed, ref_pg.c did not).
	local port
	for port in "$port_nginx" "$port_mem" "$port_pg" "$port_bare"; do
		stack_wait 10 curl -sf -o /dev/null "http://127.0.0.1:$port/openapi/system/registry" \
			|| die "reference on port $port does not answer; ref_pg.log: $(tail -n 3 "$work/ref/ref_pg.log")"
	done
	cmp -s "$work/list.json" <(curl -s "http://127.0.0.1:$port_pg/openapi/system/registry") \
		|| echo "bench: note: ref_pg's list differs from imagereg's (the default may have moved)" >&2
}

# --- measuring -----------------------------------------------------------------------------------------------------

# Rows: key, label, target, wrk script.  Order here is the order of the table.
rows=(
	"ir_list|imagereg GET list|imagereg|get_list"
	"ir_one|imagereg GET one|imagereg|get_one"
	"ir_put|imagereg PUT default|imagereg|put_alternate"
	"ir_postdel|imagereg POST+DELETE|imagereg|post_delete"
	"nginx_list|ref nginx return 200 (list)|nginx|get_list"
	"mem_list|ref libfcgi in-memory GET list|mem|get_list"
	"mem_one|ref libfcgi in-memory GET one|mem|get_one"
	"bare_list|ref libfcgi bare GET list|bare|get_list"
	"bare_one|ref libfcgi bare GET one|bare|get_one"
	"pg_list|ref libfcgi+libpq GET list|pg|get_list"
	"pg_one|ref libfcgi+libpq GET one|pg|get_one"
	"pg_put|ref libfcgi+libpq PUT default|pg|put_alternate"
	"pg_postdel|ref libfcgi+libpq POST+DELETE|pg|post_delete"
)
# Rows measured side by side, a point at a time, so a slow drift (table bloat, a busy neighbour)
# hits a row and its reference alike.  Reads go first, before any write has bloated the table.
groups=(
	"ir_list ir_one nginx_list mem_list mem_one bare_list bare_one pg_list pg_one"
	"ir_put pg_put"
	"ir_postdel pg_postdel"
)

row_field() {	# row_field KEY N: field N (1-based) of the row KEY
	local r
	for r in "${rows[@]}"; do
		[ "${r%%|*}" = "$1" ] && { cut -d'|' -f"$2" <<<"$r"; return; }
	done
	die "no row $1"
}

target_url() {
	case $1 in
	imagereg) echo "$IMAGEREG_URL/openapi/system/registry" ;;
	nginx) echo "http://127.0.0.1:$port_nginx/openapi/system/registry" ;;
	mem) echo "http://127.0.0.1:$port_mem/openapi/system/registry" ;;
	bare) echo "http://127.0.0.1:$port_bare/openapi/system/registry" ;;
	pg) echo "http://127.0.0.1:$port_pg/openapi/system/registry" ;;
	esac
}

# gaps_start SECONDS OUTFILE: beside every run, how long the machine itself stopped running us (vcpu_gaps.c), in
# OUTFILE.gaps; gaps_wait waits for it.
gaps_start() {
	"$work/vcpu_gaps" "$1" >"$2.gaps" 2>/dev/null &
	gaps_pid=$!
}

gaps_wait() {
	wait "$gaps_pid" || true
	gaps_pid=""
}

# wrk_run CONNS SECONDS SCRIPT URL OUTFILE: one wrk run, its output kept.  The scripts' rows are read_id,
# put_a and put_b (seed sets them; the scale phase has its own), the page scale_query.
#
# wrk's -d takes whole seconds.  A fraction (the smoke test's short scale points) runs wrk for the next whole
# second and ends it by SIGINT after the fraction: wrk then reports as at the end of -d, rates over the time it
# ran.  wrk runs in the background, where a shell without job control starts it with SIGINT ignored until wrk
# sets its handler: a SIGINT that comes before (a slow start) is lost and the run takes its whole second,
# where it would have killed wrk without a word.
wrk_run() {
	local conns=$1 secs=$2 threads=2 rc=0 whole=${2%.*}
	[ "$conns" -ge 2 ] || threads=1
	[ "$whole" = "$secs" ] || whole=$(( ${whole:-0} + 1 ))
	BENCH_DIR=$bench BENCH_TOKEN=$IMAGEREG_TOKEN BENCH_ID=$read_id BENCH_PUT_A=$put_a BENCH_PUT_B=$put_b \
	BENCH_QUERY=$scale_query \
		wrk -t"$threads" -c"$conns" -d"$whole"s --timeout "$wrk_timeout" \
		--latency -s "$bench/$3.lua" "$4" >"$5" 2>&1 &
	wrk_pid=$!   # for cleanup, if we are stopped meanwhile
	gaps_start "$secs" "$5"
	if [ "$whole" != "$secs" ]; then
		sleep "$secs"
		kill -INT "$wrk_pid" 2>/dev/null || true
	fi
	wait "$wrk_pid" || rc=$?
	wrk_pid=""
	gaps_wait
	[ "$rc" -eq 0 ] || { cat "$5" >&2; die "wrk failed"; }
}

# seq_run SECONDS SCRIPT URL OUTFILE: one run of seq_get.c (GET scripts at one connection), its line in OUTFILE,
# which is what parse_wrk prints for wrk.  GET one asks for the row the Lua script would (common.lua).
seq_run() {
	local secs=$1 url=$3 port path rc=0
	port=${url#http://127.0.0.1:}
	path=/${port#*/}
	port=${port%%/*}
	[ "$2" != get_one ] || path="$path/$read_id"
	gaps_start "$secs" "$4"
	"$work/seq_get" "$port" "$path" "$secs" "$IMAGEREG_TOKEN" >"$4" 2>&1 || rc=$?
	gaps_wait
	[ "$rc" -eq 0 ] || { cat "$4" >&2; die "seq_get failed"; }
}

# uses_seq CONNS SCRIPT: whether that point is measured with seq_get rather than wrk.  At one connection wrk's own
# scheduling on two cores puts about 1 % of every responder's requests into 0.5-3 ms, where p99 falls
# (tests/bench/README.md, "One connection"); writes keep wrk (their scripts alternate bodies and chain requests).
uses_seq() {
	[ "$1" = 1 ] && [ "$one_conn_client" = seq ] && case $2 in get_list | get_one) true ;; *) false ;; esac
}

# parse_wrk FILE: "req/s p50_ms p99_ms requests non2xx socket_errors" from wrk --latency output.
parse_wrk() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/requests in/ { reqs = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { gsub(/,/, ""); errs = $4 + $6 + $8 + $10 }
	END {
		if (rps == "" || p99 == "") exit 1
		printf "%.1f %.3f %.3f %d %d %d\n", rps, p50, p99, reqs, non2xx, errs
	}' "$1"
}

# wait_db_quiet: returns when no other session of the cluster is running a statement, or after 10 s.  A
# reference's queries outlive its wrk run: at 10,000 rows each GET list of ref_pg takes PostgreSQL 1.5-2 s, one
# per worker can still be running when wrk stops, and the next point shared the 2 cores with them (host mode's
# GET one at 10,000 rows, measured right after, lost up to half its rate, p99 15-490 ms; cluster mode's,
# after imagereg's own list, did not).  The background writer's statements take milliseconds.
wait_db_quiet() {
	local i busy
	for i in $(seq 1 100); do
		busy=$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
			AND state = 'active' AND pid <> pg_backend_pid()")
		[ "$busy" != 0 ] || return 0
		sleep 0.1
	done
	echo "bench: $busy PostgreSQL sessions still running a statement after 10 s; measuring anyway" >&2
}

# run_point CONNS SECONDS SCRIPT URL OUTFILE: one run of wrk (or seq_get, see uses_seq), started when PostgreSQL is
# quiet; its numbers, as parse_wrk prints them and then the longest stop of the machine during it in ms
# (vcpu_gaps), in point_stats (not output: in a subshell wrk would be out of cleanup's reach).
run_point() {
	local worst_gap
	wait_db_quiet
	if uses_seq "$1" "$3"; then
		seq_run "$2" "$3" "$4" "$5"
		point_stats=$(cat "$5")
	else
		wrk_run "$@"
		point_stats=$(parse_wrk "$5") || { cat "$5" >&2; die "cannot read wrk's output in $5"; }
	fi
	read -r worst_gap _ <"$5.gaps" 2>/dev/null || worst_gap=""
	point_stats="$point_stats ${worst_gap:-0}"
}

# measure KEY CONNS RUN: one run of a row, appended to raw.tsv.
measure() {
	local key=$1 conns=$2 run=$3 stats
	run_point "$conns" "$bench_seconds" "$(row_field "$key" 4)" "$(target_url "$(row_field "$key" 3)")" \
		"$work/raw/$1.$2.$3.txt"
	stats=$point_stats
	printf '%s\t%s\t%s\t%s\n' "$key" "$conns" "$run" "${stats// /$'\t'}" >>"$work/raw.tsv"
	printf '  %-34s c=%-4s run %s: %s\n' "$(row_field "$key" 2)" "$conns" "$run" "$stats"
}

# run_order RUN KEY...: the keys in the order of run RUN: rotated by RUN-1, and reversed in even runs, so that over
# the runs each row is measured at several places of the sequence and after several others.  In a fixed order a
# row's p99 at one connection moved with its place as much as with the responder (bare's GET list measured first
# instead of after the in-memory rows: p99 1.74 ms against 1.08).
run_order() {
	local run=$1 n i keys
	shift
	keys=("$@")
	n=${#keys[@]}
	for i in $(seq 0 $((n - 1))); do
		if [ $((run % 2)) -eq 1 ]; then
			echo "${keys[$(((i + run - 1) % n))]}"
		else
			echo "${keys[$(((n - 1 - i + run - 1) % n))]}"
		fi
	done
}

measure_all() {
	local group conns run key
	printf 'row\tconns\trun\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tstall_ms\n' >"$work/raw.tsv"
	for group in "${groups[@]}"; do
		for conns in $bench_conns; do
			for run in $(seq 1 "$bench_runs"); do
				# shellcheck disable=SC2086  # a group is a list of keys
				for key in $(run_order "$run" $group); do
					measure "$key" "$conns" "$run"
					case $key in *postdel) restore_table ;; esac
				done
			done
		done
		restore_table
	done
}

# --- memory ----------------------------------------------------------------------------------------------------------

# rss_sample LABEL REQUESTS: VmRSS of every worker of the responder (children of the supervisor
# in imagereg.pid) as PID:kB pairs, one line in mem.tsv.
rss_sample() {
	local sup pid kb list=""
	sup=$(cat "$work/stack/imagereg.pid")
	for pid in $(ps -o pid= --ppid "$sup"); do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
		[ -z "$kb" ] || list="$list $pid:$kb"
	done
	[ -n "$list" ] || die "no responder workers under PID $sup"
	printf '%s\t%s\t%s\n' "$1" "$2" "${list# }" >>"$work/mem.tsv"
	printf '  RSS after %s requests (PID:kB):%s\n' "$2" "$list"
}

# drive_to TOTAL: GET list at the responder until this phase has served TOTAL requests.
# wrk cannot stop at a count, so it runs in slices sized from the rate of the previous one.
drive_to() {
	local goal=$1 secs=1 file="$work/raw/mem.txt" line stats rps reqs
	while [ "$mem_done" -lt "$goal" ]; do
		wrk_run "$mem_conns" "$secs" get_list "$(target_url imagereg)" "$file"
		line=$(parse_wrk "$file") || die "cannot read wrk's output in the memory phase"
		read -r -a stats <<<"$line"
		rps=${stats[0]%.*} reqs=${stats[3]}
		mem_done=$((mem_done + reqs))
		mem_bad=$((mem_bad + stats[4] + stats[5]))
		# Half the time the rest needs at the last rate, rounded down, at least 1 s: on a busy
		# machine the rate can double from one slice to the next, and the goal must not be
		# overshot by more than about a second of requests.
		secs=$(( (goal - mem_done) / 2 / (rps > 0 ? rps : 1) ))
		[ "$secs" -ge 1 ] || secs=1
		[ "$secs" -le 60 ] || secs=60
	done
}

# A fresh responder, so "after N requests" counts from zero; RSS at a tenth and at the end.
measure_memory() {
	local first=$((mem_requests / 10))
	stack_stop_responder "$work/stack"
	stack_start_responder "$work/stack" || die "the responder did not restart"
	mem_done=0 mem_bad=0
	printf 'label\trequests\tpid_rss_kb\n' >"$work/mem.tsv"
	rss_sample start 0
	drive_to "$first"
	rss_sample first "$mem_done"
	drive_to "$mem_requests"
	rss_sample last "$mem_done"
}

# --- scale -----------------------------------------------------------------------------------------------------------

# Operations of the scale phase: key, label, wrk script, the references that answer it (beside imagereg in
# each mode of scale_modes).  Order here is the order of the table.
scale_ops=(
	"list|GET list|get_list|mem pg"
	"one|GET one|get_one|mem pg"
	"page|GET page|get_page|mem pg"
	"put|PUT|put_alternate|pg"
)
scale_modes="host cluster"

# sql STATEMENT...: as the admin (the stack's PG* variables), all in one transaction; unaligned rows, no header.
sql() {
	local args=(-X -q -A -t -v ON_ERROR_STOP=1 -1) st
	for st in "$@"; do
		args+=(-c "$st")
	done
	psql "${args[@]}"
}

# After a change in SQL: every worker forgets what it cached before its next request (the counters move;
# the NOTIFY of a statement alone reaches a worker a moment later).
responder_forget() {
	"$IMAGEREG_CLI" cache flush >/dev/null
}

# The seeded rows, every column, kept aside while the scale phase owns the table.
scale_save() {
	sql "COPY (SELECT * FROM registry ORDER BY created_at, id) TO STDOUT" >"$work/scale/seed.copy"
}

# The table as seeded again: the same rows with the same ids, created_at and default.
scale_restore() {
	sql "DELETE FROM registry" "COPY registry FROM STDIN" <"$work/scale/seed.copy"
	responder_forget
}

# scale_fill N: the table holds N registries and nothing else, oldest first in i order, the first one default,
# providers alternating harbor and native (the page filters on native), values as sql/001's constraints want.
# One INSERT of N rows sends one notification (more than 300 ids: "registry", the workers read it all again).
# Then VACUUM ANALYZE, as after any bulk load: else autovacuum takes the dead rows and the audit trail's new
# ones during the first points (on 2 cores that shows), and the plans are made for the old table.
scale_fill() {
	sql "DELETE FROM registry" \
		"INSERT INTO registry (address, provider, namespace, is_default)
		 SELECT format('https://scale%s.example.com', i), CASE i % 2 WHEN 0 THEN 'native' ELSE 'harbor' END,
		        format('ns%s', i), i = 1
		 FROM generate_series(1, $1) AS i ORDER BY i"
	psql -X -q -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE registry, registry_audit"
	responder_forget
}

# scale_body ID NAMESPACE: row ID's full PUT body as it is, with another namespace.
scale_body() {
	sql "SELECT json_build_object('address', address, 'provider', provider, 'namespace', '$2', 'region', region,
		'is_default', is_default, 'enable_tls', enable_tls) FROM registry WHERE id = '$1'"
}

# scale_capture N: what ref_mem serves at this size, imagereg's answers byte for byte, in scale/N/; both
# references restarted, ref_mem with these answers, ref_pg with fresh sessions like the responder's.
scale_capture() {
	local dir=$work/scale/$1
	mkdir -p "$dir"
	api GET "" >"$dir/list.json"
	api GET "/$read_id" >"$dir/one.json"
	api GET "?$scale_query" >"$dir/page.json"
	[ "$(ids_of <"$dir/list.json" | wc -l)" -eq "$1" ] || die "the list does not have $1 rows"
	printf '%s\t%s\t%s\t%s\n' "$1" "$(wc -c <"$dir/list.json")" "$(wc -c <"$dir/page.json")" \
		"$(ids_of <"$dir/page.json" | wc -l)" >>"$work/scale-sizes.tsv"
	stop_ref ref_mem
	stop_ref ref_pg
	start_ref ref_mem ref_mem "$dir/list.json" "$dir/one.json" "$dir/page.json"
	start_ref ref_pg ref_pg
	stack_wait 10 curl -sf -o /dev/null "$(target_url mem)" || die "ref_mem does not answer at $1 registries"
	stack_wait 10 curl -sf -o /dev/null "$(target_url pg)" || die "ref_pg does not answer at $1 registries"
	warm_up pg
}

# warm_up TARGET: half a second of PUTs (or one point, if shorter), not measured.  A fresh PostgreSQL session
# compiles the write functions and triggers on its first write and plans for the table as it is now (a few ms
# each, 8 sessions at once on 2 cores: most of a short point).  Restarted at every size, the responder and
# ref_pg both start measuring with warm sessions planned for the size.
warm_up() {
	local secs=0.5
	awk "BEGIN { exit !($scale_seconds < $secs) }" && secs=$scale_seconds
	run_point "$scale_conns" "$secs" put_alternate "$(target_url "$1")" "$work/raw/scale.warm.txt"
}

# responder_mode MODE: the responder restarted with coherence = MODE (host or cluster), warmed up.
responder_mode() {
	stack_stop_responder "$work/stack"
	IMAGEREG_COHERENCE=$1 stack_start_responder "$work/stack" || die "the responder did not restart in $1 mode"
	warm_up imagereg
}

# writer_start ID BODY_A BODY_B: the background writes (writer.py: a PUT through the API every 0.1 s on
# kept-alive connections, B after A after B, so each one changes the row), until writer_stop; one HTTP status a
# line in scale/writer.codes.
writer_start() {
	rm -f "$work/scale/writer.stop"
	python3 "$bench/writer.py" "$IMAGEREG_URL" "$IMAGEREG_TOKEN" "$1" "$2" "$3" \
		"$work/scale/writer.codes" "$work/scale/writer.stop" &
	writer_pid=$!
}

# Lets the writer finish the write it has in flight and waits for it.
writer_stop() {
	touch "$work/scale/writer.stop"
	wait "$writer_pid" || true
	writer_pid=""
}

# The background writes so far and how many of them did not answer 200, into writer_writes and writer_failed:
# globals, not output, as it runs twice a point and a subshell (or an awk) each time costs much of a short point
# on a busy machine.
writer_count() {
	local -a codes
	local code
	mapfile -t codes <"$work/scale/writer.codes"
	writer_writes=${#codes[@]} writer_failed=0
	for code in "${codes[@]}"; do
		[ "$code" = 200 ] || writer_failed=$((writer_failed + 1))
	done
}

# scale_measure OPERATION RESPONDER URL SIZE WRITES RUN: one run (OPERATION is a line of scale_ops),
# appended to scale-raw.tsv with the background writes made during it.
scale_measure() {
	local op label script stats writes0 failed0
	IFS='|' read -r op label script _ <<<"$1"
	shift
	writer_count
	writes0=$writer_writes failed0=$writer_failed
	run_point "$scale_conns" "$scale_seconds" "$script" "$2" "$work/raw/scale.$op.$1.$3.$4.$5.txt"
	stats=$point_stats
	writer_count
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$1" "$3" "$4" "$5" "${stats// /$'\t'}" \
		"$((writer_writes - writes0))" "$((writer_failed - failed0))" >>"$work/scale-raw.tsv"
	printf '  %-9s %-8s n=%-6s writes %-5s run %s: %s\n' "$label" "$1" "$3" "$4" "$5" "$stats"
}

# scale_point MODE SIZE WRITES: every operation against imagereg in this mode and, in host mode, against the
# references that answer it right after, side by side a run at a time (the references have no mode).
scale_point() {
	local run line refs who
	local -A url=([host]=$(target_url imagereg) [cluster]=$(target_url imagereg) [mem]=$(target_url mem)
		[pg]=$(target_url pg))
	for run in $(seq 1 "$scale_runs"); do
		for line in "${scale_ops[@]}"; do
			refs=${line##*|}
			[ "$1" = host ] || refs=""
			for who in "$1" $refs; do
				scale_measure "$line" "$who" "${url[$who]}" "$2" "$3" "$run"
			done
		done
	done
}

# scale_size N: the table filled to N rows, then every mode, quiet and with background writes.  GET one reads
# the third row, PUT changes the namespace of the second back and forth, the writer that of the fourth.
scale_size() {
	local n=$1 read_id put_a put_b bg_a bg_b mode writes
	local -a ids
	scale_fill "$n"
	mapfile -t ids < <(sql "SELECT id FROM registry ORDER BY created_at, id LIMIT 4")
	read_id=${ids[2]}
	put_a="${ids[1]} $(scale_body "${ids[1]}" put-a)"
	put_b="${ids[1]} $(scale_body "${ids[1]}" put-b)"
	bg_a=$(scale_body "${ids[3]}" bg-a)
	bg_b=$(scale_body "${ids[3]}" bg-b)
	scale_capture "$n"
	for mode in $scale_modes; do
		responder_mode "$mode"
		for writes in quiet on; do
			[ "$writes" = quiet ] || writer_start "${ids[3]}" "$bg_a" "$bg_b"
			scale_point "$mode" "$n" "$writes"
			[ "$writes" = quiet ] || writer_stop
		done
	done
}

# The scale phase: every size in turn, then the seeded rows back.  The responder stays in cluster mode
# afterwards: what follows only restores and compares the table.
measure_scale() {
	local n start=$SECONDS
	for n in $scale_sizes; do
		if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 4 ]; then
			die "BENCH_SCALE_SIZES: $n is not a whole number of at least 4 (GET one, PUT and the writer use rows 2 to 4)"
		fi
	done
	printf 'op\tresponder\tsize\twrites\trun\trps\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tstall_ms\tbg_writes\tbg_failed\n' \
		>"$work/scale-raw.tsv"
	printf 'size\tlist_bytes\tpage_bytes\tpage_rows\n' >"$work/scale-sizes.tsv"
	: >"$work/scale/writer.codes"
	scale_save
	for n in $scale_sizes; do
		scale_size "$n"
	done
	scale_restore
	echo "bench: scale phase done in $(( SECONDS - start )) s"
}

# --- reporting -------------------------------------------------------------------------------------------------------

write_info() {
	{
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "cpus=$(nproc)"
		echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "kernel=$(uname -sr)"
		echo "load_start=$load_start"
		echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "nginx=$(nginx -v 2>&1 | sed 's|^nginx version: nginx/||')"
		echo "postgresql=$(psql -X -A -t -c 'SHOW server_version')"
		echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
		echo "seconds=$bench_seconds"
		echo "runs=$bench_runs"
		echo "scale_runs=$scale_runs"
		echo "conns=$bench_conns"
		echo "target_conns=$target_conns"
		echo "workers=$workers"
		echo "keep_conn=$keep_conn"
		echo "timeout=$wrk_timeout"
		echo "one_conn_client=$one_conn_client"
		echo "mem_conns=$mem_conns"
		echo "mem_errors=$mem_bad"
		echo "rows=$seed_count"
		echo "list_bytes=$(wc -c <"$work/list.json")"
		echo "table_after=$table_after"
		echo "scale_sizes=$scale_sizes"
		echo "scale_conns=$scale_conns"
		echo "scale_seconds=$scale_seconds"
		echo "scale_query=$scale_query"
	} >"$work/info.txt"
	printf '%s\n' "${rows[@]}" >"$work/rows.txt"
	printf '%s\n' "${scale_ops[@]}" >"$work/scale-ops.txt"
}

# The PNG: one column per row in throughput.tsv, imagereg's rows (ir_*) first.
plot() {
	local ncols irlast
	ncols=$(head -n 1 "$work/throughput.tsv" | awk -F'\t' '{ print NF }')
	irlast=$(( $(grep -c '^ir_' "$work/rows.txt") + 1 ))
	gnuplot -e "data='$work/throughput.tsv'; out='$out/throughput.png'; ncols=$ncols; irlast=$irlast" \
		"$bench/throughput.gp"
	[ ! -e "$work/scale-style.gp" ] || gnuplot -e "data_quiet='$work/scale-quiet.tsv'; data_on='$work/scale-on.tsv';
		out='$out/scale.png'; load '$work/scale-style.gp'" "$bench/scale.gp"
}

main() {
	local start=$SECONDS
	# Anything else running on the machine shows in the numbers: the load average says how much.
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "bench: building the references"
	build_refs
	echo "bench: starting the stack ($workers workers) in $work"
	stack_start "$work/stack" >/dev/null || die "the stack did not start (logs in $work/stack; BENCH_KEEP=1 keeps them)"
	stack_keep_conn
	seed
	db_dump >"$work/db-before.tsv"
	write_ref_nginx
	start_refs
	echo "bench: ${bench_seconds}s x $bench_runs runs at connections: $bench_conns"
	measure_all
	echo "bench: memory phase, $mem_requests requests of GET list at $mem_conns connections"
	measure_memory
	if [ -n "$scale_sizes" ]; then
		echo "bench: scale phase, ${scale_seconds}s x $scale_runs runs at $scale_conns connections, registries: $scale_sizes"
		measure_scale
	fi
	restore_table
	db_dump >"$work/db-after.tsv"
	table_after=unchanged
	cmp -s "$work/db-before.tsv" "$work/db-after.tsv" || table_after=changed
	if [ -n "${BENCH_DB_DUMPS:-}" ]; then
		cp "$work/db-before.tsv" "$work/db-after.tsv" "$BENCH_DB_DUMPS/"
	fi
	write_info
	echo
	python3 "$bench/report.py" "$work" "$out"
	plot
	echo
	echo "bench: wrote $out/results.md, $out/throughput.png${scale_sizes:+ and $out/scale.png} in $(( SECONDS - start )) s"
}

main
