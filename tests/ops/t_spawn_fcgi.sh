#!/usr/bin/env bash
# t_spawn_fcgi: the spawn-fcgi way of running the responder, behind nginx.
#   - a stack (tests/lib/stack.sh: PostgreSQL, migrations, key, tokens; it also
#     runs a responder and an nginx of its own, which this test leaves alone);
#   - `spawn-fcgi -s DIR/spawn.sock -F 2 -P DIR/spawn.pid -- imagereg-fcgi` with
#     the stack's IMAGEREG_DSN and IMAGEREG_KEY_FILE: spawn-fcgi's parent exits
#     and writes the two children's PIDs to the -P file, one per line; each
#     child is the responder itself (its command line) serving the socket on
#     fd 0 (/proc/PID/fd/0 is socket:[INODE], INODE that of DIR/spawn.sock in
#     /proc/net/unix), so the test stops exactly those PIDs;
#   - an nginx of the test's own, made from the stack's nginx.conf with the
#     upstream moved to DIR/spawn.sock: GET /openapi/system/registry with the
#     write token is 200 with a JSON list, a POST creates a registry that the
#     next GET lists, GET /healthz is 200;
#   - SIGTERM to the two PIDs: both exit, and the same GET is now nginx's 503,
#     which shows the 200s came from the spawn-fcgi children.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd spawn-fcgi spawn-fcgi
ops_need_cmd nginx nginx-light
ops_need_cmd curl curl
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"

cleanup() {
	ops_nginx_stop "$dir/nginx"
	ops_stop_tracked "$dir"
	stack_stop "$dir/stack" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir -p "$dir/stack" "$dir/nginx"
stack_start "$dir/stack" >"$dir/stack.log" 2>&1 || { sed 's/^/# /' "$dir/stack.log"; ops_fail "the stack did not start"; }
ops_note "stack up: $IMAGEREG_LOGS"

# The responder's settings: the stack's DSN and key from the environment, and
# an empty config file, so that an /etc/imagereg/imagereg.conf on this machine
# (say with listen = ...) cannot steer it away from fd 0.  IMAGEREG_WORKERS
# unset: each spawn-fcgi child serves fd 0 itself, no supervisor.
: >"$dir/empty.conf"
sock="$dir/spawn.sock"
env -u IMAGEREG_WORKERS -u IMAGEREG_LISTEN IMAGEREG_CONFIG="$dir/empty.conf" \
	timeout 30 spawn-fcgi -s "$sock" -F 2 -P "$dir/spawn.pid" -- "$OPS_FCGI" \
	>"$dir/spawn.log" 2>&1 </dev/null || { sed 's/^/# /' "$dir/spawn.log"; ops_fail "spawn-fcgi failed"; }
sed 's/^/# /' "$dir/spawn.log"

# Every PID of the -P file: recorded first (so it is stopped whatever happens
# next), then checked to be our responder serving the spawn-fcgi socket on fd 0.
# (spawn-fcgi ends the file without a newline: split words, not lines.)
pids=()
for pid in $(cat "$dir/spawn.pid" 2>/dev/null); do
	case $pid in *[!0-9]*) continue ;; esac
	ops_track "$dir" "$pid"
	pids+=("$pid")
done
[ ${#pids[@]} -eq 2 ] || ops_fail "spawn-fcgi -F 2 -P: expected 2 PIDs in the pid file, found ${#pids[@]}"
inode=$(ops_socket_inode "$sock")
[ -n "$inode" ] || ops_fail "no listening unix socket $sock in /proc/net/unix"
for pid in "${pids[@]}"; do
	stack_wait 5 ops_alive "$pid" || ops_fail "spawn-fcgi child $pid is not running"
	argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1)
	[ "$argv0" = "$OPS_FCGI" ] || ops_fail "PID $pid runs '$argv0', not $OPS_FCGI"
	fd0=$(readlink "/proc/$pid/fd/0")
	[ "$fd0" = "socket:[$inode]" ] || ops_fail "PID $pid has fd 0 = $fd0, not the socket $sock (socket:[$inode])"
done
ops_note "spawn-fcgi children ${pids[*]}: $OPS_FCGI serving socket:[$inode] on fd 0"

ops_nginx_start "$dir/nginx" "$sock" || ops_fail "our nginx did not start"
ops_note "our nginx: $OPS_URL -> unix:$sock"
auth=(-H "Authorization: Bearer $IMAGEREG_TOKEN")
url="$OPS_URL/openapi/system/registry"

code=$(ops_get "$url" "$dir/list.json" "${auth[@]}")
[ "$code" = 200 ] || ops_fail "GET /openapi/system/registry through spawn-fcgi: $code $(head -c 300 "$dir/list.json")"
ops_json_list "$dir/list.json" || ops_fail "GET /openapi/system/registry: not a JSON list: $(head -c 300 "$dir/list.json")"

code=$(ops_get "$url" "$dir/post.json" "${auth[@]}" -X POST -H 'Content-Type: application/json' \
	-d '{"address":"https://spawn-fcgi.example.com","provider":"native","namespace":"ops"}')
[ "$code" = 200 ] || ops_fail "POST through spawn-fcgi: $code $(head -c 300 "$dir/post.json")"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registry_id"])' "$dir/post.json" 2>/dev/null) ||
	ops_fail "POST answered no registry_id: $(head -c 300 "$dir/post.json")"
code=$(ops_get "$url/$id" "$dir/get.json" "${auth[@]}")
[ "$code" = 200 ] && grep -q 'spawn-fcgi.example.com' "$dir/get.json" || ops_fail "GET $id after POST: $code $(head -c 300 "$dir/get.json")"

code=$(ops_get "$OPS_URL/healthz" "$dir/health.json")
[ "$code" = 200 ] && ops_json_object "$dir/health.json" || ops_fail "GET /healthz through spawn-fcgi: $code $(head -c 300 "$dir/health.json")"
ops_note "through spawn-fcgi: GET list 200, POST 200 ($id), GET $id 200, /healthz 200"

# Stop the children by PID: SIGTERM, each finishes what it serves and exits.
for pid in "${pids[@]}"; do
	kill -TERM "$pid" 2>/dev/null || ops_fail "cannot signal $pid"
done
ops_wait_gone 15 "${pids[@]}" || ops_fail "spawn-fcgi children ${pids[*]} still running 15 s after SIGTERM"
code=$(ops_get "$url" "$dir/after.json" "${auth[@]}")
[ "$code" = 503 ] || ops_fail "with the spawn-fcgi children stopped, our nginx answered $code, not 503: $(head -c 300 "$dir/after.json")"
ops_note "SIGTERM: children gone, nginx now answers 503 (it had no other upstream)"
exit 0
