#!/usr/bin/env bash
# t_socket_activation: the responder as imagereg.socket + imagereg.service run
# it, without systemd as PID 1: systemd-socket-activate(1) does what the socket
# unit does (listens, and on the first connection execs the command in its own
# PID with the socket on fd 3, LISTEN_FDS=1, LISTEN_PID, and an environment
# holding only what -E passes: like a unit with no Environment=).
#   - the command is ExecStart of nginx/systemd/imagereg.service.in as installed, with the binary and
#     the config path moved to the tree and DIR; the config file carries the
#     stack's dsn and key_file and workers = 3, so everything comes from it;
#   - through an nginx of the test's own: GET /openapi/system/registry with the
#     token is 200 with a JSON list, /healthz 200;
#   - the process is the supervisor (same PID, now our binary) holding the
#     socket on fd 3, with exactly 3 workers;
#   - ExecReload as the unit runs it: --check-config passes (and fails with
#     FILE:LINE on a broken copy of the file), then SIGHUP: every worker is
#     replaced by a new one and 40 requests sent meanwhile are all 200;
#   - stop as KillMode=mixed does: SIGTERM to the main PID only; it exits 0
#     within TimeoutStopSec and no worker is left.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd systemd-socket-activate systemd
ops_need_cmd nginx nginx-light
ops_need_cmd curl curl
[ -x "$OPS_FCGI" ] || ops_fail "$OPS_FCGI is not built (make build)"
# The unit as make install writes it for PREFIX=/usr/local (rendered from its template).
make -s render RENDER_DIR="$dir/units" RENDER_FILES=nginx/systemd/imagereg.service.in PREFIX=/usr/local ||
	ops_fail "make render failed"
service=$dir/units/imagereg.service

cleanup() {
	ops_nginx_stop "$dir/nginx"
	ops_stop_tracked "$dir"
	stack_stop "$dir/stack" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# unit_cmd KEY: the command lines of KEY= in the service (one per line), with
# the installed paths replaced by the tree's binary and DIR's config file.
unit_cmd() {
	sed -n "s/^$1=//p" "$service" |
		sed -e "s|/usr/local/sbin/imagereg-fcgi|$OPS_FCGI|g" -e "s|/etc/imagereg/imagereg.conf|$dir/imagereg.conf|g"
}
read -r -a start_cmd <<<"$(unit_cmd ExecStart)"
[ "${start_cmd[0]:-}" = "$OPS_FCGI" ] || ops_fail "$service: cannot read ExecStart"
mapfile -t reload_cmds < <(unit_cmd ExecReload)
stop_limit=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$service")
stop_limit=${stop_limit:-90}

mkdir -p "$dir/stack" "$dir/nginx"
stack_start "$dir/stack" >"$dir/stack.log" 2>&1 || { sed 's/^/# /' "$dir/stack.log"; ops_fail "the stack did not start"; }
ops_note "stack up: $IMAGEREG_LOGS"

# user: systemd runs the unit as User=imagereg; here root starts it, and
# systemd-socket-activate passes no environment, so the file names the account.
cat >"$dir/imagereg.conf" <<EOF
# written by t_socket_activation
dsn = $IMAGEREG_DSN
key_file = $IMAGEREG_KEY_FILE
user = ${IMAGEREG_USER:-}
workers = 3
log_level = info
EOF

sock="$dir/imagereg.sock"
systemd-socket-activate -l "$sock" -- "${start_cmd[@]}" >"$dir/responder.log" 2>&1 </dev/null &
main=$!
ops_track "$dir" "$main"
stack_wait 10 test -S "$sock" || { sed 's/^/# /' "$dir/responder.log"; ops_fail "systemd-socket-activate did not listen on $sock"; }
ops_note "ExecStart: ${start_cmd[*]} (socket-activated, PID $main)"

ops_nginx_start "$dir/nginx" "$sock" || ops_fail "our nginx did not start"
auth=(-H "Authorization: Bearer $IMAGEREG_TOKEN")
url="$OPS_URL/openapi/system/registry"
code=$(ops_get "$url" "$dir/list.json" "${auth[@]}")
if [ "$code" != 200 ]; then
	sed 's/^/# /' "$dir/responder.log" | tail -n 20
	ops_fail "GET /openapi/system/registry through the activated socket: $code $(head -c 300 "$dir/list.json")"
fi
ops_json_list "$dir/list.json" || ops_fail "GET /openapi/system/registry: not a JSON list"
code=$(ops_get "$OPS_URL/healthz" "$dir/health.json")
[ "$code" = 200 ] && ops_json_object "$dir/health.json" || ops_fail "GET /healthz: $code $(head -c 300 "$dir/health.json")"

# The first connection made it exec: same PID, our binary, the socket on fd 3.
ops_alive "$main" || ops_fail "the socket-activated responder exited: $(tail -n 3 "$dir/responder.log")"
argv0=$(tr '\0' '\n' <"/proc/$main/cmdline" | head -n 1)
[ "$argv0" = "$OPS_FCGI" ] || ops_fail "PID $main runs '$argv0', not $OPS_FCGI"
inode=$(ops_socket_inode "$sock")
[ "$(readlink "/proc/$main/fd/3")" = "socket:[$inode]" ] ||
	ops_fail "PID $main: fd 3 is $(readlink "/proc/$main/fd/3"), not the socket $sock (socket:[$inode])"
three_workers() { [ "$(ops_children "$main" | wc -l)" -eq 3 ]; }
stack_wait 10 three_workers || ops_fail "expected 3 workers (workers = 3 in the file), found: $(ops_children "$main" | tr '\n' ' ')"
mapfile -t old_workers < <(ops_children "$main")
for w in "${old_workers[@]}"; do ops_track "$dir" "$w"; done
ops_note "GET 200, /healthz 200; PID $main serves socket:[$inode] on fd 3 with workers ${old_workers[*]}"

# ExecReload, first line: the config check.  It must pass on the real file and
# stop a reload of a broken one (systemd then sends no SIGHUP).
[ ${#reload_cmds[@]} -ge 1 ] || ops_fail "$service has no ExecReload"
for cmd in "${reload_cmds[@]}"; do
	case $cmd in
	*--check-config*)
		read -r -a check <<<"$cmd"
		env -i PATH="$PATH" "${check[@]}" >"$dir/check.out" 2>&1 || ops_fail "ExecReload $cmd: $(cat "$dir/check.out")"
		sed "s|$dir/imagereg.conf|$dir/broken.conf|g" <<<"$cmd" >"$dir/broken.cmd"
		cp "$dir/imagereg.conf" "$dir/broken.conf"
		echo "workers = many" >>"$dir/broken.conf"
		line=$(wc -l <"$dir/broken.conf")
		read -r -a check <<<"$(cat "$dir/broken.cmd")"
		if env -i PATH="$PATH" "${check[@]}" >"$dir/check.out" 2>&1; then
			ops_fail "--check-config passed a file with 'workers = many'"
		fi
		grep -q "^$dir/broken.conf:$line: " "$dir/check.out" ||
			ops_fail "--check-config on a broken file: expected '$dir/broken.conf:$line: ...', got: $(head -n 2 "$dir/check.out")"
		ops_note "ExecReload --check-config: passes the file, refuses a broken one with FILE:LINE"
		;;
	'/bin/kill -HUP $MAINPID') ;;
	*) ops_fail "$service: unexpected ExecReload=$cmd" ;;
	esac
done
printf '%s\n' "${reload_cmds[@]}" | grep -qx '/bin/kill -HUP $MAINPID' || ops_fail "$service: no ExecReload=/bin/kill -HUP \$MAINPID"

# ExecReload, last line: SIGHUP to the main PID while requests keep coming.
(
	for _ in $(seq 1 40); do
		curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "${auth[@]}" "$url"
		sleep 0.05
	done
) >"$dir/during-reload.codes" &
load=$!
ops_track "$dir" "$load"
sleep 0.5
kill -HUP "$main" || ops_fail "cannot send SIGHUP to $main"
replaced() {
	local now w
	now=$(ops_children "$main")
	[ "$(wc -l <<<"$now")" -eq 3 ] || return 1
	for w in "${old_workers[@]}"; do
		grep -qx "$w" <<<"$now" && return 1
	done
	return 0
}
stack_wait 30 replaced || ops_fail "SIGHUP: workers not all replaced within 30 s (before: ${old_workers[*]}; now: $(ops_children "$main" | tr '\n' ' '))"
wait "$load"
mapfile -t new_workers < <(ops_children "$main")
for w in "${new_workers[@]}"; do ops_track "$dir" "$w"; done
bad=$(grep -cvx 200 "$dir/during-reload.codes")
total=$(wc -l <"$dir/during-reload.codes")
[ "$total" -eq 40 ] && [ "$bad" -eq 0 ] ||
	ops_fail "during the reload $bad of $total requests were not 200: $(sort "$dir/during-reload.codes" | uniq -c | tr '\n' ' ')"
code=$(ops_get "$url" "$dir/list2.json" "${auth[@]}")
[ "$code" = 200 ] || ops_fail "GET after SIGHUP: $code"
ops_note "SIGHUP: workers ${old_workers[*]} replaced by ${new_workers[*]}; 40 of 40 requests meanwhile 200"

# Stop as KillMode=mixed, KillSignal=SIGTERM: the main PID only.
kill -TERM "$main" || ops_fail "cannot send SIGTERM to $main"
ops_wait_gone "$stop_limit" "$main" || ops_fail "SIGTERM: PID $main still running after TimeoutStopSec=${stop_limit}s"
wait "$main"
rc=$?
[ "$rc" -eq 0 ] || ops_fail "SIGTERM: the supervisor exited with status $rc, not 0: $(tail -n 3 "$dir/responder.log")"
ops_wait_gone 5 "${new_workers[@]}" || ops_fail "SIGTERM: workers left after the supervisor exited"
ops_note "SIGTERM to the main PID: exit 0, no worker left"
exit 0
